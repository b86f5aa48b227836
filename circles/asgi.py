"""ASGI entry point: Django for HTTP, Channels for /ws/ (served by uvicorn)."""

import asyncio
import contextlib
import gc
import os
from concurrent.futures import ThreadPoolExecutor

import django
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse
from django.urls import get_resolver, set_script_prefix

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
    """Django's ASGI handler with all of a request's sync work in one hop to a thread.

    Django's own handle() hops from the event loop to the request's thread three times
    (request_started's receivers, the middleware chain and view, the response's close,
    which sends request_finished) and runs two tasks a request to watch for a disconnect;
    and it builds an ASGI app's middleware chain for async, where a sync-only middleware
    (django-ratelimit's) splits it into more hops. Here the chain is built sync, and
    request_started, the request, the chain and view, and the close of a response whose
    bytes are all there run in one sync_to_async call, in the request's own thread as
    Django does it (ThreadSensitiveContext); async_to_sync inside it
    (circles.realtime.publish) still reaches the server's event loop. A streaming
    response (media files, downloads) is sent as Django sends it, stopped when the client
    goes away, and closed after its last chunk. Figures: README, "The framework's floor"."""

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

    async def handle(self, scope, receive, send):
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        try:
            response = await sync_to_async(self._respond, thread_sensitive=True)(scope, body_file)
            if response.streaming:
                await self._stream(response, receive, send)
            else:
                await self.send_response(response, send)
        finally:
            body_file.close()

    def _respond(self, scope, body_file):
        """The response to a request, in its thread: what Django's handle() does across
        its hops. A response that is all bytes is closed here (request_finished: the
        database connection goes back to the pool) before those bytes are sent."""
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        response = error_response if request is None else self.get_response(request)
        response._handler_class = self.__class__
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size  # the ASGI server chunks further
        if not response.streaming:
            response.close()
        return response

    async def _stream(self, response, receive, send):
        """Send a streaming response while watching for the client to leave (then the
        sending stops), and close it afterwards in the request's thread, as Django does."""
        tasks = [
            asyncio.create_task(self.listen_for_disconnect(receive)),
            asyncio.create_task(self.send_response(response, send)),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                task.cancel()  # the one still running: done ones ignore it
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, RequestAborted):
                    await task
        finally:
            await sync_to_async(response.close, thread_sensitive=True)()


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
