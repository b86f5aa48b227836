"""The stories part of /api/v1 (shared/API.md "Stories"): thin handlers over
stories.services/selectors. Replies (POST /stories/{id}/reply) are direct messages, so
messaging's API serves them (messaging/api.py), mounted under the same prefix."""

from typing import Literal

from ninja import File, Form, Query, Router, Status, UploadedFile

from circles.errors import ApiError
from circles.openapi import errors
from circles.ratelimits import enforce
from circles.schemas import Page, PageParams
from stories import cards, selectors, services
from stories.models import IDEMPOTENCY_KEY_MAX
from stories.schemas import StoryOut, StoryViewerOut, TrayOut

router = Router(tags=["stories"])


@router.post("", response={202: StoryOut}, openapi_extra=errors(429))
def story_create(
    request,
    image: File[UploadedFile],
    audience: Form[Literal["followers", "circle"]] = "followers",
    circle_id: Form[str] = "",
):
    """One photo (JPEG, PNG, WebP or HEIC ≤ 10 MB) for 24 hours, to your followers or to
    one circle you are in (`audience=circle&circle_id=…`). 202 at once: the photo is
    processed after; others see the story once it is ready. `Idempotency-Key` honoured."""
    key = request.headers.get("Idempotency-Key") or None
    if key and len(key) > IDEMPOTENCY_KEY_MAX:
        raise ApiError(400, "invalid", "Idempotency-Key is at most 100 characters.")
    if not services.story_for_idempotency_key(author=request.auth, key=key):
        enforce(request, "story", key=f"user:{request.auth.pk}")  # replays are free
    story, _ = services.story_create(
        author=request.auth,
        file=image,
        audience=audience,
        circle_id=circle_id or None,
        idempotency_key=key,
    )
    return Status(202, selectors.story_get_visible(viewer=request.auth, story_id=story.pk))


@router.get("/feed", response=TrayOut)
def story_feed(request):
    """The tray: your own stories first, then people whose active stories you may see —
    those with unseen stories first, each group by its latest story. (Written as TrayOut
    would write it, by stories.cards, with each image object cached.)"""
    return cards.tray_response(request.auth)


@router.get("/{story_id}", response=StoryOut)
def story_detail(request, story_id: str):
    return selectors.story_get_visible(viewer=request.auth, story_id=story_id)


@router.post("/{story_id}/view", response={204: None})
def story_view(request, story_id: str):
    """Record that you saw the story (once, however often you open it; not your own)."""
    story = selectors.story_get_visible(viewer=request.auth, story_id=story_id)
    services.story_view_record(viewer=request.auth, story=story)
    return Status(204, None)


@router.delete("/{story_id}", response={204: None})
def story_delete(request, story_id: str):
    story = selectors.story_get_visible(viewer=request.auth, story_id=story_id)
    services.story_delete(story=story, actor=request.auth)
    return Status(204, None)


@router.get("/{story_id}/viewers", response=Page[StoryViewerOut])
def story_viewers(request, story_id: str, page: Query[PageParams]):
    """Who viewed your story, newest first (the author only: 403 for anyone else who
    can see it)."""
    story = selectors.story_get_own(viewer=request.auth, story_id=story_id)
    result = selectors.story_viewer_list(story=story, **page.dict())
    return {"items": result.items, "next_cursor": result.next_cursor}
