"""A failing notification never fails the action: it is written after the action
commits, in a transaction of its own, and its error is logged."""

import logging
from unittest import mock

import pytest
from django.db import DatabaseError

from accounts import services as accounts
from accounts.models import Follow
from notifications import services
from notifications.models import Notification, NotificationActor
from posts import services as posts
from posts.models import Like, Post

pytestmark = pytest.mark.django_db


def test_a_failing_notification_write_leaves_the_like(
    committed, caplog, user, other_user, alice_post
):
    fail = mock.patch.object(
        NotificationActor.objects, "bulk_create", side_effect=DatabaseError("disk full")
    )
    with fail, caplog.at_level(logging.ERROR, logger="notifications.services"):
        liked, count = committed(posts.post_like, user=other_user, post=alice_post)
    assert liked and count == 1
    assert Like.objects.filter(user=other_user, post=alice_post).exists()
    assert Post.objects.get(pk=alice_post.pk).like_count == 1
    # the notification's own transaction rolled back whole: no half-made group
    assert Notification.objects.count() == 0
    assert "notification post_like" in caplog.text and "disk full" in caplog.text


def test_a_failing_notification_leaves_the_follow(committed, caplog, user, other_user):
    with mock.patch.object(services, "_group_upsert", side_effect=DatabaseError("gone")):
        state = committed(accounts.follow_create, follower=other_user, target=user)
    assert state == "following"
    assert Follow.objects.filter(follower=other_user, following=user).exists()
    assert Notification.objects.count() == 0


def test_a_failing_publish_keeps_the_notification(committed, user, other_user, alice_post):
    with mock.patch("circles.realtime._group_send", side_effect=OSError("redis down")):
        committed(posts.post_like, user=other_user, post=alice_post)
    assert Notification.objects.filter(recipient=user).count() == 1
