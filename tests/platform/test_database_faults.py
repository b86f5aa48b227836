"""The database going away, seen by a real uvicorn process: connections PostgreSQL
dropped are replaced without a failed request, and a database that cannot be reached
answers 503 (JSON for the API, a plain page otherwise) within seconds, not a 500.

Each test starts its own server process; the connections dropped are only that
process's (found by the application_name it connects with, libpq's PGAPPNAME), so no
other test's connections are touched."""

import json
import time
import urllib.error
import urllib.request
import uuid

import pytest
from django.db import connection

from accounts.services import api_token_create
from tests.factories import UserFactory
from tests.servers import uvicorn_server

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def get(url: str, token: str | None = None) -> tuple[int, bytes, float]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    started = time.monotonic()
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read(), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, error.read(), time.monotonic() - started


def drop_connections_of(application_name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = %s",
            [application_name],
        )
        return cursor.fetchone()[0]


def test_dropped_connections_are_replaced_without_a_failed_request():
    _, token = api_token_create(user=UserFactory(username="keeper"))
    name = f"circles-dropped-{uuid.uuid4().hex[:12]}"
    with uvicorn_server(DATABASE_POOL_MAX_SIZE=4, PGAPPNAME=name) as base:
        paths = ["/api/v1/feed", "/api/v1/auth/me", "/accounts/login/", "/explore/"]
        for path in paths * 3:  # the pool holds open connections now
            assert get(base + path, token)[0] == 200
        assert drop_connections_of(name) >= 1
        statuses = [get(base + path, token)[0] for path in paths * 10]
        assert statuses == [200] * 40


def test_an_unreachable_database_answers_503_within_seconds():
    with uvicorn_server(DATABASE_URL="postgres://postgres@127.0.0.1:1/gone") as base:
        status, body, took = get(base + "/api/v1/feed", "any-token")
        assert status == 503 and took < 8
        error = json.loads(body)["error"]
        assert error["code"] == "database_unavailable" and error["message"]
        status, body, took = get(base + "/explore/")
        assert status == 503 and took < 8
        assert b"unavailable for a moment" in body
        assert get(base + "/healthz")[0] == 200  # the process itself is fine
