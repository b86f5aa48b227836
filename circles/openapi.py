"""The OpenAPI document tells the whole truth: what every operation may answer, what its
inputs must look like, how it is authenticated — added here, once, for every operation
present and future, from what the operation is (authenticated? a path id? a body?).

    complete_document(doc)  # CirclesApi.get_openapi_schema calls it

- Errors: each operation declares the statuses the platform can answer it with, each
  with the error format of shared/API.md (circles.errors) and an example: 400 (any
  input: the text guard, the body checks, validation), 401 and 403 (authenticated
  operations: no credentials, CSRF, not allowed), 404 (a path parameter), 413 and 415
  (a request body), 503 (the database is down; Retry-After). An operation adds the
  statuses only it can answer with `errors(409, 429)` (openapi_extra): conflicts and rate
  limits are each operation's own rule.
- Inputs: every text a client sends is checked for NUL, control characters and lone
  surrogates (circles.textguard), so every free-text string of a request says so with a
  pattern; ids in paths are UUIDs, usernames have their own pattern, cursors theirs.
- Security: session cookie + X-CSRFToken (unsafe methods), or a bearer token.
- Success responses carry an example built from their schema.

`request_body_refusal` enforces the same document on request bodies (415 for a content
type the operation does not take, 400 for a JSON body that is not JSON or not an object).
"""

import copy
import json
import re
import uuid

from circles.errors import Refusal

# --- what inputs look like ------------------------------------------------------------

# circles.textguard refuses these (a path: all control characters; other text: all but
# tab, newline and carriage return). Lone surrogates are refused too, but cannot be
# written in a pattern every generator reads; UTF-8 (which JSON and URLs are) has none.
_LINE_FORBIDDEN = r"\x00-\x1f\x7f-\x9f"
_TEXT_FORBIDDEN = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
LINE_PATTERN = f"^[^{_LINE_FORBIDDEN}]*$"
TEXT_PATTERN = f"^[^{_TEXT_FORBIDDEN}]*$"
# Text that must not be blank (a name, a title, a comment): something besides spaces.
NON_BLANK_PATTERN = f"^[^{_TEXT_FORBIDDEN}]*[^\\s{_TEXT_FORBIDDEN}][^{_TEXT_FORBIDDEN}]*$"
USERNAME_SCHEMA = {"type": "string", "pattern": "^[a-z0-9_]{3,30}$", "example": "alice"}
# circles.pagination: a signed token (django.core.signing), opaque to clients; one
# not made by the server is refused with 400 `invalid_cursor`.
CURSOR_SCHEMA = {
    "type": "string",
    "pattern": r"^[A-Za-z0-9_.:\-]{0,500}$",
    "description": "Opaque: the `next_cursor` of the previous page (empty: the first).",
}
CLIENT_ID_PATTERN = r"^[A-Za-z0-9._:\-]{1,64}$"


def non_blank(default=..., *, json_schema_extra=None, **kwargs):
    """A pydantic Field for text that must hold more than spaces (the service refuses
    blank): says so in the document, and only there (the service's message stays)."""
    from pydantic import Field

    extra = {"pattern": NON_BLANK_PATTERN, "minLength": 1, **(json_schema_extra or {})}
    return Field(default, json_schema_extra=extra, **kwargs)


# --- the error format -----------------------------------------------------------------

