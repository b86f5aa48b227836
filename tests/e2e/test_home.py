"""A real Chromium against a live uvicorn server."""

import pytest

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def test_home_page_renders_without_console_errors(page):
    page.goto("/")
    assert page.title() == "Welcome · Circles"
    assert page.locator("h1").inner_text() == "Circles"
    # htmx is served locally and loaded
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.console_errors == []


def test_person_logs_in_and_sees_their_home(page):
    UserFactory(username="dana", display_name="Dana")
    page.goto("/")
    page.get_by_role("link", name="Log in").first.click()
    page.get_by_label("Username").fill("dana")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")
    assert "Hello, Dana" in page.locator("main").inner_text()
    page.locator("summary", has_text="More").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/")
    assert page.get_by_role("link", name="Log in").first.is_visible()
    assert page.console_errors == []


def test_layout_fits_a_phone_screen(page):
    page.goto("/accounts/login/")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 390  # no horizontal scrolling at phone width
