"""The media tasks' bodies, called directly (no eager mode): the periodic re-queue finds
lost images and queues them, and the file deletion removes what it is given."""

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from media.models import Image, ImageState
from media.tasks import files_delete_task, image_requeue_stuck_task
from tests.posts.conftest import make_post

pytestmark = pytest.mark.django_db


def test_the_requeue_task_queues_images_lost_in_processing(
    user, media_storage, django_capture_on_commit_callbacks
):
    lost = make_post(user, process=False).images.get()
    fresh = make_post(user, process=False).images.get()
    stale = timezone.now() - timedelta(minutes=30)
    Image.objects.filter(pk=lost.pk).update(state=ImageState.PROCESSING, claimed_at=stale)
    with django_capture_on_commit_callbacks() as queued:
        assert image_requeue_stuck_task.run() == 1  # the fresh pending one waits its turn
    assert len(queued) == 1
    Image.objects.filter(pk=fresh.pk).update(created_at=stale)
    with django_capture_on_commit_callbacks() as queued:
        assert image_requeue_stuck_task.run() == 2
    assert len(queued) == 2


def test_the_file_deletion_task_removes_the_files(user, media_storage):
    image = make_post(user).images.get()
    keys = image.storage_keys()
    assert all(default_storage.exists(key) for key in keys)
    files_delete_task.run(keys)
    assert not any(default_storage.exists(key) for key in keys)
    files_delete_task.run(keys)  # a redelivery: already gone is fine


def test_reprocess_media_queues_the_failed_images(user, media_storage, capsys):
    ready = make_post(user).images.get()
    failed = make_post(user).images.get()
    Image.objects.filter(pk=failed.pk).update(state=ImageState.FAILED, error="x", attempts=3)
    call_command("reprocess_media", "--failed")
    assert "Queued 1 images." in capsys.readouterr().out
    failed.refresh_from_db()
    assert (failed.state, failed.error, failed.attempts) == (ImageState.PENDING, "", 0)
    assert Image.objects.get(pk=ready.pk).state == ImageState.READY
    call_command("reprocess_media")
    assert "Name image ids" in capsys.readouterr().err
