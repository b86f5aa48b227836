"""Growth of the feed API (`GET /api/v1/feed`): the same load (RATE requests a second for
DURATION_S, over up to 1,000 sampled people, each a Bearer token) at 1,000, 10,000 and
100,000 people following 150 others each, each size in a database of its own
(circles_growth_1k, …_10k, …_100k; seeded in bulk on first use and kept: see
bench/growth.py). Prints a table: the database's size, the fan-out lists' size
(posts/inbox.py) per person and for everyone, latency, CPU per request of each group of
processes, and which runs out first.

GROWTH_FEED_SIZES=1000,10000 picks sizes; POSTS_PER_PERSON sets the posts (20 a person as
the feed case, fewer at 100,000 people: see FEWER_POSTS_FROM).
`--rate` and `--duration` replace RATE and DURATION_S.
"""

import os
import sys

from bench import growth
from bench.harness import MAX_DURATION_S, Bench, Result

DESCRIPTION = "feed API at 1k / 10k / 100k people, CPU per request and what runs out first"
EXPLICIT = 1  # minutes long, and seeds up to 100,000 people: only when named

SIZES = (1_000, 10_000, 100_000)
POSTS_PER_PERSON = 20
FEWER_POSTS_FROM = 100_000  # from this size on, POSTS_AT_MOST posts in all
POSTS_AT_MOST = 200_000  # 100,000 people × 20 would be 2 million posts: too long to seed here
RATE = 100.0
DURATION_S = 15.0
WORKERS = 4


def posts_for(users: int) -> int:
    posts = users * POSTS_PER_PERSON
    return min(posts, POSTS_AT_MOST) if users >= FEWER_POSTS_FROM else posts


def run(bench: Bench) -> list[Result]:
    sizes = [int(s) for s in os.environ.get("GROWTH_FEED_SIZES", "").split(",") if s] or SIZES
    rate = bench.rate or RATE
    duration = min(bench.duration_s or DURATION_S, MAX_DURATION_S)
    workers = bench.server.workers if bench.server.workers > 1 else WORKERS
    rows, results = [], []
    for users in sizes:
        print(f"growth_feed: {users:,} people ...", file=sys.stderr, flush=True)
        row = growth.run_feed_step(users, posts_for(users), rate, duration, workers,
                                   bench.server.env)  # fmt: skip
        rows.append(row)
        results.append(
            Result(
                f"growth/feed API, {users:,} people",
                rate,
                row["requests"],
                row["errors"],
                row["latencies_ms"],
                row["elapsed_s"],
            )  # fmt: skip
        )
        if row["seeding"]:
            took = ", ".join(f"{k[:-2]} {v:.0f} s" for k, v in row["seeding"].items())
            print(f"growth_feed: seeded {users:,} people: {took}")
    header, cells = growth.feed_table(rows)
    growth.show_table(
        f"growth: feed API at {rate:g} rps for {duration:g} s, {workers} uvicorn workers",
        "growth-feed",
        header,
        cells,
    )
    return results