ERROR_SCHEMA = {
    "type": "object",
    "title": "Error",
    "description": "Every error: a snake_case code, a message a person can read, and for "
    "invalid input the fields at fault.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}

_ERRORS = {
    400: ("invalid", "Invalid input.", "Some fields are not valid.", {"name": ["Required."]}),
    401: ("not_authenticated", "Not authenticated.", "Sign in or send a valid API token.", None),
    403: ("forbidden", "Not allowed (or the CSRF header is missing).", "You can't do that.", None),
    404: ("not_found", "Unknown, or not visible to you.", "Not found.", None),
    409: ("conflict", "Conflicts with the current state.", "That is there already.", None),
    413: ("too_large", "The request or a file is too large.", "The request is too large.", None),
    415: (
        "unsupported_media_type",
        "A content type or file type the operation does not take.",
        "Send application/json.",
        None,
    ),
    429: (
        "rate_limited",
        "Rate limited: retry after Retry-After seconds.",
        "Too many requests. Try again later.",
        None,
    ),  # noqa: E501
    503: (
        "unavailable",
        "A dependency is down; nothing was lost. Retry.",
        "The service is unavailable for a moment. Try again.",
        None,
    ),  # noqa: E501
}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}
ERROR_STATUSES = tuple(_ERRORS)
_EXTRA_ERRORS_KEY = "x-circles-errors"
UNSAFE_METHODS = ("post", "put", "patch", "delete")
# Session schemes whose unsafe requests Django's CSRF check guards (staff too, once known
# to be staff: staff.api).
_SESSION_SCHEMES = {"SessionCsrfAuth", "LoginCsrf", "StaffSessionAuth"}


def errors(*statuses: int) -> dict:
    """openapi_extra for the statuses only this operation answers with (409, 429)."""
    unknown = set(statuses) - set(_ERRORS)
    if unknown:
        raise ValueError(f"no error description for {sorted(unknown)}")
    return {_EXTRA_ERRORS_KEY: list(statuses)}


def _error_response(status: int) -> dict:
    code, description, message, fields = _ERRORS[status]
    example = {"error": {"code": code, "message": message}}
    if fields:
        example["error"]["fields"] = fields
    response = {
        "description": description,
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/Error"},
                "example": example,
            }
        },
    }
    if status in (429, 503):
        response["headers"] = copy.deepcopy(_RETRY_AFTER)
    return response


# --- completing the document ----------------------------------------------------------


def complete_document(doc: dict) -> dict:
    """The document ninja built, completed as described in the module docstring (in
    place; returned for convenience)."""
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    _security_schemes(components.setdefault("securitySchemes", {}))
    request_refs: set[str] = set()
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            _complete_operation(path, method, operation, request_refs, schemas)
    requests = _reachable(schemas, request_refs)
    for name in requests:
        _guard_text(schemas[name], TEXT_PATTERN)
        _guard_extra_fields(schemas[name])
        _request_examples(schemas[name])
    for name in _json_body_refs(doc):
        # a JSON body's own fields are all there is: unknown ones answer 400
        # (request_body_refusal), so a typo never passes for an ignored field
        schemas[name].pop("propertyNames", None)
        schemas[name]["additionalProperties"] = False
    schemas["CleanJson"] = CLEAN_JSON
    for name, schema in schemas.items():
        if name != "Error" and name not in requests:  # requests are generated, not shown
            schema.setdefault("example", example_for(schema, schemas))
    _fill_response_examples(doc)
    _link_created_ids(doc)
    _link_listed_ids(doc)
    return doc


def _security_schemes(schemes: dict) -> None:
    schemes["CsrfToken"] = {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRFToken",
        "description": "With the session cookie on unsafe methods: the value GET "
        "/api/v1/auth/csrf answers (also its csrftoken cookie).",
    }
    if "BearerTokenAuth" in schemes:
        schemes["BearerTokenAuth"]["description"] = "A token from POST /api/v1/auth/tokens."
    if "SessionCsrfAuth" in schemes:
        schemes["SessionCsrfAuth"]["description"] = (
            "The browser session (sign in: POST /api/v1/auth/login); unsafe methods also "
            "need CsrfToken."
        )


