"""How a refusal is told, and the API error format, one shape for every failure:

    {"error": {"code": "<snake_case>", "message": "<human text>", "fields": {...}}}

Services raise Django's ValidationError / Http404 / PermissionDenied, a rate limit raises
Ratelimited, and anything else chosen raises ApiError. `refusal()` is the one mapping from
those to a status, code, message, fields and headers: pages, the API (the handlers
installed on the NinjaAPI) and the socket's error frames all answer with it.
"""

import logging
from dataclasses import dataclass, field, replace

from django.core.exceptions import (
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django_ratelimit.exceptions import Ratelimited

logger = logging.getLogger(__name__)

STATUS_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "unavailable",
}


class ApiError(Exception):
    """An error with a chosen status and code, for when the generic mapping is not enough."""

    def __init__(self, status: int, code: str, message: str, *, fields=None, headers=None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.fields, self.headers = fields, headers or {}


# What services refuse with. Pages catch PAGE_REFUSALS: a not-found goes on to the site's
# 404 page there.
PAGE_REFUSALS = (DjangoValidationError, PermissionDenied, Ratelimited, ApiError)
REFUSALS = (*PAGE_REFUSALS, Http404, ObjectDoesNotExist)

RATE_LIMITED = "Too many requests. Try again later."


@dataclass(frozen=True)
class Refusal:
    """What to answer a refusal with: status, the API's error code, the message a person
    reads, the fields at fault (validation only) and headers (Retry-After)."""

    status: int
    code: str
    message: str
    fields: dict[str, list[str]] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def refusal(exc: Exception, *, too_often: str = RATE_LIMITED) -> Refusal:
    """THE mapping from a refusal (one of REFUSALS) to its answer. `too_often` is the
    edge's own words for a rate limit: each says what was too often."""
    if isinstance(exc, ApiError):
        return Refusal(exc.status, exc.code, exc.message, exc.fields, dict(exc.headers))
    if isinstance(exc, DjangoValidationError):
        fields = _django_validation_fields(exc) if hasattr(exc, "error_dict") else None
        return Refusal(400, "invalid", exc.messages[0], fields)
    if isinstance(exc, Ratelimited):
        retry_after = str(getattr(exc, "retry_after", None) or 60)
        return Refusal(429, "rate_limited", too_often, headers={"Retry-After": retry_after})
    if isinstance(exc, PermissionDenied):
        return Refusal(403, "forbidden", str(exc) or "You can't do that.")
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        return Refusal(404, "not_found", "Not found.")
    raise TypeError(f"not a refusal: {exc!r}")


def error_object(refused: Refusal) -> dict:
    """The API's error object {code, message, fields?}: inside API error bodies and the
    socket's error frames."""
    body = {"code": refused.code, "message": refused.message}
    if refused.fields:
        body["fields"] = refused.fields
    return body


def error_response(status: int, code: str, message: str, *, fields=None, headers=None):
    body = error_object(Refusal(status, code, message, fields))
    return JsonResponse({"error": body}, status=status, headers=headers)


def _field_name(loc) -> str:
    # ninja locations look like ("body", "payload", "username"); keep the field part.
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "file", "payload")]
    return ".".join(parts) or "__all__"


def _ninja_validation_fields(errors) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for err in errors:
        message = str(err.get("msg", "Invalid value.")).removeprefix("Value error, ")
        fields.setdefault(_field_name(err.get("loc", ())), []).append(message)
    return fields


def _django_validation_fields(exc: DjangoValidationError) -> dict[str, list[str]]:
    return {name: [str(m) for m in msgs] for name, msgs in exc.message_dict.items()}


def _api_refusal(request, exc: Exception):
    refused = refusal(exc)
    if isinstance(exc, DjangoValidationError):
        # API bodies always name the fields at fault, and sum several up in the message
        fields = refused.fields or {"__all__": [str(m) for m in exc.messages]}
        message = refused.message if len(fields) == 1 else "Some fields are not valid."
        refused = replace(refused, message=message, fields=fields)
    return JsonResponse(
        {"error": error_object(refused)}, status=refused.status, headers=refused.headers
    )


def suspicious_response(exc: SuspiciousOperation):
    """The API's answer to a request Django would not parse: too large (413), or too many
    files or fields in one request (400)."""
    if isinstance(exc, RequestDataTooBig):
        return error_response(413, "too_large", "The request is too large.")
    return error_response(400, "invalid", str(exc) or "The request was refused.")


INVALID_TEXT = "invalid_text"
# The message of a request the OpenAPI document already says is wrong (a missing field, a
# wrong type, a value out of its bounds), apart from a service's refusals of valid input.
SCHEMA_MISMATCH = "The request does not match the API's schema; see fields."


def invalid_text_refusal(field_name: str, message: str) -> Refusal:
    """What text that fails the input guard (circles.textguard) is answered with: 400,
    the field at fault named."""
    return refusal(ApiError(400, INVALID_TEXT, message, fields={field_name: [message]}))


DATABASE_UNAVAILABLE = (
    "database_unavailable",
    "The service is unavailable for a moment. Try again.",
)


def install_error_handlers(api) -> None:
    """Answer every failure of the NinjaAPI `api` in the error format. ninja is imported
    here, not at the top: services and tasks import this module for ApiError, and the
    Celery worker has no use for ninja and pydantic (~26 MB in every pool process)."""
    from ninja.errors import AuthenticationError, HttpError
    from ninja.errors import ValidationError as NinjaValidationError

    for kind in REFUSALS:
        api.add_exception_handler(kind, _api_refusal)

    @api.exception_handler(NinjaValidationError)
    def on_schema_error(request, exc: NinjaValidationError):
        fields = _ninja_validation_fields(exc.errors)
        return error_response(400, "invalid", SCHEMA_MISMATCH, fields=fields)

    @api.exception_handler(AuthenticationError)
    def on_unauthenticated(request, exc):
        return error_response(401, "not_authenticated", "Sign in or send a valid API token.")

    @api.exception_handler(HttpError)
    def on_http_error(request, exc: HttpError):
        message = str(exc)
        if exc.status_code == 403 and "CSRF" in message:
            return error_response(
                403, "csrf_failed", "Send the X-CSRFToken header from GET /auth/csrf."
            )
        return error_response(exc.status_code, STATUS_CODES.get(exc.status_code, "error"), message)

    @api.exception_handler(SuspiciousOperation)  # RequestDataTooBig included
    def on_suspicious(request, exc):
        return suspicious_response(exc)

    @api.exception_handler(OperationalError)
    def on_database_down(request, exc):
        logger.warning("database unavailable: %s", exc)
        return error_response(503, *DATABASE_UNAVAILABLE, headers={"Retry-After": "5"})

    @api.exception_handler(Exception)
    def on_unexpected(request, exc):
        logger.exception("unhandled API error")
        return error_response(500, "server_error", "Something went wrong on our side.")


@csrf_exempt  # a JSON 404 for every method; a CSRF page would leak HTML into the API
def api_not_found(request, *args, **kwargs):
    """Unknown paths under /api/ answer the JSON error format, not an HTML page."""
    return error_response(404, "not_found", "No such API endpoint.")
