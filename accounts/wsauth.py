"""WebSocket authentication: a browser's session cookie (Origin checked against
ALLOWED_HOSTS, so other sites cannot ride the cookie) or a single-use `?ticket=` from
POST /api/v1/realtime/ticket for clients without the cookie. Anything else reaches the
consumer as an anonymous user, which closes with 4401."""

from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.security.websocket import AllowedHostsOriginValidator
from django.contrib.auth.models import AnonymousUser

from accounts.services import realtime_ticket_redeem


class TicketAuthMiddleware:
    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        ticket = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("ticket", [""])[0]
        user = await database_sync_to_async(realtime_ticket_redeem)(ticket=ticket[:200])
        scope = dict(scope, user=user or AnonymousUser())
        return await self.inner(scope, receive, send)


def websocket_auth(inner):
    by_ticket = TicketAuthMiddleware(inner)
    by_session = AllowedHostsOriginValidator(AuthMiddlewareStack(inner))

    async def app(scope, receive, send):
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        handler = by_ticket if "ticket" in query else by_session
        return await handler(scope, receive, send)

    return app
