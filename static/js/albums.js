// The album page's behaviours, one small module each: batch upload with per-photo
// progress, reorder (drag and drop by mouse or touch, and Earlier/Later by keyboard),
// cover crop, and the full-screen viewer. Every form works without this file.
const root = document.querySelector("[data-album]");
const API = root ? `/api/v1/albums/${root.dataset.album}` : "";

function api(method, path, body) {
  return fetch(API + path, {
    method,
    credentials: "same-origin",
    headers: { "X-CSRFToken": root.dataset.csrf, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then(async (response) => {
    const data = response.status === 204 ? null : await response.json();
    if (!response.ok) throw new Error(data?.error?.message || `Error ${response.status}`);
    return data;
  });
}

// --- batch upload: one request, progress per photo from the bytes sent, then status ---
function batchUpload(form) {
  const input = form.querySelector("input[type=file]");
  const list = form.querySelector("[data-upload-list]");
  form.addEventListener("submit", (event) => {
    const files = [...input.files];
    if (!files.length) return;
    event.preventDefault();
    list.replaceChildren(...files.map((file) => {
      const row = document.createElement("li");
      row.innerHTML = `<span class="upload-name"></span> <progress max="100" value="0"></progress> <span class="upload-state">waiting</span>`;
      row.querySelector(".upload-name").textContent = file.name;
      return row;
    }));
    const rows = [...list.children];
    const data = new FormData();
    files.forEach((file) => data.append("images", file));
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${API}/images`);
    xhr.setRequestHeader("X-CSRFToken", root.dataset.csrf);
    xhr.upload.onprogress = (e) => {
      let left = e.loaded;
      files.forEach((file, i) => {
        const done = Math.max(0, Math.min(file.size, left));
        left -= file.size;
        rows[i].querySelector("progress").value = Math.round((100 * done) / file.size);
        rows[i].querySelector(".upload-state").textContent = done >= file.size ? "sent" : "uploading";
      });
    };
    xhr.onload = () => {
      const body = JSON.parse(xhr.responseText || "{}");
      if (xhr.status !== 202) {
        rows.forEach((row) => (row.querySelector(".upload-state").textContent = "not added"));
        list.insertAdjacentHTML("beforeend", `<li class="upload-error" role="alert"></li>`);
        list.lastChild.textContent = body.error?.message || `Upload failed (${xhr.status}).`;
        return;
      }
      const ids = body.items.map((item) => item.id);
      rows.forEach((row) => (row.querySelector(".upload-state").textContent = "processing"));
      poll(ids, rows);
    };
    xhr.onerror = () => rows.forEach((row) => (row.querySelector(".upload-state").textContent = "failed: network"));
    xhr.send(data);
  });

  function poll(ids, rows) {
    api("GET", "").then((album) => {
      const byId = Object.fromEntries(album.items.map((item) => [item.id, item]));
      let pending = 0;
      ids.forEach((id, i) => {
        const image = byId[id]?.image;
        const state = rows[i].querySelector(".upload-state");
        if (!image || image.status === "processing") pending += 1;
        else state.textContent = image.status === "ready" ? "ready" : `failed: ${image.error}`;
      });
      if (pending) setTimeout(() => poll(ids, rows), 1000);
      else window.location.reload();
    });
  }
}

// --- reorder: pointer drag (mouse and touch) and the Earlier/Later buttons ---
function reorder(list) {
  const items = () => [...list.querySelectorAll("[data-item]")];
  const move = (li, after) => api("POST", `/items/${li.dataset.item}/move`, { after_id: after ? after.dataset.item : null });
  const announce = (text) => {
    let live = document.getElementById("reorder-status");
    if (!live) {
      live = Object.assign(document.createElement("p"), { id: "reorder-status", className: "visually-hidden" });
      live.setAttribute("aria-live", "polite");
      list.after(live);
    }
    live.textContent = text;
  };
  const place = (li) => {
    const after = li.previousElementSibling?.matches("[data-item]") ? li.previousElementSibling : null;
    move(li, after).then(() => announce(`Moved to position ${items().indexOf(li) + 1}.`))
      .catch((err) => { announce(err.message); window.location.reload(); });
  };
  list.querySelectorAll("[data-drag]").forEach((handle) => (handle.hidden = false));
  list.addEventListener("click", (event) => {
    const button = event.target.closest("[data-move]");
    if (!button) return;
    event.preventDefault();
    const li = button.closest("[data-item]");
    if (button.dataset.move === "earlier" && li.previousElementSibling) li.previousElementSibling.before(li);
    else if (button.dataset.move === "later" && li.nextElementSibling) li.nextElementSibling.after(li);
    else return;
    button.focus();
    place(li);
  });
  list.addEventListener("pointerdown", (event) => {
    const handle = event.target.closest("[data-drag]");
    if (!handle) return;
    event.preventDefault();
    const li = handle.closest("[data-item]");
    const start = items().indexOf(li);
    li.classList.add("dragging");
    const onMove = (e) => {
      const over = document.elementFromPoint(e.clientX, e.clientY)?.closest("[data-item]");
      if (!over || over === li || over.parentElement !== list) return;
      const box = over.getBoundingClientRect();
      const before = e.clientY < box.top + box.height / 2 && (e.clientX < box.left + box.width / 2 || e.clientY < box.top + box.height / 4);
      if (before) over.before(li); else over.after(li);
    };
    const onUp = () => {
      document.removeEventListener("pointermove", onMove);
      document.removeEventListener("pointerup", onUp);
      li.classList.remove("dragging");
      if (items().indexOf(li) !== start) place(li);
    };
    document.addEventListener("pointermove", onMove);
    document.addEventListener("pointerup", onUp);
  });
  list.querySelectorAll("[data-drag]").forEach((h) => (h.style.touchAction = "none"));
}

// --- cover crop: a box of the chosen aspect, moved by drag or arrow keys, sized by a slider ---
function crop(dialog) {
  const RATIOS = { "1:1": 1, "2:3": 2 / 3, "16:9": 16 / 9 };
  const stage = dialog.querySelector("[data-crop-stage]");
  const img = dialog.querySelector("[data-crop-img]");
  const box = dialog.querySelector("[data-crop-box]");
  const size = dialog.querySelector("[data-crop-size]");
  const error = dialog.querySelector("[data-crop-error]");
  let item = null, photo = { w: 1, h: 1 }, state = { x: 0, y: 0, w: 1, h: 1 };
  const aspect = () => dialog.querySelector("input[name=crop-aspect]:checked").value;

  function fit(keepCentre) {
    const ratio = RATIOS[aspect()] / (photo.w / photo.h); // box w/h in fractions
    let w = 1, h = 1 / ratio;
    if (h > 1) { h = 1; w = ratio; }
    const scale = size.value / 100;
    w *= scale; h *= scale;
    const cx = keepCentre ? state.x + state.w / 2 : 0.5, cy = keepCentre ? state.y + state.h / 2 : 0.5;
    state = { w, h, x: clamp(cx - w / 2, 1 - w), y: clamp(cy - h / 2, 1 - h) };
    draw();
  }
  const clamp = (v, max) => Math.min(Math.max(v, 0), Math.max(max, 0));
  function draw() {
    Object.assign(box.style, { left: `${state.x * 100}%`, top: `${state.y * 100}%`, width: `${state.w * 100}%`, height: `${state.h * 100}%` });
  }
  document.querySelectorAll("[data-cover-pick]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => {
      item = button.closest("[data-item]");
      photo = { w: +item.dataset.width || 1, h: +item.dataset.height || 1 };
      img.src = item.dataset.large;
      stage.style.aspectRatio = `${photo.w} / ${photo.h}`;
      size.value = 100;
      error.textContent = "";
      fit(false);
      dialog.showModal();
    });
  });
  dialog.querySelectorAll("input[name=crop-aspect]").forEach((r) => r.addEventListener("change", () => fit(true)));
  size.addEventListener("input", () => fit(true));
  box.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    const rect = stage.getBoundingClientRect();
    const from = { x: event.clientX, y: event.clientY, sx: state.x, sy: state.y };
    const onMove = (e) => {
      state.x = clamp(from.sx + (e.clientX - from.x) / rect.width, 1 - state.w);
      state.y = clamp(from.sy + (e.clientY - from.y) / rect.height, 1 - state.h);
      draw();
    };
    const onUp = () => { document.removeEventListener("pointermove", onMove); document.removeEventListener("pointerup", onUp); };
    document.addEventListener("pointermove", onMove);
    document.addEventListener("pointerup", onUp);
  });
  box.addEventListener("keydown", (event) => {
    const step = 0.02, d = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[event.key];
    if (!d) return;
    event.preventDefault();
    state.x = clamp(state.x + d[0], 1 - state.w);
    state.y = clamp(state.y + d[1], 1 - state.h);
    draw();
  });
  dialog.querySelector("[data-crop-save]").addEventListener("click", () => {
    const body = { item_id: item.dataset.item, aspect: aspect(), crop: { x: state.x, y: state.y, width: state.w, height: state.h } };
    api("PUT", "/cover", body).then(() => window.location.reload()).catch((err) => (error.textContent = err.message));
  });
}

// --- viewer: full screen, arrow keys, swipe ---
function viewer(dialog, list) {
  const img = dialog.querySelector("[data-viewer-img]");
  const caption = dialog.querySelector("[data-viewer-caption]");
  const photos = () => [...list.querySelectorAll("[data-item][data-large]")];
  let index = 0;
  const show = (i) => {
    const all = photos();
    index = (i + all.length) % all.length;
    img.src = all[index].dataset.large;
    img.alt = all[index].querySelector("img")?.alt || "Photo";
    caption.textContent = `${index + 1} / ${all.length} · ${all[index].dataset.caption}`;
  };
  list.addEventListener("click", (event) => {
    const open = event.target.closest("[data-open]");
    if (!open) return;
    show(photos().indexOf(open.closest("[data-item]")));
    dialog.showModal();
  });
  dialog.querySelector("[data-viewer-prev]").addEventListener("click", () => show(index - 1));
  dialog.querySelector("[data-viewer-next]").addEventListener("click", () => show(index + 1));
  dialog.querySelector("[data-viewer-close]").addEventListener("click", () => dialog.close());
  dialog.addEventListener("keydown", (event) => {
    if (event.key === "ArrowLeft") show(index - 1);
    if (event.key === "ArrowRight") show(index + 1);
  });
  let startX = null;
  dialog.addEventListener("pointerdown", (e) => (startX = e.clientX));
  dialog.addEventListener("pointerup", (e) => {
    if (startX === null) return;
    const dx = e.clientX - startX;
    startX = null;
    if (Math.abs(dx) > 50) show(index + (dx < 0 ? 1 : -1));
  });
}

if (root) {
  const upload = root.querySelector("[data-batch-upload]");
  if (upload) batchUpload(upload);
  const list = root.querySelector("[data-items]");
  if (list && root.dataset.canArrange === "true") reorder(list);
  const cropDialog = document.querySelector("[data-crop]");
  if (cropDialog && root.dataset.canArrange === "true") {
    crop(cropDialog);
    root.querySelector("[data-cover-fallback]")?.setAttribute("hidden", "");
  }
  const viewerDialog = document.querySelector("[data-viewer]");
  if (list && viewerDialog) viewer(viewerDialog, list);
}
