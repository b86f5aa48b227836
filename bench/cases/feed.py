"""The home feed at 10,000 people / 200,000 posts / ~150 follows each: the feed API, the
HTML home page and the shell's badge counts (which every page asks for once loaded), each
at a steady rate from the separate load process, against uvicorn with several workers on
PostgreSQL and Redis; SQL queries per page; and the measurements that
chose the feed's design (posts/selectors/feed.py, post_list_for_feed).

The dataset is `seed_demo --users 10000` + `seed_posts --posts 200000`, made on the first
run (a few minutes, printed) and kept in circles_bench. Requests are spread over SAMPLE
people with non-empty feeds, cycled in a shuffled order: the API authenticates with a
Bearer token per person, the page with a session cookie per person, sent with the CSRF
cookie a browser holds from its first page (without it, every page would make a new CSRF
secret and set its cookie, as only a browser's first visit does).

The feed's server runs WORKERS uvicorn workers (another number with --workers), with the
settings as they are: PostgreSQL through psycopg's pool with server-side binding and
prepared statements, and one Redis pool per process (see circles/cache.py), as in
production. The feed's page query and the session's user lookup are compiled once per
process (circles/compiled.py), and the page's cards render with Jinja2 (circles/jinja.py).

Feed models, measured in this process on the same data (rows "model/…"); the feed runs
the fan-out model now (posts/inbox.py), with the pull model as its fallback:
- pull: the candidates of a page from PostgreSQL (one LATERAL query over the people
  followed), then the page query with Post.objects.visible_to;
- fan-out: the same page with its candidates read from the person's list in Redis
  (posts.inbox, warm), then the same page query — visibility is checked on read either
  way; the "candidates" row reads a plain sorted set this bench fills;
- fan-out write: putting one new post into 150 followers' sorted sets (one pipeline);
- per-person cache: a page served whole from Redis — only a hit when the same person
  asks again within the TTL (≤ 5 s for the freshness promise).

After the table, each load's CPU per answered request is printed: the servers',
PostgreSQL's, Redis's and the load process's, the machine's busy time, and what ran out
first (bench/resources.py). Rate × the machine's figure, against the cores, says whether a
load fits a machine of any speed; the latencies alone do not.

Run alone: `python -m bench feed [--rate R] [--duration D] [--workers W]`.
"""

import os
import random
import sys
import time
import uuid

from bench import growth
from bench.harness import Bench, Result, Server, get
from bench.resources import tree

DESCRIPTION = "feed API, home page and badges at 100 rps for 30 s, 10k people / 200k posts"

USERS = 10_000
POSTS = 200_000
SAMPLE = 1_000
RATE = 100.0
DURATION_S = 30.0
WARMUP_S = 5.0  # unmeasured seconds of each load first: fresh workers' cold start
WORKERS = 4
MODEL_SAMPLE = 300
FANOUT_LIST = 500  # entries a fan-out list would keep per person
FANOUT_PREFIX = "bench:fanout:"
BADGES = "/accounts/badges/?except=activity"  # the request each page makes once loaded


def run(bench: Bench) -> list[Result]:
    from django.utils.crypto import get_random_string

    _ensure_dataset()
    people = _sample_people()
    results = _model_rows(people[:MODEL_SAMPLE])
    _print_queries_per_page(people[0])
    _warm(people)
    tokens, sessions = _tokens(people), _sessions(people)
    cpu_lines: list[str] = []
    order = list(range(len(people)))
    random.Random(5).shuffle(order)
    api = [get("/api/v1/feed", Authorization=f"Bearer {tokens[i]}") for i in order]
    cookies = [f"sessionid={key}; csrftoken={get_random_string(32)}" for key in sessions]
    pages = [get("/", Cookie=cookies[i]) for i in order]
    # what every page asks right after it loads (the shell's badge counts)
    badges = [get(BADGES, Cookie=cookies[i]) for i in order]
    workers = bench.server.workers if bench.server.workers > 1 else WORKERS
    try:
        with Server(bench.server.env, workers=workers) as server:
            own = Bench(server, rate=bench.rate, duration_s=bench.duration_s)
            loads = [
                ("feed/api GET /api/v1/feed", api),
                ("feed/page GET /", pages),
                (f"feed/badges GET {BADGES}", badges),
            ]
            for name, requests in loads:
                result, cpu = _metered(own, server, name, requests)
                results.append(result)
                cpu_lines.append(cpu)
    finally:
        _forget(people, sessions)
    print(f"feed: uvicorn with {workers} workers, {len(people)} people")
    print("feed: CPU ms a request: server / PostgreSQL / Redis / load; the machine's busy")
    print("  time (a --busy spinner's included), and what ran out first:")
    print("\n".join(f"  {line}" for line in cpu_lines))
    return results


