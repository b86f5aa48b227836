"""The "Feed and discovery" endpoints of API.md: paths, fields, status codes, list
conventions, the post object (the feed's fast path gives exactly PostOut's JSON), query
counts that do not grow with the page, and the feed's rate limit."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from posts import services
from posts.models import Hashtag, PostHashtag, Visibility
from tests.factories import UserFactory
from tests.feed.conftest import bearer, follow, ids, make_circle, quick_post
from tests.posts.conftest import make_post

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/feed",
    "/api/v1/explore",
    "/api/v1/bookmarks",
    "/api/v1/hashtags/tag/posts",
    "/api/v1/users/friend/posts",
]
POST_FIELDS = {
    "id", "author", "caption", "caption_html", "location", "visibility", "circle", "status",
    "created_at", "like_count", "comment_count", "liked", "bookmarked", "images",
}  # fmt: skip


@pytest.fixture
def busy(viewer, friend):
    """friend has 60 posts viewer follows, saves and can find under #tag."""
    follow(viewer, friend)
    tag = Hashtag.objects.create(name="tag")
    start = timezone.now() - timedelta(hours=1)
    posts = [
        quick_post(friend, caption=f"Post {i} #tag", at=start + timedelta(minutes=i))
        for i in range(60)
    ]
    for post in posts:
        PostHashtag.objects.create(post=post, hashtag=tag)
        services.bookmark_create(user=viewer, post=post)
        services.post_like(user=friend, post=post)
    return posts


@pytest.mark.parametrize("path", [*LISTS, "/api/v1/search?q=a"])
def test_every_endpoint_needs_a_signed_in_person(path, busy):
    response = Client().get(path)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("path", LISTS)
def test_lists_follow_the_list_convention(path, viewer, busy):
    api = bearer(viewer)
    body = api.get(path).json()
    assert set(body) == {"items", "next_cursor"}
    assert len(body["items"]) == 20 and body["next_cursor"]  # default limit
    assert set(body["items"][0]) == POST_FIELDS
    seen, cursor = [], None
    for _ in range(10):
        page = api.get(path, {"limit": 25, **({"cursor": cursor} if cursor else {})}).json()
        seen += ids(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 60
    for bad in ({"limit": 0}, {"limit": 51}, {"limit": "x"}, {"cursor": "forged"}):
        response = api.get(path, bad)
        assert response.status_code == 400, bad
        assert response.json()["error"]["code"] in {"invalid", "invalid_cursor"}


@pytest.mark.parametrize("path", LISTS)
def test_queries_per_page_do_not_grow_with_the_page(
    path, viewer, busy, django_assert_max_num_queries
):
    api = bearer(viewer)
    with django_assert_max_num_queries(10):  # cold: token first used, explore ranked
        api.get(path, {"limit": 1})
    counts = []
    for limit in (2, 50):
        with CaptureQueriesContext(connection) as queries:
            assert api.get(path, {"limit": limit}).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    with django_assert_max_num_queries(10):
        api.get(path, {"limit": 50})


def test_feed_queries_stay_constant_when_most_candidates_are_hidden(
    viewer, friend, django_assert_max_num_queries
):
    """Circle posts viewer is not in crowd the people viewer follows' posts: the feed
    looks at FEED_ROUNDS batches of candidates (2 queries each) for limit=5 and limit=20
    alike, and no more."""
    from posts.models import Post, PostStatus
    from posts.selectors import FEED_ROUNDS

    other = UserFactory(username="other")
    follow(viewer, friend, other)
    circles = {friend: make_circle(friend, name="Outer"), other: make_circle(other, name="Far")}
    start = timezone.now() - timedelta(hours=2)
    hidden, visible = [], []
    for i in range(600):  # 1 in 30 visible: even limit=20 looks at all FEED_ROUNDS batches
        author, at = (friend, other)[i % 2], start + timedelta(seconds=i)
        if i % 30 == 0:
            visible.append(quick_post(author, at=at))
            continue
        circle, published = circles[author], PostStatus.PUBLISHED
        hidden.append(
            (Post(author=author, visibility="circle", circle=circle, status=published), at)
        )
    Post.objects.bulk_create([post for post, _ in hidden])
    for post, at in hidden:
        post.created_at = at  # bulk_create set it to now (auto_now_add); bulk_update doesn't
    Post.objects.bulk_update([post for post, _ in hidden], ["created_at"])
    newest = [str(p.pk) for p in reversed(visible)]
    api = bearer(viewer)
    api.get("/api/v1/feed", {"limit": 20})  # cold: token first used, cards built
    counts = []
    for limit, shown in ((5, 5), (20, 15)):  # 20: 465 candidates hold 15 visible posts
        with django_assert_max_num_queries(12) as queries:
            body = api.get("/api/v1/feed", {"limit": limit}).json()
        assert ids(body["items"]) == newest[:shown] and body["next_cursor"]
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1] >= 2 * FEED_ROUNDS, counts


