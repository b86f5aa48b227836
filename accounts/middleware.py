"""Bearer tokens for the page views that accept them (circles.auth)."""

from accounts.selectors import user_for_api_token
from circles.auth import view_accepts_bearer_token


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
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            user = user_for_api_token(token.strip())
            if user is not None:
                request.user = user
        return None
