"""Site-wide pages that belong to no app: the error pages. (The home page is the feed's:
posts.views.home.)"""

from django.shortcuts import render


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    return render(request, "500.html", status=500)
