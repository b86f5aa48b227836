"""Celery tasks for images: take ids, call one service, retry only storage errors."""

from celery import shared_task, signals

from media import heif, services
from media.storage import StorageUnavailable


@signals.worker_init.connect
def _load_ffmpeg_before_the_pool_forks(**kwargs):
    """The main worker process loads FFmpeg's libraries (media.heif's HEIC decoder), so its
    pool processes share those pages instead of each loading them after its first HEIC."""
    heif.preload()


@shared_task(
    name="media.image_process",
    acks_late=True,
    # transient only, never OSError (corrupt files); 2, 4, 8 ... 120 s: about six minutes
    # of outage ridden out here, and the periodic re-queue takes over after that
    autoretry_for=(StorageUnavailable,),
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=False,
    max_retries=8,
    bind=True,
)
def image_process_task(self, image_id: str) -> None:
    services.image_process(image_id=image_id, delivery=self.request.id or "")


@shared_task(name="media.image_requeue_stuck")
def image_requeue_stuck_task() -> int:
    return services.image_requeue_stuck()


@shared_task(name="media.storage_measure")
def storage_measure_task() -> dict:
    return services.storage_measure()


@shared_task(
    name="media.files_delete",
    acks_late=True,
    autoretry_for=(StorageUnavailable,),
    retry_backoff=1,
    retry_backoff_max=60,
    max_retries=8,
)
def files_delete_task(keys: list[str]) -> None:
    services.files_delete(keys=keys)