def _complete_operation(
    path: str, method: str, operation: dict, request_refs: set, schemas: dict
) -> None:
    unsafe = method in UNSAFE_METHODS
    security = operation.get("security") or []
    if unsafe:
        operation["security"] = security = [
            {**requirement, "CsrfToken": []}
            if _SESSION_SCHEMES & requirement.keys()
            else requirement
            for requirement in security
        ]
    authenticated = any("BearerTokenAuth" in r or "SessionCsrfAuth" in r for r in security)
    parameters = operation.get("parameters", [])
    for parameter in parameters:
        _constrain_parameter(parameter)
    body = operation.get("requestBody")
    for media_type, media in (body or {}).get("content", {}).items():
        schema = media.get("schema", {})
        _collect_refs(schema, request_refs)
        _guard_text(schema, TEXT_PATTERN)
        if media_type == _MULTIPART and "additionalProperties" not in schema:
            # extra parts of a form are text, under clean names
            schema["propertyNames"] = {"pattern": LINE_PATTERN}
            schema["additionalProperties"] = {"type": "string", "pattern": TEXT_PATTERN}
        _guard_extra_fields(schema)
        _request_examples(schema)

    statuses = {400, 503}
    if security:
        statuses |= {401, 403} if authenticated else {403}  # LoginCsrf: the CSRF check
    if any(p.get("in") == "path" for p in parameters):
        statuses |= {403, 404} if authenticated else {404}
    elif authenticated and _names_something(parameters, body, schemas):
        statuses |= {404}
    if body:
        statuses |= {413, 415}
    statuses |= set(operation.pop(_EXTRA_ERRORS_KEY, []))
    responses = {str(k): v for k, v in operation.get("responses", {}).items()}
    operation["responses"] = responses
    for status in sorted(statuses):
        responses.setdefault(str(status), _error_response(status))
    _tag_fallback(path, operation)


_NAMING = re.compile(r"(^|_)(ids?|usernames?)$")


def _names_something(parameters: list, body: dict | None, schemas: dict) -> bool:
    """Whether a query parameter or a body field names something (an id, a username)
    that may be unknown or invisible to the caller: then 404 too."""
    names = [p.get("name", "") for p in parameters if p.get("in") == "query"]
    for media in (body or {}).get("content", {}).values():
        schema = media.get("schema", {})
        if "$ref" in schema:
            schema = schemas.get(schema["$ref"].rsplit("/", 1)[1], {})
        names += list(schema.get("properties", {}))
    return any(_NAMING.search(name) for name in names)


def _tag_fallback(path: str, operation: dict) -> None:
    if not operation.get("tags"):
        segments = [s for s in path.split("/") if s and not s.startswith("{")]
        operation["tags"] = [segments[2] if len(segments) > 2 else "api"]


def _constrain_parameter(parameter: dict) -> None:
    name, where = parameter.get("name", ""), parameter.get("in")
    schema = parameter.get("schema", {})
    if where == "path" and (name == "id" or name.endswith("_id")):
        parameter["schema"] = {"type": "string", "format": "uuid", "title": schema.get("title")}
    elif where == "path" and name == "username":
        parameter["schema"] = {**USERNAME_SCHEMA, "title": schema.get("title")}
    elif where == "query" and name == "cursor":
        parameter["schema"] = {**CURSOR_SCHEMA, "title": schema.get("title")}
    else:
        _guard_text(schema, LINE_PATTERN if where == "path" else TEXT_PATTERN)
    if where == "path":
        parameter["schema"].setdefault("minLength", 1)
    parameter["schema"] = {k: v for k, v in parameter["schema"].items() if v is not None}


def _guard_text(schema, pattern: str) -> None:
    """Every free-text string in schema (not a component behind a $ref: those are done
    once) gets the text guard's pattern."""
    if isinstance(schema, list):
        for item in schema:
            _guard_text(item, pattern)
        return
    if not isinstance(schema, dict) or "$ref" in schema:
        return
    if (
        schema.get("type") == "string"
        and not {"pattern", "format", "enum", "const"} & schema.keys()
        and not schema.get("contentMediaType")
    ):
        schema["pattern"] = pattern
    for key in ("properties",):
        for value in schema.get(key, {}).values():
            _guard_text(value, pattern)
    for key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf"):
        if key in schema:
            _guard_text(schema[key], pattern)


# Fields a request may send beyond the declared ones are ignored, but their text is
# guarded like any other: any JSON whose keys and strings are clean.
# (Two levels deep, not recursive: openapi-python-client cannot generate a recursive
# union; deeper text is still guarded by the server.)
_CLEAN_SCALARS = [
    {"type": "string", "pattern": TEXT_PATTERN},
    {"type": "number"},
    {"type": "boolean"},
    {"type": "null"},
]
CLEAN_JSON = {
    "description": "Any JSON value without NUL, control characters or lone surrogates.",
    "anyOf": [
        *_CLEAN_SCALARS,
        {"type": "array", "items": {"anyOf": _CLEAN_SCALARS}},
        {
            "type": "object",
            "propertyNames": {"pattern": LINE_PATTERN},
            "additionalProperties": {"anyOf": _CLEAN_SCALARS},
        },
    ],
}


