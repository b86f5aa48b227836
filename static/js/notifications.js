// The unread-notifications badge, live on every page: each element with
// data-notifications-badge shows the count of every `notification.new` frame (and of
// htmx's "notifications:count" trigger, e.g. after "Mark all as read"); the page title
// carries it too, as "(3) Home · Circles". The count is rendered with the page, so it is
// right without a socket; this only keeps it current.
import { sharedRealtime } from "./realtime.js";

const TITLE_COUNT = /^\(\d+\)\s+/;

export function showUnread(count) {
  const n = Number.isFinite(count) && count > 0 ? Math.floor(count) : 0;
  for (const badge of document.querySelectorAll("[data-notifications-badge]")) {
    badge.textContent = n > 0 ? String(n) : "";
    badge.hidden = n === 0;
  }
  const title = document.title.replace(TITLE_COUNT, "");
  document.title = n > 0 ? `(${n}) ${title}` : title;
}

if (document.querySelector("[data-notifications-badge]")) {
  const realtime = sharedRealtime();
  realtime.on("notification.new", (frame) => showUnread(Number(frame.unread_count)));
  realtime.start();
  document.addEventListener("notifications:count", (event) => {
    const detail = event.detail;
    showUnread(Number(typeof detail === "object" && detail !== null ? detail.value : detail));
  });
}
