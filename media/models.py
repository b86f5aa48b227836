"""The Image: one uploaded photo of any purpose (a post's, an avatar, a chat photo...)."""

import uuid

from django.conf import settings
from django.db import models

ALT_MAX = 500
PURPOSE_MAX = 10


class ImageState(models.TextChoices):
    PENDING = "pending"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class Image(models.Model):
    """One uploaded photo: its private original and, once processed, its renditions.

    `purpose` names what the image belongs to; the content app that owns the purpose
    registered who may see it (media.registry), so this app never names them.
    `renditions` maps a rendition name (thumbnail, small, medium, large) to
    {"width", "height", "webp": key, "jpeg": key}; keys are random storage paths.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="images"
    )
    purpose = models.CharField(max_length=PURPOSE_MAX)
    original_key = models.CharField(max_length=255, editable=False)
    state = models.CharField(max_length=10, choices=ImageState.choices, default=ImageState.PENDING)
    error = models.CharField(max_length=255, blank=True)
    alt = models.CharField(max_length=ALT_MAX, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    blurhash = models.CharField(max_length=64, blank=True)
    renditions = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The delivery (Celery task id) holding the claim: its redelivery after a lost worker
    # may take the claim back at once instead of waiting for STUCK_AFTER.
    claimed_by = models.CharField(max_length=64, blank=True, editable=False)
    # The rendition keys the claiming run is about to write, recorded before it writes
    # them: if its worker dies, the next claim removes them instead of leaving orphans.
    scratch_keys = models.JSONField(default=list, blank=True, editable=False)
    # Bytes stored, for the operators' storage figures (no listing of the bucket needed);
    # null for images stored before these were recorded.
    original_bytes = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    renditions_bytes = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # The table the model had when it lived in posts/: kept, so the move lost no row.
        db_table = "posts_image"
        indexes = [
            # the periodic re-queue scans images stuck in processing
            models.Index(fields=["state", "claimed_at"], name="image_state_claimed_idx"),
        ]

    def __str__(self) -> str:
        return f"image {self.pk} ({self.state})"

    def storage_keys(self) -> list[str]:
        keys = [self.original_key] if self.original_key else []
        for rendition in (self.renditions or {}).values():
            keys += [rendition["webp"], rendition["jpeg"]]
        return keys
