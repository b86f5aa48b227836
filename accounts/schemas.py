"""Shapes of the accounts API (see shared/API.md, "Objects")."""

from datetime import datetime
from typing import Literal

from django.urls import reverse
from ninja import Schema
from pydantic import Field, StrictBool, model_serializer

from accounts.people import avatar_url
from accounts.selectors import user_relationship
from circles.openapi import USERNAME_SCHEMA, non_blank

# --- users ----------------------------------------------------------------------------


class UserSummaryOut(Schema):
    """user-summary: {id, username, display_name, avatar}."""

    id: str
    username: str
    display_name: str
    avatar: str | None

    @staticmethod
    def resolve_id(obj) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_avatar(obj) -> str | None:
        return avatar_url(obj)


class RelationshipOut(Schema):
    following: bool
    followed_by: bool
    requested: bool
    blocking: bool


class UserOut(UserSummaryOut):
    """user: the summary plus profile, counts and (not for yourself) relationship.

    Built from users annotated by accounts.selectors.user_annotate_profile."""

    bio: str
    is_private: bool
    followers_count: int
    following_count: int
    posts_count: int
    relationship: RelationshipOut | None = None

    @staticmethod
    def resolve_relationship(obj):
        return user_relationship(obj)

    @model_serializer(mode="wrap")
    def _leave_out_own_relationship(self, handler):
        data = handler(self)
        if data.get("relationship") is None:
            data.pop("relationship", None)
        return data


class RegisterIn(Schema):
    """Passwords also pass Django's validators (not too common, not all digits, not like
    the username): 400 with the reason otherwise."""

    username: str = Field(max_length=150, json_schema_extra=USERNAME_SCHEMA)
    email: str = Field(max_length=254, json_schema_extra={"format": "email"})
    password: str = Field(max_length=4096, json_schema_extra={"minLength": 8})
    display_name: str = Field("", max_length=60)
    # beyond API.md: the invitation link's token (required when the instance is invite-only)
    invite_token: str = Field("", max_length=100)


class LoginIn(Schema):
    username: str = Field(max_length=254)
    password: str = Field(max_length=4096)
    # beyond API.md: required for an account with two-factor sign-in
    otp_code: str = Field("", max_length=32)


class ProfileIn(Schema):
    display_name: str | None = None
    bio: str | None = None
    is_private: StrictBool | None = None


class TokenIn(Schema):
    username: str = Field(max_length=254)
    password: str = Field(max_length=4096)
    name: str = Field("", max_length=60)
    # beyond API.md: required for an account with two-factor sign-in
    otp_code: str = Field("", max_length=32)


class TokenOut(Schema):
    id: str
    token: str


class TicketOut(Schema):
    ticket: str


# --- graph ----------------------------------------------------------------------------


class FollowStateOut(Schema):
    state: Literal["following", "requested"]


class FollowRequestOut(Schema):
    """{id, user, created_at}: built from requesters annotated with request_id/listed_at."""

    id: str
    user: UserOut
    created_at: datetime

    @staticmethod
    def resolve_id(obj) -> str:
        return str(obj.request_id)

    @staticmethod
    def resolve_user(obj):
        return obj

    @staticmethod
    def resolve_created_at(obj):
        return obj.listed_at


# --- circles --------------------------------------------------------------------------


class CircleSummaryOut(Schema):
    id: str
    name: str
    description: str
    owner: UserSummaryOut
    member_count: int

    @staticmethod
    def resolve_id(obj) -> str:
        return str(obj.pk)


class CircleOut(CircleSummaryOut):
    """circle: {id, name, description, owner, role (yours), member_count, conversation_id}."""

    role: Literal["owner", "admin", "member"] | None
    conversation_id: str | None

    @staticmethod
    def resolve_role(obj):
        return obj.viewer_role

    @staticmethod
    def resolve_conversation_id(obj):
        return str(obj.chat_id) if obj.chat_id else None


class CircleIn(Schema):
    name: str = non_blank(max_length=1000, json_schema_extra={"maxLength": 60})
    description: str = Field("", max_length=3000, json_schema_extra={"maxLength": 300})


class CirclePatchIn(Schema):
    name: str | None = Field(None, max_length=1000, json_schema_extra={"maxLength": 60})
    description: str | None = Field(None, max_length=3000, json_schema_extra={"maxLength": 300})


class UsernameIn(Schema):
    username: str = Field(max_length=254, json_schema_extra=USERNAME_SCHEMA)


class RoleIn(Schema):
    role: Literal["admin", "member"]


class MemberOut(Schema):
    """{user, role, joined_at}: built from members annotated with circle_role/listed_at."""

    user: UserOut
    role: Literal["owner", "admin", "member"]
    joined_at: datetime

    @staticmethod
    def resolve_user(obj):
        return obj

    @staticmethod
    def resolve_role(obj):
        return obj.circle_role

    @staticmethod
    def resolve_joined_at(obj):
        return obj.listed_at


class CircleInviteOut(Schema):
    """A pending invitation as the circle sees it: {id, user, invited_by, created_at}."""

    id: str
    user: UserSummaryOut
    invited_by: UserSummaryOut
    created_at: datetime

    @staticmethod
    def resolve_id(obj) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_user(obj):
        return obj.invitee


class MyInviteOut(Schema):
    """An invitation as the invitee sees it: {id, circle, invited_by, created_at}."""

    id: str
    circle: CircleSummaryOut
    invited_by: UserSummaryOut
    created_at: datetime

    @staticmethod
    def resolve_id(obj) -> str:
        return str(obj.pk)


# --- leaving --------------------------------------------------------------------------


class DataExportOut(Schema):
    """A "Download your data" export: its progress while pending or running; once
    ready, download_url (only its owner may fetch it) until expires_at."""

    id: str
    state: Literal["pending", "running", "ready", "failed"]
    percent: int
    error: str
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None
    size: int | None
    photo_count: int
    download_url: str | None

    @staticmethod
    def resolve_id(export) -> str:
        return str(export.pk)

    @staticmethod
    def resolve_download_url(export) -> str | None:
        if export.state != "ready":
            return None
        return reverse("accounts:export_download", args=[export.pk])


class AccountDeleteIn(Schema):
    password: str = Field("", max_length=4096)
    # the second factor, for accounts with two-factor sign-in (accounts.services.leaving)
    otp_code: str | None = Field(None, max_length=64)


# --- invitations (beyond API.md) -------------------------------------------------------


class InvitationIn(Schema):
    note: str = Field("", max_length=60)


class InvitationOut(Schema):
    """An invitation you made: its state now and who used it."""

    id: str
    note: str
    state: Literal["pending", "used", "expired", "revoked"]
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    used_by: UserSummaryOut | None

    @staticmethod
    def resolve_id(obj) -> str:
        return str(obj.pk)


class InvitationCreatedOut(InvitationOut):
    """The new invitation with its link and token: shown this once (stored hashed)."""

    token: str
    link: str
