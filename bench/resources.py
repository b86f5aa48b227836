"""Which resource runs out first: CPU time of each group of processes during a load, read
from /proc (Linux) by a sampling thread, and the group closest to its limit.

Groups are what a step's table prints: the server processes (uvicorn or Celery, with
their children), PostgreSQL (the backends connected to the step's database), Redis (the
whole server, from INFO: it is shared with whatever else uses it) and the load process
(the bench's own children that are not servers). A group's limit is the cores it can use:
one for a process (Python's interpreter lock, Redis's one thread), at most the machine's
cores for a group. No psutil: /proc/<pid>/stat has the same counters.
"""

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
SAMPLE_S = 0.25
MACHINE = "machine"  # the pseudo-group of the whole machine's busy time (/proc/stat)


# --- /proc --------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of one process so far (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    # the command name (field 2) may hold spaces: split after its closing parenthesis
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(child) for child in f.read().split()]
        except OSError:
            pass
    return found


def tree(pid: int) -> list[int]:
    """pid and all its descendants."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children(current)
    return found


def postgres_backends(database: str, connect_kwargs: Mapping) -> Callable[[], list[int]]:
    """A function listing the PostgreSQL backends connected to `database` now (asked from
    the maintenance database, so the asking connection is not one of them)."""
    import psycopg

    conn = psycopg.connect(dbname="postgres", autocommit=True, **connect_kwargs)

    def pids() -> list[int]:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [database])
        return [pid for (pid,) in rows.fetchall()]

    pids.close = conn.close  # type: ignore[attr-defined]
    return pids


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent on anything but idling and waiting, since boot (steal,
    a VM neighbour's share of our cores, counts as busy: we could not have it)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / TICKS


def redis_cpu(url: str) -> Callable[[], float]:
    """A function giving the Redis server's CPU seconds so far (INFO cpu)."""
    import redis

    client = redis.Redis.from_url(url)

    def seconds() -> float:
        info = client.info("cpu")
        return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])

    return seconds


# --- Sampling -------------------------------------------------------------------------------


@dataclass
class Sample:
    at: float  # time.perf_counter(): the same clock in every process on Linux
    cpu: dict[str, dict[int, float]]  # group -> pid -> CPU seconds so far


@dataclass
class Usage:
    """CPU of each group between two moments."""

    wall_s: float
    seconds: dict[str, float]  # group -> CPU seconds
    hottest: dict[str, float]  # group -> CPU seconds of its busiest process
    processes: dict[str, int]  # group -> processes seen
    machine_s: float | None = None  # CPU seconds the whole machine was busy, if known

    def cores(self, group: str) -> float:
        return self.seconds.get(group, 0.0) / self.wall_s if self.wall_s > 0 else 0.0


def usage_between(samples: list[Sample], start: float, end: float) -> Usage:
    """CPU each group used from `start` to `end`, from the samples nearest inside them.
    A process first seen after the first sample counts from zero (it was born during the
    window); one that vanished counts up to its last sample."""
    inside = [s for s in samples if start <= s.at <= end] or samples[-1:]
    if not inside:
        return Usage(0.0, {}, {}, {})
    first, last = inside[0], inside[-1]
    seconds, hottest, processes = {}, {}, {}
    groups = {group for s in inside for group in s.cpu}
    machine_s = None
    if MACHINE in groups:
        groups.discard(MACHINE)
        if len(inside) > 1 and first.cpu[MACHINE] and last.cpu[MACHINE]:
            machine_s = last.cpu[MACHINE][0] - first.cpu[MACHINE][0]
    for group in groups:
        latest: dict[int, float] = {}
        for s in inside:
            latest.update(s.cpu.get(group, {}))
        base = first.cpu.get(group, {})
        per_pid = {pid: value - base.get(pid, 0.0) for pid, value in latest.items()}
        if len(inside) == 1:
            per_pid = {pid: 0.0 for pid in per_pid}
        seconds[group] = sum(per_pid.values())
        hottest[group] = max(per_pid.values(), default=0.0)
        processes[group] = len(per_pid)
    return Usage(last.at - first.at, seconds, hottest, processes, machine_s)


