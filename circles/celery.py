"""The Celery app. Configuration comes from CELERY_* in settings; the periodic schedule
lives here, in one place."""

import contextlib
import ctypes
import os
import time

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "circles.settings")
# The worker would run Django's system checks at start, and they load every URL, view and
# API schema: ~10 MB in every pool process, for routes a task never serves. `manage.py`
# runs them (migrate, check; tests/platform/test_settings.py runs `check --deploy`).
os.environ.setdefault("CELERY_SKIP_CHECKS", "1")

app = Celery("circles")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["circles"])  # the platform package is not a Django app

# Periodic tasks, by stable task name, all in this one place.
app.conf.beat_schedule = {
    "platform-heartbeat": {"task": "circles.heartbeat", "schedule": 60.0},
    "images-requeue-stuck": {"task": "media.image_requeue_stuck", "schedule": 120.0},
    # expired stories leave every path at once (queries filter on expires_at); this
    # removes their rows, views and files
    "stories-cleanup": {"task": "stories.cleanup", "schedule": 600.0},
    "notifications-prune": {"task": "notifications.prune", "schedule": 3600.0},
    # data exports are kept 7 days: this removes their files and rows after
    "data-exports-cleanup": {"task": "accounts.data_exports_cleanup", "schedule": 3600.0},
    # an account deletion whose worker was lost resumes from its last recorded step
    "account-deletions-resume": {"task": "accounts.account_deletions_resume", "schedule": 600.0},
    # circles_storage_bytes: a listing of the whole store, too slow for a scrape
    "media-storage-measure": {"task": "media.storage_measure", "schedule": 900.0},
}


@signals.setup_logging.connect
def _keep_django_logging(**kwargs):
    """Connected, this stops Celery from replacing the root logger's handlers: worker and
    beat log through settings.LOGGING (JSON lines with the request id), as the web does."""


@signals.before_task_publish.connect
def _carry_request_id(headers=None, **kwargs):
    """Put the current request id on every task sent, so its logs can be joined, and the
    time it was sent, so the stats page can tell how long the oldest waiting task waits."""
    from circles.logs import current_request_id

    if headers is None:
        return
    headers["sent_at"] = time.time()
    if current_request_id() != "-":
        headers["request_id"] = current_request_id()


@signals.task_prerun.connect
def _restore_request_id(task=None, **kwargs):
    from circles.logs import set_request_id

    set_request_id(getattr(task.request, "request_id", None) or f"task-{task.request.id}")


@signals.task_retry.connect
def _count_retry(sender=None, **kwargs):
    from circles import metrics

    metrics.TASK_RETRIES.inc(task=getattr(sender, "name", None) or "unknown")


@signals.task_failure.connect
def _count_failure(sender=None, **kwargs):
    from circles import metrics

    metrics.TASK_FAILURES.inc(task=getattr(sender, "name", None) or "unknown")


# glibc's mallopt() parameter: allocations from this size up get their own mapping
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 1024 * 1024


@signals.worker_process_init.connect
def _return_big_buffers_to_the_system(**kwargs):
    """Image buffers (decoded frames, libheif's planes) go back to the system when freed.

    glibc raises its mmap threshold each time a big mapping is freed, so the next photo's
    1-32 MB buffers land on the heap, which does not shrink: a pool process kept ~20-30 MB
    more after each HEIC and peaked higher on the next one (`make bench` case `worker`).
    A fixed threshold keeps every buffer of 1 MB or more in its own mapping. Not glibc
    (musl): mallopt() is missing or does nothing."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


@signals.task_postrun.connect
def _send_metrics(**kwargs):
    """A task's counts reach Redis when it ends, not up to a flush interval later (a pool
    process may be replaced right after its job)."""
    from circles import metrics

    metrics.flush()
