"""Grouping and dedup: the same actor + kind + target within an hour is one notification;
actors on one target group into one row, newest first, with the count; follows group per
day; a read group is closed and the next event starts a new one. The clock is moved by
moving the stored times back."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from accounts import services as accounts
from notifications.models import Notification, NotificationActor
from notifications.services import notifications_mark_read
from posts import services as posts
from tests.factories import UserFactory
from tests.notifications.conftest import shown, unread

pytestmark = pytest.mark.django_db


def move_clock_back(**delta) -> None:
    """As if everything so far happened `delta` earlier."""
    shift = timedelta(**delta)
    for model in (Notification, NotificationActor):
        for row in model.objects.all():
            row.created_at -= shift
            if model is Notification:
                row.updated_at -= shift
            row.save()


def test_like_unlike_like_within_the_hour_notifies_once(committed, user, other_user, alice_post):
    committed(posts.post_like, user=other_user, post=alice_post)
    committed(posts.post_unlike, user=other_user, post=alice_post)
    committed(posts.post_like, user=other_user, post=alice_post)
    assert shown(user) == [("post_like", "bob liked your photo")]
    assert Notification.objects.count() == 1 and NotificationActor.objects.count() == 1
    assert unread(user) == 1


def test_a_repeat_after_reading_within_the_hour_is_not_news(
    committed, user, other_user, alice_post
):
    committed(posts.post_like, user=other_user, post=alice_post)
    notifications_mark_read(user=user)
    committed(posts.post_unlike, user=other_user, post=alice_post)
    committed(posts.post_like, user=other_user, post=alice_post)
    assert unread(user) == 0
    assert Notification.objects.count() == 1


def test_after_the_hour_the_same_action_notifies_again(committed, user, other_user, alice_post):
    committed(posts.post_like, user=other_user, post=alice_post)
    notifications_mark_read(user=user)
    committed(posts.post_unlike, user=other_user, post=alice_post)
    move_clock_back(minutes=59)
    committed(posts.post_like, user=other_user, post=alice_post)
    assert unread(user) == 0  # 59 minutes: still the same notification
    committed(posts.post_unlike, user=other_user, post=alice_post)
    move_clock_back(minutes=2)  # now 61 minutes since the first like
    committed(posts.post_like, user=other_user, post=alice_post)
    assert unread(user) == 1
    assert Notification.objects.count() == 2  # the read one, and a new one


def test_likes_group_newest_actor_first_with_the_count(committed, user, alice_post):
    names = ["ana", "ben", "cy", "dee", "eve"]
    for name in names:
        committed(posts.post_like, user=UserFactory(username=name), post=alice_post)
    assert shown(user) == [("post_like", "eve, dee and 3 others liked your photo")]
    assert unread(user) == 1
    row = Notification.objects.get()
    assert row.actor.username == "eve" and row.actor_count == 5


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (1, "ana liked your photo"),
        (2, "ben and ana liked your photo"),
        (3, "cy, ben and 1 other liked your photo"),
    ],
)
def test_group_wording(committed, user, alice_post, count, text):
    for name in ["ana", "ben", "cy"][:count]:
        committed(posts.post_like, user=UserFactory(username=name), post=alice_post)
    assert shown(user) == [("post_like", text)]


def test_an_undo_in_a_group_leaves_the_others_and_the_newest_left_in_front(
    committed, user, alice_post
):
    ana, ben = UserFactory(username="ana"), UserFactory(username="ben")
    committed(posts.post_like, user=ana, post=alice_post)
    committed(posts.post_like, user=ben, post=alice_post)
    committed(posts.post_unlike, user=ben, post=alice_post)
    assert shown(user) == [("post_like", "ana liked your photo")]


def test_a_read_group_is_closed_the_next_like_starts_a_new_row(committed, user, alice_post):
    committed(posts.post_like, user=UserFactory(username="ana"), post=alice_post)
    notifications_mark_read(user=user)
    committed(posts.post_like, user=UserFactory(username="ben"), post=alice_post)
    assert shown(user) == [
        ("post_like", "ben liked your photo"),
        ("post_like", "ana liked your photo"),
    ]
    assert unread(user) == 1


def test_different_targets_are_different_rows(committed, user, other_user):
    from tests.notifications.conftest import publish_post

    first, second = publish_post(user), publish_post(user)
    committed(posts.post_like, user=other_user, post=first)
    committed(posts.post_like, user=other_user, post=second)
    assert len(shown(user)) == 2 and unread(user) == 2


def test_follows_group_per_day(committed, user):
    ana, ben, cy = (UserFactory(username=name) for name in ("ana", "ben", "cy"))
    yesterday = timezone.now() - timedelta(days=1)
    with mock.patch("django.utils.timezone.now", return_value=yesterday):
        committed(accounts.follow_create, follower=ana, target=user)
    committed(accounts.follow_create, follower=ben, target=user)
    committed(accounts.follow_create, follower=cy, target=user)
    assert shown(user) == [
        ("follow", "cy and ben started following you"),
        ("follow", "ana started following you"),
    ]


def test_the_list_is_ordered_by_the_newest_event(committed, user, other_user, carol):
    from tests.notifications.conftest import publish_post

    old, new = publish_post(user), publish_post(user)
    committed(posts.post_like, user=other_user, post=old)
    committed(posts.post_like, user=other_user, post=new)
    move_clock_back(minutes=5)
    committed(posts.post_like, user=carol, post=old)  # the old post's group moves up
    texts = [text for _, text in shown(user)]
    assert texts == ["carol and bob liked your photo", "bob liked your photo"]
    assert (
        Notification.objects.filter(updated_at__gt=timezone.now() - timedelta(minutes=1)).count()
        == 1
    )
