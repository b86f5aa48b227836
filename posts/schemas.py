from datetime import datetime

from django.urls import reverse
from ninja import Schema

from accounts.schemas import UserSummaryOut
from posts.models import ImageState
from posts.text import caption_html

RENDITION_NAMES = ("thumbnail", "small", "medium", "large")


def media_url(image, rendition: str, fmt: str) -> str:
    """The app's own, checked URL for one rendition of an image."""
    return media_url_for_id(image.pk, rendition, fmt)


def media_url_for_id(image_id, rendition: str, fmt: str) -> str:
    return reverse("posts:media", kwargs={"image_id": image_id, "rendition": rendition, "fmt": fmt})


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


class CircleRefOut(Schema):
    id: str
    name: str

    @staticmethod
    def resolve_id(obj) -> str:
        return str(obj.pk)


class PostOut(Schema):
    id: str
    author: UserSummaryOut
    caption: str
    caption_html: str
    location: str
    visibility: str
    circle: CircleRefOut | None
    status: str
    created_at: datetime
    like_count: int
    comment_count: int
    liked: bool
    bookmarked: bool
    images: list[ImageOut]

    @staticmethod
    def resolve_id(obj) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_caption_html(obj) -> str:
        known = {mention.user.username for mention in obj.mentions.all()}
        return str(caption_html(obj.caption, known_usernames=known))

    @staticmethod
    def resolve_liked(obj) -> bool:
        return bool(getattr(obj, "liked", False))

    @staticmethod
    def resolve_bookmarked(obj) -> bool:
        return bool(getattr(obj, "bookmarked", False))

    @staticmethod
    def resolve_images(obj):
        return [link.image for link in obj.post_images.all()]


class LikeOut(Schema):
    liked: bool
    like_count: int


class CommentIn(Schema):
    content: str
    parent_id: str | None = None


class CommentOut(Schema):
    id: str
    author: UserSummaryOut
    content: str
    parent_id: str | None
    created_at: datetime
    like_count: int
    liked: bool
    reply_count: int

    @staticmethod
    def resolve_id(obj) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_parent_id(obj) -> str | None:
        return str(obj.parent_id) if obj.parent_id else None

    @staticmethod
    def resolve_liked(obj) -> bool:
        return bool(getattr(obj, "liked", False))


# --- feed and discovery (issue 5) ------------------------------------------------------


class HashtagOut(Schema):
    name: str
    post_count: int


class SearchOut(Schema):
    users: list[UserSummaryOut]
    hashtags: list[HashtagOut]
