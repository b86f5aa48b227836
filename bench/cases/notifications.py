"""Notifications at scale: a person with 10,000 notifications reads their list, and likes
by other people on their posts reach their open socket as `notification.new`.

The world (made on every run, in seconds: bulk inserts, not the service one by one):
OWNER with POSTS public posts and 10,000 notification groups about them (likes and
comments, 1–3 actors each out of LIKERS people, newest UNREAD unread, the rest read),
and LIKERS people, each with an API token. Everything of a previous run (likes,
notifications, tokens) is removed first, so every like of the run is new (no one-hour
dedup) and the list is the same 10,000 groups each time.

Rows:
- `notifications/list`: GET /api/v1/notifications (the first page, 20) by OWNER at LIST_RATE
  requests/s from the separate load process (the harness' open-loop generator);
- `notifications/like -> notification.new`: POST /api/v1/posts/{id}/like at LIKE_RATE/s,
  each by a different (liker, post) pair, one person's posts (so likes on a post join its
  open group); latency from the moment the like was due to be sent to the moment its
  `notification.new` (the frame whose actor and target are that like's) arrived on
  OWNER's socket (as the chat case measures frames: open loop, asyncio + websockets in a
  separate process); a frame not arrived within DELIVERY_TIMEOUT_S counts as an error;
- `notifications/like POST`: the same likes' HTTP answers.

The server runs WORKERS uvicorn workers (the socket and a like are often in different
processes: the push crosses Redis), settings as they are.

Run alone: `python -m bench notifications [--rate R] [--duration D] [--workers W]`
(--rate sets both loads' rate).
"""

import asyncio
import json
import multiprocessing
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from bench.harness import MAX_DURATION_S, Bench, Result, Server, checkpoint, get

DESCRIPTION = "notification list of 10,000 at 100 rps; a like at 50/s to notification.new"

OWNER = "notifbench_owner"
LIKER_PREFIX = "notifbench_"
LIKERS = 600
POSTS = 200
NOTIFICATIONS = 10_000
UNREAD = 50
LIST_RATE = 100.0
LIKE_RATE = 50.0
DURATION_S = 20.0
WORKERS = 2
LIKE_THREADS = 16
DELIVERY_TIMEOUT_S = 5.0
SETTLE_S = 5.0
WARMUP_S = 5.0  # unmeasured seconds of the list's load first (a fresh server's cold start)


