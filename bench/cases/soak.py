"""Soak: the whole stack under a mixed workload shaped like real use, for minutes.

The stack: uvicorn with WEB_WORKERS processes, a real `celery worker` (prefork, as
production runs it, with --max-memory-per-child), PostgreSQL and Redis — the bench's.
The world (kept between runs): PEOPLE people in pairs with a direct conversation each,
everyone following FOLLOWS others, posts from `seed_posts` (real photos, rendered once),
and fresh stories each run.

The workload, open loop (requests go out on schedule whether or not earlier ones have
answered, and latency counts from the scheduled time, so a stall shows as latency):

    feed reads          GET  /api/v1/feed                      RATES["feed"] a second
    story tray          GET  /api/v1/stories/feed
    story views         POST /api/v1/stories/{id}/view
    likes               POST /api/v1/posts/{id}/like
    comments            POST /api/v1/posts/{id}/comments
    uploads             POST /api/v1/posts, one real photo of /work/shared/photos
    chat                message.send on SOCKETS open sockets, timed to message.new

Reported: every operation's p50/p95/p99 and errors (the run fails unless there are none:
a status >= 400, a dropped connection, a message not delivered within 5 s of being sent,
an upload not processed or failed), the worker's backlog (jobs in the broker, images not
yet processed) every SAMPLE_S seconds, the resident memory of every process at the start
(after warm-up) and at the end, their CPU while the load ran, the load average, and the
product's latency targets against what this mixed load got. The stated bound: no process
grows by more than MEMORY_BOUND_MB or MEMORY_BOUND_SHARE of its start, whichever is larger.

Run: `make bench BENCH_ARGS="soak --soak-seconds 60"`; 300 s by default. It is never
run by a bare `make bench` (minutes long): name it.

Why not Locust: its users are gevent greenlets, which do not mix with the asyncio
WebSocket client the chat case already uses, and WebSockets would need a plugin; the
bench's own open-loop generator and asyncio sockets already measure without coordinated
omission, so this case combines them in one load process.
"""

import asyncio
import http.client
import json
import multiprocessing
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from bench.harness import (
    LOOPBACK,
    REPO_DIR,
    WORK_DIR,
    Bench,
    Result,
    Server,
    percentile,
    stop_process,
)

DESCRIPTION = "whole stack, mixed workload, 500 sockets, 5 min (only when named)"
EXPLICIT = True  # minutes long: `python -m bench` runs it only when named

DEFAULT_SECONDS = 300.0
MAX_SECONDS = 3600.0
WEB_WORKERS = 2
PEOPLE = 500  # every one holds a socket
SOCKETS = PEOPLE
CHAT_SENDERS = 50
FOLLOWS = 30
POSTS = 300
ACTIVE = 100  # people making HTTP requests
STORY_AUTHORS = 60
RATES = {  # a second; sized for a shared 2-core machine
    "feed": 10.0,
    "stories/tray": 4.0,
    "stories/view": 3.0,
    "like": 4.0,
    "comment": 1.0,
    "upload": 0.2,
    "chat": 5.0,
}
# shared/PRODUCT.md's latency targets, each measured here under the mixed load (their own
# bench cases measure them alone, at their full rates): (percentile, bound in ms)
TARGETS = {"feed": (95, 30), "upload": (95, 100), "chat": (99, 25)}
SAMPLE_S = 5.0
DELIVERY_TIMEOUT_S = 5.0
HTTP_TIMEOUT_S = 10.0
DRAIN_TIMEOUT_S = 180.0
MEMORY_BOUND_MB = 60
MEMORY_BOUND_SHARE = 0.25
PREFIX = "soak_"
PHOTOS_DIR = Path("/work/shared/photos")
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic"}


# --- the world ----------------------------------------------------------------------------


def _seed() -> tuple[list, list]:
    """People, pairs with a conversation, follows, posts. Returns (people, pairs)."""
    from django.core.management import call_command

    from accounts.models import Follow, User
    from bench.cases import chat

    pairs = chat._seed(PEOPLE, prefix=PREFIX)
    people = list(User.objects.filter(username__startswith=PREFIX).order_by("username"))
    rng = random.Random(3)
    ids = [person.pk for person in people]
    Follow.objects.bulk_create(
        [
            Follow(follower_id=person, following_id=other)
            for person in ids
            for other in rng.sample(ids, FOLLOWS)
            if other != person
        ],
        ignore_conflicts=True,
        batch_size=2000,
    )
    call_command("seed_posts", posts=POSTS, likes=3.0, comments=1.0, verbosity=0)
    return people, pairs


