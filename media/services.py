"""Every write about images: taking photos in, processing them, deleting them.

Owners (posts, avatars, chat photos, ...) take photos in through images_accept() with
their purpose; when an image is settled (ready or failed), the purpose's registered
on_settled hook tells its owner.
"""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from circles import metrics
from circles.errors import ApiError
from circles.queue import enqueue_on_commit
from media import images, registry, storage, tasks
from media.models import ALT_MAX, Image, ImageState
from media.storage import StorageUnavailable

logger = logging.getLogger(__name__)

# An image claimed this long ago and still processing is taken to be lost with its worker.
STUCK_AFTER = timedelta(minutes=5)
# Claims an image may take before it counts as one that kills its worker (memory, crash).
MAX_ATTEMPTS = 3
_SNIFF_BYTES = 4096
# A file with no row is an orphan only past this age (see media_check).
ORPHAN_MIN_AGE = timedelta(hours=1)


def image_check_upload(upload) -> None:
    """Refuse an upload before anything is stored: empty, too large, or not an image."""
    name = getattr(upload, "name", "file")
    if not upload.size:
        raise ApiError(400, "empty_file", f"{name} is empty.", fields={"images": ["Empty file."]})
    if upload.size > images.MAX_BYTES:
        raise ApiError(413, "too_large", f"{name} is larger than 10 MB.")
    upload.seek(0)
    head = upload.read(_SNIFF_BYTES)
    upload.seek(0)
    try:
        images.detect_format(head)
    except images.ImageRejected as exc:
        raise ApiError(415, "unsupported_media_type", f"{name}: {exc.reason}") from exc


@contextmanager
def images_accept(*, owner, uploads: list, purpose: str, alts=()) -> Iterator[list[Image]]:
    """Take photos in for one owner object; the one upload path of every purpose.

    Checks every upload first (nothing is stored when one is refused), stores the
    originals privately, then opens a transaction that creates the image rows and queues
    their processing on commit, and yields the rows. The caller writes what owns them
    inside the `with`, so everything commits together; if anything in it fails, the
    stored originals are removed and the error goes on.
    """
    if registry.purpose_get(purpose) is None:
        raise ValidationError({"purpose": [f"Photos cannot be taken in for {purpose!r}."]})
    alts = list(alts)
    for upload in uploads:
        image_check_upload(upload)
    stored: list[Image] = []
    try:
        for index, upload in enumerate(uploads):
            alt = alts[index] if index < len(alts) else ""
            key = storage.original_save(upload)
            stored.append(
                Image(
                    owner=owner,
                    purpose=purpose,
                    original_key=key,
                    alt=alt[:ALT_MAX],
                    original_bytes=upload.size,
                )
            )
        with transaction.atomic():
            Image.objects.bulk_create(stored)
            yield stored
            # queued after the owner's own writes, so their on-commit work (the message's
            # "created" event) comes first even when tasks run in-process
            for image in stored:
                enqueue_on_commit(tasks.image_process_task, str(image.pk))
    except BaseException:
        _discard_quietly([image.original_key for image in stored])
        raise


