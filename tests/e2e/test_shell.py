"""The app shell in a real Chromium, on a phone (390×844) and a desktop (1280×900): every
place one or two taps from the bar, live badges, presence between two browsers, the
connection badge through a frozen and a restarted server, double-tap like, sharp images
never drawn larger than their rendition, the offline page, and an axe-core check of the
main pages in both colour schemes. Screenshots of the main pages land in var/screenshots/.
"""

import json
import signal
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from accounts.models import Follow
from messaging import services as messaging
from posts.models import Like
from tests.e2e.test_chat import off_the_browser_loop
from tests.factories import CircleFactory, CircleInviteFactory, FollowRequestFactory, UserFactory
from tests.posts.conftest import jpeg_upload, make_post
from tests.servers import ROOT, free_port, redis_server, uvicorn_server

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
SCREENSHOTS = ROOT / "var" / "screenshots"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"  # axe-core 4.14.1 (npm), MPL-2.0


def open_as(browser, base_url, user, size="phone", **options):
    """A page in a new browser context signed in as user (None: anonymous)."""
    context = browser.new_context(base_url=base_url, viewport=SIZES[size], **options)
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}]
        )
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    return page


def shoot(page, name):
    page.wait_for_load_state("networkidle")  # the badges have arrived
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png")


@pytest.fixture
def world(db):
    """Dana and Eli follow each other and share a conversation; Eli posted two photos;
    a follow request and a circle invitation wait for Dana (made directly: no
    notifications)."""
    dana = UserFactory(username="dana", display_name="Dana")
    eli = UserFactory(username="eli", display_name="Eli")
    Follow.objects.create(follower=dana, following=eli)
    Follow.objects.create(follower=eli, following=dana)
    FollowRequestFactory(requester=UserFactory(username="fay"), target=dana)
    CircleInviteFactory(invitee=dana, circle=CircleFactory(name="Climbers"))
    files = [jpeg_upload("wide.jpg", (1600, 1200)), jpeg_upload("tall.jpg", (900, 1200))]
    post = make_post(eli, files=files, caption="Two photos #shell")
    conversation = off_the_browser_loop(
        lambda: messaging.conversation_start(creator=dana, usernames=["eli"])[0]
    )
    return {"dana": dana, "eli": eli, "post": post, "conversation": conversation}


def eli_writes(world, text):
    off_the_browser_loop(
        lambda: messaging.message_send(
            sender=world["eli"],
            conversation_id=world["conversation"].pk,
            client_id=f"c-{time.monotonic_ns()}",
            content=text,
        )
    )


# --- every place from the bar -------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_every_place_is_one_or_two_taps_from_the_bar(browser, live_server_url, world, size):
    page = open_as(browser, live_server_url, world["dana"], size)
    page.goto("/")
    bar = page.get_by_role("navigation", name="Main")
    expect(bar).to_be_visible()
    if size == "phone":  # a bottom tab bar, one row of icons, no text wrapping
        box = bar.bounding_box()
        assert box["y"] + box["height"] == pytest.approx(844, abs=1) and box["height"] < 70
    shoot(page, f"{size}-home")

    tabs = {"Home": "/", "Search": "/explore/", "New post": "/p/new/", "Messages": "/direct/"}
    tabs["Profile"] = "/dana/"
    for name, path in tabs.items():
        bar.get_by_role("link", name=name).click()
        page.wait_for_url(f"**{path}")
        expect(bar.get_by_role("link", name=name)).to_have_attribute("aria-current", "page")
        shoot(page, f"{size}-{name.lower().replace(' ', '-')}")

    menu_places = {
        "More": {
            "Follow requests": "/accounts/requests/",
            "Circle invitations": "/circles/invites/",
            "Saved": "/saved/",
            "Circles": "/circles/",
            "Settings": "/accounts/settings/",
            "Password": "/accounts/password/",
            "Blocked accounts": "/accounts/blocked/",
        },
    }
    page.get_by_role("link", name="Activity").click()  # the bell: the activity page
    page.wait_for_url("**/notifications/")
    for menu, places in menu_places.items():
        for name, path in places.items():
            page.locator("summary", has_text=menu).click()
            page.locator("details[open] .menu-list").get_by_role("link", name=name).click()
            page.wait_for_url(f"**{path}")
    shoot(page, f"{size}-saved-from-menu")

    # the profile: Saved as a tab, Circles, and a Message button on Eli's
    page.goto("/dana/")
    page.get_by_role("navigation", name="Your profile").get_by_role("link", name="Saved").click()
    page.wait_for_url("**/saved/")
    shoot(page, f"{size}-saved")
    page.goto("/eli/")
    page.get_by_role("button", name="Message").click()
    page.wait_for_url(f"**/direct/{world['conversation'].pk}/")
    expect(page.locator("[data-connection-state]")).to_have_text("connected")
    shoot(page, f"{size}-conversation")
    page.goto(f"/p/{world['post'].pk}/")
    shoot(page, f"{size}-post")
    page.goto("/fay/")  # no mutual follow, no shared circle: no Message button
    expect(page.get_by_role("heading", name="fay", exact=False)).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("button", name="Message").count() == 0
    assert page.console_errors == []


