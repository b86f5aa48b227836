"""Albums: personal ones (the owner's, shown to followers or one circle) and circle-owned
ones (every member adds), their photos in a manual order, covers and likes."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q

from accounts.models import Block, CircleMembership, Follow
from media.models import Image

TITLE_MAX = 100
DESCRIPTION_MAX = 1000
MAX_UPLOADS = 20
# The purpose of photos uploaded into an album, in media's purpose table (AlbumsConfig).
IMAGE_PURPOSE = "album"
# Positions are gapped integers: a new photo goes GAP after the last one, a move takes the
# midpoint of its new neighbours (one row written); when two neighbours leave no room, the
# album is renumbered once (albums_rebalance) and the move goes on.
GAP = 1 << 16


class AlbumKind(models.TextChoices):
    PERSONAL = "personal"  # its owner adds; shown to followers or one circle
    CIRCLE = "circle"  # the circle's: every member adds


class Audience(models.TextChoices):
    FOLLOWERS = "followers"
    CIRCLE = "circle"


class Aspect(models.TextChoices):
    SQUARE = "1:1", "1:1"
    PORTRAIT = "2:3", "2:3"
    WIDE = "16:9", "16:9"


ASPECT_RATIOS = {Aspect.SQUARE: 1.0, Aspect.PORTRAIT: 2 / 3, Aspect.WIDE: 16 / 9}


class AlbumQuerySet(models.QuerySet):
    def visible_to(self, viewer):
        """THE rule for who may see an album (and so its photos: pages, API, media).

        A circle's album: its members, now (removal takes effect at the next read). A
        personal album: its owner; for others, never across a block, and then its
        followers when the audience is followers, or the members of its one circle.
        """
        if viewer is None or not viewer.is_authenticated:
            return self.none()
        member = Exists(CircleMembership.objects.of(user=viewer, circle=OuterRef("circle")))
        follows = Exists(Follow.objects.filter(follower=viewer, following=OuterRef("owner")))
        blocked = Exists(Block.objects.between(OuterRef("owner"), viewer))
        circle_owned = Q(kind=AlbumKind.CIRCLE) & member
        personal = Q(kind=AlbumKind.PERSONAL) & (
            Q(owner=viewer)
            | (
                Q(owner__is_active=True)
                & ~blocked
                & (
                    (Q(audience=Audience.FOLLOWERS) & follows)
                    | (Q(audience=Audience.CIRCLE) & member)
                )
            )
        )
        return self.filter(circle_owned | personal)


class Album(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=10, choices=AlbumKind.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="albums"
    )
    audience = models.CharField(max_length=10, choices=Audience.choices)
    # the owning circle (kind circle) or the one circle a personal album is shown to
    circle = models.ForeignKey(
        "accounts.Circle", null=True, blank=True, on_delete=models.CASCADE, related_name="albums"
    )
    title = models.CharField(max_length=TITLE_MAX)
    description = models.TextField(max_length=DESCRIPTION_MAX, blank=True)
    # The cover: one of its photos, an aspect and the crop box in fractions (0..1) of the
    # photo's width and height, as the browser chose it (the photo is not re-uploaded).
    cover_item = models.ForeignKey(
        "AlbumItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cover_aspect = models.CharField(max_length=5, choices=Aspect.choices, blank=True)
    cover_crop = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AlbumQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["circle", "-created_at", "-id"], name="album_circle_created_idx"),
            models.Index(fields=["owner", "-created_at", "-id"], name="album_owner_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(audience="circle") & Q(circle__isnull=False))
                | (Q(audience="followers") & Q(circle__isnull=True) & Q(kind="personal")),
                name="album_circle_matches_audience",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class AlbumItem(models.Model):
    """One photo in an album, at a position. The image is an album upload (purpose
    "album") or a photo of a post its adder picked (purpose "post", `post` set): then
    the post's rule still decides who sees it, everywhere."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    album = models.ForeignKey(Album, on_delete=models.CASCADE, related_name="items")
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="album_items")
    post = models.ForeignKey(
        "posts.Post", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)
    position = models.BigIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["album", "position"], name="albumitem_position"),
            models.UniqueConstraint(fields=["album", "image"], name="albumitem_once"),
        ]
        indexes = [models.Index(fields=["image"], name="albumitem_image_idx")]

    def __str__(self) -> str:
        return f"{self.album_id} #{self.position}"


class AlbumLike(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    album = models.ForeignKey(Album, on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "album"], name="albumlike_once")]

    def __str__(self) -> str:
        return f"{self.user_id} likes {self.album_id}"
