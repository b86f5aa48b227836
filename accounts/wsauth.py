"""WebSocket authentication: a browser's session cookie (its Origin must be the site's
own, so other sites cannot ride the cookie) or a single-use `?ticket=` from
POST /api/v1/realtime/ticket for clients without the cookie. Anything else reaches the
consumer as an anonymous user, which closes with 4401."""

from urllib.parse import parse_qs, urlsplit

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import split_domain_port, validate_host

from accounts.services import realtime_ticket_redeem


class TicketAuthMiddleware:
    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        ticket = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("ticket", [""])[0]
        user = await database_sync_to_async(realtime_ticket_redeem)(ticket=ticket[:200])
        scope = dict(scope, user=user or AnonymousUser())
        return await self.inner(scope, receive, send)


DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(value: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin such as "https://example.com:8443", default
    ports filled in; None for anything that is not an http(s) origin."""
    try:
        parts = urlsplit(value.strip().lower())
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or port is None:
        return None
    return parts.scheme, parts.hostname, port


def _secure(scope, headers: dict) -> bool:
    """Whether the page that opened the socket was served over HTTPS: a wss:// socket,
    or, behind a TLS proxy (SECURE_PROXY_SSL_HEADER, as Django reads it), its header."""
    if scope.get("scheme") in ("wss", "https"):
        return True
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        name, value = proxy_header
        header = name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin-1")
        return headers.get(header, b"").decode("latin-1").split(",")[0].strip() == value
    return False


def origin_allowed(scope) -> bool:
    """The socket's Origin is the site's own — the same scheme, host and port as the
    Host it was opened on (itself one of ALLOWED_HOSTS) — or one of CSRF_TRUSTED_ORIGINS
    (exact, or "https://*.example.com" for subdomains), as Django's CSRF check decides
    for forms. A missing Origin is refused: browsers always send one."""
    headers = dict(scope.get("headers") or [])
    origin = _origin(headers.get(b"origin", b"").decode("latin-1"))
    if origin is None:
        return False
    host = headers.get(b"host", b"").decode("latin-1")
    domain, _ = split_domain_port(host)
    if domain and validate_host(domain, settings.ALLOWED_HOSTS):
        own = _origin(f"{'https' if _secure(scope, headers) else 'http'}://{host}")
        if origin == own:
            return True
    scheme, hostname, port = origin
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        wildcard = "://*." in trusted
        allowed = _origin(trusted.replace("://*.", "://", 1))
        if allowed is None or allowed[0] != scheme or allowed[2] != port:
            continue
        if hostname == allowed[1] or (wildcard and hostname.endswith("." + allowed[1])):
            return True
    return False


class OriginValidator:
    """Refuse the handshake (403) unless origin_allowed(scope)."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        if not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.inner(scope, receive, send)


def websocket_auth(inner):
    by_ticket = TicketAuthMiddleware(inner)
    by_session = OriginValidator(AuthMiddlewareStack(inner))

    async def app(scope, receive, send):
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        handler = by_ticket if "ticket" in query else by_session
        return await handler(scope, receive, send)

    return app
