"""The API (`/api/v1/auth/me/export`, `DELETE /api/v1/auth/me`) and the settings pages for
leaving: status codes, error bodies, nothing changed on a refusal, limits counted."""

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AccountDeletion, DataExport, ExportState, User
from accounts.services import data_export_build
from circles import ratelimits
from tests.accounts.test_two_factor import code_for, enrol
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.leaving.conftest import Api, error_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(media_storage):
    return UserFactory(username="pia")


@pytest.mark.parametrize("mode", ["session", "token"])
def test_export_api_starts_reports_and_refuses_a_second(person, mode):
    api = Api(person, mode)
    assert api.get("/auth/me/export").status_code == 404  # none yet
    started = api.post("/auth/me/export")
    assert started.status_code == 202, started.content
    body = started.json()
    assert body["state"] == "pending" and body["download_url"] is None
    again = api.post("/auth/me/export")
    assert again.status_code == 409
    assert error_of(again)["code"] == "export_running"
    assert "already being prepared" in error_of(again)["message"]
    assert DataExport.objects.filter(user=person).count() == 1
    data_export_build(export_id=body["id"])
    ready = api.get("/auth/me/export").json()
    assert ready["state"] == "ready" and ready["percent"] == 100
    assert ready["download_url"] == f"/accounts/export/{body['id']}/download/"
    download = api.client.get(ready["download_url"], **api.headers)
    assert download.status_code == 200
    # another person's view of it: their own (none), and not the file
    other = Api(UserFactory(username="quinn"), mode)
    assert other.get("/auth/me/export").status_code == 404
    assert other.client.get(ready["download_url"], **other.headers).status_code == 404


def test_export_requests_count_against_a_limit(person, monkeypatch):
    monkeypatch.setitem(ratelimits.RATES, "export", "2/h")
    api = Api(person)
    assert api.post("/auth/me/export").status_code == 202
    assert api.post("/auth/me/export").status_code == 409  # refused, and counted
    limited = api.post("/auth/me/export")
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert DataExport.objects.filter(user=person).count() == 1


def test_delete_api_needs_the_right_password(person):
    api = Api(person, "token")
    assert api.delete("/auth/me").status_code == 400  # no body at all
    missing = api._send("delete", "/auth/me", {})
    assert missing.status_code == 400
    assert error_of(missing)["fields"]["password"] == ["Enter your password."]
    wrong = api._send("delete", "/auth/me", {"password": "nope"})
    assert wrong.status_code == 400 and error_of(wrong)["code"] == "invalid_credentials"
    bad_type = api._send("delete", "/auth/me", {"password": ["x"]})
    assert bad_type.status_code == 400
    person.refresh_from_db()
    assert person.is_active and not AccountDeletion.objects.exists()
    done = api._send("delete", "/auth/me", {"password": DEFAULT_PASSWORD})
    assert done.status_code == 204
    assert not User.objects.get(pk=person.pk).is_active
    assert api.get("/auth/me").status_code == 401  # the token went with it


def test_delete_needs_the_second_factor_when_enrolled(person, client_for):
    """With two-factor sign-in on, the password alone does not delete: the code is asked
    for (API and page), a wrong or replayed one refused, and nothing changes until then."""
    client = client_for(person)
    device, _ = enrol(client)
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    device.refresh_from_db()
    api = Api(person, "token")
    missing = api._send("delete", "/auth/me", {"password": DEFAULT_PASSWORD})
    assert missing.status_code == 400 and error_of(missing)["code"] == "two_factor_required"
    wrong = api._send("delete", "/auth/me", {"password": DEFAULT_PASSWORD, "otp_code": "000000"})
    assert wrong.status_code == 400 and error_of(wrong)["code"] == "invalid_otp_code"
    page = client.get(reverse("accounts:delete")).content.decode()
    assert 'name="otp_code"' in page
    person.refresh_from_db()
    assert person.is_active and not AccountDeletion.objects.exists()
    body = {"password": DEFAULT_PASSWORD, "otp_code": code_for(device)}
    assert api._send("delete", "/auth/me", body).status_code == 204
    assert not User.objects.get(pk=person.pk).is_active


def test_delete_attempts_count_against_a_limit(person, monkeypatch):
    monkeypatch.setitem(ratelimits.RATES, "account_delete", "3/h")
    api = Api(person)
    for _ in range(3):
        assert api._send("delete", "/auth/me", {"password": "guess"}).status_code == 400
    limited = api._send("delete", "/auth/me", {"password": DEFAULT_PASSWORD})
    assert limited.status_code == 429
    person.refresh_from_db()
    assert person.is_active


def test_settings_page_offers_the_export_and_shows_progress(person, client_for):
    client = client_for(person)
    page = client.get(reverse("accounts:settings")).content.decode()
    assert "Download your data" in page and reverse("accounts:delete") in page
    started = client.post(reverse("accounts:export_start"), HTTP_HX_REQUEST="true")
    assert started.status_code == 202
    assert 'data-export-state="pending"' in started.content.decode()
    assert 'hx-trigger="every 2s"' in started.content.decode()
    DataExport.objects.filter(user=person).update(state=ExportState.RUNNING, percent=42)
    status = client.get(reverse("accounts:export_status")).content.decode()
    assert "42%" in status and 'value="42"' in status
    again = client.post(reverse("accounts:export_start"))
    assert again.status_code == 409 and "already being prepared" in again.content.decode()


def test_delete_page_refuses_a_wrong_password_then_deletes_and_signs_out(person, client_for):
    client = client_for(person)
    assert client.get(reverse("accounts:delete")).status_code == 200
    wrong = client.post(reverse("accounts:delete"), {"password": "nope"})
    assert wrong.status_code == 400 and "That password is not right." in wrong.content.decode()
    assert User.objects.get(pk=person.pk).is_active
    done = client.post(reverse("accounts:delete"), {"password": DEFAULT_PASSWORD})
    assert done.status_code == 200 and "being deleted" in done.content.decode()
    assert client.get(reverse("accounts:settings")).status_code == 302  # signed out


def test_registration_with_a_held_username_is_refused_clearly(person, client_for):
    Api(person, "token")._send("delete", "/auth/me", {"password": DEFAULT_PASSWORD})
    api = Api()
    refused = api.post("/auth/register", {"username": "pia", "email": "p2@example.com",
                                          "password": "a-long-pass-phrase-1"})  # fmt: skip
    assert refused.status_code == 400
    assert "deleted recently" in error_of(refused)["fields"]["username"][0]
