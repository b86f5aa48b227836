"""Writes about the social graph: follows, follow requests, blocks."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404

from accounts import hooks
from accounts.models import Block, CircleInvite, Follow, FollowRequest, FollowState, User
from accounts.services.users import _lock_users
from circles.ids import uuid_or_404
from notifications.services import (
    notification_create_on_commit,
    notification_remove,
    notifications_remove_between,
)


def _check_not_blocked(*, actor: User, other: User, locked: dict) -> None:
    """404 when other blocked actor (actor must not learn they exist); 403 when actor
    blocked other (they can see them, and must unblock first)."""
    if not locked[other.pk].is_active:
        raise Http404
    blocks = set(Block.objects.between(actor, other).values_list("blocker_id", flat=True))
    if other.pk in blocks:
        raise Http404
    if actor.pk in blocks:
        raise PermissionDenied("Unblock them first.")


def follow_create(*, follower: User, target: User) -> FollowState:
    """Follow target, or ask to when the account is private. Safe to repeat and to race:
    identical concurrent calls leave one row and all return the same state."""
    if follower.pk == target.pk:
        raise ValidationError({"username": ["You can't follow yourself."]})
    with transaction.atomic():
        locked = _lock_users(follower, target)
        _check_not_blocked(actor=follower, other=target, locked=locked)
        already = Follow.objects.filter(follower=follower, following=target).exists()
        if locked[target.pk].is_private and not already:
            FollowRequest.objects.bulk_create(
                [FollowRequest(requester=follower, target=target)], ignore_conflicts=True
            )
            notification_create_on_commit(
                actor=follower, recipient=target, kind="follow_request", target_id=follower.pk
            )
            return FollowState.REQUESTED
        Follow.objects.bulk_create(
            [Follow(follower=follower, following=target)], ignore_conflicts=True
        )
        FollowRequest.objects.filter(requester=follower, target=target).delete()
        if not already:
            notification_create_on_commit(
                actor=follower, recipient=target, kind="follow", target_id=follower.pk
            )
    return FollowState.FOLLOWING


def follow_delete(*, follower: User, target: User) -> None:
    """Unfollow target, or withdraw a pending request. Nothing to undo is fine."""
    with transaction.atomic():
        Follow.objects.filter(follower=follower, following=target).delete()
        FollowRequest.objects.filter(requester=follower, target=target).delete()
        for kind in ("follow", "follow_request"):
            notification_remove(actor=follower, kind=kind, target_id=follower.pk, recipient=target)


def follower_remove(*, user: User, follower: User) -> None:
    """Remove follower from user's followers (they can ask again later)."""
    Follow.objects.filter(follower=follower, following=user).delete()


def _incoming_request(*, user: User, request_id) -> FollowRequest:
    request = (
        FollowRequest.objects.select_related("requester")
        .filter(pk=uuid_or_404(request_id), target=user)
        .first()
    )
    if request is None:
        raise Http404
    return request


def follow_request_approve(*, user: User, request_id) -> None:
    """Approve a request to follow user: the requester now follows. Someone else's (or a
    vanished) request is not found."""
    with transaction.atomic():
        request = _incoming_request(user=user, request_id=request_id)
        locked = _lock_users(user, request.requester)
        if FollowRequest.objects.filter(pk=request.pk).delete()[0] == 0:
            raise Http404  # withdrawn or answered meanwhile
        if locked[request.requester_id].is_active:
            Follow.objects.bulk_create(
                [Follow(follower_id=request.requester_id, following=user)],
                ignore_conflicts=True,
            )
            notification_create_on_commit(
                actor=user, recipient=request.requester, kind="follow_approved", target_id=user.pk
            )


def follow_request_decline(*, user: User, request_id) -> None:
    """Decline a request to follow user. Someone else's request is not found."""
    request = _incoming_request(user=user, request_id=request_id)
    if FollowRequest.objects.filter(pk=request.pk).delete()[0] == 0:
        raise Http404


def follow_request_cancel(*, requester: User, target: User) -> None:
    """Withdraw requester's pending request to follow target (nothing pending is fine)."""
    with transaction.atomic():
        FollowRequest.objects.filter(requester=requester, target=target).delete()
        notification_remove(
            actor=requester, kind="follow_request", target_id=requester.pk, recipient=target
        )


# --- blocks ---------------------------------------------------------------------------


def block_create(*, blocker: User, target: User) -> None:
    """Block target: removes follows, follow requests and circle invitations between the
    two, both ways, and each one's likes and comments on the other's posts (which the
    post's author would no longer see, so could not delete, while everyone else still
    would), stops their direct conversation's live events, and hides each one's messages
    from the other in the group chats they share. Unblocking later restores none of the
    removals. Safe to repeat. (The posts and messaging parts are theirs:
    hooks.block_created.)"""

    if blocker.pk == target.pk:
        raise ValidationError({"username": ["You can't block yourself."]})
    with transaction.atomic():
        _lock_users(blocker, target)
        Block.objects.bulk_create([Block(blocker=blocker, blocked=target)], ignore_conflicts=True)
        pair = Q(follower=blocker, following=target) | Q(follower=target, following=blocker)
        Follow.objects.filter(pair).delete()
        FollowRequest.objects.filter(
            Q(requester=blocker, target=target) | Q(requester=target, target=blocker)
        ).delete()
        CircleInvite.objects.filter(
            Q(invitee=blocker, invited_by=target) | Q(invitee=target, invited_by=blocker)
        ).delete()
        notifications_remove_between(user=blocker, other=target)
        hooks.block_created(blocker=blocker, target=target)


def block_delete(*, blocker: User, target: User) -> None:
    """Unblock target (nothing to undo is fine). Their direct conversation comes back to
    life only when no block is left either way."""
    with transaction.atomic():
        deleted, _ = Block.objects.filter(blocker=blocker, blocked=target).delete()
        still_blocked = Block.objects.between(blocker, target).exists()
        if deleted and not still_blocked:
            hooks.block_lifted(blocker=blocker, target=target)
