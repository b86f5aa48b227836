"""The home feed in a real Chromium: infinite scroll loads the next pages as the person
scrolls, each post once, until "You're all caught up"."""

import pytest

from posts import views
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.feed.conftest import follow, quick_post
from tests.posts.conftest import make_post

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

POSTS = views.FEED_PAGE * 2 + 5


def log_in(page, username):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


def test_scrolling_the_feed_loads_the_next_pages(page):
    reader = UserFactory(username="reader", display_name="Reader")
    friend = UserFactory(username="friendly", display_name="Friendly")
    follow(reader, friend)
    real = make_post(friend, caption="The first one #e2e")  # real photo files to show
    renditions = real.images.first().renditions
    for i in range(POSTS - 1):
        quick_post(friend, caption=f"Post number {i}", renditions=renditions)
    log_in(page, "reader")

    articles = page.locator("article.post-card")
    assert articles.count() == views.FEED_PAGE
    assert "Hello, Reader" in page.locator("main").inner_text()
    for expected in (views.FEED_PAGE * 2, POSTS):
        page.mouse.wheel(0, 100_000)  # to the end: the sentinel is revealed
        page.wait_for_function(
            # a function, not an expression: Playwright evals expressions, which the
            # Content-Security-Policy refuses
            f"() => document.querySelectorAll('article.post-card').length >= {expected}",
            timeout=15_000,
        )
    page.mouse.wheel(0, 100_000)
    page.get_by_text("You're all caught up.").wait_for(timeout=15_000)
    ids = articles.evaluate_all("cards => cards.map((card) => card.id)")
    assert len(ids) == POSTS == len(set(ids))
    assert page.locator("[data-feed-more]").count() == 0
    # the photos are the app's own checked URLs, and they load
    loaded = articles.first.locator("img").first.evaluate(
        """img => img.complete ? img.naturalWidth > 0 : new Promise((resolve) => {
             img.addEventListener('load', () => resolve(true), {once: true});
             img.addEventListener('error', () => resolve(false), {once: true});
           })"""
    )
    assert loaded
    assert page.console_errors == []


def test_the_more_link_works_without_javascript(browser, live_server_url):
    reader = UserFactory(username="nojs", display_name="No JS")
    friend = UserFactory(username="friendlier")
    follow(reader, friend)
    for i in range(views.FEED_PAGE + 2):
        quick_post(friend, caption=f"Post {i}")
    context = browser.new_context(base_url=live_server_url, java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, "nojs")
        assert page.locator("article.post-card").count() == views.FEED_PAGE
        page.get_by_role("link", name="More").click()
        page.wait_for_url("**/?cursor=*")
        assert page.locator("article.post-card").count() == 2
    finally:
        context.close()
