"""Site-wide pages that belong to no app: the error pages and the shell's static pieces
(service worker, favicon). The home page is the feed's (posts.views.home); the badge
counts read every app, so they live on the top floor (messaging.shell)."""

import sys

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.contrib.staticfiles import finders
from django.db import OperationalError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from circles.errors import DATABASE_UNAVAILABLE, error_response


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    """Django's handler500, called while the exception is being handled: a database that
    cannot be reached (restarting, failing over, gone) is a 503 the client may retry,
    not a 500. Rendered without the database: no context processors, no session."""
    if isinstance(sys.exc_info()[1], OperationalError):
        if request.path.startswith("/api/"):
            return error_response(503, *DATABASE_UNAVAILABLE, headers={"Retry-After": "5"})
        response = render(None, "503.html", status=503)
        response["Retry-After"] = "5"
        return response
    return render(None, "500.html", status=500)


@require_GET
@cache_control(no_cache=True)  # a new worker reaches browsers at their next visit
def service_worker(request):
    """static/js/sw.js at /sw.js: a worker controls only pages under its own path."""
    path = finders.find("js/sw.js") or settings.STATIC_ROOT / "js" / "sw.js"
    with open(path, "rb") as script:  # small: read whole (a streamed file warns under ASGI)
        response = HttpResponse(script.read(), content_type="text/javascript")
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says."""
    return redirect(static("img/favicon.ico"), permanent=True)


@require_GET
@cache_control(max_age=86400, public=True)
def robots_txt(request):
    """Every crawler is asked to stay out of everything (see NoIndexMiddleware)."""
    return HttpResponse("User-agent: *\nDisallow: /\n", content_type="text/plain")


def admin_login(request):
    """The admin's own sign-in form would skip the second factor: everyone signs in
    through the site's sign-in, then comes back."""
    return redirect_to_login(request.GET.get("next") or "/admin/")
