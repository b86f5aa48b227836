"""The OpenAPI document is valid and complete (circles.openapi), and malformed requests —
a body of the wrong content type, no multipart boundary, JSON that is not JSON or not an
object, NUL and lone surrogates anywhere — answer 400 or 415 in the error format on
every kind of endpoint, never 500, and change nothing."""

import json
import re

import pytest
from openapi_spec_validator import validate

from accounts.models import User
from circles.api import api
from circles.openapi import BODY_NOT_AN_OBJECT, BODY_NOT_JSON, UNKNOWN_FIELDS

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def document():
    return json.loads(json.dumps(api.get_openapi_schema(), default=str))


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_the_document_is_valid_openapi(document):
    validate(document)


def test_every_operation_declares_its_errors_with_the_error_format(document):
    for path, method, operation in operations(document):
        responses = operation["responses"]
        authenticated = any("BearerTokenAuth" in r for r in operation.get("security", []))
        expected = {"400", "503"} | ({"401", "403"} if authenticated else set())
        if "{" in path:
            expected |= {"404"}
        if "requestBody" in operation:
            expected |= {"413", "415"}
        assert expected <= set(responses), (method, path, sorted(responses))
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                media = response["content"]["application/json"]
                assert media["schema"] == {"$ref": "#/components/schemas/Error"}
                assert media["example"]["error"]["code"]
        assert operation["tags"], (method, path)


def test_own_rules_are_declared_where_they_apply(document):
    paths = document["paths"]
    assert "429" in paths["/api/v1/posts"]["post"]["responses"]
    assert "429" in paths["/api/v1/auth/login"]["post"]["responses"]
    assert "409" in paths["/api/v1/conversations/{conversation_id}/messages"]["post"]["responses"]
    assert "429" not in paths["/api/v1/explore"]["get"]["responses"]


def test_unsafe_session_requests_need_the_csrf_header(document):
    for _, method, operation in operations(document):
        for requirement in operation.get("security", []):
            if "SessionCsrfAuth" in requirement or "StaffSessionAuth" in requirement:
                assert ("CsrfToken" in requirement) == (method != "get")


def test_inputs_carry_their_real_constraints(document):
    schemas = document["components"]["schemas"]
    register = schemas["RegisterIn"]["properties"]
    assert register["username"]["pattern"] == "^[a-z0-9_]{3,30}$"
    assert register["email"]["format"] == "email"
    assert schemas["CircleIn"]["properties"]["name"]["minLength"] == 1
    detail = document["paths"]["/api/v1/posts/{post_id}"]["get"]["parameters"]
    assert detail[0]["schema"]["format"] == "uuid"
    feed = {p["name"]: p["schema"] for p in document["paths"]["/api/v1/feed"]["get"]["parameters"]}
    assert (feed["limit"]["minimum"], feed["limit"]["maximum"]) == (1, 50)
    assert "pattern" in feed["cursor"]
    caption = document["paths"]["/api/v1/posts"]["post"]["requestBody"]["content"]
    multipart = caption["multipart/form-data"]["schema"]
    assert multipart["properties"]["images"]["items"]["format"] == "binary"


def test_created_ids_link_to_the_operations_using_them(document):
    created = document["paths"]["/api/v1/posts"]["post"]["responses"]["202"]
    link = created["links"]["posts_api_comment_create"]
    assert link["parameters"] == {"path.post_id": "$response.body#/id"}
    for path in ("/api/v1/circles", "/api/v1/conversations", "/api/v1/albums"):
        responses = document["paths"][path]["post"]["responses"]
        assert any("links" in r for r in responses.values()), path


@pytest.mark.parametrize(
    "source, target, parameters",
    [
        (
            ("/api/v1/follow-requests", "get", "200"),
            "accounts_api_follow_request_approve",
            {"path.request_id": "$response.body#/items/0/id"},
        ),
        (
            ("/api/v1/circles/invites", "get", "200"),
            "accounts_api_circle_invite_accept",
            {"path.invite_id": "$response.body#/items/0/id"},
        ),
        (
            ("/api/v1/albums/{album_id}/posts", "post", "201"),
            "albums_api_album_item_remove",
            {
                "path.album_id": "$request.path.album_id",
                "path.item_id": "$response.body#/items/0/id",
            },
        ),
        (
            ("/api/v1/admin/users", "get", "200"),
            "staff_api_admin_user_ban",
            {"path.username": "$response.body#/items/0/username"},
        ),
        (
            ("/api/v1/admin/posts", "get", "200"),
            "staff_api_admin_post_remove",
            {"path.post_id": "$response.body#/items/0/id"},
        ),
    ],
)
def test_listed_ids_link_to_the_operations_using_them(document, source, target, parameters):
    """Ids a client is shown but did not create (a follow request, an invite, an album's
    item, what the admin lists) feed the operations taking them."""
    path, method, status = source
    links = document["paths"][path][method]["responses"][status]["links"]
    assert links[target]["parameters"] == parameters


def test_every_link_names_an_operation_and_fills_its_path(document):
    by_id = {op["operationId"]: (path, op) for path, _, op in operations(document)}
    for _, _, operation in operations(document):
        for response in operation["responses"].values():
            for link in response.get("links", {}).values():
                path, _ = by_id[link["operationId"]]
                wanted = {f"path.{name}" for name in re.findall(r"\{(\w+)\}", path)}
                assert wanted == set(link["parameters"]), (path, link)


def test_responses_carry_examples(document):
    me = document["paths"]["/api/v1/auth/me"]["get"]["responses"]["200"]
    example = me["content"]["application/json"]["example"]
    assert example["username"] == "alice" and "followers_count" in example


