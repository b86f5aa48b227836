"""`python -m bench [CASE ...]`: run benchmark cases against a live server and print a table.

DATABASE_URL names the PostgreSQL server to use (a circles_bench database is created on it;
the database named in the URL is never touched); REDIS_URL is used as given.
"""

import argparse
import importlib
import os
import pkgutil
import sys
import traceback

from bench import cases
from bench.harness import (
    Bench,
    Busy,
    Result,
    Server,
    bench_environment,
    machine_info,
    prepare_database,
    speed_probe_ms,
)


def discover_cases() -> dict:
    """Every module in bench/cases/ that defines run(), by module name."""
    found = {}
    for module_info in pkgutil.iter_modules(cases.__path__):
        module = importlib.import_module(f"{cases.__name__}.{module_info.name}")
        if callable(getattr(module, "run", None)):
            found[module_info.name] = module
    return found


def parse_args(available: dict) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("cases", nargs="*", metavar="CASE", help="cases to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--rate", type=float, help="requests per second, for every load")
    parser.add_argument("--duration", type=float, help="seconds, for every load")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--soak-seconds", type=float, help="how long the soak case runs (default 300)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run each load this many times (the chat case alternates each with its floor)",
    )
    parser.add_argument(
        "--busy",
        action="store_true",
        help="keep one core spinning in a separate process for the whole run",
    )
    parser.add_argument(
        "--fresh-db", action="store_true", help="drop and recreate the circles_bench database"
    )
    args = parser.parse_args()
    unknown = sorted(set(args.cases) - set(available))
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}; known: {', '.join(available)}")
    return args


def setup_django(env: dict[str, str]) -> str:
    """Point Django in this process at the bench database, migrate it, describe it."""
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "circles.settings")
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    version = ".".join(str(part) for part in connection.get_database_version())
    return f"{connection.display_name} {version} ({connection.settings_dict['NAME']})"


def floor_ratio(result: Result) -> str:
    """p50 and p99 as multiples of the floor's, measured next to it ("" without one)."""
    if result.floor is None:
        return ""
    ratios = [
        result.percentile_ms(q) / result.floor.percentile_ms(q)
        if result.floor.percentile_ms(q) > 0
        else float("nan")
        for q in (50, 99)
    ]
    return "{:.1f} / {:.1f}".format(*ratios)


def format_table(results: list[Result]) -> str:
    header = ["case", "requests", "errors", "rps", "p50 ms", "p95 ms", "p99 ms", "× floor"]
    rows = [
        [
            result.name,
            str(result.requests),
            str(result.errors),
            f"{result.rps:.1f}",
            *(f"{result.percentile_ms(q):.2f}" for q in (50, 95, 99)),
            floor_ratio(result),
        ]
        for result in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        # Case names left-aligned, figures right-aligned.
        first, *rest = (
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )
        return "  ".join([first, *rest])

    return "\n".join([line(header), line(["-" * width for width in widths]), *map(line, rows)])


def main() -> int:
    available = discover_cases()
    args = parse_args(available)
    if args.list:
        for name, module in available.items():
            print(f"{name:20} {getattr(module, 'DESCRIPTION', '')}")
        return 0

    database_url = prepare_database(os.environ.get("DATABASE_URL", ""), fresh=args.fresh_db)
    env = bench_environment(database_url)
    database = setup_django(env)

    results: list[Result] = []
    failed = []
    speed_before = speed_probe_ms()
    with Busy(args.busy), Server(env, workers=args.workers) as server:
        bench = Bench(
            server,
            rate=args.rate,
            duration_s=args.duration,
            soak_seconds=args.soak_seconds,
            repeat=args.repeat,
        )
        # cases marked EXPLICIT (minutes long) run only when named
        default = [name for name, module in available.items() if not getattr(module, "EXPLICIT", 0)]
        for name in args.cases or default:
            module = available[name]
            # a case that repeats itself (alternating with its floor) is run once
            for run in range(1 if getattr(module, "REPEATS_ITSELF", False) else args.repeat):
                print(f"running {name} ({run + 1}) ...", file=sys.stderr, flush=True)
                try:
                    results.extend(module.run(bench))
                except Exception:
                    traceback.print_exc()
                    failed.append(name)
                    break

    speed_after = speed_probe_ms()
    print()
    for key, value in machine_info(database).items():
        print(f"{key + ':':10} {value}")
    print(
        f"{'speed:':10} a 5M-addition Python loop took {speed_before:.0f} ms before the cases, "
        f"{speed_after:.0f} ms after (lower is faster)"
    )
    print(f"{'server:':10} uvicorn, {args.workers} worker(s); load from a separate process")
    busy = "one core spun by a separate process all along (--busy)" if args.busy else "no"
    print(f"{'busy:':10} {busy}; {args.repeat} run(s) of each load")
    print()
    print(format_table(results))
    if failed:
        print(f"\nfailed: {', '.join(failed)} (see above and {server.log_path})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
