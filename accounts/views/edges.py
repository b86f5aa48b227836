"""What every accounts page shares: how a service's refusal becomes a status and a
message, the POST-only signed-in action decorator, and the local-only `next`."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from circles import errors

# Http404 is not here: it travels on to the site's 404 page.
REFUSALS = errors.PAGE_REFUSALS


def htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def refusal(exc) -> tuple[int, str, dict]:
    """(status, message, headers) for an exception in REFUSALS: circles.errors.refusal,
    with accounts pages' words for a rate limit."""
    refused = errors.refusal(exc, too_often="Too many attempts. Try again in a minute.")
    return refused.status, refused.message, refused.headers


def render_page(request, template, context, *, status=200, headers=None):
    response = render(request, template, context, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def refused(request, exc, *, back: str | None = None):
    """The page (or, to htmx, the fragment) that says why an action was refused."""
    status, message, headers = refusal(exc)
    template = "accounts/_refused.html" if htmx(request) else "accounts/refused.html"
    context = {"message": message, "back": back or safe_next(request) or reverse("home")}
    return render_page(request, template, context, status=status, headers=headers)


def safe_next(request, fallback: str = "") -> str:
    """`next` from the form or the query string when it points into this site, else
    fallback: an address on another host (or scheme trickery) is ignored."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if url and allowed else fallback


def page_action(view):
    """A signed-in POST (anonymous: to the login page; other methods: 405). A service's
    refusal answers with its status and message; Http404 goes on to the 404 page."""

    @wraps(view)
    @require_POST
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            if htmx(request):  # the whole page goes to log in, not the button
                return HttpResponse(headers={"HX-Redirect": reverse("accounts:login")})
            return redirect_to_login(safe_next(request, reverse("home")))
        try:
            return view(request, *args, **kwargs)
        except REFUSALS as exc:
            return refused(request, exc)

    return wrapped


def refusals_as_pages(view):
    """For pages: a service's refusal (a private account's lists, a bad cursor) becomes
    a page with its status instead of a server error."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except REFUSALS as exc:
            return refused(request, exc)

    return wrapped
