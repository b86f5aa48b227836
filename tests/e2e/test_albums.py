"""A circle's shared album in real Chromium with a real Celery worker: a circle is made,
a friend invited accepts, both upload photos into one album, one reorders them by
dragging and sets a 2:3 cover, and the other sees the new order and cover. Saves
screenshots of the circle space and the album page on a phone and a desktop."""

import io

import pytest
from PIL import Image as PILImage
from playwright.sync_api import expect

from accounts.models import Follow
from albums.models import Album, AlbumItem
from tests.e2e.test_chat import signed_in_page
from tests.factories import UserFactory
from tests.servers import celery_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e, pytest.mark.slow]

SHOTS = "var/screenshots"


def _jpeg(color, size=(900, 600)) -> dict:
    buffer = io.BytesIO()
    PILImage.new("RGB", size, color).save(buffer, "JPEG", quality=85)
    return {"name": f"photo-{color[0]}.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def _order(page) -> list[str]:
    return page.locator("[data-items] [data-item]").evaluate_all(
        "els => els.map(e => e.dataset.item)"
    )


def _upload(page, files):
    page.locator("#album-files").set_input_files(files=files)
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("[data-upload-list] li")).to_have_count(len(files))
    # the page reloads by itself once every photo is ready
    expect(page.locator("[data-items] [data-item][data-state=ready]")).not_to_have_count(
        0, timeout=60_000
    )


def test_two_friends_share_an_album(browser, live_server_url):
    gia = UserFactory(username="gia", display_name="Gia")
    hal = UserFactory(username="hal", display_name="Hal")
    Follow.objects.create(follower=gia, following=hal)
    Follow.objects.create(follower=hal, following=gia)
    gia_context, gia_page = signed_in_page(browser, live_server_url, gia)
    hal_context, hal_page = signed_in_page(browser, live_server_url, hal)
    try:
        # Gia makes a circle and invites Hal, who accepts
        gia_page.goto("/circles/")
        gia_page.get_by_label("Name").fill("Beach crew")
        gia_page.get_by_role("button", name="Create circle").click()
        expect(gia_page.locator("h1")).to_have_text("Beach crew")
        gia_page.locator("#invite_username").fill("hal")
        gia_page.get_by_role("button", name="Invite", exact=True).click()
        hal_page.goto("/circles/invites/")
        hal_page.get_by_role("button", name="Join Beach crew").click()
        expect(hal_page.locator("h1")).to_have_text("Beach crew")

        # Gia starts an album from the circle page
        gia_page.reload()
        gia_page.locator(".album-new summary").click()
        gia_page.locator("#album_title").fill("Summer 2026")
        gia_page.get_by_role("button", name="Create album").click()
        expect(gia_page.locator("h1")).to_have_text("Summer 2026")
        album = Album.objects.get()

        with celery_worker():
            _upload(gia_page, [_jpeg((220, 40, 40)), _jpeg((40, 200, 60))])
            expect(gia_page.locator("[data-items] [data-state=ready]")).to_have_count(2)
            hal_page.goto(f"/albums/{album.pk}/")
            _upload(hal_page, [_jpeg((40, 60, 220))])
            expect(hal_page.locator("[data-items] [data-state=ready]")).to_have_count(3)

        # Gia drags the last photo (Hal's) to the front
        gia_page.reload()
        before = _order(gia_page)
        assert len(before) == 3
        handle = gia_page.locator(f"[data-item='{before[2]}'] [data-drag]")
        target = gia_page.locator(f"[data-item='{before[0]}'] .item-open")
        handle.hover()
        gia_page.mouse.down()
        box = target.bounding_box()
        gia_page.mouse.move(box["x"] + 5, box["y"] + 5, steps=8)
        gia_page.mouse.up()
        expected = [before[2], before[0], before[1]]
        expect(gia_page.locator("#reorder-status")).to_contain_text("position 1")
        assert _order(gia_page) == expected
        assert [
            str(i) for i in AlbumItem.objects.order_by("position").values_list("pk", flat=True)
        ] == expected

        # and by keyboard: photo 3 one step earlier
        gia_page.locator(f"[data-item='{before[1]}'] [data-move=earlier]").focus()
        gia_page.keyboard.press("Enter")
        expect(gia_page.locator("#reorder-status")).to_contain_text("position 2")
        expected = [before[2], before[1], before[0]]
        assert _order(gia_page) == expected

        # a 2:3 cover from Hal's photo, the box moved a little by keyboard
        gia_page.locator(f"[data-item='{before[2]}'] [data-cover-pick]").click()
        gia_page.get_by_label("2:3").check()
        gia_page.locator("[data-crop-box]").press("ArrowRight")
        gia_page.get_by_role("button", name="Save cover").click()
        expect(gia_page.locator(".album-head .album-cover")).to_have_attribute(
            "data-cover-aspect", "2:3"
        )
        album.refresh_from_db()
        assert album.cover_aspect == "2:3" and str(album.cover_item_id) == before[2]
        crop = album.cover_crop
        assert abs((crop["width"] * 900) / (crop["height"] * 600) - 2 / 3) < 0.02
        assert crop["x"] > 0

        # Hal sees the new order and the cover
        hal_page.goto(f"/albums/{album.pk}/")
        assert _order(hal_page) == expected
        cover = hal_page.locator(".album-head .album-cover img")
        expect(cover).to_be_visible()
        cover.evaluate("img => img.decode()")
        assert cover.evaluate("img => img.naturalWidth") > 0

        # the viewer: open, arrow to the next photo, close
        hal_page.locator("[data-open]").first.click()
        expect(hal_page.locator("[data-viewer-caption]")).to_contain_text("1 / 3")
        hal_page.keyboard.press("ArrowRight")
        expect(hal_page.locator("[data-viewer-caption]")).to_contain_text("2 / 3 · Added by @gia")
        hal_page.screenshot(path=f"{SHOTS}/album-viewer-phone.png")
        hal_page.keyboard.press("Escape")

        # screenshots: the circle space and the album, phone then desktop
        for page, size, name in ((hal_page, None, "phone"), (gia_page, (1280, 900), "desktop")):
            if size:
                page.set_viewport_size({"width": size[0], "height": size[1]})
            page.goto(f"/albums/{album.pk}/")
            page.screenshot(path=f"{SHOTS}/album-{name}.png", full_page=True)
            page.goto(f"/circles/{album.circle_id}/")
            expect(page.locator("#space-albums .album-card")).to_have_count(1)
            expect(page.locator("#space-chat")).to_be_visible()
            page.screenshot(path=f"{SHOTS}/circle-space-{name}.png", full_page=True)
        assert gia_page.console_errors == [] and hal_page.console_errors == []
    finally:
        gia_context.close()
        hal_context.close()
