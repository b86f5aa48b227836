"""Every read of notifications. What a recipient sees is one rule:
`notifications_visible_to(user)` — their groups with an active actor whose target the
target type's registered rule still lets them see (asked per row inside the one SQL
query, so a deleted comment, a post that became invisible or a circle left drops out of
the list and the count at once).

A page is one query for its rows, one for their newest actors, and one per target type on
it to describe the targets: constant in the page size. The rule's queries (a page, the
count, one notification) are compiled once per process (circles/compiled.py) and run with
the recipient's id and the clock, each with its one generic plan: building and compiling
an EXISTS per registered target type on every request cost several times what PostgreSQL
takes to run it, and PostgreSQL planning it again for each run cost as much again.
"""

import functools
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, Value, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from circles.api_json import json_time
from circles.compiled import CompiledQuery, counted
from circles.errors import ApiError
from circles.ids import uuid_or_none
from circles.pagination import DEFAULT_LIMIT, MAX_LIMIT, PageResult, decode_cursor, encode_cursor
from notifications import registry
from notifications.models import Notification, NotificationActor

ACTORS_NAMED = 2  # "ana, ben and 3 others"


def notifications_visible_to(user, *, now=None) -> QuerySet[Notification]:
    """THE rule for which notifications user sees (list, count, socket push), judged at
    `now` (the clock when not given)."""
    now = now or timezone.now()
    seen = Q(pk__in=[])
    for target in registry.targets_registered():
        rule = target.visible_to(user, now)
        seen |= Q(target_type=target.name) & Exists(rule.filter(pk=OuterRef("target_id")))
    return Notification.objects.filter(recipient=user, actor_count__gt=0).filter(seen)


def _person(user_id):
    """A user with this id, for building a rule without a query (the rules read its pk)."""
    return get_user_model()(pk=user_id)


def _unread(person, now) -> QuerySet:
    """The number of person's unread notifications, as a one-row queryset."""
    unread = notifications_visible_to(person, now=now).filter(read_at__isnull=True)
    return counted(unread, "recipient")


@functools.cache
def _unread_query() -> CompiledQuery:
    """The badge's count. Not generic_plan: every signed-in page asks it, and the SET and
    RESET around it would be two more statements on every page."""
    return CompiledQuery(
        lambda viewer, now: _unread(_person(viewer), now).values_list("n"),
        viewer="uuid",
        now="datetime",
    )


@functools.cache
def _any_unread_query() -> CompiledQuery:
    """Whether person has any unread notification at all, before the rule: the rule's
    statement (an EXISTS per target type, ~100 plan nodes) costs PostgreSQL ~0.9 ms to
    start and stop even when no row reaches it, and most pages are asked by someone who
    has read everything; this one reads the unread index alone."""
    return CompiledQuery(
        lambda viewer: Notification.objects.filter(
            recipient_id=viewer, read_at__isnull=True, actor_count__gt=0
        ).values_list("pk")[:1],
        viewer="uuid",
    )


def notification_count_unread(*, user) -> int:
    """The badge: the unread notifications user may still see (notifications_visible_to),
    or 0 at once when nothing is unread."""
    if user is None or not user.is_authenticated:
        return 0
    if not _any_unread_query().run(viewer=user.pk):
        return 0
    return _unread_query().count(viewer=user.pk, now=timezone.now())


@functools.cache
def _page_query(limit: int, after: bool) -> CompiledQuery:
    """A page of limit + 1 rows, newest first on (updated_at, id): the first page, or
    (after) the rows past a cursor's (updated_at, id)."""

    def build(viewer, now, **cursor):
        rows = notifications_visible_to(_person(viewer), now=now)
        if after:
            at, pk = cursor["at"], cursor["pk"]
            rows = rows.filter(Q(updated_at__lt=at) | Q(updated_at=at, pk__lt=pk))
        return rows.order_by("-updated_at", "-pk")[: limit + 1]

    shape = {"viewer": "uuid", "now": "datetime"}
    if after:
        shape.update(at="datetime", pk="uuid")
    return CompiledQuery(build, generic_plan=True, **shape)


@functools.cache
def _push_query() -> CompiledQuery:
    """One notification if its recipient may see it, with their unread count (`unread`)
    in the same statement: what the push needs."""

    def build(viewer, now, pk):
        person = _person(viewer)
        count = Coalesce(Subquery(_unread(person, now)), Value(0))
        return notifications_visible_to(person, now=now).filter(pk=pk).annotate(unread=count)

    return CompiledQuery(build, generic_plan=True, viewer="uuid", now="datetime", pk="uuid")


