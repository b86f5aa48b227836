"""Notifications: one row per group the recipient sees ("ana, ben and 3 others liked your
photo"), and one row per actor in it.

A group collects the actors of one kind on one target (or of one kind on one day, or one
actor alone: the kind's registration says which) while it is unread; once read, the next
event starts a new group. Each actor's row remembers when they joined it, so the same
actor + kind + target within DEDUP_WINDOW is one notification (a like, unlike, like again
notifies once); undoing (unlike, a deleted comment) marks the actor inactive and the
group's count drops, and a group with no active actor is not shown.

Nothing here knows what a target is: `target_type` names an entry of
notifications.registry, which says whether the recipient may still see it.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

DEDUP_WINDOW = timedelta(hours=1)
KIND_MAX = 40
TARGET_TYPE_MAX = 30


class Notification(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    kind = models.CharField(max_length=KIND_MAX)
    target_type = models.CharField(max_length=TARGET_TYPE_MAX)
    target_id = models.UUIDField()
    # what makes events one row while it is unread: kind + target, kind + day, or + actor
    group_key = models.CharField(max_length=200)
    # the newest active actor, and how many active actors the group has (0: not shown)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    actor_count = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    # the newest activity: the list's order
    updated_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # one open (unread) group per key: new actors join it
            models.UniqueConstraint(
                fields=["recipient", "group_key"],
                condition=Q(read_at__isnull=True),
                name="notification_open_group",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-updated_at", "-id"], name="notification_list_idx"),
            # the unread count
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.target_type} {self.target_id} for {self.recipient_id}"

    @property
    def read(self) -> bool:
        return self.read_at is not None


class NotificationActor(models.Model):
    """One actor of a group: who, since when, and what of theirs (a comment, say) undoes
    it when removed."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="actors", db_index=False
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # what this actor acted on (the group's target, or for a group by day their own)
    target_id = models.UUIDField()
    source_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "actor"], name="notificationactor_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["notification", "-created_at"], name="notificationactor_newest_idx"
            ),
            # the one-hour dedup, undo and block look-ups: an actor's part in things
            models.Index(fields=["actor", "target_id"], name="notificationactor_actor_idx"),
            models.Index(fields=["source_id"], name="notificationactor_source_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_id} in {self.notification_id}"
