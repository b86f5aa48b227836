"""The API answers every failure in one JSON shape, with the status API.md gives."""

import pytest

from accounts.services import api_token_create

pytestmark = pytest.mark.django_db


def error_of(response):
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]


def test_unauthenticated_call_is_401_in_error_format(client):
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


def test_unknown_api_path_is_json_404_not_html(client):
    for path in ("/api/v1/no/such/thing", "/api/v2/feed", "/api"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/json"
        assert error_of(response) == {"code": "not_found", "message": "No such API endpoint."}


def test_validation_error_names_the_fields(client):
    response = client.post(
        "/api/v1/auth/tokens", {"username": ["not", "a", "string"]}, content_type="application/json"
    )
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"username", "password"}


def test_malformed_json_is_400(client):
    response = client.post("/api/v1/auth/tokens", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid"


def test_unknown_token_id_is_404_and_malformed_id_too(client, user):
    _, raw = api_token_create(user=user)
    for token_id in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        response = client.delete(
            f"/api/v1/auth/tokens/{token_id}", HTTP_AUTHORIZATION=f"Bearer {raw}"
        )
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"


def test_openapi_document_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/auth/tokens" in paths
    assert "/api/v1/realtime/ticket" in paths


def test_unknown_api_path_is_json_404_for_writes_too(client, user):
    _, raw = api_token_create(user=user)
    response = client.post("/api/v1/nothing/here", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_wrong_method_on_a_known_path_is_405_in_error_format(client):
    response = client.put("/api/v1/auth/csrf")
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert error_of(response)["code"] == "method_not_allowed"
    assert "GET" in response["Allow"]
    assert response["X-Request-ID"]


def test_openapi_document_is_built_once_and_stays_the_same(client):
    first = client.get("/api/v1/openapi.json").json()
    assert client.get("/api/v1/openapi.json").json() == first
