"""The pages: the home feed (cards, infinite scroll with an htmx sentinel, a plain "More"
link without JS, the empty state with people to follow), the landing page, explore,
search and saved posts."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from posts import services, views
from posts.models import Comment, Visibility
from tests.factories import UserFactory
from tests.feed.conftest import block, follow, make_circle, quick_post
from tests.posts.conftest import make_post

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
MORE = re.compile(r'<a class="button secondary" href="(/\?cursor=[^"]+)"')


def cards(html: str) -> list[str]:
    return re.findall(r'<article class="card post-card" id="post-([0-9a-f-]{36})"', html)


def grid(html: str) -> list[str]:
    return re.findall(r'<a href="/p/([0-9a-f-]{36})/" aria-label="Post by', html)


def test_anonymous_visitors_get_the_landing_page(client_for):
    html = client_for(None).get("/").content.decode()
    assert "<title>Welcome · Circles</title>" in html
    assert 'href="/accounts/register/"' in html and 'href="/accounts/login/"' in html
    assert "post-card" not in html


def test_home_shows_feed_cards_with_everything_a_card_needs(client_for, viewer, friend):
    follow(viewer, friend)
    circle = make_circle(friend, viewer, name="Inner")
    post = make_post(friend, caption="Lake day with @viewer #summer", location="Oslo")
    make_post(friend, visibility=Visibility.CIRCLE, circle_id=str(circle.pk))
    services.post_like(user=viewer, post=post)
    services.bookmark_create(user=viewer, post=post)
    for text in ("First!", "Second", "Third"):
        services.comment_create(author=friend, post=post, content=text)
    html = client_for(viewer).get("/").content.decode()
    assert "Hello, Vera Viewer" in html
    assert len(cards(html)) == 2
    card = html[html.index(f'id="post-{post.pk}"') :]
    card = card[: card.index("</article>")]
    assert "Fred Friend" in card and "Oslo" in card
    assert "data-carousel" in card and f"/media/{post.images.first().pk}/" in card
    assert '<a href="/explore/tags/summer/">#summer</a>' in card
    assert '<a href="/viewer/">@viewer</a>' in card
    assert 'aria-pressed="true" aria-label="Like"' in card  # liked by me
    assert 'aria-pressed="true" aria-label="Save"' in card  # saved by me
    assert '<span class="toggle-count" data-count>1</span>' in card  # like count
    assert "View all 3 comments" in card
    assert "First!" in card and "Second" in card and "Third" not in card  # first comments
    assert "Circle: Inner" in html


def test_infinite_scroll_and_more_link(client_for, viewer, friend):
    follow(viewer, friend)
    posts = [quick_post(friend) for _ in range(views.FEED_PAGE * 2 + 3)]
    client = client_for(viewer)
    html = client.get("/").content.decode()
    first = cards(html)
    assert first == [str(p.pk) for p in reversed(posts)][: views.FEED_PAGE]
    more = MORE.search(html).group(1).replace("&amp;", "&")
    assert f'hx-get="{MORE.search(html).group(1)}" hx-trigger="revealed, click"' in html
    # htmx: the next cards and the next sentinel, no page around them
    fragment = client.get(more, **HTMX).content.decode()
    assert "<html" not in fragment
    second = cards(fragment)
    assert len(second) == views.FEED_PAGE and not set(first) & set(second)
    # without JS the same link opens a whole page of the next cards
    page = client.get(more).content.decode()
    assert "<html" in page and cards(page) == second
    last = client.get(MORE.search(fragment).group(1).replace("&amp;", "&"), **HTMX)
    assert len(cards(last.content.decode())) == 3
    assert "You're all caught up." in last.content.decode()


def test_empty_feed_suggests_people_to_follow(client_for, viewer):
    popular = UserFactory(username="popular", display_name="Popular Person")
    followed = UserFactory(username="alreadyfollowed")
    private = UserFactory(username="privatepop", is_private=True)
    fans = UserFactory.create_batch(3)
    for fan in fans:
        follow(fan, popular, private, followed)
    follow(viewer, followed)
    blocked = UserFactory(username="blockedpop")
    for fan in fans:
        follow(fan, blocked)
    block(blocked, viewer)
    html = client_for(viewer).get("/").content.decode()
    assert "Your feed is empty" in html
    assert "@popular" in html  # most followed public account viewer doesn't follow
    assert "@privatepop" not in html and "@alreadyfollowed" not in html
    assert "@blockedpop" not in html
    assert 'aria-label="Follow @popular"' in html  # the accounts follow button
    assert 'href="/explore/"' in html and 'href="/search/"' in html


def test_home_page_queries_do_not_grow_with_the_page(client_for, viewer, friend, monkeypatch):
    follow(viewer, friend)
    for i in range(12):
        post = quick_post(friend, caption=f"#tag{i} @viewer")
        Comment.objects.create(post=post, author=friend, content="hi")
    client = client_for(viewer)
    client.get("/")  # viewer's first read builds their list of candidates (posts.inbox)
    counts = []
    for size in (2, 10):
        monkeypatch.setattr(views, "FEED_PAGE", size)
        with CaptureQueriesContext(connection) as queries:
            assert len(cards(client.get("/").content.decode())) == size
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 10, counts


def test_a_bad_cursor_answers_400(client_for, viewer):
    assert client_for(viewer).get("/?cursor=nope").status_code == 400


def test_explore_page(client_for, viewer, friend):
    popular = quick_post(friend)
    services.post_like(user=viewer, post=popular)
    quick_post(friend, visibility=Visibility.FOLLOWERS)
    html = client_for(None).get("/explore/").content.decode()
    assert "Explore" in html and 'class="post-grid"' in html
    assert grid(html) == [str(popular.pk)]


def test_search_page_with_and_without_htmx(client_for, viewer, friend):
    tagged = quick_post(friend, caption="#friendship")
    from posts.models import Hashtag, PostHashtag

    PostHashtag.objects.create(post=tagged, hashtag=Hashtag.objects.create(name="friendship"))
    client = client_for(viewer)
    html = client.get("/search/", {"q": "fri"}).content.decode()
    assert "<html" in html and "@friend" in html and "#friendship" in html
    fragment = client.get("/search/", {"q": "fri"}, **HTMX).content.decode()
    assert "<html" not in fragment and "@friend" in fragment
    assert "No one matches" in client.get("/search/", {"q": "zzzzqqq"}).content.decode()


def test_saved_page_needs_login_and_shows_saved_posts(client_for, viewer, friend):
    assert client_for(None).get("/saved/").status_code == 302
    follow(viewer, friend)
    saved = quick_post(friend)
    quick_post(friend)
    services.bookmark_create(user=viewer, post=saved)
    html = client_for(viewer).get("/saved/").content.decode()
    assert grid(html) == [str(saved.pk)]


def tagged(author, name="sun", **fields):
    """A quick_post under #name (quick_post writes no hashtag rows of its own)."""
    from posts.models import Hashtag, PostHashtag

    post = quick_post(author, caption=f"#{name}", **fields)
    hashtag, _ = Hashtag.objects.get_or_create(name=name)
    PostHashtag.objects.create(post=post, hashtag=hashtag)
    return post


