from datetime import datetime

from ninja import Schema

from accounts.schemas import UserSummaryOut


class AdminUserOut(Schema):
    """A person as operators see them: the profile, the account flags, the dates."""

    id: str
    username: str
    email: str
    display_name: str
    is_active: bool
    is_staff: bool
    is_superuser: bool
    date_joined: datetime
    last_login: datetime | None
    posts_count: int

    @staticmethod
    def resolve_id(obj) -> str:
        return str(obj.pk)


class AdminPostOut(Schema):
    """A post as operators see it: who, what it says, to whom, its state and counts."""

    id: str
    author: UserSummaryOut
    author_banned: bool
    caption: str
    location: str
    visibility: str
    circle_id: str | None
    status: str
    created_at: datetime
    like_count: int
    comment_count: int
    image_count: int

    @staticmethod
    def resolve_id(obj) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_author_banned(obj) -> bool:
        return not obj.author.is_active

    @staticmethod
    def resolve_circle_id(obj) -> str | None:
        return str(obj.circle_id) if obj.circle_id else None


class AdminUserListParams(Schema):
    q: str | None = None
    banned: bool | None = None


class AdminPostListParams(Schema):
    q: str | None = None
    author: str | None = None
