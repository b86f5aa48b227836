"""With Redis down (the cache pointed at a closed port) signing in and signed-in pages still
work: the cache answers misses (cached_db sessions fall back to their rows), the login
rate limits of signed-in actions fail open (logged), the credential limits hold in the
process, nothing answers 500."""

import json
import logging

import pytest
from django.http import HttpRequest
from django.test import Client

from circles.ratelimits import enforce
from tests.accounts.conftest import API, error_of
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def post_json(client, path, data, **extra):
    return client.post(f"{API}{path}", json.dumps(data), content_type="application/json", **extra)


def test_rate_limits_let_requests_through_and_log_when_the_cache_is_down(redis_down, caplog):
    request = HttpRequest()
    request.META["REMOTE_ADDR"] = "10.0.0.1"
    with caplog.at_level(logging.WARNING, logger="circles.cache"):
        for _ in range(20):  # well past 10 an hour: nothing is counted, nothing raises
            enforce(request, "post", key="user:alice")
    assert any("answering without Redis" in r.getMessage() for r in caplog.records)


def test_login_limits_hold_while_redis_is_down(redis_down, user):
    """The issue's scenario: 30 wrong passwords with Redis down, and no 429 ever."""
    answers = [
        Client().post("/accounts/login/", {"username": "alice", "password": "nope"}).status_code
        for _ in range(6)
    ]
    assert answers == [400] * 5 + [429]
    right = Client().post("/accounts/login/", {"username": "alice", "password": DEFAULT_PASSWORD})
    assert right.status_code == 429  # this (username, address) pair waits, as with Redis
    elsewhere = Client(REMOTE_ADDR="10.0.0.7").post(
        "/accounts/login/", {"username": "alice", "password": DEFAULT_PASSWORD}
    )
    assert elsewhere.status_code == 302


def test_registration_limit_holds_while_redis_is_down(redis_down, settings, monkeypatch):
    from circles import ratelimits

    monkeypatch.setitem(ratelimits.RATES, "register", "2/h")
    answers = [
        post_json(
            Client(),
            "/auth/register",
            {
                "username": f"newbie{n}",
                "email": f"newbie{n}@example.com",
                "password": "a good passphrase 1",
            },
        ).status_code
        for n in range(3)
    ]
    assert answers == [201, 201, 429]


def test_signed_in_pages_work_on_cached_db_sessions(redis_down, client_for, user):
    client = Client()
    assert (
        client.post(
            "/accounts/login/", {"username": "alice", "password": DEFAULT_PASSWORD}
        ).status_code
        == 302
    )
    assert client.get("/").status_code == 200
    assert client.get("/accounts/profile/").status_code == 200


def test_login_page(redis_down, user):
    right = Client().post("/accounts/login/", {"username": "alice", "password": DEFAULT_PASSWORD})
    assert right.status_code == 302 and right["Location"] == "/"
    assert "_auth_user_id" in right.client.session
    wrong = Client().post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert wrong.status_code == 400
    assert "_auth_user_id" not in wrong.client.session


def test_api_login(redis_down, user):
    client = Client(enforce_csrf_checks=True)
    token = client.get(f"{API}/auth/csrf").json()["csrf_token"]
    wrong = post_json(
        client, "/auth/login", {"username": "alice", "password": "nope"}, HTTP_X_CSRFTOKEN=token
    )
    assert wrong.status_code == 400
    assert error_of(wrong)["code"] == "invalid_credentials"
    right = post_json(
        client,
        "/auth/login",
        {"username": "alice", "password": DEFAULT_PASSWORD},
        HTTP_X_CSRFTOKEN=token,
    )
    assert right.status_code == 200, right.content
    assert right.json()["username"] == "alice"


def test_api_token(redis_down, user):
    client = Client()
    wrong = post_json(client, "/auth/tokens", {"username": "alice", "password": "nope"})
    assert wrong.status_code == 400
    assert error_of(wrong)["code"] == "invalid_credentials"
    right = post_json(client, "/auth/tokens", {"username": "alice", "password": DEFAULT_PASSWORD})
    assert right.status_code == 201, right.content
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {right.json()['token']}"}
    assert client.get(f"{API}/auth/me", **bearer).json()["username"] == "alice"
