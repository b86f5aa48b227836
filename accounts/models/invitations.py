"""Invitations: single-use, expiring, revocable links to register on an invite-only
instance. Only a hash of the link's token is stored (like API tokens), so the link is
shown once, when it is made."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class InvitationState(models.TextChoices):
    PENDING = "pending"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"


class InvitationQuerySet(models.QuerySet):
    def usable(self, now):
        """Invitations that can still register someone: not used, not revoked, not expired."""
        return self.filter(used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)


class Invitation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # null: made by the operator with `manage.py invite_create` and no --by
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="invitations_made",
    )
    note = models.CharField(max_length=60, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invited_by",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["created_by", "-created_at"], name="invitation_by_created_idx")
        ]
        constraints = [
            # used means used by someone (or by someone since deleted: used_at stays)
            models.CheckConstraint(
                condition=Q(used_by__isnull=True) | Q(used_at__isnull=False),
                name="invitation_used_by_has_used_at",
            ),
        ]

    def __str__(self) -> str:
        return f"invitation {self.pk} ({self.note or 'no note'})"

    def state_at(self, now) -> InvitationState:
        if self.used_at is not None:
            return InvitationState.USED
        if self.revoked_at is not None:
            return InvitationState.REVOKED
        if self.expires_at <= now:
            return InvitationState.EXPIRED
        return InvitationState.PENDING
