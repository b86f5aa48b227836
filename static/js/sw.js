// The service worker, served at /sw.js so that its scope is the whole site
// (circles.views.service_worker). It only answers a page that can't be fetched with the
// offline page: nothing else is cached, so nobody sees stale private content.
const CACHE = "circles-offline-v1";
const OFFLINE = "/static/offline.html";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.add(OFFLINE)));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) if (key !== CACHE) await caches.delete(key);
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  if (event.request.mode !== "navigate") return; // the browser handles everything else
  event.respondWith(fetch(event.request).catch(() => caches.match(OFFLINE)));
});
