"""circles.asgi: HTTP goes through Django's middleware and views in one hop to a thread
(SyncChainASGIHandler), with every middleware still applied, Django's request signals
sent once each in the request's thread, streaming responses sent whole and stopped when
the client leaves, and publishes from a view still able to reach the server's event loop
(async_to_sync from the request thread)."""

import asyncio
import threading

import pytest
from asgiref.sync import async_to_sync
from django.core.signals import request_finished, request_started
from django.test import override_settings

from circles.asgi import RequestThreads, django_asgi_app
from tests.platform.asgi_urls import FILE_BYTES


async def call(path: str, headers=(), receive=None, sent=None):
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
    sent = [] if sent is None else sent
    queue = asyncio.Queue()
    await queue.put({"type": "http.request", "body": b"", "more_body": False})

    async def receive_body():
        return await queue.get()

    async def send(message):
        sent.append(message)

    await django_asgi_app(scope, receive or receive_body, send)
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


def _record_signals(events: list, sent: list):
    """Record request_started and request_finished, through Django's own signals, as
    (name, the thread the request's sync code ran in, messages sent by then); returns
    the function that stops recording."""

    def started(**kwargs):
        events.append(("started", threading.get_ident(), len(sent)))

    def finished(**kwargs):
        events.append(("finished", threading.get_ident(), len(sent)))

    request_started.connect(started, weak=False)
    request_finished.connect(finished, weak=False)

    def stop():
        request_started.disconnect(started)
        request_finished.disconnect(finished)

    return stop


@pytest.mark.django_db(transaction=True)
def test_requests_one_after_another_reuse_one_thread_not_the_loops():
    events = []
    stop = _record_signals(events, sent=[])

    async def three():
        for _ in range(3):
            await call("/healthz")
        return threading.get_ident()

    try:
        loop_thread = async_to_sync(three)()
    finally:
        stop()
    seen = [thread for name, thread, _ in events if name == "started"]
    assert len(seen) == 3 and len(set(seen)) == 1
    assert seen[0] != loop_thread


@pytest.mark.django_db(transaction=True)
def test_requests_at_the_same_time_each_have_a_thread_of_their_own():
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


@pytest.mark.django_db(transaction=True)
def test_a_page_sends_each_request_signal_once_in_its_thread_before_its_bytes():
    events, sent = [], []
    stop = _record_signals(events, sent)

    async def one():
        answer = await call("/healthz", sent=sent)
        return answer, threading.get_ident()

    try:
        (status, _, body), loop_thread = async_to_sync(one)()
    finally:
        stop()
    assert status == 200 and body
    assert [name for name, _, _ in events] == ["started", "finished"]
    assert events[0][1] == events[1][1] != loop_thread
    # closed (its connection back to the pool) before anything went out
    assert events[1][2] == 0 and len(sent) >= 2


# Django serves a FileResponse over ASGI by reading its sync file whole, and says so
@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")
@override_settings(ROOT_URLCONF="tests.platform.asgi_urls")
@pytest.mark.django_db(transaction=True)
def test_a_file_is_streamed_whole_and_closed_after_its_last_chunk():
    events, sent = [], []
    stop = _record_signals(events, sent)
    try:
        status, headers, body = async_to_sync(call)("/test-file", sent=sent)
    finally:
        stop()
    assert status == 200
    assert body == FILE_BYTES
    assert headers[b"content-length"] == str(len(FILE_BYTES)).encode()
    assert [name for name, _, _ in events] == ["started", "finished"]
    assert events[1][2] == len(sent)  # closed after the last message, not before


@override_settings(ROOT_URLCONF="tests.platform.asgi_urls")
@pytest.mark.django_db(transaction=True)
def test_a_stream_stops_when_the_client_leaves_and_is_closed():
    events, sent = [], []
    stop = _record_signals(events, sent)

    async def leave_after_a_few_chunks():
        messages = iter([{"type": "http.request", "body": b"", "more_body": False}])

        async def receive():
            message = next(messages, None)
            if message is not None:
                return message
            while sum(m["type"] == "http.response.body" for m in sent) < 3:
                await asyncio.sleep(0.005)
            return {"type": "http.disconnect"}

        # an endless stream that did not stop would fail here
        await asyncio.wait_for(call("/test-endless", receive=receive, sent=sent), timeout=10)

    try:
        async_to_sync(leave_after_a_few_chunks)()
    finally:
        stop()
    chunks = [m for m in sent if m["type"] == "http.response.body"]
    assert 3 <= len(chunks) < 100
    assert all(m.get("more_body") for m in chunks)  # stopped, never finished
    assert [name for name, _, _ in events] == ["started", "finished"]
