"""Site-wide pages that belong to no app: the home page, the error pages and the shell's
pieces (badge counts, service worker, favicon)."""

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET

from circles.shell import badge_counts
from posts.views import feed


def home(request):
    """Signed in: the feed (posts.views.feed). Anonymous: the landing page."""
    if request.user.is_authenticated:
        return feed(request)
    return render(request, "landing.html")


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    return render(request, "500.html", status=500)


@never_cache
@require_GET
def nav_badges(request):
    """The shell's badge counts as out-of-band swaps (loaded after the page, and again by
    static/js/badges.js when the socket says something changed), so no page pays for them."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    return render(request, "components/_badges.html", badge_counts(request.user))


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
