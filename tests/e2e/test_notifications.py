"""Notifications in a real Chromium: bob likes alice's photo, the badge in alice's
navigation changes live (and the page title with it), then the activity page reads
"bob liked your photo". Screenshots under var/screenshots/ at phone and desktop sizes."""

import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from posts import services as posts
from tests.factories import UserFactory
from tests.feed.conftest import follow
from tests.posts.conftest import make_post

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def like_in_another_thread(user, post) -> None:
    """bob's like, as his request would make it: committed at once, then notified and
    pushed (Playwright keeps an event loop in this thread, where publishing cannot run)."""

    def like():
        try:
            posts.post_like(user=user, post=post)
        finally:
            connection.close()

    worker = threading.Thread(target=like)
    worker.start()
    worker.join(timeout=30)


def log_in(page, username):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


@pytest.mark.parametrize("size", [(390, 844), (1280, 800)], ids=["phone", "desktop"])
def test_bob_likes_alices_photo_and_her_badge_changes_live(page, size):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": size[0], "height": size[1]})
    alice = UserFactory(username="alice", display_name="Alice")
    bob = UserFactory(username="bob", display_name="Bob")
    follow(bob, alice)
    photo = make_post(alice, caption="Lake at dawn")
    log_in(page, "alice")
    badge = page.locator("[data-notifications-badge]").first
    assert badge.is_hidden()
    page.wait_for_function("() => document.documentElement.dataset.realtime === 'connected'")

    like_in_another_thread(bob, photo)

    page.wait_for_function(
        "() => document.querySelector('[data-notifications-badge]').dataset.count === '1'",
        timeout=10_000,
    )
    assert badge.is_visible()
    assert page.title().startswith("(1) ")
    page.screenshot(path=str(SHOTS / f"notifications-badge-{size[0]}.png"))

    page.locator("a", has=page.locator("[data-notifications-badge]")).first.click()
    page.wait_for_url("**/notifications/")
    row = page.locator(".activity-row").first
    assert "bob liked your photo" in row.inner_text()
    loaded = row.locator("img.activity-thumb").evaluate(
        """img => img.complete ? img.naturalWidth > 0 : new Promise((resolve) => {
             img.addEventListener('load', () => resolve(true), {once: true});
             img.addEventListener('error', () => resolve(false), {once: true});
           })"""
    )
    assert loaded  # the photo's thumbnail, through the checked media URL
    page.screenshot(path=str(SHOTS / f"notifications-page-{size[0]}.png"), full_page=True)
    # seen: read, so the badge is empty on this page and the title lost its count
    assert page.locator("[data-notifications-badge]").first.is_hidden()
    assert not page.title().startswith("(")
    # nothing overflows sideways on a phone
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.console_errors == []
