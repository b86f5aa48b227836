"""Two-factor sign-in in a real Chromium: set it up from the settings (the QR code is
drawn by the server; the code is computed from the secret the page shows, as an
authenticator app would), see the recovery codes once, sign out, sign in with the
password and then a code. Screenshots of the set-up and the code page, phone and
desktop, go to var/screenshots/."""

import time
from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.e2e.test_feed import log_in
from tests.e2e.test_shell import axe_violations
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

SHOTS = "var/screenshots"


def app_code(secret: str, *, steps_ahead: int = 0) -> str:
    """What an authenticator app shows for a base32 secret (RFC 6238, 30 s, 6 digits)."""
    totp = TOTP(b32decode(secret.replace(" ", "")), step=30, digits=6)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def test_enrol_then_sign_in_with_password_and_code(page, browser, live_server_url):
    UserFactory(username="tova", display_name="Tova")
    log_in(page, "tova")
    page.goto("/accounts/settings/")
    page.get_by_role("link", name="Two-factor sign-in").click()
    page.wait_for_url("**/accounts/two-factor/")
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    page.wait_for_url("**/accounts/two-factor/setup/")

    qr = page.locator(".tf-qr svg")
    assert qr.is_visible() and qr.bounding_box()["width"] >= 150  # big enough to scan
    secret = page.locator("[data-secret]").inner_text()
    assert axe_violations(page) == []
    page.screenshot(path=f"{SHOTS}/two-factor-setup-phone.png", full_page=True)
    page.get_by_label("Code from the app").fill(app_code(secret))
    page.get_by_role("button", name="Turn on").click()

    codes = page.locator(".code-list code")
    codes.first.wait_for()
    assert codes.count() == 10
    recovery = codes.all_inner_texts()
    assert "Two-factor sign-in is on." in page.locator("main").inner_text()
    page.screenshot(path=f"{SHOTS}/two-factor-recovery-codes-phone.png", full_page=True)
    assert TOTPDevice.objects.get(user__username="tova").confirmed

    page.locator("summary", has_text="More").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/")

    # the password alone leads to the code page, signed out
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("tova")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/accounts/login/code/**")
    page.screenshot(path=f"{SHOTS}/two-factor-code-phone.png")
    assert axe_violations(page) == []
    page.goto("/accounts/settings/")
    assert "/accounts/login/" in page.url  # not signed in between the two steps
    log_in_with_code(page, "tova", app_code(secret, steps_ahead=1))  # the next code
    assert "Hello, Tova" in page.locator("main").inner_text()

    # her settings: two-factor on, and an invitation link made for a friend
    page.goto("/accounts/settings/")
    assert "Two-factor sign-in (on)" in page.locator("main").inner_text()
    page.get_by_label("Who is it for?").fill("For Sam")
    page.get_by_role("button", name="Create invitation link").click()
    link = page.get_by_label("Invitation link")
    link.wait_for()
    assert "/accounts/register/" in link.input_value()
    assert page.locator(".invitation-row", has_text="For Sam").is_visible()
    page.screenshot(path=f"{SHOTS}/settings-invitations-phone.png", full_page=True)
    assert page.console_errors == []

    # a desktop: a recovery code instead of the app's code, then the two-factor page
    desktop = browser.new_context(base_url=live_server_url, viewport={"width": 1280, "height": 900})
    other = desktop.new_page()
    log_in_with_code(other, "tova", recovery[0])
    other.goto("/accounts/two-factor/")
    assert "9 recovery codes left" in other.locator("main").inner_text()
    assert axe_violations(other) == []
    other.screenshot(path=f"{SHOTS}/two-factor-desktop.png", full_page=True)
    desktop.close()


def log_in_with_code(page, username, code):
    if "/accounts/login/code/" not in page.url:
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/accounts/login/code/**")
    page.get_by_role("textbox", name="Code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    # "**/" would match the code page itself, before the answer to the click has arrived
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