def _fresh_stories(people) -> None:
    """STORY_AUTHORS people get a story each (followers' audience), made now: stories
    expire, so every run makes its own. They share one rendered photo (bench data)."""
    from django.db import transaction
    from django.utils import timezone

    from media import images, storage
    from media.models import Image, ImageState
    from posts.management.commands.seed_posts import PHOTOS_DIR as SEED_PHOTOS
    from stories.models import IMAGE_PURPOSE, LIFETIME, Story

    result = images.render_renditions((SEED_PHOTOS / "flowers.jpeg").read_bytes())
    renditions = {}
    for name, rendition in result.renditions.items():
        renditions[name] = {"width": rendition.width, "height": rendition.height}
        for fmt in ("webp", "jpeg"):
            renditions[name][fmt] = storage.rendition_save(
                storage.rendition_key(fmt), getattr(rendition, fmt)
            )
    with transaction.atomic():
        old = Story.objects.filter(author__username__startswith=PREFIX)
        old_images = list(old.values_list("image_id", flat=True))
        old.delete()
        Image.objects.filter(pk__in=old_images).delete()
        for author in people[:STORY_AUTHORS]:
            image = Image.objects.create(
                owner=author, purpose=IMAGE_PURPOSE, original_key="", state=ImageState.READY,
                width=result.width, height=result.height, blurhash=result.blurhash,
                renditions=renditions,
            )  # fmt: skip
            Story.objects.create(
                author=author, image=image, audience="followers",
                expires_at=timezone.now() + LIFETIME,
            )  # fmt: skip


def _requests(people) -> dict[str, list]:
    """Each operation's requests, cycled: (method, path, headers, body)."""
    from bench.cases.feed import _tokens
    from bench.cases.upload import multipart
    from posts.models import Post
    from stories.models import Story

    rng = random.Random(17)
    active = people[:ACTIVE]
    tokens = dict(zip([p.pk for p in active], _tokens(active), strict=True))

    def auth(person, **extra):
        return {"Authorization": f"Bearer {tokens[person.pk]}", **extra}

    public = list(Post.objects.public().values_list("pk", flat=True)[:500])
    json_headers = {"Content-Type": "application/json"}
    ops: dict[str, list] = {name: [] for name in RATES if name != "chat"}
    for person in active:
        ops["feed"].append(("GET", "/api/v1/feed", auth(person), None))
        ops["stories/tray"].append(("GET", "/api/v1/stories/feed", auth(person), None))
        for story in Story.objects.visible_to(person).values_list("pk", flat=True)[:3]:
            ops["stories/view"].append(("POST", f"/api/v1/stories/{story}/view", auth(person), b""))
        for post in rng.sample(public, 5):
            ops["like"].append(("POST", f"/api/v1/posts/{post}/like", auth(person), b""))
        body = json.dumps({"content": "Lovely light in this one"}).encode()
        post = rng.choice(public)
        ops["comment"].append(
            ("POST", f"/api/v1/posts/{post}/comments", auth(person, **json_headers), body)
        )
    photos = sorted(p for p in PHOTOS_DIR.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
    for index, photo in enumerate(photos):
        body, content_type = multipart(photo.read_bytes())
        person = active[index % len(active)]
        headers = auth(person, **{"Content-Type": content_type})
        ops["upload"].append(("POST", "/api/v1/posts", headers, body))
    for name in ops:
        rng.shuffle(ops[name])
    return ops


# --- processes: who they are and how big ----------------------------------------------------


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(child) for child in f.read().split()]
    except FileNotFoundError:
        return []


def _rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except FileNotFoundError:
        return None
    return None


def _role(pid: int, default: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            command = f.read()
    except FileNotFoundError:
        return default
    return "multiprocessing resource tracker" if b"resource_tracker" in command else default


def _processes(server: Server, worker: subprocess.Popen) -> dict[str, int]:
    found = {"uvicorn (supervisor)": server.process.pid}
    for pid in _children(server.process.pid):
        found[f"{_role(pid, 'uvicorn worker')} (pid {pid})"] = pid
    found["celery (main)"] = worker.pid
    for pid in _children(worker.pid):
        found[f"celery pool process (pid {pid})"] = pid
    return found


def _memory(processes: dict[str, int]) -> dict[str, float]:
    return {name: rss for name, pid in processes.items() if (rss := _rss_mb(pid)) is not None}


def _cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system) the process has used so far."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except FileNotFoundError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu(processes: dict[str, int]) -> dict[str, float]:
    return {name: cpu for name, pid in processes.items() if (cpu := _cpu_s(pid)) is not None}


