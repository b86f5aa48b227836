"""Reads about accounts that carry a rule or feed a page.

The two rules later issues reuse live here and nowhere else:
- `user_content_visible(viewer=, owner=)`: may viewer see owner's content? (built on
  `User.objects.content_visible_to(viewer)`, the QuerySet form for feeds and lists);
- `circle_has_member(circle=, user=)`: is user in the circle? (built on
  `Circle.objects.with_member(user)`).

Lists return `circles.pagination.PageResult` pages, keyset-paginated newest first, in a
constant number of queries: counts and relationship flags are annotated in the same query.
"""

import functools
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import hooks
from accounts.models import (
    ApiToken,
    Block,
    Circle,
    CircleInvite,
    CircleMembership,
    DataExport,
    ExportState,
    Follow,
    FollowRequest,
    Invitation,
    User,
    hash_token,
)
from circles.compiled import CompiledQuery, counted
from circles.ids import uuid_or_404
from circles.links import reverse_with_id
from circles.pagination import DEFAULT_LIMIT, PageResult, paginate
from circles.transactions import atomic_without_flush_wait
from notifications.registry import Action as NotificationAction
from notifications.registry import Target as NotificationTarget

# --- tokens ---------------------------------------------------------------------------


@functools.cache
def _token_by_hash() -> CompiledQuery:
    # every API request asks it: compiled once (circles/compiled.py)
    return CompiledQuery(
        lambda key_hash: ApiToken.objects.select_related("user").filter(key_hash=key_hash),
        key_hash="string",
    )


def user_for_api_token(raw: str) -> User | None:
    """The active owner of a bearer token, or None for unknown/revoked tokens."""
    if not raw or len(raw) > 200:
        return None
    found = _token_by_hash().run(key_hash=hash_token(raw))  # key_hash is unique
    token = found[0] if found else None
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        _token_touch(token, now)
    return token.user


def _token_touch(token: ApiToken, now) -> None:
    """Write when a token was last used (at most once a minute), without waiting for
    PostgreSQL to flush its log to disk: a crash can lose the time (it then reads a
    minute older), and waiting put the disk's hiccups into API latency (one-second
    stalls in the feed bench, on the bench VM)."""
    with atomic_without_flush_wait():
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)


def api_token_list_for_user(*, user: User) -> QuerySet[ApiToken]:
    """The user's tokens, newest first (for the settings page)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at")


# --- the rules ------------------------------------------------------------------------


# --- invitations and two-factor sign-in -------------------------------------------------


def invitation_list_for_user(
    *, user: User, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> PageResult:
    """The invitations user made, newest first, each with who used it (joined) and its
    `state` now (pending, used, expired, revoked): one query a page."""
    rows = Invitation.objects.filter(created_by=user).select_related("used_by")
    page = paginate(rows, cursor=cursor, limit=limit)
    now = timezone.now()
    for invitation in page.items:
        invitation.state = invitation.state_at(now)
    return page


def two_factor_setup_device(*, user: User) -> TOTPDevice | None:
    """The authenticator user is setting up (not confirmed yet), if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


