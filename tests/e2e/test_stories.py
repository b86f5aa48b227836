"""Stories in a real Chromium with a real Celery worker: one person posts a story through
the picker; another opens the tray, watches the viewer move on by itself to the next
person's story, goes back with the keyboard, and replies. Screenshots of the tray and the
viewer, phone and desktop, go to var/screenshots/."""

import time

import pytest
from playwright.sync_api import expect

from accounts import services as accounts
from media.models import ImageState
from messaging.models import Message
from stories.models import Story
from tests.e2e.test_feed import log_in
from tests.factories import UserFactory
from tests.posts.conftest import jpeg_bytes
from tests.servers import celery_worker
from tests.stories.conftest import make_story

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e, pytest.mark.slow]

SHOTS = "var/screenshots"


def befriend(a, b):
    accounts.follow_create(follower=a, target=b)
    accounts.follow_create(follower=b, target=a)


def wait_ready(story_filter, timeout=40):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        story = Story.objects.filter(**story_filter).select_related("image").first()
        if story and story.image.state == ImageState.READY:
            return story
        time.sleep(0.3)
    raise AssertionError("the story's photo was not processed in time")


def test_post_a_story_then_watch_the_tray_auto_advance_and_reply(page, browser, live_server_url):
    pia = UserFactory(username="pia", display_name="Pia")
    quinn = UserFactory(username="quinn", display_name="Quinn")
    vic = UserFactory(username="vic", display_name="Vic")
    befriend(vic, pia)
    befriend(vic, quinn)
    older = make_story(quinn)  # quinn's story is older: pia's comes first in vic's tray

    # pia posts a story through the picker, with a real worker processing the photo
    log_in(page, "pia")
    page.get_by_role("link", name="Add to your story").first.click()
    page.wait_for_url("**/stories/new/")
    page.get_by_label("Photo").set_input_files(
        files=[
            {
                "name": "sky.jpg",
                "mimeType": "image/jpeg",
                "buffer": jpeg_bytes((540, 960), (40, 110, 200)),
            }
        ]
    )
    expect(page.locator("[data-preview]")).to_be_visible()
    page.get_by_label("Your followers").check()
    with celery_worker():
        page.get_by_role("button", name="Share to your story").click()
        page.wait_for_url(f"{live_server_url}/")
        mine = wait_ready({"author": pia})
    expect(page.get_by_role("link", name="Your story, 1 active")).to_be_visible()
    assert page.console_errors == []

    # vic opens the tray: pia first (newest, unseen), then quinn
    viewer = browser.new_context(base_url=live_server_url, viewport={"width": 390, "height": 844})
    vpage = viewer.new_page()
    errors = []
    vpage.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(vpage, "vic")
    rings = vpage.locator("[data-story-person]")
    expect(rings).to_have_count(2)
    assert rings.evaluate_all("rs => rs.map((r) => r.dataset.storyPerson)") == ["pia", "quinn"]
    expect(rings.first).to_have_class("story-ring unseen")
    vpage.locator(".story-tray").screenshot(path=f"{SHOTS}/stories-tray-phone.png")
    vpage.screenshot(path=f"{SHOTS}/stories-home-phone.png")

    rings.first.click()
    vpage.wait_for_url(f"**/stories/{mine.pk}/")
    photo = vpage.locator("[data-media] img")
    expect(photo).to_be_visible()
    photo.evaluate("img => img.decode()")  # rejects if its bytes did not load
    expect(vpage.locator(".story-segment")).to_have_count(1)
    vpage.screenshot(path=f"{SHOTS}/stories-viewer-phone.png")

    # replying pauses the clock; the reply is a direct message that refers to the story
    reply = vpage.get_by_label("Reply to Pia")
    reply.fill("What a sky!")
    vpage.get_by_role("button", name="Send").click()
    expect(vpage.locator("[data-status]")).to_have_text("Reply sent.")
    message = Message.objects.get(sender=vic)
    assert message.story_id == mine.pk and message.content == "What a sky!"
    assert message.conversation.kind == "direct"

    # on by itself after 5 s, to the next person's story
    vpage.locator("[data-frame]").click(position={"x": 200, "y": 10})  # off the input
    vpage.wait_for_url(f"**/stories/{older.pk}/", timeout=15_000)
    expect(vpage.locator("[data-author]")).to_have_text("Quinn")
    # ← goes back to pia's story; Esc closes the viewer
    vpage.keyboard.press("ArrowLeft")
    vpage.wait_for_url(f"**/stories/{mine.pk}/")
    vpage.keyboard.press("Escape")
    vpage.wait_for_url(f"{live_server_url}/")
    expect(vpage.locator("[data-story-person]").first).to_have_class("story-ring seen")
    assert errors == []

    # pia sees who viewed it, and the reply with the story in her chat
    page.goto(f"/stories/{mine.pk}/")
    expect(page.locator("[data-seen-by]")).to_have_text("Seen by 1")
    page.locator("[data-seen-by]").click()
    expect(page.locator("[data-sheet-list]")).to_contain_text("Vic")
    page.keyboard.press("Escape")
    page.goto(f"/direct/{message.conversation_id}/")
    story_thumb = page.locator(".msg-story img")
    expect(story_thumb).to_have_count(1)
    story_thumb.evaluate("img => img.decode()")
    page.screenshot(path=f"{SHOTS}/stories-reply-in-chat-phone.png")
    viewer.close()


