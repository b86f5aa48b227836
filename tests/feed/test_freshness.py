"""Changes show in the feed at once, with Redis in play.

The feed's design makes this hold without invalidation: which posts a page holds is
decided on every request from PostgreSQL (who viewer follows, what visible_to allows),
and Redis keeps only per-post cards under keys that carry the post's updated_at and
status. So each test warms the caches with one request, makes the change through the
service people use, and asks again — no waiting, no invalidation call.
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.services import (
    block_create,
    circle_leave,
    follow_create,
    follow_delete,
    user_ban,
    user_update,
)
from posts import services
from posts.models import Post, Visibility
from tests.feed.conftest import bearer, follow, ids, make_circle, quick_post
from tests.posts.conftest import make_post

pytestmark = pytest.mark.django_db


def feed_ids(client) -> list[str]:
    response = client.get("/api/v1/feed?limit=50")
    assert response.status_code == 200, response.content
    return ids(response.json()["items"])


@pytest.fixture
def api(viewer):
    return bearer(viewer)


def test_cards_come_from_redis_once_warm(viewer, friend, api):
    follow(viewer, friend)
    for _ in range(5):
        quick_post(friend)
    with CaptureQueriesContext(connection) as cold:
        first = api.get("/api/v1/feed").json()
    with CaptureQueriesContext(connection) as warm:
        second = api.get("/api/v1/feed").json()
    assert first == second
    # photos and mentions are read once; afterwards only the token, the candidates and the
    # page's one query (fresh counts, liked, visibility) hit PostgreSQL
    tables = ("posts_postimage", "posts_mention")
    assert any(t in q["sql"] for q in cold.captured_queries for t in tables)
    assert not any(t in q["sql"] for q in warm.captured_queries for t in tables)
    assert len(warm) == 3


def test_new_post_of_someone_you_follow(viewer, friend, api, django_capture_on_commit_callbacks):
    follow(viewer, friend)
    quick_post(friend)
    feed_ids(api)  # viewer's list of candidates is in Redis now (posts.inbox)
    with django_capture_on_commit_callbacks(execute=True):  # the fan-out runs on commit
        post = make_post(friend, caption="Fresh")  # through the real upload and processing
    assert feed_ids(api)[0] == str(post.pk)


def test_follow(viewer, friend, api):
    post = quick_post(friend)
    assert feed_ids(api) == []
    follow_create(follower=viewer, target=friend)
    assert feed_ids(api) == [str(post.pk)]


def test_unfollow(viewer, friend, api):
    follow(viewer, friend)
    quick_post(friend)
    assert len(feed_ids(api)) == 1
    follow_delete(follower=viewer, target=friend)
    assert feed_ids(api) == []


@pytest.mark.parametrize("who_blocks", ["viewer", "friend"])
def test_block_either_way(viewer, friend, api, who_blocks):
    follow(viewer, friend)
    follow(friend, viewer)
    mine, theirs = quick_post(viewer), quick_post(friend)
    assert set(feed_ids(api)) == {str(mine.pk), str(theirs.pk)}
    if who_blocks == "viewer":
        block_create(blocker=viewer, target=friend)
    else:
        block_create(blocker=friend, target=viewer)
    assert feed_ids(api) == [str(mine.pk)]


def test_delete(viewer, friend, api):
    follow(viewer, friend)
    keep, gone = quick_post(friend), quick_post(friend)
    assert len(feed_ids(api)) == 2
    services.post_delete(post=gone, actor=friend)
    assert feed_ids(api) == [str(keep.pk)]


def test_visibility_change_to_a_circle_viewer_is_not_in(viewer, friend, api):
    follow(viewer, friend)
    post = quick_post(friend)
    assert feed_ids(api) == [str(post.pk)]
    circle = make_circle(friend, name="Without viewer")
    post.visibility, post.circle = Visibility.CIRCLE, circle
    post.save(update_fields=["visibility", "circle", "updated_at"])
    assert feed_ids(api) == []
    # and back, written without touching updated_at: the card's fresh fields follow too
    Post.objects.filter(pk=post.pk).update(visibility=Visibility.FOLLOWERS, circle=None)
    body = api.get("/api/v1/feed").json()
    assert [(item["id"], item["visibility"]) for item in body["items"]] == [
        (str(post.pk), "followers")
    ]


def test_leaving_a_circle(viewer, friend, api):
    follow(viewer, friend)
    circle = make_circle(friend, viewer)
    quick_post(friend, visibility=Visibility.CIRCLE, circle=circle)
    assert len(feed_ids(api)) == 1
    circle_leave(user=viewer, circle=circle)
    assert feed_ids(api) == []


def test_banned_author(viewer, friend, api):
    follow(viewer, friend)
    quick_post(friend)
    assert len(feed_ids(api)) == 1
    user_ban(user=friend)
    assert feed_ids(api) == []


def test_likes_and_comments_counts_are_fresh_on_cached_cards(viewer, friend, api):
    follow(viewer, friend)
    post = make_post(friend)
    assert api.get("/api/v1/feed").json()["items"][0]["like_count"] == 0
    services.post_like(user=viewer, post=post)
    services.comment_create(author=viewer, post=post, content="Nice")
    item = api.get("/api/v1/feed").json()["items"][0]
    assert (item["like_count"], item["liked"], item["comment_count"]) == (1, True, 1)


def test_a_new_name_or_avatar_shows_on_cached_feed_cards(viewer, friend, stranger, client_for):
    """A card's header and carousel are cached with the post; how its author is shown
    changes without touching the post, and shows at once all the same."""
    follow(viewer, friend)
    post = make_post(friend)
    client = client_for(viewer)
    header = re.compile(rf'id="post-{post.pk}-author"[^>]*>([^<]*)</a>')
    assert header.search(client.get("/").content.decode()).group(1) == "Fred Friend"
    user_update(user=friend, display_name="Frida Friend")
    html = client.get("/").content.decode()
    assert header.search(html).group(1) == "Frida Friend"
    assert "Photo 1 by Frida Friend" in html  # the carousel's alt text names the author
    avatar = make_post(stranger).images.first()  # any processed image will do for the check
    User.objects.filter(pk=friend.pk).update(avatar=avatar)
    html = client.get("/").content.decode()
    card = html[html.index(f'id="post-{post.pk}"') :]
    assert f"/media/{avatar.pk}/thumbnail.jpeg" in card[: card.index("</header>")]
