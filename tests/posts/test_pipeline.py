"""The processing service and tasks: claim, idempotency, failures, retries, stuck jobs,
and the S3 code path against a real S3 HTTP endpoint (moto's server mode)."""

import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from media import services
from media.models import Image, ImageState
from media.storage import StorageUnavailable
from media.tasks import image_process_task
from posts.models import Post, PostStatus
from tests.media.conftest import s3_storages
from tests.posts.conftest import jpeg_bytes, jpeg_upload, make_post
from tests.servers import celery_worker

pytestmark = pytest.mark.django_db


def only_image(post) -> Image:
    return post.images.get()


def test_processing_twice_changes_nothing(author):
    post = make_post(author)
    image = only_image(post)
    before = (image.renditions, image.updated_at)
    services.image_process(image_id=image.pk)
    image.refresh_from_db()
    assert (image.renditions, image.updated_at) == before
    assert image.attempts == 1


def test_corrupt_image_fails_the_post_with_a_reason(author):
    truncated = jpeg_bytes((1200, 900))[:3000]  # a real JPEG header, the rest cut off
    post = make_post(author, files=[SimpleUploadedFile("cut.jpg", truncated)])
    image = only_image(post)
    assert image.state == ImageState.FAILED
    assert image.error  # readable, shown to the author
    assert post.status == PostStatus.FAILED
    assert image.renditions == {}


def test_one_failed_photo_fails_the_whole_post(author):
    bad = SimpleUploadedFile("cut.jpg", jpeg_bytes((1200, 900))[:3000])
    post = make_post(author, files=[jpeg_upload(), bad])
    states = sorted(post.images.values_list("state", flat=True))
    assert states == ["failed", "ready"]
    assert post.status == PostStatus.FAILED


def test_stuck_image_is_requeued_and_reclaimed(author, django_capture_on_commit_callbacks):
    post = make_post(author, process=False)
    image = only_image(post)
    Image.objects.filter(pk=image.pk).update(
        state=ImageState.PROCESSING, claimed_at=timezone.now() - timedelta(minutes=10)
    )
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.image_requeue_stuck() == 1
    assert len(callbacks) == 1
    services.image_process(image_id=image.pk)  # what the re-queued task runs
    assert Post.objects.get(pk=post.pk).status == PostStatus.PUBLISHED


def test_fresh_processing_claim_is_not_stolen(author):
    post = make_post(author, process=False)
    image = only_image(post)
    Image.objects.filter(pk=image.pk).update(state=ImageState.PROCESSING, claimed_at=timezone.now())
    services.image_process(image_id=image.pk)
    assert Image.objects.get(pk=image.pk).state == ImageState.PROCESSING


def test_a_redelivered_job_takes_its_own_claim_back_at_once(author):
    post = make_post(author, process=False)
    image = only_image(post)
    # the first delivery claimed it, then its worker died mid-job
    Image.objects.filter(pk=image.pk).update(
        state=ImageState.PROCESSING, claimed_at=timezone.now(), claimed_by="delivery-1"
    )
    services.image_process(image_id=image.pk, delivery="delivery-2")  # someone else's job
    assert Image.objects.get(pk=image.pk).state == ImageState.PROCESSING
    services.image_process(image_id=image.pk, delivery="delivery-1")  # the same job again
    assert Image.objects.get(pk=image.pk).state == ImageState.READY
    assert Post.objects.get(pk=post.pk).status == PostStatus.PUBLISHED


def test_an_image_that_keeps_killing_its_worker_fails_with_a_reason(author):
    post = make_post(author, process=False)
    image = only_image(post)
    Image.objects.filter(pk=image.pk).update(
        state=ImageState.PROCESSING,
        claimed_at=timezone.now() - timedelta(minutes=10),
        attempts=services.MAX_ATTEMPTS,
    )
    services.image_process(image_id=image.pk)
    image.refresh_from_db()
    assert image.state == ImageState.FAILED and "stopped the worker" in image.error
    assert Post.objects.get(pk=post.pk).status == PostStatus.FAILED


def test_task_retries_only_transient_storage_errors():
    assert image_process_task.autoretry_for == (StorageUnavailable,)
    # backoff 2, 4, 8, ... capped at 120 s: minutes of outage, then the periodic re-queue
    assert image_process_task.max_retries == 8
    assert image_process_task.retry_backoff == 2 and image_process_task.retry_backoff_max == 120
    assert image_process_task.acks_late


# --- S3 over HTTP -------------------------------------------------------------------------


