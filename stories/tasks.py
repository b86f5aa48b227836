"""Celery tasks for stories: call one service, retry only storage errors."""

from celery import shared_task

from media.storage import StorageUnavailable
from stories import services


@shared_task(
    name="stories.cleanup",
    autoretry_for=(StorageUnavailable,),
    retry_backoff=1,
    retry_backoff_max=60,
    max_retries=5,
)
def stories_cleanup_task() -> int:
    """Remove expired stories, their views and their files (beat runs it every 10 min)."""
    return services.stories_cleanup()