def _guard_extra_fields(schema) -> None:
    """Objects of a request (nested ones too) take extra fields of clean JSON only; arrays
    of files in a multipart body hold at least one file."""
    if not isinstance(schema, dict) or "$ref" in schema:
        return
    if schema.get("type") == "object" and schema.get("additionalProperties", True) is True:
        schema["propertyNames"] = {"pattern": LINE_PATTERN}
        schema["additionalProperties"] = {"$ref": "#/components/schemas/CleanJson"}
    if schema.get("type") == "array" and schema.get("items", {}).get("format") == "binary":
        schema.setdefault("minItems", 1)
    for value in schema.get("properties", {}).values():
        _guard_extra_fields(value)
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            _guard_extra_fields(option)


def _collect_refs(schema, found: set) -> None:
    if isinstance(schema, dict):
        ref = schema.get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in schema.values():
            _collect_refs(value, found)
    elif isinstance(schema, list):
        for value in schema:
            _collect_refs(value, found)


def _reachable(schemas: dict, names: set) -> set:
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        more: set = set()
        _collect_refs(schemas[name], more)
        todo.extend(more)
    return seen


# --- links: what a created thing's id feeds -------------------------------------------

_PARAM = re.compile(r"\{([a-z_]+)\}")
# The operations on another user, by username.
_USER_PATHS = (
    "/api/v1/users/{username}",
    "/api/v1/users/{username}/follow",
    "/api/v1/users/{username}/followers",
    "/api/v1/users/{username}/following",
    "/api/v1/users/{username}/block",
    "/api/v1/users/{username}/posts",
    "/api/v1/followers/{username}",
)
_ALBUM_ITEM = {"album_id": "$request.path.album_id", "item_id": "$response.body#/items/0/id"}
_CIRCLE_MEMBER = {
    "circle_id": "$request.path.circle_id",
    "username": "$response.body#/items/0/user/username",
}


def _link_created_ids(doc: dict) -> None:
    """OpenAPI links from each create operation (POST /…/posts → 2xx with an `id`) to every
    operation taking that id in its path ({post_id}), so clients and Schemathesis's
    stateful tests can follow a created post, comment, circle, conversation, message,
    album or story to what uses it. Other path parameters are carried over."""
    paths = doc.get("paths", {})
    schemas = doc.get("components", {}).get("schemas", {})
    for path, item in paths.items():
        create = item.get("post")
        segments = [s for s in path.split("/") if s]
        if not create or not segments or segments[-1].startswith("{"):
            continue
        param = _singular(segments[-1]).replace("-", "_") + "_id"
        for status, response in create.get("responses", {}).items():
            if not str(status).startswith("2") or not _has_id(response, schemas):
                continue
            links = {}
            for target_path, target_item in paths.items():
                params = _PARAM.findall(target_path)
                if param not in params:
                    continue
                for operation in target_item.values():
                    if not isinstance(operation, dict) or "operationId" not in operation:
                        continue
                    parameters = {f"path.{param}": "$response.body#/id"}
                    for other in params:
                        if other != param and f"{{{other}}}" in path:
                            parameters[f"path.{other}"] = f"$request.path.{other}"
                    if len(parameters) == len(params):  # every parameter has a source
                        links[operation["operationId"]] = {
                            "operationId": operation["operationId"],
                            "parameters": parameters,
                        }
            if links:
                response["links"] = links


