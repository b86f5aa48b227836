"""Invitations to register: made by a member (or the operator), single use, expiring,
revocable. With INVITE_ONLY on, registration needs one (accounts.services.user_register
claims it in the same transaction as the account)."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from accounts.models import Invitation, InvitationState, User, hash_token
from circles.ids import uuid_or_404
from circles.ratelimits import enforce, invitation_attempt

FIELD = "invite_token"
REFUSED = {
    None: "That invitation link is not valid. Check it, or ask for a new one.",
    InvitationState.USED: "That invitation has already been used. Ask for a new one.",
    InvitationState.EXPIRED: "That invitation has expired. Ask for a new one.",
    InvitationState.REVOKED: "That invitation was withdrawn. Ask for a new one.",
}
REQUIRED = "Circles here is invite-only: you need an invitation link from a member."


def invitation_create(
    *, created_by: User | None, note: str = "", days: int | None = None, request=None
) -> tuple[Invitation, str]:
    """Make an invitation; returns it and its raw token (shown once: only the hash is
    kept). A person is limited to "invite_create" a day; the operator's command is not."""
    if request is not None:
        enforce(request, "invite_create", key=f"user:{created_by.pk}")
    raw = secrets.token_urlsafe(24)
    invitation = Invitation.objects.create(
        created_by=created_by,
        note=(note or "").strip()[:60],
        token_hash=hash_token(raw),
        expires_at=timezone.now() + timedelta(days=days or settings.INVITATION_DAYS),
    )
    return invitation, raw


def invitation_revoke(*, user: User, invitation_id) -> None:
    """Withdraw one of user's invitations that is still pending. Someone else's id, or
    one already used, is not found (a used one cannot be taken back)."""
    revoked = Invitation.objects.filter(
        created_by=user, pk=uuid_or_404(invitation_id), used_at__isnull=True
    ).update(revoked_at=timezone.now())
    if not revoked:
        raise Http404


def _usable_or_refused(request, rows, token: str) -> Invitation:
    """The pending invitation behind token in rows; anything else raises ValidationError
    on `invite_token`, counted against the "invite" limit (a usable one gives its try
    back)."""
    attempt = invitation_attempt(request)
    invitation = rows.filter(token_hash=hash_token((token or "").strip())).first()
    state = invitation.state_at(timezone.now()) if invitation is not None else None
    if state != InvitationState.PENDING:
        raise ValidationError({FIELD: [REFUSED[state]]})
    attempt.give_back()
    return invitation


def invitation_take(*, request, token: str) -> Invitation:
    """The usable invitation behind token, locked for the current transaction (two
    registrations with one link end in one account). Anything else — unknown, used,
    expired, revoked — raises ValidationError on `invite_token` and counts against the
    "invite" limit (Ratelimited when over)."""
    return _usable_or_refused(request, Invitation.objects.select_for_update(), token)


def invitation_use(*, invitation: Invitation, user: User) -> None:
    """Record that user registered with invitation (taken by invitation_take in the same
    transaction)."""
    invitation.used_at, invitation.used_by = timezone.now(), user
    invitation.save(update_fields=["used_at", "used_by"])


def invitation_check(*, request, token: str) -> None:
    """Whether token is a usable invitation, before a form is filled in (the page that
    opens an invitation link): refused and counted as invitation_take, nothing locked."""
    _usable_or_refused(request, Invitation.objects.all(), token)
