"""Growth of chat: the same load (RATE direct messages a second for DURATION_S, from up to
SENDERS senders, each timed to its `message.new` on the recipient's socket) with 100,
1,000 and 5,000 sockets open on two uvicorn processes (bench/cases/chat.py's people, pairs
and load, without its floor). Prints, per step: how long connecting took, the servers'
resident memory with every socket open, latency, the cores each group of processes used
during the load, and which runs out first.

5,000 sockets need ~10,000 file descriptors on this machine (each socket is one in the
load process and one in a server): the case raises this process's soft limit on open
files to its hard limit (resource.setrlimit), which the servers and the load process
inherit. GROWTH_CHAT_SOCKETS=100,1000 picks steps; `--rate`, `--duration` as for chat.
"""

import multiprocessing
import os
import resource
import sys

from bench import growth
from bench.cases import chat
from bench.harness import MAX_DURATION_S, WORK_DIR, Bench, Result, Server
from bench.resources import rss_mb, tree

DESCRIPTION = "chat at 100 / 1,000 / 5,000 open sockets, cores used and what runs out first"
EXPLICIT = 1

STEPS = (100, 1_000, 5_000)
RATE = 100.0
SENDERS = 100
DURATION_S = 8.0


def raise_open_files() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        wanted = 65536 if hard == resource.RLIM_INFINITY else hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        soft = wanted
    return soft


def run(bench: Bench) -> list[Result]:
    from django.conf import settings

    if not settings.REDIS_URL:
        print("growth_chat: needs REDIS_URL", file=sys.stderr)
        return []
    steps = [int(s) for s in os.environ.get("GROWTH_CHAT_SOCKETS", "").split(",") if s] or STEPS
    rate = bench.rate or RATE
    duration = min(bench.duration_s or DURATION_S, MAX_DURATION_S)
    limit = raise_open_files()
    print(f"growth_chat: open files limit {limit}", file=sys.stderr)
    pairs = chat._seed(max(steps))
    people = [person for _, sender, recipient in pairs for person in (sender, recipient)]
    cookies = dict(zip(people, chat._session_cookies(people), strict=True))
    env, database_url = bench.server.env, bench.server.env["DATABASE_URL"]
    rows, results = [], []
    for sockets in steps:
        print(f"growth_chat: {sockets:,} sockets ...", file=sys.stderr, flush=True)
        used = pairs[: sockets // 2]
        senders = min(SENDERS, len(used))
        first, second = Server(env), Server(env)
        first.log_path = WORK_DIR / "server-growth-chat-1.log"
        second.log_path = WORK_DIR / "server-growth-chat-2.log"
        with first, second:
            roots = (first.process.pid, second.process.pid)

            def servers(roots=roots) -> list[int]:
                return [pid for root in roots for pid in tree(root)]

            load = growth.born_from_now(os.getpid())
            args = ((first.port, second.port), used, ("", []), cookies, [("direct", rate)],
                    duration, senders)  # fmt: skip
            at_rest = sum(rss_mb(pid) for pid in servers())
            machine = growth.conditions()
            with (
                growth.meter(servers, database_url, settings.REDIS_URL, load) as cpu,
                multiprocessing.get_context("spawn").Pool(1) as pool,
            ):
                connected, connect_s, reports = pool.apply_async(chat._generate, args).get(
                    timeout=600 + duration
                )
            machine["load_after"] = os.getloadavg()[0]
        report = reports[0]
        usage = cpu.usage(*report["window"])
        delivered = report["delivered_ms"]
        result = Result(f"growth/chat, {connected:,} sockets ({rate:g} msg/s)", rate,
                        report["expected"], report["expected"] - len(delivered), delivered,
                        report["elapsed_s"])  # fmt: skip
        results.append(result)
        rows.append(
            {
                "sockets": connected,
                **machine,
                "senders": senders,
                "connect_s": connect_s,
                "rss_rest_mb": at_rest,
                "rss_peak_mb": cpu.peak_rss_mb.get("server", 0.0),
                "rps": result.rps,
                "delivered": len(delivered),
                "expected": report["expected"],
                **{f"p{q}": result.percentile_ms(q) for q in (50, 95, 99)},
                **growth.usage_figures(usage),
            }
        )
    header = ["sockets", "connect s", "servers' RSS MB (rest → peak)", "delivered",
              "msg/s", "p50 / p95 / p99 ms", "cores: servers / PG / Redis / load",
              "first to run out", "probe ms; load"]  # fmt: skip
    cells = [
        [
            f"{row['sockets']:,}",
            f"{row['connect_s']:.1f}",
            f"{row['rss_rest_mb']:.0f} → {row['rss_peak_mb']:.0f}",
            f"{row['delivered']}/{row['expected']}",
            *growth.latency_cells(row),
            growth.groups_cell(row["cores"]),
            row["first"],
            growth.conditions_cell(row),
        ]
        for row in rows
    ]
    growth.show_table(
        f"growth: chat at {rate:g} msg/s for {duration:g} s, 2 uvicorn processes",
        "growth-chat",
        header,
        cells,
    )
    return results
