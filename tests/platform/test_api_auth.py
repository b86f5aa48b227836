"""Both API auth modes: session + CSRF header, and revocable hashed bearer tokens."""

import pytest
from django.test import Client

from accounts.models import ApiToken, hash_token
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def issue_token(client, username="alice", password=DEFAULT_PASSWORD, name="laptop"):
    return client.post(
        "/api/v1/auth/tokens",
        {"username": username, "password": password, "name": name},
        content_type="application/json",
    )


def test_token_is_issued_once_and_stored_hashed(client, user):
    response = issue_token(client)
    assert response.status_code == 201
    raw = response.json()["token"]
    stored = ApiToken.objects.get(pk=response.json()["id"])
    assert stored.key_hash == hash_token(raw)
    assert raw not in stored.key_hash
    me = client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert me.status_code == 200
    assert me.json()["username"] == "alice"


def test_wrong_password_and_unknown_user_get_the_same_answer(client, user):
    wrong = issue_token(client, password="nope-nope-nope")
    unknown = issue_token(client, username="nobody")
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.json() == unknown.json()
    assert not ApiToken.objects.exists()


def test_revoked_token_no_longer_authenticates(client, user):
    body = issue_token(client).json()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {body['token']}"}
    assert client.delete(f"/api/v1/auth/tokens/{body['id']}", **auth).status_code == 204
    response = client.get("/api/v1/auth/me", **auth)
    assert response.status_code == 401


def test_cannot_revoke_someone_elses_token(client, user, other_user):
    mine = issue_token(client).json()
    theirs = issue_token(client, username="bob").json()
    response = client.delete(
        f"/api/v1/auth/tokens/{theirs['id']}", HTTP_AUTHORIZATION=f"Bearer {mine['token']}"
    )
    assert response.status_code == 404
    assert ApiToken.objects.filter(pk=theirs["id"]).exists()


def test_banned_users_token_stops_working(client, user):
    raw = issue_token(client).json()["token"]
    user.is_active = False
    user.save()
    assert client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_session_write_needs_csrf_header(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    refused = client.post("/api/v1/realtime/ticket")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"

    token = client.get("/api/v1/auth/csrf").json()["csrf_token"]
    accepted = client.post("/api/v1/realtime/ticket", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201
    assert len(accepted.json()["ticket"]) > 30


def test_bearer_write_needs_no_csrf(client, user):
    raw = issue_token(client).json()["token"]
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/api/v1/realtime/ticket", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 201
