"""What creating a notification costs in SQL. In the common case (a new actor on a group,
open or not yet) one statement writes it: the grouping's upsert (_group_upsert), which
also reads the target's visibility and the unread count for the live push. Besides it:
the block check before, and for the push the target's description (and the group's
second newest actor when it has one). It was 3 writes and 8 reads (new group), 2 and 8
(joining actor)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from circles.realtime import user_group
from notifications.models import Notification, NotificationActor
from notifications.services import notification_create

pytestmark = pytest.mark.django_db

TRANSACTION = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
WRITES = ("INSERT", "UPDATE", "DELETE", "WITH")


def _statements(capture, call) -> tuple[list[str], list[str]]:
    """(writes, reads) that call ran, its after-commit work (the push) included."""
    with CaptureQueriesContext(connection) as context, capture(execute=True):
        call()
    sqls = [q["sql"].strip() for q in context.captured_queries]
    sqls = [sql for sql in sqls if not sql.upper().startswith(TRANSACTION)]
    writes = [sql for sql in sqls if sql.upper().startswith(WRITES)]
    return writes, [sql for sql in sqls if sql not in writes]


def test_creating_a_notification_is_one_statement_in_the_common_case(
    django_capture_on_commit_callbacks, listen, user, other_user, carol, alice_post
):
    def like(actor):
        return lambda: notification_create(
            actor=actor, recipient=user, kind="post_like", target_id=alice_post.pk
        )

    alice = listen(user_group(user.pk))
    # a new group: the upsert; reads: the block check, the post's description
    writes, reads = _statements(django_capture_on_commit_callbacks, like(other_user))
    assert len(writes) == 1 and "ON CONFLICT" in writes[0], "\n\n".join(writes + reads)
    assert len(reads) == 2, "\n\n".join(reads)
    # an actor joining it: the same, and the second actor's name ("carol and bob")
    writes, reads = _statements(django_capture_on_commit_callbacks, like(carol))
    assert len(writes) == 1, "\n\n".join(writes + reads)
    assert len(reads) == 3, "\n\n".join(reads)
    group = Notification.objects.get()
    assert group.actor_count == 2 and group.actor_id == carol.pk
    assert NotificationActor.objects.count() == 2
    events = alice.events()
    assert [e["unread_count"] for e in events] == [1, 1]
    assert events[1]["notification"]["text"] == "carol and bob liked your photo"


def test_a_repeat_within_the_hour_is_one_statement_and_writes_nothing(
    django_capture_on_commit_callbacks, user, other_user, alice_post
):
    def like():
        return notification_create(
            actor=other_user, recipient=user, kind="post_like", target_id=alice_post.pk
        )

    like()
    writes, reads = _statements(django_capture_on_commit_callbacks, like)
    assert len(writes) == 1 and len(reads) == 1  # the block check, the upsert that stops
    assert NotificationActor.objects.count() == 1
    assert Notification.objects.get().actor_count == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_events_meet_on_the_open_group(user, alice_post):
    """Eight first likes at once: one group (the upsert's conflict, no lock or retry),
    every actor counted."""
    import threading

    from tests.factories import UserFactory

    likers = [UserFactory(username=f"liker{n}") for n in range(8)]
    start, errors = threading.Barrier(len(likers)), []

    def like(person):
        try:
            start.wait()
            notification_create(
                actor=person, recipient=user, kind="post_like", target_id=alice_post.pk
            )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=like, args=(person,)) for person in likers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    group = Notification.objects.get()
    assert group.actor_count == len(likers) == NotificationActor.objects.count()