def test_hashtag_page_shows_only_the_posts_viewer_may_see(client_for, viewer, friend, stranger):
    follow(viewer, friend)
    public = tagged(friend)
    followers = tagged(friend, visibility=Visibility.FOLLOWERS)
    strangers = tagged(stranger)
    tagged(stranger, visibility=Visibility.FOLLOWERS)  # viewer doesn't follow stranger
    tagged(friend, name="rain")
    html = client_for(viewer).get("/explore/tags/Sun/").content.decode()
    assert "<title>#sun · Circles</title>" in html and 'class="post-grid"' in html
    assert grid(html) == [str(p.pk) for p in (strangers, followers, public)]
    assert grid(client_for(None).get("/explore/tags/sun/").content.decode()) == [
        str(p.pk) for p in (strangers, public)
    ]
    assert (
        "No posts with #empty yet."
        in client_for(viewer).get("/explore/tags/empty/").content.decode()
    )


def test_hashtag_page_a_bad_cursor_answers_400(client_for, viewer):
    response = client_for(viewer).get("/explore/tags/sun/?cursor=forged")
    assert response.status_code == 400
    assert "The cursor is not valid." in response.content.decode()
    fragment = client_for(viewer).get("/explore/tags/sun/?cursor=forged", **HTMX)
    assert fragment.status_code == 400 and "<html" not in fragment.content.decode()


def test_hashtag_page_grows_with_htmx_and_has_a_more_link_without_js(client_for, viewer, friend):
    posts = [tagged(friend) for _ in range(views.GRID_PAGE + 2)]
    newest_first = [str(p.pk) for p in reversed(posts)]
    client = client_for(viewer)
    response = client.get("/explore/tags/sun/")
    assert "HX-Request" in response["Vary"]
    html = response.content.decode()
    assert grid(html) == newest_first[: views.GRID_PAGE]
    link = re.search(r'href="(/explore/tags/sun/\?cursor=[^"]+)"', html).group(1)
    assert f'hx-get="{link}" hx-trigger="revealed, click"' in html
    more = link.replace("&amp;", "&")
    fragment = client.get(more, **HTMX).content.decode()  # the next grid page, in place
    assert "<html" not in fragment and grid(fragment) == newest_first[views.GRID_PAGE :]
    assert "cursor=" not in fragment  # the last page: no further link
    page = client.get(more).content.decode()  # without JS: a whole page of the same
    assert "<html" in page and grid(page) == newest_first[views.GRID_PAGE :]


def test_hashtag_page_queries_do_not_grow_with_the_posts(
    client_for, viewer, friend, django_assert_max_num_queries
):
    follow(viewer, friend)
    for _ in range(2):
        tagged(friend)
    client = client_for(viewer)
    client.get("/explore/tags/sun/")  # warm the session
    with django_assert_max_num_queries(10) as few:
        assert len(grid(client.get("/explore/tags/sun/").content.decode())) == 2
    for _ in range(20):
        tagged(friend, visibility=Visibility.FOLLOWERS)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(grid(client.get("/explore/tags/sun/").content.decode())) == 22
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(grid(client.get("/explore/tags/sun/", **HTMX).content.decode())) == 22


def test_post_links_are_the_reversed_urls(friend):
    post = quick_post(friend)
    for name in ("detail", "like", "unlike", "bookmark", "unbookmark"):
        assert post.links[name] == reverse(f"posts:{name}", args=[post.pk])
