"""The pipeline and its storage under faults: an S3 outage never fails a photo, a hung S3
answers 503 within seconds and creates nothing, a killed worker leaves no orphan files,
and a re-delivery never turns a ready photo failed.

S3 is moto's server behind tests.servers.FaultyProxy, which can refuse or hang: the
outage is the proxy's, so nothing another test uses is touched.
"""

import time
import urllib.request

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from accounts.services import api_token_create
from media import services, storage
from media.models import Image, ImageState
from media.storage import StorageUnavailable
from posts.models import Post, PostStatus
from tests.media.conftest import s3_storages
from tests.posts.conftest import jpeg_upload, make_post
from tests.servers import FaultyProxy

pytestmark = pytest.mark.django_db

GENEROUS_S = 15  # far above the configured timeouts, far below a hang


@pytest.fixture
def proxied_s3(settings, s3_storage, s3_endpoint):
    """settings.STORAGES on moto through a proxy the test can break (1 s read timeout)."""
    client, bucket = s3_storage
    proxy = FaultyProxy(int(s3_endpoint.rsplit(":", 1)[1]))
    settings.STORAGES = s3_storages(proxy.url, bucket, read_timeout=1)
    yield proxy, client, bucket
    proxy.close()


def bucket_keys(client, bucket) -> set[str]:
    return {obj["Key"] for obj in client.list_objects_v2(Bucket=bucket).get("Contents", [])}


def test_an_s3_outage_during_processing_never_fails_the_photo(proxied_s3, user):
    proxy, client, bucket = proxied_s3
    post = make_post(user, process=False)
    image = post.images.get()
    proxy.mode = "refuse"
    for _ in range(services.MAX_ATTEMPTS + 2):  # more deliveries than the image's budget
        with pytest.raises(StorageUnavailable):
            services.image_process(image_id=image.pk)
        image.refresh_from_db()
        assert (image.state, image.attempts, image.error) == (ImageState.PENDING, 0, "")
    proxy.mode = "forward"  # the store is back
    services.image_process(image_id=image.pk)
    image.refresh_from_db()
    assert image.state == ImageState.READY and image.attempts == 1
    assert Post.objects.get(pk=post.pk).status == PostStatus.PUBLISHED
    assert bucket_keys(client, bucket) == set(image.storage_keys())  # no leftovers


@pytest.mark.parametrize("mode", ["hang", "refuse"])
def test_a_hung_or_refusing_store_answers_503_quickly_and_creates_nothing(proxied_s3, user, mode):
    proxy, client, bucket = proxied_s3
    proxy.mode = mode
    _, token = api_token_create(user=user)
    started = time.monotonic()
    response = Client(HTTP_AUTHORIZATION=f"Bearer {token}").post(
        "/api/v1/posts", {"images": [jpeg_upload()]}, HTTP_IDEMPOTENCY_KEY="one"
    )
    assert time.monotonic() - started < GENEROUS_S
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "storage_unavailable"
    assert not Post.objects.exists() and not Image.objects.exists()
    proxy.mode = "forward"
    assert bucket_keys(client, bucket) == set()  # nothing half-written stayed behind


def test_readyz_names_a_hung_store_within_seconds(proxied_s3, client):
    proxy, _, _ = proxied_s3
    proxy.mode = "hang"
    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < GENEROUS_S
    assert response.status_code == 503
    assert response.json()["down"] == ["storage"]


def test_a_worker_killed_mid_image_leaves_no_orphan_files(user, media_storage, monkeypatch):
    post = make_post(user, process=False)
    image = post.images.get()
    real_save, saved = storage.rendition_save, []

    def save_then_die(key, data):
        if len(saved) == 3:
            raise SystemExit("the worker was killed")  # nothing in the service catches it
        saved.append(real_save(key, data))
        return saved[-1]

    monkeypatch.setattr(storage, "rendition_save", save_then_die)
    with pytest.raises(SystemExit):
        services.image_process(image_id=image.pk)
    monkeypatch.setattr(storage, "rendition_save", real_save)
    image.refresh_from_db()
    assert image.state == ImageState.PROCESSING and set(saved) <= set(image.scratch_keys)
    assert all(default_storage.exists(key) for key in saved)

    # the periodic re-queue's delivery, once the claim is stale
    stale = timezone.now() - services.STUCK_AFTER * 2
    Image.objects.filter(pk=image.pk).update(claimed_at=stale)
    services.image_process(image_id=image.pk)
    image.refresh_from_db()
    assert image.state == ImageState.READY and image.scratch_keys == []
    assert not any(default_storage.exists(key) for key in saved)
    on_disk = {
        str(path.relative_to(media_storage)) for path in media_storage.rglob("*") if path.is_file()
    }
    assert on_disk == set(image.storage_keys())


def test_reprocessing_resets_the_budget_and_a_redelivery_never_fails_a_ready_photo(user):
    post = make_post(user)
    image = post.images.get()
    Image.objects.filter(pk=image.pk).update(attempts=services.MAX_ATTEMPTS)
    services.image_reprocess(image_ids=[image.pk])
    for _ in range(services.MAX_ATTEMPTS + 2):  # the same job delivered again and again
        services.image_process(image_id=image.pk, delivery="job-1")
    image.refresh_from_db()
    assert image.state == ImageState.READY and image.attempts == 1 and image.error == ""
    assert Post.objects.get(pk=post.pk).status == PostStatus.PUBLISHED


def test_presigned_redirects_still_work_with_the_timeouts(proxied_s3, user, client_for):
    post = make_post(user)
    image = post.images.get()
    response = client_for(user).get(f"/media/{image.pk}/small.jpeg")
    assert response.status_code == 302
    with urllib.request.urlopen(response["Location"], timeout=5) as fetched:  # noqa: S310
        assert fetched.read()[:2] == b"\xff\xd8"
