"""The activity page: parse → one selector/service → render."""

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from circles.errors import ApiError
from notifications import selectors, services


def _sections(rows) -> list[tuple[str, list]]:
    """Today / This week / Earlier, by the day of each row's newest event."""
    today = timezone.localdate()
    sections: dict[str, list] = {}
    for row in rows:
        day = timezone.localdate(row.created_at)
        if day == today:
            name = "Today"
        elif day > today - timedelta(days=7):
            name = "This week"
        else:
            name = "Earlier"
        sections.setdefault(name, []).append(row)
    return list(sections.items())


@login_required
@never_cache
@require_GET
def notification_list(request):
    """The page (or, to htmx scrolling down, the next page's items). What it shows is
    marked read: the rows keep their unread look for this view."""
    try:
        page = selectors.notification_list_for_user(
            user=request.user, cursor=request.GET.get("cursor")
        )
    except ApiError:
        page = selectors.notification_list_for_user(user=request.user)
    unread = [row.id for row in page.items if not row.read]
    if unread:
        services.notifications_mark_read(user=request.user, ids=unread)
    context = {"page": page, "sections": _sections(page.items), "unread_shown": len(unread)}
    if request.headers.get("HX-Request") == "true" and request.GET.get("cursor"):
        return render(request, "notifications/_items.html", context)
    return render(request, "notifications/list.html", context)


@login_required
@require_POST
def notifications_read_all(request):
    """ "Mark all as read": to htmx, 204 and the count for the badge; otherwise back to
    the page."""
    services.notifications_mark_read(user=request.user)
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=204)
        response["HX-Trigger"] = '{"notifications:count": 0}'
        return response
    return redirect("notifications:list")
