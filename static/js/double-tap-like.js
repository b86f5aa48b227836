// Double-tap (or double-click) a photo to like its post, as in every photo app: a heart
// shows over the photo, and the post's own like button is pressed (the same request,
// optimistic update and error handling as a tap on it; static/js/post.js). A photo that
// is already liked stays liked: a double tap never unlikes.
const HEART = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 20.5s-7.5-4.6-9.2-9.1C1.6 8 3.8 4.5 7.3 4.5c2 0 3.6 1.1 4.7 2.8 1.1-1.7 2.7-2.8 4.7-2.8 3.5 0 5.7 3.5 4.5 6.9-1.7 4.5-9.2 9.1-9.2 9.1z"/></svg>';

document.addEventListener("dblclick", (event) => {
  const slide = event.target.closest?.(".carousel-slide");
  const post = slide?.closest("article");
  const button = post?.querySelector(".like-toggle button[aria-pressed]");
  if (!button) return;
  event.preventDefault();
  window.getSelection()?.removeAllRanges(); // a double click selects a word nearby
  showHeart(slide);
  if (button.getAttribute("aria-pressed") !== "true") button.form.requestSubmit(button);
});

function showHeart(slide) {
  slide.querySelector(".like-burst")?.remove();
  const burst = document.createElement("span");
  burst.className = "like-burst";
  burst.dataset.likeBurst = "";
  burst.innerHTML = HEART; // a constant
  slide.append(burst);
  setTimeout(() => burst.remove(), 900);
}
