"""The operators' stats page in a real Chromium, phone and desktop: reached from the admin
index, every figure and chart drawn, nothing blocked by the CSP, nothing wider than the
screen. Screenshots land in var/screenshots/."""

import pytest

from tests.e2e.test_shell import SIZES, open_as, shoot
from tests.factories import UserFactory
from tests.staff.conftest import build_world

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


@pytest.mark.parametrize("size", list(SIZES))
def test_stats_page_from_the_admin_index(browser, live_server_url, size):
    build_world("1")
    operator = UserFactory(username="operator", is_staff=True)
    page = open_as(browser, live_server_url, operator, size=size)
    page.goto("/admin/")
    page.get_by_role("link", name="Stats").click()
    page.wait_for_url("**/admin/stats/")
    assert page.locator("#people-total").inner_text() == "4"
    assert page.locator("svg[role=img]").count() == 4
    assert page.locator("svg[role=img] rect").count() == 4 * 30
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    shoot(page, f"admin-stats-{size}")
    assert page.console_errors == []
