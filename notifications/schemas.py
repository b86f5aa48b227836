"""Shapes of the notifications API (shared/API.md, "Notifications")."""

from datetime import datetime

from ninja import Schema


class UserSummaryOut(Schema):
    id: str
    username: str
    display_name: str
    avatar: str | None


class TargetOut(Schema):
    type: str
    id: str


class NotificationOut(Schema):
    """notification: {id, type, actor, target: {type, id}, text, read, created_at}."""

    id: str
    type: str
    actor: UserSummaryOut
    target: TargetOut
    text: str
    read: bool
    created_at: datetime


class UnreadCountOut(Schema):
    count: int


class NotificationsReadIn(Schema):
    """No ids (or null): every notification. An empty list marks none."""

    ids: list[str] | None = None
