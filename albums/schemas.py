"""The album objects of the API contract (shared/API.md, "Objects": album, album item)."""

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field

from accounts.schemas import UserSummaryOut
from albums.models import DESCRIPTION_MAX, TITLE_MAX
from circles.openapi import non_blank
from media.schemas import ImageOut
from posts.schemas import CircleRefOut


class CropOut(Schema):
    """The cover's crop box in fractions (0..1) of the photo's width and height."""

    x: float
    y: float
    width: float
    height: float


class CoverOut(Schema):
    image: ImageOut
    aspect: str
    crop: CropOut


class AlbumItemOut(Schema):
    id: str
    image: ImageOut
    added_by: UserSummaryOut
    added_at: datetime

    @staticmethod
    def resolve_id(obj) -> str:
        return str(obj.pk)


class AlbumOut(Schema):
    id: str
    title: str
    description: str
    owner: UserSummaryOut
    circle: CircleRefOut | None
    audience: str
    # beyond API.md: personal (its owner adds) or circle (every member adds)
    kind: str
    cover: CoverOut | None
    photo_count: int
    like_count: int
    liked: bool
    created_at: datetime

    @staticmethod
    def resolve_id(obj) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_cover(obj):
        item = obj.cover_item
        if item is None or not obj.cover_aspect or not getattr(obj, "cover_visible", False):
            return None
        return {"image": item.image, "aspect": obj.cover_aspect, "crop": obj.cover_crop}


class AlbumDetailOut(AlbumOut):
    items: list[AlbumItemOut]

    @staticmethod
    def resolve_items(obj):
        return obj.items_list  # albums.selectors.album_items, attached by the handler


class AlbumItemsOut(Schema):
    items: list[AlbumItemOut]


class AlbumIn(Schema):
    title: str = non_blank(max_length=TITLE_MAX)
    description: str = Field("", max_length=DESCRIPTION_MAX)
    circle_id: str | None = None
    # beyond API.md: with circle_id, "personal" makes your own album shown to that circle
    kind: Literal["personal", "circle"] | None = None


class AlbumPatchIn(Schema):
    title: str | None = Field(None, max_length=TITLE_MAX)
    description: str | None = Field(None, max_length=DESCRIPTION_MAX)


class AlbumPostPickIn(Schema):
    post_id: str
    image_ids: list[str] | None = Field(None, max_length=10)


class AlbumMoveIn(Schema):
    """Put the photo right after after_id; null puts it first."""

    after_id: str | None = None


class CoverIn(Schema):
    item_id: str
    aspect: Literal["1:1", "2:3", "16:9"]
    crop: dict


class MoveOut(Schema):
    position: int
