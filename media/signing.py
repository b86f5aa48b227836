"""Per-viewer signed media URLs, for clients that cannot send a header with an image
request (an <img> in a web view, a native image loader).

The signature binds the viewer and the image and expires after MEDIA_SIGNED_URL_SECONDS;
it stands in for the viewer's credentials only. The view still asks the image's rule on
every request, so a viewer who lost access (unfollowed, blocked, left the conversation,
banned) gets 404 at once, however fresh the signature.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.utils import timezone

from media.links import media_url_for_id

PARAMETER = "sig"


def _salt(image_id) -> str:
    return f"media.image.{image_id}"


def signed_url(*, image_id, rendition: str, fmt: str, viewer_id) -> str:
    token = signing.dumps(str(viewer_id), salt=_salt(image_id), compress=False)
    return f"{media_url_for_id(image_id, rendition, fmt)}?{PARAMETER}={token}"


def signed_urls_expire_at() -> datetime:
    """When URLs signed now stop working (the earliest, to be safe for clients)."""
    return timezone.now() + timedelta(seconds=settings.MEDIA_SIGNED_URL_SECONDS)


def signed_viewer_id(*, image_id, token: str) -> str | None:
    """The viewer a signature was made for, or None when it is forged, for another image,
    or expired."""
    try:
        return signing.loads(token, salt=_salt(image_id), max_age=settings.MEDIA_SIGNED_URL_SECONDS)
    except signing.BadSignature:  # SignatureExpired is one
        return None


def signed_renditions(*, image, viewer_id) -> dict:
    """An image's renditions as the API's image object has them, with signed URLs."""
    return {
        name: {
            "width": spec["width"],
            "height": spec["height"],
            **{
                fmt: signed_url(image_id=image.pk, rendition=name, fmt=fmt, viewer_id=viewer_id)
                for fmt in ("webp", "jpeg")
            },
        }
        for name, spec in image.renditions.items()
    }
