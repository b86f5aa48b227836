"""Writes about circles: create, edit, delete; invitations; members, roles, ownership.

Writes that count or change members lock the circle row first, so the 50-people limit
and the one-owner rule hold under concurrency. Every membership change also syncs the
circle's group chat (hooks.circle_members_changed, which messaging registers) in the
same transaction, so whoever leaves a circle leaves its chat at once."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import Http404

from accounts import hooks
from accounts.models import (
    CIRCLE_MAX_PEOPLE,
    Block,
    Circle,
    CircleInvite,
    CircleMembership,
    CircleRole,
    User,
)
from circles.ids import uuid_or_404
from notifications.services import notification_create_on_commit


def _lock_circle(circle: Circle) -> Circle:
    locked = Circle.objects.select_for_update().filter(pk=circle.pk).first()
    if locked is None:
        raise Http404
    return locked


def _role_of(*, circle: Circle, user: User) -> str | None:
    return (
        CircleMembership.objects.of(user=user, circle=circle).values_list("role", flat=True).first()
    )


def _require_role(*, circle: Circle, user: User, roles, message: str) -> str:
    """The actor's role; Http404 if not a member at all, PermissionDenied if not in roles."""
    role = _role_of(circle=circle, user=user)
    if role is None:
        raise Http404
    if role not in roles:
        raise PermissionDenied(message)
    return role


_MANAGERS = (CircleRole.OWNER, CircleRole.ADMIN)


def _blocked_with_circle(*, circle: Circle, person: User) -> bool:
    """Is there a block, either way, between person and any member of circle (the owner
    and, while a member, the inviter included)? Checked when inviting and again when
    accepting, since a block may come after the invitation."""
    members = CircleMembership.objects.filter(circle=circle)
    return members.filter(Exists(Block.objects.between(person, OuterRef("user_id")))).exists()


def circle_create(*, owner: User, name: str, description: str = "") -> Circle:
    """A new circle, owned by owner (its first member)."""
    circle = Circle(owner=owner, name=(name or "").strip(), description=(description or "").strip())
    circle.full_clean()
    with transaction.atomic():
        circle.save()
        CircleMembership.objects.create(circle=circle, user=owner, role=CircleRole.OWNER)
        hooks.circle_members_changed(circle=circle)
    return circle


def circle_update(
    *, actor: User, circle: Circle, name: str | None = None, description: str | None = None
) -> Circle:
    """Rename or describe a circle (owner only)."""
    _require_role(
        circle=circle,
        user=actor,
        roles=(CircleRole.OWNER,),
        message="Only the owner can edit the circle.",
    )
    if name is not None:
        circle.name = name.strip()
    if description is not None:
        circle.description = description.strip()
    circle.full_clean()
    circle.save(update_fields=["name", "description"])
    return circle


def circle_delete(*, actor: User, circle: Circle) -> None:
    """Delete a circle with its memberships and invitations (owner only)."""
    _require_role(
        circle=circle,
        user=actor,
        roles=(CircleRole.OWNER,),
        message="Only the owner can delete the circle.",
    )
    with transaction.atomic():
        hooks.circle_deleting(circle=circle)  # sockets leave the chat that goes with it
        circle.delete()


def circle_invite(*, actor: User, circle: Circle, invitee: User) -> CircleInvite:
    """Invite invitee (owner or admin). Refused for members, for anyone with a block
    either way with a member, and when members + pending invites would pass 50.
    Inviting someone already invited returns the pending invitation."""
    with transaction.atomic():
        circle = _lock_circle(circle)
        _require_role(
            circle=circle,
            user=actor,
            roles=_MANAGERS,
            message="Only the owner and admins can invite.",
        )
        if Block.objects.filter(blocker=invitee, blocked=actor).exists():
            raise Http404  # they blocked the inviter: as if they did not exist
        if (
            invitee.pk == actor.pk
            or CircleMembership.objects.of(user=invitee, circle=circle).exists()
        ):
            raise ValidationError({"username": [f"@{invitee.username} is already in this circle."]})
        pending = CircleInvite.objects.filter(circle=circle, invitee=invitee).first()
        if pending is not None:
            return pending
        if _blocked_with_circle(circle=circle, person=invitee):
            raise ValidationError(
                {"username": [f"You can't invite @{invitee.username} to this circle."]}
            )
        people = (
            CircleMembership.objects.filter(circle=circle).count()
            + CircleInvite.objects.filter(circle=circle).count()
        )
        if people >= CIRCLE_MAX_PEOPLE:
            raise ValidationError(
                {
                    "username": [
                        f"A circle has at most {CIRCLE_MAX_PEOPLE} people, invitations included."
                    ]
                }
            )
        invite = CircleInvite.objects.create(circle=circle, invitee=invitee, invited_by=actor)
        notification_create_on_commit(
            actor=actor, recipient=invitee, kind="circle_invite", target_id=circle.pk
        )
        return invite


def _own_invite(*, user: User, invite_id) -> CircleInvite:
    invite = (
        CircleInvite.objects.select_related("circle")
        .filter(pk=uuid_or_404(invite_id), invitee=user)
        .first()
    )
    if invite is None:
        raise Http404
    return invite


