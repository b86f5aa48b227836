"""A chat photo in real Chromium, with a real Celery worker: the recipient sees
"Photo processing…" turn into the photo live, and the photo's bytes load for them."""

import pytest
from playwright.sync_api import expect

from tests.e2e.test_chat import chat, signed_in_page  # noqa: F401 - the fixture and helper
from tests.posts.conftest import jpeg_bytes
from tests.servers import celery_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e, pytest.mark.slow]


def test_the_recipient_sees_the_photo_live(chat):  # noqa: F811 - the fixture
    conversation, (dana, eli) = chat
    for page in (dana, eli):
        page.goto(f"/direct/{conversation.pk}/")
        expect(page.locator("[data-connection-state]")).to_have_text("connected")
    with celery_worker():
        dana.locator("[data-photo]").set_input_files(
            files=[{"name": "beach.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}]
        )
        dana.locator("textarea").fill("the beach")
        dana.get_by_role("button", name="Send").click()
        expect(eli.locator(".msg .msg-text").last).to_have_text("the beach")
        photo = eli.locator(".msg .msg-photo img")
        expect(photo).to_have_count(1, timeout=30_000)  # swapped in without a reload
    expect(eli.locator(".msg-photo-note")).to_have_count(0)
    photo.evaluate("img => img.decode()")  # rejects if the bytes did not load (a 404)
    assert photo.evaluate("img => img.naturalWidth") > 0
    expect(dana.locator(".msg .msg-photo img")).to_have_count(1)
    eli.screenshot(path="var/screenshots/chat-photo-phone.png")
    assert dana.console_errors == [] and eli.console_errors == []
