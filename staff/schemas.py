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


class PeopleStatsOut(Schema):
    total: int
    banned: int
    new_this_week: int
    active_1d: int
    active_7d: int
    active_30d: int


class ContentStatsOut(Schema):
    posts: int
    photos: int
    stories: int
    stories_live: int
    messages: int
    conversations: int
    circles: int
    albums: int
    album_photos: int
    notifications: int


class FailureReasonOut(Schema):
    reason: str
    count: int


class ImageStatsOut(Schema):
    by_state: dict[str, int]
    failed_last_day: int
    failure_reasons: list[FailureReasonOut]


class StorageStatsOut(Schema):
    originals_bytes: int
    renditions_bytes: int
    images_unmeasured: int


class QueueStatsOut(Schema):
    available: bool
    depth: int | None
    oldest_waiting_seconds: float | None


class SocketStatsOut(Schema):
    open: int | None


class DayCountOut(Schema):
    day: str
    count: int


class StatsOut(Schema):
    """The stats page's figures: GET /admin/stats."""

    generated_at: datetime
    people: PeopleStatsOut
    content: ContentStatsOut
    images: ImageStatsOut
    storage: StorageStatsOut
    queue: QueueStatsOut
    sockets: SocketStatsOut
    daily: dict[str, list[DayCountOut]]
