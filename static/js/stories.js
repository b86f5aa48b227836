// Stories: the full-screen viewer (templates/stories/viewer.html) and the picker
// (templates/stories/create.html). Both pages work without this module — the viewer as
// one story with previous/next links, the picker as a plain form; this adds the rest.
//
// Viewer: one segmented progress bar per story, on to the next story every 5 s and then to
// the next person's; tap right/left or ←/→ for next/previous; press and hold, or Space, to
// pause; swipe down or Esc to close. The next photo is preloaded, a BlurHash shows while a
// photo loads, views are recorded with POST /api/v1/stories/{id}/view, replies go to
// POST /api/v1/stories/{id}/reply, and the author's "Seen by N" opens the viewer list.
import { decodeBlurhash } from "./blurhash.js";

const DURATION_MS = 5000;
const HOLD_MS = 200; // a press longer than this pauses instead of tapping
const SWIPE_CLOSE_PX = 80;
const API = "/api/v1/stories/";

const viewerRoot = document.querySelector("[data-story-viewer]");
if (viewerRoot) startViewer(viewerRoot);
const picker = document.querySelector("[data-story-create]");
if (picker) enhancePicker(picker);

// --- viewer -----------------------------------------------------------------------------

function startViewer(root) {
  const data = JSON.parse(document.getElementById("story-data").textContent);
  const people = data.people;
  const $ = (selector) => root.querySelector(selector);
  const frame = $("[data-frame]");
  const progress = $("[data-progress]");
  const media = $("[data-media]");
  const foot = $("[data-foot]");
  const status = $("[data-status]");
  const live = $("[data-live]");
  const pauseButton = $("[data-pause]");
  const sheet = $("[data-sheet]");
  const home = root.dataset.home;
  const csrf = root.querySelector("[name=csrfmiddlewaretoken]")?.value || "";

  let person = data.start.person;
  let index = data.start.story;
  let elapsed = 0;
  let last = null;
  let pauses = new Set(); // reasons: "user", "hold", "input", "sheet", "hidden", "loading"
  let frameRequest = null;

  pauseButton.hidden = false;
  root.focus({ preventScroll: true });

  const current = () => people[person].stories[index];
  const firstUnseen = (p) => Math.max(0, people[p].stories.findIndex((s) => !s.seen));

  function show(p, i) {
    person = p;
    index = i;
    elapsed = 0;
    last = null;
    const story = current();
    const owner = people[person];
    renderSegments();
    renderHead(owner, story);
    renderMedia(story);
    renderFoot(owner, story);
    status.textContent = "";
    live.textContent = `Story ${index + 1} of ${owner.stories.length} by ${owner.user.name}`;
    history.replaceState(null, "", story.url);
    root.querySelector("[data-prev]").href = neighbour(-1)?.url || home;
    root.querySelector("[data-next]").href = neighbour(1)?.url || home;
    recordView(owner, story);
    preload(neighbour(1));
  }

  function neighbour(step) {
    const stories = people[person].stories;
    if (index + step >= 0 && index + step < stories.length) return stories[index + step];
    const p = person + step;
    if (p < 0 || p >= people.length) return null;
    return people[p].stories[step > 0 ? firstUnseen(p) : people[p].stories.length - 1];
  }

  function renderSegments() {
    const count = people[person].stories.length;
    progress.replaceChildren(...Array.from({ length: count }, (_, i) => {
      const segment = el("li", { class: `story-segment${i < index ? " done" : ""}` }, el("span"));
      return segment;
    }));
  }

  function renderHead(owner, story) {
    const avatar = $("[data-avatar]");
    const user = owner.user;
    avatar.replaceChildren(user.avatar
      ? el("img", { class: "avatar", src: user.avatar, alt: "", width: "40", height: "40" })
      : el("span", { class: "avatar", "aria-hidden": "true" }, user.name.slice(0, 1).toUpperCase()));
    const author = $("[data-author]");
    author.textContent = user.name;
    author.href = `/${user.username}/`;
    const time = $("[data-time]");
    time.dateTime = story.created_at;
    time.textContent = ago(story.created_at);
    $("[data-audience]").textContent = `· ${story.audience}`;
  }

  function renderMedia(story) {
    const image = story.image;
    media.classList.remove("blurred");
    media.style.backgroundImage = "";
    if (!image.ready) {
      media.replaceChildren(el("p", { class: "story-note" },
        image.failed ? `This photo could not be processed: ${image.error}` : "Processing your story…"));
      pauses.delete("loading");
      return;
    }
    const img = el("img", {
      src: image.src, srcset: image.srcset_jpeg, sizes: "(min-width: 40rem) 28rem, 100vw",
      alt: image.alt, width: String(image.width), height: String(image.height), "data-photo": "",
    });
    const picture = el("picture", {},
      el("source", { type: "image/webp", srcset: image.srcset_webp, sizes: "(min-width: 40rem) 28rem, 100vw" }),
      img);
    media.replaceChildren(picture);
    waitFor(img, image.blurhash);
  }

  // The clock runs once the photo is there; until then its BlurHash shows.
  function waitFor(img, hash) {
    if (img.complete && img.naturalWidth) {
      pauses.delete("loading");
      return;
    }
    pauses.add("loading");
    if (hash) paintBlurhash(media, hash);
    const loaded = () => {
      media.classList.remove("blurred");
      if (img.isConnected) pauses.delete("loading");
    };
    img.addEventListener("load", loaded, { once: true });
    img.addEventListener("error", loaded, { once: true });
  }

  function renderFoot(owner, story) {
    foot.querySelector("[data-own]")?.remove();
    foot.querySelector("[data-reply]")?.remove();
    if (owner.user.own) {
      const seenBy = el("a", { class: "story-seen-by", href: story.viewers_url, "data-seen-by": "" },
        `Seen by ${story.view_count ?? 0}`);
      seenBy.addEventListener("click", (event) => {
        event.preventDefault();
        openSheet(story);
      });
      const remove = el("form", { method: "post", action: story.delete_url, class: "inline-form", "data-delete": "" },
        el("input", { type: "hidden", name: "csrfmiddlewaretoken", value: csrf }),
        el("button", { type: "submit", class: "link-button story-delete" }, "Delete"));
      remove.addEventListener("submit", confirmDelete);
      foot.prepend(el("div", { class: "story-own", "data-own": "" }, seenBy, remove));
    } else if (owner.can_reply && story.reply_url) {
      const input = el("input", {
        id: "story-reply-input", name: "content", maxlength: "4000", required: "",
        placeholder: `Reply to ${owner.user.username}…`, autocomplete: "off",
      });
      const form = el("form", { method: "post", action: story.reply_url, class: "story-reply", "data-reply": "" },
        el("input", { type: "hidden", name: "csrfmiddlewaretoken", value: csrf }),
        el("label", { class: "visually-hidden", for: "story-reply-input" }, `Reply to ${owner.user.name}`),
        input, el("button", { type: "submit" }, "Send"));
      wireReply(form, story);
      foot.prepend(form);
    }
  }

  function wireReply(form, story) {
    const input = form.elements.content;
    input.addEventListener("focus", () => pauses.add("input"));
    input.addEventListener("blur", () => pauses.delete("input"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const content = input.value.trim();
      if (!content) return;
      form.querySelector("button").disabled = true;
      status.textContent = "Sending…";
      try {
        const response = await fetch(`${API}${story.id}/reply`, {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
          body: JSON.stringify({ content, client_id: newKey() }),
          credentials: "same-origin",
        });
        if (response.ok) {
          input.value = "";
          input.blur();
          status.textContent = "Reply sent.";
        } else {
          const body = await response.json().catch(() => ({}));
          status.textContent = body.error?.message || `Your reply was not sent (error ${response.status}).`;
        }
      } catch {
        status.textContent = "The connection was lost. Your reply was not sent.";
      } finally {
        form.querySelector("button").disabled = false;
      }
    });
  }

  function confirmDelete(event) {
    pauses.add("input");
    if (!window.confirm("Delete this story? It's gone for everyone.")) event.preventDefault();
    pauses.delete("input");
  }

  function recordView(owner, story) {
    if (owner.user.own || story.seen) return;
    story.seen = true;
    fetch(`${API}${story.id}/view`, {
      method: "POST", headers: { "X-CSRFToken": csrf }, credentials: "same-origin",
    }).catch(() => { story.seen = false; });
  }

  function preload(story) {
    if (!story || !story.image.ready) return;
    const img = new Image();
    img.sizes = "(min-width: 40rem) 28rem, 100vw";
    img.srcset = story.image.srcset_jpeg;
    img.src = story.image.src;
  }

  async function openSheet(story) {
    pauses.add("sheet");
    const list = sheet.querySelector("[data-sheet-list]");
    list.replaceChildren(el("li", { class: "muted" }, "Loading…"));
    sheet.showModal();
    try {
      const response = await fetch(`${API}${story.id}/viewers?limit=50`, { credentials: "same-origin" });
      const body = await response.json();
      sheet.querySelector("[data-sheet-title]").textContent = `Seen by ${story.view_count ?? body.items.length}`;
      list.replaceChildren(...(body.items.length ? body.items.map((view) => el("li", { class: "person-row" },
        el("a", { href: `/${view.user.username}/` }, view.user.display_name || view.user.username),
        el("time", { class: "muted", datetime: view.viewed_at }, ago(view.viewed_at)))) : [el("li", { class: "muted" }, "Nobody yet.")]));
    } catch {
      list.replaceChildren(el("li", { class: "muted" }, "Could not load who viewed it."));
    }
  }
  sheet.addEventListener("close", () => {
    pauses.delete("sheet");
    root.focus({ preventScroll: true });
  });

  function next() {
    const stories = people[person].stories;
    if (index + 1 < stories.length) show(person, index + 1);
    else if (person + 1 < people.length) show(person + 1, firstUnseen(person + 1));
    else close();
  }

  function previous() {
    if (index > 0) show(person, index - 1);
    else if (person > 0) show(person - 1, people[person - 1].stories.length - 1);
    else show(person, 0);
  }

  function close() {
    location.assign(home);
  }

  function setUserPause(paused) {
    if (paused) pauses.add("user");
    else pauses.delete("user");
    pauseButton.setAttribute("aria-pressed", String(paused));
    pauseButton.setAttribute("aria-label", paused ? "Play" : "Pause");
    pauseButton.textContent = paused ? "▶" : "❚❚";
  }

  // the clock: one animation frame loop; time only passes while nothing pauses it
  function tick(now) {
    if (last !== null && pauses.size === 0) elapsed += now - last;
    last = now;
    const bar = progress.children[index]?.firstElementChild;
    if (bar) bar.style.width = `${Math.min(100, (100 * elapsed) / DURATION_MS)}%`;
    if (elapsed >= DURATION_MS) next();
    frameRequest = requestAnimationFrame(tick);
  }

  // taps, holds and swipes on the frame
  let down = null;
  let holdTimer = null;
  let held = false;
  frame.addEventListener("pointerdown", (event) => {
    if (event.target.closest("form, button, a.story-author, a.story-close, a[data-seen-by], dialog")) return;
    down = { x: event.clientX, y: event.clientY };
    held = false;
    holdTimer = setTimeout(() => { held = true; pauses.add("hold"); }, HOLD_MS);
  });
  const release = (event) => {
    clearTimeout(holdTimer);
    pauses.delete("hold");
    if (down && event.type === "pointerup" && event.clientY - down.y > SWIPE_CLOSE_PX) {
      held = true; // not a tap
      close();
    }
    down = null;
  };
  frame.addEventListener("pointerup", release);
  frame.addEventListener("pointercancel", release);
  for (const [selector, go] of [["[data-prev]", previous], ["[data-next]", next]]) {
    root.querySelector(selector).addEventListener("click", (event) => {
      event.preventDefault();
      if (held) {
        held = false;
        return;
      }
      go();
    });
  }
  pauseButton.addEventListener("click", () => setUserPause(!pauses.has("user")));
  root.querySelector("[data-close]").addEventListener("click", (event) => {
    event.preventDefault();
    close();
  });
  document.addEventListener("keydown", (event) => {
    if (event.target.closest?.("input, textarea, select") || sheet.open) return;
    if (event.key === "ArrowRight") next();
    else if (event.key === "ArrowLeft") previous();
    else if (event.key === "Escape") close();
    else if (event.key === " ") setUserPause(!pauses.has("user"));
    else return;
    event.preventDefault();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) pauses.add("hidden");
    else pauses.delete("hidden");
  });

  // the server rendered the first story; take it over from here
  const firstImg = media.querySelector("img");
  if (firstImg) waitFor(firstImg, media.dataset.blurhash);
  const firstForm = foot.querySelector("[data-reply]");
  if (firstForm) wireReply(firstForm, current());
  const firstSeenBy = foot.querySelector("[data-seen-by]");
  firstSeenBy?.addEventListener("click", (event) => {
    event.preventDefault();
    openSheet(current());
  });
  foot.querySelector("[data-delete]")?.addEventListener("submit", confirmDelete);
  current().seen = true; // the page recorded this view
  preload(neighbour(1));
  frameRequest = requestAnimationFrame(tick);
}