def test_s3_upload_process_serve_and_delete(s3_storage, author, client_for, outsider):
    client, bucket = s3_storage
    post = make_post(author, visibility="followers")
    image = only_image(post)
    stored = {obj["Key"] for obj in client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert set(image.storage_keys()) == stored

    # the app's own URL, checked, then a redirect to a signed URL that expires in minutes
    from media.links import media_url

    response = client_for(author).get(media_url(image, "large", "jpeg"))
    assert response.status_code == 302
    signed = response["Location"]
    assert "X-Amz-Signature=" in signed and "X-Amz-Expires=300" in signed
    with urllib.request.urlopen(signed, timeout=5) as fetched:  # noqa: S310
        assert fetched.read()[:2] == b"\xff\xd8"
    assert client_for(outsider).get(media_url(image, "large", "jpeg")).status_code == 404

    # the bucket is private: the unsigned object URL is refused
    unsigned = signed.split("?")[0]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(unsigned, timeout=5)  # noqa: S310
    assert refused.value.code == 403

    services.files_delete(keys=image.storage_keys())
    assert client.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_storage_down_answers_503_and_keeps_nothing(settings, author):
    settings.STORAGES = s3_storages("http://127.0.0.1:1", "nowhere")
    from django.test import Client

    from accounts.services import api_token_create

    _, raw = api_token_create(user=author)
    response = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").post(
        "/api/v1/posts", {"images": [jpeg_upload()]}
    )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "storage_unavailable"
    assert not Post.objects.exists()


def test_storage_failure_while_processing_puts_image_back_for_retry(settings, author):
    post = make_post(author, process=False)
    image = only_image(post)
    settings.STORAGES = s3_storages("http://127.0.0.1:1", "nowhere")
    with pytest.raises(StorageUnavailable):
        services.image_process(image_id=image.pk)
    assert Image.objects.get(pk=image.pk).state == ImageState.PENDING


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_real_worker_publishes_an_uploaded_post(author):
    from django.test import Client

    from accounts.services import api_token_create

    _, raw = api_token_create(user=author)
    with celery_worker():
        response = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").post(
            "/api/v1/posts", {"images": [jpeg_upload(), jpeg_upload("b.jpg")]}
        )
        assert response.status_code == 202
        post_id = response.json()["id"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = Post.objects.get(pk=post_id).status
            if status != PostStatus.PROCESSING:
                break
            time.sleep(0.3)
    assert status == PostStatus.PUBLISHED


def _children(pid: int) -> list[int]:
    path = f"/proc/{pid}/task/{pid}/children"
    with open(path) as f:
        return [int(child) for child in f.read().split()]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_job_is_replaced_and_the_job_finishes(author):
    """SIGKILL the pool process while it renders: the job was not acknowledged (acks_late,
    reject_on_worker_lost), the worker starts a new process, the job is delivered again,
    takes its own claim back and the post is published — no waiting for the stuck sweep."""
    import os
    import signal

    heic = (
        Path(__file__).resolve().parents[1] / "photos" / "fixture-12mp-orient6.heic"
    ).read_bytes()
    post = make_post(author, process=False, files=[SimpleUploadedFile("big.heic", heic)])
    image = only_image(post)
    with celery_worker(pool="prefork") as worker:
        services.image_reprocess(image_ids=[image.pk])  # queued to the real broker
        deadline = time.monotonic() + 60
        while Image.objects.get(pk=image.pk).state != ImageState.PROCESSING:
            assert time.monotonic() < deadline, "the worker never claimed the image"
            time.sleep(0.01)
        (child,) = _children(worker.pid)
        os.kill(child, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while Post.objects.get(pk=post.pk).status == PostStatus.PROCESSING:
            assert time.monotonic() < deadline, "the job was not redone"
            time.sleep(0.2)
        assert worker.poll() is None  # the worker itself lived on
    image.refresh_from_db()
    assert image.state == ImageState.READY and image.attempts == 2
    assert Post.objects.get(pk=post.pk).status == PostStatus.PUBLISHED


def test_reprocess_replaces_renditions_and_removes_the_old_files(
    author, django_capture_on_commit_callbacks
):
    from django.core.files.storage import default_storage

    post = make_post(author)
    image = only_image(post)
    old_keys = [k for k in image.storage_keys() if k != image.original_key]
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.image_reprocess(image_ids=[image.pk]) == 1
    assert len(callbacks) == 1
    services.image_process(image_id=image.pk)
    image.refresh_from_db()
    assert image.state == ImageState.READY
    new_keys = [k for k in image.storage_keys() if k != image.original_key]
    assert set(new_keys).isdisjoint(old_keys)
    assert all(default_storage.exists(k) for k in new_keys)
    assert not any(default_storage.exists(k) for k in old_keys)


def test_reprocess_command_needs_a_choice(author, capsys):
    from django.core.management import call_command

    make_post(author)
    call_command("reprocess_media")
    assert "Name image ids" in capsys.readouterr().err
    call_command("reprocess_media", "--all")
    assert "Queued 1 images." in capsys.readouterr().out
