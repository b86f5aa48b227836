"""Queuing tasks so that a request never hangs on the broker.

`enqueue_on_commit(task, *args)` sends the task after the transaction commits. If the
broker cannot be reached within its short connection timeout (settings: CELERY_BROKER_*),
the task runs inline in this process instead, so the work is not lost; the caller's
response is slower, never failed. Without REDIS_URL, Celery is eager and runs tasks
in-process anyway.
"""

import logging

from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def enqueue(task, *args) -> None:
    try:
        task.apply_async(args=args, retry=False)
    except (OperationalError, ConnectionError, TimeoutError, OSError):
        logger.warning("broker unreachable; running %s inline", task.name, exc_info=True)
        task.apply(args=args)


def enqueue_on_commit(task, *args) -> None:
    transaction.on_commit(lambda: enqueue(task, *args))
