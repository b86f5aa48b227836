from datetime import datetime

from ninja import Schema

from accounts.schemas import UserSummaryOut
from circles.openapi import non_blank
from media.schemas import ImageOut
from posts.models import COMMENT_MAX
from posts.text import caption_html


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
    def resolve_comment_count(obj) -> int:
        return obj.comments_shown  # only the comments its viewer may read

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
    content: str = non_blank(json_schema_extra={"maxLength": COMMENT_MAX})
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
    def resolve_reply_count(obj) -> int:
        return obj.replies_shown  # only the replies its viewer may read

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