function paintBlurhash(container, hash) {
  try {
    const width = 18;
    const height = 32;
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext("2d");
    const pixels = context.createImageData(width, height);
    pixels.data.set(decodeBlurhash(hash, width, height));
    context.putImageData(pixels, 0, 0);
    container.style.backgroundImage = `url(${canvas.toDataURL()})`;
    container.classList.add("blurred");
  } catch {
    // a malformed hash just means no placeholder
  }
}

function ago(iso) {
  const seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return "now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  return `${Math.floor(seconds / 3600)} h ago`;
}

// --- picker -----------------------------------------------------------------------------

function enhancePicker(form) {
  const input = form.elements.image;
  const preview = form.querySelector("[data-preview]");
  const previewImg = form.querySelector("[data-preview-img]");
  const bar = form.querySelector("[data-progress]");
  const status = form.querySelector("[data-status]");
  const errors = form.querySelector("[data-form-errors]");
  const submit = form.querySelector("[data-submit]");
  const circleField = form.querySelector("[data-circle-field]");
  let previewUrl = null;

  const syncAudience = () => {
    if (circleField) circleField.hidden = form.elements.audience.value !== "circle";
  };
  form.addEventListener("change", syncAudience);
  syncAudience();

  input.addEventListener("change", () => {
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    const file = input.files[0];
    preview.hidden = !file;
    if (!file) return;
    previewUrl = URL.createObjectURL(file);
    previewImg.src = previewUrl;
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!input.files[0]) return showError("Add a photo.");
    if (form.elements.audience.value === "circle" && !form.elements.circle_id?.value) {
      return showError("Choose one of your circles.");
    }
    errors.replaceChildren();
    submit.disabled = true;
    bar.hidden = false;
    setBar(0);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.responseType = "document";
    xhr.upload.addEventListener("progress", (e) => e.lengthComputable && setBar(Math.round((100 * e.loaded) / e.total)));
    xhr.upload.addEventListener("load", () => { setBar(100); status.textContent = "Uploaded. Sharing your story…"; });
    xhr.addEventListener("load", () => {
      const landed = new URL(xhr.responseURL || form.action, location.href);
      if (xhr.status < 400 && landed.pathname !== new URL(form.action, location.href).pathname) {
        status.textContent = "Shared.";
        location.assign(landed.href);
        return;
      }
      submit.disabled = false;
      setBar(0);
      const summary = xhr.responseXML?.querySelector("[data-form-errors]");
      if (summary && summary.textContent.trim()) {
        errors.replaceChildren(...[...summary.childNodes].map((node) => document.importNode(node, true)));
        errors.focus();
        status.textContent = "";
      } else {
        showError(xhr.status === 413 ? "The photo is too large." : `Sharing failed (error ${xhr.status}). Try again.`);
      }
    });
    xhr.addEventListener("error", () => {
      submit.disabled = false;
      showError("The connection was lost. Check it and try again."); // same key: no duplicate
    });
    status.textContent = "Uploading…";
    xhr.send(new FormData(form));
  });

  function setBar(percent) {
    bar.setAttribute("aria-valuenow", String(percent));
    bar.firstElementChild.style.width = `${percent}%`;
  }

  function showError(message) {
    errors.replaceChildren(el("p", {}, el("strong", {}, "Your story was not shared.")), el("p", {}, message));
    errors.focus();
    status.textContent = "";
  }
}

function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}
