"""Two-factor sign-in: enrolment with a server-drawn QR code, the sign-in's second step,
recovery codes, replays, wrong codes and their limit, API tokens and logins only after
the second factor, turning it off, and the staff requirement."""

import re
import time
from base64 import b32decode

import pytest
from django.contrib.auth import SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ApiToken
from accounts.services import api_token_create
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def code_for(device, *, steps_ahead=0) -> str:
    """The authenticator app's code, computed as the app does (RFC 6238)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def enrol(client) -> tuple[TOTPDevice, list[str]]:
    """Through the pages: start, read the secret shown, confirm with a code from it."""
    assert client.post("/accounts/two-factor/start/").status_code == 302
    page = client.get("/accounts/two-factor/setup/").content.decode()
    secret = re.search(r"data-secret>([A-Z2-7 ]+)<", page)[1].replace(" ", "")
    device = TOTPDevice.objects.get(confirmed=False)
    assert b32decode(secret) == device.bin_key  # the page shows the device's own key
    confirmed = client.post("/accounts/two-factor/setup/", {"otp_code": code_for(device)})
    assert confirmed.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", confirmed.content.decode())
    device.refresh_from_db()
    return device, codes


@pytest.fixture
def enrolled(client_for, user):
    """alice with two-factor sign-in on: (her device, her ten recovery codes)."""
    device, codes = enrol(client_for(user))
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)  # her enrolment code unused
    device.refresh_from_db()
    user.refresh_from_db()  # enrolment ended her other sessions (a new session epoch)
    return device, codes


def sign_in(client, password=DEFAULT_PASSWORD):
    return client.post("/accounts/login/", {"username": "alice", "password": password})


def send_code(client, code):
    return client.post("/accounts/login/code/", {"otp_code": code})


def test_enrolment_shows_a_server_drawn_qr_code_then_ten_recovery_codes_once(client_for, user):
    client = client_for(user)
    assert b"(off)" in client.get("/accounts/settings/").content
    client.post("/accounts/two-factor/start/")
    page = client.get("/accounts/two-factor/setup/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and "<script" not in html.split("<main", 1)[1]  # inline SVG, no JS
    assert "otpauth" not in html.split("<svg", 1)[0]  # the URI is only drawn, not linked
    device = TOTPDevice.objects.get(user=user)
    assert "issuer=Circles" in device.config_url and not device.confirmed

    wrong = client.post("/accounts/two-factor/setup/", {"otp_code": "000000"})
    assert wrong.status_code == 400 and b"not right" in wrong.content
    device.refresh_from_db()
    assert not device.confirmed

    answer = client.post("/accounts/two-factor/setup/", {"otp_code": code_for(device)})
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", answer.content.decode())
    assert len(set(codes)) == 10
    device.refresh_from_db()
    assert device.confirmed
    later = client.get("/accounts/two-factor/").content.decode()
    assert "10 recovery codes left" in later and not any(code in later for code in codes)
    assert b"(on)" in client.get("/accounts/settings/").content


def test_enrolling_ends_the_other_sessions(client_for, user):
    elsewhere = client_for(user)
    enrol(client_for(user))
    assert elsewhere.get("/accounts/settings/").status_code == 302  # signed out


def test_enrolling_revokes_the_api_tokens_made_without_it_and_says_so(client_for, user):
    """A token made before enrolment was had with the password alone: an intruder holding
    it would keep it past the second factor meant to shut them out."""
    _, token = api_token_create(user=user)
    api_token_create(user=user)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert client_for().get("/api/v1/auth/me", **bearer).status_code == 200
    client = client_for(user)
    client.post("/accounts/two-factor/start/")
    device = TOTPDevice.objects.get(user=user)
    answer = client.post("/accounts/two-factor/setup/", {"otp_code": code_for(device)})
    assert "your 2 API tokens were revoked" in answer.content.decode()
    assert not ApiToken.objects.filter(user=user).exists()
    assert client_for().get("/api/v1/auth/me", **bearer).status_code == 401
    assert client.get("/accounts/settings/").status_code == 200  # this session is kept


def test_sign_in_asks_for_the_code_and_is_not_signed_in_until_then(client, enrolled):
    device, _ = enrolled
    step = sign_in(client)
    assert step.status_code == 302 and step["Location"].startswith("/accounts/login/code/")
    assert SESSION_KEY not in client.session
    assert client.get("/accounts/settings/").status_code == 302  # still signed out
    assert client.get("/accounts/login/code/").status_code == 200
    done = send_code(client, code_for(device))
    assert done.status_code == 302 and done["Location"] == "/"
    assert client.get("/accounts/settings/").status_code == 200


def test_a_code_works_once_replay_refused(client, client_for, enrolled):
    device, _ = enrolled
    code = code_for(device)
    sign_in(client)
    assert send_code(client, code).status_code == 302
    other = client_for()
    sign_in(other)
    replay = send_code(other, code)
    assert replay.status_code == 400 and b"not right" in replay.content
    assert SESSION_KEY not in other.session


def test_recovery_code_works_once(client_for, enrolled):
    _, codes = enrolled
    first, second = client_for(), client_for()
    sign_in(first)
    assert send_code(first, codes[0].upper()).status_code == 302  # any case
    assert StaticToken.objects.count() == 9
    sign_in(second)
    assert send_code(second, codes[0]).status_code == 400
    assert send_code(second, codes[1]).status_code == 302


def test_wrong_codes_are_refused_then_limited(client, enrolled, settings):
    settings.RATELIMIT_ENABLE = True
    device, _ = enrolled
    sign_in(client)
    for _ in range(5):
        wrong = send_code(client, "123456" if code_for(device) != "123456" else "654321")
        assert wrong.status_code == 400
    limited = send_code(client, code_for(device))  # the right code, too late
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert SESSION_KEY not in client.session


def test_the_code_limit_holds_while_redis_is_down(client, enrolled, redis_down):
    device, _ = enrolled
    sign_in(client)
    statuses = [send_code(client, "000000").status_code for _ in range(6)]
    assert statuses == [400] * 5 + [429]


def test_the_code_step_expires_and_follows_a_password_change(client, enrolled, settings):
    device, _ = enrolled
    sign_in(client)
    session = client.session
    pending = session["two_factor_pending"]
    session["two_factor_pending"] = {**pending, "at": pending["at"] - 301}
    session.save()
    assert send_code(client, code_for(device))["Location"].startswith("/accounts/login/")
    assert SESSION_KEY not in client.session
    # a password changed between the two steps ends the waiting sign-in
    sign_in(client)
    device.user.set_password("another-long-password-1")
    device.user.save()
    assert send_code(client, code_for(device)).status_code == 302
    assert SESSION_KEY not in client.session


# --- the API ------------------------------------------------------------------------------


def api(client, path, **body):
    return client.post(f"/api/v1{path}", data=body, content_type="application/json")


def test_api_token_needs_the_second_factor(client, enrolled):
    device, _ = enrolled
    creds = {"username": "alice", "password": DEFAULT_PASSWORD}
    missing = api(client, "/auth/tokens", **creds)
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "two_factor_required"
    assert "otp_code" in missing.json()["error"]["fields"]
    wrong = api(client, "/auth/tokens", otp_code="000000", **creds)
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "invalid_otp_code"
    assert not ApiToken.objects.exists()
    made = api(client, "/auth/tokens", otp_code=code_for(device), **creds)
    assert made.status_code == 201 and ApiToken.objects.count() == 1


def test_api_login_needs_the_second_factor(client, enrolled):
    device, _ = enrolled
    client.get("/api/v1/auth/csrf")
    csrf = {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}
    body = {"username": "alice", "password": DEFAULT_PASSWORD}
    login = "/api/v1/auth/login"
    refused = client.post(login, data=body, content_type="application/json", **csrf)
    assert refused.json()["error"]["code"] == "two_factor_required"
    assert SESSION_KEY not in client.session
    body["otp_code"] = code_for(device)
    signed_in = client.post(login, data=body, content_type="application/json", **csrf)
    assert signed_in.status_code == 200 and client.session[SESSION_KEY] == str(device.user_id)


def test_people_without_two_factor_keep_the_api_contract(client, user):
    made = api(client, "/auth/tokens", username="alice", password=DEFAULT_PASSWORD)
    assert made.status_code == 201


# --- turning it off, new recovery codes ---------------------------------------------------


def test_turning_it_off_needs_the_password_and_a_code(client_for, user, enrolled):
    device, _ = enrolled
    client = client_for(user)
    no_password = client.post(
        "/accounts/two-factor/disable/", {"password": "wrong", "otp_code": code_for(device)}
    )
    assert no_password.status_code == 400 and b"password is not right" in no_password.content
    no_code = client.post(
        "/accounts/two-factor/disable/", {"password": DEFAULT_PASSWORD, "otp_code": "000000"}
    )
    assert no_code.status_code == 400
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    off = client.post(
        "/accounts/two-factor/disable/",
        {"password": DEFAULT_PASSWORD, "otp_code": code_for(device)},
    )
    assert off.status_code == 302
    assert not TOTPDevice.objects.exists() and not StaticToken.objects.exists()
    assert sign_in(client_for())["Location"] == "/"  # the password alone again


def test_new_recovery_codes_replace_the_old_ones(client_for, user, enrolled):
    device, old = enrolled
    client = client_for(user)
    answer = client.post("/accounts/two-factor/recovery-codes/", {"otp_code": code_for(device)})
    new = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", answer.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert set(StaticToken.objects.values_list("token", flat=True)) == set(new)


# --- staff --------------------------------------------------------------------------------


def test_staff_must_enrol_before_the_admin_when_required(client_for, settings):
    staff = UserFactory(username="operator", is_staff=True, is_superuser=True)
    client = client_for(staff)
    settings.TWO_FACTOR_REQUIRED_FOR_STAFF = False
    assert client.get("/admin/").status_code == 200
    settings.TWO_FACTOR_REQUIRED_FOR_STAFF = True
    sent = client.get("/admin/accounts/user/")
    assert sent.status_code == 302 and sent["Location"] == "/accounts/two-factor/"
    assert b"requires it for staff" in client.get("/accounts/two-factor/").content
    enrol(client)  # keeps the session that enrolled
    assert client.get("/admin/").status_code == 200
    member = client_for(UserFactory(username="member"))
    assert member.get("/accounts/settings/").status_code == 200  # others are not asked


def test_the_staff_api_needs_the_second_factor_too_when_required(client_for, settings):
    settings.TWO_FACTOR_REQUIRED_FOR_STAFF = True
    staff = UserFactory(username="operator", is_staff=True)
    _, raw = api_token_create(user=staff, name="script")
    for answer in (
        client_for(staff).get("/api/v1/admin/users"),
        client_for().get("/api/v1/admin/users", HTTP_AUTHORIZATION=f"Bearer {raw}"),
    ):
        assert answer.status_code == 403
        assert answer.json()["error"]["code"] == "two_factor_required"
    member = UserFactory(username="member")
    assert client_for(member).get("/api/v1/admin/users").status_code != 403  # not staff


def test_the_admins_own_sign_in_goes_to_the_sites(client):
    answer = client.get("/admin/login/?next=/admin/")
    assert answer.status_code == 302
    assert answer["Location"] == "/accounts/login/?next=/admin/"