def _metered(own: Bench, server: Server, name: str, requests) -> tuple[Result, str]:
    """One load, with the CPU each group of processes spent on it (bench/resources.py):
    what a request costs the machine, which says how many requests a second it can take
    on a machine of any speed, and what ran out first."""
    from django.conf import settings

    database_url = server.env["DATABASE_URL"]
    load = growth.born_from_now(os.getpid())
    with growth.meter(lambda: tree(server.process.pid), database_url, settings.REDIS_URL,
                      load) as cpu:  # fmt: skip
        result = own.load(name, requests, rate=RATE, duration_s=DURATION_S, warmup_s=WARMUP_S)
    usage = cpu.usage(result.started_at, result.started_at + result.elapsed_s)
    return result, cpu_line(name, usage, len(result.latencies_ms))


def cpu_line(name: str, usage, answered: int) -> str:
    """ "name: server / PG / Redis / load ms a request; machine ms; first to run out"."""
    if not answered or usage.wall_s <= 0:
        return f"{name}: nothing measured"
    figures = growth.usage_figures(usage, per=answered)
    machine = (
        f"{usage.machine_s * 1000 / answered:.2f} ms" if usage.machine_s is not None else "unknown"
    )
    return (
        f"{name}: {growth.groups_cell(figures['ms_per'])}; machine {machine};"
        f" first to run out: {figures['first']}"
    )


# --- the world --------------------------------------------------------------------------


def _ensure_dataset() -> None:
    from django.core.management import call_command

    from accounts.models import User
    from posts.models import Post

    if User.objects.filter(username__startswith="demo").count() < USERS:
        started = time.monotonic()
        call_command("seed_demo", users=USERS, stdout=sys.stderr)
        print(
            f"feed: seed_demo --users {USERS}: {time.monotonic() - started:.0f} s", file=sys.stderr
        )
    if Post.objects.count() < POSTS:
        started = time.monotonic()
        call_command("seed_posts", posts=POSTS, stdout=sys.stderr)
        print(
            f"feed: seed_posts --posts {POSTS}: {time.monotonic() - started:.0f} s", file=sys.stderr
        )


def _sample_people() -> list:
    """SAMPLE bulk demo people (a fixed sample), all following someone."""
    from accounts.models import User

    ids = list(
        User.objects.filter(
            username__startswith="demo", is_active=True, follows_given__isnull=False
        )
        .distinct()
        .order_by("username")
        .values_list("pk", flat=True)
    )
    chosen = random.Random(42).sample(ids, min(SAMPLE, len(ids)))
    return list(User.objects.filter(pk__in=chosen).order_by("username"))


