"""/ws/ through a real uvicorn process and the Redis channel layer."""

import asyncio
import json

import pytest
import websockets
from django.conf import settings
from django.test import Client

from accounts.services import realtime_ticket_create
from circles.realtime import publish, user_group

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def ws_url(base_url: str, query: str = "") -> str:
    return base_url.replace("http://", "ws://") + "/ws/" + (f"?{query}" if query else "")


def session_cookie_for(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


async def recv_json(ws, timeout=5):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def closed_code(ws, timeout=5) -> int:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), timeout)
    return closed.value.rcvd.code


async def test_session_socket_answers_ping(live_server_url, user):
    cookie = session_cookie_for(user)
    async with websockets.connect(
        ws_url(live_server_url), origin=live_server_url, additional_headers={"Cookie": cookie}
    ) as ws:
        await ws.send(json.dumps({"type": "ping"}))
        assert await recv_json(ws) == {"type": "pong"}


async def test_unauthenticated_socket_is_closed_with_4401(live_server_url):
    async with websockets.connect(ws_url(live_server_url), origin=live_server_url) as ws:
        assert await closed_code(ws) == 4401


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        None,
        "http://localhost:9999",  # an allowed host on another port
        "https://127.0.0.1",  # the site's host with another scheme and port
        "{site}0",  # the site's host on port 8765 -> 87650 (another port)
    ],
)
async def test_foreign_or_missing_origin_is_refused(live_server_url, user, origin):
    origin = origin and origin.format(site=live_server_url)
    cookie = session_cookie_for(user)
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(
            ws_url(live_server_url), origin=origin, additional_headers={"Cookie": cookie}
        ):
            pass
    assert refused.value.response.status_code == 403


async def test_ticket_opens_one_socket_only(live_server_url, user):
    ticket = realtime_ticket_create(user=user)
    async with websockets.connect(ws_url(live_server_url, f"ticket={ticket}")) as ws:
        await ws.send(json.dumps({"type": "ping"}))
        assert await recv_json(ws) == {"type": "pong"}
    async with websockets.connect(ws_url(live_server_url, f"ticket={ticket}")) as replay:
        assert await closed_code(replay) == 4401


async def test_event_published_here_reaches_socket_on_server_through_redis(live_server_url, user):
    ticket = realtime_ticket_create(user=user)
    async with websockets.connect(ws_url(live_server_url, f"ticket={ticket}")) as ws:
        await ws.send(json.dumps({"type": "ping"}))
        await recv_json(ws)  # the consumer has joined its group by now
        # published from this test process; only Redis connects it to the server process
        assert await asyncio.to_thread(publish, user_group(user.pk), {"type": "session.ended"})
        assert await closed_code(ws) == 4401


async def test_bad_frames_get_errors_not_crashes(live_server_url, user):
    ticket = realtime_ticket_create(user=user)
    async with websockets.connect(ws_url(live_server_url, f"ticket={ticket}")) as ws:
        for frame, code in [
            ("{not json", "invalid_json"),
            ("[1, 2]", "invalid_frame"),
            (json.dumps({"type": "launch.missiles"}), "unknown_type"),
            ("x" * 20_000, "frame_rejected"),
        ]:
            await ws.send(frame)
            assert (await recv_json(ws))["error"]["code"] == code
        await ws.send(json.dumps({"type": "ping"}))
        assert await recv_json(ws) == {"type": "pong"}