# Ids that are not created by the caller but listed to them (a follow request, a circle
# invite), items an album answers with, usernames and emoji: where each comes from.
# (source path, method, status) -> [(target path, {parameter: expression})]; every method
# of the target path that takes exactly these parameters is linked.
_FIRST = "$response.body#/items/0"
_LISTED_LINKS = {
    ("/api/v1/follow-requests", "get", "200"): [
        ("/api/v1/follow-requests/{request_id}/approve", {"request_id": f"{_FIRST}/id"}),
        ("/api/v1/follow-requests/{request_id}/decline", {"request_id": f"{_FIRST}/id"}),
        *[(path, {"username": f"{_FIRST}/user/username"}) for path in _USER_PATHS],
    ],
    ("/api/v1/circles/invites", "get", "200"): [
        ("/api/v1/circles/invites/{invite_id}/accept", {"invite_id": f"{_FIRST}/id"}),
        ("/api/v1/circles/invites/{invite_id}/decline", {"invite_id": f"{_FIRST}/id"}),
    ],
    ("/api/v1/albums/{album_id}/posts", "post", "201"): [
        ("/api/v1/albums/{album_id}/items/{item_id}", _ALBUM_ITEM),
        ("/api/v1/albums/{album_id}/items/{item_id}/move", _ALBUM_ITEM),
    ],
    ("/api/v1/albums/{album_id}/images", "post", "202"): [
        ("/api/v1/albums/{album_id}/items/{item_id}", _ALBUM_ITEM),
        ("/api/v1/albums/{album_id}/items/{item_id}/move", _ALBUM_ITEM),
    ],
    ("/api/v1/circles/{circle_id}/members", "get", "200"): [
        ("/api/v1/circles/{circle_id}/members/{username}", _CIRCLE_MEMBER),
    ],
    ("/api/v1/messages/{message_id}/reactions", "post", "200"): [
        (
            "/api/v1/messages/{message_id}/reactions/{emoji}",
            {"message_id": "$request.path.message_id", "emoji": "$request.body#/emoji"},
        ),
    ],
    ("/api/v1/auth/register", "post", "201"): [
        (path, {"username": "$response.body#/username"}) for path in _USER_PATHS
    ],
    ("/api/v1/admin/users", "get", "200"): [
        ("/api/v1/admin/users/{username}", {"username": f"{_FIRST}/username"}),
        ("/api/v1/admin/users/{username}/unban", {"username": f"{_FIRST}/username"}),
    ],
    ("/api/v1/admin/posts", "get", "200"): [
        ("/api/v1/admin/posts/{post_id}", {"post_id": f"{_FIRST}/id"}),
    ],
}


def _link_listed_ids(doc: dict) -> None:
    """The links of _LISTED_LINKS, added to those of _link_created_ids."""
    paths = doc.get("paths", {})
    for (path, method, status), targets in _LISTED_LINKS.items():
        response = paths.get(path, {}).get(method, {}).get("responses", {}).get(status)
        if response is None:
            continue
        links = response.setdefault("links", {})
        for target_path, parameters in targets:
            for operation in paths.get(target_path, {}).values():
                if not isinstance(operation, dict) or "operationId" not in operation:
                    continue
                links[operation["operationId"]] = {
                    "operationId": operation["operationId"],
                    "parameters": {f"path.{name}": value for name, value in parameters.items()},
                }


def _singular(word: str) -> str:
    return word[:-3] + "y" if word.endswith("ies") else word.removesuffix("s")


def _has_id(response: dict, schemas: dict) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = schemas.get(schema["$ref"].rsplit("/", 1)[1], {})
    return "id" in schema.get("properties", {})


# --- examples -------------------------------------------------------------------------

_EXAMPLE_ID = str(uuid.UUID(int=0x3F1C_2A9E_0000_4000_8000_0000_0000_0001))
_EXAMPLE_TIME = "2026-05-01T12:00:00Z"
_NAMED_EXAMPLES = {
    "username": "alice",
    "display_name": "Alice",
    "name": "Close friends",
    "title": "Summer",
    "caption": "Sunset at the lake #summer",
    "content": "See you there!",
    "message": "Not found.",
    "code": "not_found",
    "token": "6f1f0c2b8d3e4a5f9b7c1d2e3f4a5b6c",
    "emoji": "❤️",
    "location": "Lake Geneva",
    "bio": "Photos of my days.",
    "email": "alice@example.com",
    "next_cursor": ".eJyLVjIyMDDVNTDTNTIJMTCyMjAyMDbUUYoFADwwBG0:1tZ9kq:6fL1c2a9eQ",
}


