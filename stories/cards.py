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
audience and circle, which may change without the image. Which stories a tray holds is
decided by Story.objects.visible_to on every request, so a cached image object is never
shown to anyone the rule does not allow; story_delete also drops the deleted story's key.

Each process also keeps, for the image objects it used last (`_recent`, up to RECENT_MAX),
the story members that change only with them: id, image, created_at and expires_at, as
a JSON object ready to be completed with the rest (author, audience, circle, and the
viewer's seen and view_count). A key's copy never changes, and reading ~150 of them
(~200 KB) from Redis was a third of a warm tray's time; writing the two times of ~150
stories another sixth. Memory holds what Redis holds, so a copy there is only ever one
the rule lets a viewer see, as above.
"""

import threading
from types import SimpleNamespace

import orjson
from django.core.cache import cache
from django.http import HttpResponse

from accounts.people import avatar_url_for_id
from circles import metrics
from circles.api_json import json_time
from media.models import ImageState
from stories import selectors
from stories.selectors import ImageDetails, TrayStory

IMAGE_SECONDS = 25 * 3600  # a story lives 24 hours
IMAGE_VERSION = 1  # bump when the image object's shape changes
RECENT_MAX = 20_000  # stories kept in each process's memory: ~1.5 KB each, ≤ ~35 MB

# (story id as an int, image updated_at) -> {id, image, created_at, expires_at} as JSON;
# ints, not UUIDs, as keys: a UUID hashes and compares in Python, ~10 times a story
_recent: dict = {}
_recent_lock = threading.Lock()  # for writers: a dict's get() needs none


def image_key(story_id, image_updated_at) -> str:
    return f"story:image:{IMAGE_VERSION}:{story_id}:{image_updated_at.timestamp():.6f}"


def _image_json(image: ImageDetails) -> bytes:
    """The image object exactly as ImageOut writes it."""
    # imported here: stories.services imports this module for image_key, and the Celery
    # worker, which imports services but builds no API answer, does without pydantic
    from media.schemas import ImageOut

    source = SimpleNamespace(**image._asdict())
    source.renditions = orjson.loads(image.renditions) if image.renditions else {}
    return orjson.dumps(ImageOut.from_orm(source).model_dump(mode="json"))


def _fixed_members(story: TrayStory, image_json: bytes) -> bytes:
    """The members of story's object that change only with its image, as a JSON object."""
    return orjson.dumps(
        {
            "id": story.pk,  # orjson writes a UUID as str() does
            "image": orjson.Fragment(image_json),
            "created_at": json_time(story.created_at),
            "expires_at": json_time(story.expires_at),
        }
    )


def fixed_members(stories: list[TrayStory]) -> dict:
    """{story id as an int: its fixed members (_fixed_members)}: from this process's
    memory, then the image objects in Redis in one round trip; the misses built from their
    photos' details (one more query) and the ready ones stored for the next viewer. A
    story whose photo is gone meanwhile (deleted with it) has none."""
    found, absent = {}, {}  # absent: Redis key -> (memory key, story)
    for story in stories:
        if story.image.state != ImageState.READY:
            continue
        ident = (story.pk.int, story.image.updated_at)
        copy = _recent.get(ident)
        if copy is None:
            absent[image_key(story.pk, story.image.updated_at)] = (ident, story)
        else:
            found[story.pk.int] = copy
    read = {}
    for key, image_json in (cache.get_many(list(absent)) if absent else {}).items():
        ident, story = absent[key]
        read[ident] = found[story.pk.int] = _fixed_members(story, image_json)
    metrics.cache_lookups("story_image", hits=len(found), misses=len(absent) - len(read))
    missing = [story for story in stories if story.pk.int not in found]
    details = selectors.image_details([story.image.pk for story in missing]) if missing else {}
    kept = {}
    for story in missing:
        image = details.get(story.image.pk)
        if image is None:
            continue
        image_json = _image_json(image)
        found[story.pk.int] = _fixed_members(story, image_json)
        # kept only when ready and built from the version the tray's row read (the photo
        # may have changed between the two queries: then it is shown, not cached under
        # the old key)
        if story.image.state == ImageState.READY and image.updated_at == story.image.updated_at:
            kept[image_key(story.pk, story.image.updated_at)] = image_json
            read[(story.pk.int, story.image.updated_at)] = found[story.pk.int]
    if kept:
        cache.set_many(kept, IMAGE_SECONDS)
    _recent_put(read)
    return found


def _recent_put(copies: dict) -> None:
    """Keep copies, dropping the oldest kept beyond RECENT_MAX (stories live a day, and
    a changed image has a new key, so the oldest are the least likely to be asked)."""
    if not copies:
        return
    with _recent_lock:
        _recent.update(copies)
        while len(_recent) > RECENT_MAX:
            del _recent[next(iter(_recent))]


def forget_recent() -> None:
    """Drop this process's copies (tests that change what Redis holds)."""
    with _recent_lock:
        _recent.clear()


_TRUE_FALSE = {True: b"true", False: b"false"}


def _story_json(story: TrayStory, fixed: bytes, author: bytes) -> bytes:
    """A story object: its fixed members and those that may change without its image."""
    rest = {
        "author": orjson.Fragment(author),
        "audience": story.audience,
        "circle": story.circle_id and {"id": story.circle_id, "name": story.circle_name},
        "seen": story.seen,
    }
    if story.view_count is not None:  # the author's own stories only
        rest["view_count"] = story.view_count
    return fixed[:-1] + b"," + orjson.dumps(rest)[1:]


def tray_response(viewer) -> HttpResponse:
    """{items: [{user, has_unseen, stories: [story]}]}, as TrayOut would write it, for
    stories.selectors' story_rows_for_tray (one query) and the image objects in Redis
    (one more query when some are not cached yet)."""
    entries = selectors.story_rows_for_tray(viewer=viewer)
    members = fixed_members([story for entry in entries for story in entry.stories])
    items = []
    for entry in entries:
        user = entry.user
        author = orjson.dumps(
            {
                "id": user.pk,
                "username": user.username,
                "display_name": user.display_name,
                "avatar": avatar_url_for_id(user.avatar_id),
            }
        )
        stories = [
            _story_json(story, members[story.pk.int], author)
            for story in entry.stories
            if story.pk.int in members  # not deleted since the tray's query
        ]
        if stories:
            items.append(
                b'{"user":%b,"has_unseen":%b,"stories":[%b]}'
                % (author, _TRUE_FALSE[entry.has_unseen], b",".join(stories))
            )
    body = b'{"items":[%b]}' % b",".join(items)
    return HttpResponse(body, content_type="application/json; charset=utf-8")
