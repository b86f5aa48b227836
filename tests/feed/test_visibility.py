"""Who sees what in every list: the feed, explore, saved posts, hashtag pages, a person's
posts and search all keep to Post.objects.visible_to — followers-only and circle posts,
private accounts, blocks either way, banned authors, deleted and processing posts."""

import pytest
from django.db.models import Exists, OuterRef, Q

from accounts.models import Block, CircleMembership, Follow, User
from posts import selectors, services
from posts.models import Bookmark, Hashtag, Post, PostHashtag, PostStatus, Visibility
from tests.factories import UserFactory
from tests.feed.conftest import bearer, block, follow, ids, make_circle, quick_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(viewer, friend, stranger):
    """Posts by people in every relation to viewer, all tagged #tag and saved by viewer."""
    people = {
        "friend": friend,
        "stranger": stranger,
        "private_friend": UserFactory(username="privfriend", is_private=True),
        "private_stranger": UserFactory(username="privstranger", is_private=True),
        "blocker": UserFactory(username="blocker"),
        "blocked": UserFactory(username="blockedone"),
        "banned": UserFactory(username="banned"),
    }
    follow(viewer, friend, people["private_friend"], people["blocker"], people["banned"])
    block(people["blocker"], viewer)  # a stale follow stays: the rule must still hide them
    block(viewer, people["blocked"])
    inner = make_circle(friend, viewer, name="Inner")
    outer = make_circle(friend, name="Outer")
    posts = {
        "public": quick_post(friend, caption="#tag"),
        "followers": quick_post(friend, visibility=Visibility.FOLLOWERS, caption="#tag"),
        "my_circle": quick_post(friend, visibility=Visibility.CIRCLE, circle=inner, caption="#tag"),
        "other_circle": quick_post(
            friend, visibility=Visibility.CIRCLE, circle=outer, caption="#tag"
        ),
        "processing": quick_post(friend, status=PostStatus.PROCESSING, caption="#tag"),
        "deleted": quick_post(friend, caption="#tag"),
        "private_public": quick_post(people["private_friend"], caption="#tag"),
        "private_followers": quick_post(
            people["private_friend"], visibility=Visibility.FOLLOWERS, caption="#tag"
        ),
        "private_stranger": quick_post(people["private_stranger"], caption="#tag"),
        "stranger": quick_post(stranger, caption="#tag"),
        "stranger_followers": quick_post(stranger, visibility=Visibility.FOLLOWERS, caption="#tag"),
        "blocker": quick_post(people["blocker"], caption="#tag"),
        "blocked": quick_post(people["blocked"], caption="#tag"),
        "banned": quick_post(people["banned"], caption="#tag"),
        "own_processing": quick_post(viewer, status=PostStatus.PROCESSING, caption="#tag"),
    }
    tag = Hashtag.objects.create(name="tag")
    for post in posts.values():
        PostHashtag.objects.create(post=post, hashtag=tag)
        Bookmark.objects.create(user=viewer, post=post)
    services.post_delete(post=posts["deleted"], actor=friend)
    User.objects.filter(pk=people["banned"].pk).update(is_active=False)
    return people, posts


def names(posts: dict, items) -> set[str]:
    by_id = {str(post.pk): name for name, post in posts.items()}
    return {by_id[pk] for pk in ids(items)}


FEED = {"public", "followers", "my_circle", "private_public", "private_followers", "own_processing"}
EVERYWHERE = FEED | {"stranger"}  # what viewer may see of these posts at all


def test_feed(viewer, world):
    _, posts = world
    assert names(posts, selectors.post_list_for_feed(viewer=viewer, limit=50).items) == FEED


def test_feed_api(viewer, world):
    _, posts = world
    body = bearer(viewer).get("/api/v1/feed?limit=50").json()
    assert names(posts, body["items"]) == FEED


def test_explore_shows_only_public_posts_of_public_accounts(viewer, world):
    _, posts = world
    items = selectors.post_list_for_explore(viewer=viewer, limit=50).items
    assert names(posts, items) == {"public", "stranger"}


def test_saved_posts_keep_only_what_viewer_may_still_see(viewer, world):
    _, posts = world
    assert names(posts, selectors.post_list_saved(viewer=viewer, limit=50).items) == EVERYWHERE


def test_hashtag_posts(viewer, world):
    _, posts = world
    body = bearer(viewer).get("/api/v1/hashtags/tag/posts?limit=50").json()
    assert names(posts, body["items"]) == EVERYWHERE


@pytest.mark.parametrize(
    ("person", "status", "expected"),
    [
        ("friend", 200, {"public", "followers", "my_circle"}),
        ("private_friend", 200, {"private_public", "private_followers"}),
        ("stranger", 200, {"stranger"}),
        ("private_stranger", 403, None),
        ("blocker", 404, None),
        ("blocked", 404, None),
        ("banned", 404, None),
    ],
)
def test_a_persons_posts(viewer, world, person, status, expected):
    people, posts = world
    response = bearer(viewer).get(f"/api/v1/users/{people[person].username}/posts")
    assert response.status_code == status, response.content
    if expected is not None:
        assert names(posts, response.json()["items"]) == expected
    else:
        assert response.json()["error"]["code"] == ("forbidden" if status == 403 else "not_found")


def test_own_posts_in_every_state_on_your_own_list(viewer, world):
    _, posts = world
    body = bearer(viewer).get("/api/v1/users/viewer/posts").json()
    assert names(posts, body["items"]) == {"own_processing"}


def test_search_leaves_out_blocks_either_way_and_banned(viewer, world):
    people, _ = world
    found = {u.username for u in selectors.user_list_for_search(viewer=viewer, q="b")}
    assert "blocker" not in found and "blockedone" not in found and "banned" not in found
    friend = {u.username for u in selectors.user_list_for_search(viewer=viewer, q="fri")}
    assert friend == {"friend"}


def reference_visible_to(viewer):
    """The rule as it was first written (content_visible_to as a subquery), to check the
    per-row form in posts.models against it."""
    published = Q(status=PostStatus.PUBLISHED, author__is_active=True)
    blocked = Exists(
        Block.objects.filter(
            Q(blocker=OuterRef("author"), blocked=viewer)
            | Q(blocker=viewer, blocked=OuterRef("author"))
        )
    )
    follows = Exists(Follow.objects.filter(follower=viewer, following=OuterRef("author")))
    member = Exists(CircleMembership.objects.filter(circle=OuterRef("circle"), user=viewer))
    public = Q(visibility=Visibility.PUBLIC) & Q(author__in=User.objects.content_visible_to(viewer))
    followers = Q(visibility=Visibility.FOLLOWERS) & follows & ~blocked
    circle = Q(visibility=Visibility.CIRCLE) & member & ~blocked
    return Post.objects.filter(Q(author=viewer) | (published & (public | followers | circle)))


def test_visible_to_agrees_with_the_accounts_rule_for_everyone(viewer, world):
    people, _ = world
    for person in [viewer, *people.values()]:
        fast = set(Post.objects.visible_to(person).values_list("pk", flat=True))
        reference = set(reference_visible_to(person).values_list("pk", flat=True))
        assert fast == reference, person.username


def test_public_posts_are_what_anyone_may_see_and_what_hashtags_count(viewer, world):
    _, posts = world
    # published, public, by an active public account (blocks only matter to signed-in people)
    public = {"public", "stranger", "blocker", "blocked"}
    assert names(posts, Post.objects.public()) == public
    assert names(posts, Post.objects.visible_to(None)) == public
    counted = selectors.hashtag_list_for_search(q="#tag")
    assert counted == [{"name": "tag", "post_count": len(public)}]
