"""Fixtures for accounts: API clients in both auth modes, media on a temporary disk."""

import json

import pytest
from django.test import Client

from accounts.services import api_token_create

API = "/api/v1"


class Api:
    """A JSON client for /api/v1 acting as one person.

    mode "session": a logged-in browser session that sends X-CSRFToken like the pages'
    JavaScript (CSRF checks enforced); mode "token": `Authorization: Bearer`, no cookie.
    """

    def __init__(self, user=None, mode="session"):
        self.user, self.mode = user, mode
        self.client = Client(enforce_csrf_checks=True)
        self.headers = {}
        if mode == "token":
            _, raw = api_token_create(user=user, name="tests")
            self.headers["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
        else:
            if user is not None:
                self.client.force_login(user)
            self.refresh_csrf()

    def refresh_csrf(self):
        token = self.client.get(f"{API}/auth/csrf").json()["csrf_token"]
        self.headers["HTTP_X_CSRFTOKEN"] = token

    def _send(self, method, path, data=None, **extra):
        body = "" if data is None else json.dumps(data)
        call = getattr(self.client, method)
        return call(f"{API}{path}", body, content_type="application/json", **self.headers, **extra)

    def get(self, path, params=None, **extra):
        return self.client.get(f"{API}{path}", params or {}, **self.headers, **extra)

    def post(self, path, data=None, **extra):
        return self._send("post", path, data, **extra)

    def patch(self, path, data=None, **extra):
        return self._send("patch", path, data, **extra)

    def delete(self, path, **extra):
        return self._send("delete", path, None, **extra)

    def upload(self, path, files: dict, **extra):
        return self.client.post(f"{API}{path}", files, **self.headers, **extra)


@pytest.fixture(params=["session", "token"])
def mode(request):
    """Run a test once per API auth mode."""
    return request.param


@pytest.fixture
def api_for(db, mode):
    """api_for(user) -> an Api acting as user, in this test's auth mode."""

    def make(user=None, mode_override=None):
        return Api(user, mode_override or mode)

    return make


@pytest.fixture
def session_api(db):
    def make(user=None):
        return Api(user, "session")

    return make


@pytest.fixture
def token_api(db):
    def make(user):
        return Api(user, "token")

    return make


@pytest.fixture
def media_storage(settings, tmp_path):
    """Uploaded files go to a temporary directory for this test."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media"), "base_url": "/media-files/"},
        },
    }
    return tmp_path / "media"


def error_of(response):
    """The error object of an API answer, checking the envelope has nothing else."""
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]


MAX_LIST_QUERIES = 6  # a whole list page, authentication included (PRODUCT.md allows 10)


@pytest.fixture
def list_queries(django_assert_max_num_queries):
    """list_queries(api, path, params=None) -> (body, n): GET a list page within
    MAX_LIST_QUERIES, and count its queries other than the session store's (a Redis miss
    reads the session from the database, which is not the page's doing)."""

    def fetch(api, path, params=None):
        with django_assert_max_num_queries(MAX_LIST_QUERIES) as captured:
            response = api.get(path, params)
        assert response.status_code == 200, response.content
        own = [q for q in captured.captured_queries if "django_session" not in q["sql"]]
        return response.json(), len(own)

    return fetch
