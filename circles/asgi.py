"""ASGI entry point: Django for HTTP, Channels for /ws/ (served by uvicorn)."""

import gc
import os
from concurrent.futures import ThreadPoolExecutor

import django
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "circles.settings")
django.setup(set_prefix=False)  # as django.core.asgi.get_asgi_application does


class RequestThreads:
    """Single-thread executors that requests borrow, one each, and give back: a request's
    sync code still runs in a thread of its own for as long as it lasts, as Django's
    handler does it, but the thread is not started for it and joined after it. asgiref
    starts two threads a request for that (the request's, then one to join it): ~0.5 ms
    of CPU against ~0.13 ms for a hop to a running thread (README, "Stories tray and the
    home page"). Used on the event loop's thread only, so it needs no lock."""

    def __init__(self, keep: int):
        self.keep = keep  # idle threads kept; more are shut down when given back
        self.idle: list[ThreadPoolExecutor] = []

    def borrow(self) -> ThreadPoolExecutor:
        if self.idle:
            return self.idle.pop()  # the last given back: its stack is warm
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="request")

    def give_back(self, executor: ThreadPoolExecutor) -> None:
        # a request cancelled while its sync code ran gives back a busy thread: its next
        # borrower's code waits behind that code, in order, never beside it
        if len(self.idle) < self.keep:
            self.idle.append(executor)
        else:
            executor.shutdown(wait=False)


class SyncChainASGIHandler(ASGIHandler):
    """Django's ASGI handler with the middleware chain and the view run in one hop to a
    thread.

    Django builds an ASGI app's middleware chain for async: a sync-only middleware
    (django-ratelimit's) splits it, each split is a hop between the event loop and a
    thread, and the sync view is one more. With one hop, the uvicorn workers serving the
    feed API at 60 rps used 88/75 % of a core instead of 103/91 % (alternating runs on the
    bench VM). Every view and middleware here is sync, so the chain is built
    sync and run in one sync_to_async call, in the request's own thread as Django does
    (ThreadSensitiveContext) — async_to_sync inside it (circles.realtime.publish) still
    reaches the server's event loop."""

    def __init__(self, *, idle_threads: int = 32):
        super().__init__()
        self.load_middleware(is_async=False)
        self.threads = RequestThreads(keep=idle_threads)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django serves HTTP only, not {scope['type']}.")
        executor = self.threads.borrow()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            self.threads.give_back(executor)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


django_asgi_app = SyncChainASGIHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from accounts.wsauth import websocket_auth  # noqa: E402
from messaging.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": websocket_auth(URLRouter(websocket_urlpatterns)),
    }
)

# Everything loaded at start lives as long as the process: keep it out of the collector's
# sweeps, so a full collection walks only what requests create (shorter pauses in p99).
# The URLconf (every view, the API and its schemas: ~15k objects) would otherwise load
# with the first request, after the freeze.
get_resolver().url_patterns  # noqa: B018 (loads it)
gc.freeze()
