"""Accounts in a real Chromium: people register, one goes private, another asks to follow,
the first approves in the request inbox, and only the approved follower sees the photos."""

import re
import time

import pytest
from playwright.sync_api import expect

from accounts.models import Follow, FollowRequest, User
from posts.models import PostStatus
from tests.factories import DEFAULT_PASSWORD
from tests.posts.conftest import make_post

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

# resolves once an <img> has its pixels
LOADED = """img => img.complete && img.naturalWidth ? true
  : new Promise((resolve) => img.addEventListener('load', () => resolve(true), {once: true}))"""


@pytest.fixture
def open_page(browser, live_server_url):
    """open_page() -> a page in a browser context of its own (another person), collecting
    console errors like the `page` fixture."""
    contexts = []

    def make():
        context = browser.new_context(
            base_url=live_server_url, viewport={"width": 390, "height": 844}
        )
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
        page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
        return page

    yield make
    for context in contexts:
        context.close()


def register(page, username, display_name):
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Display name").fill(display_name)
    page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    page.get_by_label("Password again").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/")
    assert f"Welcome to Circles, {display_name}!" in page.locator("main").inner_text()


def test_private_account_follow_request_approved_then_follower_sees_photos(page, open_page):
    # Priya registers and makes her account private from her profile.
    register(page, "priya", "Priya")
    page.get_by_role("link", name="Profile", exact=True).click()
    page.wait_for_url("**/priya/")
    page.get_by_role("link", name="Edit profile").click()
    page.get_by_label("Bio").fill("Film photos & <b>friends</b>")
    page.get_by_label("Private account").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/priya/")
    assert page.get_by_text("Private", exact=True).is_visible()
    assert page.locator(".profile-bio").inner_text() == "Film photos & <b>friends</b>"
    assert User.objects.get(username="priya").is_private

    post = make_post(User.objects.get(username="priya"))  # processed synchronously
    assert post.status == PostStatus.PUBLISHED

    # Felix registers and asks to follow her: the button turns into "Requested" in place.
    felix = open_page()
    register(felix, "felix", "Felix")
    felix.goto("/priya/")
    assert felix.get_by_role("heading", name="This account is private").is_visible()
    assert felix.locator(".post-grid img").count() == 0
    felix.get_by_role("button", name="Follow @priya", exact=True).click()
    felix.get_by_role("button", name="Cancel request @priya", exact=True).wait_for()
    assert felix.locator(".follow-state").inner_text() == "Requested"
    assert FollowRequest.objects.filter(requester__username="felix").exists()

    # Priya sees the request waiting (the bell: a notification; the menu: the request)
    # and approves it in her inbox.
    page.goto("/")
    badge = page.locator("#badge-activity")  # the bell
    badge.wait_for()
    assert badge.inner_text().startswith("1")
    page.locator("summary", has_text="More").click()  # the menu
    # the menu's counts come with the badges request made after the page loads
    expect(page.locator("#badge-requests")).to_have_text(re.compile(r"^1"))
    page.get_by_role("link", name="Follow requests").click()
    page.wait_for_url("**/accounts/requests/")
    page.get_by_role("button", name="Approve @felix").click()
    page.get_by_text("Request approved").wait_for()
    assert Follow.objects.filter(follower__username="felix", following__username="priya").exists()

    # Felix now sees her photos.
    felix.reload()
    assert felix.locator(".follow-state").inner_text() == "Following"
    assert felix.get_by_role("heading", name="This account is private").count() == 0
    thumbnail = felix.locator(f'.post-grid a[href="/p/{post.pk}/"] img')
    thumbnail.wait_for()
    assert thumbnail.evaluate(LOADED)
    assert "/thumbnail." in thumbnail.evaluate("img => img.currentSrc")  # a phone's small cell

    # Quinn, who does not follow her, still sees only that the account is private.
    quinn = open_page()
    register(quinn, "quinn", "Quinn")
    quinn.goto("/priya/")
    assert quinn.get_by_role("heading", name="This account is private").is_visible()
    assert quinn.locator(".post-grid").count() == 0
    assert quinn.get_by_role("button", name="Follow @priya", exact=True).is_visible()

    for person in (page, felix, quinn):
        assert person.console_errors == []


def test_login_page_refuses_wrong_passwords_then_rate_limits(page):
    register(page, "rita", "Rita")
    page.locator("summary", has_text="More").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/")
    page.goto("/accounts/login/?next=https://evil.example/")

    def submit(password) -> int:
        """Log in and wait for this submission's own answer (the page before it shows the
        same alert, so waiting for the alert alone could race the navigation)."""
        page.get_by_label("Username").fill("rita")
        page.get_by_label("Password").fill(password)
        posted = lambda r: r.url.endswith("/accounts/login/") and r.request.method == "POST"  # noqa: E731
        with page.expect_response(posted) as answer:
            page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
        return answer.value.status

    # the sign-in limits count in fixed one-minute windows (circles.ratelimits): six
    # attempts straddling a window's end were counted in two, and the sixth got in (a
    # clean-clone run failed so). Start well inside one window.
    while 60 - time.time() % 60 < 20:
        time.sleep(1)
    for _ in range(5):
        assert submit("not-her-password") == 400
        page.get_by_role("alert").filter(has_text="Wrong username or password.").wait_for()
    assert submit(DEFAULT_PASSWORD) == 429  # the right password, too late
    page.get_by_role("alert").filter(has_text="Too many attempts").wait_for()
    # the username field is labelled and focusable, the error is announced
    assert page.get_by_label("Username").get_attribute("autocomplete") == "username"
