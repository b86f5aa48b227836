"""Shapes of the stories API (shared/API.md: "Stories" and the story object)."""

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import model_serializer

from accounts.schemas import UserSummaryOut
from media.schemas import ImageOut
from posts.schemas import CircleRefOut


class StoryOut(Schema):
    """story: {id, author, image, audience, circle, created_at, expires_at, seen,
    view_count (author only: absent for everyone else)}. Built from stories that went
    through stories.selectors (stories_with_details + story_decorate)."""

    id: str
    author: UserSummaryOut
    image: ImageOut
    audience: Literal["followers", "circle"]
    circle: CircleRefOut | None
    created_at: datetime
    expires_at: datetime
    seen: bool
    view_count: int | None = None

    @staticmethod
    def resolve_id(obj) -> str:
        return str(obj.pk)

    @model_serializer(mode="wrap")
    def _view_count_for_the_author_only(self, handler):
        data = handler(self)
        if data.get("view_count") is None:
            data.pop("view_count", None)
        return data


class TrayEntryOut(Schema):
    user: UserSummaryOut
    has_unseen: bool
    stories: list[StoryOut]


class TrayOut(Schema):
    items: list[TrayEntryOut]


class StoryViewerOut(Schema):
    user: UserSummaryOut
    viewed_at: datetime

    @staticmethod
    def resolve_user(obj):
        return obj.viewer
