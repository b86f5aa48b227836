"""Site-wide pages that belong to no app: the home page and the error pages."""

from django.shortcuts import render

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
