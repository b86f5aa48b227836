"""With Redis down (the cache pointed at a closed port) the feed and discovery still answer
from PostgreSQL: cache errors are logged, the rate limit fails open, nothing raises."""

import logging

import pytest

from circles import cache
from posts import selectors
from tests.feed.conftest import bearer, follow, ids, quick_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(viewer, friend):
    follow(viewer, friend)
    return [quick_post(friend, caption="#down") for _ in range(3)]


def test_feed_api_answers_from_postgresql(redis_down, viewer, world, caplog):
    with caplog.at_level(logging.WARNING, logger="circles.cache"):
        response = bearer(viewer).get("/api/v1/feed")
    assert response.status_code == 200
    assert ids(response.json()["items"]) == ids(reversed(world))
    assert any("answering without Redis" in r.getMessage() for r in caplog.records)


def test_after_a_failure_redis_is_left_alone_for_a_while(redis_down, viewer, world):
    from django.core.cache import cache as default_cache

    assert default_cache.get("anything", "default") == "default"
    assert not cache.available()  # backing off: the next calls do not wait on Redis
    assert len(selectors.post_list_for_feed(viewer=viewer).items) == 3


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/explore",
        "/api/v1/search?q=%23do",
        "/api/v1/bookmarks",
        "/api/v1/users/friend/posts",
    ],
)
def test_discovery_endpoints(redis_down, viewer, world, path):
    assert bearer(viewer).get(path).status_code == 200


def test_hashtag_counts_without_redis(redis_down, world):
    from posts.models import Hashtag, PostHashtag

    tag = Hashtag.objects.create(name="down")
    for post in world:
        PostHashtag.objects.create(post=post, hashtag=tag)
    assert selectors.hashtag_list_for_search(q="do") == [{"name": "down", "post_count": 3}]


def test_pages(redis_down, client_for, viewer, world):
    client = client_for(viewer)
    home = client.get("/")
    assert home.status_code == 200
    assert home.content.decode().count('class="card post-card"') == 3
    for path in ("/explore/", "/search/?q=fri", "/saved/"):
        assert client.get(path).status_code == 200, path