def example_for(schema, schemas: dict, name: str = "", depth: int = 0):
    """A plausible value for schema (a response example): real-looking ids, times,
    names; lists of one item."""
    if depth > 8 or not isinstance(schema, dict):
        return None
    if "$ref" in schema:
        target = schemas.get(schema["$ref"].rsplit("/", 1)[1], {})
        return copy.deepcopy(target.get("example")) or example_for(target, schemas, name, depth + 1)
    for key in ("example", "default"):
        if schema.get(key) is not None:
            return schema[key]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        options = [s for s in schema.get(key, []) if s.get("type") != "null"]
        if options:
            return example_for(options[0], schemas, name, depth + 1)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {
            prop: example_for(sub, schemas, prop, depth + 1)
            for prop, sub in schema.get("properties", {}).items()
        }
    if kind == "array":
        return [example_for(schema.get("items", {}), schemas, name, depth + 1)]
    if kind == "integer":
        return 3 if name.endswith(("count", "seq")) else 1
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    if kind == "string":
        return _string_example(schema, name)
    return None


def _string_example(schema: dict, name: str) -> str:
    fmt = schema.get("format")
    if fmt == "date-time" or name.endswith("_at"):
        return _EXAMPLE_TIME
    if fmt == "uuid" or name == "id" or name.endswith("_id"):
        return _EXAMPLE_ID
    if fmt == "binary":
        return ""
    if name in ("avatar", "webp", "jpeg", "url") or fmt == "uri":
        suffix = "webp" if name == "webp" else "jpeg"
        return f"/media/{_EXAMPLE_ID}/small.{suffix}"
    return _NAMED_EXAMPLES.get(name, name.replace("_", " ") or "text")


# What a person would type in a request's field (the API page shows these; Swagger UI
# would otherwise make up a string matching the text guard's pattern: gibberish).
# "Schema.field" overrides "field" where one name means different things.
_REQUEST_EXAMPLES = {
    "username": "alice",
    "usernames": "alice",
    "email": "alice@example.com",
    "password": "a long walk by the lake",
    "display_name": "Alice",
    "bio": "Photos of my days.",
    "name": "Close friends",
    "TokenIn.name": "My phone",
    "note": "For Sam, from the climbing club",
    "caption": "Sunset at the lake #summer",
    "location": "Lake Geneva",
    "content": "See you there!",
    "description": "Friends from the climbing club.",
    "title": "Summer",
    "ConversationIn.title": "Weekend trip",
    "emoji": "❤️",
    "client_id": "msg-1",
    "alt": "The lake at sunset",
    "crop": {"x": 0.0, "y": 0.0, "width": 1.0, "height": 1.0},
}


def _request_examples(schema) -> None:
    """A readable `example` on each field of a request body that has none (nor a
    default): from _REQUEST_EXAMPLES, an id for a required id (an optional one is best
    left out); only one the field's own constraints accept, so it can be sent as it is."""
    if not isinstance(schema, dict) or "$ref" in schema:
        return
    for name, field in schema.get("properties", {}).items():
        if "$ref" in field or "example" in field:
            continue
        target = field.get("items", field) if field.get("type") == "array" else field
        if "example" in target or target.get("default") not in (None, ""):
            continue
        value = _REQUEST_EXAMPLES.get(f"{schema.get('title')}.{name}", _REQUEST_EXAMPLES.get(name))
        required = name in schema.get("required", [])
        if value is None and required and _NAMING.search(name) and "username" not in name:
            value = _EXAMPLE_ID
        if value is not None and _fits(target, value):
            target["example"] = value


def _fits(schema: dict, value) -> bool:
    """Whether value meets schema's type, pattern and length (the string option of an
    optional field)."""
    options = [o for o in schema.get("anyOf", [schema]) if o.get("type") != "null"]
    if isinstance(value, dict):
        return any(o.get("type") == "object" for o in options)
    for option in options:
        if option.get("type") != "string" or option.get("format") == "binary":
            continue
        lengths = [option.get("minLength", 0), schema.get("minLength", 0)]
        longest = min(option.get("maxLength", 10**6), schema.get("maxLength", 10**6))
        if max(lengths) <= len(value) <= longest and re.search(option.get("pattern", ""), value):
            return True
    return False


