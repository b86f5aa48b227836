"""The feed's order and pages: newest first on (created_at, id), every post once, none
skipped — also while posts are being added, and when many candidates are hidden."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from posts import selectors
from posts.models import Visibility
from tests.factories import UserFactory
from tests.feed.conftest import follow, ids, make_circle, quick_post

pytestmark = pytest.mark.django_db


def walk(viewer, limit, **kwargs) -> list:
    """Every page of viewer's feed; returns the posts in the order pages gave them."""
    seen, cursor = [], None
    for _ in range(200):  # bounded
        page = selectors.post_list_for_feed(viewer=viewer, cursor=cursor, limit=limit, **kwargs)
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("the feed never ended")


def test_feed_is_own_and_followed_posts_newest_first(viewer, friend, stranger):
    follow(viewer, friend)
    mine = quick_post(viewer)
    theirs = quick_post(friend)
    quick_post(stranger)  # public, but viewer doesn't follow them
    newest = quick_post(friend)
    page = selectors.post_list_for_feed(viewer=viewer)
    assert ids(page.items) == ids([newest, theirs, mine])
    assert page.next_cursor is None


def test_pages_walk_every_post_once_in_order(viewer):
    authors = UserFactory.create_batch(4)
    follow(viewer, *authors)
    posts = [quick_post(authors[i % 4]) for i in range(23)]
    for limit in (1, 5, 7, 50):
        seen = walk(viewer, limit)
        assert ids(seen) == ids(reversed(posts)), limit


def test_ties_on_created_at_are_ordered_by_id_and_never_split(viewer, friend):
    follow(viewer, friend)
    same = timezone.now() - timedelta(minutes=5)
    posts = [quick_post(friend, at=same) for _ in range(6)]
    seen = walk(viewer, 4)
    assert sorted(ids(seen), reverse=True) == ids(seen)
    assert set(ids(seen)) == set(ids(posts)) and len(seen) == 6


def test_posts_added_between_pages_neither_repeat_nor_shift(viewer, friend):
    follow(viewer, friend)
    before = [quick_post(friend) for _ in range(9)]
    first = selectors.post_list_for_feed(viewer=viewer, limit=4)
    for _ in range(5):
        quick_post(friend, at=timezone.now())  # newer than everything: page 1 territory
    rest, cursor = [], first.next_cursor
    while cursor:
        page = selectors.post_list_for_feed(viewer=viewer, cursor=cursor, limit=4)
        rest += page.items
        cursor = page.next_cursor
    assert ids(first.items + rest) == ids(reversed(before))


@pytest.mark.django_db(transaction=True)
def test_paging_while_another_connection_inserts(viewer, friend):
    """A writer on its own connection commits new posts while the feed is paged."""
    follow(viewer, friend)
    existing = [quick_post(friend) for _ in range(30)]
    stop, errors = threading.Event(), []

    def writer():
        try:
            for _ in range(200):  # bounded
                if stop.is_set():
                    break
                quick_post(friend, at=timezone.now())
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        seen, cursor = [], None
        for _ in range(100):
            page = selectors.post_list_for_feed(viewer=viewer, cursor=cursor, limit=3)
            seen += page.items
            cursor = page.next_cursor
            if not cursor:
                break
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not errors
    seen_ids = ids(seen)
    assert len(seen_ids) == len(set(seen_ids)), "a post came twice"
    assert set(ids(existing)) <= set(seen_ids), "a post was skipped"
    stamps = [(post.created_at, post.pk) for post in seen]
    assert stamps == sorted(stamps, reverse=True)


def test_hidden_candidates_make_short_pages_but_skip_nothing(viewer, friend, monkeypatch):
    """Many circle posts viewer can't see sit between the visible ones: pages may come
    short, but the cursor goes on and every visible post shows, in order."""
    monkeypatch.setattr("posts.selectors.feed.FEED_ROUNDS", 2)
    follow(viewer, friend)
    circle = make_circle(friend, name="Not for viewer")
    visible = []
    for i in range(40):
        if i % 10 == 0:
            visible.append(quick_post(friend))
        else:
            quick_post(friend, visibility=Visibility.CIRCLE, circle=circle)
    seen = walk(viewer, 2)
    assert ids(seen) == ids(reversed(visible))


def test_someone_following_few_people_in_a_big_world(viewer, friend):
    """The candidate query walks each followed author's own index: following one quiet
    person among many busy ones still finds their old posts."""
    follow(viewer, friend)
    old = quick_post(friend, at=timezone.now() - timedelta(days=200))
    busy = UserFactory()
    for _ in range(30):
        quick_post(busy)
    assert ids(selectors.post_list_for_feed(viewer=viewer).items) == ids([old])


def test_bad_cursor_is_refused(viewer):
    from circles.errors import ApiError

    with pytest.raises(ApiError):
        selectors.post_list_for_feed(viewer=viewer, cursor="not-a-cursor")
