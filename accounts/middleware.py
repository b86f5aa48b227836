"""Who may reach what before any view runs: bearer tokens for the views that accept them
(circles.auth), the invite-only wall for anonymous visitors, and the second factor for
staff on the admin."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from accounts.selectors import user_for_api_token
from accounts.services import two_factor_enabled
from circles.auth import view_accepts_bearer_token
from circles.errors import error_response
from circles.views import page_not_found
from media.signing import PARAMETER as MEDIA_SIGNATURE
from media.signing import signed_viewer_id


def _bearer_token(request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


class BearerTokenMiddleware:
    """Signs a request in with its `Authorization: Bearer <token>` when the view opted in
    with @accepts_bearer_token: the media view, so API clients load the photos their
    answers link to. As in the API, a valid token wins over the session; an invalid one
    leaves the request as it was (an outsider's view: 404 for what is not public)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not view_accepts_bearer_token(view_func):
            return None
        token = _bearer_token(request)
        if token:
            user = user_for_api_token(token)
            if user is not None:
                request.user = user
        return None


# What an anonymous visitor may reach on an invite-only instance: signing in (both
# steps), registering with an invitation, resetting a password, and the pieces a
# browser or a load balancer asks for by themselves. Static files never get here
# (WhiteNoise answers them first).
OPEN_PAGES = frozenset(
    {
        "accounts:login",
        "accounts:login_code",
        "accounts:register",
        "accounts:register_invited",
        "accounts:password_reset",
        "accounts:password_reset_done",
        "accounts:password_reset_confirm",
        "accounts:password_reset_complete",
        "healthz",
        "readyz",
        "robots_txt",
        "favicon",
        "service_worker",
        # a scraper has no session: /metrics keeps its own guard (networks or a token)
        "prometheus-django-metrics",
    }
)
# By route: ninja names URLs after their functions, which need not be unique.
OPEN_API_ROUTES = frozenset(
    {"api/v1/auth/csrf", "api/v1/auth/login", "api/v1/auth/register", "api/v1/auth/tokens"}
)


class AnonymousWallMiddleware:
    """INVITE_ONLY: the one place that keeps anonymous visitors out. A request without a
    member's credentials reaches only OPEN_PAGES and OPEN_API_ROUTES; anything else —
    pages, the API (its documents too), media, unknown paths — answers as if to a
    stranger: pages redirect to sign in, the API says 401 in its error format, media
    says 404. Credentials are the session, an API bearer token (API and media) or a
    media URL signed for a member; the views check them again as usual. Sockets need a
    session or a ticket that only a member can get (messaging's consumer closes others
    with 4401)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not settings.INVITE_ONLY or request.user.is_authenticated:
            return None
        match = request.resolver_match
        if match.view_name in OPEN_PAGES or match.route in OPEN_API_ROUTES:
            return None
        if request.path.startswith("/api/"):
            token = _bearer_token(request)
            if token and user_for_api_token(token) is not None:
                return None
            return error_response(401, "not_authenticated", "Sign in or send a valid API token.")
        if match.view_name == "media:image":
            signature = request.GET.get(MEDIA_SIGNATURE)
            image_id = view_kwargs.get("image_id")
            if signature and signed_viewer_id(image_id=image_id, token=signature[:500]):
                return None
            return page_not_found(request)
        if request.headers.get("HX-Request") == "true":
            return HttpResponse(headers={"HX-Redirect": reverse("accounts:login")})
        return redirect_to_login(request.get_full_path())


class StaffTwoFactorMiddleware:
    """TWO_FACTOR_REQUIRED_FOR_STAFF: a staff member without a confirmed authenticator is
    sent to set one up before any admin page (the Django admin); the staff API under
    /api/v1/admin/ answers 403 `two_factor_required`, by session or bearer token alike."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not settings.TWO_FACTOR_REQUIRED_FOR_STAFF:
            return None
        in_admin = request.resolver_match.namespace == "admin"
        in_admin_api = request.path.startswith("/api/v1/admin/")
        if not (in_admin or in_admin_api):
            return None
        user = request.user
        if in_admin_api and not user.is_authenticated and _bearer_token(request):
            user = user_for_api_token(_bearer_token(request)) or user  # the API's other way in
        if not (user.is_authenticated and user.is_staff) or two_factor_enabled(user):
            return None
        message = "Set up two-factor sign-in first: this site requires it for staff."
        if in_admin_api:
            return error_response(403, "two_factor_required", message)
        messages.info(request, message)
        return redirect("accounts:two_factor")
