"""Two members moving photos at once: the album's lock queues them, so the order ends as
one of the two serial orders, positions stay unique, nothing is lost."""

import pytest

from albums import services
from tests.accounts.test_concurrency import at_once
from tests.albums.conftest import add_photos, order_of

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_moves_leave_a_consistent_order(circle_album, owner, member):
    a, b, c, d = add_photos(circle_album, member, 4, process=False)
    for _ in range(5):
        start = order_of(circle_album)
        # owner puts the last photo first while member puts the first photo last
        at_once(
            lambda start=start: services.album_item_move(
                actor=owner, album=circle_album, item_id=start[-1], after_id=None
            ),
            lambda start=start: services.album_item_move(
                actor=member, album=circle_album, item_id=start[0], after_id=start[-1]
            ),
        )
        # owner's move then member's, or member's then owner's: nothing else
        p0, p1, p2, p3 = start
        assert order_of(circle_album) in ([p3, p0, p1, p2], [p3, p1, p2, p0])


def test_concurrent_moves_into_the_same_gap_get_distinct_positions(circle_album, member, owner):
    a, b, c, d = add_photos(circle_album, member, 4, process=False)
    at_once(
        lambda: services.album_item_move(
            actor=owner, album=circle_album, item_id=c.pk, after_id=a.pk
        ),
        lambda: services.album_item_move(
            actor=member, album=circle_album, item_id=d.pk, after_id=a.pk
        ),
    )
    final = order_of(circle_album)
    assert final[0] == a.pk and final[-1] == b.pk and set(final[1:3]) == {c.pk, d.pk}
