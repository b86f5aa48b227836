"""Reads about stories. Every story read goes through Story.objects.visible_to(viewer);
hidden, expired and unknown stories raise Http404."""

import functools
import operator
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from django.core.exceptions import PermissionDenied
from django.db.models import (
    Case,
    Count,
    Exists,
    OuterRef,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.http import Http404
from django.utils import timezone

from accounts.models import CircleMembership, Follow, User
from accounts.people import avatar_url
from circles.compiled import CompiledQuery
from circles.ids import uuid_or_404
from circles.links import reverse_with_id
from circles.pagination import DEFAULT_LIMIT, PageResult, paginate
from media.links import media_url, media_url_for_id
from media.models import Image, ImageState
from notifications.registry import Target as NotificationTarget
from stories.models import Story, StoryView


def _seen_by(viewer) -> Exists:
    return Exists(StoryView.objects.filter(story=OuterRef("pk"), viewer=viewer))


def stories_with_details(queryset: QuerySet, *, viewer) -> QuerySet:
    """What a story object shows viewer, in the same query: author, image, circle,
    `seen` (viewer has a view row, or it is viewer's own) and, on viewer's own stories
    only, `view_count`."""
    views = (
        StoryView.objects.filter(story=OuterRef("pk"))
        .order_by()
        .values("story")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.select_related("author", "image", "circle").annotate(
        seen_row=_seen_by(viewer),
        # counted only on viewer's own rows (CASE evaluates the subquery for those alone)
        own_view_count=Case(
            When(author=viewer, then=Coalesce(Subquery(views[:1]), Value(0))), default=Value(0)
        ),
    )


def story_get_visible(*, viewer, story_id) -> Story:
    story = (
        stories_with_details(Story.objects.visible_to(viewer), viewer=viewer)
        .filter(pk=uuid_or_404(story_id))
        .first()
    )
    if story is None:
        raise Http404
    return story_decorate(story, viewer=viewer)


def story_get_own(*, viewer, story_id) -> Story:
    """A story viewer may see and wrote: 404 when they may not see it, 403 when it is
    someone else's (its viewers are the author's to know)."""
    story = story_get_visible(viewer=viewer, story_id=story_id)
    if story.author_id != viewer.pk:
        raise PermissionDenied("Only the author sees who viewed a story.")
    return story


def story_image_visible(viewer, image) -> bool:
    """May viewer see a story photo? Exactly when they may see its story (the media
    purpose rule of story photos): not once it expired, was deleted, or viewer lost the
    audience (unfollowed, left the circle, blocked)."""
    return Story.objects.visible_to(viewer).filter(image=image).exists()


def story_viewer_list(*, story: Story, cursor=None, limit=DEFAULT_LIMIT) -> PageResult:
    """Who viewed story (the caller checked it is viewer's own), newest view first."""
    views = StoryView.objects.filter(story=story).select_related("viewer")
    return paginate(views, cursor=cursor, limit=limit, time_field="viewed_at")


# --- the tray ---------------------------------------------------------------------------


@dataclass
class TrayEntry:
    """One person in the tray: their active stories you may see, oldest first. `user` and
    the stories are models (story_list_for_tray) or plain rows (story_rows_for_tray)."""

    user: object
    stories: list = field(default_factory=list)

    @functools.cached_property  # asked by the sort, once stories are all in
    def has_unseen(self) -> bool:
        return any(not story.seen for story in self.stories)

    @property
    def latest(self):
        return self.stories[-1].created_at

    @property
    def first_unseen(self):
        return next((story for story in self.stories if not story.seen), self.stories[0])


def _tray_union(viewer_id, now, *, columns: tuple, annotate=None) -> QuerySet:
    """`columns` of the stories viewer's tray shows, by Story.objects.visible_to. The
    candidates (viewer, the people viewer follows, viewer's circles), one branch of a
    UNION each, only let PostgreSQL walk the (author, expires_at) and (circle, expires_at)
    indexes for them instead of scanning every active story; the rule decides."""
    person = User(pk=viewer_id)
    rule = Story.objects.visible_to(person, now=now).order_by()
    if annotate:
        rule = annotate(rule, person)
    followed = Follow.objects.filter(follower=person).values("following_id")
    circles = CircleMembership.objects.filter(user=person).values("circle_id")
    return (
        rule.filter(author=person)
        .values_list(*columns)
        .union(
            rule.filter(author__in=followed).values_list(*columns),
            rule.filter(circle__in=circles).values_list(*columns),
        )
    )


@functools.cache
def _tray_ids_query() -> CompiledQuery:
    """The ids of the stories in viewer's tray, compiled once per process
    (circles/compiled.py): building and compiling the rule's three branches cost about
    as much as PostgreSQL takes to run them."""
    return CompiledQuery(
        lambda viewer, now: _tray_union(viewer, now, columns=("pk",)), viewer="uuid", now="datetime"
    )


def _arrange(stories, *, viewer, user_of) -> list[TrayEntry]:
    """Stories (oldest first, with `author_id`, `seen` and `created_at`) as the tray, in
    _in_tray_order."""
    entries: dict = {}  # by author id as an int (a UUID hashes in Python)
    for story in stories:
        entry = entries.get(story.author_id.int)
        if entry is None:
            entry = entries[story.author_id.int] = TrayEntry(user=user_of(story))
        entry.stories.append(story)
    return _in_tray_order(entries, viewer=viewer)


def _in_tray_order(entries: dict, *, viewer) -> list:
    """Tray entries (by their person's id as an int; each with `latest` and `has_unseen`)
    in the tray's order: viewer's own first, then those with unseen stories, each group
    by its latest story, newest first."""
    own = entries.pop(viewer.pk.int, None)
    others = sorted(entries.values(), key=lambda e: e.latest, reverse=True)
    others.sort(key=lambda e: not e.has_unseen)  # stable: unseen first, each by latest
    return ([own] if own else []) + others


def story_list_for_tray(*, viewer) -> list[TrayEntry]:
    """The tray as models (the pages): viewer's own stories first, then each person whose
    active stories viewer may see — those with unseen stories first, each group by their
    latest story, newest first. Two queries, however many people viewer follows or shares
    circles with: the ids by the rule (_tray_ids_query), then their details by id."""
    if viewer is None or not viewer.is_authenticated:
        return []
    rows = _tray_ids_query().run(viewer=viewer.pk, now=timezone.now())
    if not rows:
        return []
    stories = stories_with_details(
        Story.objects.filter(pk__in=[pk for (pk,) in rows]), viewer=viewer
    ).order_by("created_at", "pk")
    decorated = [story_decorate(story, viewer=viewer) for story in stories]
    return _arrange(decorated, viewer=viewer, user_of=lambda story: story.author)


class TrayAuthor(NamedTuple):
    pk: uuid.UUID
    username: str
    display_name: str
    avatar_id: uuid.UUID | None

    @property
    def name(self) -> str:  # as User.name (the home page's tray shows it)
        return self.display_name or self.username


class TrayImage(NamedTuple):
    """What the tray's query reads of a story's photo: enough to find its cached image
    object (stories.cards); the rest is read only for objects not cached yet
    (image_details)."""

    pk: uuid.UUID
    updated_at: datetime
    state: str


class ImageDetails(NamedTuple):
    """What an image object (media.schemas.ImageOut) is built from."""

    pk: uuid.UUID
    updated_at: datetime
    state: str
    error: str
    width: int | None
    height: int | None
    alt: str
    blurhash: str
    renditions: str  # JSON text


class TrayStory(NamedTuple):
    """What the tray API shows of a story (stories.cards), as plain values."""

    pk: uuid.UUID
    created_at: datetime
    expires_at: datetime
    audience: str
    circle_id: uuid.UUID | None
    circle_name: str | None
    author_id: uuid.UUID
    author_username: str
    author_display_name: str
    author_avatar_id: uuid.UUID | None
    seen: bool
    view_count: int | None  # viewer's own stories only
    image: TrayImage


_TRAY_COLUMNS = (
    *("pk", "created_at", "expires_at", "audience", "circle_id", "circle__name"),
    *("author_id", "author__username", "author__display_name", "author__avatar_id"),
    *("seen_row", "own_view_count"),
    *("image_id", "image__updated_at", "image__state"),
)
_AUTHOR = _TRAY_COLUMNS.index("author_id")
_SEEN = _TRAY_COLUMNS.index("seen_row")


def _with_details(stories: QuerySet, viewer) -> QuerySet:
    return stories_with_details(stories, viewer=viewer)


def image_details(image_ids) -> dict:
    """{image id: ImageDetails}, one query. Kept out of the tray's query, which reads a
    photo's id, updated_at and state only: the rest is needed just for the image objects
    not cached yet (stories.cards), and PostgreSQL writing out ~200 renditions (jsonb as
    text) alone was ~6 ms a tray. As text, since parsing them in Python costs as much
    again."""
    rows = Image.objects.filter(pk__in=image_ids).annotate(text=Cast("renditions", TextField()))
    fields = ("pk", "updated_at", "state", "error", "width", "height", "alt", "blurhash", "text")
    return {row[0]: ImageDetails(*row) for row in rows.values_list(*fields)}


@functools.cache
def _tray_query() -> CompiledQuery:
    """The tray's stories with everything the API shows, as tuples, in one query: the
    rule's branches (_tray_union) carry the details (stories_with_details) along, so no
    second query by id is needed and no model is built. Compiled once per process. (The
    first one-query tray let the planner guess thousands of rows and hash whole tables;
    here each branch stays on its index, and the query costs PostgreSQL what the ids
    query and the details query cost together.)"""
    return CompiledQuery(
        lambda viewer, now: _tray_union(viewer, now, columns=_TRAY_COLUMNS, annotate=_with_details),
        viewer="uuid",
        now="datetime",
    )


def _tray_author(story: TrayStory) -> TrayAuthor:
    return TrayAuthor(
        story.author_id, story.author_username, story.author_display_name, story.author_avatar_id
    )


def _tray_rows(query: CompiledQuery, viewer) -> list:
    """A tray query's rows for viewer (none for anonymous viewers), oldest story first:
    by created_at, then id (a row's second and first values)."""
    if viewer is None or not viewer.is_authenticated:
        return []
    rows = query.run(viewer=viewer.pk, now=timezone.now())
    rows.sort(key=operator.itemgetter(1, 0))
    return rows


def _tray_from_rows(query: Callable[[], CompiledQuery], story_of, *, viewer) -> list[TrayEntry]:
    """The tray from one compiled query's rows (viewer, now), arranged by _arrange, each
    row made a story by story_of(row, viewer's id)."""
    rows = _tray_rows(query(), viewer)
    if not rows:
        return []
    viewer_id = viewer.pk  # once: request.user is a lazy object
    stories = [story_of(row, viewer_id) for row in rows]
    return _arrange(stories, viewer=viewer, user_of=_tray_author)


def _tray_story(row, viewer_id) -> TrayStory:
    own = row[_AUTHOR] == viewer_id
    seen, view_count = own or row[_SEEN], row[_SEEN + 1] if own else None
    return TrayStory(*row[:_SEEN], seen, view_count, TrayImage(*row[_SEEN + 2 :]))


def story_rows_for_tray(*, viewer) -> list[TrayEntry]:
    """The tray as story_list_for_tray orders it, each story a TrayStory and each user a
    TrayAuthor, in one query however many people viewer follows (_tray_query)."""
    return _tray_from_rows(_tray_query, _tray_story, viewer=viewer)


@dataclass(slots=True)
class Ring:
    """A person in the home page's tray (stories.rings), summed up from their stories:
    who, the story the ring opens (the first unseen, else the first), whether any is
    unseen, when the latest was posted and how many there are."""

    user: TrayAuthor
    story_id: uuid.UUID
    has_unseen: bool
    latest: datetime
    count: int


_RING_COLUMNS = (
    *("pk", "created_at", "author_id"),
    *("author__username", "author__display_name", "author__avatar_id", "seen_row"),
)


def _with_seen(stories: QuerySet, viewer) -> QuerySet:
    return stories.annotate(seen_row=_seen_by(viewer))


@functools.cache
def _rings_query() -> CompiledQuery:
    """The tray's stories with only what the home page's rings show: the tray query's
    rule, without the photos, circles and view counts the API shows."""
    return CompiledQuery(
        lambda viewer, now: _tray_union(viewer, now, columns=_RING_COLUMNS, annotate=_with_seen),
        viewer="uuid",
        now="datetime",
    )


def story_rings_for_home(*, viewer) -> list[Ring]:
    """The tray as story_rows_for_tray orders it, a Ring a person, for the home page: one
    query (_rings_query), its rows summed up a person at a time as they are read, oldest
    first — a ring needs no story's own object (~150 rows make ~50 rings)."""
    rows = _tray_rows(_rings_query(), viewer)
    if not rows:
        return []
    viewer_id = viewer.pk  # once: request.user is a lazy object
    rings: dict = {}  # by author id as an int (a UUID hashes in Python)
    for pk, created_at, author_id, username, display_name, avatar_id, seen in rows:
        unseen = not seen and author_id != viewer_id  # your own count as seen
        ring = rings.get(author_id.int)
        if ring is None:
            author = TrayAuthor(author_id, username, display_name, avatar_id)
            rings[author_id.int] = Ring(author, pk, unseen, created_at, 1)
            continue
        if unseen and not ring.has_unseen:  # the first unseen: the one the ring opens
            ring.story_id, ring.has_unseen = pk, True
        ring.latest = created_at
        ring.count += 1
    return _in_tray_order(rings, viewer=viewer)


def story_decorate(story: Story, *, viewer) -> Story:
    """`seen` and `view_count` as the story object shows them to viewer: your own stories
    count as seen and carry their view count; nobody else's view count is shown."""
    own = viewer is not None and story.author_id == getattr(viewer, "pk", None)
    story.seen = own or bool(getattr(story, "seen_row", False))
    story.view_count = getattr(story, "own_view_count", 0) if own else None
    return story


# --- the viewer page ------------------------------------------------------------------


def _image_data(image, *, alt: str) -> dict:
    """A story photo as the viewer shows it: a 9:16 frame filled from the existing
    renditions (medium 640 and large 1080 wide, by srcset: a phone's full-screen frame is
    ~390–430 CSS px wide, so 1080 covers it at up to ~2.5x; the pipeline stays as it is)."""
    if image.state != ImageState.READY:
        return {"ready": False, "failed": image.state == ImageState.FAILED, "error": image.error}
    renditions = image.renditions
    srcset = {
        fmt: ", ".join(
            f"{media_url(image, name, fmt)} {renditions[name]['width']}w"
            for name in ("small", "medium", "large")
        )
        for fmt in ("webp", "jpeg")
    }
    return {
        "ready": True,
        "blurhash": image.blurhash,
        "width": image.width,
        "height": image.height,
        "src": media_url(image, "large", "jpeg"),
        "srcset_webp": srcset["webp"],
        "srcset_jpeg": srcset["jpeg"],
        "alt": image.alt or alt,
    }


def _story_data(story: Story, *, reply_url) -> dict:
    return {
        "id": str(story.pk),
        "url": reverse_with_id("stories:detail", "story_id", story.pk),
        "created_at": story.created_at.isoformat(),
        "seen": story.seen,
        "view_count": story.view_count,
        "audience": story.circle.name if story.circle_id else "Followers",
        "image": _image_data(story.image, alt=f"Story by {story.author.name}"),
        "reply_url": reply_url(story.pk) if reply_url else None,
        "viewers_url": reverse_with_id("stories:viewers", "story_id", story.pk),
        "delete_url": reverse_with_id("stories:delete", "story_id", story.pk),
    }


def story_viewer_context(*, viewer, story: Story, tray: list[TrayEntry], replies) -> dict:
    """What the viewer page shows: the story asked for, where it sits in the tray's order
    (previous and next story, on to the next person), whether a reply box is offered, and
    the data static/js/stories.js plays the whole tray from (json_script)."""
    if not any(story.pk in {s.pk for s in entry.stories} for entry in tray):
        tray = [TrayEntry(user=story.author, stories=[story])]  # defensive: always playable
    # replies need messaging (registered from above): whom viewer may message, one query
    others = [entry.user.pk for entry in tray if entry.user.pk != viewer.pk]
    messageable = replies.messageable(viewer=viewer, author_ids=others) if replies else set()
    people, sequence = [], []
    for person_index, entry in enumerate(tray):
        can_reply = entry.user.pk in messageable
        reply_url = replies.url if (replies and can_reply) else None
        stories = [_story_data(s, reply_url=reply_url) for s in entry.stories]
        people.append(
            {
                "user": {
                    "id": str(entry.user.pk),
                    "username": entry.user.username,
                    "name": entry.user.name,
                    "avatar": avatar_url(entry.user),
                    "own": entry.user.pk == viewer.pk,
                },
                "can_reply": can_reply,
                "stories": stories,
            }
        )
        sequence += [(person_index, i, s) for i, s in enumerate(stories)]
    at = next(i for i, (_, _, s) in enumerate(sequence) if s["id"] == str(story.pk))
    person_index, story_index, current = sequence[at]
    current["seen"] = True
    return {
        "story": story,
        "person": people[person_index],
        "segments": people[person_index]["stories"],
        "current": current,
        "current_index": story_index,
        "previous": sequence[at - 1][2] if at > 0 else None,
        "next": sequence[at + 1][2] if at + 1 < len(sequence) else None,
        "viewer_data": {
            "people": people,
            "start": {"person": person_index, "story": story_index},
        },
    }


def story_notification_targets(viewer, ids) -> dict:
    """What a notification shows of these stories (one query): "story", the viewer page,
    the photo's thumbnail. Visibility was asked before (Story.objects.visible_to)."""
    return {
        story_id: NotificationTarget(
            label="story",
            url=reverse_with_id("stories:detail", "story_id", story_id),
            thumbnail=media_url_for_id(image_id, "thumbnail", "jpeg"),
        )
        for story_id, image_id in Story.objects.filter(pk__in=ids).values_list("pk", "image_id")
    }


def stories_export_section(*, user, archive) -> dict:
    """stories' part of "Download your data": the person's stories still live (expired
    ones are gone from every path, files included), each with its photo."""
    items = [
        {
            "kind": "story",
            "id": str(story.pk),
            "created_at": story.created_at.isoformat(),
            "expires_at": story.expires_at.isoformat(),
            "audience": story.audience,
            "circle": story.circle.name if story.circle_id else None,
            "photos": [archive.photo(story.image, folder="photos/stories")],
        }
        for story in Story.objects.active()
        .filter(author=user)
        .select_related("image", "circle")
        .order_by("created_at")
    ]
    return {"title": "Stories", "items": items}
