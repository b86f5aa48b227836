"""The image object of the API (shared/API.md, "Objects"), for every purpose."""

from datetime import datetime
from uuid import UUID

from ninja import Schema
from pydantic import Field

from media.links import media_url
from media.models import ImageState

# media.images.RENDITIONS, smallest first (the order API answers list them in)
RENDITION_NAMES = ("thumbnail", "small", "medium", "large")


class RenditionOut(Schema):
    width: int
    height: int
    webp: str
    jpeg: str


class RenditionsOut(Schema):
    thumbnail: RenditionOut
    small: RenditionOut
    medium: RenditionOut
    large: RenditionOut


class ImageOut(Schema):
    id: str
    status: str
    error: str
    width: int | None
    height: int | None
    alt: str
    blurhash: str
    renditions: RenditionsOut | None

    @staticmethod
    def resolve_id(obj) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_status(obj) -> str:
        return obj.state if obj.state in (ImageState.READY, ImageState.FAILED) else "processing"

    @staticmethod
    def resolve_renditions(obj):
        if obj.state != ImageState.READY:
            return None
        return {
            name: {
                "width": spec["width"],
                "height": spec["height"],
                "webp": media_url(obj, name, "webp"),
                "jpeg": media_url(obj, name, "jpeg"),
            }
            for name, spec in obj.renditions.items()
        }


SIGNED_URLS_MAX = 50


class SignedUrlsIn(Schema):
    image_ids: list[UUID] = Field(min_length=1, max_length=SIGNED_URLS_MAX)


class SignedImageOut(Schema):
    id: str
    renditions: RenditionsOut


class SignedUrlsOut(Schema):
    """Per-viewer signed URLs: usable without credentials until expires_at."""

    expires_at: datetime
    images: list[SignedImageOut]
