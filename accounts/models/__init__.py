"""Accounts' tables, by sub-domain: users and tokens, the social graph, circles,
invitations."""

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
from accounts.models.users import (
    AVATAR_PURPOSE,
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
    "AVATAR_PURPOSE",
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