def run(bench: Bench) -> list[Result]:
    from django.conf import settings

    if not settings.REDIS_URL:
        print("notifications: needs REDIS_URL (the push crosses processes)", file=sys.stderr)
        return []
    owner, likers, posts = _seed()
    _print_costs(owner, likers[0], posts[0])
    tokens = _tokens(likers)
    owner_token = _tokens([owner])[0]
    cookie = _session_cookie(owner)
    duration = min(bench.duration_s or DURATION_S, MAX_DURATION_S)
    like_rate = bench.rate or LIKE_RATE
    total = int(like_rate * duration)
    # pair k: liker k % LIKERS on post (k // LIKERS) % POSTS: every pair once, likes
    # spread over the posts so some start a group and most join one
    plan = [
        (str(likers[k % len(likers)].pk), tokens[k % len(likers)], str(posts[(k // 7) % POSTS]))
        for k in range(total)
    ]
    if len({(who, post) for who, _, post in plan}) != len(plan):
        raise RuntimeError("notifications: a (liker, post) pair twice; raise LIKERS or POSTS")
    workers = bench.server.workers if bench.server.workers > 1 else WORKERS
    results = []
    try:
        with Server(bench.server.env, workers=workers) as server:
            own = Bench(server, rate=bench.rate, duration_s=bench.duration_s)
            listing = [get("/api/v1/notifications", Authorization=f"Bearer {owner_token}")]
            results.append(
                own.load(
                    "notifications/list GET /api/v1/notifications (10,000)",
                    listing,
                    rate=LIST_RATE,
                    duration_s=DURATION_S,
                    warmup_s=WARMUP_S,
                )
            )
            time.sleep(SETTLE_S)  # the list's backlog, if any, drains before the likes
            args = (server.port, cookie, str(owner.pk), plan, like_rate)
            with multiprocessing.get_context("spawn").Pool(1) as pool:
                try:
                    report = pool.apply_async(_generate, args).get(
                        timeout=90 + duration + DELIVERY_TIMEOUT_S
                    )
                except multiprocessing.TimeoutError:
                    # a saturated server: every like counts as failed, and the list's
                    # row above is still reported
                    sent = len(plan) - 8
                    report = dict(sent=sent, delivered_ms=[], answered_ms=[], elapsed_s=0.0)
                    report.update(http_errors=sent, other_frames=0)
                    print("notifications: the likes did not finish in time", file=sys.stderr)
    finally:
        _forget([owner, *likers])
    sent, delivered, answered = report["sent"], report["delivered_ms"], report["answered_ms"]
    label = f"{like_rate:g}/s, {LIKERS} likers, one person's {POSTS} posts"
    results += [
        Result(
            f"notifications/like -> notification.new on the socket ({label})",
            like_rate,
            sent,
            sent - len(delivered),
            delivered,
            report["elapsed_s"],
        ),
        Result(
            "notifications/like POST /api/v1/posts/{id}/like",
            like_rate,
            sent,
            report["http_errors"] + sent - len(answered),
            answered,
            report["elapsed_s"],
        ),
    ]
    print(
        f"notifications: uvicorn with {workers} workers; likes: {len(delivered)}/{sent} "
        f"delivered, {report['http_errors']} HTTP errors, {report['other_frames']} other frames"
    )
    return results


# --- in the bench process: the world ---------------------------------------------------


def _seed():
    """OWNER, LIKERS people, POSTS posts of OWNER's, and NOTIFICATIONS groups for OWNER
    (bulk inserts). Returns (owner, likers, post ids)."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import User
    from notifications.models import Notification, NotificationActor
    from posts.models import Like, Post, PostStatus

    started = time.monotonic()
    names = [OWNER] + [f"{LIKER_PREFIX}{n:04d}" for n in range(LIKERS)]
    unusable = make_password(None)
    User.objects.bulk_create(
        [User(username=name, email=f"{name}@bench.invalid", password=unusable) for name in names],
        ignore_conflicts=True,
        batch_size=1000,
    )
    by_name = {user.username: user for user in User.objects.filter(username__in=names)}
    owner = by_name[OWNER]
    likers = [by_name[name] for name in names[1:]]
    have = Post.objects.filter(author=owner).count()
    if have < POSTS:
        Post.objects.bulk_create(
            [
                Post(author=owner, status=PostStatus.PUBLISHED, visibility="public", caption="b")
                for _ in range(POSTS - have)
            ]
        )
    posts = list(Post.objects.filter(author=owner).order_by("pk").values_list("pk", flat=True))
    rng = random.Random(15)
    now = timezone.now()
    with transaction.atomic():
        Like.objects.filter(post__author=owner).delete()
        Post.objects.filter(author=owner).update(like_count=0)
        Notification.objects.filter(recipient=owner).delete()
        groups, members = [], []
        for n in range(NOTIFICATIONS):
            at = now - timedelta(minutes=2 * (NOTIFICATIONS - n))  # ~2 weeks, oldest first
            post = posts[n % len(posts)]
            kind = "post_like" if n % 3 else "post_comment"
            who = rng.sample(likers, rng.randint(1, 3))
            group = Notification(
                recipient=owner,
                kind=kind,
                target_type="post",
                target_id=post,
                group_key=f"{kind}:post:{post}:{n}",  # closed (read) groups, each its own
                actor=who[-1],
                actor_count=len(who),
                created_at=at,
                updated_at=at,
                read_at=None if n >= NOTIFICATIONS - UNREAD else at + timedelta(minutes=1),
            )
            groups.append(group)
            members += [
                NotificationActor(
                    notification=group,
                    actor=person,
                    target_id=post,
                    created_at=at - timedelta(seconds=len(who) - i),
                )
                for i, person in enumerate(who)
            ]
        # the unread ones' keys are the live ones (one open group per key)
        for group in groups[-UNREAD:]:
            group.group_key = f"{group.kind}:post:{group.target_id}:seeded"
        Notification.objects.bulk_create(groups, batch_size=2000)
        NotificationActor.objects.bulk_create(members, batch_size=5000)
    # The run rewrote these tables at once, where a running site's writes (and autovacuum)
    # spread over the day: vacuumed and checkpointed before the load, so the load does not
    # measure the bulk write's aftermath (a checkpoint flushing it mid-load put the tray's
    # p50 at 0.1–0.7 s and p95 at 1.5 s; ~25 and ~0.3 s after, on the same loaded VM)
    with connection.cursor() as cursor:
        for model in (Notification, NotificationActor, Post):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        checkpoint(cursor)
    print(
        f"notifications: {len(groups)} notifications ({len(members)} actor rows) for "
        f"{OWNER}, {len(likers)} likers, {len(posts)} posts in {time.monotonic() - started:.1f} s",
        file=sys.stderr,
    )
    return owner, likers, posts


def _tokens(people) -> list[str]:
    from bench.cases.feed import _tokens as tokens

    return tokens(people)


def _session_cookie(person) -> str:
    from bench.cases.chat import _session_cookies

    return _session_cookies([str(person.pk)])[0]


def _forget(people) -> None:
    from accounts.models import ApiToken

    ApiToken.objects.filter(user__in=people, name="bench").delete()


def _print_costs(owner, liker, post_id) -> None:
    """SQL statements of a list request and of a like (with its notification and push),
    in this process."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.services import api_token_create
    from notifications.models import Notification
    from posts import services as posts
    from posts.models import Like, Post

    token = api_token_create(user=owner, name="bench")[1]  # removed by _forget
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")
    client.get("/api/v1/notifications")
    with CaptureQueriesContext(connection) as listing:
        client.get("/api/v1/notifications")
    post = Post.objects.get(pk=post_id)
    before = timezone.now()
    with CaptureQueriesContext(connection) as liking:
        posts.post_like(user=liker, post=post)  # autocommit: its after-commit work runs
    Like.objects.filter(user=liker, post=post).delete()
    Post.objects.filter(pk=post_id).update(like_count=0)
    Notification.objects.filter(recipient=owner, created_at__gte=before).delete()
    writes = [q for q in liking.captured_queries if 'INTO "notifications_' in q["sql"]]
    print(
        f"notifications: SQL per list request {len(listing)}; per like {len(liking)} (the "
        f"request's, the like's and its notification's), {len(writes)} writing notifications"
    )


# --- in the load process ----------------------------------------------------------------


def _generate(port, cookie, owner_id, plan, rate):
    return asyncio.run(_load(port, cookie, owner_id, plan, rate))


async def _load(port, cookie, owner_id, plan, rate):
    import http.client

    import websockets

    due: dict[tuple[str, str], float] = {}  # (liker id, post id) -> when it was due
    report = {"delivered_ms": [], "answered_ms": [], "http_errors": 0, "other_frames": 0}
    last = [0.0]
    lock = threading.Lock()
    local = threading.local()

    ws = await websockets.connect(
        f"ws://127.0.0.1:{port}/ws/",
        origin=f"http://127.0.0.1:{port}",
        additional_headers={"Cookie": cookie},
        open_timeout=30,
        ping_interval=None,
        max_queue=None,
    )
    await ws.send('{"type": "ping"}')
    while json.loads(await asyncio.wait_for(ws.recv(), 30)).get("type") != "pong":
        pass  # past connect: its groups are joined

    async def reader():
        async for raw in ws:
            now = time.perf_counter()
            frame = json.loads(raw)
            if frame.get("type") != "notification.new":
                report["other_frames"] += 1
                continue
            item = frame["notification"]
            sent_at = due.get((item["actor"]["id"], item["target"]["id"]))
            if sent_at is not None:
                report["delivered_ms"].append((now - sent_at) * 1000)
                last[0] = max(last[0], now)

    def like(liker_token, post_id, at):
        conn = getattr(local, "conn", None)
        failed = True
        try:
            conn = local.conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request(
                "POST", f"/api/v1/posts/{post_id}/like", headers={"Authorization": liker_token}
            )
            response = conn.getresponse()
            response.read()
            failed = response.status >= 400
        except (OSError, http.client.HTTPException):
            if conn is not None:
                conn.close()
            local.conn = None
        done = time.perf_counter()
        with lock:
            report["answered_ms"].append((done - at) * 1000)
            report["http_errors"] += failed

    reading = asyncio.create_task(reader())
    loop = asyncio.get_running_loop()
    pool = ThreadPoolExecutor(LIKE_THREADS)
    # warm-up, not measured: the first requests of each thread pay for connections
    warm = [loop.run_in_executor(pool, like, f"Bearer {t}", p, 0.0) for _, t, p in plan[-8:]]
    await asyncio.gather(*warm)
    await asyncio.sleep(1.0)
    report.update(delivered_ms=[], answered_ms=[], http_errors=0)
    measured = plan[:-8]
    start = time.perf_counter()
    pending = []
    for k, (liker_id, token, post_id) in enumerate(measured):
        at = start + k / rate
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        due[(liker_id, post_id)] = at
        pending.append(loop.run_in_executor(pool, like, f"Bearer {token}", post_id, at))
    await asyncio.gather(*pending)
    deadline = time.perf_counter() + DELIVERY_TIMEOUT_S
    while len(report["delivered_ms"]) < len(measured) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    reading.cancel()
    pool.shutdown(wait=False)
    await ws.close()
    return {
        "sent": len(measured),
        "delivered_ms": list(report["delivered_ms"]),
        "answered_ms": list(report["answered_ms"]),
        "http_errors": report["http_errors"],
        "other_frames": report["other_frames"],
        "elapsed_s": max(last[0] - start, 0.0),
    }
