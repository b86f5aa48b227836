"""Search (people by username and display name, prefix and similarity; hashtags by
prefix) and explore (public posts of the last 7 days, most liked first)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from posts import selectors, services
from posts.models import Hashtag, PostHashtag, Visibility
from tests.factories import UserFactory
from tests.feed.conftest import bearer, block, follow, ids, make_circle, quick_post

pytestmark = pytest.mark.django_db


def usernames(users) -> list[str]:
    return [user.username for user in users]


@pytest.fixture
def people(db):
    return {
        "annabel": UserFactory(username="annabel", display_name="Annabel Lee"),
        "anna_k": UserFactory(username="anna_k", display_name="Anna Karenina"),
        "silva": UserFactory(username="zed99", display_name="Ana Silva"),
        "bob": UserFactory(username="bob", display_name="Robert Brown"),
    }


def test_people_by_username_prefix_first(viewer, people):
    found = usernames(selectors.user_list_for_search(viewer=viewer, q="ann"))
    assert found[:2] == ["anna_k", "annabel"]  # usernames starting with q, then the rest
    assert "bob" not in found


def test_people_by_display_name_and_similarity(viewer, people):
    assert usernames(selectors.user_list_for_search(viewer=viewer, q="Silva")) == ["zed99"]
    assert "zed99" in usernames(selectors.user_list_for_search(viewer=viewer, q="silvaa"))
    assert usernames(selectors.user_list_for_search(viewer=viewer, q="@bob")) == ["bob"]
    assert "bob" in usernames(selectors.user_list_for_search(viewer=viewer, q="robert"))


def test_people_search_respects_blocks_and_bans(viewer, people):
    block(people["annabel"], viewer)
    block(viewer, people["anna_k"])
    User.objects.filter(pk=people["bob"].pk).update(is_active=False)
    assert selectors.user_list_for_search(viewer=viewer, q="ann") == []
    assert selectors.user_list_for_search(viewer=viewer, q="bob") == []
    # the other people still find them
    assert "annabel" in usernames(selectors.user_list_for_search(viewer=people["silva"], q="ann"))


def test_empty_and_silly_queries(viewer, people):
    for q in ("", "   ", "#", "@", "%", "_", "x" * 500, "'; drop table"):
        assert isinstance(selectors.user_list_for_search(viewer=viewer, q=q), list)
        assert isinstance(selectors.hashtag_list_for_search(q=q), list)
    assert selectors.user_list_for_search(viewer=viewer, q="%") == []


def test_hashtags_by_prefix_with_counts_of_posts_anyone_may_see(viewer, friend):
    private = UserFactory(username="hidden", is_private=True)
    circle = make_circle(friend)
    tags = {name: Hashtag.objects.create(name=name) for name in ("summer", "sunset", "winter")}

    def tagged(author, tag, **fields):
        PostHashtag.objects.create(post=quick_post(author, **fields), hashtag=tags[tag])

    for _ in range(3):
        tagged(friend, "sunset")
    tagged(friend, "summer")
    tagged(friend, "summer", visibility=Visibility.FOLLOWERS)
    tagged(friend, "summer", visibility=Visibility.CIRCLE, circle=circle)
    tagged(private, "summer")
    tagged(friend, "winter")
    assert selectors.hashtag_list_for_search(q="#su") == [
        {"name": "sunset", "post_count": 3},
        {"name": "summer", "post_count": 1},
    ]
    assert selectors.hashtag_list_for_search(q="SUM") == [{"name": "summer", "post_count": 1}]


def test_explore_ranks_public_posts_of_the_week_by_likes(viewer, friend, stranger):
    now = timezone.now()
    likers = UserFactory.create_batch(3)
    top = quick_post(stranger, at=now - timedelta(days=2))
    middle = quick_post(friend, at=now - timedelta(hours=1))
    low = quick_post(friend, at=now - timedelta(minutes=5))
    old = quick_post(friend, at=now - timedelta(days=8))
    private = UserFactory(username="privateexp", is_private=True)
    follow(viewer, private)
    hidden = [
        quick_post(private),  # a private account, even one viewer follows
        quick_post(friend, visibility=Visibility.FOLLOWERS),
        quick_post(friend, visibility=Visibility.CIRCLE, circle=make_circle(friend, viewer)),
    ]
    for post, count in [(top, 3), (middle, 2), (old, 3), *[(h, 3) for h in hidden]]:
        for liker in likers[:count]:
            services.post_like(user=liker, post=post)
    assert ids(selectors.post_list_for_explore(viewer=viewer).items) == ids([top, middle, low])
    block(viewer, stranger)
    assert ids(selectors.post_list_for_explore(viewer=viewer).items) == ids([middle, low])


def test_explore_pages_walk_one_ranking_while_likes_change(viewer, friend):
    posts = [quick_post(friend) for _ in range(9)]
    likers = UserFactory.create_batch(9)
    for rank, post in enumerate(posts):
        for liker in likers[:rank]:
            services.post_like(user=liker, post=post)
    first = selectors.post_list_for_explore(viewer=viewer, limit=4)
    assert ids(first.items) == ids(list(reversed(posts))[:4])
    # the least liked post becomes the most liked while viewer reads page one
    for liker in likers:
        services.post_like(user=liker, post=posts[0])
    seen, cursor = list(first.items), first.next_cursor
    while cursor:
        page = selectors.post_list_for_explore(viewer=viewer, cursor=cursor, limit=4)
        seen += page.items
        cursor = page.next_cursor
    assert sorted(ids(seen)) == sorted(ids(posts))  # each once, none skipped


def test_explore_api_and_bad_cursor(viewer, friend):
    quick_post(friend)
    api = bearer(viewer)
    assert len(api.get("/api/v1/explore").json()["items"]) == 1
    response = api.get("/api/v1/explore", {"cursor": "forged"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"
