"""Chat latency: a message sent on one socket, seen on another socket held by a different
uvicorn process, with many sockets open, through Redis.

The world: SOCKETS people in pairs, each pair with its direct conversation. One person of
a pair is connected to server one, the other to server two, so every message crosses
processes through the Redis channel layer. SENDERS pairs are active: their senders send
`message.send` frames on a fixed schedule (open loop, `rate` messages a second in all,
alternating which server sends); the others just hold their sockets open. The load runs
in a separate process (asyncio + websockets, signed in with session cookies), which
opens every socket once and then runs each rate in turn. Each latency counts from the
moment the message was due to be sent to the moment its `message.new` reached the
recipient's socket (or its `message.ack` the sender's), so a stalled server shows as
latency, not as a lower rate; the rps column is what was delivered per second, the
sustained rate. A message not delivered within DELIVERY_TIMEOUT_S counts as an error.
Everything is on 127.0.0.1 and bounded (SOCKETS sockets, MAX_DURATION_S per rate).

Defaults: 1,000 sockets, 100 senders, 50, 100 and 200 messages a second, 8 s each.
`python -m bench chat --rate R --duration D` runs one rate. The servers run with the
settings as they are: PostgreSQL through psycopg's pool, one Redis pool per process.

Where a send's time went (py-spy on both servers at 100 msg/s, this VM): ~58 % of the
samples in message_send, 36 % in its `_conversation_for_sending` (the read rule, asked on
every send), 14 % in the insert; of the 36 %, 42 % was building the queryset, which is
now built once per process (messaging/services/messages.py): 8 -> 4.5 ms a send in
process, and at 100 msg/s 96 sustained instead of 79. A smaller GIL switch interval
(0.5 ms instead of 5) did not help.
"""

import asyncio
import json
import multiprocessing
import sys
import time
import uuid

from bench.harness import MAX_DURATION_S, WORK_DIR, Bench, Result, Server

DESCRIPTION = "chat message.new latency across two uvicorn processes, 1,000 sockets"

SOCKETS = 1000
SENDERS = 100
RATES = (50.0, 100.0, 200.0)
DURATION_S = 8.0
CONNECT_CONCURRENCY = 20
DELIVERY_TIMEOUT_S = 5.0
USERNAME_PREFIX = "chatbench_"


# --- in the bench process: the world and the servers ----------------------------------


