"""Growth: how a hot path's cost grows with the work, step by step, and which resource
runs out first at each step (bench/resources.py). Used by the growth_* cases:

- growth_feed: the feed API at FEED_SIZES people (150 follows each), each size in a
  database of its own (circles_growth_1k, …_10k, …_100k on the bench's PostgreSQL server,
  seeded in bulk on first use and kept). Each step runs in a subprocess of its own
  (`python -m bench.growth feed N POSTS`), since Django's connection is set up for one
  database per process; it prints one JSON line the case reads back.
- growth_chat: chat at CHAT_SOCKETS open sockets (bench/cases/chat.py's load, direct
  messages only, no floor).
- growth_worker: the Celery worker's images a second with 1, 2 and 4 pool processes.

A step's table prints CPU as milliseconds a request (feed) or cores used (chat, worker)
for each group of processes, and the group nearest its limit.
"""

import json
import os
import subprocess
import sys
import time
from urllib.parse import urlsplit

from bench.resources import CpuMeter, Usage, first_to_run_out, postgres_backends, redis_cpu, tree

GROUPS = ("server", "postgres", "redis", "load")
SINGLE = frozenset({"redis"})  # one thread, whatever INFO says
JSON_MARK = "GROWTH-JSON "


def cores() -> int:
    return os.cpu_count() or 1


def database_name(database_url: str) -> str:
    return urlsplit(database_url).path.lstrip("/")


def connect_kwargs(database_url: str) -> dict:
    parts = urlsplit(database_url)
    found = {
        "host": parts.hostname,
        "port": parts.port,
        "user": parts.username,
        "password": parts.password,
    }
    return {key: value for key, value in found.items() if value}


def meter(server_pids, database_url: str, redis_url: str, load_pids) -> CpuMeter:
    """A CpuMeter over the four groups: `server_pids` and `load_pids` list pids now."""
    backends = postgres_backends(database_name(database_url), connect_kwargs(database_url))
    totals = {"redis": redis_cpu(redis_url)} if redis_url else {}
    return CpuMeter({"server": server_pids, "postgres": backends, "load": load_pids}, totals)


def born_from_now(parent: int):
    """A function listing parent's descendants born after this call: made once the
    servers are up, it sees the load process only (not the servers, nor a --busy
    spinner)."""
    existing = set(tree(parent))

    def pids() -> list[int]:
        return [pid for pid in tree(parent) if pid not in existing]

    return pids


def usage_figures(usage: Usage, per: int | None = None, names: dict | None = None) -> dict:
    """What a table row needs from a Usage: ms of CPU per item (per) or cores, by group;
    `names` renames groups in the verdict (e.g. the worker's "server" is the worker)."""
    names = names or {}
    verdict = first_to_run_out(
        Usage(
            usage.wall_s,
            *({names.get(g, g): v for g, v in d.items()}
              for d in (usage.seconds, usage.hottest, usage.processes)),
            usage.machine_s,
        ),
        cores(),
        SINGLE,
    )  # fmt: skip
    out = {"wall_s": usage.wall_s, "first": verdict.text(), "cores": {}, "ms_per": {}}
    for group in GROUPS:
        seconds = usage.seconds.get(group)
        if seconds is None:
            continue
        out["cores"][group] = usage.cores(group)
        if per:
            out["ms_per"][group] = seconds * 1000 / per
    return out


def short_size(size_bytes: float) -> str:
    """1,536 -> "2 KiB"; MiB and GiB with one decimal."""
    for unit in ("B", "KiB", "MiB"):
        if size_bytes < 1024:
            return f"{size_bytes:.0f} {unit}" if unit != "MiB" else f"{size_bytes:.1f} {unit}"
        size_bytes /= 1024
    return f"{size_bytes:.1f} GiB"


def conditions() -> dict:
    """The machine just before a step: the speed probe and the 1-minute load average."""
    from bench.harness import speed_probe_ms

    return {"probe_ms": speed_probe_ms(), "load_before": os.getloadavg()[0]}


def conditions_cell(row: dict) -> str:
    """ "probe ms; load before → after" for a table row."""
    return f"{row['probe_ms']:.0f}; {row['load_before']:.1f} → {row['load_after']:.1f}"


def groups_cell(figures: dict) -> str:
    """One figure per process group (GROUPS), "server / PG / Redis / load"."""
    return " / ".join(f"{figures.get(group, float('nan')):.2f}" for group in GROUPS)


def show_table(title: str, name: str, header: list[str], cells: list[list[str]]) -> None:
    """Print a step table and keep it as Markdown in var/bench/<name>.md."""
    from bench.harness import WORK_DIR
    from bench.resources import format_table, markdown_table

    print(f"\n{title}")
    print(format_table(header, cells))
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    (WORK_DIR / f"{name}.md").write_text(markdown_table(header, cells) + "\n")


def latency_cells(row: dict) -> list[str]:
    return [f"{row['rps']:.1f}", " / ".join(f"{row[q]:.1f}" for q in ("p50", "p95", "p99"))]


# --- feed: one step, in its own process ------------------------------------------------------


