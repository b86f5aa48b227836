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
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection, transaction
from django.db.models import F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from circles import metrics
from circles.compiled import counted
from circles.realtime import publish_on_commit, user_group
from circles.transactions import atomic_without_flush_wait
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
    group notified, or None when there is nothing to notify: your own action (unless
    the kind is a notice `to_self`), a block
    either way, or the same actor + kind + target within the last hour (a like, unlike,
    like again notifies once: the unlike's inactive row comes back, the count with it).

    The common case (no row of the actor's within the hour) is two statements: the
    group's upsert, which also asks the hour (_group_upsert), and the actor's row.
    """
    try:
        notified = _notification_create(
            actor=actor, recipient=recipient, kind=kind, target_id=target_id, source_id=source_id
        )
    except Exception:
        metrics.NOTIFICATIONS.inc(kind=kind, outcome="failed")
        raise
    metrics.NOTIFICATIONS.inc(kind=kind, outcome="skipped" if notified is None else "notified")
    return notified


def _notification_create(*, actor, recipient, kind: str, target_id, source_id):
    definition, target_type = registry.kind_get(kind)
    if definition is None:
        raise ImproperlyConfigured(f"notification kind {kind!r} is not registered")
    if actor.pk == recipient.pk and not definition.to_self:
        return None
    if actor.pk != recipient.pk and registry.people.blocked_between(actor.pk, recipient.pk):
        return None
    now = timezone.now()
    key = _group_key(definition, target_type, target_id, actor.pk, now)
    # the action it describes committed durably already; a notification lost in a crash
    # costs less than a second wait for the disk on every like (bench: notifications)
    with atomic_without_flush_wait():
        group_id = _group_upsert(
            recipient=recipient,
            key=key,
            kind=kind,
            target_type=target_type,
            target_id=target_id,
            actor=actor,
            now=now,
        )
        if group_id is None:  # the actor's row within the hour: notified already, or undone
            recent = (
                NotificationActor.objects.filter(
                    actor=actor,
                    target_id=target_id,
                    notification__recipient=recipient,
                    notification__kind=kind,
                    created_at__gte=now - DEDUP_WINDOW,
                )
                .order_by("-created_at")
                .first()
            )
            if recent is None or recent.active:
                return None
            NotificationActor.objects.filter(pk=recent.pk).update(active=True, source_id=source_id)
            group_id = recent.notification_id
            _recount([group_id], bump=now)
        else:
            NotificationActor.objects.bulk_create(
                [
                    NotificationActor(
                        notification_id=group_id,
                        actor=actor,
                        target_id=target_id,
                        source_id=source_id,
                        created_at=now,
                    )
                ],
                update_conflicts=True,
                unique_fields=["notification", "actor"],
                update_fields=["target_id", "source_id", "created_at", "active"],
            )
        found = selectors.notification_for_push(user=recipient, notification_id=group_id)
        if found is not None:
            row, count = found
            payload = selectors.notification_payload(row)
            event = events.notification_created(notification=payload, count=count)
            publish_on_commit(user_group(recipient.pk), event)
            return row.notification
    return Notification.objects.get(pk=group_id)


def _sql_table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _group_upsert(*, recipient, key, kind, target_type, target_id, actor, now):
    """One statement: unless the actor has a row for this kind, target and recipient
    within the hour, put them at the top of recipient's open group for key — a new group,
    or the open one with its count raised by one when the actor is not active in it yet
    (the count is read from the row as it stands once locked, so two actors joining at
    once both count). Returns the group's id, or None when the hour's row exists.

    `INSERT … SELECT … WHERE NOT EXISTS … ON CONFLICT (…) WHERE … DO UPDATE … RETURNING`
    is read alike by PostgreSQL and SQLite (3.35 or later, for RETURNING)."""
    notification, member = _sql_table(Notification), _sql_table(NotificationActor)

    def value(model, name, raw):
        return model._meta.get_field(name).get_db_prep_value(raw, connection)

    columns = {
        "id": uuid.uuid4(),
        "recipient_id": recipient.pk,
        "kind": kind,
        "target_type": target_type,
        "target_id": target_id,
        "group_key": key,
        "actor_id": actor.pk,
        "actor_count": 1,
        "created_at": now,
        "updated_at": now,
    }
    params = [value(Notification, name, raw) for name, raw in columns.items()]
    params += [
        value(NotificationActor, "actor_id", actor.pk),
        value(NotificationActor, "target_id", target_id),
        value(Notification, "recipient_id", recipient.pk),
        value(Notification, "kind", kind),
        value(NotificationActor, "created_at", now - DEDUP_WINDOW),
    ]
    sql = f"""
        INSERT INTO {notification} ({", ".join(columns)})
        SELECT {", ".join(["%s"] * len(columns))}
        WHERE NOT EXISTS (
            SELECT 1 FROM {member} m INNER JOIN {notification} n ON n.id = m.notification_id
            WHERE m.actor_id = %s AND m.target_id = %s AND n.recipient_id = %s
              AND n.kind = %s AND m.created_at >= %s
        )
        ON CONFLICT (recipient_id, group_key) WHERE read_at IS NULL DO UPDATE SET
            actor_id = excluded.actor_id,
            target_id = excluded.target_id,
            updated_at = excluded.updated_at,
            actor_count = {notification}.actor_count + CASE WHEN EXISTS (
                SELECT 1 FROM {member} a
                WHERE a.notification_id = {notification}.id
                  AND a.actor_id = excluded.actor_id AND a.active
            ) THEN 0 ELSE 1 END
        RETURNING id
    """  # noqa: S608 - table names from model metadata; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    if found is None:
        return None
    return Notification._meta.pk.to_python(found[0])


def _recount(group_ids, *, bump=None) -> None:
    """Groups' active-actor count, newest actor and target, from their actor rows (bump:
    the newest activity moves to that time)."""
    if not group_ids:
        return
    active = NotificationActor.objects.filter(notification=OuterRef("pk"), active=True)
    newest = active.order_by("-created_at")
    count = counted(active, "notification")
    fields = {
        "actor_count": Coalesce(Subquery(count), Value(0)),
        "actor_id": Coalesce(Subquery(newest.values("actor_id")[:1]), F("actor_id")),
        "target_id": Coalesce(Subquery(newest.values("target_id")[:1]), F("target_id")),
    }
    if bump is not None:
        fields["updated_at"] = Value(bump)
    Notification.objects.filter(pk__in=group_ids).update(**fields)


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