def _tokens(people) -> list[str]:
    """A Bearer token per person, as if each client had been polling for a while: a
    token's use is written (last_used_at) once a minute, so spread those over the last
    minute instead of making every person's first request pay for one."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import ApiToken
    from accounts.services import api_token_create

    rng, now, raws = random.Random(9), timezone.now(), []
    for person in people:
        token, raw = api_token_create(user=person, name="bench")
        used = now - timedelta(seconds=rng.uniform(0, 60))
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=used)
        raws.append(raw)
    return raws


def _sessions(people) -> list[str]:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.cached_db import SessionStore

    keys = []
    for person in people:
        session = SessionStore()
        session[SESSION_KEY] = str(person.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = person.get_session_auth_hash()
        session.create()
        keys.append(session.session_key)
    return keys


def _forget(people, sessions) -> None:
    """Remove this run's tokens and sessions, so reruns don't pile them up."""
    from django.contrib.sessions.backends.cached_db import SessionStore

    from accounts.models import ApiToken

    ApiToken.objects.filter(user__in=people, name="bench").delete()
    for key in sessions:
        SessionStore(session_key=key).delete()


def _warm(people) -> None:
    """Fill the per-post caches as a running site has them (every post is read by its
    author's ~150 followers): the first page of each sampled person, once, in process."""
    from posts import cards, selectors, views

    started = time.monotonic()
    for person in people:
        page = selectors.post_list_for_feed(viewer=person, details=False)
        cards.post_cards(page.items)
        short = selectors.post_list_for_feed(viewer=person, details=False, limit=views.FEED_PAGE)
        cards.post_attach_fragments(short.items)
    print(f"feed: warmed the card caches in {time.monotonic() - started:.0f} s", file=sys.stderr)


# --- SQL per page -----------------------------------------------------------------------


def _print_queries_per_page(person) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.services import api_token_create

    token = api_token_create(user=person, name="bench")[1]  # removed by _forget
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")
    page = Client(HTTP_HOST="127.0.0.1")
    page.force_login(person)
    api.get("/api/v1/feed")  # first use of the token, cold cards
    page.get("/")
    lines = []
    for name, client, path in (
        ("feed API, limit 20", api, "/api/v1/feed"),
        ("feed API, limit 50", api, "/api/v1/feed?limit=50"),
        ("home page", page, "/"),
    ):
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        lines.append(f"{name}: {len(queries)}")
    page.logout()
    print("feed: SQL queries per page (warm cards): " + "; ".join(lines))


# --- the feed models ------------------------------------------------------------------------


def _timed(name: str, function, items) -> Result:
    latencies = []
    started = time.perf_counter()
    for item in items:
        begin = time.perf_counter()
        function(item)
        latencies.append((time.perf_counter() - begin) * 1000)
    elapsed = time.perf_counter() - started
    return Result(name, 0.0, len(items), 0, latencies, elapsed)


def _without_lists(function, **kwargs):
    """Call function with posts.inbox's lists turned off (the pull model alone)."""
    from posts import inbox

    candidates, inbox.candidates = inbox.candidates, lambda **_: None
    try:
        return function(**kwargs)
    finally:
        inbox.candidates = candidates


def _model_rows(people) -> list[Result]:
    import redis
    from django.conf import settings

    from posts import selectors
    from posts.selectors.feed import _feed_candidates

    rows = [
        _timed(
            "model/pull: candidates (PostgreSQL LATERAL)",
            lambda p: _feed_candidates(viewer=p, before=None, count=31),
            people,
        ),
        _timed(
            "model/pull: whole page (candidates + page query)",
            lambda p: _without_lists(selectors.post_list_for_feed, viewer=p, details=False),
            people,
        ),
    ]
    if not settings.REDIS_URL:
        return rows
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        for person in people:  # what fan-out-on-write would have built
            entries = _feed_candidates(viewer=person, before=None, count=FANOUT_LIST)
            key = f"{FANOUT_PREFIX}{person.pk}"
            client.delete(key)
            if entries:
                client.zadd(key, {str(pk): at.timestamp() for at, pk in entries})

        def fanout_page(person):  # what the feed does: posts.inbox's lists (warm here)
            return selectors.post_list_for_feed(viewer=person, details=False)

        for person in people:  # build their lists, as a first read does
            fanout_page(person)

        rows.append(
            _timed(
                "model/fan-out: candidates (Redis sorted set)",
                lambda p: client.zrevrange(f"{FANOUT_PREFIX}{p.pk}", 0, 30),
                people,
            )
        )
        rows.append(
            _timed("model/fan-out: whole page (posts.inbox + page query)", fanout_page, people)
        )
        followers = [f"{FANOUT_PREFIX}{p.pk}" for p in people[:150]]

        def fanout_write(index):
            pipe = client.pipeline(transaction=False)
            member = str(uuid.uuid4())
            for key in followers:
                pipe.zadd(key, {member: time.time()})
                pipe.zremrangebyrank(key, 0, -FANOUT_LIST - 1)
            pipe.execute()

        rows.append(_timed("model/fan-out: write one post to 150 lists", fanout_write, range(100)))
        memory = client.memory_usage(f"{FANOUT_PREFIX}{people[0].pk}") or 0
        print(
            f"feed: a fan-out list of {FANOUT_LIST} posts takes {memory / 1024:.0f} KiB of Redis "
            f"(x {USERS} people = {memory * USERS / 2**20:.0f} MiB)"
        )
        cached = b"x" * 42_000  # a 20-post feed answer is ~42 kB of JSON
        client.set(f"{FANOUT_PREFIX}page", cached)
        rows.append(
            _timed(
                "model/per-person cache: a hit (GET 42 kB)",
                lambda p: client.get(f"{FANOUT_PREFIX}page"),
                people,
            )
        )
        gap = SAMPLE / RATE
        print(
            f"feed: at {RATE:.0f} rps over {SAMPLE} people a person asks again every ~{gap:.0f} s "
            "on average: a per-person cache with a TTL of 5 s would almost never hit"
        )
    finally:
        keys = list(client.scan_iter(f"{FANOUT_PREFIX}*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    return rows
