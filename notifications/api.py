"""Notifications endpoints of the API contract: thin handlers over services/selectors."""

from django.http import HttpResponse
from ninja import Body, Query, Router, Status

from circles import api_json
from circles.schemas import Page, PageParams
from notifications import selectors, services
from notifications.schemas import NotificationOut, NotificationsReadIn, UnreadCountOut

router = Router(tags=["notifications"])


@router.get("", response=Page[NotificationOut])
def notification_list(request, page: Query[PageParams]):
    found = selectors.notification_list_for_user(
        user=request.auth, cursor=page.cursor, limit=page.limit
    )
    items = [selectors.notification_payload(row) for row in found.items]
    # JSON as the schema writes it (notification_payload), not validated again: pydantic
    # cost a third of the list's time (bench: notifications)
    body = api_json.dumps({"items": items, "next_cursor": found.next_cursor})
    return HttpResponse(body, content_type="application/json; charset=utf-8")


@router.get("/unread-count", response=UnreadCountOut)
def notification_unread_count(request):
    return {"count": selectors.notification_count_unread(user=request.auth)}


@router.post("/read", response={204: None})
def notifications_read(request, payload: Body[NotificationsReadIn | None] = None):
    ids = payload.ids if payload is not None else None
    services.notifications_mark_read(user=request.auth, ids=ids)
    return Status(204, None)
