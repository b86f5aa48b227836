"""Redis going away under open sockets: a real uvicorn on a redis-server this test starts
and stops itself (never the shared one), on both channel layers. The socket is closed
with 1011 — a code the page's client acts on by reconnecting with backoff — and the
server logs one warning line, not a traceback; once Redis is back, a new socket works.
The core layer's blocking read fails at once; the pub/sub layer reconnects silently, so
there the socket is closed by the process's Redis check (messaging.presence.redis_lost)
within a few seconds — without it the socket would stay open, hearing nothing."""

import asyncio
import json
import time

import pytest
import websockets

from accounts.services import api_token_create
from tests.messaging.test_live import http_post, ready, ws_url
from tests.servers import redis_server, uvicorn_server

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


async def closed_with(ws, *, within: float = 15) -> int:
    """Read frames until the server closes the socket; its close code."""
    async with asyncio.timeout(within):
        try:
            while True:
                await ws.recv()
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else 1006


@pytest.mark.parametrize("layer", ["core", "pubsub"])
def test_a_lost_redis_closes_sockets_with_1011_and_one_warning(user, tmp_path, layer):
    _, token = api_token_create(user=user)
    log_path = tmp_path / "uvicorn.log"
    with (
        redis_server() as redis,
        open(log_path, "wb") as log,
        uvicorn_server(REDIS_URL=redis.url, CHANNEL_LAYER=layer, log=log) as base,
    ):

        def ticket() -> str:
            status, body = http_post(base, "/realtime/ticket", token, {})
            assert status == 201
            return body["ticket"]

        async def lose_redis() -> int:
            async with websockets.connect(ws_url(base, ticket())) as ws:
                await ready(ws)
                await asyncio.to_thread(redis.stop)
                return await closed_with(ws)

        assert asyncio.run(lose_redis()) == 1011

        redis.start()  # the same port: the server's clients reconnect to it

        async def come_back() -> dict:
            async with websockets.connect(ws_url(base, ticket())) as ws:
                await ws.send(json.dumps({"type": "ping"}))
                return json.loads(await asyncio.wait_for(ws.recv(), 5))

        # as the page's client does: reconnect with backoff. The first socket after
        # the restart may meet a pooled connection of the old Redis and be closed with
        # 1011 in turn; the next one works.
        codes = []
        for _ in range(3):
            try:
                assert asyncio.run(come_back()) == {"type": "pong"}
                break
            except websockets.ConnectionClosed as closed:
                codes.append(closed.rcvd.code)
                time.sleep(0.5)
        else:
            pytest.fail(f"no socket after Redis came back: {codes}")
        assert set(codes) <= {1011}
    lines = log_path.read_text().splitlines()
    assert not [line for line in lines if "Traceback" in line or "exc_info" in line]
    lost = [json.loads(line) for line in lines if "channel layer" in line]
    assert len(lost) == 1 + len(codes), lines  # one line a socket
    assert lost[0]["level"] == "WARNING"
    assert "1011" in lost[0]["message"]
