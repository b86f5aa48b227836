"""circles.transactions: a commit that does not wait for the disk, for its one transaction."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from circles.transactions import atomic_without_flush_wait
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)  # outside a test transaction


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def test_the_transaction_alone_commits_without_waiting():
    assert synchronous_commit() == "on"
    with atomic_without_flush_wait():
        assert synchronous_commit() == "off"
        UserFactory(username="written")
    assert synchronous_commit() == "on"  # SET LOCAL ended with the transaction
    assert UserFactory._meta.model.objects.filter(username="written").exists()


def test_inside_a_callers_transaction_it_changes_nothing_of_the_callers():
    with transaction.atomic():
        with atomic_without_flush_wait():
            assert synchronous_commit() == "on"  # the caller's commit still waits
        assert synchronous_commit() == "on"


def test_a_notification_is_written_without_waiting_for_the_disk():
    from notifications.services import notification_create
    from posts.models import Post, PostStatus

    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    post = Post.objects.create(author=alice, status=PostStatus.PUBLISHED)
    with CaptureQueriesContext(connection) as queries:
        assert notification_create(actor=bob, recipient=alice, kind="post_like", target_id=post.pk)
    sql = [q["sql"] for q in queries]
    upsert = next(i for i, q in enumerate(sql) if "INSERT INTO" in q and "notification" in q)
    assert "SET LOCAL synchronous_commit = off" in sql[:upsert]
