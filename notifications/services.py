"""Every write about notifications. Content apps call these (a downward import); nothing
else writes notification rows.

    notification_create_on_commit(actor=bob, recipient=alice, kind="post_like",
                                  target_id=post.pk)

is what an action calls inside its transaction: after it commits, the notification is
written in a transaction of its own, and any error there is logged, never raised, so the
like, comment or follow has succeeded whatever happens here. The recipient's sockets get
`notification.created` (the frame `notification.new`) after that second commit.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from circles.realtime import publish_on_commit, user_group
from notifications import events, registry, selectors
from notifications.models import DEDUP_WINDOW, Notification, NotificationActor

logger = logging.getLogger(__name__)

READ_IDS_MAX = 100


def _group_key(kind: registry.Kind, target_type: str, target_id, actor_id, now) -> str:
    if kind.group == registry.BY_DAY:
        return f"{kind.name}:{timezone.localdate(now).isoformat()}"
    if kind.group == registry.BY_ACTOR:
        return f"{kind.name}:{target_type}:{target_id}:{actor_id}"
    return f"{kind.name}:{target_type}:{target_id}"


def notification_create(
    *, actor, recipient, kind: str, target_id, source_id=None
) -> Notification | None:
    """Notify recipient that actor did `kind` to the target (of the kind's registered
    type); source_id is what of actor's undoes it when removed (a comment). Returns the
    group notified, or None when there is nothing to notify: your own action, a block
    either way, or the same actor + kind + target within the last hour (a like, unlike,
    like again notifies once: the unlike's inactive row comes back, the count with it).

    The common case (a new actor on a group, open or not yet) writes with one statement,
    `_group_upsert`, which also answers what the live push needs of the database but the
    target's description (and the second actor's name when the group has one).
    """
    definition, target_type = registry.kind_get(kind)
    if definition is None:
        raise ImproperlyConfigured(f"notification kind {kind!r} is not registered")
    if actor.pk == recipient.pk or registry.people.blocked_between(actor.pk, recipient.pk):
        return None
    now = timezone.now()
    key = _group_key(definition, target_type, target_id, actor.pk, now)
    with transaction.atomic():
        done = _group_upsert(
            recipient=recipient,
            actor=actor,
            kind=kind,
            target_type=target_type,
            target_id=target_id,
            source_id=source_id,
            key=key,
            now=now,
        )
        if done.recent_id is not None:
            # the same actor + kind + target within the hour: nothing new, or an undo undone
            if done.recent_active:
                return None
            NotificationActor.objects.filter(pk=done.recent_id).update(
                active=True, source_id=source_id
            )
            return _recount_and_push(recipient, done.recent_notification_id, now)
        if not done.fresh_actor:
            # the actor was in the open group already (longer than the hour): count again
            return _recount_and_push(recipient, done.group_id, now)
        group = Notification(
            id=done.group_id,
            recipient=recipient,
            kind=kind,
            target_type=target_type,
            target_id=target_id,
            group_key=key,
            actor=actor,
            actor_count=done.actor_count,
            created_at=done.created_at,
            updated_at=now,
            read_at=None,
        )
        if done.visible:
            event = _event_from(
                recipient=recipient, group=group, actor=actor, count=done.others_unread + 1
            )
            if event is not None:
                publish_on_commit(user_group(recipient.pk), event)
    return group


@dataclass(frozen=True)
class _Upserted:
    recent_id: int | None  # the actor's row for this kind + target within the hour, if any
    recent_notification_id: uuid.UUID | None
    recent_active: bool | None
    group_id: uuid.UUID | None  # the group written (None when recent_id is set)
    created_at: datetime | None
    actor_count: int | None
    fresh_actor: bool | None  # the actor's row was new to the group (actor_count is right)
    visible: bool  # the recipient may see the target
    others_unread: int  # the recipient's other unread visible groups


def _group_upsert(
    *, recipient, actor, kind, target_type, target_id, source_id, key, now
) -> _Upserted:
    """Write a notification in one statement (a CTE; the ORM has no INSERT … ON CONFLICT
    … DO UPDATE with an expression, nor data-modifying CTEs):

    - `recent`: the actor's row for this recipient + kind + target within DEDUP_WINDOW; if
      there is one, nothing else is written (the caller decides: a repeat, or an undo
      undone);
    - `grp`: INSERT the group ON CONFLICT on the open-group unique index
      (notification_open_group: recipient + group_key while unread) DO UPDATE: the newest
      actor and target, the time, actor_count + 1. Concurrent first events meet on the
      index: one inserts, the other waits and updates its row (no retry loop, no lock
      taken beforehand);
    - `member`: the actor's row in the group, upserted on (notification, actor). When it
      was new (`fresh_actor`), actor_count + 1 is exact; when the actor was in the group
      already (they joined it over an hour ago), the caller recounts.

    and, read in the same statement for the live push: whether the recipient may see the
    target (the target type's registered rule) and how many other unread groups they see
    (the badge; the statement's snapshot, so a group committed by a concurrent event in
    the same instant may be missing from it until the next read).
    """
    target = registry.target_get(target_type)
    visible_sql, visible_params = _compiled(target.visible_to(recipient).filter(pk=target_id))
    others = (
        selectors.notifications_visible_to(recipient)
        .filter(read_at__isnull=True)
        .exclude(group_key=key)
        .values("pk")
    )
    others_sql, others_params = _compiled(others)
    notification = connection.ops.quote_name(Notification._meta.db_table)
    member = connection.ops.quote_name(NotificationActor._meta.db_table)
    sql = f"""
        WITH recent AS (
            SELECT a.id, a.notification_id, a.active
            FROM {member} a JOIN {notification} n ON n.id = a.notification_id
            WHERE a.actor_id = %s AND a.target_id = %s AND a.created_at >= %s
              AND n.recipient_id = %s AND n.kind = %s
            ORDER BY a.created_at DESC
            LIMIT 1
        ), grp AS (
            INSERT INTO {notification} AS n (id, recipient_id, kind, target_type, target_id,
                group_key, actor_id, actor_count, created_at, updated_at, read_at)
            SELECT %s, %s, %s, %s, %s, %s, %s, 1, %s, %s, NULL
            WHERE NOT EXISTS (SELECT 1 FROM recent)
            ON CONFLICT (recipient_id, group_key) WHERE read_at IS NULL DO UPDATE SET
                actor_id = EXCLUDED.actor_id, target_id = EXCLUDED.target_id,
                updated_at = EXCLUDED.updated_at, actor_count = n.actor_count + 1
            RETURNING n.id, n.created_at, n.actor_count
        ), member AS (
            INSERT INTO {member} AS a (notification_id, actor_id, target_id, source_id,
                created_at, active)
            SELECT grp.id, %s, %s, %s, %s, true FROM grp
            ON CONFLICT (notification_id, actor_id) DO UPDATE SET
                target_id = EXCLUDED.target_id, source_id = EXCLUDED.source_id,
                created_at = EXCLUDED.created_at, active = true
            RETURNING (a.xmax = 0) AS fresh
        )
        SELECT recent.id, recent.notification_id, recent.active,
               grp.id, grp.created_at, grp.actor_count, member.fresh,
               EXISTS ({visible_sql}),
               (SELECT count(*) FROM ({others_sql}) others)
        FROM (SELECT 1) one
        LEFT JOIN recent ON true LEFT JOIN grp ON true LEFT JOIN member ON true
    """  # noqa: S608 - table names from the models, subqueries compiled by Django; values bound
    params = [
        *(actor.pk, target_id, now - DEDUP_WINDOW, recipient.pk, kind),
        *(uuid.uuid4(), recipient.pk, kind, target_type, target_id, key, actor.pk, now, now),
        *(actor.pk, target_id, source_id, now),
        *visible_params,
        *others_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return _Upserted(*row)


def _compiled(queryset) -> tuple[str, tuple]:
    """A QuerySet as SQL and parameters, to embed in _group_upsert's statement."""
    return queryset.query.get_compiler(using=queryset.db).as_sql()


def _recount_and_push(recipient, group_id, now) -> Notification:
    """The uncommon paths (an undo undone, an actor already in the group): recount the
    group from its rows, push it as the list shows it."""
    _recount([group_id], bump=now)
    event = _event_for(recipient=recipient, notification_id=group_id)
    if event is not None:
        publish_on_commit(user_group(recipient.pk), event)
    return Notification.objects.get(pk=group_id)


def _recount(group_ids, *, bump=None) -> None:
    """Groups' active-actor count, newest actor and target, from their actor rows (bump:
    the newest activity moves to that time)."""
    if not group_ids:
        return
    active = NotificationActor.objects.filter(notification=OuterRef("pk"), active=True)
    newest = active.order_by("-created_at")
    counted = active.order_by().values("notification").annotate(n=Count("pk")).values("n")
    fields = {
        "actor_count": Coalesce(Subquery(counted), Value(0)),
        "actor_id": Coalesce(Subquery(newest.values("actor_id")[:1]), F("actor_id")),
        "target_id": Coalesce(Subquery(newest.values("target_id")[:1]), F("target_id")),
    }
    if bump is not None:
        fields["updated_at"] = Value(bump)
    Notification.objects.filter(pk__in=group_ids).update(**fields)


def _event_for(*, recipient, notification_id) -> dict | None:
    """`notification.created` for recipient, or None when they may not see it."""
    row = selectors.notification_get_for_recipient(user=recipient, notification_id=notification_id)
    if row is None:
        return None
    count = selectors.notification_count_unread(user=recipient)
    payload = selectors.notification_payload(row)
    return events.notification_created(notification=payload, count=count)


def _event_from(*, recipient, group: Notification, actor, count: int) -> dict | None:
    """`notification.created` for a group just written by actor (its newest), with the
    unread count given: the second newest actor (when there is one) and the target's
    description are the only reads."""
    actors = [actor]
    if group.actor_count > 1:
        second = (
            NotificationActor.objects.filter(notification_id=group.pk, active=True)
            .exclude(actor_id=actor.pk)
            .select_related("actor")
            .order_by("-created_at")
            .first()
        )
        if second is not None:
            actors.append(second.actor)
    rows = selectors.notifications_describe(
        user=recipient, notifications=[group], actors={group.pk: actors}
    )
    if not rows:
        return None
    return events.notification_created(
        notification=selectors.notification_payload(rows[0]), count=count
    )


def notification_create_on_commit(*, actor, recipient, kind: str, target_id, source_id=None):
    """notification_create after the current transaction commits, never failing it: an
    error is logged and the action it describes stands."""

    def create():
        try:
            notification_create(
                actor=actor,
                recipient=recipient,
                kind=kind,
                target_id=target_id,
                source_id=source_id,
            )
        except Exception:
            logger.exception("notification %s for %s failed", kind, recipient.pk)

    transaction.on_commit(create)


# --- undoing --------------------------------------------------------------------------


def _deactivate(entries) -> None:
    with transaction.atomic():
        ids = list(entries.filter(active=True).values_list("pk", "notification_id"))
        if not ids:
            return
        NotificationActor.objects.filter(pk__in=[pk for pk, _ in ids]).update(active=False)
        _recount(sorted({group for _, group in ids}))


def notification_remove(*, actor, kind: str, target_id, recipient=None) -> None:
    """Undo: actor no longer did `kind` to target (an unlike, an unfollow, a withdrawn
    request). Their row stays, inactive, for the rest of the hour: doing it again then
    brings the same notification back instead of a new one."""
    entries = NotificationActor.objects.filter(
        actor=actor, target_id=target_id, notification__kind=kind
    )
    if recipient is not None:
        entries = entries.filter(notification__recipient=recipient)
    _deactivate(entries)


def notifications_remove_for_sources(*, source_ids) -> None:
    """Undo every notification caused by these things (deleted comments)."""
    _deactivate(NotificationActor.objects.filter(source_id__in=list(source_ids)))


def notifications_remove_between(*, user, other) -> None:
    """A block: what each had of the other goes, both ways, at once."""
    _deactivate(
        NotificationActor.objects.filter(
            Q(actor=other, notification__recipient=user)
            | Q(actor=user, notification__recipient=other)
        )
    )


# --- reading --------------------------------------------------------------------------


def _uuids(ids) -> list[uuid.UUID]:
    if not isinstance(ids, list | tuple):
        raise ValidationError({"ids": ["Send a list of notification ids."]})
    if len(ids) > READ_IDS_MAX:
        raise ValidationError({"ids": [f"Mark at most {READ_IDS_MAX} notifications at once."]})
    try:
        return list(dict.fromkeys(uuid.UUID(str(value)) for value in ids))
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValidationError({"ids": ["Every id must be a notification id."]}) from exc


def notifications_mark_read(*, user, ids=None) -> int:
    """Mark user's notifications read: those ids (all of them must be user's, or nothing
    changes and ValidationError says so; someone else's look just like unknown ones), or
    with ids None every unread one. Returns how many turned read."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        wanted = _uuids(ids)
        known = set(
            Notification.objects.filter(recipient=user, pk__in=wanted).values_list("pk", flat=True)
        )
        if len(known) != len(wanted):
            raise ValidationError({"ids": ["Some of these notifications do not exist."]})
        unread = unread.filter(pk__in=wanted)
    return unread.update(read_at=timezone.now())


# --- retention ------------------------------------------------------------------------


def notifications_prune(*, now=None) -> int:
    """Remove read notifications older than NOTIFICATIONS_KEEP_READ_DAYS, unread ones
    older than NOTIFICATIONS_KEEP_UNREAD_DAYS, and groups left empty by undos once their
    dedup hour is over. Returns how many groups went."""
    now = now or timezone.now()
    read_before = now - timedelta(days=settings.NOTIFICATIONS_KEEP_READ_DAYS)
    unread_before = now - timedelta(days=settings.NOTIFICATIONS_KEEP_UNREAD_DAYS)
    old = Notification.objects.filter(
        Q(read_at__isnull=False, updated_at__lt=read_before)
        | Q(read_at__isnull=True, updated_at__lt=unread_before)
        | Q(actor_count=0, updated_at__lt=now - DEDUP_WINDOW)
    )
    deleted, by_model = old.delete()
    return by_model.get(Notification._meta.label, 0)