def circle_invite_accept(*, user: User, invite_id) -> Circle:
    """Join the circle of one of user's invitations (its seat was reserved at invite time).
    Refused (404, the invitation stays) while a block stands either way between user and
    a member of the circle: the rule circle_invite applies, checked again now."""
    with transaction.atomic():
        invite = _own_invite(user=user, invite_id=invite_id)
        circle = _lock_circle(invite.circle)
        if _blocked_with_circle(circle=circle, person=user):
            raise Http404
        if CircleInvite.objects.filter(pk=invite.pk).delete()[0] == 0:
            raise Http404  # cancelled meanwhile
        CircleMembership.objects.bulk_create(
            [CircleMembership(circle=circle, user=user, role=CircleRole.MEMBER)],
            ignore_conflicts=True,
        )
        hooks.circle_members_changed(circle=circle)
        notification_create_on_commit(
            actor=user, recipient=invite.invited_by, kind="circle_joined", target_id=circle.pk
        )
    return circle


def circle_invite_decline(*, user: User, invite_id) -> None:
    """Decline one of user's invitations."""
    invite = _own_invite(user=user, invite_id=invite_id)
    CircleInvite.objects.filter(pk=invite.pk).delete()


def circle_invite_cancel(*, actor: User, circle: Circle, invitee: User) -> None:
    """Withdraw a pending invitation (owner or admin); none pending is not found."""
    _require_role(
        circle=circle,
        user=actor,
        roles=_MANAGERS,
        message="Only the owner and admins can cancel invitations.",
    )
    if CircleInvite.objects.filter(circle=circle, invitee=invitee).delete()[0] == 0:
        raise Http404


def circle_leave(*, user: User, circle: Circle) -> None:
    """Leave a circle. The owner must transfer ownership first."""
    with transaction.atomic():
        circle = _lock_circle(circle)
        role = _role_of(circle=circle, user=user)
        if role is None:
            raise Http404
        if role == CircleRole.OWNER:
            raise ValidationError("Transfer ownership to another member before you leave.")
        CircleMembership.objects.of(user=user, circle=circle).delete()
        hooks.circle_members_changed(circle=circle)


def circle_member_remove(*, actor: User, circle: Circle, user: User) -> None:
    """Remove user from circle. Yourself: leave. Owner: anyone but themselves; admin:
    plain members only. A person only invited has their invitation withdrawn."""
    if actor.pk == user.pk:
        circle_leave(user=user, circle=circle)
        return
    with transaction.atomic():
        circle = _lock_circle(circle)
        actor_role = _require_role(
            circle=circle,
            user=actor,
            roles=_MANAGERS,
            message="Only the owner and admins can remove members.",
        )
        role = _role_of(circle=circle, user=user)
        if role is None:
            circle_invite_cancel(actor=actor, circle=circle, invitee=user)
            return
        if role == CircleRole.OWNER:
            raise PermissionDenied("The owner can't be removed.")
        if role == CircleRole.ADMIN and actor_role != CircleRole.OWNER:
            raise PermissionDenied("Only the owner can remove an admin.")
        CircleMembership.objects.of(user=user, circle=circle).delete()
        hooks.circle_members_changed(circle=circle)


def circle_member_set_role(*, actor: User, circle: Circle, user: User, role: str) -> None:
    """Make a member an admin or a plain member again (owner only). Ownership moves only
    with circle_transfer_ownership."""
    if role not in (CircleRole.ADMIN, CircleRole.MEMBER):
        raise ValidationError({"role": ["Choose admin or member."]})
    with transaction.atomic():
        circle = _lock_circle(circle)
        _require_role(
            circle=circle,
            user=actor,
            roles=(CircleRole.OWNER,),
            message="Only the owner can change roles.",
        )
        current = _role_of(circle=circle, user=user)
        if current is None:
            raise Http404
        if current == CircleRole.OWNER:
            raise ValidationError({"role": ["Transfer ownership instead."]})
        CircleMembership.objects.of(user=user, circle=circle).update(role=role)


def circle_transfer_ownership(*, actor: User, circle: Circle, new_owner: User) -> Circle:
    """Hand the circle to another member (owner only); the old owner stays as an admin.
    Never to someone with a block either way with the owner: one who blocked the owner
    is not found (404), one the owner blocked is refused (400)."""
    with transaction.atomic():
        circle = _lock_circle(circle)
        _require_role(
            circle=circle,
            user=actor,
            roles=(CircleRole.OWNER,),
            message="Only the owner can transfer ownership.",
        )
        if new_owner.pk == actor.pk:
            raise ValidationError({"username": ["You already own this circle."]})
        if Block.objects.filter(blocker=new_owner, blocked=actor).exists():
            raise Http404  # they blocked the owner: as if they did not exist
        if _role_of(circle=circle, user=new_owner) is None:
            raise ValidationError(
                {"username": [f"@{new_owner.username} is not a member of this circle."]}
            )
        if Block.objects.filter(blocker=actor, blocked=new_owner).exists():
            raise ValidationError(
                {"username": [f"You can't hand the circle to @{new_owner.username}."]}
            )
        memberships = CircleMembership.objects.filter(circle=circle)
        memberships.filter(user=actor).update(role=CircleRole.ADMIN)
        memberships.filter(user=new_owner).update(role=CircleRole.OWNER)
        circle.owner = new_owner
        circle.save(update_fields=["owner"])
    return circle
