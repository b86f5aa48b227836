"""Every write about stories: creating them (their photo through media), recording views,
deleting them, and removing expired ones."""

import logging

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import CircleMembership, User
from circles.ids import uuid_or_none
from media.models import Image
from media.services import files_delete, images_accept, images_delete
from stories import cards
from stories.models import IDEMPOTENCY_KEY_MAX, IMAGE_PURPOSE, LIFETIME, Audience, Story, StoryView

logger = logging.getLogger(__name__)

CLEANUP_BATCH = 200


def story_for_idempotency_key(*, author: User, key: str | None) -> Story | None:
    """The story an earlier request with this Idempotency-Key created, if any."""
    if not key:
        return None
    return Story.objects.filter(author=author, idempotency_key=key).first()


def _story_circle(*, author: User, audience: str, circle_id):
    """The circle a story goes to: one author is a member of (circle audience only)."""
    if audience not in Audience.values:
        raise ValidationError({"audience": ["Choose followers or circle."]})
    if audience != Audience.CIRCLE:
        if circle_id:
            raise ValidationError({"circle_id": ["Only circle stories name a circle."]})
        return None
    membership = (
        CircleMembership.objects.of(user=author, circle=uuid_or_none(circle_id))
        .select_related("circle")
        .first()
    )
    if membership is None:
        raise ValidationError({"circle_id": ["Choose one of your circles."]})
    return membership.circle


def story_create(
    *,
    author: User,
    file,
    audience: str = Audience.FOLLOWERS,
    circle_id=None,
    idempotency_key: str | None = None,
) -> tuple[Story, bool]:
    """Store the photo's original and create the story; its photo is processed by a task
    after commit (same checks, limits and metadata stripping as every photo). Visible to
    others once the photo is ready, until 24 hours after it was posted.

    Returns (story, created). A repeated Idempotency-Key returns the first story. Nothing
    is stored when the file or a field is refused.
    """
    if idempotency_key and len(idempotency_key) > IDEMPOTENCY_KEY_MAX:
        raise ValidationError(
            {"idempotency_key": ["An Idempotency-Key is at most 100 characters."]}
        )
    if idempotency_key:
        existing = story_for_idempotency_key(author=author, key=idempotency_key)
        if existing:
            return existing, False
    if file is None:
        raise ValidationError({"image": ["Add a photo."]})
    circle = _story_circle(author=author, audience=audience, circle_id=circle_id)
    try:
        with images_accept(owner=author, uploads=[file], purpose=IMAGE_PURPOSE) as stored:
            now = timezone.now()
            story = Story.objects.create(
                author=author,
                image=stored[0],
                audience=audience,
                circle=circle,
                idempotency_key=idempotency_key or None,
                created_at=now,
                expires_at=now + LIFETIME,
            )
    except IntegrityError:
        # the same Idempotency-Key raced us: keep the first story (these files are gone)
        existing = story_for_idempotency_key(author=author, key=idempotency_key)
        if existing is None:
            raise
        return existing, False
    return story, True


def story_view_record(*, viewer: User, story: Story) -> None:
    """Record that viewer saw story (one the caller got through the rule); once per
    viewer and story — a repeat or a concurrent request changes nothing (the unique pair
    decides, ON CONFLICT DO NOTHING). The author's own views are not recorded."""
    if story.author_id == viewer.pk:
        return
    StoryView.objects.bulk_create([StoryView(story=story, viewer=viewer)], ignore_conflicts=True)


def story_delete(*, story: Story, actor: User) -> None:
    """Delete a story before it expires (its author, or staff): the row, its views and
    its photo's row now, the photo's files by a task right after commit."""
    if story.author_id != actor.pk and not actor.is_staff:
        raise PermissionDenied("Only the author can delete this story.")
    with transaction.atomic():
        image = story.image
        key = cards.image_key(story.pk, image.updated_at)
        story.delete()  # its views go with it (CASCADE)
        images_delete(images_to_delete=[image])
        transaction.on_commit(lambda: cache.delete(key))  # the tray's copy of its image


def stories_cleanup(*, batch: int = CLEANUP_BATCH) -> int:
    """Remove every expired story with its views, its photo's row and its files; returns
    how many stories went. Idempotent, and safe to run twice at once: each batch locks
    its rows with SKIP LOCKED, so two runs share the work instead of repeating it. The
    files are removed while the rows are locked and before they go, so a storage failure
    rolls the batch back and the next run tries again — no file is left without a row
    pointing at it."""
    removed = 0
    while True:
        with transaction.atomic():
            expired = list(
                Story.objects.expired()
                .select_related("image")
                .select_for_update(of=("self",), skip_locked=True)
                .order_by("expires_at")[:batch]
            )
            if not expired:
                return removed
            images = [story.image for story in expired]
            files_delete(keys=[key for image in images for key in image.storage_keys()])
            Story.objects.filter(pk__in=[story.pk for story in expired]).delete()
            Image.objects.filter(pk__in=[image.pk for image in images]).delete()
        removed += len(expired)
        logger.info("stories cleanup: removed %d expired stories", len(expired))


def stories_account_deleting(*, user: User) -> None:
    """accounts.hooks.account_deleting: the person's stories go with their views (their
    photos with every other image of theirs, after), and their views of others' stories.
    Safe to run again."""
    stories = list(Story.objects.filter(author=user).values_list("pk", "image__updated_at"))
    Story.objects.filter(author=user).delete()
    StoryView.objects.filter(viewer=user).delete()
    keys = [cards.image_key(pk, updated_at) for pk, updated_at in stories]
    transaction.on_commit(lambda: cache.delete_many(keys))  # the tray's copies
