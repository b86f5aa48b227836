"""Which page views accept an API bearer token as well as the session cookie.

The API authenticates tokens itself (circles.api); a plain view opts in with
@accepts_bearer_token, and accounts' BearerTokenMiddleware signs its request in with the
token. Only views that read (the media view) opt in: a bearer request carries no CSRF
risk, but pages have no use for one.
"""


def accepts_bearer_token(view):
    view.accepts_bearer_token = True
    return view


def view_accepts_bearer_token(view) -> bool:
    return getattr(view, "accepts_bearer_token", False)
