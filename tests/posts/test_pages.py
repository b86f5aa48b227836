"""The post pages: the upload form, the post page and its htmx actions, with and without JS."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Circle, CircleMembership, CircleRole
from circles import ratelimits
from media.services import image_process
from posts import services
from posts.models import Bookmark, Comment, Image, Like, Post, PostStatus
from tests.factories import UserFactory
from tests.posts.conftest import jpeg_bytes, jpeg_upload, make_post

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
CREATE = "/p/new/"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Each test stores files in its own folder, so "stored nothing" can be checked."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }


def upload(**fields) -> dict:
    """The upload form as a browser sends it (the visibility select always has a value)."""
    return {"visibility": "public", **fields}


def stored_files(tmp_path) -> list:
    return [p for p in (tmp_path / "media").rglob("*") if p.is_file()]


def detail(post) -> str:
    return reverse("posts:detail", args=[post.pk])


def action(name, post, *extra) -> str:
    return reverse(f"posts:{name}", args=[post.pk, *extra])


# --- the upload page ------------------------------------------------------------------


def test_upload_page_needs_login(client_for):
    response = client_for(None).get(CREATE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_upload_page_offers_only_your_circles(client_for, author, circle, outsider):
    others = Circle.objects.create(name="Not yours", owner=outsider)
    CircleMembership.objects.create(circle=others, user=outsider, role=CircleRole.OWNER)
    html = client_for(author).get(CREATE).content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'name="images"' in html and "multiple" in html
    assert 'value="circle"' in html
    assert f'value="{circle.pk}">Close friends</option>' in html
    assert "Not yours" not in html
    assert html.count('name="alt"') == 10  # "Describe photo N" without JS
    assert '<label for="alt-1">Describe photo 1</label>' in html
    assert 'name="idempotency_key"' in html


def test_without_circles_there_is_no_circle_choice(client_for, outsider):
    html = client_for(outsider).get(CREATE).content.decode()
    assert 'value="circle"' not in html and 'name="circle_id"' not in html


def test_upload_form_creates_the_post_and_redirects_to_it(client_for, author, tmp_path):
    response = client_for(author).post(
        CREATE,
        {
            "images": [jpeg_upload("a.jpg"), jpeg_upload("b.jpg")],
            "caption": "Sunset\r\nwith #friends",
            "location": "Lisbon",
            "visibility": "followers",
            "alt": ["A red sky", "The sea", "", "", ""],
            "idempotency_key": "form-1",
        },
    )
    post = Post.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail(post)
    assert post.author == author and post.status == PostStatus.PROCESSING
    assert (post.caption, post.location, post.visibility) == (
        "Sunset\nwith #friends",  # the browser's CRLF counts as one character
        "Lisbon",
        "followers",
    )
    alts = list(post.images.order_by("post_image__position").values_list("alt", flat=True))
    assert alts == ["A red sky", "The sea"]
    assert len(stored_files(tmp_path)) == 2  # the two originals


def test_same_idempotency_key_gives_the_same_post(client_for, author):
    client = client_for(author)
    form = upload(images=[jpeg_upload()], idempotency_key="double-click")
    first = client.post(CREATE, form)
    second = client.post(CREATE, {**form, "images": [jpeg_upload()]})
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Post.objects.count() == 1 and Image.objects.count() == 1


def test_circle_post_from_the_form(client_for, author, circle):
    response = client_for(author).post(
        CREATE, {"images": [jpeg_upload()], "visibility": "circle", "circle_id": str(circle.pk)}
    )
    assert response.status_code == 302
    assert Post.objects.get().circle == circle


def test_circle_select_is_ignored_for_public_posts(client_for, author, circle):
    response = client_for(author).post(
        CREATE, {"images": [jpeg_upload()], "visibility": "public", "circle_id": str(circle.pk)}
    )
    assert response.status_code == 302
    assert Post.objects.get().circle is None


@pytest.mark.parametrize(
    ("files", "status", "message"),
    [
        ([], 400, "Add at least one photo."),
        (
            [SimpleUploadedFile("page.jpg", b"<html><script>alert(1)</script></html>")],
            415,
            "page.jpg",
        ),
        ([SimpleUploadedFile("empty.jpg", b"", content_type="image/jpeg")], 400, "empty"),
        ([jpeg_upload(f"{i}.jpg") for i in range(11)], 400, "at most 10 photos"),
        (
            [SimpleUploadedFile("big.jpg", jpeg_bytes()[:4] + b"\0" * (10 * 1024 * 1024 + 1))],
            413,
            "larger than 10 MB",
        ),
    ],
)
def test_bad_files_rerender_the_form_and_store_nothing(
    client_for, author, tmp_path, files, status, message
):
    response = client_for(author).post(
        CREATE, upload(images=files, caption="kept", location="kept too")
    )
    assert response.status_code == status
    html = response.content.decode()
    assert message in html
    assert "Your post was not shared." in html
    assert "kept</textarea>" in html and 'value="kept too"' in html  # nothing retyped
    assert Post.objects.count() == 0 and Image.objects.count() == 0
    assert stored_files(tmp_path) == []


def test_a_good_photo_with_a_bad_one_stores_neither(client_for, author, tmp_path):
    bad = SimpleUploadedFile("x.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    response = client_for(author).post(CREATE, upload(images=[jpeg_upload(), bad]))
    assert response.status_code == 415
    assert Post.objects.count() == 0 and stored_files(tmp_path) == []


def test_rule_errors_show_on_their_fields(client_for, author, circle, outsider, tmp_path):
    stranger_circle = Circle.objects.create(name="Theirs", owner=outsider)
    CircleMembership.objects.create(circle=stranger_circle, user=outsider, role=CircleRole.OWNER)
    response = client_for(author).post(
        CREATE,
        {"images": [jpeg_upload()], "visibility": "circle", "circle_id": str(stranger_circle.pk)},
    )
    assert response.status_code == 400
    assert "Choose one of your circles." in response.content.decode()
    assert Post.objects.count() == 0 and stored_files(tmp_path) == []


def test_over_long_caption_is_refused(client_for, author, tmp_path):
    response = client_for(author).post(CREATE, upload(images=[jpeg_upload()], caption="x" * 2201))
    assert response.status_code == 400
    assert "at most 2200 characters" in response.content.decode()
    assert Post.objects.count() == 0 and stored_files(tmp_path) == []


def test_posting_too_often_answers_429(client_for, author, monkeypatch):
    monkeypatch.setitem(ratelimits.RATES, "post", "1/h")
    client = client_for(author)
    assert client.post(CREATE, upload(images=[jpeg_upload()])).status_code == 302
    response = client.post(CREATE, upload(images=[jpeg_upload()]))
    assert response.status_code == 429
    assert response["Retry-After"]
    assert "too often" in response.content.decode()
    assert Post.objects.count() == 1


# --- the post page ----------------------------------------------------------------------


def test_post_page_shows_photos_caption_and_actions(client_for, author, follower):
    post = make_post(
        author,
        files=[jpeg_upload("a.jpg", size=(1600, 1200)), jpeg_upload("b.jpg")],
        caption="Sunset with @follower #Beach",
        location="Porto",
        alts=["A red sky"],
    )
    response = client_for(follower).get(detail(post))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<a id="post-author" class="post-author" href="/author/">' in html
    assert html.count('<source type="image/webp"') == 2
    first = post.images.order_by("post_image__position").first()
    assert f'src="/media/{first.pk}/medium.jpeg"' in html
    assert f"/media/{first.pk}/large.webp 1080w" in html
    assert 'width="1080" height="810"' in html  # no layout shift
    assert 'alt="A red sky"' in html and 'alt="Photo 2 by Author"' in html
    assert '<a href="/explore/tags/beach/">#Beach</a>' in html
    assert '<a href="/follower/">@follower</a>' in html
    assert "Porto" in html
    assert f'action="{action("like", post)}"' in html
    assert f'action="{action("bookmark", post)}"' in html
    assert f'action="{action("comment_create", post)}"' in html
    assert action("delete", post) not in html  # not the author


def test_author_sees_delete(client_for, author):
    post = make_post(author)
    assert action("delete", post) in client_for(author).get(detail(post)).content.decode()


def test_post_times_read_naturally(client_for, author, follower):
    """A fresh post says "now" or "a second ago", never "0 minutes ago"."""
    post = make_post(author)
    html = client_for(follower).get(detail(post)).content.decode()
    fresh = re.search(r'<time datetime="[^"]+" title="[^"]+">([^<]+)</time>', html)[1]
    assert fresh == "now" or re.fullmatch(r"(a|\d+\xa0)\s?seconds? ago", fresh), fresh
    Post.objects.filter(pk=post.pk).update(created_at=post.created_at - timedelta(hours=3))
    assert "3\xa0hours ago</time>" in client_for(follower).get(detail(post)).content.decode()


def test_anonymous_sees_public_post_without_actions(client_for, author):
    post = make_post(author)
    response = client_for(None).get(detail(post))
    assert response.status_code == 200
    html = response.content.decode()
    assert action("like", post) not in html and "Log in</a> to like" in html


def test_circle_post_is_404_for_an_outsider(client_for, circle_post, circle_member, outsider):
    assert client_for(circle_member).get(detail(circle_post)).status_code == 200
    assert client_for(outsider).get(detail(circle_post)).status_code == 404
    assert client_for(None).get(detail(circle_post)).status_code == 404
    for name in ("like", "bookmark", "comment_create", "delete"):
        response = client_for(outsider).post(action(name, circle_post), {"content": "hi"}, **HTMX)
        assert response.status_code == 404, name
    assert not Like.objects.exists() and not Comment.objects.exists()


def test_followers_post_is_404_for_others(client_for, author, follower, outsider):
    post = make_post(author, visibility="followers")
    assert client_for(follower).get(detail(post)).status_code == 200
    assert client_for(outsider).get(detail(post)).status_code == 404


def test_caption_comment_and_alt_are_escaped(client_for, author, follower):
    script = "<script>alert(1)</script>"
    post = make_post(author, caption=f"{script} #ok", location=script, alts=[script])
    services.comment_create(author=follower, post=post, content=script)
    html = client_for(follower).get(detail(post)).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_processing_post_shows_its_author_a_polling_status(client_for, author, outsider):
    post = make_post(author, files=[jpeg_upload(), jpeg_upload()], process=False)
    client = client_for(author)
    html = client.get(detail(post)).content.decode()
    assert "Processing 2 photos…" in html
    assert f'hx-get="{action("status", post)}" hx-trigger="every 2s"' in html
    assert '<meta http-equiv="refresh" content="5">' in html  # within <noscript>
    assert client_for(outsider).get(detail(post)).status_code == 404

    still = client.get(action("status", post), **HTMX)
    assert still.status_code == 200 and "Processing 2 photos…" in still.content.decode()
    assert "HX-Refresh" not in still
    for image in post.images.all():
        image_process(image_id=image.pk)
    done = client.get(action("status", post), **HTMX)
    assert done.status_code == 200 and done["HX-Refresh"] == "true"
    assert "Processing" not in client.get(detail(post)).content.decode()


def test_failed_post_tells_its_author_which_photo_and_why(client_for, author):
    truncated = SimpleUploadedFile("cut.jpg", jpeg_bytes((1200, 900))[:700], "image/jpeg")
    post = make_post(author, files=[jpeg_upload("fine.jpg"), truncated])
    assert post.status == PostStatus.FAILED
    failed = post.images.get(post_image__position=1)
    html = client_for(author).get(detail(post)).content.decode()
    assert "This post could not be published." in html
    assert f"Photo 2: {failed.error}" in html and failed.error
    assert action("delete", post) in html


# --- likes and bookmarks ------------------------------------------------------------------


def test_like_and_unlike_with_htmx_answer_the_button(client_for, author, follower):
    post = make_post(author)
    client = client_for(follower)
    liked = client.post(action("like", post), **HTMX)
    assert liked.status_code == 200
    html = liked.content.decode()
    assert (
        'aria-pressed="true"' in html and '<span class="toggle-count" data-count>1</span>' in html
    )
    assert f'action="{action("unlike", post)}"' in html
    assert "<html" not in html  # a fragment
    assert client.post(action("like", post), **HTMX).status_code == 200  # idempotent
    assert Post.objects.get(pk=post.pk).like_count == 1
    unliked = client.post(action("unlike", post), **HTMX).content.decode()
    assert 'aria-pressed="false"' in unliked and "data-count>0<" in unliked
    assert not Like.objects.exists()


def test_like_without_js_redirects_back_to_the_post(client_for, author, follower):
    post = make_post(author)
    response = client_for(follower).post(action("like", post))
    assert response.status_code == 302 and response["Location"] == detail(post)
    assert Like.objects.filter(user=follower, post=post).exists()
    html = client_for(follower).get(detail(post)).content.decode()
    assert 'aria-pressed="true" aria-label="Like"' in html


def test_bookmark_with_and_without_htmx(client_for, author, follower):
    post = make_post(author)
    client = client_for(follower)
    saved = client.post(action("bookmark", post), **HTMX).content.decode()
    assert 'aria-pressed="true" aria-label="Save"' in saved
    assert f'action="{action("unbookmark", post)}"' in saved
    assert Bookmark.objects.filter(user=follower, post=post).exists()
    response = client.post(action("unbookmark", post))
    assert response.status_code == 302 and response["Location"] == detail(post)
    assert not Bookmark.objects.exists()


def test_actions_are_post_only_and_need_login(client_for, author):
    post = make_post(author)
    assert client_for(author).get(action("like", post)).status_code == 405
    anonymous = client_for(None)
    response = anonymous.post(action("like", post))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    response = anonymous.post(action("like", post), **HTMX)
    assert response["HX-Redirect"] == reverse("accounts:login")
    assert not Like.objects.exists()


def test_actions_need_the_csrf_token(author):
    from django.test import Client

    post = make_post(author)
    client = Client(enforce_csrf_checks=True)
    client.force_login(author)
    assert client.post(action("like", post), **HTMX).status_code == 403
    client.get(detail(post))
    token = client.cookies["csrftoken"].value
    response = client.post(action("like", post), HTTP_X_CSRFTOKEN=token, **HTMX)
    assert response.status_code == 200


def test_liking_too_often_answers_429(client_for, author, follower, monkeypatch):
    monkeypatch.setitem(ratelimits.RATES, "like", "1/h")
    post = make_post(author)
    client = client_for(follower)
    assert client.post(action("like", post), **HTMX).status_code == 200
    refused = client.post(action("like", post), **HTMX)
    assert refused.status_code == 429 and refused["Retry-After"]
    assert "too often" in refused.content.decode()
    page = client.post(action("like", post))
    assert page.status_code == 429 and "<html" in page.content.decode()


# --- comments ---------------------------------------------------------------------------


def test_comment_with_htmx_answers_the_new_comment(client_for, author, follower):
    post = make_post(author)
    response = client_for(follower).post(
        action("comment_create", post), {"content": "Lovely\r\nlight"}, **HTMX
    )
    assert response.status_code == 200
    comment = Comment.objects.get()
    html = response.content.decode()
    assert f'<li class="comment" id="comment-{comment.pk}">' in html
    assert "Lovely<br>light" in html
    assert comment.content == "Lovely\nlight"
    assert Post.objects.get(pk=post.pk).comment_count == 1


def test_comment_without_js_redirects_to_it(client_for, author, follower):
    post = make_post(author)
    response = client_for(follower).post(action("comment_create", post), {"content": "Nice"})
    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{detail(post)}#comment-{comment.pk}"
    assert "Nice" in client_for(None).get(detail(post)).content.decode()


def test_empty_comment_is_refused_with_its_message(client_for, author, follower):
    post = make_post(author)
    client = client_for(follower)
    fragment = client.post(action("comment_create", post), {"content": "  "}, **HTMX)
    assert fragment.status_code == 400
    assert "Write something first." in fragment.content.decode()
    page = client.post(action("comment_create", post), {"content": ""})
    assert page.status_code == 400
    html = page.content.decode()
    assert "Write something first." in html and '<article class="card post-detail"' in html
    too_long = client.post(action("comment_create", post), {"content": "x" * 1001}, **HTMX)
    assert too_long.status_code == 400
    assert not Comment.objects.exists()


def test_replies_are_one_level_and_load_on_demand(client_for, author, follower):
    post = make_post(author)
    top = services.comment_create(author=author, post=post, content="Top")
    client = client_for(follower)
    reply = client.post(
        action("comment_create", post), {"content": "Reply", "parent_id": str(top.pk)}, **HTMX
    )
    assert reply.status_code == 200
    first_reply = Comment.objects.get(content="Reply")
    assert first_reply.parent == top
    # a reply to a reply joins the thread; without JS it lands on the thread's page
    response = client.post(
        action("comment_create", post), {"content": "Deeper", "parent_id": str(first_reply.pk)}
    )
    assert Comment.objects.get(content="Deeper").parent == top
    thread = f"{action('comments', post)}?parent={top.pk}"
    assert response.status_code == 302 and response["Location"] == thread

    page = client.get(detail(post)).content.decode()
    assert "View 2 replies" in page and "Deeper" not in page
    replies = client.get(thread, **HTMX).content.decode()
    assert "Reply" in replies and "Deeper" in replies and "<html" not in replies
    assert "<html" in client.get(thread).content.decode()  # its own page without JS


def test_comment_pages_with_more_link(client_for, author, follower):
    post = make_post(author)
    for i in range(25):
        services.comment_create(author=follower, post=post, content=f"comment number {i}")
    client = client_for(follower)
    html = client.get(detail(post)).content.decode()
    assert html.count('<li class="comment"') == 20
    more = re.search(r'hx-get="([^"]+cursor=[^"]+)"', html).group(1).replace("&amp;", "&")
    rest = client.get(more, **HTMX).content.decode()
    assert rest.count('<li class="comment"') == 5 and "comment number 0" in rest
    assert client.get(f"{action('comments', post)}?cursor=forged").status_code == 400


def test_delete_own_comment_and_comments_on_own_post(client_for, author, follower):
    post = make_post(author)
    mine = services.comment_create(author=follower, post=post, content="mine")
    theirs = services.comment_create(author=follower, post=post, content="theirs")
    stranger = UserFactory(username="stranger")
    refused = client_for(stranger).post(action("comment_delete", post, mine.pk), **HTMX)
    assert refused.status_code == 403
    assert Comment.objects.filter(pk=mine.pk).exists()

    own = client_for(follower).post(action("comment_delete", post, mine.pk), **HTMX)
    assert own.status_code == 200 and own.content == b""
    by_author = client_for(author).post(action("comment_delete", post, theirs.pk))
    assert by_author.status_code == 302 and by_author["Location"] == detail(post)
    assert not Comment.objects.exists()
    assert Post.objects.get(pk=post.pk).comment_count == 0


def test_comment_of_another_post_is_404(client_for, author):
    post, other = make_post(author), make_post(author)
    comment = services.comment_create(author=author, post=other, content="x")
    response = client_for(author).post(action("comment_delete", post, comment.pk))
    assert response.status_code == 404


def test_comment_like_toggle(client_for, author, follower):
    post = make_post(author)
    comment = services.comment_create(author=author, post=post, content="x")
    client = client_for(follower)
    liked = client.post(action("comment_like", post, comment.pk), **HTMX).content.decode()
    assert 'aria-pressed="true"' in liked and "data-count>1<" in liked
    response = client.post(action("comment_unlike", post, comment.pk))
    assert response.status_code == 302
    assert Comment.objects.get(pk=comment.pk).like_count == 0


def test_commenting_too_often_answers_429(client_for, author, follower, monkeypatch):
    monkeypatch.setitem(ratelimits.RATES, "comment", "1/h")
    post = make_post(author)
    client = client_for(follower)
    assert client.post(action("comment_create", post), {"content": "a"}, **HTMX).status_code == 200
    assert client.post(action("comment_create", post), {"content": "b"}, **HTMX).status_code == 429
    assert Comment.objects.count() == 1


# --- deleting a post ----------------------------------------------------------------------


def test_author_deletes_the_post(client_for, author, follower):
    post = make_post(author)
    assert client_for(follower).post(action("delete", post)).status_code == 403
    response = client_for(author).post(action("delete", post))
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert not Post.objects.filter(pk=post.pk).exists()
    assert client_for(author).get(detail(post)).status_code == 404


def test_staff_delete_any_post_from_the_page_too(client_for, author, outsider):
    """The page asks the same rule as the API (posts.selectors.post_get_deletable)."""
    from tests.factories import UserFactory

    post = make_post(author, visibility="followers")
    moderator = UserFactory(username="moderator", is_staff=True)
    assert client_for(outsider).post(action("delete", post)).status_code == 404
    assert client_for(moderator).post(action("delete", post)).status_code == 302
    assert not Post.objects.filter(pk=post.pk).exists()


def test_delete_with_htmx_redirects_the_page(client_for, author):
    post = make_post(author, process=False)
    response = client_for(author).post(action("delete", post), **HTMX)
    assert response["HX-Redirect"] == reverse("home")
    assert not Post.objects.exists()


# --- query counts -------------------------------------------------------------------------


def _busy_post(author, follower, *, photos, comments):
    post = make_post(author, files=[jpeg_upload(f"{i}.jpg", (64, 48)) for i in range(photos)])
    commenters = [UserFactory(username=f"commenter{i}") for i in range(min(comments, 5))]
    for i in range(comments):
        who = commenters[i % len(commenters)]
        top = services.comment_create(author=who, post=post, content=f"c{i} @author #tag")
        services.comment_create(author=follower, post=post, content="reply", parent_id=top.pk)
        services.comment_like(user=follower, comment=top)
    services.post_like(user=follower, post=post)
    return post


def test_post_page_queries_do_not_grow_with_photos_or_comments(
    client_for, author, follower, django_assert_max_num_queries
):
    small = _busy_post(author, follower, photos=1, comments=1)
    big = _busy_post(author, follower, photos=10, comments=30)
    client = client_for(follower)
    client.get(detail(small))  # warm the session
    # (6: the navigation's unread-notifications count comes with every page)
    with django_assert_max_num_queries(6) as small_queries:
        assert client.get(detail(small)).status_code == 200
    with django_assert_max_num_queries(len(small_queries.captured_queries)):
        html = client.get(detail(big)).content.decode()
    assert html.count('<li class="carousel-slide"') == 10
    assert html.count('<li class="comment"') == 20


def test_reply_page_queries_are_constant(
    client_for, author, follower, django_assert_max_num_queries
):
    post = _busy_post(author, follower, photos=1, comments=1)
    top = Comment.objects.get(parent=None)
    for i in range(15):
        services.comment_create(author=follower, post=post, content=f"r{i}", parent_id=top.pk)
    client = client_for(follower)
    client.get(detail(post))
    with django_assert_max_num_queries(5):
        client.get(f"{action('comments', post)}?parent={top.pk}", **HTMX)


def test_circle_posts_page_for_members_only(
    client_for, author, circle, circle_member, outsider, django_assert_max_num_queries
):
    from tests.posts.conftest import make_post as post_in

    shared = [post_in(author, visibility="circle", circle_id=str(circle.pk)) for _ in range(3)]
    public = post_in(author)
    url = f"/circles/{circle.pk}/posts/"
    member = client_for(circle_member)
    with django_assert_max_num_queries(10):
        html = member.get(url).content.decode()
    assert all(f"/p/{post.pk}/" in html for post in shared)
    assert f"/p/{public.pk}/" not in html
    assert f"/p/new/?circle={circle.pk}" in html
    partial = member.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and f"/p/{shared[0].pk}/" in partial
    assert member.get(url, {"cursor": "forged"}).status_code == 400
    assert client_for(outsider).get(url).status_code == 404
    assert client_for(None).get(url).status_code == 302  # sign in first


def test_share_to_a_circle_link_preselects_it(client_for, author, circle):
    html = client_for(author).get(f"/p/new/?circle={circle.pk}").content.decode()
    assert f'<option value="{circle.pk}" selected>' in html