def test_viewer_on_a_desktop_is_a_centred_frame(browser, live_server_url):
    ada, ben = UserFactory(username="ada", display_name="Ada"), UserFactory(username="ben")
    befriend(ada, ben)
    first, second = make_story(ben), make_story(ben)
    context = browser.new_context(base_url=live_server_url, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    log_in(page, "ada")
    page.locator(".story-tray").screenshot(path=f"{SHOTS}/stories-tray-desktop.png")
    page.locator("[data-story-person]").first.click()
    page.wait_for_url(f"**/stories/{first.pk}/")
    frame = page.locator("[data-frame]").bounding_box()
    assert abs(frame["width"] / frame["height"] - 9 / 16) < 0.02
    assert abs(frame["x"] + frame["width"] / 2 - 640) < 2  # centred
    expect(page.locator(".story-segment")).to_have_count(2)
    page.locator("[data-media] img").evaluate("img => img.decode()")
    page.screenshot(path=f"{SHOTS}/stories-viewer-desktop.png")
    page.keyboard.press(" ")  # pause: nothing moves on while paused
    expect(page.locator("[data-pause]")).to_have_attribute("aria-pressed", "true")
    page.wait_for_timeout(6_000)
    assert page.url.endswith(f"/stories/{first.pk}/")
    page.keyboard.press("ArrowRight")
    page.wait_for_url(f"**/stories/{second.pk}/")
    context.close()


def test_press_and_hold_pauses_and_a_swipe_down_closes_on_a_touch_screen(browser, live_server_url):
    """Real touch input (Chromium's touch events through CDP, as a phone's finger): holding
    the frame stops the progress bar and does not count as a tap; letting go resumes it;
    a downward swipe closes the viewer."""
    ada, ben = UserFactory(username="ada", display_name="Ada"), UserFactory(username="ben")
    befriend(ada, ben)
    first, _ = make_story(ben), make_story(ben)
    context = browser.new_context(
        base_url=live_server_url,
        viewport={"width": 390, "height": 844},
        has_touch=True,
        is_mobile=True,
    )
    page = context.new_page()
    log_in(page, "ada")
    page.goto(f"/stories/{first.pk}/")
    page.locator("[data-media] img").evaluate("img => img.decode()")
    touch = context.new_cdp_session(page)
    box = page.locator("[data-frame]").bounding_box()
    x, y = box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2

    def finger(kind, at_y=y):
        points = [] if kind == "touchEnd" else [{"x": x, "y": at_y}]
        touch.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    def progress() -> float:
        width = (
            page.locator(".story-segment").first.locator("> *").evaluate("bar => bar.style.width")
        )
        return float(width.rstrip("%") or 0)

    finger("touchStart")
    page.wait_for_timeout(500)  # past the hold threshold (200 ms)
    held = progress()
    page.wait_for_timeout(1_500)
    assert progress() == held < 100  # paused while the finger stays down
    finger("touchEnd")
    page.wait_for_timeout(700)
    assert progress() > held  # running again
    assert page.url.endswith(f"/stories/{first.pk}/")  # a hold is not a tap: still here

    finger("touchStart", y - 150)
    for step in (-100, -20, 60):
        finger("touchMove", y + step)
    finger("touchEnd")
    page.wait_for_url(f"{live_server_url}/")
    context.close()
