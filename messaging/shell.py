"""The site's shell: the counts on the navigation's badges.

The bell counts unread notifications; the menu counts follow requests and circle
invitations; Messages counts unread conversations. The counts read several apps, so they
live on the top floor (messaging), which may read every app below it.
"""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.selectors import circle_invite_count_for_user, follow_request_count_incoming
from messaging.selectors import conversation_unread_total
from notifications.selectors import notification_count_unread


def badge_counts(user, *, activity=True) -> dict[str, int | None]:
    """Every badge of the shell: activity (the bell; None when not asked), the menu's
    requests and invitations, and messages (unread conversations)."""
    return {
        "activity": notification_count_unread(user=user) if activity else None,
        "requests": follow_request_count_incoming(user=user),
        "invites": circle_invite_count_for_user(user=user),
        "messages": conversation_unread_total(user=user),
    }


@never_cache
@require_GET
def nav_badges(request):
    """The shell's badge counts as out-of-band swaps (loaded after the page, and again by
    static/js/badges.js when the socket says something changed), so no page pays for them.
    The page's own load asks `?except=activity`: the page rendered the bell's count."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    activity = request.GET.get("except") != "activity"
    return render(request, "components/_badges.html", badge_counts(request.user, activity=activity))