def test_menus_work_with_the_keyboard(browser, live_server_url, world):
    page = open_as(browser, live_server_url, world["dana"], "desktop")
    page.goto("/")
    more = page.locator("summary", has_text="More")
    more.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Settings")).to_be_visible()
    # a visible focus ring on the next control
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Escape")
    expect(page.get_by_role("link", name="Settings")).to_be_hidden()
    assert page.evaluate("document.activeElement.textContent.trim()") == "More"


# --- live badges and presence ---------------------------------------------------------------


def test_badges_change_live_and_show_in_the_title(browser, live_server_url, world):
    page = open_as(browser, live_server_url, world["dana"])
    page.goto("/")
    activity = page.locator("#badge-activity")
    messages = page.locator("#badge-messages")
    expect(activity).to_have_attribute("data-count", "0")  # no notifications yet
    expect(activity).to_be_hidden()
    expect(messages).to_be_hidden()
    expect(page.locator("#badge-requests")).to_have_text("1 waiting")  # in the menu
    expect(page).to_have_title("Home · Circles")
    page.wait_for_function("() => document.querySelector('[data-badges-url]') !== null")
    page.wait_for_timeout(500)  # the socket is open (the badges module started it)

    eli_writes(world, "Are you up?")
    expect(messages).to_have_attribute("data-count", "1")
    expect(messages).to_be_visible()
    expect(page).to_have_title("(1) Home · Circles")
    eli_writes(world, "Hello?")  # the same conversation: still one unread conversation
    page.wait_for_timeout(600)
    expect(messages).to_have_attribute("data-count", "1")

    # read elsewhere (another tab): the badge here follows
    other = open_as(browser, live_server_url, world["dana"])
    other.goto(f"/direct/{world['conversation'].pk}/")
    expect(other.locator(".msg .msg-text").last).to_have_text("Hello?")
    expect(messages).to_be_hidden()
    expect(page).to_have_title("Home · Circles")
    assert page.console_errors == [] and other.console_errors == []


def test_presence_between_two_browsers(browser, live_server_url, world):
    dana = open_as(browser, live_server_url, world["dana"])
    dana.goto(f"/direct/{world['conversation'].pk}/")
    expect(dana.locator("[data-connection-state]")).to_have_text("connected")
    dot = dana.locator(f'[data-presence="{world["eli"].pk}"]')
    expect(dot).to_have_attribute("aria-label", "Offline")

    eli = open_as(browser, live_server_url, world["eli"])
    eli.goto("/explore/")  # any page of the site counts, not only a conversation
    expect(dot).to_have_attribute("aria-label", "Online", timeout=5000)
    eli.goto("/")  # moving between pages is not going away
    dana.wait_for_timeout(3500)
    expect(dot).to_have_attribute("aria-label", "Online")
    eli.context.close()
    expect(dot).to_have_attribute("aria-label", "Offline", timeout=5000)


# --- the connection badge -------------------------------------------------------------------


