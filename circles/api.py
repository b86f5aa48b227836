"""The /api/v1 root: one NinjaAPI, both auth modes, the error format, every app's router."""

from django.contrib.auth.models import AnonymousUser
from ninja import NinjaAPI
from ninja.security import HttpBearer, SessionAuth

from accounts.selectors import user_for_api_token
from circles.errors import install_error_handlers
from circles.openapi import complete_document


class BearerTokenAuth(HttpBearer):
    """`Authorization: Bearer <token>` from POST /auth/tokens; no CSRF needed."""

    def authenticate(self, request, token):
        user = user_for_api_token(token)
        if user is not None:
            request.user = user
            request.auth_via_token = True
        return user


class SessionCsrfAuth(SessionAuth):
    """The browser session; unsafe methods need the X-CSRFToken header (checked by ninja)."""

    def authenticate(self, request, key):
        user = getattr(request, "user", AnonymousUser())
        return user if user.is_authenticated and user.is_active else None


class CirclesApi(NinjaAPI):
    """NinjaAPI whose OpenAPI document tells the whole truth (circles.openapi completes
    what ninja builds: every error, input constraint, security requirement and example)
    and is built once per process: it only changes with the code, and building it takes
    tens of milliseconds."""

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        cache = self.__dict__.setdefault("_schemas", {})
        if path_prefix not in cache:
            document = super().get_openapi_schema(path_prefix=path_prefix)
            cache[path_prefix] = complete_document(document)
        return cache[path_prefix]


api = CirclesApi(
    title="Circles API",
    version="1",
    urls_namespace="api",
    auth=[BearerTokenAuth(), SessionCsrfAuth()],
)
install_error_handlers(api)


def _mount_routers() -> None:
    from accounts.api import (
        auth_router,
        blocks_router,
        circles_router,
        follow_requests_router,
        followers_router,
        invitations_router,
        realtime_router,
        users_router,
    )
    from albums.api import router as albums_router
    from media.api import router as media_router
    from messaging.api import conversations_router, messages_router, story_replies_router
    from notifications.api import router as notifications_router
    from posts.api import comments_router, discovery_router
    from posts.api import router as posts_router
    from staff.api import router as admin_router
    from stories.api import router as stories_router

    api.add_router("/auth", auth_router)
    api.add_router("/realtime", realtime_router)
    api.add_router("/invitations", invitations_router)
    api.add_router("/media", media_router)
    api.add_router("/posts", posts_router)
    api.add_router("/comments", comments_router)
    api.add_router("/users", users_router)
    api.add_router("/followers", followers_router)
    api.add_router("/follow-requests", follow_requests_router)
    api.add_router("/blocks", blocks_router)
    api.add_router("/circles", circles_router)
    api.add_router("/albums", albums_router)
    api.add_router("/conversations", conversations_router)
    api.add_router("/messages", messages_router)
    api.add_router("/stories", stories_router)
    api.add_router("/stories", story_replies_router)  # POST /stories/{id}/reply: a message
    api.add_router("/notifications", notifications_router)
    api.add_router("/admin", admin_router)
    api.add_router("", discovery_router)  # /feed, /explore, /search, /users/{u}/posts, ...


_mount_routers()
