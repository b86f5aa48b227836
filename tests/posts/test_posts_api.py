"""The Posts endpoints of API.md: shapes, status codes, errors, and who sees what."""

from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.services import api_token_create
from media.models import Image
from posts.models import Comment, Like, Post, PostStatus
from tests.posts.conftest import jpeg_bytes, jpeg_upload, make_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(author):
    """A client authenticated as `author` by bearer token (no CSRF needed)."""
    from django.test import Client

    _, raw = api_token_create(user=author)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def bearer_for(user):
    from django.test import Client

    _, raw = api_token_create(user=user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_upload_answers_202_processing_with_images(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post(
            "/api/v1/posts",
            {
                "images": [jpeg_upload("a.jpg"), jpeg_upload("b.jpg")],
                "caption": "Sunset with @author #Beach",
                "alt": ["A red sky", "The sea"],
            },
        )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "processing"
    assert [image["alt"] for image in body["images"]] == ["A red sky", "The sea"]
    assert all(
        image["status"] == "processing" and image["renditions"] is None for image in body["images"]
    )
    assert body["visibility"] == "public" and body["circle"] is None
    assert '<a href="/explore/tags/beach/">#Beach</a>' in body["caption_html"]
    assert len(callbacks) == 3  # a processing task per image and the feed lists' fan-out


def test_post_turns_published_with_renditions_after_processing(api, author):
    post = make_post(author, files=[jpeg_upload(size=(2000, 1500))])
    assert post.status == PostStatus.PUBLISHED
    body = api.get(f"/api/v1/posts/{post.pk}").json()
    image = body["images"][0]
    assert image["status"] == "ready"
    assert (image["width"], image["height"]) == (2000, 1500)
    renditions = image["renditions"]
    assert renditions["thumbnail"]["width"] == renditions["thumbnail"]["height"] == 150
    assert renditions["large"]["width"] == 1080
    assert renditions["large"]["jpeg"].startswith(f"/media/{image['id']}/large.jpeg")
    assert image["blurhash"]


def test_idempotency_key_returns_the_first_post(api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "upload-123"}
    first = api.post("/api/v1/posts", {"images": [jpeg_upload()]}, **headers)
    again = api.post("/api/v1/posts", {"images": [jpeg_upload()]}, **headers)
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert Post.objects.count() == 1 and Image.objects.count() == 1


@pytest.mark.parametrize(
    ("files", "status", "code"),
    [
        ([], 400, "invalid"),
        ([jpeg_upload(f"{i}.jpg") for i in range(11)], 400, "invalid"),
        ([SimpleUploadedFile("empty.jpg", b"", content_type="image/jpeg")], 400, "empty_file"),
        (
            [SimpleUploadedFile("x.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>")],
            415,
            "unsupported_media_type",
        ),
        (
            [SimpleUploadedFile("page.jpg", b"<html><script>alert(1)</script></html>")],
            415,
            "unsupported_media_type",
        ),
        (
            [SimpleUploadedFile("big.jpg", jpeg_bytes()[:4] + b"\0" * (10 * 1024 * 1024 + 1))],
            413,
            "too_large",
        ),
    ],
)
def test_bad_uploads_are_refused_and_store_nothing(api, files, status, code, tmp_path, settings):
    response = api.post("/api/v1/posts", {"images": files} if files else {"caption": "x"})
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert not Post.objects.exists() and not Image.objects.exists()


def test_bad_fields_are_refused(api, circle):
    long_caption = api.post("/api/v1/posts", {"images": [jpeg_upload()], "caption": "x" * 2201})
    assert long_caption.json()["error"]["fields"] == {
        "caption": ["Keep the caption under 2200 characters."]
    }
    no_circle = api.post("/api/v1/posts", {"images": [jpeg_upload()], "visibility": "circle"})
    assert "circle_id" in no_circle.json()["error"]["fields"]
    weird = api.post("/api/v1/posts", {"images": [jpeg_upload()], "visibility": "everyone"})
    assert "visibility" in weird.json()["error"]["fields"]
    assert not Post.objects.exists()


def test_cannot_post_to_a_circle_you_are_not_in(circle, outsider):
    response = bearer_for(outsider).post(
        "/api/v1/posts",
        {"images": [jpeg_upload()], "visibility": "circle", "circle_id": str(circle.pk)},
    )
    assert response.status_code == 400
    assert not Post.objects.exists()


def test_outsider_gets_404_for_circle_post_and_its_comments(circle_post, circle_member, outsider):
    outsider_api = bearer_for(outsider)
    for method, path in [
        ("get", f"/api/v1/posts/{circle_post.pk}"),
        ("get", f"/api/v1/posts/{circle_post.pk}/comments"),
        ("post", f"/api/v1/posts/{circle_post.pk}/like"),
        ("post", f"/api/v1/posts/{circle_post.pk}/bookmark"),
    ]:
        response = getattr(outsider_api, method)(path)
        assert response.status_code == 404, path
    assert bearer_for(circle_member).get(f"/api/v1/posts/{circle_post.pk}").status_code == 200


def test_processing_post_is_visible_only_to_its_author(author, follower):
    post = make_post(author, process=False)
    assert bearer_for(follower).get(f"/api/v1/posts/{post.pk}").status_code == 404
    assert bearer_for(author).get(f"/api/v1/posts/{post.pk}").json()["status"] == "processing"


def test_like_is_idempotent_and_counted_once(author, follower):
    post = make_post(author)
    client = bearer_for(follower)
    assert client.post(f"/api/v1/posts/{post.pk}/like").json() == {"liked": True, "like_count": 1}
    assert client.post(f"/api/v1/posts/{post.pk}/like").json() == {"liked": True, "like_count": 1}
    assert client.get(f"/api/v1/posts/{post.pk}").json()["liked"] is True
    assert client.delete(f"/api/v1/posts/{post.pk}/like").json() == {
        "liked": False,
        "like_count": 0,
    }
    assert client.delete(f"/api/v1/posts/{post.pk}/like").json() == {
        "liked": False,
        "like_count": 0,
    }
    assert not Like.objects.exists()


def test_likes_and_bookmarks_only_on_posts_you_may_see(author, follower, circle):
    # the actions' compiled lookup (posts.selectors.post_get_for_action) keeps the rule
    from tests.factories import UserFactory

    stranger = UserFactory()
    hidden = [
        make_post(author, visibility="followers"),
        make_post(author, visibility="circle", circle_id=str(circle.pk)),
        make_post(author, process=False),
    ]
    for post in hidden:
        client = bearer_for(stranger)
        for method, path in (("post", "like"), ("delete", "like"), ("post", "bookmark")):
            assert getattr(client, method)(f"/api/v1/posts/{post.pk}/{path}").status_code == 404
    assert bearer_for(stranger).post("/api/v1/posts/not-an-id/like").status_code == 404
    assert not Like.objects.exists()
    followers_only = hidden[0]
    liked = bearer_for(follower).post(f"/api/v1/posts/{followers_only.pk}/like").json()
    assert liked == {"liked": True, "like_count": 1}


def test_bookmark_round_trip(author, follower):
    post = make_post(author)
    client = bearer_for(follower)
    assert client.post(f"/api/v1/posts/{post.pk}/bookmark").status_code == 204
    assert client.get(f"/api/v1/posts/{post.pk}").json()["bookmarked"] is True
    assert client.delete(f"/api/v1/posts/{post.pk}/bookmark").status_code == 204
    assert client.get(f"/api/v1/posts/{post.pk}").json()["bookmarked"] is False


def test_comments_and_one_level_of_replies(author, follower):
    post = make_post(author)
    client = bearer_for(follower)
    top = client.post(
        f"/api/v1/posts/{post.pk}/comments",
        {"content": "<b>Nice</b>"},
        content_type="application/json",
    )
    assert top.status_code == 201
    top_id = top.json()["id"]
    reply = client.post(
        f"/api/v1/posts/{post.pk}/comments",
        {"content": "thanks", "parent_id": top_id},
        content_type="application/json",
    ).json()
    reply_to_reply = client.post(
        f"/api/v1/posts/{post.pk}/comments",
        {"content": "again", "parent_id": reply["id"]},
        content_type="application/json",
    ).json()
    assert reply["parent_id"] == reply_to_reply["parent_id"] == top_id
    listing = client.get(f"/api/v1/posts/{post.pk}/comments").json()
    assert [c["id"] for c in listing["items"]] == [top_id]
    assert listing["items"][0]["reply_count"] == 2
    assert listing["items"][0]["content"] == "<b>Nice</b>"  # stored as text, escaped on render
    replies = client.get(f"/api/v1/posts/{post.pk}/comments?parent_id={top_id}").json()
    assert len(replies["items"]) == 2
    assert client.get(f"/api/v1/posts/{post.pk}").json()["comment_count"] == 3

    empty = client.post(
        f"/api/v1/posts/{post.pk}/comments", {"content": "  "}, content_type="application/json"
    )
    assert empty.status_code == 400 and "content" in empty.json()["error"]["fields"]


def test_comment_delete_rules_and_counts(author, follower, outsider):
    post = make_post(author)
    follower_api = bearer_for(follower)
    comment_id = follower_api.post(
        f"/api/v1/posts/{post.pk}/comments", {"content": "hi"}, content_type="application/json"
    ).json()["id"]
    outsider_api = bearer_for(outsider)  # public post: outsider can see it, but not delete
    assert outsider_api.delete(f"/api/v1/comments/{comment_id}").status_code == 403
    like = outsider_api.post(f"/api/v1/comments/{comment_id}/like").json()
    assert like == {"liked": True, "like_count": 1}
    assert bearer_for(author).delete(f"/api/v1/comments/{comment_id}").status_code == 204
    assert not Comment.objects.exists()
    assert Post.objects.get(pk=post.pk).comment_count == 0


def test_only_author_deletes_post(author, follower):
    post = make_post(author)
    assert bearer_for(follower).delete(f"/api/v1/posts/{post.pk}").status_code == 403
    assert bearer_for(author).delete(f"/api/v1/posts/{post.pk}").status_code == 204
    assert bearer_for(author).get(f"/api/v1/posts/{post.pk}").status_code == 404


def test_post_rate_limit(api, settings):
    for _ in range(10):
        assert api.post("/api/v1/posts", {"images": [jpeg_upload()]}).status_code == 202
    limited = api.post("/api/v1/posts", {"images": [jpeg_upload()]})
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0


def test_user_posts_count_counts_published_posts_only(api, author):
    make_post(author)
    make_post(author, process=False)
    assert api.get("/api/v1/users/author").json()["posts_count"] == 1


def test_posts_count_never_reveals_posts_the_viewer_cannot_see(author, follower, outsider):
    make_post(author)
    make_post(author, visibility="followers")
    assert bearer_for(follower).get("/api/v1/users/author").json()["posts_count"] == 2
    assert bearer_for(outsider).get("/api/v1/users/author").json()["posts_count"] == 1


def test_staff_delete_any_post_even_one_they_cannot_see(author, outsider):
    from tests.factories import UserFactory

    post = make_post(author, visibility="followers")
    moderator = UserFactory(username="moderator", is_staff=True)
    assert bearer_for(outsider).delete(f"/api/v1/posts/{post.pk}").status_code == 404
    assert bearer_for(moderator).delete(f"/api/v1/posts/{post.pk}").status_code == 204
    assert not Post.objects.filter(pk=post.pk).exists()
    assert bearer_for(moderator).delete(f"/api/v1/posts/{post.pk}").status_code == 404


@pytest.mark.parametrize("limit", ["0", "51", "many"])
def test_comment_list_limit_out_of_range_is_a_400(author, follower, limit):
    post = make_post(author)
    response = bearer_for(follower).get(f"/api/v1/posts/{post.pk}/comments?limit={limit}")
    assert response.status_code == 400
    assert "limit" in response.json()["error"]["fields"]


def test_circle_posts_are_listed_for_members_only(author, circle, circle_member, outsider):
    from tests.posts.conftest import make_post as post_in

    shared = post_in(author, visibility="circle", circle_id=str(circle.pk))
    post_in(author)  # public: not a circle post
    listing = bearer_for(circle_member).get(f"/api/v1/circles/{circle.pk}/posts")
    assert listing.status_code == 200
    assert [item["id"] for item in listing.json()["items"]] == [str(shared.pk)]
    assert listing.json()["items"][0]["circle"] == {"id": str(circle.pk), "name": circle.name}
    for path in (f"/api/v1/circles/{circle.pk}/posts", "/api/v1/circles/not-a-uuid/posts"):
        refused = bearer_for(outsider).get(path)
        assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"


def test_circle_posts_queries_do_not_grow_with_the_page(
    author, circle, circle_member, django_assert_max_num_queries
):
    for _ in range(6):
        make_post(author, visibility="circle", circle_id=str(circle.pk))
    client = bearer_for(circle_member)
    client.get(f"/api/v1/circles/{circle.pk}/posts?limit=2")  # warm the cards
    with django_assert_max_num_queries(8):
        assert len(client.get(f"/api/v1/circles/{circle.pk}/posts?limit=6").json()["items"]) == 6


def test_a_block_hides_the_others_comments_on_third_peoples_posts(
    author, follower, outsider, client_for
):
    """outsider blocked follower: follower's comments on author's public post disappear
    for outsider — list, replies, the feed card's first comments, the post page — and
    follower sees none of outsider's either; everyone else still sees both."""
    from accounts.services import block_create
    from posts import services as post_services

    post = make_post(author)
    mine = post_services.comment_create(author=outsider, post=post, content="from outsider")
    theirs = post_services.comment_create(author=follower, post=post, content="from follower")
    post_services.comment_create(author=follower, post=post, content="a reply", parent_id=mine.pk)
    block_create(blocker=outsider, target=follower)

    def listed(user, query=""):
        items = bearer_for(user).get(f"/api/v1/posts/{post.pk}/comments{query}").json()["items"]
        return [c["content"] for c in items]

    assert listed(outsider) == ["from outsider"]
    assert listed(outsider, f"?parent_id={mine.pk}") == []
    assert listed(follower) == ["from follower"]
    assert sorted(listed(author)) == ["from follower", "from outsider"]
    page = client_for(outsider).get(f"/p/{post.pk}/").content.decode()
    assert "from outsider" in page and "from follower" not in page
    assert bearer_for(outsider).post(f"/api/v1/comments/{theirs.pk}/like").status_code == 404
    from accounts.models import Follow

    Follow.objects.create(follower=outsider, following=author)  # the post is in their feed
    home = client_for(outsider).get("/").content.decode()
    assert "from outsider" in home and "from follower" not in home


def test_blocking_removes_the_blocked_persons_likes_and_comments_on_your_posts(
    author, follower, outsider
):
    """author blocks follower: follower's likes and comments (with replies under them) on
    author's posts go, for everyone, with the counts; follower's reply under someone else's
    comment goes too; nothing of theirs elsewhere is touched, and unblocking restores none."""
    from accounts.services import block_create, block_delete
    from posts import services as post_services

    post, elsewhere = make_post(author), make_post(outsider)
    kept = post_services.comment_create(author=outsider, post=post, content="kept")
    theirs = post_services.comment_create(author=follower, post=post, content="theirs")
    post_services.comment_create(author=outsider, post=post, content="a reply", parent_id=theirs.pk)
    post_services.comment_create(
        author=follower, post=post, content="their reply", parent_id=kept.pk
    )
    post_services.post_like(user=follower, post=post)
    post_services.post_like(user=outsider, post=post)
    post_services.post_like(user=follower, post=elsewhere)
    post_services.comment_create(author=follower, post=elsewhere, content="not on author's")
    block_create(blocker=author, target=follower)
    block_create(blocker=author, target=follower)  # a repeat changes nothing more

    def seen(user):
        answer = bearer_for(user).get(f"/api/v1/posts/{post.pk}").json()
        items = bearer_for(user).get(f"/api/v1/posts/{post.pk}/comments").json()["items"]
        return answer["like_count"], answer["comment_count"], [c["content"] for c in items]

    assert seen(outsider) == (1, 1, ["kept"])
    assert seen(author) == (1, 1, ["kept"])
    replies = bearer_for(outsider).get(f"/api/v1/posts/{post.pk}/comments?parent_id={kept.pk}")
    assert replies.json()["items"] == []
    post.refresh_from_db(), elsewhere.refresh_from_db(), kept.refresh_from_db()
    assert (post.like_count, post.comment_count, kept.reply_count) == (1, 1, 0)
    assert (elsewhere.like_count, elsewhere.comment_count) == (1, 1)
    block_delete(blocker=author, target=follower)
    assert seen(outsider) == (1, 1, ["kept"])


def test_feed_cards_first_comments_follow_blocks_and_bans_even_when_cached(
    author, follower, outsider, client_for
):
    from accounts.models import Follow
    from accounts.services import block_create
    from posts import services as post_services

    post = make_post(author)
    Follow.objects.create(follower=outsider, following=author)
    post_services.comment_create(author=follower, post=post, content="early word")
    post_services.comment_create(author=author, post=post, content="author's word")
    home = unescape(client_for(outsider).get("/").content.decode())  # fills the cache
    assert "early word" in home and "author's word" in home
    block_create(blocker=outsider, target=follower)
    home = unescape(client_for(outsider).get("/").content.decode())
    assert "early word" not in home and "author's word" in home
    assert "early word" in client_for(author).get("/").content.decode()  # others still do
    follower.is_active = False  # banned
    follower.save(update_fields=["is_active"])
    assert "early word" not in client_for(author).get("/").content.decode()
