"""Keyset pagination: opaque cursors, no repeats or gaps while rows are being added."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from circles.errors import ApiError
from circles.pagination import decode_cursor, encode_cursor, paginate
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def make_users(count, start):
    users = UserFactory.create_batch(count)
    for offset, user in enumerate(users):
        User.objects.filter(pk=user.pk).update(date_joined=start + timedelta(seconds=offset))
    return users


def test_pages_walk_every_row_once_newest_first():
    now = timezone.now()
    make_users(7, now - timedelta(hours=1))
    seen, cursor = [], None
    while True:
        page = paginate(User.objects.all(), cursor=cursor, limit=3, time_field="date_joined")
        seen += [u.date_joined for u in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert len(seen) == 7
    assert seen == sorted(seen, reverse=True)


def test_rows_added_while_paging_do_not_shift_the_next_page():
    now = timezone.now()
    make_users(4, now - timedelta(hours=1))
    first = paginate(User.objects.all(), cursor=None, limit=2, time_field="date_joined")
    make_users(3, now)  # newer rows arrive between page requests
    second = paginate(
        User.objects.all(), cursor=first.next_cursor, limit=2, time_field="date_joined"
    )
    first_ids = {u.pk for u in first.items}
    assert not first_ids & {u.pk for u in second.items}
    assert second.next_cursor is None
    assert len(second.items) == 2


def test_equal_timestamps_are_ordered_by_id_without_loss():
    same_time = timezone.now()
    users = UserFactory.create_batch(5)
    User.objects.filter(pk__in=[u.pk for u in users]).update(date_joined=same_time)
    ids, cursor = [], None
    for _ in range(5):
        page = paginate(User.objects.all(), cursor=cursor, limit=2, time_field="date_joined")
        ids += [u.pk for u in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert sorted(ids, reverse=True) == ids and len(set(ids)) == 5


def test_cursor_round_trips_and_rejects_tampering():
    when = timezone.now()
    cursor = encode_cursor(when, "abc")
    assert decode_cursor(cursor) == (when, "abc")
    for bad in (cursor[:-2] + "xx", "garbage", ""):
        with pytest.raises(ApiError) as error:
            decode_cursor(bad)
        assert error.value.status == 400
