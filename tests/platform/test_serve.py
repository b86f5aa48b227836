"""scripts/serve.sh, what `make run` ends with: with REDIS_URL set it runs a Celery worker
and beat beside uvicorn, and Ctrl-C stops every one of them."""

import os
import signal
import subprocess
import time

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


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(") ")[1][0] != "Z"  # a zombie has exited


def test_serve_with_redis_runs_worker_and_beat_and_ctrl_c_stops_all(tmp_path):
    port = free_port()
    env = process_env(HOST="127.0.0.1", PORT=port, VAR_DIR=tmp_path)
    # its own process group, as a terminal's Ctrl-C reaches the whole foreground job
    serve = subprocess.Popen(
        ["bash", "scripts/serve.sh"], cwd=ROOT, env=env, start_new_session=True
    )
    try:
        _wait_http(f"http://127.0.0.1:{port}/healthz", serve, timeout=60)
        deadline = time.monotonic() + 30
        while True:
            commands = [command_of(pid) for pid in descendants(serve.pid)]
            kinds = {
                kind for kind in ("uvicorn", "worker", "beat") if any(kind in c for c in commands)
            }
            if kinds == {"uvicorn", "worker", "beat"} or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert kinds == {"uvicorn", "worker", "beat"}
        processes = descendants(serve.pid)
        os.killpg(serve.pid, signal.SIGINT)
        serve.wait(timeout=60)
        deadline = time.monotonic() + 30
        while any(alive(pid) for pid in processes) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [command_of(pid) for pid in processes if alive(pid)]
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