class _Sampler(threading.Thread):
    """Every SAMPLE_S: jobs waiting in the broker, taken but unacknowledged, and images
    not yet processed."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples: list[tuple[float, int, int, int]] = []
        self.stopped = threading.Event()
        self.started_at = time.monotonic()

    def read(self) -> tuple[int, int, int]:
        import redis
        from django.conf import settings
        from django.db import connection

        from media.models import Image, ImageState

        client = redis.Redis.from_url(settings.REDIS_URL)
        waiting = client.llen("celery")
        unacked = client.hlen("unacked")
        pending = Image.objects.filter(
            state__in=(ImageState.PENDING, ImageState.PROCESSING)
        ).count()
        connection.close()
        return waiting, unacked, pending

    def run(self) -> None:
        while not self.stopped.wait(SAMPLE_S):
            self.samples.append((time.monotonic() - self.started_at, *self.read()))


# --- the run ---------------------------------------------------------------------------------


def run(bench: Bench) -> list[Result]:
    from django.conf import settings
    from django.db import connection

    from bench.cases import chat
    from media.models import Image, ImageState

    if not settings.REDIS_URL or connection.vendor != "postgresql":
        print("soak: needs PostgreSQL and REDIS_URL (the whole stack)", file=sys.stderr)
        return []
    seconds = min(bench.soak_seconds or DEFAULT_SECONDS, MAX_SECONDS)
    started = time.monotonic()
    people, pairs = _seed()
    _fresh_stories(people)
    ops = _requests(people)
    sockets_for = [person for _, sender, recipient in pairs for person in (sender, recipient)]
    cookies = dict(zip(sockets_for, chat._session_cookies(sockets_for), strict=True))
    print(f"soak: world ready in {time.monotonic() - started:.0f} s", file=sys.stderr)

    import redis

    redis.Redis.from_url(settings.REDIS_URL).delete("celery", "unacked", "unacked_index")
    (WORK_DIR / "soak-ready").unlink(missing_ok=True)
    log = open(WORK_DIR / "worker-soak.log", "wb")  # noqa: SIM115 - closed below
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "circles", "worker", "--pool", "prefork",
         "--concurrency", "1", "--max-memory-per-child", "400000", "--loglevel", "WARNING",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=REPO_DIR, env=bench.server.env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    server = Server(bench.server.env, workers=WEB_WORKERS)
    server.log_path = WORK_DIR / "server-soak.log"
    first_upload = time.time()
    try:
        with server, multiprocessing.get_context("spawn").Pool(1) as pool:
            job = pool.apply_async(
                _generate, (server.port, ops, pairs[:CHAT_SENDERS], pairs, cookies, seconds)
            )
            # the load process says when its sockets are open and warm-up is done
            ready_file = WORK_DIR / "soak-ready"
            while not ready_file.exists() and not job.ready():
                time.sleep(0.5)
            processes = _processes(server, worker)
            memory_start = _memory(processes)
            cpu_start, load_start, measured_from = _cpu(processes), os.getloadavg(), time.time()
            sampler = _Sampler()
            sampler.start()
            report = job.get(timeout=seconds + 600)
            memory_end = _memory(_processes(server, worker))
            cpu_end, load_end = _cpu(_processes(server, worker)), os.getloadavg()
            cpu = {
                name: (cpu_end[name] - start) / (time.time() - measured_from)
                for name, start in cpu_start.items()
                if name in cpu_end
            }
            drain_started = time.monotonic()
            while time.monotonic() - drain_started < DRAIN_TIMEOUT_S:
                if sampler.read()[2] == 0:
                    break
                time.sleep(1)
            drained_s = time.monotonic() - drain_started
            sampler.stopped.set()
    finally:
        stop_process(worker, timeout=30)
        log.close()
        (WORK_DIR / "soak-ready").unlink(missing_ok=True)

    since = datetime.fromtimestamp(first_upload, tz=UTC)
    uploaded = Image.objects.filter(created_at__gte=since, purpose="post")
    failed = uploaded.filter(state=ImageState.FAILED).count()
    unprocessed = uploaded.exclude(state__in=(ImageState.READY, ImageState.FAILED)).count()
    memory = (memory_start, memory_end)
    machine = (cpu, load_start, load_end)
    return _report(report, seconds, sampler, drained_s, memory, machine, failed, unprocessed)


def _report(report, seconds, sampler, drained_s, memory, machine, failed, unprocessed):
    memory_start, memory_end = memory
    cpu, load_start, load_end = machine
    results = []
    errors = 0
    for name, figures in report["ops"].items():
        rate = RATES[name]
        result = Result(
            f"soak/{name}", rate, figures["sent"], figures["errors"], figures["latencies_ms"],
            figures["elapsed_s"],
        )  # fmt: skip
        errors += result.errors
        results.append(result)
    errors += report["socket_errors"] + failed + unprocessed
    print(f"\nsoak: {seconds:.0f} s measured; {report['sockets']} sockets open throughout")
    print(
        f"soak: uploads: {failed} failed processing, {unprocessed} not processed "
        f"{DRAIN_TIMEOUT_S:.0f} s after the load; backlog drained {drained_s:.0f} s after it"
    )
    print(f"soak: sockets dropped or refused frames: {report['socket_errors']}")
    print("soak: worker backlog (s since start: broker jobs waiting / unacked / images pending)")
    line = "  ".join(f"{at:.0f}s:{w}/{u}/{p}" for at, w, u, p in sampler.samples)
    print(f"  {line}")
    print(
        f"soak: memory (RSS MB, start after warm-up -> end); bound: growth <= "
        f"max({MEMORY_BOUND_MB} MB, {MEMORY_BOUND_SHARE:.0%})"
    )
    within = True
    for name, start in memory_start.items():
        end = memory_end.get(name)
        if end is None:
            print(f"  {name:32} {start:7.1f} -> (gone: replaced by --max-memory-per-child)")
            continue
        bound = max(MEMORY_BOUND_MB, start * MEMORY_BOUND_SHARE)
        ok = end - start <= bound
        within &= ok
        print(f"  {name:32} {start:7.1f} -> {end:7.1f}  {'ok' if ok else 'OVER THE BOUND'}")
    for name in sorted(set(memory_end) - set(memory_start)):
        print(f"  {name:32} (new)   -> {memory_end[name]:7.1f}")
    print("soak: CPU used by the stack while the load ran (share of one core)")
    for name, share in cpu.items():
        print(f"  {name:32} {share:6.0%}")
    print(f"  {'all of them':32} {sum(cpu.values()):6.0%}  (of 200 % on two cores)")
    print(
        "soak: load average at the start "
        + " / ".join(f"{x:.1f}" for x in load_start)
        + ", at the end "
        + " / ".join(f"{x:.1f}" for x in load_end)
        + " (1, 5, 15 min)"
    )
    for name, (quantile, bound_ms) in TARGETS.items():
        result = next((r for r in results if r.name == f"soak/{name}"), None)
        if result is None or not result.latencies_ms:
            continue
        measured = percentile(result.latencies_ms, quantile)
        met = "met" if measured < bound_ms else "NOT met"
        print(
            f"soak: product target {name} p{quantile} < {bound_ms} ms: "
            f"{measured:.0f} ms, {met} (reported, not part of the verdict)"
        )
    verdict = "PASS" if errors == 0 and within else "FAIL"
    print(f"soak: {verdict}: {errors} errors (must be 0); memory within the bound: {within}")
    for result in results:
        p = ", ".join(f"p{q} {percentile(result.latencies_ms, q):.0f}" for q in (50, 95, 99))
        print(f"  {result.name:18} {len(result.latencies_ms)} done, {result.errors} errors, {p} ms")
    return results


# --- in the load process ------------------------------------------------------------------


def _generate(port, ops, chat_pairs, pairs, cookies, seconds):
    return asyncio.run(_load(port, ops, chat_pairs, pairs, cookies, seconds))


_local = threading.local()


def _send(port, request, due) -> tuple[float, bool]:
    """One HTTP request on this thread's keep-alive connection: (ms since due, failed)."""
    method, path, headers, body = request
    failed = True
    try:
        conn = getattr(_local, "conn", None)
        if conn is None:
            conn = _local.conn = http.client.HTTPConnection(LOOPBACK, port, timeout=HTTP_TIMEOUT_S)
        conn.request(method, path, body=body, headers={"Host": LOOPBACK, **headers})
        response = conn.getresponse()
        response.read()
        failed = response.status >= 400
    except (OSError, http.client.HTTPException):
        if getattr(_local, "conn", None) is not None:
            _local.conn.close()
        _local.conn = None
    return (time.perf_counter() - due) * 1000, failed


