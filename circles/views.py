"""Site-wide pages that belong to no app: the error pages. (The home page is the feed's:
posts.views.home.)"""

import sys

from django.db import OperationalError
from django.shortcuts import render

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
