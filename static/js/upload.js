// The new-post page (templates/posts/create.html). Without this module the form posts as
// it is. With it: previews, a centre crop per photo done on a canvas (1:1, 4:5, 16:9 or
// the original), alt text per photo, a caption counter, and a send by XMLHttpRequest to
// the same view (POST /p/new/) with per-photo progress and an idempotency key, so a double
// click or a retry never makes two posts. The view redirects to the post; the XHR follows
// it, and we go where it landed. Errors come back as the re-rendered form: we show its
// error summary in place and keep everything the person chose.

const MAX_PHOTOS = 10;
const MAX_SIDE = 4096; // a cropped photo is re-encoded at most this long (the pipeline keeps 1080)
const JPEG_QUALITY = 0.92;
const CROPS = [
  ["original", "Original", null],
  ["1:1", "1:1", 1],
  ["4:5", "4:5", 4 / 5],
  ["16:9", "16:9", 16 / 9],
];

const form = document.querySelector("[data-upload]");
if (form) enhance(form);

function enhance(form) {
  const input = form.elements.images;
  const list = form.querySelector("[data-previews]");
  const errors = form.querySelector("[data-form-errors]");
  const status = form.querySelector("[data-status]");
  const submit = form.querySelector("[data-submit]");
  const keyField = form.elements.idempotency_key;
  const photos = []; // {file, url, crop, alt, decodable, bar}
  let sending = false;

  form.querySelector("[data-alt-fallback]")?.remove(); // alt text now lives by each preview
  input.removeAttribute("required");
  input.removeAttribute("name"); // the files we send are ours (maybe cropped), not the input's
  if (!keyField.value) keyField.value = newKey();

  input.addEventListener("change", () => {
    const picked = [...input.files];
    const room = MAX_PHOTOS - photos.length;
    for (const file of picked.slice(0, room)) {
      photos.push({ file, url: URL.createObjectURL(file), crop: "original", alt: "", decodable: true });
    }
    input.value = "";
    render();
    say(picked.length > room ? `A post has at most ${MAX_PHOTOS} photos; ${picked.length - room} left out.` : "");
  });

  function render() {
    list.replaceChildren(...photos.map(previewItem));
    list.hidden = photos.length === 0;
    input.closest(".field").querySelector("label").textContent =
      photos.length ? `Add more photos (${photos.length} of ${MAX_PHOTOS})` : "Photos";
    input.disabled = photos.length >= MAX_PHOTOS;
  }

  function previewItem(photo, index) {
    const n = index + 1;
    const item = el("li", { class: "upload-item" });
    const frame = el("div", { class: "upload-frame", "data-crop": photo.crop });
    const img = el("img", { src: photo.url, alt: `Preview of photo ${n}` });
    img.addEventListener("error", () => {
      // e.g. HEIC in a browser that can't decode it: it uploads as it is, uncropped
      photo.decodable = false;
      photo.crop = "original";
      frame.replaceChildren(el("span", { class: "upload-nopreview" }, `No preview for ${photo.file.name}`));
      item.querySelectorAll("input[type=radio]").forEach((radio) => { radio.disabled = true; });
    });
    frame.append(img);

    const crops = el("fieldset", { class: "crop-choice" }, el("legend", {}, `Crop photo ${n}`));
    for (const [value, label] of CROPS) {
      const radio = el("input", { type: "radio", name: `crop-${n}`, value });
      radio.checked = photo.crop === value;
      radio.disabled = !photo.decodable;
      radio.addEventListener("change", () => {
        photo.crop = value;
        frame.dataset.crop = value;
      });
      crops.append(el("label", { class: "crop-option" }, radio, ` ${label}`));
    }

    const altId = `photo-alt-${n}`;
    const alt = el("input", { type: "text", id: altId, maxlength: "500", value: photo.alt });
    alt.addEventListener("input", () => { photo.alt = alt.value; });

    const bar = el("div", {
      class: "upload-progress", role: "progressbar", "aria-label": `Upload of photo ${n}`,
      "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0",
    }, el("span"));
    photo.bar = bar;

    const remove = el("button", { type: "button", class: "link-button" }, `Remove photo ${n}`);
    remove.addEventListener("click", () => {
      URL.revokeObjectURL(photo.url);
      photos.splice(photos.indexOf(photo), 1);
      render();
      (list.querySelector("button") || input).focus();
    });

    item.append(
      frame,
      el("div", { class: "upload-fields" },
        crops,
        el("div", { class: "field" }, el("label", { for: altId }, `Describe photo ${n}`), alt),
        bar,
        remove),
    );
    return item;
  }

  // --- caption counter and the circle select ------------------------------------------
  const caption = form.elements.caption;
  const counter = form.querySelector("[data-counter]");
  const counterLive = form.querySelector("[data-counter-live]");
  const captionMax = Number(caption.dataset.counterMax);
  let announced = "";
  const captionLength = () => [...caption.value].length; // characters, as the server counts
  const updateCounter = () => {
    const length = captionLength();
    const left = captionMax - length;
    counter.textContent = `${length.toLocaleString("en")} / ${captionMax.toLocaleString("en")}`;
    counter.classList.toggle("over", left < 0);
    caption.setAttribute("aria-invalid", String(left < 0));
    // screen readers hear the counter only near the limit and over it, not every keystroke
    const step = left < 0 ? "over" : [10, 50, 100].find((limit) => left <= limit) ?? "";
    if (step !== announced) {
      announced = step;
      counterLive.textContent = left < 0 ? `${-left} characters over the limit`
        : step ? `${left} characters left` : "";
    }
  };
  caption.addEventListener("input", updateCounter);
  updateCounter();

  const visibility = form.elements.visibility;
  const circleField = form.querySelector("[data-circle-field]");
  const updateCircle = () => {
    if (!circleField) return;
    const isCircle = visibility.value === "circle";
    circleField.hidden = !isCircle;
    form.elements.circle_id.required = isCircle;
  };
  visibility.addEventListener("change", updateCircle);
  updateCircle();

  // --- sending ------------------------------------------------------------------------
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (sending) return; // a double click sends once
    const problem = photos.length === 0 ? "Add at least one photo."
      : captionLength() > captionMax ? `Keep the caption under ${captionMax.toLocaleString("en")} characters.`
      : visibility.value === "circle" && !form.elements.circle_id.value ? "Choose one of your circles."
      : "";
    if (problem) return showErrors([problem]);
    sending = true;
    submit.disabled = true;
    form.setAttribute("aria-busy", "true");
    showErrors([]);
    try {
      say("Preparing photos…");
      const files = await Promise.all(photos.map((photo) => cropped(photo)));
      send(files);
    } catch (error) {
      done();
      showErrors([`A photo could not be prepared: ${error.message}`]);
    }
  });

  function send(files) {
    const data = new FormData();
    // fields first, then the files in order: their bytes are the end of the body
    data.append("csrfmiddlewaretoken", form.elements.csrfmiddlewaretoken.value);
    data.append("idempotency_key", keyField.value);
    for (const name of ["caption", "location", "visibility", "circle_id"]) {
      if (form.elements[name]) data.append(name, form.elements[name].value);
    }
    photos.forEach((photo) => data.append("alt", photo.alt.trim()));
    files.forEach((file) => data.append("images", file, file.name));

    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.responseType = "document";
    xhr.setRequestHeader("X-CSRFToken", form.elements.csrfmiddlewaretoken.value);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) showProgress(files, event.loaded, event.total);
    });
    xhr.upload.addEventListener("load", () => {
      photos.forEach((photo) => setBar(photo.bar, 100));
      say("Uploaded. Creating your post…");
    });
    xhr.addEventListener("load", () => {
      const landed = new URL(xhr.responseURL || form.action, location.href);
      if (xhr.status < 400 && landed.pathname !== new URL(form.action, location.href).pathname) {
        keyField.value = newKey(); // a later post from this page (after Back) is a new one
        say("Shared. Opening your post…");
        location.assign(landed.href);
        return;
      }
      done();
      resetProgress();
      const summary = xhr.responseXML?.querySelector("[data-form-errors]");
      if (summary && summary.textContent.trim()) {
        errors.replaceChildren(...[...summary.childNodes].map((node) => document.importNode(node, true)));
        errors.focus();
        say("");
      } else {
        showErrors([xhr.status === 413 ? "The photos are too large to send." : xhr.status === 429
          ? "You're posting too often. Try again later." : `Sharing failed (error ${xhr.status}). Try again.`]);
      }
    });
    xhr.addEventListener("error", () => {
      done();
      resetProgress();
      // the same key goes with the retry: if the post was made after all, we get that one
      showErrors(["The connection was lost. Check it and press Share again."]);
    });
    say("Uploading…");
    xhr.send(data);
  }

  // The body is: the small fields, then each file's part in order. Everything that is not
  // file bytes (fields, part headers) is taken to come first; each file then owns the range
  // of its own size. Part headers between files are a few hundred bytes: close enough.
  function showProgress(files, loaded, total) {
    const sizes = files.map((file) => file.size);
    let start = Math.max(0, total - sizes.reduce((a, b) => a + b, 0));
    sizes.forEach((size, index) => {
      const fraction = size ? (loaded - start) / size : 1;
      setBar(photos[index].bar, Math.round(100 * Math.min(1, Math.max(0, fraction))));
      start += size;
    });
  }

  function setBar(bar, percent) {
    if (!bar) return;
    bar.setAttribute("aria-valuenow", String(percent));
    bar.setAttribute("aria-valuetext", `${percent}%`);
    bar.firstElementChild.style.width = `${percent}%`;
    bar.classList.toggle("complete", percent === 100);
  }

  function resetProgress() {
    photos.forEach((photo) => setBar(photo.bar, 0));
  }

  function done() {
    sending = false;
    submit.disabled = false;
    form.removeAttribute("aria-busy");
  }

  function showErrors(messages) {
    if (!messages.length) {
      errors.replaceChildren();
      return;
    }
    errors.replaceChildren(
      el("p", {}, el("strong", {}, "Your post was not shared.")),
      el("ul", {}, ...messages.map((message) => el("li", {}, message))),
    );
    errors.focus();
    say("");
  }

  function say(text) {
    status.textContent = text;
  }

  // Back to this page from the post (bfcache): a fresh form state and a fresh key.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) {
      keyField.value = newKey();
      done();
      say("");
    }
  });
}

