"""What benchmark cases are built from: a database of their own, a live uvicorn server, a
steady-rate load generator in a separate process, and percentiles.

All traffic goes to 127.0.0.1, and every loop is bounded in count and in time.
"""

import http.client
import multiprocessing
import os
import platform
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO_DIR = Path(__file__).resolve().parent.parent
WORK_DIR = REPO_DIR / "var" / "bench"
# BENCH_DB_NAME picks another database on the same server (e.g. one per worktree, so
# benches of parallel branches and their migrations never meet)
BENCH_DB_NAME = os.environ.get("BENCH_DB_NAME", "circles_bench")
LOOPBACK = "127.0.0.1"
# Hard ceilings, whatever a case or the command line asks for.
MAX_DURATION_S = 60.0
MAX_REQUESTS = 20_000
SERVER_START_TIMEOUT_S = 30.0


# --- Database -----------------------------------------------------------------------------


def prepare_database(source_url: str, fresh: bool = False) -> str:
    """Make sure the bench database exists next to the one source_url names; return its URL.

    On PostgreSQL that is a database named circles_bench on the same server (the one named
    in source_url is never touched); otherwise (or with no URL) a SQLite file under
    var/bench/. It is kept
    between runs so that cases with costly seed data can reuse it; fresh=True starts over.
    """
    import environ
    import psycopg
    from psycopg import sql

    config = environ.Env.db_url_config(source_url) if source_url else {"ENGINE": ""}
    if config["ENGINE"] != "django.db.backends.postgresql":
        WORK_DIR.mkdir(parents=True, exist_ok=True)
        path = WORK_DIR / f"{BENCH_DB_NAME}.sqlite3"
        if fresh:
            path.unlink(missing_ok=True)
        return f"sqlite:///{path}"

    server = {
        "user": config["USER"],
        "password": config["PASSWORD"],
        "host": config["HOST"],
        "port": config["PORT"],
    }
    # CREATE/DROP DATABASE run outside a transaction, from the server's maintenance database.
    with psycopg.connect(
        dbname="postgres", autocommit=True, **{k: v for k, v in server.items() if v}
    ) as conn:
        name = sql.Identifier(BENCH_DB_NAME)
        if fresh:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB_NAME])
        if found.fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
    return urlunsplit(urlsplit(source_url)._replace(path=f"/{BENCH_DB_NAME}"))


def bench_environment(database_url: str) -> dict[str, str]:
    """The environment for the bench server and for Django in the bench process."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        # Measure production settings: DEBUG on records every query and slows requests.
        DEBUG="false",
        SECRET_KEY="bench-only-secret-not-for-any-real-deployment",  # noqa: S106
        HTTPS="false",  # the server speaks plain HTTP on loopback
        ALLOWED_HOSTS=LOOPBACK,
        # One client address sends every request, which per-IP limits would refuse.
        RATELIMIT_ENABLE="false",
        LOG_LEVEL="WARNING",
    )
    return env


def checkpoint(cursor) -> None:
    """Have PostgreSQL write out what a case just wrote in bulk before its load, so the
    load does not pay for it; skipped with a note where the role may not (CHECKPOINT
    needs a superuser or pg_checkpoint)."""
    from django.db import DatabaseError

    try:
        cursor.execute("CHECKPOINT")
    except DatabaseError as exc:
        print(f"(no CHECKPOINT before the load: {exc})".strip(), file=sys.stderr)


# --- Server -------------------------------------------------------------------------------


def stop_process(process: subprocess.Popen, timeout: float) -> None:
    """Ask process to end (SIGTERM), and kill it if it has not within timeout seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


