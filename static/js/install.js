// Installable: registers the service worker (/sw.js), which shows a small offline page
// when a page can't be fetched. Everything else works without it.
if ("serviceWorker" in navigator && window.isSecureContext) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {
    // not fatal: the site just has no offline page
  });
}
