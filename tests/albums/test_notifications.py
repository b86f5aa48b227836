"""Albums' notifications: a new circle album and photos added reach the circle's other
members, a like reaches the owner (an unlike takes it back), and they drop out for
someone who left the circle, through the registered album rule."""

import pytest

from accounts import services as accounts
from albums import services
from notifications.selectors import notification_count_unread, notification_list_for_user
from tests.albums.conftest import add_photos

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    def run(fn, /, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def texts(user) -> list[str]:
    return [row.text for row in notification_list_for_user(user=user).items]


def test_a_new_circle_album_and_its_photos_reach_the_other_members(
    committed, circle, owner, member, admin, stranger
):
    album = committed(services.album_create, owner=owner, title="Summer", circle_id=circle.pk)
    assert texts(member) == ["olga made the album Summer"]
    assert notification_count_unread(user=owner) == 0  # never for your own action
    assert notification_count_unread(user=stranger) == 0
    committed(add_photos, album, member, 2)
    committed(add_photos, album, admin, 1)
    # one row for the album, its actors grouped, whoever added last first
    assert texts(owner) == ["adam and mia added photos to Summer"]
    assert "adam added photos to Summer" in texts(member)


def test_a_like_reaches_the_owner_and_an_unlike_takes_it_back(
    committed, circle_album, owner, member
):
    committed(services.album_like, user=member, album=circle_album)
    assert texts(owner) == ["mia liked your album Summer"]
    committed(services.album_unlike, user=member, album=circle_album)
    assert texts(owner) == [] and notification_count_unread(user=owner) == 0
    committed(services.album_like, user=owner, album=circle_album)
    assert notification_count_unread(user=owner) == 0  # your own like


def test_leaving_the_circle_drops_its_album_notifications_at_once(committed, circle, owner, member):
    committed(services.album_create, owner=owner, title="Summer", circle_id=circle.pk)
    assert notification_count_unread(user=member) == 1
    accounts.circle_member_remove(actor=member, circle=circle, user=member)
    assert notification_count_unread(user=member) == 0 and texts(member) == []