def _newest_actors(ids) -> QuerySet[NotificationActor]:
    """The newest ACTORS_NAMED active actors of each of these notifications."""
    newest_first = Window(
        RowNumber(), partition_by=F("notification_id"), order_by=F("created_at").desc()
    )
    return (
        NotificationActor.objects.filter(notification_id__in=ids, active=True)
        .annotate(rank=newest_first)
        .filter(rank__lte=ACTORS_NAMED)
        .select_related("actor")
        .order_by("notification_id", "rank")
    )


@functools.cache
def _actors_query() -> CompiledQuery:
    """_newest_actors for up to a page's MAX_LIMIT notifications, compiled once."""
    return CompiledQuery(_newest_actors, ids=("uuid", MAX_LIMIT))


@dataclass
class Row:
    """One notification as the page and the API show it."""

    notification: Notification
    actors: list  # the newest ACTORS_NAMED active actors, newest first
    target: registry.Target
    text: str

    @property
    def id(self):
        return self.notification.pk

    @property
    def read(self) -> bool:
        return self.notification.read_at is not None

    @property
    def created_at(self) -> datetime:
        return self.notification.updated_at  # the time of its newest event

    @property
    def people(self) -> list[dict]:
        """The actors as user-summaries (their avatars for the page)."""
        return [registry.people.summary(person) for person in self.actors]

    @property
    def others(self) -> int:
        return max(0, self.notification.actor_count - len(self.actors))


def actors_text(names: list[str], count: int) -> str:
    """'ana', 'ana and ben', 'ana, ben and 3 others'."""
    if count <= 1 or len(names) < 2:
        others = count - 1
        if others <= 0:
            return names[0]
        return f"{names[0]} and {others} other{'s' if others != 1 else ''}"
    if count == 2:
        return f"{names[0]} and {names[1]}"
    others = count - 2
    return f"{names[0]}, {names[1]} and {others} other{'s' if others != 1 else ''}"


def notifications_describe(*, user, notifications: list[Notification]) -> list[Row]:
    """Rows for these notifications: their newest actors in one query, their targets in
    one query per target type. A row whose target vanished meanwhile is left out."""
    if not notifications:
        return []
    actors: dict = {}
    ids = [n.pk for n in notifications]
    for start in range(0, len(ids), MAX_LIMIT):
        for entry in _actors_query().run(ids=ids[start : start + MAX_LIMIT]):
            actors.setdefault(entry.notification_id, []).append(entry.actor)
    by_type: dict[str, list] = {}
    for n in notifications:
        by_type.setdefault(n.target_type, []).append(n.target_id)
    described: dict = {}
    for name, target_ids in by_type.items():
        target = registry.target_get(name)
        if target is not None:
            for target_id, description in target.describe(user, target_ids).items():
                described[(name, str(target_id))] = description
    rows = []
    for n in notifications:
        target = described.get((n.target_type, str(n.target_id)))
        people = actors.get(n.pk) or [n.actor]
        kind, _ = registry.kind_get(n.kind)
        if target is None or kind is None:
            continue
        names = [person.username for person in people]
        text = kind.text.format(actors=actors_text(names, n.actor_count), target=target.label)
        rows.append(Row(notification=n, actors=people, target=target, text=text))
    return rows


def notification_list_for_user(*, user, cursor=None, limit=DEFAULT_LIMIT) -> PageResult:
    """Newest activity first, keyset pagination on (updated_at, id) (the cursors of
    circles.pagination); items are Rows."""
    limit = max(1, min(limit, MAX_LIMIT))
    values = {"viewer": user.pk, "now": timezone.now()}
    if cursor:
        values["at"], pk = decode_cursor(cursor)
        values["pk"] = uuid_or_none(pk)
        if values["pk"] is None or timezone.is_naive(values["at"]):
            raise ApiError(400, "invalid_cursor", "The cursor is not valid.")
    rows = _page_query(limit, after=bool(cursor)).run(**values)
    items, more = rows[:limit], len(rows) > limit
    next_cursor = encode_cursor(items[-1].updated_at, items[-1].pk) if more else None
    return PageResult(
        items=notifications_describe(user=user, notifications=items), next_cursor=next_cursor
    )


def notification_for_push(*, user, notification_id) -> tuple[Row, int] | None:
    """One notification as a Row and user's unread count, if user may see it."""
    found = _push_query().run(viewer=user.pk, now=timezone.now(), pk=notification_id)
    rows = notifications_describe(user=user, notifications=found)
    return (rows[0], found[0].unread) if rows else None


def notification_payload(row: Row) -> dict:
    """API.md's notification object: {id, type, actor, target: {type, id}, text, read,
    created_at}, as JSON (times as the API writes them)."""
    n = row.notification
    data = {
        "id": str(n.pk),
        "type": n.kind,
        "actor": registry.people.summary(row.actors[0]),
        "target": {"type": n.target_type, "id": str(n.target_id)},
        "text": row.text,
        "read": row.read,
        "created_at": json_time(row.created_at),
    }
    return data
