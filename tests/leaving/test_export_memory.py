"""Memory stays bounded while 500 photos are exported: the ZIP is streamed from storage
into storage, one piece of one photo at a time, never held whole."""

import io
import os
import tracemalloc

import pytest
from django.core.files.storage import default_storage
from PIL import Image as PILImage

from accounts.services import data_export_build, data_export_request
from media.models import Image, ImageState
from posts.models import Post, PostImage, PostStatus
from tests.factories import UserFactory
from tests.leaving.conftest import read_zip

pytestmark = pytest.mark.django_db

PHOTOS = 500


def _noisy_jpeg() -> bytes:
    """~80 kB that JPEG cannot shrink: random pixels."""
    buffer = io.BytesIO()
    PILImage.frombytes("RGB", (256, 256), os.urandom(256 * 256 * 3)).save(
        buffer, "JPEG", quality=95
    )
    return buffer.getvalue()


def test_exporting_500_photos_holds_a_small_part_of_them_in_memory(media_storage):
    person = UserFactory(username="snapper")
    data = _noisy_jpeg()
    keys = [default_storage.save(f"renditions/t/{n}.jpg", io.BytesIO(data)) for n in range(PHOTOS)]
    rendition = {"width": 128, "height": 128}
    images = Image.objects.bulk_create(
        Image(owner=person, purpose="post", state=ImageState.READY, width=128, height=128,
              renditions={"large": {**rendition, "jpeg": key, "webp": key}})
        for key in keys
    )  # fmt: skip
    posts = Post.objects.bulk_create(
        Post(author=person, status=PostStatus.PUBLISHED) for _ in range(PHOTOS)
    )
    PostImage.objects.bulk_create(
        PostImage(post=post, image=image, position=0)
        for post, image in zip(posts, images, strict=True)
    )
    export = data_export_request(user=person)
    total = PHOTOS * len(data)

    tracemalloc.start()
    try:
        data_export_build(export_id=export.pk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    export.refresh_from_db()
    assert export.photo_count == PHOTOS and export.size > total
    assert len([n for n in read_zip(export.key).namelist() if n.endswith(".jpg")]) == PHOTOS
    # the photos add up to ~40 MB; the build's peak is its rows, the page and one buffer
    assert total > 30e6
    assert peak < 10e6, f"peak {peak / 1e6:.1f} MB for {total / 1e6:.1f} MB of photos"
