"""Chat latency: a message sent on one socket, seen on another socket held by a different
uvicorn process, with many sockets open, through Redis; next to its floor.

The world: SOCKETS people in pairs, each pair with its direct conversation. One person of
a pair is connected to server one, the other to server two, so every message crosses
processes through the Redis channel layer. SENDERS pairs are active: their senders send
`message.send` frames on a fixed schedule (open loop, `rate` messages a second in all,
alternating which server sends); the others just hold their sockets open. The load runs
in a separate process (asyncio + websockets, signed in with session cookies), which
opens every socket once and then runs each load in turn. Each latency counts from the
moment the message was due to be sent to the moment its `message.new` reached the
recipient's socket (or its `message.ack` the sender's), so a stalled server shows as
latency, not as a lower rate; the rps column is what was delivered per second, the
sustained rate. A message not delivered within DELIVERY_TIMEOUT_S counts as an error.
Everything is on 127.0.0.1 and bounded (SOCKETS sockets, MAX_DURATION_S per rate).

The group row: a circle's chat of GROUP_PEOPLE members, half on each server; one member
after another sends, GROUP_RATE messages a second, and each message's `message.new` to
every other member is one latency (so 49 a message).

The floor: before each chat load, the same load through bench/floor.py's bare consumer
(the same servers, the same channel layer, no database, no session, no rules) — pairs on
the two servers for the direct rows, a group of GROUP_PEOPLE for the group row. Each chat
row prints its p50 and p99 as multiples of the floor's measured just before it; with
`--repeat N` every (floor, chat) pair runs N times, alternating.

Defaults: 1,000 sockets, 100 senders, 50, 100, 200 and 300 messages a second, then the
group at 20, 8 s each. `python -m bench chat --rate R --duration D` runs one rate.
The servers run with the settings as they are: PostgreSQL through psycopg's pool, one
Redis pool per process.

CPU a message: while the loads run, the CPU time of each group of processes is read from
/proc (bench/resources.py: the two servers, the PostgreSQL backends of the bench database,
the Redis server as a whole, the load process); after the table, each load's line gives
it in ms per delivered message, with the load average around it. On a shared machine this
moves much less with the neighbours than the latencies do.

Where a send's time went: see README "Performance", "Hot paths".
"""

import asyncio
import contextlib
import json
import multiprocessing
import os
import sys
import time
import uuid

from bench import growth
from bench.harness import MAX_DURATION_S, WORK_DIR, Bench, Result, Server
from bench.resources import tree

DESCRIPTION = "chat message.new latency across two uvicorn processes, 1,000 sockets, vs a floor"
REPEATS_ITSELF = True  # alternates each load with its floor, --repeat times

SOCKETS = 1000
SENDERS = 100
RATES = (50.0, 100.0, 200.0, 300.0)
GROUP_PEOPLE = 50
GROUP_RATE = 20.0
DURATION_S = 8.0
CONNECT_CONCURRENCY = 20
DELIVERY_TIMEOUT_S = 5.0
DRAIN_TIMEOUT_S = 30.0  # at most this long between loads for the servers to fall quiet
USERNAME_PREFIX = "chatbench_"
GROUP_PREFIX = "chatgroup_"
FLOOR_APP = "bench.floor:application"


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


