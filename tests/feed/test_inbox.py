"""posts.inbox: the per-person candidate lists in Redis give the candidates PostgreSQL's
LATERAL query gives — on every page, past the end of a list, after follows change, new
posts and deletions — and a rebuild never stores a snapshot older than a post added
while it ran. Visibility is not theirs to decide: tests/feed/test_visibility.py runs
with them."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.services import follow_delete
from posts import inbox, services
from posts.selectors.feed import _feed_candidates
from tests.factories import UserFactory
from tests.feed.conftest import bearer, follow, ids, quick_post

pytestmark = pytest.mark.django_db


def redis():
    return cache._cache.get_client(write=True)


def from_lists(viewer, before=None, count=5):
    return inbox.candidates(
        viewer=viewer,
        before=before,
        count=count,
        rebuild=lambda n: _feed_candidates(viewer=viewer, before=None, count=n),
    )


def from_postgres(viewer, before=None, count=5):
    return [tuple(row) for row in _feed_candidates(viewer=viewer, before=before, count=count)]


@pytest.fixture
def many(viewer, friend):
    other = UserFactory(username="other")
    follow(viewer, friend, other)
    start = timezone.now() - timedelta(days=1)
    posts = [
        quick_post(author, at=start + timedelta(minutes=i))
        for i, author in enumerate([friend, other, viewer] * 4)
    ]
    same_time = [quick_post(friend, at=start + timedelta(minutes=30)) for _ in range(3)]
    return posts + same_time


def test_every_page_is_the_one_postgresql_gives(viewer, many):
    assert from_lists(viewer) == from_postgres(viewer)  # built on the first read
    assert redis().exists(f"feed:inbox:{viewer.pk}")
    before = None
    while True:
        page = from_lists(viewer, before=before, count=4)
        assert page == from_postgres(viewer, before=before, count=4)
        if len(page) < 4:
            break
        before = page[-1]
    assert before is not None


def test_past_the_end_of_a_short_list_postgresql_answers(viewer, many, monkeypatch):
    monkeypatch.setattr(inbox, "INBOX_SIZE", 6)
    first = from_lists(viewer, count=4)
    assert first == from_postgres(viewer, count=4)
    deep = from_lists(viewer, before=from_postgres(viewer, count=8)[-1], count=4)
    assert deep is None  # older than anything the list holds: the caller asks PostgreSQL
    pages, cursor = [], None  # and the feed itself pages through everything, in order
    api = bearer(viewer)
    while True:
        body = api.get("/api/v1/feed", {"limit": 4, **({"cursor": cursor} if cursor else {})})
        pages += ids(body.json()["items"])
        cursor = body.json()["next_cursor"]
        if not cursor:
            break
    assert pages == [str(pk) for _, pk in from_postgres(viewer, count=100)]


def test_a_new_post_goes_only_into_lists_that_exist(
    viewer, friend, django_capture_on_commit_callbacks
):
    follow(viewer, friend)
    stranger_follower = UserFactory(username="later")
    follow(stranger_follower, friend)
    quick_post(friend)
    from_lists(viewer)
    with django_capture_on_commit_callbacks(execute=True):
        post = quick_post(friend)
        inbox.post_added(post)
    assert from_lists(viewer, count=1) == [(post.created_at, post.pk)]
    assert not redis().exists(f"feed:inbox:{stranger_follower.pk}")  # never a partial list
    with django_capture_on_commit_callbacks(execute=True):
        services.post_delete(post=post, actor=friend)
    assert post.pk not in [pk for _, pk in from_lists(viewer)]


def test_a_change_of_follows_rebuilds_the_list(viewer, friend):
    quick_post(friend)
    assert from_lists(viewer) == []
    follow(viewer, friend)
    assert from_lists(viewer) == from_postgres(viewer) != []
    follow_delete(follower=viewer, target=friend)
    assert from_lists(viewer) == []


def test_a_rebuild_never_stores_a_snapshot_older_than_a_post_added_meanwhile(viewer, friend):
    follow(viewer, friend)
    old = quick_post(friend)
    new = quick_post(friend)

    def rebuild_while_a_post_arrives(count):
        snapshot = [row for row in from_postgres(viewer, count=count) if row[1] != new.pk]
        inbox._fan_out(
            friend.pk, inbox._member(new.created_at, new.pk), inbox._score(new.created_at)
        )
        return snapshot  # as if read before `new` was committed

    got = inbox.candidates(
        viewer=viewer, before=None, count=5, rebuild=rebuild_while_a_post_arrives
    )
    assert got == [(old.created_at, old.pk)]  # this read's snapshot, not stored
    assert not redis().exists(f"feed:inbox-meta:{viewer.pk}")
    assert from_lists(viewer) == [(new.created_at, new.pk), (old.created_at, old.pk)]


def test_an_empty_list_gets_the_first_post(viewer, friend, django_capture_on_commit_callbacks):
    follow(viewer, friend)
    assert from_lists(viewer) == []  # built, and empty (no key for the set itself)
    with django_capture_on_commit_callbacks(execute=True):
        post = quick_post(friend)
        inbox.post_added(post)
    assert from_lists(viewer) == [(post.created_at, post.pk)]
    assert redis().ttl(f"feed:inbox:{viewer.pk}") > 0
