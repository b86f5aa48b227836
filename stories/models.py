"""Stories: one photo for 24 hours, to your followers or to one circle; who viewed it."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import Block, CircleMembership, Follow
from media.models import Image, ImageState

# A story is visible while now < expires_at = created_at + LIFETIME, on every path.
LIFETIME = timedelta(hours=24)
# The purpose of story photos in the media purpose table (registered in StoriesConfig).
IMAGE_PURPOSE = "story"
IDEMPOTENCY_KEY_MAX = 100


class Audience(models.TextChoices):
    FOLLOWERS = "followers"
    CIRCLE = "circle"


class StoryQuerySet(models.QuerySet):
    def active(self, *, now=None):
        """Stories not expired yet: the clock is read here, on every query, so a story is
        gone from every path at expires_at whether or not the cleanup has run. `now` is
        for a query compiled once (stories.selectors), which is given the clock per run."""
        return self.filter(expires_at__gt=now or timezone.now())

    def visible_to(self, viewer, *, now=None):
        """THE rule for who may see a story: the tray, the viewer, the API, media serving
        of story photos, story replies and the cleanup's counterpart (`expired`) use it.

        Active stories only (see `active`), by an active author. Your own, in any state.
        Others' once their photo is ready, never across a block (either way), and then:
        a followers story when viewer follows the author (an approved follow: a pending
        request is not one); a circle story when viewer and its author are both members
        of its circle now. Anonymous viewers see no story. Unfollowing, leaving the circle
        (or its author leaving it) or a block take a story away at once: nothing is
        copied, every read asks these rows.
        """
        stories = self.active(now=now).filter(author__is_active=True)
        if viewer is None or not viewer.is_authenticated:
            return stories.none()
        # asked once per query (hashed id lists), not per story: the tray asks ~300
        unblocked = Block.objects.none_with(viewer, "author")
        follows = Q(author__in=Follow.objects.filter(follower=viewer).values("following"))
        member = Exists(CircleMembership.objects.of(user=viewer, circle=OuterRef("circle")))
        author_member = Exists(
            CircleMembership.objects.of(user=OuterRef("author"), circle=OuterRef("circle"))
        )
        audience = (Q(audience=Audience.FOLLOWERS) & follows) | (
            Q(audience=Audience.CIRCLE) & member & author_member
        )
        others = Q(image__state=ImageState.READY) & unblocked & audience
        return stories.filter(Q(author=viewer) | others)

    def expired(self, *, now=None):
        """Stories past their 24 hours: what the cleanup removes (visible_to never
        shows them)."""
        return self.filter(expires_at__lte=now or timezone.now())


class Story(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stories", db_index=False
    )
    image = models.OneToOneField(Image, on_delete=models.CASCADE, related_name="story")
    audience = models.CharField(max_length=10, choices=Audience.choices)
    circle = models.ForeignKey(
        "accounts.Circle",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="stories",
        db_index=False,
    )
    # A client's Idempotency-Key: a repeat with the same key returns this story.
    idempotency_key = models.CharField(
        max_length=IDEMPOTENCY_KEY_MAX, null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    objects = StoryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "stories"
        indexes = [
            # a person's active stories (the tray walks the people it may show)
            models.Index(fields=["author", "expires_at"], name="story_author_expires_idx"),
            # circle stories of the viewer's circles
            models.Index(
                fields=["circle", "expires_at"],
                name="story_circle_expires_idx",
                condition=Q(circle__isnull=False),
            ),
            # the cleanup's scan for expired stories
            models.Index(fields=["expires_at"], name="story_expires_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "idempotency_key"], name="story_author_idempotency_key"
            ),
            models.CheckConstraint(
                condition=(Q(audience="circle") & Q(circle__isnull=False))
                | (Q(audience="followers") & Q(circle__isnull=True)),
                name="story_circle_matches_audience",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="story_expires_after"
            ),
        ]

    def __str__(self) -> str:
        return f"story {self.pk} by {self.author_id}"


class StoryView(models.Model):
    """viewer saw story (once: the pair is unique). The author's own views are not rows."""

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="views", db_index=False)
    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="story_views"
    )
    viewed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["story", "viewer"], name="storyview_unique_pair"),
        ]
        indexes = [
            # the author's viewer list, newest first
            models.Index(fields=["story", "-viewed_at"], name="storyview_story_viewed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.viewer_id} saw {self.story_id}"
