"""circles.asgi: HTTP goes through Django's middleware and views in one hop to a thread
(SyncChainASGIHandler), with every middleware still applied and publishes from a view
still able to reach the server's event loop (async_to_sync from the request thread)."""

import asyncio

import pytest
from asgiref.sync import async_to_sync

from circles.asgi import django_asgi_app


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
