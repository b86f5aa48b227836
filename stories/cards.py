"""The tray API's answer (GET /stories/feed, API.md "Stories"), built without pydantic.

Through TrayOut a tray of ~150 stories cost as much as finding them: validation plus 8
URL reversals per photo, ~50 ms on the bench VM. A story's image object (ImageOut) is
most of a story object, is the same for every viewer, and changes only with its image,
so it is kept in Redis as JSON under a key made of the story's id and its image's
updated_at (media.services writes updated_at whenever an image settles or is queued
again, so a changed image gets a new key and old keys expire by themselves), and spliced
into the answer as it is (orjson.Fragment). Only ready images are cached: the others are
the author's own, few, and about to change. Everything else comes fresh from the tray's
query on every request: `seen` and `view_count`, which are the viewer's, and the author,
circle and times, which may change without the image. Which stories a tray holds is
decided by Story.objects.visible_to on every request, so a cached image object is never
shown to anyone the rule does not allow; story_delete also drops the deleted story's key.

Each process also keeps the copies it used last in memory (`_recent`, up to RECENT_MAX):
a key's copy never changes, and reading ~150 of them (~200 KB) from Redis was a third of
a warm tray's time. Memory holds what Redis holds, so a copy there is only ever one the
rule lets a viewer see, as above.
"""

import threading
from collections import OrderedDict
from types import SimpleNamespace

import orjson
from django.core.cache import cache
from django.http import HttpResponse

from accounts.schemas import avatar_url_for_id
from circles import metrics
from circles.api_json import json_time
from media.models import ImageState
from media.schemas import ImageOut
from stories import selectors
from stories.selectors import ImageDetails, TrayStory

IMAGE_SECONDS = 25 * 3600  # a story lives 24 hours
IMAGE_VERSION = 1  # bump when the image object's shape changes
RECENT_MAX = 20_000  # image objects kept in each process's memory: ~1.5 KB each, ≤ ~35 MB

_recent: OrderedDict = OrderedDict()  # (story id, image updated_at) -> image object JSON
_recent_lock = threading.Lock()


def image_key(story_id, image_updated_at) -> str:
    return f"story:image:{IMAGE_VERSION}:{story_id}:{image_updated_at.timestamp():.6f}"


def _image_json(image: ImageDetails) -> bytes:
    """The image object exactly as ImageOut writes it."""
    source = SimpleNamespace(**image._asdict())
    source.renditions = orjson.loads(image.renditions) if image.renditions else {}
    return orjson.dumps(ImageOut.from_orm(source).model_dump(mode="json"))


def image_objects(stories: list[TrayStory]) -> dict:
    """{story id: its image object as JSON}: from this process's memory, then Redis in one
    round trip; the misses built from their photos' details (one more query) and the ready
    ones stored for the next viewer. A story whose photo is gone meanwhile (deleted with
    it) has none."""
    ready = {
        story.pk: (story.pk, story.image.updated_at)
        for story in stories
        if story.image.state == ImageState.READY
    }
    objects = _recent_get(ready)
    absent = {image_key(*ready[pk]): pk for pk in ready if pk not in objects}
    from_redis = cache.get_many(list(absent)) if absent else {}
    objects.update({absent[key]: json for key, json in from_redis.items()})
    metrics.cache_lookups("story_image", hits=len(objects), misses=len(ready) - len(objects))
    missing = [story for story in stories if story.pk not in objects]
    details = selectors.image_details([story.image.pk for story in missing]) if missing else {}
    fresh = {
        story.pk: _image_json(details[story.image.pk])
        for story in missing
        if story.image.pk in details
    }
    # kept only when built from the version the tray's row read (the photo may have
    # changed between the two queries: then it is shown, not cached under the old key)
    same = {story.pk for story in missing if _same_version(story, details)}
    kept = {pk: json for pk, json in fresh.items() if pk in ready and pk in same}
    if kept:
        cache.set_many({image_key(*ready[pk]): json for pk, json in kept.items()}, IMAGE_SECONDS)
    read = {ready[absent[key]]: json for key, json in from_redis.items()}
    _recent_put(read | {ready[pk]: json for pk, json in kept.items()})
    objects.update(fresh)
    return objects


def _same_version(story: TrayStory, details: dict) -> bool:
    found = details.get(story.image.pk)
    return found is not None and found.updated_at == story.image.updated_at


def _recent_get(idents: dict) -> dict:
    """{story id: image object JSON} of those idents ({story id: (story id, updated_at)})
    this process holds."""
    with _recent_lock:
        found = {pk: _recent[ident] for pk, ident in idents.items() if ident in _recent}
        for pk in found:
            _recent.move_to_end(idents[pk])
    return found


def _recent_put(copies: dict) -> None:
    with _recent_lock:
        _recent.update(copies)
        while len(_recent) > RECENT_MAX:
            _recent.popitem(last=False)


def forget_recent() -> None:
    """Drop this process's copies (tests that change what Redis holds)."""
    with _recent_lock:
        _recent.clear()


def tray_response(viewer) -> HttpResponse:
    """{items: [{user, has_unseen, stories: [story]}]}, as TrayOut would write it, for
    stories.selectors' story_rows_for_tray (one query) and the image objects in Redis
    (one more query when some are not cached yet)."""
    entries = selectors.story_rows_for_tray(viewer=viewer)
    images = image_objects([story for entry in entries for story in entry.stories])
    items = []
    for entry in entries:
        user = entry.user
        author = {
            "id": user.pk,  # orjson writes a UUID as str() does
            "username": user.username,
            "display_name": user.display_name,
            "avatar": avatar_url_for_id(user.avatar_id),
        }
        stories = []
        for story in entry.stories:
            if story.pk not in images:  # deleted since the tray's query
                continue
            circle = story.circle_id and {"id": story.circle_id, "name": story.circle_name}
            data = {
                "id": story.pk,
                "author": author,
                "image": orjson.Fragment(images[story.pk]),
                "audience": story.audience,
                "circle": circle,
                "created_at": json_time(story.created_at),
                "expires_at": json_time(story.expires_at),
                "seen": story.seen,
            }
            if story.view_count is not None:  # the author's own stories only
                data["view_count"] = story.view_count
            stories.append(data)
        if stories:
            items.append({"user": author, "has_unseen": entry.has_unseen, "stories": stories})
    body = orjson.dumps({"items": items})
    return HttpResponse(body, content_type="application/json; charset=utf-8")
