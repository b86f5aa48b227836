"""circles.asgi: HTTP goes through Django's middleware and views in one hop to a thread
(SyncChainASGIHandler), with every middleware still applied and publishes from a view
still able to reach the server's event loop (async_to_sync from the request thread)."""

import asyncio
import threading

import pytest
from asgiref.sync import async_to_sync

from circles.asgi import RequestThreads, django_asgi_app


async def call(path: str, headers=()):
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    sent = []
    queue = asyncio.Queue()
    await queue.put({"type": "http.request", "body": b"", "more_body": False})

    async def receive():
        return await queue.get()

    async def send(message):
        sent.append(message)

    await django_asgi_app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.lower(): v for k, v in start["headers"]}, body


def test_the_chain_is_built_sync():
    assert not asyncio.iscoroutinefunction(django_asgi_app._middleware_chain)


@pytest.mark.django_db(transaction=True)
def test_a_request_passes_every_middleware():
    status, headers, body = async_to_sync(call)("/healthz")
    assert status == 200 and body
    assert headers[b"x-request-id"]  # circles.middleware.RequestIdMiddleware
    assert headers[b"x-frame-options"] == b"DENY"  # Django's clickjacking middleware
    status, headers, _ = async_to_sync(call)("/api/v1/feed")
    assert status == 401  # the API's auth, through the same chain


def _threads_of_requests():
    """The thread each request's sync code ran in (request_started's receivers run
    there), recorded through Django's own signal."""
    from django.core.signals import request_started

    seen = []

    def record(**kwargs):
        seen.append(threading.get_ident())

    request_started.connect(record, weak=False)
    return seen, lambda: request_started.disconnect(record)


@pytest.mark.django_db(transaction=True)
def test_requests_one_after_another_reuse_one_thread_not_the_loops():
    seen, stop = _threads_of_requests()

    async def three():
        for _ in range(3):
            await call("/healthz")
        return threading.get_ident()

    try:
        loop_thread = async_to_sync(three)()
    finally:
        stop()
    assert len(seen) == 3 and len(set(seen)) == 1
    assert seen[0] != loop_thread


@pytest.mark.django_db(transaction=True)
def test_requests_at_the_same_time_each_have_a_thread_of_their_own():
    from django.core.signals import request_started

    second_started = threading.Event()
    arrivals, waited = [], []
    lock = threading.Lock()

    def first_waits_for_second(**kwargs):
        with lock:
            arrivals.append(threading.get_ident())
            first = len(arrivals) == 1
        if first:  # False after 5 s if the second ran only after it, in its thread
            waited.append(second_started.wait(timeout=5))
        else:
            second_started.set()

    request_started.connect(first_waits_for_second, weak=False)

    async def both():
        return await asyncio.gather(call("/healthz"), call("/healthz"))

    try:
        answers = async_to_sync(both)()
    finally:
        request_started.disconnect(first_waits_for_second)
    assert [status for status, _, _ in answers] == [200, 200]
    assert waited == [True]
    assert len(set(arrivals)) == 2


def test_threads_beyond_those_kept_idle_are_shut_down():
    threads = RequestThreads(keep=1)
    first, second = threads.borrow(), threads.borrow()
    assert first is not second
    threads.give_back(first)
    threads.give_back(second)
    assert threads.borrow() is first  # kept, and lent again
    with pytest.raises(RuntimeError):
        second.submit(int)  # shut down
