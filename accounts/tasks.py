"""Celery tasks for leaving: take ids, call one service, retry only storage errors."""

import logging

from celery import shared_task

from accounts.services import leaving
from media.storage import StorageUnavailable

logger = logging.getLogger(__name__)


@shared_task(
    name="accounts.data_export",
    acks_late=True,
    # a ZIP of thousands of photos outlasts the default limit (CELERY_TASK_TIME_LIMIT)
    time_limit=3 * 3600,
    soft_time_limit=3 * 3600 - 60,
    autoretry_for=(StorageUnavailable,),
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=False,
    max_retries=6,
    bind=True,
)
def data_export_task(self, export_id: str) -> None:
    try:
        leaving.data_export_build(export_id=export_id)
    except StorageUnavailable:
        if self.request.retries >= self.max_retries:
            leaving.data_export_fail(export_id=export_id, reason="Storage was unavailable.")
        raise
    except Exception:
        logger.exception("data export %s failed", export_id)
        leaving.data_export_fail(export_id=export_id, reason="Something went wrong. Try again.")
        raise


@shared_task(name="accounts.data_exports_cleanup")
def data_exports_cleanup_task() -> int:
    """Exports past their 7 days go, file and row (beat runs it hourly)."""
    return leaving.data_exports_cleanup()


@shared_task(
    name="accounts.account_delete",
    acks_late=True,
    time_limit=3600,
    soft_time_limit=3600 - 60,
    autoretry_for=(StorageUnavailable,),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=False,
    max_retries=10,
)
def account_delete_task(user_id: str) -> bool:
    """Resumable: steps already recorded are skipped (beat re-queues a stalled one)."""
    return leaving.account_delete_run(user_id=user_id)


@shared_task(name="accounts.account_deletions_resume")
def account_deletions_resume_task() -> int:
    return leaving.account_deletions_resume()