def feed_step(users: int, posts: int, rate: float, duration_s: float, workers: int) -> dict:
    """Seed (if needed) and measure one size; runs with BENCH_DB_NAME set by the case."""
    from bench import harness
    from bench.__main__ import setup_django

    database_url = harness.prepare_database(os.environ["DATABASE_URL"])
    env = harness.bench_environment(database_url)
    setup_django(env)
    from django.conf import settings
    from django.db import connection

    from bench.cases import feed

    seeding = _seed(users, posts)
    people = feed._sample_people()
    feed._warm(people)  # fills the card caches and builds the sampled people's lists
    tokens = feed._tokens(people)
    lists = _list_sizes(people)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        (db_bytes,) = cursor.fetchone()
        cursor.execute(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
            "WHERE relname IN ('accounts_follow', 'posts_post', 'posts_like')"
        )
        tables = dict(cursor.fetchall())
        cursor.execute("SELECT count(*) FROM accounts_follow")
        (follows,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM posts_post")
        (post_count,) = cursor.fetchone()
    api = [get_feed(token) for token in tokens]
    machine = conditions()
    try:
        with harness.Server(env, workers=workers) as server:
            server.log_path = harness.WORK_DIR / "server-growth-feed.log"
            load = born_from_now(os.getpid())
            with meter(lambda: tree(server.process.pid), database_url, settings.REDIS_URL,
                       load) as cpu:  # fmt: skip
                result = harness.run_load(
                    f"growth/feed API, {users:,} people", server.port, api, rate, duration_s
                )
            usage = cpu.usage(result.started_at, result.started_at + result.elapsed_s)
            machine["load_after"] = os.getloadavg()[0]
    finally:
        feed._forget(people, [])
    return {
        "users": users,
        **machine,
        "people_sampled": len(people),
        "follows": follows,
        "posts": post_count,
        "seeding": seeding,
        "db_bytes": db_bytes,
        "tables": tables,
        "lists": lists,
        "requests": result.requests,
        "errors": result.errors,
        "rps": result.rps,
        "rate": rate,
        "workers": workers,
        **{f"p{q}": result.percentile_ms(q) for q in (50, 95, 99)},
        "latencies_ms": result.latencies_ms,
        "elapsed_s": result.elapsed_s,
        **usage_figures(usage, per=len(result.latencies_ms) or 1),
    }


def get_feed(token: str):
    from bench.harness import get

    return get("/api/v1/feed", Authorization=f"Bearer {token}")


def _seed(users: int, posts: int) -> dict:
    """seed_demo --users and seed_posts --posts when the database has fewer; their times."""
    from django.core.management import call_command

    from accounts.models import User
    from posts.models import Post

    took = {}
    if User.objects.filter(username__startswith="demo").count() < users:
        started = time.monotonic()
        call_command("seed_demo", users=users, stdout=sys.stderr)
        took["seed_demo_s"] = time.monotonic() - started
    if Post.objects.count() < posts:
        started = time.monotonic()
        call_command("seed_posts", posts=posts, stdout=sys.stderr)
        took["seed_posts_s"] = time.monotonic() - started
    return took


def _list_sizes(people) -> dict:
    """The sampled people's fan-out lists (posts/inbox.py) in Redis: entries and bytes."""
    from posts import inbox

    client = inbox._client()
    if client is None:
        return {}
    entries, size, built = 0, 0, 0
    for person in people:
        keys = inbox._keys(person.pk)
        if not client.exists(keys[1]):
            continue
        built += 1
        entries += client.zcard(keys[0])
        size += sum(client.memory_usage(key) or 0 for key in keys)
    return {"built": built, "entries": entries, "bytes": size}


def feed_table(rows: list[dict]) -> tuple[list[str], list[list[str]]]:
    header = [
        "people",
        "follows",
        "posts",
        "database",
        "a list (entries, size)",
        "lists of all",
        "rps",
        "p50 / p95 / p99 ms",
        "CPU ms a request: server / PG / Redis / load",
        "first to run out",
        "probe ms; load",
    ]
    out = []
    for row in rows:
        lists = row.get("lists") or {}
        built = lists.get("built") or 0
        per_list = lists["bytes"] / built if built else 0
        ms = row["ms_per"]
        out.append(
            [
                f"{row['users']:,}",
                f"{row['follows']:,}",
                f"{row['posts']:,}",
                short_size(row["db_bytes"]),
                f"{lists['entries'] / built:.0f}, {short_size(per_list)}" if built else "-",
                short_size(per_list * row["users"]) if built else "-",
                *latency_cells(row),
                groups_cell(ms),
                row["first"],
                conditions_cell(row),
            ]
        )
    return header, out


def run_feed_step(users: int, posts: int, rate: float, duration_s: float, workers: int,
                  env: dict) -> dict:  # fmt: skip
    """One feed step in a subprocess on the database circles_growth_<size>."""
    name = f"circles_growth_{users // 1000}k" if users >= 1000 else f"circles_growth_{users}"
    command = [sys.executable, "-m", "bench.growth", "feed", str(users), str(posts), str(rate),
               str(duration_s), str(workers)]  # fmt: skip
    source = os.environ.get("DATABASE_URL", env["DATABASE_URL"])
    child_env = {**env, "BENCH_DB_NAME": name, "DATABASE_URL": source}
    done = subprocess.run(command, env=child_env, stdout=subprocess.PIPE, text=True, check=False,
                          timeout=3600)  # fmt: skip
    for line in done.stdout.splitlines():
        if line.startswith(JSON_MARK):
            return json.loads(line[len(JSON_MARK) :])
        print(line)
    raise RuntimeError(f"feed step {users} failed (exit {done.returncode})")


if __name__ == "__main__":
    kind, *values = sys.argv[1:]
    if kind != "feed":
        sys.exit(f"unknown step {kind}")
    users, posts = int(values[0]), int(values[1])
    figures = feed_step(users, posts, float(values[2]), float(values[3]), int(values[4]))
    print(JSON_MARK + json.dumps(figures), flush=True)