def recovery_codes_left(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _is_anonymous(viewer) -> bool:
    return viewer is None or not viewer.is_authenticated


def user_content_visible(*, viewer, owner: User) -> bool:
    """May viewer see owner's content (posts, stories, follower lists)?

    Yourself; otherwise owner is active, neither has blocked the other, and the account
    is public or viewer is an approved follower. The rule itself is the QuerySet filter
    `User.objects.content_visible_to(viewer)`; this asks it about one person.
    """
    return User.objects.content_visible_to(viewer).filter(pk=owner.pk).exists()


def user_avatar_visible(viewer, image) -> bool:
    """May viewer see an avatar? Exactly when they may see its owner's profile (the media
    purpose rule of avatars)."""
    return User.objects.visible_to(viewer).filter(pk=image.owner_id).exists()


def circle_has_member(*, circle: Circle, user) -> bool:
    """Is user in circle (any role)? Pending invitees are not. Built on
    `Circle.objects.with_member(user)`, which circle posts, stories, albums and chat use."""
    return Circle.objects.with_member(user).filter(pk=circle.pk).exists()


def block_exists_between(*, user: User, other: User) -> bool:
    """Has either blocked the other?"""
    return block_exists_between_ids(user.pk, other.pk)


def block_exists_between_ids(user_id, other_id) -> bool:
    """block_exists_between by ids (what notifications' registry asks)."""
    return Block.objects.between(user_id, other_id).exists()


def block_user_ids_for(*, user) -> set[str]:
    """The ids (as strings) of everyone a block stands between user and, either way:
    whose messages, typing and presence a socket of user leaves out (one query)."""
    pairs = Block.objects.filter(Q(blocker=user) | Q(blocked=user)).values_list(
        "blocker_id", "blocked_id"
    )
    return {str(other) for pair in pairs for other in pair if other != user.pk}


# --- users ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Relationship:
    following: bool
    followed_by: bool
    requested: bool
    blocking: bool


def count_of(queryset: QuerySet, field: str):
    """A correlated COUNT(*) of queryset's rows whose `field` is the outer user."""
    counted = (
        queryset.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def user_annotate_profile(users: QuerySet, *, viewer) -> QuerySet:
    """Add what a user object shows, in the same query: followers_count, following_count,
    posts_count, is_self and the relationship flags rel_following, rel_followed_by,
    rel_requested, rel_blocking (viewer's point of view).

    Counts are index-only counts of follow rows (a banned account's follows still count,
    though lists leave banned people out): joining users to drop them costs ~10× more on
    a 10k-user graph, and bans are rare and reversible."""
    users = users.annotate(
        followers_count=count_of(Follow.objects.all(), "following"),
        following_count=count_of(Follow.objects.all(), "follower"),
        **{name: expression(viewer=viewer) for name, expression in hooks.profile_counts.items()},
    )
    if _is_anonymous(viewer):
        false = Value(False, output_field=BooleanField())
        return users.annotate(
            is_self=false,
            rel_following=false,
            rel_followed_by=false,
            rel_requested=false,
            rel_blocking=false,
        )
    return users.annotate(
        is_self=ExpressionWrapper(Q(pk=viewer.pk), output_field=BooleanField()),
        rel_following=Exists(Follow.objects.filter(follower=viewer, following=OuterRef("pk"))),
        rel_followed_by=Exists(Follow.objects.filter(follower=OuterRef("pk"), following=viewer)),
        rel_requested=Exists(FollowRequest.objects.filter(requester=viewer, target=OuterRef("pk"))),
        rel_blocking=Exists(Block.objects.filter(blocker=viewer, blocked=OuterRef("pk"))),
    )


def user_relationship(user: User) -> Relationship | None:
    """The relationship of a user annotated by user_annotate_profile; None for yourself."""
    if user.is_self:
        return None
    return Relationship(
        following=user.rel_following,
        followed_by=user.rel_followed_by,
        requested=user.rel_requested,
        blocking=user.rel_blocking,
    )


def user_relationship_map(*, viewer: User, user_ids) -> dict:
    """{user_id: Relationship} for many users in one query (for other apps' lists)."""
    users = user_annotate_profile(User.objects.filter(pk__in=list(user_ids)), viewer=viewer)
    return {user.pk: user_relationship(user) for user in users}


def user_get_visible(*, username: str, viewer) -> User:
    """The user behind username, if viewer may know they exist; else Http404.

    Unknown, banned, and people who blocked viewer are all simply not found.
    """
    user = User.objects.visible_to(viewer).filter(username=(username or "").lower()).first()
    if user is None:
        raise Http404
    return user


def user_get_profile(*, username: str, viewer) -> User:
    """Like user_get_visible, annotated for display (counts and relationship)."""
    users = User.objects.visible_to(viewer).filter(username=(username or "").lower())
    user = user_annotate_profile(users, viewer=viewer).first()
    if user is None:
        raise Http404
    return user


def _require_content_visible(*, viewer, owner: User) -> None:
    if not user_content_visible(viewer=viewer, owner=owner):
        raise PermissionDenied("This account is private.")


def _user_page(users: QuerySet, *, viewer, cursor, limit) -> PageResult:
    users = user_annotate_profile(users, viewer=viewer)
    return paginate(users, cursor=cursor, limit=limit, time_field="listed_at")


def user_list_followers(
    *, user: User, viewer, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> PageResult:
    """Who follows user, most recent follow first. A private account's lists are content:
    people who may not see it get PermissionDenied (the profile itself stays visible)."""
    _require_content_visible(viewer=viewer, owner=user)
    users = (
        User.objects.visible_to(viewer)
        .filter(follows_given__following=user)
        .annotate(listed_at=F("follows_given__created_at"))
    )
    return _user_page(users, viewer=viewer, cursor=cursor, limit=limit)


def user_list_following(
    *, user: User, viewer, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> PageResult:
    """Whom user follows, most recent follow first; same visibility as the followers list."""
    _require_content_visible(viewer=viewer, owner=user)
    users = (
        User.objects.visible_to(viewer)
        .filter(follows_received__follower=user)
        .annotate(listed_at=F("follows_received__created_at"))
    )
    return _user_page(users, viewer=viewer, cursor=cursor, limit=limit)


def follow_request_list_incoming(
    *, user: User, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> PageResult:
    """Requests to follow user's private account, newest first. Items are the requesters
    (annotated users) carrying `request_id` and `listed_at` (when they asked)."""
    users = (
        User.objects.visible_to(user)
        .filter(follow_requests_sent__target=user)
        .annotate(
            listed_at=F("follow_requests_sent__created_at"),
            request_id=F("follow_requests_sent__id"),
        )
    )
    return _user_page(users, viewer=user, cursor=cursor, limit=limit)


@functools.cache
def _incoming_request_count_query() -> CompiledQuery:
    # compiled once per process: the menu's badge asks it after every page
    return CompiledQuery(
        lambda user: counted(
            FollowRequest.objects.filter(target_id=user, requester__is_active=True), "target_id"
        ).values_list("n"),
        user="uuid",
    )


def follow_request_count_incoming(*, user: User) -> int:
    """How many people wait for user's approval (for a badge)."""
    return _incoming_request_count_query().count(user=user.pk)


def block_list_for_user(
    *, user: User, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> PageResult:
    """The people user blocks, most recent first (annotated users with `listed_at`)."""
    users = User.objects.filter(is_active=True, blocks_received__blocker=user).annotate(
        listed_at=F("blocks_received__created_at")
    )
    return _user_page(users, viewer=user, cursor=cursor, limit=limit)


# --- circles --------------------------------------------------------------------------


def circle_annotate_for_viewer(circles: QuerySet, *, viewer) -> QuerySet:
    """Add owner (joined), member_count, viewer_role (None when not a member) and chat_id
    (the circle's group conversation, from messaging; None until it exists)."""
    member_count = _circle_count_of(CircleMembership.objects.all())
    role = CircleMembership.objects.of(user=viewer, circle=OuterRef("pk")).values("role")[:1]
    return circles.select_related("owner").annotate(
        member_count=member_count, viewer_role=Subquery(role), chat_id=F("conversation__id")
    )


def _circle_count_of(queryset: QuerySet, outer: str = "pk"):
    """A correlated COUNT(*) of queryset's rows in the outer circle (outer: its id field)."""
    counted = (
        queryset.filter(circle=OuterRef(outer))
        .order_by()
        .values("circle")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def circle_get_for_member(*, circle_id, viewer) -> Circle:
    """A circle viewer is a member of, annotated for display; Http404 for anyone else
    (outsiders, pending invitees, malformed ids)."""
    circles = Circle.objects.with_member(viewer).filter(pk=uuid_or_404(circle_id))
    circle = circle_annotate_for_viewer(circles, viewer=viewer).first()
    if circle is None:
        raise Http404
    return circle


def circle_list_for_user(
    *, user: User, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> PageResult:
    """The circles user is in, most recently joined first."""
    circles = Circle.objects.with_member(user).annotate(listed_at=F("memberships__created_at"))
    circles = circle_annotate_for_viewer(circles, viewer=user)
    return paginate(circles, cursor=cursor, limit=limit, time_field="listed_at")


def circle_member_list(
    *, circle: Circle, viewer, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> PageResult:
    """The members of a circle viewer is in (annotated users with `circle_role` and
    `listed_at` = when they joined), newest first. Http404 for non-members."""
    if not circle_has_member(circle=circle, user=viewer):
        raise Http404
    users = (
        User.objects.visible_to(viewer)
        .filter(circle_memberships__circle=circle)
        .annotate(
            listed_at=F("circle_memberships__created_at"),
            circle_role=F("circle_memberships__role"),
        )
    )
    return _user_page(users, viewer=viewer, cursor=cursor, limit=limit)


def circle_person_get(*, circle: Circle, username: str, viewer) -> User:
    """A member or pending invitee of a circle viewer is in, by username, whatever the
    blocks between them (running your circle is not seeing someone's profile); Http404
    for anyone else and for non-members."""
    if not circle_has_member(circle=circle, user=viewer):
        raise Http404
    in_circle = Q(circle_memberships__circle=circle) | Q(circle_invites__circle=circle)
    user = User.objects.filter(in_circle, username=(username or "").lower()).first()
    if user is None:
        raise Http404
    return user


def circle_invite_list_for_circle(
    *, circle: Circle, viewer, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> PageResult:
    """Pending invitations of a circle viewer is in, newest first. Http404 otherwise."""
    if not circle_has_member(circle=circle, user=viewer):
        raise Http404
    invites = CircleInvite.objects.filter(circle=circle).select_related("invitee", "invited_by")
    return paginate(invites, cursor=cursor, limit=limit)


def circle_invite_list_for_user(
    *, user: User, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> PageResult:
    """Invitations waiting for user's answer, newest first; each invite's circle carries
    member_count and owner."""
    invites = (
        CircleInvite.objects.filter(invitee=user)
        .select_related("circle__owner", "invited_by")
        .annotate(circle_member_count=_circle_count_of(CircleMembership.objects, "circle_id"))
    )
    page = paginate(invites, cursor=cursor, limit=limit)
    for invite in page.items:
        invite.circle.member_count = invite.circle_member_count
        invite.circle.viewer_role = None
    return page


@functools.cache
def _circle_invite_count_query() -> CompiledQuery:
    # compiled once per process: the menu's badge asks it after every page
    return CompiledQuery(
        lambda user: counted(
            CircleInvite.objects.filter(invitee_id=user), "invitee_id"
        ).values_list("n"),
        user="uuid",
    )


def circle_invite_count_for_user(*, user: User) -> int:
    """How many circle invitations wait for user (for a badge)."""
    return _circle_invite_count_query().count(user=user.pk)


# --- notifications' target types (registered in AccountsConfig) ------------------------


def user_notification_targets(viewer, ids) -> dict:
    """What a notification shows of these people (one query): their profile, and a button
    when there is something to answer: "Approve" a pending request from them, or "Follow
    back" someone viewer does not follow (nor asked to)."""
    people = User.objects.filter(pk__in=ids).annotate(
        following=Exists(Follow.objects.filter(follower=viewer, following=OuterRef("pk"))),
        requested=Exists(FollowRequest.objects.filter(requester=viewer, target=OuterRef("pk"))),
        request_id=Subquery(
            FollowRequest.objects.filter(requester=OuterRef("pk"), target=viewer).values("pk")[:1]
        ),
    )
    found = {}
    for person in people.only("pk", "username"):
        action = None
        if person.request_id:
            url = reverse_with_id("accounts:request_approve", "request_id", person.request_id)
            action = NotificationAction(label="Approve", url=url)
        elif not person.following and not person.requested and person.pk != viewer.pk:
            url = reverse("accounts:follow", args=[person.username])
            action = NotificationAction(label="Follow back", url=url)
        found[person.pk] = NotificationTarget(
            label=f"@{person.username}",
            url=reverse("profiles:detail", args=[person.username]),
            action=action,
        )
    return found


def circle_notification_targets(viewer, ids) -> dict:
    """What a notification shows of these circles (one query): the name; the circle's page
    for a member, the invitations page (with "Accept") for someone still invited."""
    circles = Circle.objects.filter(pk__in=ids).annotate(
        invite_id=Subquery(
            CircleInvite.objects.filter(circle=OuterRef("pk"), invitee=viewer).values("pk")[:1]
        )
    )
    found = {}
    for circle in circles.only("pk", "name"):
        if circle.invite_id:
            accept = reverse_with_id("circles:invite_accept", "invite_id", circle.invite_id)
            found[circle.pk] = NotificationTarget(
                label=circle.name,
                url=reverse("circles:invites"),
                action=NotificationAction(label="Accept", url=accept),
            )
        else:
            url = reverse_with_id("circles:detail", "circle_id", circle.pk)
            found[circle.pk] = NotificationTarget(label=circle.name, url=url)
    return found


def circles_for_notifications(viewer) -> QuerySet[Circle]:
    """Circles a notification may still show to viewer: theirs (Circle.objects.with_member)
    and those they are invited to."""
    mine = Circle.objects.with_member(viewer).values("pk")
    invited = CircleInvite.objects.filter(invitee=viewer).values("circle_id")
    return Circle.objects.filter(Q(pk__in=mine) | Q(pk__in=invited))


# --- leaving: data exports ------------------------------------------------------------


def data_export_latest(*, user: User) -> DataExport | None:
    """The person's newest export (its state and percent while building, its download
    while ready); others' exports are never found."""
    if _is_anonymous(user):
        return None
    return DataExport.objects.filter(user=user).order_by("-created_at").first()


def data_export_get_downloadable(*, viewer, export_id) -> DataExport:
    """A ready, unexpired export of viewer's own; anything else (someone else's, expired,
    unfinished, a malformed id) is not found."""
    if _is_anonymous(viewer):
        raise Http404
    export = DataExport.objects.filter(
        pk=uuid_or_404(export_id),
        user=viewer,
        state=ExportState.READY,
        expires_at__gt=timezone.now(),
    ).first()
    if export is None:
        raise Http404
    return export


def data_export_notification_targets(viewer, ids) -> dict:
    """An export's notification links to settings, where it is downloaded."""
    url = reverse("accounts:settings") + "#your-data"
    found = DataExport.objects.filter(pk__in=ids, user=viewer).values_list("pk", flat=True)
    return {pk: NotificationTarget(label="data export", url=url) for pk in found}


def _stamp(value) -> str | None:
    return value.isoformat() if value else None


def account_export_section(*, user: User, archive) -> dict:
    """accounts' part of the export: the profile with its avatar, the people the person
    follows and who follow them, follow requests both ways, blocks, and circles."""
    profile = {
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "bio": user.bio,
        "private_account": user.is_private,
        "joined": _stamp(user.date_joined),
        "photos": [archive.photo(user.avatar, folder="avatar")] if user.avatar_id else [],
    }
    items = [{"kind": "profile", **profile}]
    for follow in Follow.objects.filter(follower=user).select_related("following"):
        items.append(
            {
                "kind": "following",
                "username": follow.following.username,
                "since": _stamp(follow.created_at),
            }
        )
    for follow in Follow.objects.filter(following=user).select_related("follower"):
        items.append(
            {
                "kind": "follower",
                "username": follow.follower.username,
                "since": _stamp(follow.created_at),
            }
        )
    for ask in FollowRequest.objects.filter(Q(requester=user) | Q(target=user)).select_related(
        "requester", "target"
    ):
        mine = ask.requester_id == user.pk
        items.append(
            {
                "kind": "follow request sent" if mine else "follow request received",
                "username": (ask.target if mine else ask.requester).username,
                "since": _stamp(ask.created_at),
            }
        )
    for block in Block.objects.filter(blocker=user).select_related("blocked"):
        items.append(
            {
                "kind": "blocked",
                "username": block.blocked.username,
                "since": _stamp(block.created_at),
            }
        )
    for membership in CircleMembership.objects.filter(user=user).select_related("circle__owner"):
        circle = membership.circle
        items.append(
            {
                "kind": "circle",
                "circle": circle.name,
                "description": circle.description,
                "owner": circle.owner.username,
                "role": membership.role,
                "member_since": _stamp(membership.created_at),
            }
        )
    return {"title": "Profile, people and circles", "items": items}
