"""The social graph: follows, follow requests (private accounts) and blocks.

Every pair is unique in the database, so concurrent identical writes collapse into one
row; services insert with ON CONFLICT DO NOTHING and never read-then-write.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class FollowState(models.TextChoices):
    """What POST /users/{username}/follow reached."""

    FOLLOWING = "following"
    REQUESTED = "requested"


class Follow(models.Model):
    """follower follows following (approved, or the account was public)."""

    follower = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="follows_given",
        db_index=False,
    )
    following = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="follows_received",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "following"], name="follow_unique_pair"),
            models.CheckConstraint(condition=~Q(follower=F("following")), name="follow_not_self"),
        ]
        indexes = [
            # followers of X, newest first; counting them
            models.Index(fields=["following", "-created_at"], name="follow_following_created_idx"),
            # whom X follows, newest first; counting them
            models.Index(fields=["follower", "-created_at"], name="follow_follower_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.follower_id} → {self.following_id}"


class FollowRequest(models.Model):
    """requester asks to follow target's private account; target approves or declines."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="follow_requests_sent",
        db_index=False,
    )
    target = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="follow_requests_received",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["requester", "target"], name="followrequest_unique_pair"
            ),
            models.CheckConstraint(
                condition=~Q(requester=F("target")), name="followrequest_not_self"
            ),
        ]
        indexes = [
            # the target's inbox, newest first
            models.Index(fields=["target", "-created_at"], name="followreq_target_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.requester_id} ⇢ {self.target_id}"


class BlockQuerySet(models.QuerySet):
    def between(self, one, other):
        """THE rule for "is there a block either way?": the blocks one made of other or
        other of one. Each side may be a user, an id or an OuterRef expression, so
        `Exists(Block.objects.between(viewer, OuterRef("author")))` asks it per row and
        `Block.objects.between(user, other).exists()` asks it about two people."""
        return self.filter(Q(blocker=one, blocked=other) | Q(blocker=other, blocked=one))

    def none_with(self, person, field: str) -> Q:
        """The same rule as `between`, for many rows at once: a Q keeping the rows whose
        `field` (a user id) has no block with person either way. As two `NOT IN` lists
        of ids, which PostgreSQL reads once per query and hashes; an EXISTS per row (two
        index probes each) was ~40 % of the stories tray's buffer reads."""
        return ~Q(**{f"{field}__in": self.filter(blocker=person).values("blocked")}) & ~Q(
            **{f"{field}__in": self.filter(blocked=person).values("blocker")}
        )

    def among(self, people):
        """The blocks between two of `people` (ids, or a subquery of ids): a group's
        members may not be together when any of these exists."""
        return self.filter(blocker_id__in=people, blocked_id__in=people)


class Block(models.Model):
    """blocker blocked blocked: hides each from the other, both ways."""

    blocker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="blocks_given",
        db_index=False,
    )
    blocked = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="blocks_received",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = BlockQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="block_unique_pair"),
            models.CheckConstraint(condition=~Q(blocker=F("blocked")), name="block_not_self"),
        ]
        indexes = [
            # "has anyone blocked X?" — the reverse direction of the unique pair
            models.Index(fields=["blocked", "blocker"], name="block_blocked_blocker_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.blocker_id} ⊘ {self.blocked_id}"