class CpuMeter:
    """Samples the CPU seconds of each group every SAMPLE_S in a thread while entered.

    `groups` maps a name to a function listing its pids now; `totals` maps a name to a
    function giving a whole server's CPU seconds so far (Redis)."""

    def __init__(
        self,
        groups: Mapping[str, Callable[[], list[int]]],
        totals: Mapping[str, Callable[[], float]] | None = None,
    ):
        self.groups = dict(groups)
        self.totals = {MACHINE: machine_busy_seconds, **(totals or {})}
        self.samples: list[Sample] = []
        self.peak_rss_mb: dict[str, float] = {}  # group -> most resident memory seen, summed
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        cpu: dict[str, dict[int, float]] = {}
        for name, pids in self.groups.items():
            values, rss = {}, 0.0
            for pid in pids():
                value = cpu_seconds(pid)
                if value is not None:
                    values[pid] = value
                    rss += rss_mb(pid)
            cpu[name] = values
            self.peak_rss_mb[name] = max(self.peak_rss_mb.get(name, 0.0), rss)
        for name, total in self.totals.items():
            try:
                cpu[name] = {0: total()}
            except Exception:  # noqa: BLE001 - a missing total shows as no figure
                cpu[name] = {}
        self.samples.append(Sample(time.perf_counter(), cpu))

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            self.sample()

    def __enter__(self) -> "CpuMeter":
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sample()

    def usage(self, start: float | None = None, end: float | None = None) -> Usage:
        return usage_between(
            self.samples,
            self.samples[0].at if start is None else start,
            self.samples[-1].at if end is None else end,
        )


# --- What runs out first --------------------------------------------------------------------


@dataclass
class Limit:
    """A group's share of what it can use: `share` 1.0 means it used all of it."""

    group: str
    share: float
    why: str


@dataclass
class Verdict:
    first: Limit
    limits: list[Limit] = field(default_factory=list)

    def text(self) -> str:
        return f"{self.first.group} ({self.first.share:.0%} {self.first.why})"


def first_to_run_out(usage: Usage, cores: int, single: frozenset[str] = frozenset()) -> Verdict:
    """The resource nearest its limit during `usage`.

    Each group is held against two limits: all its processes against the cores they can
    use (as many as it has processes, at most the machine's), and its busiest process
    against one core (a Python process or Redis cannot use more); groups named in
    `single` are one thread whatever their processes. The machine itself is held against
    its cores: when it is the nearest, the groups share out the last of the CPU, and the
    verdict names the one that used most of it."""
    limits = []
    if usage.wall_s <= 0:
        return Verdict(Limit("nothing measured", 0.0, ""), [])
    for group, seconds in usage.seconds.items():
        count = usage.processes.get(group, 0)
        if not count:
            continue
        usable = 1 if group in single else min(count, cores)
        limits.append(Limit(group, seconds / usage.wall_s / usable, f"of {usable} core(s)"))
        if count > 1 and group not in single:
            busiest = usage.hottest.get(group, 0.0) / usage.wall_s
            limits.append(Limit(group, busiest, "of one core in its busiest process"))
    ours = sum(usage.seconds.values()) / usage.wall_s
    busy = max(ours, usage.machine_s / usage.wall_s) if usage.machine_s is not None else ours
    biggest = max(usage.seconds, key=lambda g: usage.seconds[g], default="")
    machine = Limit(
        f"the machine's {cores} cores, most to {biggest}",
        busy / cores,
        f"busy, {ours / cores:.0%} these processes, {(busy - ours) / cores:.0%} others",
    )
    best = max(limits, key=lambda limit: limit.share, default=machine)
    first = machine if machine.share >= best.share else best
    return Verdict(first, [*limits, machine])


# --- Tables ---------------------------------------------------------------------------------


def format_table(header: list[str], rows: list[list[str]]) -> str:
    """A plain-text table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(header), line(["-" * width for width in widths]), *map(line, rows)])


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """The same table as Markdown, for the README."""
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    return "\n".join([*lines, *("| " + " | ".join(row) + " |" for row in rows)])
