"""A real Celery worker process runs tasks from the Redis broker; queuing falls back to
running inline when the broker is unreachable."""

import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.core.cache import cache

from circles.celery import app as celery_app
from circles.queue import enqueue
from circles.tasks import heartbeat_task
from tests.servers import celery_worker

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for_cache(key: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cache.get(key)
        if value is not None:
            return value
        time.sleep(0.2)
    return None


@pytest.mark.slow
def test_worker_process_runs_task_from_redis_broker():
    token = uuid.uuid4().hex
    with celery_worker() as worker:
        enqueue(heartbeat_task, token)
        assert wait_for_cache(f"circles:heartbeat:{token}") is not None
        assert worker.poll() is None


@pytest.mark.slow
def test_the_worker_goes_without_the_api_framework():
    """Celery's processes leave out ninja and pydantic (settings.RUNS_CELERY, no system
    checks at start, no schema imported by a service): ~36 MB less in every pool process.
    Read from what the worker's processes have mapped, after a task has run."""
    token = uuid.uuid4().hex
    with celery_worker(pool="prefork") as worker:
        enqueue(heartbeat_task, token)
        assert wait_for_cache(f"circles:heartbeat:{token}") is not None
        pool = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
        assert pool, "no pool process"
        for pid in [worker.pid, *map(int, pool)]:
            maps = Path(f"/proc/{pid}/maps").read_text()
            assert "_pydantic_core" not in maps and "/PIL/" in maps, pid


def test_task_settings_are_safe_for_lost_workers():
    conf = celery_app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert heartbeat_task.name == "circles.heartbeat"


def _reset_broker_connections():
    # Celery caches its connection and producer pools (kombu keeps them per broker URL);
    # drop the app's references so the next send uses whatever broker_url now says.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker_down():
    saved_url = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    _reset_broker_connections()
    yield
    celery_app.conf.broker_url = saved_url
    _reset_broker_connections()


def test_enqueue_runs_inline_when_broker_is_down(broker_down):
    token = uuid.uuid4().hex
    started = time.monotonic()
    enqueue(heartbeat_task, token)
    elapsed = time.monotonic() - started
    assert cache.get(f"circles:heartbeat:{token}") is not None
    assert elapsed < 5


def test_inline_fallback_waits_a_bounded_time_then_lets_the_task_finish(broker_down, monkeypatch):
    from celery import shared_task

    from circles import queue

    finished = []

    @shared_task(name="tests.slow_inline")
    def slow(token):
        time.sleep(8.0)
        finished.append(token)

    monkeypatch.setattr(queue, "INLINE_TIMEOUT_S", 0.2)
    started = time.monotonic()
    enqueue(slow, "late")
    # the broker's connection timeout, then 0.2 s of the task: not its whole 8 s
    assert time.monotonic() - started < 6
    assert finished == []
    deadline = time.monotonic() + 12
    while not finished and time.monotonic() < deadline:
        time.sleep(0.05)
    assert finished == ["late"]  # and the work was not lost


# Run in a fresh interpreter: glibc's malloc state is per process. Prints the MB that a
# freed 20 MB buffer leaves in the process, after a freed 30 MB one raised glibc's threshold.
KEPT_AFTER_FREE = """
import sys
from circles.celery import _return_big_buffers_to_the_system

def rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20

if sys.argv[1] == "worker":
    _return_big_buffers_to_the_system()  # what each pool process does when it starts
first = bytearray(30 * 2**20)  # zero-filled: every page touched
del first
before = rss_mb()
second = bytearray(20 * 2**20)
del second
print(rss_mb() - before)
"""


@pytest.mark.parametrize("process,kept", [("default", (15, 25)), ("worker", (-5, 3))])
def test_pool_processes_return_freed_image_buffers_to_the_system(process, kept):
    done = subprocess.run(
        [sys.executable, "-c", KEPT_AFTER_FREE, process],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    low, high = kept
    assert low <= float(done.stdout) <= high, done.stdout
