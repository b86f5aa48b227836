"""Download your data in a real Chromium with a real Celery worker: from settings the
person starts the export, watches its progress, downloads the ZIP, and its index.html
opens offline with every photo showing. Then they delete their account with their
password. Saves screenshots of the settings page on a phone and a desktop."""

import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import DataExport, User
from tests.e2e.test_accounts import LOADED
from tests.e2e.test_chat import signed_in_page
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.posts.conftest import jpeg_upload, make_post
from tests.servers import celery_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e, pytest.mark.slow]

SHOTS = "var/screenshots"


def test_download_your_data_then_delete_the_account(browser, live_server_url, tmp_path):
    ida = UserFactory(username="ida", display_name="Ida")
    make_post(ida, files=[jpeg_upload("one.jpg"), jpeg_upload("two.jpg")], caption="<b>hi</b>")
    context, page = signed_in_page(browser, live_server_url, ida)
    try:
        with celery_worker():
            page.goto("/accounts/settings/")
            page.get_by_role("button", name="Download your data").click()
            # htmx polls the box until the worker has built the ZIP
            download_link = page.get_by_role("link", name="Download ZIP")
            expect(download_link).to_be_visible(timeout=60_000)
            expect(page.locator("[data-export-state=ready]")).to_contain_text("2 photos")
            with page.expect_download() as waiting:
                download_link.click()
            saved = tmp_path / "export.zip"
            waiting.value.save_as(saved)
        assert waiting.value.suggested_filename.startswith("circles-ida-")
        with zipfile.ZipFile(saved) as archive:
            archive.extractall(tmp_path / "export")
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        for size, name in (((390, 844), "phone"), ((1280, 900), "desktop")):
            page.set_viewport_size({"width": size[0], "height": size[1]})
            page.goto("/accounts/settings/")
            page.screenshot(path=f"{SHOTS}/settings-your-data-{name}.png", full_page=True)

        # the index opens from disk with no network, and shows both photos and the caption
        context.set_offline(True)
        page.goto((tmp_path / "export" / "index.html").as_uri())
        photos = page.locator("img")
        expect(photos).to_have_count(2)
        for n in range(2):
            assert photos.nth(n).evaluate(LOADED)
            assert photos.nth(n).evaluate("img => img.naturalWidth") > 0
        expect(page.locator("body")).to_contain_text("<b>hi</b>")  # as text, not markup
        page.screenshot(path=f"{SHOTS}/export-index-desktop.png", full_page=True)
        context.set_offline(False)

        assert page.console_errors == []

        # leaving: the wrong password changes nothing (a 400 page); the right one signs out
        page.goto("/accounts/delete/")
        page.get_by_label("Your password").fill("not it")
        page.get_by_role("button", name="Delete my account").click()
        expect(page.get_by_role("alert")).to_have_text("That password is not right.")
        page.get_by_label("Your password").fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Delete my account").click()
        expect(page.get_by_role("heading", name="Your account is being deleted")).to_be_visible()
        assert not User.objects.get(pk=ida.pk).is_active
        assert DataExport.objects.filter(user=ida).count() == 1
    finally:
        context.close()