def _fill_response_examples(doc: dict) -> None:
    schemas = doc.get("components", {}).get("schemas", {})
    for item in doc.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                for media in response.get("content", {}).values():
                    if str(status).startswith("2") and media.get("example") is None:
                        media["example"] = example_for(media.get("schema", {}), schemas)


# --- enforcing the request body -------------------------------------------------------

_JSON = "application/json"
UNSUPPORTED_CONTENT_TYPE = "unsupported_content_type"
BODY_NOT_JSON = "The body is not valid JSON."
BODY_NOT_AN_OBJECT = "The body must be a JSON object."
UNKNOWN_FIELDS = "The body has fields this operation does not take; see fields."
_MULTIPART = "multipart/form-data"


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def request_body_refusal(request, operation: dict, schemas: dict) -> Refusal | None:
    """Whether request's body fits the operation's requestBody: a content type it
    declares (415), JSON that parses (400), an object where the schema is
    one (400). An empty body is left to the operation's own validation."""
    body_doc = operation.get("requestBody")
    if not body_doc or request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    declared = body_doc.get("content", {})
    media_type = _media_type(request.content_type or "")
    has_body = bool(request.META.get("CONTENT_LENGTH", "0") not in ("", "0"))
    if not has_body and media_type not in declared:
        return None
    if media_type not in declared:
        names = " or ".join(sorted(declared))
        return Refusal(415, UNSUPPORTED_CONTENT_TYPE, f"Send {names}.")
    if media_type == _JSON and has_body:
        try:
            data = json.loads(request.body)
        except (ValueError, RecursionError):
            return Refusal(400, "invalid", BODY_NOT_JSON)
        schema = declared[_JSON].get("schema", {})
        if not _shape_fits(schema, data, schemas):
            return Refusal(400, "invalid", BODY_NOT_AN_OBJECT)
        unknown = _unknown_fields(schema, data, schemas)
        if unknown:
            fields = {name: ["Unknown field."] for name in unknown}
            return Refusal(400, "invalid", UNKNOWN_FIELDS, fields)
    return None


def _json_body_refs(doc: dict) -> set[str]:
    """The component names that are a JSON request body themselves (or one option of an
    optional body)."""
    names = set()
    for item in doc.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            content = (operation.get("requestBody") or {}).get("content", {})
            schema = content.get(_JSON, {}).get("schema", {})
            for option in [schema, *schema.get("anyOf", [])]:
                if "$ref" in option:
                    names.add(option["$ref"].rsplit("/", 1)[1])
    return names


def _unknown_fields(schema: dict, data, schemas: dict) -> list[str]:
    """The keys of a JSON object body that its schema does not declare (when it declares
    them all: additionalProperties false)."""
    if not isinstance(data, dict):
        return []
    for option in [schema, *schema.get("anyOf", [])]:
        if "$ref" in option:
            option = schemas.get(option["$ref"].rsplit("/", 1)[1], {})
        if option.get("additionalProperties") is False:
            return sorted(set(data) - set(option.get("properties", {})))
    return []


def _shape_fits(schema: dict, data, schemas: dict) -> bool:
    """Whether data has the top-level JSON type schema wants (an object, or null where the
    body is optional); the fields inside are the operation's validation's business."""
    if "$ref" in schema:
        schema = schemas.get(schema["$ref"].rsplit("/", 1)[1], {})
    if "anyOf" in schema:
        return any(_shape_fits(option, data, schemas) for option in schema["anyOf"])
    if schema.get("type") == "null":
        return data is None
    if schema.get("type") == "object" or "properties" in schema:
        return isinstance(data, dict)
    return True


_CONVERTER = re.compile(r"<(?:[^>:]+:)?([^>]+)>")


def openapi_path(route: str) -> str:
    """A Django route ("api/v1/posts/<post_id>") as the document's path
    ("/api/v1/posts/{post_id}")."""
    return "/" + _CONVERTER.sub(r"{\1}", route)
