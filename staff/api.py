"""The admin API (/api/v1/admin): staff only. Anyone else — anonymous, members, a
token of a non-staff account — gets 404, as if it did not exist."""

from django.http import Http404
from ninja import Query, Router, Status
from ninja.security import HttpBearer, SessionAuth

from accounts.selectors import user_for_api_token
from circles.openapi import errors
from circles.schemas import Page, PageParams
from staff import selectors, services, stats
from staff.schemas import (
    AdminPostListParams,
    AdminPostOut,
    AdminUserListParams,
    AdminUserOut,
    StatsOut,
)


def _is_staff(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


class StaffBearerAuth(HttpBearer):
    def authenticate(self, request, token):
        user = user_for_api_token(token)
        if not _is_staff(user):
            return None
        request.user = user
        return user


class StaffSessionAuth(SessionAuth):
    """The session of a staff member; CSRF is checked only once they are known to be
    staff, so nobody else learns more than 404."""

    def __call__(self, request):
        if not _is_staff(getattr(request, "user", None)):
            return None
        return super().__call__(request)


def _nobody_else(request):
    raise Http404


router = Router(tags=["admin"], auth=[StaffBearerAuth(), StaffSessionAuth(), _nobody_else])


@router.get("/users", response=Page[AdminUserOut], openapi_extra=errors(404))
def admin_user_list(request, filters: Query[AdminUserListParams], page: Query[PageParams]):
    return selectors.user_list_for_staff(
        q=filters.q, banned=filters.banned, cursor=page.cursor, limit=page.limit
    )


@router.delete("/users/{username}", response={204: None}, openapi_extra=errors(404))
def admin_user_ban(request, username: str):
    services.staff_user_ban(actor=request.auth, username=username, ip=services.request_ip(request))
    return Status(204, None)


@router.post("/users/{username}/unban", response={204: None}, openapi_extra=errors(404))
def admin_user_unban(request, username: str):
    services.staff_user_unban(
        actor=request.auth, username=username, ip=services.request_ip(request)
    )
    return Status(204, None)


@router.get("/posts", response=Page[AdminPostOut], openapi_extra=errors(404))
def admin_post_list(request, filters: Query[AdminPostListParams], page: Query[PageParams]):
    return selectors.post_list_for_staff(
        q=filters.q, author=filters.author, cursor=page.cursor, limit=page.limit
    )


@router.delete("/posts/{post_id}", response={204: None}, openapi_extra=errors(404))
def admin_post_remove(request, post_id: str):
    services.staff_post_remove(actor=request.auth, post_id=post_id, ip=services.request_ip(request))
    return Status(204, None)


@router.get("/stats", response=StatsOut, openapi_extra=errors(404))
def admin_stats(request):
    return stats.stats_collect()
