"""The /ws/ authentication in process (circles.asgi's websocket stack with Channels'
communicator): session with an allowed Origin, single-use ticket, and everything else."""

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client

from accounts.services import realtime_ticket_create
from circles.asgi import application
from tests.messaging.conftest import WebsocketCommunicator

pytestmark = pytest.mark.django_db(transaction=True)


def socket(path="/ws/", **headers):
    raw = [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]
    return WebsocketCommunicator(application, path, headers=raw)


async def finish(communicator) -> None:
    """End the application behind communicator, so no consumer is left for the event
    loop's teardown to cancel."""
    if communicator.future.done():
        return
    await communicator.disconnect()


async def ping_answered(communicator) -> bool:
    connected, _ = await communicator.connect()
    if not connected:
        return False
    await communicator.send_json_to({"type": "ping"})
    while True:
        frame = await communicator.receive_output(timeout=3)
        if frame["type"] == "websocket.close":
            await finish(communicator)
            return False
        if frame.get("text") and '"pong"' in frame["text"]:
            await communicator.disconnect()
            return True


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


async def test_session_cookie_with_an_allowed_origin(user):
    cookie = await database_sync_to_async(session_cookie)(user)
    assert await ping_answered(socket(cookie=cookie, host="localhost", origin="http://localhost"))


SITE = "127.0.0.1:8765"  # the site is http://127.0.0.1:8765


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://127.0.0.1:8765", True),
        ("HTTP://127.0.0.1:8765", True),
        ("http://localhost:9999", False),  # an allowed host, another port
        ("http://127.0.0.1:9999", False),
        ("https://127.0.0.1", False),  # another scheme (and port)
        ("https://127.0.0.1:8765", False),
        ("http://127.0.0.1", False),  # port 80
        ("http://evil.example:8765", False),
        ("null", False),
        ("http://127.0.0.1:8765.evil.example", False),
    ],
)
async def test_the_origin_must_be_the_sites_own_scheme_host_and_port(user, origin, allowed):
    cookie = await database_sync_to_async(session_cookie)(user)
    assert await ping_answered(socket(cookie=cookie, host=SITE, origin=origin)) is allowed


async def test_a_host_outside_allowed_hosts_is_no_origin_of_ours(user):
    cookie = await database_sync_to_async(session_cookie)(user)
    assert not await ping_answered(
        socket(cookie=cookie, host="evil.example:8765", origin="http://evil.example:8765")
    )


async def test_a_socket_over_tls_wants_an_https_origin(user, settings):
    cookie = await database_sync_to_async(session_cookie)(user)
    secure = socket(cookie=cookie, host="localhost", origin="https://localhost")
    secure.scope["scheme"] = "wss"
    assert await ping_answered(secure)
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proxied = socket(
        cookie=cookie, host="localhost", origin="https://localhost", x_forwarded_proto="https"
    )
    assert await ping_answered(proxied)
    plain = socket(cookie=cookie, host="localhost", origin="http://localhost")
    plain.scope["headers"].append((b"x-forwarded-proto", b"https"))
    assert not await ping_answered(plain)


async def test_configured_extra_origins_are_allowed(user, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example.com", "https://*.circles.example"]
    cookie = await database_sync_to_async(session_cookie)(user)
    for origin, allowed in [
        ("https://app.example.com", True),
        ("https://app.example.com:443", True),
        ("http://app.example.com", False),
        ("https://app.example.com:8443", False),
        ("https://eu.circles.example", True),
        ("https://evilcircles.example", False),
    ]:
        assert await ping_answered(socket(cookie=cookie, host=SITE, origin=origin)) is allowed


async def test_session_cookie_from_a_foreign_origin_is_refused(user):
    cookie = await database_sync_to_async(session_cookie)(user)
    for refused in (socket(cookie=cookie, origin="https://evil.example"), socket(cookie=cookie)):
        connected, _ = await refused.connect()  # a foreign Origin, then none at all
        assert not connected
        await finish(refused)


async def test_a_ticket_opens_one_socket_once(user):
    ticket = await database_sync_to_async(realtime_ticket_create)(user=user)
    assert await ping_answered(socket(f"/ws/?ticket={ticket}"))
    replay = socket(f"/ws/?ticket={ticket}")
    assert (await replay.connect())[0]
    assert (await replay.receive_output(timeout=3)) == {"type": "websocket.close", "code": 4401}
    await finish(replay)


async def test_no_credentials_or_a_bad_ticket_closes_with_4401():
    for path in ("/ws/?ticket=forged", "/ws/?ticket=" + "x" * 5000):
        communicator = socket(path)
        assert (await communicator.connect())[0]
        assert (await communicator.receive_output(timeout=3))["code"] == 4401
        await finish(communicator)
    anonymous = socket(host="localhost", origin="http://localhost")
    assert (await anonymous.connect())[0]
    assert (await anonymous.receive_output(timeout=3))["code"] == 4401
    await finish(anonymous)
