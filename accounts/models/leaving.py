"""A person's data on the way out: their data exports, an account deletion under way,
and the usernames held back after a deletion."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

EXPORT_KEEP = timedelta(days=7)  # a finished export can be downloaded this long
USERNAME_HOLD = timedelta(days=30)  # a deleted account's username is not given out again


class ExportState(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"


UNFINISHED_EXPORT = (ExportState.PENDING, ExportState.RUNNING)


class DataExport(models.Model):
    """One "Download your data" ZIP: its state and progress while the task builds it,
    then its storage key until it expires (cleanup removes the file and the row)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports"
    )
    state = models.CharField(
        max_length=10, choices=ExportState.choices, default=ExportState.PENDING
    )
    percent = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=255, blank=True)
    # the ZIP in the configured storage; written under a random key chosen before the
    # task writes, so an interrupted run's partial file is known and removed
    key = models.CharField(max_length=255, blank=True, editable=False)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    photo_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # one export at a time per person, whatever races: the second insert fails
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(state__in=UNFINISHED_EXPORT),
                name="dataexport_one_unfinished_per_user",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="dataexport_user_created_idx"),
            models.Index(fields=["expires_at"], name="dataexport_expires_idx"),
        ]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.state} {self.percent}%)"

    @property
    def unfinished(self) -> bool:
        return self.state in UNFINISHED_EXPORT


class AccountDeletion(models.Model):
    """An account deletion under way: the steps done so far, so an interrupted run
    resumes where it stopped. It goes with the user row in the last step."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deletion"
    )
    steps_done = models.JSONField(default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=255, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"deletion of {self.user_id}: {', '.join(self.steps_done) or 'not started'}"


class UsernameHold(models.Model):
    """A username nobody may register until `until` (its account was deleted)."""

    username = models.CharField(max_length=30, primary_key=True)
    until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.username} held until {self.until:%Y-%m-%d}"