class Server:
    """uvicorn serving circles.asgi in a subprocess on a free loopback port.

    Use as a context manager: it is up on entry (/healthz answers) and stopped on exit.
    Its output goes to var/bench/server.log.
    """

    def __init__(
        self, env: dict[str, str], workers: int = 1, app: str = "circles.asgi:application"
    ):
        self.env = env
        self.workers = workers
        self.app = app
        self.port = free_port()
        self.base_url = f"http://{LOOPBACK}:{self.port}"
        self.log_path = WORK_DIR / "server.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        WORK_DIR.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            self.app,
            "--host",
            LOOPBACK,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--no-proxy-headers",
            "--no-server-header",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        # A file, not a pipe: nobody reads a pipe while the load runs, and a full one
        # would stall the server.
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            self._wait_until_up()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"bench server exited at start:\n{self.log_tail()}")
            conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=1)
            try:
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            finally:
                conn.close()
            time.sleep(0.1)
        raise RuntimeError(
            f"bench server not up after {SERVER_START_TIMEOUT_S}s:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, timeout=10)

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


# --- Load ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpRequest:
    """One request a load sends; picklable, since the load runs in another process."""

    path: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


def get(path: str, **headers: str) -> HttpRequest:
    return HttpRequest(path=path, headers=headers)


@dataclass
class Result:
    """One row of the table: what a load measured."""

    name: str
    target_rps: float
    requests: int  # dispatched
    errors: int  # status >= 400, timeouts, dropped connections, never answered
    latencies_ms: list[float]  # of those that finished, failed ones included
    elapsed_s: float  # from the first dispatch to the last answer
    # the same load's floor, measured in the same invocation: the table prints the ratio
    floor: "Result | None" = None
    # when the first request was due, on time.perf_counter()'s clock (the same in every
    # process on Linux): with elapsed_s, the window a resource meter looks at
    started_at: float = 0.0

    @property
    def rps(self) -> float:
        """Finished requests per second actually achieved."""
        return len(self.latencies_ms) / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def percentile_ms(self, q: float) -> float:
        return percentile(self.latencies_ms, q)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), interpolating between the two nearest ranks."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def run_load(
    name: str,
    port: int,
    requests: Sequence[HttpRequest],
    rate: float,
    duration_s: float,
    concurrency: int = 16,
    timeout_s: float = 5.0,
    warmup: int = 10,
    warmup_s: float = 0.0,
) -> Result:
    """Send requests (cycled in order) to 127.0.0.1:port at `rate` per second for
    `duration_s` seconds from a separate process, so the generator never competes with
    this process for the interpreter lock. `warmup_s` seconds of the same load go first,
    unmeasured: a fresh server's first seconds (each process's caches, each pooled
    connection's prepared statements) are not its steady state."""
    if not requests:
        raise ValueError("a load needs at least one request")
    if not 0 < duration_s <= MAX_DURATION_S:
        raise ValueError(f"duration must be in (0, {MAX_DURATION_S}] seconds")
    if rate <= 0:
        raise ValueError("rate must be positive")
    args = (port, list(requests), rate, duration_s, concurrency, timeout_s, warmup, warmup_s)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        sent, errors, latencies_ms, elapsed_s, started_at = pool.apply_async(
            _generate_load, args
        ).get(timeout=warmup_s + duration_s + timeout_s + 60)
    return Result(name, rate, sent, errors, latencies_ms, elapsed_s, started_at=started_at)


def _send(conn: http.client.HTTPConnection, request: HttpRequest) -> int:
    conn.request(request.method, request.path, body=request.body, headers=request.headers)
    response = conn.getresponse()
    response.read()  # drain, so the keep-alive connection can carry the next request
    return response.status