def _seed(people: int, prefix: str = USERNAME_PREFIX) -> list[tuple[str, str, str]]:
    """People chatbench_0000… (or another prefix) and a direct conversation per pair
    (kept between runs).
    Returns [(conversation_id, sender_id, recipient_id)] per pair."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from messaging.models import Conversation, ConversationKind, Participant, direct_key_for

    names = [f"{prefix}{n:04d}" for n in range(people)]
    unusable = make_password(None)
    User.objects.bulk_create(
        [User(username=name, email=f"{name}@bench.invalid", password=unusable) for name in names],
        ignore_conflicts=True,
        batch_size=500,
    )
    ids = dict(User.objects.filter(username__in=names).values_list("username", "pk"))
    pairs = [(ids[names[2 * i]], ids[names[2 * i + 1]]) for i in range(people // 2)]
    keys = [direct_key_for(a, b) for a, b in pairs]
    Conversation.objects.bulk_create(
        [Conversation(kind=ConversationKind.DIRECT, direct_key=key) for key in keys],
        ignore_conflicts=True,
        batch_size=500,
    )
    by_key = dict(Conversation.objects.filter(direct_key__in=keys).values_list("direct_key", "pk"))
    Participant.objects.bulk_create(
        [
            Participant(conversation_id=by_key[key], user_id=user_id)
            for key, pair in zip(keys, pairs, strict=True)
            for user_id in pair
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    return [(str(by_key[key]), str(a), str(b)) for key, (a, b) in zip(keys, pairs, strict=True)]


def _session_cookies(user_ids: list[str]) -> list[str]:
    """A signed-in session per person, as the Cookie header a browser would send (the
    server checks the socket's Origin too)."""
    from django.conf import settings
    from django.test import Client

    from accounts.models import User

    users = User.objects.in_bulk(user_ids)
    name = settings.SESSION_COOKIE_NAME
    cookies = []
    for pk in user_ids:
        client = Client()
        client.force_login(users[uuid.UUID(pk)])
        cookies.append(f"{name}={client.cookies[name].value}")
    return cookies


def run(bench: Bench) -> list[Result]:
    from django.conf import settings

    if not settings.REDIS_URL:
        print("chat: needs REDIS_URL (two processes share events through Redis)", file=sys.stderr)
        return []
    duration = min(bench.duration_s or DURATION_S, MAX_DURATION_S)
    rates = (bench.rate,) if bench.rate else RATES
    pairs = _seed(SOCKETS)
    people = [person for _, sender, recipient in pairs for person in (sender, recipient)]
    cookies = dict(zip(people, _session_cookies(people), strict=True))
    second = Server(bench.server.env)
    second.log_path = WORK_DIR / "server-chat-2.log"
    with second:
        ports = (bench.server.port, second.port)
        args = (ports, pairs, cookies, rates, duration, SENDERS)
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            connected, connect_s, reports = pool.apply_async(_generate, args).get(
                timeout=120 + len(rates) * (duration + DELIVERY_TIMEOUT_S + 5)
            )
    print(f"chat: {connected} sockets connected in {connect_s:.1f}s", file=sys.stderr)
    results = []
    for rate, report in zip(rates, reports, strict=True):
        label = f"{connected} sockets, {SENDERS} senders, {rate:g} msg/s"
        sent, delivered, acked = report["sent"], report["delivered_ms"], report["acked_ms"]
        results += [
            Result(
                f"chat/message.new, 2 processes ({label})",
                rate,
                sent,
                sent - len(delivered),
                delivered,
                report["elapsed_s"],
            ),
            Result("chat/message.ack to the sender", rate, sent, sent - len(acked), acked,
                   report["elapsed_s"]),
        ]  # fmt: skip
        print(
            f"chat: {rate:g} msg/s: {len(delivered)}/{sent} delivered, {report['refused']} refused",
            file=sys.stderr,
        )
    return results


# --- in the load process ----------------------------------------------------------------


def _generate(ports, pairs, cookies, rates, duration_s, senders):
    return asyncio.run(_load(ports, pairs, cookies, rates, duration_s, senders))


async def _load(ports, pairs, cookies, rates, duration_s, senders):
    import websockets

    due: dict[str, float] = {}  # client_id -> when it was due to be sent
    report: dict = {}  # the current rate's figures

    async def reader(ws):
        async for raw in ws:
            now = time.perf_counter()
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "message.new":
                sent_at = due.get(frame["message"]["client_id"])
                if sent_at is not None and frame["message"]["sender"]["id"] != ws.person:
                    report["delivered_ms"].append((now - sent_at) * 1000)
                    report["last"] = now
            elif kind == "message.ack":
                sent_at = due.get(frame["client_id"])
                if sent_at is not None:
                    report["acked_ms"].append((now - sent_at) * 1000)
            elif kind == "message.error":
                report["refused"] += 1

    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def connect(person: str, port: int):
        async with gate:
            ws = await websockets.connect(
                f"ws://127.0.0.1:{port}/ws/",
                origin=f"http://127.0.0.1:{port}",
                additional_headers={"Cookie": cookies[person]},
                open_timeout=30,
                ping_interval=None,
                max_queue=None,
            )
            ws.person = person
            await ws.send('{"type": "ping"}')
            while json.loads(await asyncio.wait_for(ws.recv(), 30)).get("type") != "pong":
                pass  # past connect: its groups are joined
            return ws

    # pair i: its sender on one server, its recipient on the other, alternating
    plan = []
    for index, (_, sender, recipient) in enumerate(pairs):
        first, second = (ports[0], ports[1]) if index % 2 == 0 else (ports[1], ports[0])
        plan += [(sender, first), (recipient, second)]
    started = time.perf_counter()
    sockets = await asyncio.gather(*(connect(person, port) for person, port in plan))
    connect_s = time.perf_counter() - started
    by_person = {ws.person: ws for ws in sockets}
    readers = [asyncio.create_task(reader(ws)) for ws in sockets]
    await asyncio.sleep(2.0)  # let the "online" announcements of the connects pass

    active = [(conversation, by_person[sender]) for conversation, sender, _ in pairs[:senders]]
    # Warm-up, not measured (as the HTTP loads do): each active sender's first message pays
    # for the first database connections of the pools and the first trip of every code path.
    report.update(delivered_ms=[], acked_ms=[], refused=0, last=0.0)
    for k, (conversation, ws) in enumerate(active):
        frame = {
            "type": "message.send",
            "conversation_id": conversation,
            "client_id": f"warmup-{uuid.uuid4().hex[:8]}-{k}",
            "content": "warm-up",
        }
        await ws.send(json.dumps(frame))
        await asyncio.sleep(0.02)
    await asyncio.sleep(2.0)
    reports = []
    for rate in rates:
        report.update(delivered_ms=[], acked_ms=[], refused=0, last=0.0)
        total = int(rate * duration_s)
        run_id = uuid.uuid4().hex[:8]
        start = time.perf_counter()
        for k in range(total):
            at = start + k / rate
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            conversation, ws = active[k % len(active)]
            client_id = f"{run_id}-{k}"
            due[client_id] = at
            frame = {
                "type": "message.send",
                "conversation_id": conversation,
                "client_id": client_id,
                "content": f"bench message {k}",
            }
            await ws.send(json.dumps(frame))
        deadline = time.perf_counter() + DELIVERY_TIMEOUT_S
        while len(report["delivered_ms"]) < total and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        reports.append(
            {
                "sent": total,
                "delivered_ms": list(report["delivered_ms"]),
                "acked_ms": list(report["acked_ms"]),
                "refused": report["refused"],
                "elapsed_s": max(report["last"] - start, 0.0),
            }
        )
        await asyncio.sleep(1.0)  # a breath between rates
    for task in readers:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return len(sockets), connect_s, reports
