"""Fixtures for notifications: alice (user) and bob (other_user), a published post of
alice's, actions run with their after-commit work, and a listener on alice's socket group."""

import pytest
from channels.layers import channel_layers

from accounts.models import Follow
from notifications.models import Notification
from posts.models import Post, PostStatus
from tests.messaging.conftest import Listener


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """committed(fn, **kwargs): call fn and run what it queued for after commit (the
    notification write, then its publish), as a real request would."""

    def run(fn, /, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(**kwargs)

    return run


def publish_post(author, **fields) -> Post:
    """A published post without photos (the rules need no pixels; tests that show a
    thumbnail take a post through the pipeline)."""
    return Post.objects.create(author=author, status=PostStatus.PUBLISHED, **fields)


@pytest.fixture
def alice_post(user):
    return publish_post(user, caption="sunset")


@pytest.fixture
def carol(db):
    from tests.factories import UserFactory

    return UserFactory(username="carol")


def follow(a, b):
    Follow.objects.get_or_create(follower=a, following=b)


def shown(user) -> list:
    """What user's list shows: [(type, text)], newest first."""
    from notifications.selectors import notification_list_for_user

    page = notification_list_for_user(user=user, limit=50)
    return [(row.notification.kind, row.text) for row in page.items]


def unread(user) -> int:
    from notifications.selectors import notification_count_unread

    return notification_count_unread(user=user)


def groups() -> int:
    return Notification.objects.count()


@pytest.fixture
def listen(db):
    made = []

    def make(*groups):
        made.append(Listener(*groups))
        return made[-1]

    yield make
    for listener in made:
        listener.close()