def test_connection_badge_follows_a_frozen_then_restarted_server(browser, world, tmp_path):
    port = free_port()
    processes = []
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 (closed below)
    server = uvicorn_server(port=port, log=log, process=processes, LOG_LEVEL="INFO")
    base = server.__enter__()
    try:
        page = open_as(browser, base, world["dana"])
        page.goto(f"/direct/{world['conversation'].pk}/")
        state = page.locator("[data-connection-state]")
        retry = page.get_by_role("button", name="Retry")
        expect(state).to_have_text("connected")

        # frozen: the socket stays open but nothing answers; the heartbeat notices
        processes[0].send_signal(signal.SIGSTOP)
        frozen_at = time.monotonic()
        expect(state).to_have_text("disconnected", timeout=10_000)
        assert time.monotonic() - frozen_at < 10
        expect(retry).to_be_visible()
        processes[0].send_signal(signal.SIGCONT)
        expect(state).to_have_text("connected", timeout=20_000)  # by itself, with backoff
        expect(retry).to_be_hidden()

        # stopped, then started again on the same port
        server.__exit__(None, None, None)
        server = None
        expect(state).to_have_text("disconnected", timeout=10_000)
        with uvicorn_server(port=port, log=log, LOG_LEVEL="INFO"):
            expect(state).to_have_text("connected", timeout=20_000)
            page.locator("textarea").fill("Back again")
            page.locator("textarea").press("Enter")
            expect(page.locator(".msg.mine [data-status]").last).to_have_text("Sent")
        page.context.close()
    finally:
        if server is not None:
            server.__exit__(None, None, None)
        log.close()
    logged = (tmp_path / "server.log").read_text()
    assert "Traceback" not in logged and "ERROR" not in logged, logged


@pytest.mark.parametrize("layer", ["core", "pubsub"])
def test_the_page_reconnects_by_itself_after_redis_comes_back(browser, world, tmp_path, layer):
    """A redis-server of the test's own (never the shared one) behind a uvicorn of its own,
    on either channel layer: when it stops, the server closes the page's socket with 1011
    and the page retries with backoff; when it is back, the page is connected again by
    itself."""
    with (
        redis_server() as redis,
        open(tmp_path / "server.log", "w") as log,
        uvicorn_server(REDIS_URL=redis.url, CHANNEL_LAYER=layer, log=log) as base,
    ):
        page = open_as(browser, base, world["dana"])
        page.goto(f"/direct/{world['conversation'].pk}/")
        state = page.locator("[data-connection-state]")
        expect(state).to_have_text("connected")
        redis.stop()
        expect(state).to_have_text("disconnected", timeout=10_000)
        closes = "(document.documentElement.dataset.realtimeCloses ?? '').split(' ')"
        page.wait_for_function(f"() => {closes}.includes('1011')", timeout=10_000)
        redis.start()
        expect(state).to_have_text("connected", timeout=20_000)
        page.context.close()
    logged = (tmp_path / "server.log").read_text()
    assert "Traceback" not in logged and "channel layer lost" in logged, logged


def test_the_badge_says_disconnected_when_the_network_goes(browser, live_server_url, world):
    page = open_as(browser, live_server_url, world["dana"])
    page.goto("/direct/")
    state = page.locator("[data-connection-state]")
    expect(state).to_have_text("connected")
    page.context.set_offline(True)
    expect(state).to_have_text("disconnected", timeout=10_000)
    page.context.set_offline(False)
    expect(state).to_have_text("connected", timeout=20_000)


# --- the post page ------------------------------------------------------------------------


def test_double_tap_likes_with_a_heart_and_comments_count(browser, live_server_url, world):
    page = open_as(browser, live_server_url, world["dana"])
    post = world["post"]
    page.goto(f"/p/{post.pk}/")
    like = page.get_by_role("button", name="Like")
    expect(like).to_have_attribute("aria-pressed", "false")
    page.locator(".carousel-slide img").first.dblclick()
    expect(page.locator("[data-like-burst]")).to_have_count(1)
    expect(page.get_by_role("button", name="Like")).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".like-toggle [data-count]")).to_have_text("1")
    deadline = time.monotonic() + 5
    while not Like.objects.filter(post=post, user=world["dana"]).exists():
        assert time.monotonic() < deadline, "the like was not stored"
        time.sleep(0.1)
    page.wait_for_timeout(1000)
    page.locator(".carousel-slide img").first.dblclick()  # liked already: stays liked
    page.wait_for_timeout(800)
    expect(page.get_by_role("button", name="Like")).to_have_attribute("aria-pressed", "true")
    assert Like.objects.filter(post=post).count() == 1

    expect(page.locator("#comment-count")).to_have_text("0")
    page.get_by_label("Add a comment").fill("Lovely light")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.locator("#comments-list .comment-body").first).to_contain_text("Lovely light")
    expect(page.locator("#comment-count")).to_have_text("1")
    assert page.console_errors == []


