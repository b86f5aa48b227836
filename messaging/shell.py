"""The site's shell: the counts on the navigation's badges.

The bell counts what waits for you. Until notifications exist it is follow requests plus
circle invitations; `activity_count` is the one place to make it the notifications'
unread count. The counts read several apps, so they live on the top floor (messaging),
which may read every app below it.
"""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.selectors import circle_invite_count_for_user, follow_request_count_incoming
from messaging.selectors import conversation_unread_total


def activity_counts(user) -> dict[str, int]:
    """What the bell's menu lists, each with its own count."""
    return {
        "requests": follow_request_count_incoming(user=user),
        "invites": circle_invite_count_for_user(user=user),
    }


def activity_count(user, counts: dict[str, int] | None = None) -> int:
    """The bell's badge. Replace with the notifications' unread count when they land."""
    return sum((counts or activity_counts(user)).values())


def badge_counts(user) -> dict[str, int]:
    """Every badge of the shell: activity (the bell) and messages (unread conversations)."""
    counts = activity_counts(user)
    return {
        **counts,
        "activity": activity_count(user, counts),
        "messages": conversation_unread_total(user=user),
    }


@never_cache
@require_GET
def nav_badges(request):
    """The shell's badge counts as out-of-band swaps (loaded after the page, and again by
    static/js/badges.js when the socket says something changed), so no page pays for them."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    return render(request, "components/_badges.html", badge_counts(request.user))
