"""`notifications_unread` on every page: the badge's count, so it is right without a
socket. Lazy: asked (one indexed query) only when a template shows it."""

from django.utils.functional import SimpleLazyObject

from notifications.selectors import notification_count_unread


def unread(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"notifications_unread": 0}
    return {"notifications_unread": SimpleLazyObject(lambda: notification_count_unread(user=user))}
