"""A person shares photos in a real Chromium: crop in the browser, per-photo progress, the
post page while processing, and a real Celery worker that publishes it."""

import os
import re

import pytest
from PIL import Image as PILImage

from media.models import Image
from posts.models import Post, PostStatus
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.servers import celery_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e, pytest.mark.slow]


# resolves once an <img> has its pixels (lazy ones load when scrolled into view)
LOADED = """img => img.complete && img.naturalWidth ? true
  : new Promise((resolve) => img.addEventListener('load', () => resolve(true), {once: true}))"""


def noisy_jpeg(path, size):
    """A photo-like JPEG: noise does not compress, so uploads take measurable time."""
    PILImage.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(path, quality=90)
    return str(path)


def log_in(page, username):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


def test_person_uploads_two_photos_and_sees_them_published(page, tmp_path):
    UserFactory(username="poster", display_name="Poster")  # the real hasher: a live login
    wide = noisy_jpeg(tmp_path / "wide.jpg", (1600, 1000))
    tall = noisy_jpeg(tmp_path / "tall.jpg", (800, 1200))
    log_in(page, "poster")

    page.goto("/p/new/")
    page.get_by_label("Photos", exact=True).set_input_files([wide, tall])
    page.get_by_role("group", name="Crop photo 1").get_by_label("1:1").check()
    page.get_by_label("Describe photo 1", exact=True).fill("A wide sunset, cropped square")
    page.get_by_label("Describe photo 2", exact=True).fill("A tall tower")
    page.get_by_label("Caption").fill("Two photos #e2e")
    assert page.locator("[data-counter]").inner_text() == "15 / 2,200"
    assert page.locator("[data-circle-field]").count() == 0  # poster is in no circle
    bars = page.get_by_role("progressbar")
    assert bars.count() == 2

    # Per-photo progress: watch every change of each bar; a slow upload link makes them visible.
    progress: list[tuple[str, int]] = []
    page.expose_function("recordProgress", lambda label, value: progress.append((label, value)))
    page.evaluate(
        """() => document.querySelectorAll('[role=progressbar]').forEach((bar) =>
             new MutationObserver(() => window.recordProgress(bar.getAttribute('aria-label'),
               Number(bar.getAttribute('aria-valuenow'))))
             .observe(bar, {attributes: true, attributeFilter: ['aria-valuenow']}))"""
    )
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    throttle = {"offline": False, "latency": 0, "downloadThroughput": -1}
    cdp.send("Network.emulateNetworkConditions", {**throttle, "uploadThroughput": 1024 * 1024})

    share = page.get_by_role("button", name="Share")
    share.dblclick()  # a double click shares once
    page.wait_for_url(re.compile(r"/p/[0-9a-f-]{36}/$"), timeout=30_000)
    cdp.send("Network.emulateNetworkConditions", {**throttle, "uploadThroughput": -1})

    latest = {"Upload of photo 1": 0, "Upload of photo 2": 0}
    first_done_while_second_running = False
    for label, value in progress:
        latest[label] = value
        if latest["Upload of photo 1"] == 100 and 0 < latest["Upload of photo 2"] < 100:
            first_done_while_second_running = True
    assert latest == {"Upload of photo 1": 100, "Upload of photo 2": 100}
    assert any(0 < value < 100 for _, value in progress), progress
    assert first_done_while_second_running, progress

    post = Post.objects.get()
    assert Post.objects.count() == 1 and post.status == PostStatus.PROCESSING
    status = page.get_by_role("status").filter(has_text="Processing 2 photos…")
    assert status.is_visible()

    # No worker yet: the tasks wait in Redis. Start one; the page turns by itself.
    with celery_worker():
        page.locator(".carousel img").first.wait_for(timeout=60_000)
    assert page.get_by_role("status").filter(has_text="Processing").count() == 0
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED

    square = page.get_by_role("img", name="A wide sunset, cropped square")
    square.evaluate(LOADED)
    natural = square.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert natural[0] == natural[1] > 0, natural
    assert square.get_attribute("width") == square.get_attribute("height") == "1000"
    stored = Image.objects.get(alt="A wide sunset, cropped square")
    assert stored.width == stored.height == 1000  # cropped in the browser, 1:1

    page.get_by_role("button", name="Next photo").click()
    tall_img = page.get_by_role("img", name="A tall tower")
    tall_img.evaluate(LOADED)
    width, height = tall_img.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert abs(width / height - 800 / 1200) < 0.01  # kept as it was
    assert "Two photos" in page.locator(".post-caption").inner_text()

    # like, save and comment without a reload (htmx, CSRF header from base.html)
    like = page.get_by_role("button", name="Like", exact=True)
    like.click()
    page.locator(".like-toggle [aria-pressed=true]").wait_for()
    assert page.locator(".like-toggle [data-count]").inner_text() == "1"
    page.get_by_role("button", name="Save").click()
    page.locator(".bookmark-toggle [aria-pressed=true]").wait_for()
    page.get_by_label("Add a comment").fill("What a view")
    page.get_by_role("button", name="Post", exact=True).click()
    page.locator("#comments-list .comment").filter(has_text="What a view").wait_for()
    assert page.get_by_label("Add a comment").input_value() == ""
    post.refresh_from_db()
    assert (post.like_count, post.comment_count, post.bookmarks.count()) == (1, 1, 1)
    assert page.console_errors == []


def test_upload_errors_show_in_place(page, tmp_path):
    UserFactory(username="sender", display_name="Sender")
    not_a_photo = tmp_path / "notes.jpg"
    not_a_photo.write_text("<html>not a photo</html>")
    log_in(page, "sender")
    page.goto("/p/new/")
    page.get_by_label("Photos", exact=True).set_input_files([str(not_a_photo)])
    page.get_by_role("button", name="Share").click()
    alert = page.locator("[data-form-errors]")
    alert.get_by_text("notes.jpg").wait_for()
    assert "Your post was not shared." in alert.inner_text()
    assert page.url.endswith("/p/new/")
    assert page.get_by_role("button", name="Share").is_enabled()
    assert Post.objects.count() == 0


def test_upload_works_without_javascript(browser, live_server_url, tmp_path):
    UserFactory(username="nojs", display_name="No JS")
    photo = noisy_jpeg(tmp_path / "photo.jpg", (400, 300))
    context = browser.new_context(base_url=live_server_url, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, "nojs")
        page.goto("/p/new/")
        page.get_by_label("Photos", exact=True).set_input_files([photo])
        page.get_by_text("Describe your photos").click()
        page.get_by_label("Describe photo 1", exact=True).fill("A plain photo")
        page.get_by_label("Caption").fill("Sent\nas a plain form")
        page.get_by_label("Who can see it").select_option("followers")
        page.get_by_role("button", name="Share").click()
        page.wait_for_url(re.compile(r"/p/[0-9a-f-]{36}/$"))
        assert "Processing 1 photo…" in page.locator("main").inner_text()
        post = Post.objects.get()
        assert (post.caption, post.visibility) == ("Sent\nas a plain form", "followers")
        assert post.images.get().alt == "A plain photo"
    finally:
        context.close()
