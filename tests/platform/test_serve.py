"""scripts/serve.sh, what `make run` ends with: with REDIS_URL set it runs a Celery worker
and beat beside uvicorn, and Ctrl-C stops every one of them."""

import os
import signal
import subprocess
import time
import warnings

import pytest

from tests.servers import ROOT, _wait_http, free_port, process_env

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        try:
            with open(f"/proc/{parent}/task/{parent}/children") as f:
                children = [int(child) for child in f.read().split()]
        except FileNotFoundError:
            continue
        found.update(children)
        todo.extend(children)
    return found


def command_of(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().split(") ")[1].split()[1])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(") ")[1][0] != "Z"  # a zombie has exited


def start_serving(tmp_path, **env) -> subprocess.Popen:
    """scripts/serve.sh with Redis, once uvicorn answers and the worker and beat run."""
    port = free_port()
    env = process_env(HOST="127.0.0.1", PORT=port, VAR_DIR=tmp_path, **env)
    # its own process group, as a terminal's Ctrl-C reaches the whole foreground job
    with (tmp_path / "stderr.log").open("w") as stderr:  # a pipe left unread could fill
        serve = subprocess.Popen(
            ["bash", "scripts/serve.sh"], cwd=ROOT, env=env, start_new_session=True, stderr=stderr
        )
    _wait_http(f"http://127.0.0.1:{port}/healthz", serve, timeout=60)
    deadline = time.monotonic() + 30
    while True:
        commands = [command_of(pid) for pid in descendants(serve.pid)]
        kinds = {kind for kind in ("uvicorn", "worker", "beat") if any(kind in c for c in commands)}
        if kinds == {"uvicorn", "worker", "beat"} or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert kinds == {"uvicorn", "worker", "beat"}
    return serve


def ctrl_c(serve: subprocess.Popen, tmp_path) -> str:
    """Ctrl-C to the whole job; waits until serve.sh and every process under it are gone
    and returns what they wrote to stderr."""
    processes = descendants(serve.pid)
    os.killpg(serve.pid, signal.SIGINT)
    try:
        serve.wait(timeout=60)
    except subprocess.TimeoutExpired:
        still_up = [command_of(pid) for pid in processes if alive(pid)]
        stderr = (tmp_path / "stderr.log").read_text()
        raise AssertionError(f"still up 60 s after Ctrl-C: {still_up}\n{stderr}") from None
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in processes) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [command_of(pid) for pid in processes if alive(pid)]
    return (tmp_path / "stderr.log").read_text()


def test_serve_with_redis_runs_worker_and_beat_and_ctrl_c_stops_all(tmp_path):
    serve = start_serving(tmp_path)
    try:
        stderr = ctrl_c(serve, tmp_path)
        if "did not stop" in stderr:  # stopped all the same, by serve.sh's kill: say which
            warnings.warn(stderr[stderr.index("serve.sh: ") :], stacklevel=1)
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)


def test_a_process_that_does_not_stop_after_ctrl_c_is_killed_and_named(tmp_path):
    serve = start_serving(tmp_path, STOP_GRACE_SECONDS=2)
    try:
        worker = next(
            pid
            for pid in descendants(serve.pid)
            if " worker " in command_of(pid) and parent_of(pid) == serve.pid
        )
        os.kill(worker, signal.SIGSTOP)  # a worker that cannot shut down
        started = time.monotonic()
        stderr = ctrl_c(serve, tmp_path)
        assert time.monotonic() - started < 30
        assert "did not stop within 2 s; killing it" in stderr
        assert "celery -A circles worker" in stderr
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
