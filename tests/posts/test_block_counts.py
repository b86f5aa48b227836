"""Blocks on posts (README "Privacy rules"): each one's likes and comments leave the
other's posts, whoever blocked; and every comment count — the API's post object, the
feed's, the post page's heading and the cards' "View all N comments" — counts only the
comments its viewer may read (Comment.objects.by_people_hidden_from)."""

from html import unescape

import pytest

from accounts.models import Follow
from accounts.services import block_create
from posts import selectors
from posts import services as post_services
from posts.models import Post
from tests.factories import UserFactory
from tests.posts.conftest import make_post
from tests.posts.test_posts_api import bearer_for

pytestmark = pytest.mark.django_db


def comment_counts(viewer, post) -> dict:
    """What viewer is told of post's comments on every path."""
    single = bearer_for(viewer).get(f"/api/v1/posts/{post.pk}").json()["comment_count"]
    feed = bearer_for(viewer).get("/api/v1/feed").json()["items"]
    (in_feed,) = [item["comment_count"] for item in feed if item["id"] == str(post.pk)]
    return {"post": single, "feed": in_feed}


def test_counts_leave_out_the_comments_a_block_hides_from_the_viewer(author, follower, client_for):
    """follower blocks a commenter on someone else's post: for follower the count drops
    by that person's comments (and their replies); for everyone else it stays."""
    viewer, commenter = follower, UserFactory(username="talker")
    bystander = UserFactory(username="bystander")
    Follow.objects.create(follower=bystander, following=author)
    post = make_post(author, caption="the post")
    theirs = post_services.comment_create(author=commenter, post=post, content="theirs")
    post_services.comment_create(author=commenter, post=post, content="r", parent_id=theirs.pk)
    post_services.comment_create(author=bystander, post=post, content="kept")
    post_services.comment_create(author=author, post=post, content="the author's")
    post_services.comment_create(author=viewer, post=post, content="the viewer's")
    assert comment_counts(viewer, post) == {"post": 5, "feed": 5}

    block_create(blocker=viewer, target=commenter)
    assert comment_counts(viewer, post) == {"post": 3, "feed": 3}
    assert comment_counts(bystander, post) == {"post": 5, "feed": 5}
    home = unescape(client_for(viewer).get("/").content.decode())
    assert "View all 3 comments" in home and "View all 5" not in home
    assert "View all 5 comments" in unescape(client_for(bystander).get("/").content.decode())
    page = client_for(viewer).get(f"/p/{post.pk}/").content.decode()
    assert '<span id="comment-count" class="muted">3</span>' in page
    # the blocked side is told the same way round (the block hides both ways)
    Follow.objects.create(follower=commenter, following=author)
    assert comment_counts(commenter, post) == {"post": 4, "feed": 4}


def test_a_banned_persons_comments_are_not_counted_for_anyone(author, follower, client):
    banned = UserFactory(username="banned")
    post = make_post(author)
    post_services.comment_create(author=banned, post=post, content="spam")
    post_services.comment_create(author=follower, post=post, content="fine")
    banned.is_active = False
    banned.save(update_fields=["is_active"])
    assert comment_counts(follower, post)["post"] == 1
    signed_out = client.get(f"/p/{post.pk}/").content.decode()
    assert '<span id="comment-count" class="muted">1</span>' in signed_out
    assert Post.objects.get(pk=post.pk).comment_count == 2  # stored: comes back on unban


def test_the_blocked_persons_likes_and_comments_leave_the_blockers_posts_whoever_blocked(
    author, follower
):
    """follower blocks author: follower's likes and comments on author's posts go too
    (author could neither see nor delete them); author's on follower's posts as well."""
    third = UserFactory(username="third")
    Follow.objects.create(follower=third, following=author)
    authors, followers = make_post(author), make_post(follower)
    post_services.comment_create(author=follower, post=authors, content="on author's")
    post_services.post_like(user=follower, post=authors)
    post_services.comment_create(author=third, post=authors, content="third's")
    post_services.comment_create(author=author, post=followers, content="on follower's")

    block_create(blocker=follower, target=author)

    def seen(viewer, post):
        client = bearer_for(viewer)
        answer = client.get(f"/api/v1/posts/{post.pk}")
        if answer.status_code == 404:
            return 404
        items = client.get(f"/api/v1/posts/{post.pk}/comments").json()["items"]
        body = answer.json()
        return body["like_count"], body["comment_count"], [c["content"] for c in items]

    assert seen(author, authors) == (0, 1, ["third's"])  # the author sees every comment left
    assert seen(third, authors) == (0, 1, ["third's"])
    assert seen(follower, authors) == 404  # the blocker no longer sees the post at all
    assert seen(follower, followers) == (0, 0, [])
    # what is left on author's post is author's to delete, as any comment on their posts
    (left,) = selectors.comment_list_for_post(viewer=author, post=authors).items
    post_services.comment_delete(comment=left, actor=author)
    assert Post.objects.get(pk=authors.pk).comment_count == 0


def test_the_feed_keeps_its_query_count(author, follower, django_assert_max_num_queries):
    posts = [make_post(author) for _ in range(3)]
    for post in posts:
        post_services.comment_create(author=author, post=post, content="one")
    block_create(blocker=follower, target=UserFactory(username="someone"))
    client = bearer_for(follower)
    client.get("/api/v1/feed")  # warm caches
    with django_assert_max_num_queries(3):
        items = client.get("/api/v1/feed").json()["items"]
    assert [item["comment_count"] for item in items] == [1, 1, 1]


def test_reply_counts_leave_out_the_replies_a_block_hides(author, follower, client_for):
    """ "View N replies" (the page) and `reply_count` (the API) count only the replies
    their viewer may read."""
    blocked = UserFactory(username="blocked")
    post = make_post(author)
    top = post_services.comment_create(author=author, post=post, content="top")
    post_services.comment_create(author=blocked, post=post, content="hidden", parent_id=top.pk)
    post_services.comment_create(author=author, post=post, content="shown", parent_id=top.pk)
    block_create(blocker=follower, target=blocked)

    def reply_count(viewer):
        items = bearer_for(viewer).get(f"/api/v1/posts/{post.pk}/comments").json()["items"]
        return items[0]["reply_count"]

    assert reply_count(follower) == 1
    assert reply_count(author) == 2
    assert "View 1 reply" in client_for(follower).get(f"/p/{post.pk}/").content.decode()
    assert "View 2 replies" in client_for(author).get(f"/p/{post.pk}/").content.decode()