def _generate_load(port, requests, rate, duration_s, concurrency, timeout_s, warmup, warmup_s=0.0):
    """Runs in the load process: an open-loop generator. Requests are dispatched at fixed
    times whether or not earlier ones have answered, and each latency counts from its
    dispatch time, so a stalled server shows up as latency instead of silently lowering
    the rate (no coordinated omission)."""
    # First requests pay for lazy imports and cold caches; they are not measured.
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout_s)
    try:
        for index in range(warmup):
            _send(conn, requests[index % len(requests)])
    except (OSError, http.client.HTTPException):
        pass  # a server that fails here fails the measured requests too, and shows it there
    finally:
        conn.close()

    total = min(int(rate * duration_s), MAX_REQUESTS)
    unmeasured = int(rate * warmup_s)  # dispatched first, at the same rate, not counted
    due_times: queue.SimpleQueue = queue.SimpleQueue()
    latencies_ms: list[float] = []
    errors = 0
    last_done = 0.0
    lock = threading.Lock()

    def worker() -> None:
        nonlocal errors, last_done
        conn = None
        while (item := due_times.get()) is not None:
            index, due, measured = item
            failed = True
            try:
                conn = conn or http.client.HTTPConnection(LOOPBACK, port, timeout=timeout_s)
                failed = _send(conn, requests[index % len(requests)]) >= 400
            except (OSError, http.client.HTTPException):
                if conn is not None:
                    conn.close()
                conn = None
            done = time.perf_counter()
            if not measured:
                continue
            with lock:
                latencies_ms.append((done - due) * 1000)
                errors += failed
                last_done = max(last_done, done)
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    first = time.perf_counter()
    start = first + unmeasured / rate  # when the measured requests begin
    for index in range(unmeasured + total):
        due = first + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        due_times.put((index, due, index >= unmeasured))
    for _ in threads:
        due_times.put(None)
    deadline = time.perf_counter() + timeout_s + 5
    for thread in threads:
        thread.join(max(0.0, deadline - time.perf_counter()))
    with lock:
        # Requests still queued or in flight after the deadline count as errors.
        unanswered = total - len(latencies_ms)
        elapsed = max(last_done - start, 0.0)
        return total, errors + unanswered, list(latencies_ms), elapsed, start


# --- What a case is handed ---------------------------------------------------------------


@dataclass
class Bench:
    """Given to each case's run(): the live server, and load() to measure against it.

    rate and duration_s, when set (from the command line), replace every case's own.
    """

    server: Server
    rate: float | None = None
    duration_s: float | None = None
    soak_seconds: float | None = None  # the soak case's length (bench/cases/soak.py)
    repeat: int = 1  # runs of each load (a case with a floor alternates the two)

    def load(
        self,
        name: str,
        requests: Sequence[HttpRequest],
        *,
        rate: float = 50,
        duration_s: float = 5,
        concurrency: int = 16,
        warmup_s: float = 0.0,
    ) -> Result:
        """Measure `requests` (cycled in order) at `rate` per second for `duration_s`,
        after `warmup_s` seconds of the same load unmeasured; `concurrency` caps the
        requests in flight at once."""
        return run_load(
            name,
            self.server.port,
            requests,
            rate=self.rate or rate,
            duration_s=self.duration_s or duration_s,
            concurrency=concurrency,
            warmup_s=warmup_s,
        )


# --- A noisy neighbour -------------------------------------------------------------------


def _spin() -> None:
    while True:
        pass


class Busy:
    """`--busy`: one core kept spinning by a separate process for the whole run, a
    reproducible noisy neighbour (the servers, PostgreSQL, Redis and the load share the
    other). A no-op when not enabled."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.process = None

    def __enter__(self) -> "Busy":
        if self.enabled:
            self.process = multiprocessing.get_context("spawn").Process(target=_spin, daemon=True)
            self.process.start()
        return self

    def __exit__(self, *exc_info) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.join(5)


# --- Machine ------------------------------------------------------------------------------


def speed_probe_ms() -> float:
    """A fixed pure-Python loop (5 million additions), best of three, in ms. The VM's speed
    moves with its neighbours (2x within a session, seen here): timed before and after the
    cases, it says how fast the machine was around the figures."""
    best = float("inf")
    for _ in range(3):
        started, total = time.perf_counter(), 0
        for number in range(5_000_000):
            total += number
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


def machine_info(database: str) -> dict[str, str]:
    """What the figures were measured on, printed with the table."""
    cpu = platform.processor() or "unknown"
    ram = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass  # not Linux: keep what platform knows
    return {
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "RAM": ram,
        "OS": platform.platform(terse=True),
        "Python": platform.python_version(),
        "database": database,
    }