def _seed_group(people: int) -> tuple[str, list[str]]:
    """People chatgroup_00… in one circle (its chat made by the circle's sync, as the site
    does). Returns (conversation_id, [member ids])."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import Circle, CircleMembership, User
    from messaging.services import circle_conversation_sync

    names = [f"{GROUP_PREFIX}{n:02d}" for n in range(people)]
    unusable = make_password(None)
    User.objects.bulk_create(
        [User(username=name, email=f"{name}@bench.invalid", password=unusable) for name in names],
        ignore_conflicts=True,
    )
    ids = dict(User.objects.filter(username__in=names).values_list("username", "pk"))
    members = [ids[name] for name in names]
    circle = Circle.objects.filter(owner_id=members[0], name="chat bench").first()
    if circle is None:
        circle = Circle.objects.create(owner_id=members[0], name="chat bench")
    CircleMembership.objects.bulk_create(
        [CircleMembership(circle=circle, user_id=pk) for pk in members], ignore_conflicts=True
    )
    conversation = circle_conversation_sync(circle=circle)
    return str(conversation.pk), [str(pk) for pk in members]


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
    group_id, members = _seed_group(GROUP_PEOPLE)
    people = [person for _, sender, recipient in pairs for person in (sender, recipient)]
    people += members
    cookies = dict(zip(people, _session_cookies(people), strict=True))
    # one plan, run in order by the load process: each load right after its floor
    plan = []
    for _ in range(max(1, bench.repeat)):
        plan += [(kind, rate) for rate in rates for kind in ("floor", "direct")]
        plan += [("floor-group", GROUP_RATE), ("group", GROUP_RATE)]
    # both servers serve the floor too (bench/floor.py); the case starts its own pair
    first = Server(bench.server.env, app=FLOOR_APP)
    first.log_path = WORK_DIR / "server-chat-1.log"
    second = Server(bench.server.env, app=FLOOR_APP)
    second.log_path = WORK_DIR / "server-chat-2.log"
    with first, second:
        ports = (first.port, second.port)
        roots = (first.process.pid, second.process.pid)

        def servers() -> list[int]:
            return [pid for root in roots for pid in tree(root)]

        args = (ports, pairs, (group_id, members), cookies, plan, duration, SENDERS)
        load = growth.born_from_now(os.getpid())
        database_url = bench.server.env["DATABASE_URL"]
        with (
            growth.meter(servers, database_url, settings.REDIS_URL, load) as cpu,
            multiprocessing.get_context("spawn").Pool(1) as pool,
        ):
            connected, connect_s, reports = pool.apply_async(_generate, args).get(
                timeout=180 + len(plan) * (duration + DELIVERY_TIMEOUT_S + DRAIN_TIMEOUT_S + 5)
            )
    print(f"chat: {connected} sockets connected in {connect_s:.1f}s", file=sys.stderr)
    results, cpu_lines = [], []
    floor = floor_ack = None
    for (kind, rate), report in zip(plan, reports, strict=True):
        sent, expected = report["sent"], report["expected"]
        delivered, acked = report["delivered_ms"], report["acked_ms"]
        if kind == "floor":
            label = f"chat/floor, bare relay, 2 processes ({SENDERS} pairs, {rate:g} msg/s)"
        elif kind == "floor-group":
            label = f"chat/floor, bare relay to {GROUP_PEOPLE} ({rate:g} msg/s)"
        elif kind == "direct":
            label = (
                f"chat/message.new, 2 processes ({connected} sockets, {SENDERS} senders, "
                f"{rate:g} msg/s)"
            )
        else:
            label = f"chat/group message.new, {GROUP_PEOPLE} people, 2 processes ({rate:g} msg/s)"
        row = Result(label, rate, expected, expected - len(delivered), delivered,
                     report["elapsed_s"])  # fmt: skip
        ack = Result(f"{label.split(' (')[0]} → ack to the sender", rate, sent, sent - len(acked),
                     acked, report["elapsed_s"])  # fmt: skip
        if kind.startswith("floor"):
            floor, floor_ack = row, ack
        else:
            row.floor, ack.floor = floor, floor_ack
        results += [row, ack]
        print(
            f"chat: {kind} {rate:g} msg/s: {len(delivered)}/{expected} delivered, "
            f"{report['refused']} refused, {report['dropped']} not sent (socket closed)",
            file=sys.stderr,
        )
        cpu_lines.append(_cpu_line(kind, rate, cpu, report))
    print("\n".join(cpu_lines))
    return results


def _cpu_line(kind: str, rate: float, cpu, report: dict) -> str:
    """One load's CPU in ms per message sent (server, PostgreSQL, Redis, load process),
    the servers' cores, and the load average after it."""
    start, end = report["window"]
    usage = cpu.usage(start, end)
    sent = max(report["sent"], 1)
    ms = {group: usage.seconds.get(group, float("nan")) * 1000 / sent for group in growth.GROUPS}
    total = sum(ms[group] for group in ("server", "postgres", "redis"))
    return (
        f"cpu: {kind} {rate:g} msg/s, ms a message: server {ms['server']:.2f}, "
        f"PostgreSQL {ms['postgres']:.2f}, Redis {ms['redis']:.2f} (sum {total:.2f}); "
        f"load process {ms['load']:.2f}; servers {usage.cores('server'):.2f} cores; "
        f"load average {report['loadavg']:.2f}"
    )


# --- in the load process ----------------------------------------------------------------


def _generate(ports, pairs, group, cookies, plan, duration_s, senders):
    return asyncio.run(_load(ports, pairs, group, cookies, plan, duration_s, senders))


