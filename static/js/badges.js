// The shell's badges, live: unread conversations on Messages, unread notifications on
// the bell, follow requests and circle invitations in the menu.
// Opens the page's socket (so presence covers the whole site, not only chat pages) and,
// when a frame says a count may have changed, fetches the counts again (one small request,
// the same out-of-band swap as on load: messaging.shell.nav_badges). The page title starts
// with the total, "(3) Home · Circles", so a background tab shows it too.

import { realtime } from "./realtime.js";

const REFRESH_DELAY_MS = 250; // a burst of frames is one refresh
const loader = document.querySelector("[data-badges-url]");
const baseTitle = document.title.replace(/^\(\d+\)\s+/, ""); // the server's count goes
let timer = null;

function refresh() {
  clearTimeout(timer);
  timer = setTimeout(() => {
    if (window.htmx && loader) htmx.ajax("GET", loader.dataset.badgesUrl, { source: loader, swap: "none" });
  }, REFRESH_DELAY_MS);
}

function showTotalInTitle() {
  const total = [...document.querySelectorAll("[data-badge][data-count]")]
    .reduce((sum, badge) => sum + Number(badge.dataset.count || 0), 0);
  document.title = total > 0 ? `(${total}) ${baseTitle}` : baseTitle;
}

if (loader) {
  document.body.addEventListener("htmx:oobAfterSwap", showTotalInTitle);
  document.addEventListener("notifications:count", refresh); // e.g. "Mark all as read"
  realtime()
    .on("message.new", refresh) // someone wrote (or a photo of theirs is ready)
    .on("read", refresh) // read here or on another device
    .on("notification.new", refresh)
    .onConnected(({ reconnected }) => reconnected && refresh()) // what was missed meanwhile
    .start();
}
