// The post page (templates/posts/detail.html): carousel arrows and dots, BlurHash
// placeholders, optimistic like/save toggles that revert on failure, and the error text
// of refused htmx actions. Everything here is an enhancement: the page works without it.
import { decodeBlurhash } from "./blurhash.js";

// --- carousel -----------------------------------------------------------------------------
for (const carousel of document.querySelectorAll("[data-carousel]")) {
  const track = carousel.querySelector("[data-track]");
  const slides = [...track.children];
  const dots = [...carousel.querySelectorAll("[data-dot]")];
  const prev = carousel.querySelector("[data-prev]");
  const next = carousel.querySelector("[data-next]");
  const current = () => Math.round(track.scrollLeft / Math.max(1, track.clientWidth));
  const go = (index) => {
    const target = Math.max(0, Math.min(slides.length - 1, index));
    track.scrollTo({ left: target * track.clientWidth, behavior: smooth() });
  };
  const update = () => {
    const index = current();
    dots.forEach((dot, i) => {
      if (i === index) dot.setAttribute("aria-current", "true");
      else dot.removeAttribute("aria-current");
    });
    if (prev) prev.disabled = index === 0;
    if (next) next.disabled = index === slides.length - 1;
  };
  if (prev && next) {
    prev.hidden = next.hidden = false;
    prev.addEventListener("click", () => go(current() - 1));
    next.addEventListener("click", () => go(current() + 1));
  }
  dots.forEach((dot, i) => dot.addEventListener("click", (event) => {
    event.preventDefault(); // scroll sideways only, not the page
    go(i);
  }));
  track.addEventListener("scroll", () => requestAnimationFrame(update), { passive: true });
  update();
  slides.forEach(paintBlurhash);
}

function smooth() {
  return matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth";
}

// --- BlurHash placeholders ------------------------------------------------------------------
// A slide shows its photo's BlurHash until the photo has loaded (wolt/blurhash, decoded here).
function paintBlurhash(slide) {
  const hash = slide.dataset.blurhash;
  const img = slide.querySelector("img");
  if (!hash || !img || (img.complete && img.naturalWidth)) return;
  try {
    const size = 32;
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = size;
    const context = canvas.getContext("2d");
    const pixels = context.createImageData(size, size);
    pixels.data.set(decodeBlurhash(hash, size, size));
    context.putImageData(pixels, 0, 0);
    slide.style.backgroundImage = `url(${canvas.toDataURL()})`;
    slide.classList.add("blurred");
    img.addEventListener("load", () => slide.classList.remove("blurred"), { once: true });
  } catch {
    // a malformed hash just means no placeholder
  }
}

// --- optimistic toggles and refused actions -------------------------------------------------
// A like or save shows at once; htmx then swaps in the server's answer, or, when the server
// refuses (rate limit, gone) or cannot be reached, the toggle goes back and says why.
const saved = new WeakMap();

document.addEventListener("htmx:beforeRequest", (event) => {
  const form = event.target.closest?.("form[data-optimistic]");
  if (!form) return;
  const button = form.querySelector("[aria-pressed]");
  const count = form.querySelector("[data-count]");
  const pressed = button.getAttribute("aria-pressed") === "true";
  saved.set(form, { pressed, count: count?.textContent });
  button.setAttribute("aria-pressed", String(!pressed));
  if (count) count.textContent = String(Math.max(0, Number(count.textContent) + (pressed ? -1 : 1)));
});

document.addEventListener("htmx:afterRequest", (event) => {
  const elt = event.detail.elt;
  const form = elt.closest?.("form");
  if (!form) return;
  if (event.detail.successful) {
    if (form.hasAttribute("data-reset-on-success")) {
      form.reset();
      const error = form.querySelector("[data-error]");
      if (error) error.textContent = "";
    }
    return;
  }
  const before = saved.get(form);
  if (before) {
    form.querySelector("[aria-pressed]").setAttribute("aria-pressed", String(before.pressed));
    const count = form.querySelector("[data-count]");
    if (count && before.count !== undefined) count.textContent = before.count;
  }
  showError(form, messageOf(event.detail.xhr));
});

function messageOf(xhr) {
  if (!xhr || !xhr.status) return "Can't reach Circles. Check your connection and try again.";
  const text = new DOMParser().parseFromString(xhr.responseText || "", "text/html").body.textContent.trim();
  if (xhr.status === 404) return "This post is no longer available.";
  return text && text.length < 300 ? text : "That didn't work. Try again.";
}

function showError(form, message) {
  let slot = form.querySelector("[data-error]");
  if (!slot) {
    slot = document.getElementById("post-alert") || document.body.appendChild(
      Object.assign(document.createElement("p"), { id: "post-alert", className: "post-alert error" }));
    slot.setAttribute("role", "alert");
  }
  slot.textContent = message;
}