async def _load(ports, pairs, group, cookies, plan, duration_s, senders):
    import websockets

    due: dict[str, float] = {}  # client_id -> when it was due to be sent
    report: dict = {}  # the current load's figures

    def delivered(client_id: str, sender: str, receiver: str, now: float) -> None:
        sent_at = due.get(client_id)
        if sent_at is not None and sender != receiver:
            report["delivered_ms"].append((now - sent_at) * 1000)
            report["last"] = now

    def acked(client_id: str, now: float) -> None:
        sent_at = due.get(client_id)
        if sent_at is not None:
            report["acked_ms"].append((now - sent_at) * 1000)

    async def reader(ws):
        async for raw in ws:
            now = time.perf_counter()
            report["heard"] = now
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "message.new":
                message = frame["message"]
                delivered(message["client_id"], message["sender"]["id"], ws.person, now)
            elif kind == "floor":
                delivered(frame["client_id"], frame["from"], ws.person, now)
            elif kind in ("message.ack", "floor.ack"):
                acked(frame["client_id"], now)
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

    async def connect_floor(person: str, port: int, group: str = ""):
        async with gate:
            query = f"me={person}" + (f"&group={group}" if group else "")
            ws = await websockets.connect(
                f"ws://127.0.0.1:{port}/ws/floor/?{query}",
                open_timeout=30,
                ping_interval=None,
                max_queue=None,
            )
            ws.person = person
            return ws

    # pair i: its sender on one server, its recipient on the other, alternating; the
    # floor's sockets only when the plan has a floor load (the growth case has none)
    with_floor = any(kind.startswith("floor") for kind, _ in plan)
    chat_plan, floor_plan = [], []
    for index, (_, sender, recipient) in enumerate(pairs):
        first, second = (ports[0], ports[1]) if index % 2 == 0 else (ports[1], ports[0])
        chat_plan += [(sender, first), (recipient, second)]
        if index < senders and with_floor:
            floor_plan += [(f"fs{index}", first, ""), (f"fr{index}", second, "")]
    group_id, members = group
    chat_plan += [(person, ports[k % 2]) for k, person in enumerate(members)]
    if with_floor:
        floor_plan += [(f"fg{k}", ports[k % 2], "g") for k in range(len(members))]
    started = time.perf_counter()
    sockets = await asyncio.gather(*(connect(person, port) for person, port in chat_plan))
    floors = await asyncio.gather(*(connect_floor(*item) for item in floor_plan))
    connect_s = time.perf_counter() - started
    by_person = {ws.person: ws for ws in [*sockets, *floors]}
    readers = [asyncio.create_task(reader(ws)) for ws in [*sockets, *floors]]
    await asyncio.sleep(2.0)  # let the "online" announcements of the connects pass

    # (socket, frame without client_id) per sender, by load kind
    direct = [
        (by_person[sender], {"type": "message.send", "conversation_id": conversation})
        for conversation, sender, _ in pairs[:senders]
    ]
    senders_of = {
        "direct": direct,
        "group": [
            (by_person[person], {"type": "message.send", "conversation_id": group_id})
            for person in members
        ],
    }
    if with_floor:
        senders_of["floor"] = [
            (by_person[f"fs{i}"], {"type": "floor", "from": f"fs{i}", "to": f"fr{i}"})
            for i in range(senders)
        ]
        senders_of["floor-group"] = [
            (by_person[f"fg{k}"], {"type": "floor", "from": f"fg{k}", "to": "g"})
            for k in range(len(members))
        ]
    audience = {"direct": 1, "floor": 1, "group": len(members) - 1, "floor-group": len(members) - 1}

    def send(ws, frame: dict, client_id: str, content: str):
        return ws.send(json.dumps({**frame, "client_id": client_id, "content": content}))

    # Warm-up, not measured (as the HTTP loads do): each sender's first message pays for
    # the first database connections of the pools and the first trip of every code path.
    report.update(delivered_ms=[], acked_ms=[], refused=0, last=0.0, heard=0.0)
    for kind in ("direct", "group", "floor", "floor-group"):
        for k, (ws, frame) in enumerate(senders_of.get(kind, [])):
            with contextlib.suppress(websockets.ConnectionClosed):
                await send(ws, frame, f"warmup-{uuid.uuid4().hex[:8]}-{k}", "warm-up")
            await asyncio.sleep(0.01)
    await asyncio.sleep(2.0)
    reports = []
    for kind, rate in plan:
        report.update(delivered_ms=[], acked_ms=[], refused=0, dropped=0, last=0.0)
        total = int(rate * duration_s)
        expected = total * audience[kind]
        active = senders_of[kind]
        run_id = uuid.uuid4().hex[:8]
        start = time.perf_counter()
        for k in range(total):
            at = start + k / rate
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            ws, frame = active[k % len(active)]
            client_id = f"{run_id}-{k}"
            due[client_id] = at
            try:
                await send(ws, frame, client_id, f"bench message {k}")
            except websockets.ConnectionClosed:  # counted: never delivered, never acked
                report["dropped"] += 1
        deadline = time.perf_counter() + DELIVERY_TIMEOUT_S
        while len(report["delivered_ms"]) < expected and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        reports.append(
            {
                "sent": total,
                "expected": expected,
                "delivered_ms": list(report["delivered_ms"]),
                "acked_ms": list(report["acked_ms"]),
                "refused": report["refused"],
                "dropped": report["dropped"],
                "elapsed_s": max(report["last"] - start, 0.0),
                "window": (start, time.perf_counter()),  # for a resource meter
                "loadavg": os.getloadavg()[0],
            }
        )
        due.clear()
        # Let the servers drain what this load left queued (an overloaded run would
        # otherwise hand its backlog to the next load): wait for a second with no frame.
        drained_by = time.perf_counter() + DRAIN_TIMEOUT_S
        while time.perf_counter() < drained_by and time.perf_counter() - report["heard"] < 1.0:
            await asyncio.sleep(0.1)
    for task in readers:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in [*sockets, *floors]), return_exceptions=True)
    return len(sockets), connect_s, reports