@pytest.mark.parametrize(
    ("path", "count"),
    [
        ("/api/v1/feed", 4),
        ("/api/v1/explore", 1),
        ("/api/v1/bookmarks", 3),
        ("/api/v1/hashtags/sun/posts", 3),
        ("/api/v1/users/friend/posts", 3),
    ],
)
def test_list_items_are_exactly_the_post_objects_of_the_posts_api(viewer, friend, path, count):
    """Lists build their JSON from cached cards; it must equal PostOut's, field for field."""
    follow(viewer, friend)
    circle = make_circle(friend, viewer)
    posts = [
        make_post(friend, caption="Hello @viewer #Sun", location="Oslo"),
        make_post(friend, visibility=Visibility.CIRCLE, circle_id=str(circle.pk), caption="#sun"),
        make_post(friend, visibility=Visibility.FOLLOWERS, caption="#sun"),
    ]
    services.post_like(user=viewer, post=posts[2])
    for post in posts:
        services.bookmark_create(user=viewer, post=post)
    make_post(viewer, process=False)  # own post, still processing
    api = bearer(viewer)
    for _ in range(2):  # cold cards, then cached ones
        items = api.get(path).json()["items"]
        assert len(items) == count
        for item in items:
            assert item == api.get(f"/api/v1/posts/{item['id']}").json()


def test_user_posts_statuses(viewer, friend):
    api = bearer(viewer)
    assert api.get("/api/v1/users/nobody_here/posts").status_code == 404
    private = UserFactory(username="private_one", is_private=True)
    response = api.get("/api/v1/users/private_one/posts")
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "This account is private."
    follow(viewer, private)
    assert api.get("/api/v1/users/private_one/posts").status_code == 200


def test_hashtag_names_are_case_insensitive_and_unknown_ones_empty(viewer, busy):
    api = bearer(viewer)
    assert len(api.get("/api/v1/hashtags/TAG/posts").json()["items"]) == 20
    assert api.get("/api/v1/hashtags/%23tag/posts").status_code == 200
    assert api.get("/api/v1/hashtags/nothing/posts").json() == {"items": [], "next_cursor": None}


def test_search_shape(viewer, busy):
    body = bearer(viewer).get("/api/v1/search", {"q": "fr"}).json()
    assert set(body) == {"users", "hashtags"}
    friend = busy[0].author
    assert body["users"][0] == {
        "id": str(friend.pk),
        "username": "friend",
        "display_name": "Fred Friend",
        "avatar": None,
    }
    tags = bearer(viewer).get("/api/v1/search", {"q": "#ta"}).json()["hashtags"]
    assert tags == [{"name": "tag", "post_count": 60}]
    assert bearer(viewer).get("/api/v1/search").json() == {"users": [], "hashtags": []}


def test_feed_is_rate_limited_at_60_a_minute(viewer, settings):
    settings.RATELIMIT_ENABLE = True
    api = bearer(viewer)
    statuses = [api.get("/api/v1/feed?limit=1").status_code for _ in range(61)]
    assert statuses[:60] == [200] * 60
    assert statuses[60] == 429
    refused = api.get("/api/v1/feed")
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused["Retry-After"]) > 0


def test_openapi_describes_the_endpoints(viewer):
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/feed",
        "/api/v1/explore",
        "/api/v1/bookmarks",
        "/api/v1/search",
        "/api/v1/hashtags/{name}/posts",
        "/api/v1/users/{username}/posts",
    ):
        assert "get" in paths[path], path
