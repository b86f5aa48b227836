"""Event payloads published through circles.realtime (to `user.<recipient id>` only).

| event                  | frame (messaging's consumer)                          |
| ---------------------- | ----------------------------------------------------- |
| notification.created   | {"type": "notification.new", notification, unread_count} |
"""


def notification_created(*, notification: dict, count: int) -> dict:
    """A new or regrouped notification (API.md's object) and the recipient's unread count."""
    return {"type": "notification.created", "notification": notification, "unread_count": count}
