"""The growth bench's own logic: CPU between two moments from samples, which resource runs
out first, and its tables (timings are the bench's business, not the suite's)."""

import os

from bench import growth
from bench.resources import (
    MACHINE,
    Sample,
    Usage,
    cpu_seconds,
    first_to_run_out,
    format_table,
    markdown_table,
    tree,
    usage_between,
)


def test_usage_counts_the_window_and_processes_born_in_it():
    samples = [
        Sample(0.0, {"server": {1: 10.0}, MACHINE: {0: 100.0}}),
        Sample(1.0, {"server": {1: 10.5}, MACHINE: {0: 101.0}}),
        Sample(2.0, {"server": {1: 11.0, 2: 0.4}, MACHINE: {0: 102.5}}),
        Sample(3.0, {"server": {2: 0.9}, MACHINE: {0: 104.0}}),  # 1 exited
        Sample(9.0, {"server": {2: 5.0}, MACHINE: {0: 110.0}}),  # after the window
    ]
    usage = usage_between(samples, 1.0, 3.0)
    assert usage.wall_s == 2.0
    # pid 1: 11.0 - 10.5 (its last sample); pid 2 born inside: 0.9 from zero
    assert usage.seconds == {"server": 0.5 + 0.9}
    assert usage.hottest == {"server": 0.9}
    assert usage.processes == {"server": 2}
    assert usage.machine_s == 3.0
    assert usage.cores("server") == 0.7


def test_a_single_process_hitting_its_core_runs_out_before_the_machine():
    usage = Usage(
        wall_s=10.0,
        seconds={"server": 9.5, "postgres": 2.0, "redis": 0.5, "load": 1.0},
        hottest={"server": 9.5, "postgres": 1.0, "redis": 0.5, "load": 1.0},
        processes={"server": 1, "postgres": 3, "redis": 1, "load": 1},
        machine_s=14.0,
    )
    verdict = first_to_run_out(usage, cores=2, single=frozenset({"redis"}))
    assert verdict.first.group == "server"
    assert verdict.text() == "server (95% of 1 core(s))"


def test_the_machine_runs_out_first_when_its_cores_are_busier_than_any_group():
    usage = Usage(
        wall_s=10.0,
        seconds={"server": 12.0, "postgres": 3.0, "redis": 0.5, "load": 1.5},
        hottest={"server": 3.5, "postgres": 1.0, "redis": 0.5, "load": 1.5},
        processes={"server": 4, "postgres": 6, "redis": 1, "load": 1},
        machine_s=19.0,  # 2 s of it by processes the bench did not start
    )
    verdict = first_to_run_out(usage, cores=2, single=frozenset({"redis"}))
    assert verdict.first.group == "the machine's 2 cores, most to server"
    assert verdict.first.share == 0.95
    assert "85% these processes, 10% others" in verdict.text()
    server = [limit for limit in verdict.limits if limit.group == "server"]
    assert [round(limit.share, 2) for limit in server] == [0.6, 0.35]


def test_redis_is_held_against_one_core():
    usage = Usage(10.0, {"redis": 8.0, "server": 2.0}, {"redis": 8.0, "server": 1.0},
                  {"redis": 1, "server": 2})  # fmt: skip
    verdict = first_to_run_out(usage, cores=2, single=frozenset({"redis"}))
    assert verdict.text() == "redis (80% of 1 core(s))"


def test_nothing_measured():
    assert first_to_run_out(Usage(0.0, {}, {}, {}), cores=2).first.group == "nothing measured"


def test_tables_align_and_render_as_markdown():
    header, rows = ["people", "p50 ms"], [["1,000", "5.1"], ["100,000", "12.25"]]
    assert format_table(header, rows).splitlines() == [
        "people   p50 ms",
        "-------  ------",
        "1,000       5.1",
        "100,000   12.25",
    ]
    assert markdown_table(header, rows).splitlines()[1:] == [
        "| --- | --- |",
        "| 1,000 | 5.1 |",
        "| 100,000 | 12.25 |",
    ]


def test_feed_table_extrapolates_the_lists_to_everyone():
    row = {
        "users": 10_000, "follows": 1_500_000, "posts": 200_000, "db_bytes": 1.3 * 2**30,
        "lists": {"built": 4, "entries": 2000, "bytes": 4 * 75 * 1024},
        "rps": 99.96, "p50": 6.04, "p95": 9.5, "p99": 30.123,
        "ms_per": {"server": 8.5, "postgres": 1.4, "redis": 0.25, "load": 0.6},
        "first": "server (60% of 2 core(s))", "probe_ms": 176.4, "load_before": 0.5,
        "load_after": 1.25,
    }  # fmt: skip
    header, (cells,) = growth.feed_table([row])
    assert len(cells) == len(header)
    assert cells[:9] == [
        "10,000", "1,500,000", "200,000", "1.3 GiB", "500, 75 KiB", "732.4 MiB", "100.0",
        "6.0 / 9.5 / 30.1", "8.50 / 1.40 / 0.25 / 0.60",
    ]  # fmt: skip
    assert cells[-1] == "176; 0.5 → 1.2"


def test_this_process_cpu_is_read_from_proc():
    before = cpu_seconds(os.getpid())
    sum(range(3_000_000))
    assert cpu_seconds(os.getpid()) > before
    assert os.getpid() in tree(os.getpid())
    assert cpu_seconds(2**22 + 12345) is None  # no such process


def test_the_feed_case_prints_what_a_request_costs_each_group_and_the_machine():
    from bench.cases.feed import cpu_line

    usage = Usage(
        wall_s=10.0,
        seconds={"server": 8.0, "postgres": 4.0, "redis": 0.5, "load": 1.0},
        hottest={"server": 2.5, "postgres": 1.0, "redis": 0.5, "load": 1.0},
        processes={"server": 5, "postgres": 4, "redis": 1, "load": 1},
        machine_s=18.0,
    )
    line = cpu_line("feed/page GET /", usage, answered=1000)
    # 8 s of server CPU over 1,000 answers is 8 ms each; the machine's 18 s, 18 ms each
    assert line.startswith("feed/page GET /: 8.00 / 4.00 / 0.50 / 1.00; machine 18.00 ms;")
    verdict = first_to_run_out(usage, growth.cores(), growth.SINGLE).text()
    assert line.endswith(f"; first to run out: {verdict}")
    assert cpu_line("feed/page GET /", usage, answered=0) == "feed/page GET /: nothing measured"
