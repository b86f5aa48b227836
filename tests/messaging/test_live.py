"""Real uvicorn processes on the test database and Redis: what is sent through one process
reaches sockets on another, and a client that reconnects and resends never doubles a
message."""

import asyncio
import json
import urllib.request
import uuid

import pytest
import websockets

from accounts.services import api_token_create, realtime_ticket_create
from messaging.models import Message
from tests.platform.test_database_faults import drop_connections_of
from tests.servers import uvicorn_server

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def ws_url(base_url: str, ticket: str) -> str:
    return base_url.replace("http://", "ws://") + f"/ws/?ticket={ticket}"


async def next_frame(ws, *, skip=("presence",), timeout=5) -> dict:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if frame["type"] not in skip:
            return frame


async def quiet(ws, *, seconds=0.5, skip=("presence",)) -> list[dict]:
    found = []
    while True:
        try:
            frame = json.loads(await asyncio.wait_for(ws.recv(), seconds))
        except TimeoutError:
            return found
        if frame["type"] not in skip:
            found.append(frame)


async def ready(ws) -> None:
    """Past the consumer's connect: its groups are joined. (A message sent just before
    may reach a socket that has just joined, ahead of the pong: skipped here.)"""
    await ws.send(json.dumps({"type": "ping"}))
    assert await next_frame(ws, skip=("presence", "message.new")) == {"type": "pong"}


def http_post(base_url: str, path: str, token: str, payload: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{base_url}/api/v1{path}",
        data=json.dumps(payload).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def http_get(base_url: str, path: str, token: str) -> dict:
    request = urllib.request.Request(
        f"{base_url}/api/v1{path}", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def send_frame(conversation, client_id, content):
    return json.dumps(
        {
            "type": "message.send",
            "conversation_id": str(conversation.pk),
            "client_id": client_id,
            "content": content,
        }
    )


def test_two_processes_share_events_through_redis(direct, user, other_user):
    alice_ticket = realtime_ticket_create(user=user)
    bob_ticket = realtime_ticket_create(user=other_user)
    _, bob_token = api_token_create(user=other_user)
    with uvicorn_server() as one, uvicorn_server() as two:
        assert one != two

        async def scenario():
            async with (
                websockets.connect(ws_url(one, alice_ticket)) as alice,
                websockets.connect(ws_url(two, bob_ticket)) as bob,
            ):
                await ready(alice)
                await ready(bob)
                # a socket on process one sends; a socket on process two receives
                await alice.send(send_frame(direct, "from-one", "hello from one"))
                new = await next_frame(bob)
                assert new["type"] == "message.new"
                assert new["message"]["content"] == "hello from one"
                assert new["message"]["sender"]["username"] == "alice"
                # an HTTP send to process two reaches the socket on process one
                status, sent = await asyncio.to_thread(
                    http_post,
                    two,
                    f"/conversations/{direct.pk}/messages",
                    bob_token,
                    {"client_id": "from-two", "content": "hello from two"},
                )
                assert status == 201
                frames = await quiet(alice)
                news = [f["message"] for f in frames if f["type"] == "message.new"]
                assert [m["content"] for m in news] == ["hello from one", "hello from two"]
                assert news[1] == sent
                # typing crosses processes too
                await bob.send(json.dumps({"type": "typing", "conversation_id": str(direct.pk)}))
                typing = await next_frame(alice)
                assert typing["type"] == "typing" and typing["user"]["username"] == "bob"

        asyncio.run(scenario())
    assert Message.objects.count() == 2


def test_reconnect_and_resend_never_duplicates(live_server_url, direct, user, other_user):
    tickets = [realtime_ticket_create(user=user) for _ in range(2)]
    bob_ticket = realtime_ticket_create(user=other_user)
    _, alice_token = api_token_create(user=user)

    async def scenario():
        async with websockets.connect(ws_url(live_server_url, bob_ticket)) as bob:
            await ready(bob)
            # alice sends and loses her connection before the ack arrives
            first = await websockets.connect(ws_url(live_server_url, tickets[0]))
            await ready(first)
            await first.send(send_frame(direct, "flaky-1", "did this arrive?"))
            await first.close()

            # she reconnects, asks for what came after her last seq (0), and resends
            async with websockets.connect(ws_url(live_server_url, tickets[1])) as again:
                await ready(again)
                await asyncio.sleep(0.3)
                missed = await asyncio.to_thread(
                    http_get,
                    live_server_url,
                    f"/conversations/{direct.pk}/messages?after_seq=0",
                    alice_token,
                )
                assert [m["client_id"] for m in missed["items"]] == ["flaky-1"]
                await again.send(send_frame(direct, "flaky-1", "did this arrive?"))
                ack = await next_frame(again, skip=("presence", "message.new"))
                assert ack["type"] == "message.ack"
                assert ack["message"] == missed["items"][0]
            # bob saw it exactly once, whatever the resend did
            received = [f for f in await quiet(bob, seconds=1) if f["type"] == "message.new"]
            assert [f["message"]["client_id"] for f in received] == ["flaky-1"]

    asyncio.run(scenario())
    assert Message.objects.filter(client_id="flaky-1").count() == 1


def test_idle_sockets_stay_open(live_server_url, user, other_user):
    """The layer waits for events in 5 s blocking reads; an idle socket outlives many."""
    tickets = [realtime_ticket_create(user=person) for person in (user, other_user)]

    async def scenario():
        sockets = [await websockets.connect(ws_url(live_server_url, t)) for t in tickets]
        await asyncio.sleep(12)
        for ws in sockets:
            await ws.send(json.dumps({"type": "ping"}))
            assert await next_frame(ws) == {"type": "pong"}
            await ws.close()

    asyncio.run(scenario())


def test_a_dropped_database_connection_costs_no_failed_send(direct, user, other_user):
    """The writer threads keep their connections between sends: one PostgreSQL dropped
    (a restart, pg_terminate_backend) is replaced, and the send on it still succeeds."""
    ticket = realtime_ticket_create(user=user)
    bob_ticket = realtime_ticket_create(user=other_user)
    name = f"circles-chat-dropped-{uuid.uuid4().hex[:12]}"
    with uvicorn_server(CHAT_WRITE_THREADS=1, PGAPPNAME=name) as base:

        async def scenario():
            async with (
                websockets.connect(ws_url(base, ticket)) as alice,
                websockets.connect(ws_url(base, bob_ticket)) as bob,
            ):
                await ready(alice)
                await ready(bob)
                for n in range(4):
                    if n == 2:  # the writer thread's kept connection goes
                        assert await asyncio.to_thread(drop_connections_of, name) >= 1
                    await alice.send(send_frame(direct, f"kept-{n}", f"message {n}"))
                    ack = await next_frame(alice, skip=("presence", "message.new"))
                    assert ack["type"] == "message.ack" and ack["message"]["seq"] == n + 1
                    assert (await next_frame(bob))["message"]["content"] == f"message {n}"

        asyncio.run(scenario())
    assert Message.objects.count() == 4
