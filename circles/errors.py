"""The API error format, one shape for every failure:

    {"error": {"code": "<snake_case>", "message": "<human text>", "fields": {...}}}

Services raise Django's ValidationError / Http404 / PermissionDenied or ApiError; the
handlers installed on the NinjaAPI turn each into that shape with the right status.
"""

import logging

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
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

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


def error_response(status: int, code: str, message: str, *, fields=None, headers=None):
    body = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    response = JsonResponse({"error": body}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


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
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


DATABASE_UNAVAILABLE = (
    "database_unavailable",
    "The service is unavailable for a moment. Try again.",
)


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(ApiError)
    def on_api_error(request, exc: ApiError):
        return error_response(
            exc.status, exc.code, exc.message, fields=exc.fields, headers=exc.headers
        )

    @api.exception_handler(NinjaValidationError)
    def on_schema_error(request, exc: NinjaValidationError):
        fields = _ninja_validation_fields(exc.errors)
        return error_response(400, "invalid", "Some fields are not valid.", fields=fields)

    @api.exception_handler(DjangoValidationError)
    def on_rule_error(request, exc: DjangoValidationError):
        fields = _django_validation_fields(exc)
        message = (
            next(iter(fields.values()))[0] if len(fields) == 1 else "Some fields are not valid."
        )
        return error_response(400, "invalid", message, fields=fields)

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

    @api.exception_handler(Http404)
    def on_not_found(request, exc):
        return error_response(404, "not_found", "Not found.")

    @api.exception_handler(ObjectDoesNotExist)
    def on_missing_object(request, exc):
        return error_response(404, "not_found", "Not found.")

    @api.exception_handler(PermissionDenied)
    def on_forbidden(request, exc):
        return error_response(403, "forbidden", str(exc) or "You are not allowed to do that.")

    @api.exception_handler(Ratelimited)
    def on_rate_limited(request, exc):
        retry_after = getattr(exc, "retry_after", None) or 60
        return error_response(
            429,
            "rate_limited",
            "Too many requests. Try again later.",
            headers={"Retry-After": str(retry_after)},
        )

    @api.exception_handler(RequestDataTooBig)
    def on_too_big(request, exc):
        return error_response(413, "too_large", "The request is too large.")

    @api.exception_handler(SuspiciousOperation)
    def on_suspicious(request, exc):
        # e.g. too many files or fields in one multipart request
        return error_response(400, "invalid", str(exc) or "The request was refused.")

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