def image_process(*, image_id, delivery: str = "") -> None:
    """Claim, render and store one image's renditions; a no-op when already done.

    Claims with a conditional UPDATE so two workers never render the same image. A claim
    older than STUCK_AFTER, or one held by this same delivery (the job redelivered after
    its worker died), may be taken again; files a dead run recorded and left behind are
    removed then. A corrupt or refused image fails for good with a readable reason, and
    so does one claimed more than MAX_ATTEMPTS times without an end (it kills its
    worker). A storage failure is not the image's fault: the image goes back to pending
    with its attempt given back, and the error is re-raised for the task to retry.
    """
    now = timezone.now()
    claimable = Q(state=ImageState.PENDING) | Q(
        state=ImageState.PROCESSING, claimed_at__lt=now - STUCK_AFTER
    )
    if delivery:
        claimable |= Q(state=ImageState.PROCESSING, claimed_by=delivery)
    claimed = Image.objects.filter(claimable, pk=image_id).update(
        state=ImageState.PROCESSING,
        claimed_at=now,
        claimed_by=delivery,
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return
    image = Image.objects.get(pk=image_id)
    mine = Image.objects.filter(pk=image.pk, state=ImageState.PROCESSING, claimed_at=now)
    if image.scratch_keys:  # a run that died mid-way recorded these; nothing refers to them
        _discard_quietly(image.scratch_keys)
    if image.attempts > MAX_ATTEMPTS:
        reason = "This photo could not be processed: it stopped the worker every time."
        _image_settle(image, mine, state=ImageState.FAILED, error=reason, scratch_keys=[])
        metrics.IMAGES_PROCESSED.inc(format="unknown", outcome="failed")
        return
    replaced = [key for key in image.storage_keys() if key != image.original_key]  # reprocess
    planned = {
        name: {fmt: storage.rendition_key(fmt) for fmt in ("webp", "jpeg")}
        for name in images.RENDITIONS
    }
    scratch = [key for keys in planned.values() for key in keys.values()]
    started, source_format = time.perf_counter(), "unknown"
    try:
        if not mine.update(scratch_keys=scratch):
            return  # another run took the claim meanwhile
        original = storage.media_read(image.original_key)
        source_format = _format_of(original)
        result = images.render_renditions(original)
        renditions, renditions_bytes = {}, 0
        for name, rendition in result.renditions.items():
            renditions[name] = {"width": rendition.width, "height": rendition.height}
            for fmt in ("webp", "jpeg"):
                data = getattr(rendition, fmt)
                renditions[name][fmt] = storage.rendition_save(planned[name][fmt], data)
                renditions_bytes += len(data)
    except images.ImageRejected as exc:
        _image_settle(image, mine, state=ImageState.FAILED, error=exc.reason, scratch_keys=[])
        _discard_quietly(scratch)
        _count_processing(source_format, "failed", started)
        return
    except FileNotFoundError:
        error = "The uploaded file was lost."
        _image_settle(image, mine, state=ImageState.FAILED, error=error, scratch_keys=[])
        _discard_quietly(scratch)
        _count_processing(source_format, "failed", started)
        return
    except StorageUnavailable:
        _discard_quietly(scratch)
        mine.update(state=ImageState.PENDING, attempts=F("attempts") - 1, scratch_keys=[])
        _count_processing(source_format, "retry", started)
        raise
    settled = _image_settle(
        image,
        mine,
        state=ImageState.READY,
        width=result.width,
        height=result.height,
        blurhash=result.blurhash,
        renditions=renditions,
        renditions_bytes=renditions_bytes,
        scratch_keys=[],
    )
    _discard_quietly(replaced if settled else scratch)
    _count_processing(source_format, "ready", started)


def _format_of(original: bytes) -> str:
    try:
        return images.detect_format(original[:_SNIFF_BYTES])
    except images.ImageRejected:
        return "unknown"


def _count_processing(fmt: str, outcome: str, started: float) -> None:
    metrics.IMAGES_PROCESSED.inc(format=fmt, outcome=outcome)
    metrics.IMAGE_PROCESSING_SECONDS.observe(
        time.perf_counter() - started, format=fmt, outcome=outcome
    )


def _image_settle(image: Image, claim, *, state: str, **fields) -> bool:
    """Record the end of processing and tell the image's owner, in one transaction; only
    while this run still holds the claim (`claim`: the image in processing, claimed at
    this run's time)."""
    with transaction.atomic():
        # update() skips auto_now: updated_at is written here, so copies keyed by it
        # (stories.cards) see the change
        settled = claim.update(state=state, updated_at=timezone.now(), **fields)
        if settled:
            purpose = registry.purpose_get(image.purpose)
            if purpose is not None:
                image.state = state
                for name, value in fields.items():
                    setattr(image, name, value)
                purpose.on_settled(image)
    return bool(settled)


def images_delete(*, images_to_delete) -> None:
    """Delete image rows now and their files after commit (by a task, with retries)."""
    images_to_delete = list(images_to_delete)
    keys = [key for image in images_to_delete for key in image.storage_keys()]
    Image.objects.filter(pk__in=[image.pk for image in images_to_delete]).delete()
    if keys:
        enqueue_on_commit(tasks.files_delete_task, keys)


def images_purge(*, images_to_purge) -> int:
    """Delete images' files now, then their rows: for a task that must finish what it
    started (account deletion). A storage failure raises StorageUnavailable before any
    row went, so a retry finds the files again; deleting twice is harmless."""
    images = list(images_to_purge)
    files_delete(keys=[key for image in images for key in image.storage_keys()])
    Image.objects.filter(pk__in=[image.pk for image in images]).delete()
    return len(images)


def files_delete(*, keys: list[str]) -> None:
    storage.media_delete(keys)


def _discard_quietly(keys) -> None:
    try:
        storage.media_delete(keys)
    except StorageUnavailable:
        logger.warning("could not delete %d orphaned files", len(keys), exc_info=True)


def image_requeue_stuck() -> int:
    """Queue again every image whose processing was lost (worker killed, broker reset)."""
    cutoff = timezone.now() - STUCK_AFTER
    stuck = list(
        Image.objects.filter(
            Q(state=ImageState.PROCESSING, claimed_at__lt=cutoff)
            | Q(state=ImageState.PENDING, created_at__lt=cutoff)
        ).values_list("pk", flat=True)[:500]
    )
    for image_id in stuck:
        enqueue_on_commit(tasks.image_process_task, str(image_id))
    return len(stuck)


def image_reprocess(*, image_ids) -> int:
    """Render images again from their kept originals (after a pipeline change, or to retry
    a failure); old renditions are replaced once the new ones are written."""
    redo = Image.objects.filter(pk__in=image_ids).exclude(original_key="")
    redo_ids = list(redo.values_list("pk", flat=True))
    # a fresh budget: earlier attempts say nothing about this run
    Image.objects.filter(pk__in=redo_ids).update(
        state=ImageState.PENDING, error="", attempts=0, claimed_by="", updated_at=timezone.now()
    )
    for image_id in redo_ids:
        enqueue_on_commit(tasks.image_process_task, str(image_id))
    return len(redo_ids)


# --- what is in storage ------------------------------------------------------------------


def image_keys_known() -> set[str]:
    """Every key a row refers to: originals, renditions and the renditions a run in
    progress is writing (every photo of every purpose is an Image)."""
    known: set[str] = set()
    rows = Image.objects.values_list("original_key", "renditions", "scratch_keys")
    for original, renditions, scratch in rows.iterator(chunk_size=2000):
        image = Image(original_key=original, renditions=renditions)
        known.update(image.storage_keys())
        known.update(scratch or [])
    return known


@dataclass
class MediaCheck:
    """What media_check found: files no row refers to, and keys with no file."""

    orphans: list[storage.StoredFile] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    files: int = 0
    recent_unreferenced: int = 0  # too new to call orphans: an upload mid-way


def media_check(*, min_age: timedelta = ORPHAN_MIN_AGE) -> MediaCheck:
    """Compare storage with the rows. A file younger than min_age with no row is left out
    of the orphans: an upload stores its original before its row commits, and a deleted
    image's files are removed by a task after the commit."""
    known = image_keys_known()
    found = MediaCheck()
    seen: set[str] = set()
    cutoff = timezone.now() - min_age
    for stored in storage.media_list():
        found.files += 1
        seen.add(stored.key)
        if stored.key in known:
            continue
        if stored.modified > cutoff:
            found.recent_unreferenced += 1
        else:
            found.orphans.append(stored)
    found.missing = sorted(known - seen)
    return found


def media_orphans_delete(*, orphans: list[storage.StoredFile]) -> int:
    """Delete files media_check called orphans, if still no row refers to them."""
    known = image_keys_known()
    keys = [orphan.key for orphan in orphans if orphan.key not in known]
    storage.media_delete(keys)
    return len(keys)


def storage_measure() -> dict[str, dict[str, int]]:
    """Bytes and files in media storage by kind (the key's first folder), for the
    storage metrics; a periodic task runs it (a listing is too slow for a scrape)."""
    totals: dict[str, dict[str, int]] = {
        kind: {"bytes": 0, "files": 0} for kind in ("originals", "renditions")
    }
    for stored in storage.media_list():
        kind = stored.key.split("/", 1)[0]
        entry = totals.setdefault(kind if "/" in stored.key else "other", {"bytes": 0, "files": 0})
        entry["bytes"] += stored.size
        entry["files"] += 1
    for kind, entry in totals.items():
        metrics.STORAGE_BYTES.set(entry["bytes"], kind=kind)
        metrics.STORAGE_OBJECTS.set(entry["files"], kind=kind)
    return totals