async def _load(port, ops, chat_pairs, pairs, cookies, seconds):
    import websockets

    loop = asyncio.get_running_loop()
    pool = ThreadPoolExecutor(max_workers=32)
    figures = {
        name: {"sent": 0, "errors": 0, "latencies_ms": [], "elapsed_s": 0.0}
        for name in [*ops, "chat"]
    }
    socket_errors = 0
    due: dict[str, float] = {}
    gate = asyncio.Semaphore(20)

    async def connect(person):
        async with gate:
            ws = await websockets.connect(
                f"ws://{LOOPBACK}:{port}/ws/", origin=f"http://{LOOPBACK}:{port}",
                additional_headers={"Cookie": cookies[person]}, open_timeout=30,
                ping_interval=None, max_queue=None,
            )  # fmt: skip
            ws.person = person
            return ws

    async def reader(ws):
        nonlocal socket_errors
        try:
            async for raw in ws:
                frame = json.loads(raw)
                if frame.get("type") == "message.new":
                    message = frame["message"]
                    sent_at = due.pop(message["client_id"], None)
                    if sent_at is not None and message["sender"]["id"] != ws.person:
                        chat = figures["chat"]
                        chat["latencies_ms"].append((time.perf_counter() - sent_at) * 1000)
                    elif sent_at is not None:
                        due[message["client_id"]] = sent_at  # the sender's copy: keep waiting
                elif frame.get("type") == "message.error":
                    socket_errors += 1
        except websockets.ConnectionClosed:
            socket_errors += 1

    people = [person for _, sender, recipient in pairs for person in (sender, recipient)]
    sockets = await asyncio.gather(*(connect(person) for person in people))
    by_person = {ws.person: ws for ws in sockets}
    readers = [asyncio.create_task(reader(ws)) for ws in sockets]

    # warm-up, not measured: every operation a few times, every path's first trip
    for requests in ops.values():
        for request in requests[:3]:
            await loop.run_in_executor(pool, _send, port, request, time.perf_counter())
    await asyncio.sleep(2)
    (WORK_DIR / "soak-ready").write_text("ready")

    async def http_op(name, requests):
        rate, record = RATES[name], figures[name]
        start = time.perf_counter()
        total = int(rate * seconds)
        pending = []
        for k in range(total):
            at = start + k / rate
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            record["sent"] += 1
            pending.append(loop.run_in_executor(pool, _send, port, requests[k % len(requests)], at))
        for latency_ms, failed in await asyncio.gather(*pending):
            record["latencies_ms"].append(latency_ms)
            record["errors"] += failed
        record["elapsed_s"] = time.perf_counter() - start

    async def chat_op():
        rate, record = RATES["chat"], figures["chat"]
        start = time.perf_counter()
        run_id = uuid.uuid4().hex[:8]
        for k in range(int(rate * seconds)):
            at = start + k / rate
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            conversation, sender, _ = chat_pairs[k % len(chat_pairs)]
            client_id = f"soak-{run_id}-{k}"
            due[client_id] = at
            frame = {"type": "message.send", "conversation_id": conversation,
                     "client_id": client_id, "content": f"soak {k}"}  # fmt: skip
            await by_person[sender].send(json.dumps(frame))
            record["sent"] += 1
        deadline = time.perf_counter() + DELIVERY_TIMEOUT_S
        while due and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        record["elapsed_s"] = time.perf_counter() - start
        # delivered means delivered within DELIVERY_TIMEOUT_S of being due, each message
        on_time = sum(1 for ms in record["latencies_ms"] if ms <= DELIVERY_TIMEOUT_S * 1000)
        record["errors"] = record["sent"] - on_time

    await asyncio.gather(*(http_op(name, requests) for name, requests in ops.items()), chat_op())
    open_at_end = sum(1 for ws in sockets if ws.state.name == "OPEN")
    for task in readers:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    pool.shutdown()
    return {
        "ops": figures,
        "sockets": open_at_end,
        "socket_errors": socket_errors + (len(sockets) - open_at_end),
    }
