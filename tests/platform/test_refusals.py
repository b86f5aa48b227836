"""The one mapping from a refusal to its answer (circles.errors.refusal), and how the
API and the socket write it: each exception type gets its status, code and message."""

import json

import pytest
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404
from django.test import RequestFactory
from django_ratelimit.exceptions import Ratelimited
from ninja import NinjaAPI

from circles.errors import ApiError, Refusal, install_error_handlers, refusal
from messaging.consumers import error_body


def limited(retry_after=None) -> Ratelimited:
    exc = Ratelimited("over")
    if retry_after is not None:
        exc.retry_after = retry_after
    return exc


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (ValidationError("Too long."), Refusal(400, "invalid", "Too long.")),
        (
            ValidationError({"caption": ["Too long."], "alt": ["Too many."]}),
            Refusal(400, "invalid", "Too long.", {"caption": ["Too long."], "alt": ["Too many."]}),
        ),
        (PermissionDenied("Unblock them first."), Refusal(403, "forbidden", "Unblock them first.")),
        (PermissionDenied(), Refusal(403, "forbidden", "You can't do that.")),
        (Http404(), Refusal(404, "not_found", "Not found.")),
        (ObjectDoesNotExist(), Refusal(404, "not_found", "Not found.")),
        (
            limited(retry_after=12),
            Refusal(429, "rate_limited", "Slow down.", headers={"Retry-After": "12"}),
        ),
        (limited(), Refusal(429, "rate_limited", "Slow down.", headers={"Retry-After": "60"})),
        (
            ApiError(503, "unavailable", "Storage is down.", headers={"Retry-After": "5"}),
            Refusal(503, "unavailable", "Storage is down.", headers={"Retry-After": "5"}),
        ),
    ],
)
def test_each_refusal_has_its_status_code_and_message(exc, expected):
    assert refusal(exc, too_often="Slow down.") == expected


def test_something_else_is_not_a_refusal():
    with pytest.raises(TypeError):
        refusal(ValueError("boom"))


def api_answer(exc) -> tuple[int, dict, str | None]:
    api = NinjaAPI(urls_namespace="test-refusals")
    install_error_handlers(api)
    response = api.on_exception(RequestFactory().get("/"), exc)
    return response.status_code, json.loads(response.content)["error"], response.get("Retry-After")


def test_the_api_names_fields_and_sums_several_up():
    assert api_answer(ValidationError("Too long.")) == (
        400,
        {"code": "invalid", "message": "Too long.", "fields": {"__all__": ["Too long."]}},
        None,
    )
    status, error, _ = api_answer(ValidationError({"caption": ["Too long."], "alt": ["No."]}))
    assert (status, error["message"]) == (400, "Some fields are not valid.")
    assert error["fields"] == {"caption": ["Too long."], "alt": ["No."]}


def test_the_api_says_too_many_requests_with_retry_after():
    assert api_answer(limited(retry_after=7)) == (
        429,
        {"code": "rate_limited", "message": "Too many requests. Try again later."},
        "7",
    )
    assert api_answer(Http404()) == (404, {"code": "not_found", "message": "Not found."}, None)


def test_the_socket_frames_carry_fields_only_for_field_errors():
    assert error_body(ValidationError("Say something.")) == {
        "code": "invalid",
        "message": "Say something.",
    }
    assert error_body(ValidationError({"content": ["Too long."]})) == {
        "code": "invalid",
        "message": "Too long.",
        "fields": {"content": ["Too long."]},
    }
    assert error_body(limited()) == {
        "code": "rate_limited",
        "message": "Too many messages. Try again in a minute.",
    }
