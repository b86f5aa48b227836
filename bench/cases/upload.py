"""Upload acknowledgment: `POST /api/v1/posts` with one 4 MB JPEG, from the separate load
process at a steady rate, until the 202 arrives. The answer includes storing the original
privately, the rows, and queueing the processing task on the Redis broker — the rendering
itself happens later in a worker and is measured by the `images` case.

No worker runs here: the queued jobs are dropped from the broker afterwards, and the posts
and their stored originals are deleted.
"""

import io
import uuid

from bench.harness import Bench, HttpRequest, Result

DESCRIPTION = "POST /api/v1/posts with a 4 MB JPEG: time to the 202, 10 rps for 20 s"

RATE = 10.0
DURATION_S = 20.0
TARGET_BYTES = 4 * 1024 * 1024
USERNAME = "bench_uploader"


def four_mb_jpeg() -> bytes:
    """A 12 MP photo-like JPEG of about 4 MB (a sample photo with fine grain added, as a
    phone's noisy sensor gives)."""
    from PIL import Image, ImageChops

    from bench.cases.images import PHOTOS_DIR

    photo = Image.open(PHOTOS_DIR / "fixture-12mp-4032x3024-q92.jpg").convert("RGB")
    grain = Image.effect_noise(photo.size, 24).convert("RGB")
    noisy = ImageChops.add(photo, grain, scale=1.0, offset=-24)
    best = b""
    for quality in (80, 85, 88, 90, 92, 94, 96):
        buffer = io.BytesIO()
        noisy.save(buffer, "JPEG", quality=quality)
        best = buffer.getvalue()
        if len(best) >= TARGET_BYTES:
            break
    return best


def multipart(photo: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = b"".join(
        [
            f"--{boundary}\r\n".encode(),
            b'Content-Disposition: form-data; name="caption"\r\n\r\nbench upload\r\n',
            f"--{boundary}\r\n".encode(),
            b'Content-Disposition: form-data; name="images"; filename="photo.jpg"\r\n',
            b"Content-Type: image/jpeg\r\n\r\n",
            photo,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    return body, f"multipart/form-data; boundary={boundary}"


def run(bench: Bench) -> list[Result]:
    from accounts.models import User
    from accounts.services import api_token_create

    user, _ = User.objects.get_or_create(
        username=USERNAME, defaults={"email": f"{USERNAME}@example.com"}
    )
    _, token = api_token_create(user=user, name="bench")
    photo = four_mb_jpeg()
    body, content_type = multipart(photo)
    request = HttpRequest(
        path="/api/v1/posts",
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
        body=body,
    )
    try:
        result = bench.load(
            f"upload/ack POST /api/v1/posts ({len(photo) / 1024 / 1024:.1f} MB JPEG)",
            [request],
            rate=RATE,
            duration_s=DURATION_S,
            concurrency=8,
        )
    finally:
        _clean_up(user)
    return [result]


def _clean_up(user) -> None:
    """Delete what the load made: posts, images, stored originals and the queued jobs."""
    import redis
    from django.conf import settings
    from django.core.files.storage import default_storage

    from media.models import Image

    keys = [key for image in Image.objects.filter(owner=user) for key in image.storage_keys()]
    user.posts.all().delete()
    Image.objects.filter(owner=user).delete()
    for key in keys:
        default_storage.delete(key)
    if settings.REDIS_URL:
        client = redis.Redis.from_url(settings.REDIS_URL)
        client.delete("celery")  # the default queue's list: only this case's jobs sit there
