"""The 500 handler: a database that cannot be reached is a 503 the client may retry (the
API's error format under /api/, a plain page elsewhere); anything else stays a 500."""

import json

from django.db import OperationalError

from circles.views import server_error


def handled(rf, path, exc):
    try:
        raise exc
    except Exception:  # Django calls handler500 while the exception is being handled
        return server_error(rf.get(path))


def test_database_down_is_a_503_with_retry_after(rf):
    api = handled(rf, "/api/v1/feed", OperationalError("connection refused"))
    assert api.status_code == 503 and api["Retry-After"] == "5"
    assert json.loads(api.content)["error"]["code"] == "database_unavailable"
    page = handled(rf, "/explore/", OperationalError("connection refused"))
    assert page.status_code == 503 and b"unavailable for a moment" in page.content


def test_other_errors_stay_500(rf):
    response = handled(rf, "/explore/", ValueError("a bug"))
    assert response.status_code == 500 and b"Something went wrong" in response.content
