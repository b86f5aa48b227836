"""Queuing tasks so that a request never hangs on the broker.

`enqueue_on_commit(task, *args)` sends the task after the transaction commits. If the
broker cannot be reached within its short connection timeout (settings: CELERY_BROKER_*),
the task runs inline in this process instead, so the work is not lost; the caller's
response is slower, never failed. The caller waits INLINE_TIMEOUT_S at most: past that
the task finishes in the background (and a task that never finishes leaves its row in
`processing`, which the periodic re-queue picks up once the broker is back). Without
REDIS_URL, Celery is eager and runs tasks in-process anyway.
"""

import logging
import threading

from django.db import connections, transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

INLINE_TIMEOUT_S = 10.0


def _run_inline(task, args) -> None:
    try:
        task.apply(args=args)
    finally:
        connections.close_all()  # this thread's connections go back to the pool


def enqueue(task, *args) -> None:
    try:
        task.apply_async(args=args, retry=False)
    except (OperationalError, ConnectionError, TimeoutError, OSError):
        logger.warning("broker unreachable; running %s inline", task.name, exc_info=True)
        worker = threading.Thread(target=_run_inline, args=(task, args), daemon=True)
        worker.start()
        worker.join(INLINE_TIMEOUT_S)
        if worker.is_alive():
            logger.warning(
                "%s still running inline after %ss; not waiting", task.name, INLINE_TIMEOUT_S
            )


def enqueue_on_commit(task, *args) -> None:
    transaction.on_commit(lambda: enqueue(task, *args))