@pytest.mark.parametrize("size", SIZES)
def test_the_desktop_post_page_has_the_photo_beside_the_comments(
    browser, live_server_url, world, size
):
    page = open_as(browser, live_server_url, world["dana"], size)
    page.goto(f"/p/{world['post'].pk}/")
    photo = page.locator(".post-media").bounding_box()
    comments = page.locator(".comments").bounding_box()
    if size == "desktop":
        assert comments["x"] >= photo["x"] + photo["width"] - 1  # beside
        assert comments["y"] < photo["y"] + photo["height"]
    else:
        assert comments["y"] >= photo["y"] + photo["height"] - 1  # below
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]


# Each <img>'s file against the box it is drawn in: how much larger than its pixels the
# browser draws it (object-fit cover fills the box, contain fits inside it).
DRAWN_SCALE = """async (img) => {
  const file = new Image();
  file.src = img.currentSrc;
  await file.decode();
  const box = img.getBoundingClientRect();
  const fit = getComputedStyle(img).objectFit;
  const sx = box.width / file.naturalWidth, sy = box.height / file.naturalHeight;
  const scale = fit === "contain" ? Math.min(sx, sy) : Math.max(sx, sy);  // cover, fill
  return {src: img.currentSrc, scale: scale * devicePixelRatio};
}"""


@pytest.mark.parametrize("size", SIZES)
def test_no_image_is_drawn_larger_than_its_rendition(browser, live_server_url, world, size):
    page = open_as(browser, live_server_url, world["dana"], size)
    # grid cells are small on phones (thumbnails) and large on desktops (not thumbnails);
    # first, before a larger rendition is in the cache (the browser would reuse it)
    page.goto("/eli/")
    src = page.locator(".post-grid img").first.evaluate("img => img.currentSrc")
    assert ("/thumbnail." in src) == (size == "phone"), src
    checked = []
    for path in ("/eli/", "/", f"/p/{world['post'].pk}/", "/explore/"):
        page.goto(path)
        images = page.locator("main img")
        for i in range(images.count()):
            image = images.nth(i)
            image.scroll_into_view_if_needed()
            image.evaluate(
                "img => img.complete && img.naturalWidth || new Promise(r => img.onload = r)"
            )
            drawn = image.evaluate(DRAWN_SCALE)
            assert drawn["scale"] <= 1.01, (path, drawn)
            checked.append(drawn["src"])
    assert len(checked) >= 5


# --- installable, offline -----------------------------------------------------------------


def test_installable_and_offline_page(browser, live_server_url, world):
    page = open_as(browser, live_server_url, world["dana"])
    page.goto("/")
    manifest_url = page.locator("link[rel=manifest]").get_attribute("href")
    manifest = json.loads(page.request.get(manifest_url).text())
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    for icon in manifest["icons"]:
        assert page.request.get(icon["src"]).headers["content-type"] == "image/png"
    assert page.request.get("/favicon.ico").ok
    assert page.locator('meta[name="theme-color"]').count() == 2
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now controlled by the worker
    page.context.set_offline(True)
    page.goto("/explore/")
    expect(page.get_by_role("heading", name="You're offline")).to_be_visible()
    page.context.set_offline(False)
    page.get_by_role("link", name="Try again").click()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()


# --- accessibility --------------------------------------------------------------------------


def axe_violations(page) -> list[str]:
    # evaluated by the test's driver, not added as a <script>: the page's CSP refuses
    # inline scripts, this one included
    page.evaluate(AXE.read_text())
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", SIZES)
def test_main_pages_have_no_serious_accessibility_violations(
    browser, live_server_url, world, size, scheme
):
    eli_writes(world, "Hi Dana")  # an unread badge and a message in the conversation
    post = world["post"]
    pages = [
        "/", "/explore/", "/search/?q=el", "/p/new/", "/direct/",
        f"/direct/{world['conversation'].pk}/", "/dana/", "/eli/", f"/p/{post.pk}/",
        "/saved/", "/circles/", "/accounts/requests/", "/accounts/settings/",
        "/accounts/two-factor/",
    ]  # fmt: skip
    found = {}
    page = open_as(browser, live_server_url, world["dana"], size, color_scheme=scheme)
    for path in pages:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        if violations := axe_violations(page):
            found[path] = violations
    anonymous = open_as(browser, live_server_url, None, size, color_scheme=scheme)
    for path in ("/", "/accounts/login/", "/accounts/register/", f"/p/{post.pk}/"):
        anonymous.goto(path)
        if violations := axe_violations(anonymous):
            found[f"{path} (signed out)"] = violations
    if scheme == "dark":
        page.goto("/")
        shoot(page, f"{size}-home-dark")
    assert found == {}