def _body_schemas(document):
    schemas = document["components"]["schemas"]
    for path, method, operation in operations(document):
        for media in operation.get("requestBody", {}).get("content", {}).values():
            schema = media["schema"]
            for option in schema.get("anyOf", [schema]):
                if "$ref" in option:
                    option = schemas[option["$ref"].rsplit("/", 1)[1]]
                yield f"{method.upper()} {path}", option


def test_request_bodies_show_readable_examples_a_client_may_send(document):
    """The API page (Swagger UI) shows these instead of strings made up from the text
    guard's pattern; each passes its own field's schema, so Try it out sends valid data."""
    from jsonschema import Draft202012Validator

    shown = {}
    for operation, schema in _body_schemas(document):
        for name, field in schema.get("properties", {}).items():
            where = field.get("items", field) if field.get("type") == "array" else field
            if "example" in where:
                root = {**where, "components": document["components"]}
                errors = list(Draft202012Validator(root).iter_errors(where["example"]))
                assert not errors, (operation, name, errors)
                shown[(operation, name)] = where["example"]
    assert shown[("POST /api/v1/auth/register", "username")] == "alice"
    assert shown[("POST /api/v1/auth/register", "password")] == "a long walk by the lake"
    assert shown[("POST /api/v1/posts", "caption")] == "Sunset at the lake #summer"
    assert shown[("POST /api/v1/conversations", "usernames")] == "alice"
    assert shown[("POST /api/v1/messages/{message_id}/reactions", "emoji")] == "❤️"
    # every text field shows an example or its default (an optional one may be empty),
    # never a string made up from the pattern
    for operation, schema in _body_schemas(document):
        for name, field in schema.get("properties", {}).items():
            if field.get("type") == "string" and "format" not in field and "enum" not in field:
                assert "example" in field or "default" in field, (operation, name)


# --- malformed requests ----------------------------------------------------------------


@pytest.fixture
def bearer(user):
    from accounts.services import api_token_create

    return {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(user=user)[1]}"}


def error_of(response, status):
    assert response.status_code == status, response.content
    return response.json()["error"]


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/auth/me", "patch"),
        ("/api/v1/circles", "post"),
        ("/api/v1/posts", "post"),
        ("/api/v1/auth/me/avatar", "post"),
        ("/api/v1/conversations/00000000-0000-4000-8000-000000000000/messages", "post"),
    ],
)
def test_a_content_type_the_operation_does_not_take_is_415(client, bearer, path, method):
    response = getattr(client, method)(path, data="name=x", content_type="text/plain", **bearer)
    assert error_of(response, 415)["code"] == "unsupported_content_type"


@pytest.mark.parametrize("path", ["/api/v1/posts", "/api/v1/auth/me/avatar"])
def test_multipart_without_a_boundary_is_400(client, bearer, path):
    response = client.post(path, data=b"--x\r\n", content_type="multipart/form-data", **bearer)
    assert error_of(response, 400)["code"] == "invalid"


@pytest.mark.parametrize("body", [b"{not json", b"null", b"[1, 2]", b'"text"', b"7"])
def test_a_json_body_must_be_the_object_the_schema_wants(client, bearer, user, body):
    response = client.patch("/api/v1/auth/me", data=body, content_type="application/json", **bearer)
    assert error_of(response, 400)["message"] in (BODY_NOT_JSON, BODY_NOT_AN_OBJECT)
    assert User.objects.get(pk=user.pk).display_name == user.display_name


def test_an_optional_body_takes_null_but_no_other_shape(client, bearer):
    read = "/api/v1/notifications/read"
    assert (
        client.post(read, data=b"null", content_type="application/json", **bearer).status_code
        == 204
    )
    response = client.post(read, data=b"[null]", content_type="application/json", **bearer)
    assert error_of(response, 400)["message"] == BODY_NOT_AN_OBJECT


def test_unknown_json_fields_are_refused_and_change_nothing(client, bearer, user, document):
    """A typo never passes for an ignored field: the document says additionalProperties
    false on JSON bodies, and the server keeps to it."""
    body = {"display_name": "New name", "displayname": "typo", "extra": {"a": {}}}
    response = client.patch("/api/v1/auth/me", data=body, content_type="application/json", **bearer)
    error = error_of(response, 400)
    assert error["message"] == UNKNOWN_FIELDS
    assert set(error["fields"]) == {"displayname", "extra"}
    assert User.objects.get(pk=user.pk).display_name == user.display_name
    schema = document["paths"]["/api/v1/auth/me"]["patch"]["requestBody"]["content"]
    ref = schema["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert document["components"]["schemas"][ref]["additionalProperties"] is False


def test_a_schema_mismatch_is_told_apart_from_a_refusal(client, bearer):
    response = client.patch(
        "/api/v1/auth/me", data={"is_private": 0}, content_type="application/json", **bearer
    )
    error = error_of(response, 400)
    assert error["message"] == "The request does not match the API's schema; see fields."
    assert "is_private" in error["fields"]


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/api/v1/search?q=a%00b", None),
        ("/api/v1/conversations", '{"usernames": ["a\\u0000b"]}'),
        ("/api/v1/conversations", '{"usernames": ["\\ud800"]}'),
        ("/api/v1/conversations", '{"usernames": ["bob"], "\\u0000": 1}'),
    ],
)
def test_nul_and_lone_surrogates_are_400_anywhere(client, bearer, path, data):
    if data is None:
        response = client.get(path, **bearer)
    else:
        response = client.post(path, data=data, content_type="application/json", **bearer)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] in ("invalid_text", "invalid")


def test_the_document_and_the_docs_page_are_served(client):
    assert client.get("/api/v1/openapi.json").json()["info"]["title"] == "Circles API"
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert b"cdn." not in page.content and b"/static/ninja/swagger-ui-bundle" in page.content