// A centre crop of photo to its chosen ratio, re-encoded as a JPEG File; the original file
// when it keeps its shape. createImageBitmap applies the EXIF orientation, so the crop is
// of the photo as people see it, and the new file carries no metadata at all.
async function cropped(photo) {
  const ratio = CROPS.find(([value]) => value === photo.crop)?.[2];
  if (!ratio || !photo.decodable) return photo.file;
  const bitmap = await createImageBitmap(photo.file);
  let width = bitmap.width;
  let height = bitmap.height;
  if (width / height > ratio) width = Math.round(height * ratio);
  else height = Math.round(width / ratio);
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  const context = canvas.getContext("2d");
  context.fillStyle = "#fff"; // transparent PNGs become white, as in the pipeline
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.imageSmoothingQuality = "high";
  context.drawImage(
    bitmap,
    Math.round((bitmap.width - width) / 2), Math.round((bitmap.height - height) / 2), width, height,
    0, 0, canvas.width, canvas.height,
  );
  bitmap.close();
  const blob = await new Promise((resolve, reject) => {
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("the browser could not encode it"))),
      "image/jpeg", JPEG_QUALITY);
  });
  const name = `${photo.file.name.replace(/\.[^.]*$/, "") || "photo"}.jpg`;
  return new File([blob], name, { type: "image/jpeg", lastModified: Date.now() });
}

function newKey() {
  // crypto.randomUUID needs a secure context; a LAN install may be plain http
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}
