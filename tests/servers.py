"""Real processes for tests: a uvicorn server and a Celery worker, started on the test
database and this worker's Redis database, and always stopped."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager, suppress
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    """The URL of the database this test process uses (the pytest-django test database)."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def process_env(**overrides) -> dict:
    """Environment for a child process: production-like settings over the test services."""
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"}
    env.update(
        DATABASE_URL=test_database_url(),
        REDIS_URL=settings.REDIS_URL,  # already this xdist worker's own database
        DEBUG="false",
        SECRET_KEY=settings.SECRET_KEY,
        HTTPS="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update({k: str(v) for k, v in overrides.items()})
    return env


def _wait_http(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGCONT)  # a test may have frozen it
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def uvicorn_server(*, port: int | None = None, log=None, process: list | None = None, **env):
    """Yield the base URL of a uvicorn process serving circles.asgi on a free port (or
    `port`). `log`: a file for its output; `process`: a list the Popen is appended to (to
    freeze or stop it)."""
    port = port or free_port()
    proc = subprocess.Popen(
        [
            str(VENV_BIN / "uvicorn"), "circles.asgi:application",
            "--host", "127.0.0.1", "--port", str(port),
            "--no-proxy-headers", "--log-level", "warning",
        ],
        cwd=ROOT,
        env=process_env(**env),
        stdout=log,
        stderr=subprocess.STDOUT if log else None,
    )  # fmt: skip
    if process is not None:
        process.append(proc)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"{base_url}/healthz", proc)
        yield base_url
    finally:
        _stop(proc)


class RedisProcess:
    """A redis-server of the test's own on a free port (no persistence), which the test
    may stop and start again on the same port: faults never touch the shared Redis."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no",
            ],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.05)
        raise TimeoutError(f"redis-server on {self.port} did not start")

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)
            self.proc = None


@contextmanager
def redis_server():
    """Yield a started RedisProcess; always stopped."""
    redis = RedisProcess()
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@contextmanager
def celery_worker(*queues: str, pool: str = "solo", **env_overrides):
    """A real `celery worker` process consuming from this test's Redis broker (pool
    "prefork" runs the jobs in one child process, as production does)."""
    args = [
        str(VENV_BIN / "celery"), "-A", "circles", "worker",
        "--pool", pool, "--concurrency", "1", "--loglevel", "WARNING",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    if queues:
        args += ["-Q", ",".join(queues)]
    proc = subprocess.Popen(args, cwd=ROOT, env=process_env(**env_overrides))
    try:
        yield proc
    finally:
        _stop(proc)


class FaultyProxy:
    """A TCP proxy in front of a real server, in a thread of this process, that can stop
    forwarding: "forward" pipes bytes both ways, "refuse" closes every new connection at
    once, "hang" accepts and never answers. For outages of a service other tests also use
    (the proxy fails; the service behind it never does)."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.mode = "forward"
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._held: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.mode == "refuse":
                client.close()
            elif self.mode == "hang":
                self._held.append(client)
            else:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
                for source, target in ((client, upstream), (upstream, client)):
                    threading.Thread(target=_pipe, args=(source, target), daemon=True).start()

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        for held in self._held:
            held.close()


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        with suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
    finally:
        for end in (source, target):
            with suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
