"""Accounts' tables, by sub-domain: users and tokens, the social graph, circles,
invitations, and leaving (data exports, account deletion, held usernames)."""

from accounts.models.circles import (
    CIRCLE_MAX_PEOPLE,
    Circle,
    CircleInvite,
    CircleMembership,
    CircleMembershipQuerySet,
    CircleQuerySet,
    CircleRole,
)
from accounts.models.graph import Block, BlockQuerySet, Follow, FollowRequest, FollowState
from accounts.models.invitations import Invitation, InvitationQuerySet, InvitationState
from accounts.models.leaving import (
    EXPORT_KEEP,
    USERNAME_HOLD,
    AccountDeletion,
    DataExport,
    ExportState,
    UsernameHold,
)
from accounts.models.users import (
    AVATAR_PURPOSE,
    DELETED_USERNAME,
    RESERVED_USERNAMES,
    USERNAME_PATTERN,
    ApiToken,
    CirclesUserManager,
    User,
    UserQuerySet,
    hash_token,
    validate_username,
)

__all__ = [
    "EXPORT_KEEP",
    "USERNAME_HOLD",
    "AccountDeletion",
    "DataExport",
    "ExportState",
    "UsernameHold",
    "AVATAR_PURPOSE",
    "DELETED_USERNAME",
    "CIRCLE_MAX_PEOPLE",
    "RESERVED_USERNAMES",
    "USERNAME_PATTERN",
    "ApiToken",
    "Block",
    "BlockQuerySet",
    "Circle",
    "CircleInvite",
    "CircleMembership",
    "CircleMembershipQuerySet",
    "CircleQuerySet",
    "CircleRole",
    "CirclesUserManager",
    "Follow",
    "FollowRequest",
    "FollowState",
    "Invitation",
    "InvitationQuerySet",
    "InvitationState",
    "User",
    "UserQuerySet",
    "hash_token",
    "validate_username",
]
