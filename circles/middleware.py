"""Request id and client address, set before anything else looks at the request."""

import functools
import ipaddress
import re
import uuid

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render

from circles import textguard
from circles.logs import reset_request_id, set_request_id

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Take a well-formed X-Request-ID or make one; log lines and the response carry it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response["X-Request-ID"] = request_id
        return response


@functools.lru_cache(maxsize=8)
def _networks(trusted_proxies: tuple[str, ...]) -> tuple:
    """TRUSTED_PROXIES as networks: single addresses and CIDR ranges (10.0.0.0/8)."""
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in trusted_proxies)


def _is_trusted(address: str, trusted_proxies) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(trusted_proxies)))


def resolve_client_ip(remote_addr: str, forwarded_for: str, trusted_proxies: list[str]) -> str:
    """The client's address: the socket peer, unless that peer is a trusted proxy, in which
    case the right-most X-Forwarded-For entry that is not itself a trusted proxy."""
    if not forwarded_for or not _is_trusted(remote_addr, trusted_proxies):
        return remote_addr
    for hop in reversed([h.strip() for h in forwarded_for.split(",")]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return remote_addr
        if not _is_trusted(hop, trusted_proxies):
            return hop
    return remote_addr


class ClientIpMiddleware:
    """Sets request.client_ip (and META["CLIENT_IP"] for django-ratelimit)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.client_ip = resolve_client_ip(
            request.META.get("REMOTE_ADDR", ""),
            request.META.get("HTTP_X_FORWARDED_FOR", ""),
            settings.TRUSTED_PROXIES,
        )
        request.META["CLIENT_IP"] = request.client_ip
        return self.get_response(request)


def client_ip_meta_key(request) -> str:
    """RATELIMIT_IP_META_KEY: the address ClientIpMiddleware resolved."""
    return getattr(request, "client_ip", None) or request.META.get("REMOTE_ADDR", "")


class RequestSizeLimitMiddleware:
    """Refuse a request whose declared body is larger than any valid one (10 photos of
    10 MB plus form fields) before Django spools it to disk."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = request.META.get("CONTENT_LENGTH") or ""
        if length.isdigit() and int(length) > settings.MAX_REQUEST_BYTES:
            from circles.errors import error_response

            if request.path.startswith("/api/"):
                return error_response(413, "too_large", "The request is too large.")
            return HttpResponse("The request is too large.", status=413)
        return self.get_response(request)


class ApiMethodNotAllowedMiddleware:
    """A wrong method on a known API path answers the API's error format too (django-ninja
    answers those with a bare text 405, outside its exception handlers)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 405
            and request.path.startswith("/api/")
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            from circles.errors import error_response

            allowed = response.get("Allow", "")
            return error_response(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed here. Allowed: {allowed}.",
                headers={"Allow": allowed} if allowed else None,
            )
        return response


class TextGuardMiddleware:
    """The one input guard for text (circles.textguard): a path, query parameter, form
    field or JSON body holding NUL, another control character or an unpaired surrogate
    is refused with 400 before any view runs — the API in its error format (code
    `invalid_text`, the field named), pages with the plain 400 page. Nothing reaches a
    service or the database, which could not store it anyway."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from circles.errors import error_object, invalid_text_refusal, suspicious_response

        is_api = request.path.startswith("/api/")
        try:
            fault = textguard.request_fault(request)
        except SuspiciousOperation as exc:
            # a body Django will not parse: answered here, as the view would have been
            # (Django does not repeat a failed parse); pages get Django's own 400
            if is_api:
                return suspicious_response(exc)
            raise
        except MultiPartParserError:
            message = "The request body could not be read."
            if is_api:
                return suspicious_response(SuspiciousOperation(message))
            return render(None, "400.html", {"message": message}, status=400)
        if fault is None:
            return self.get_response(request)
        refused = invalid_text_refusal(fault, textguard.MESSAGE)
        if is_api:
            from django.http import JsonResponse

            return JsonResponse({"error": error_object(refused)}, status=refused.status)
        # rendered without the request: no session, no database, no context processors
        return render(None, "400.html", {"message": refused.message}, status=refused.status)


class ContentSecurityPolicyMiddleware:
    """Sends settings.CONTENT_SECURITY_POLICY with every response that has none yet, so
    an injected script (or an injected <style>) does not run in any page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class NoIndexMiddleware:
    """`X-Robots-Tag: noindex, nofollow` on every response (pages carry the meta tag
    too, and /robots.txt disallows everything): a site for a circle of friends is never
    meant to be found through a search engine, invite-only or not."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("X-Robots-Tag", "noindex, nofollow")
        return response


class ApiRequestBodyMiddleware:
    """The one place a request body is checked against what its API operation declares
    in the OpenAPI document (circles.openapi.request_body_refusal): a content type it
    does not take answers 415, JSON that does not parse or is not the object the schema
    wants answers 400 — before the view, in the error format, whatever the endpoint."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if not request.path.startswith("/api/") or match is None or not match.route:
            return None
        from circles.api import api
        from circles.errors import error_object
        from circles.openapi import openapi_path, request_body_refusal

        document = api.get_openapi_schema()
        operation = document["paths"].get(openapi_path(match.route), {}).get(request.method.lower())
        if operation is None:
            return None
        refused = request_body_refusal(request, operation, document["components"]["schemas"])
        if refused is None:
            return None
        return JsonResponse({"error": error_object(refused)}, status=refused.status)
