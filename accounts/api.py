"""The accounts part of /api/v1 (shared/API.md: "Auth and account", "Users and graph",
circle membership). Handlers translate: parse → service/selector → return.

CSRF: session-authenticated writes need the X-CSRFToken header (SessionCsrfAuth). Login
and logout need it too: login because it plants a session cookie (login CSRF), even
though nobody is signed in yet (LoginCsrf below). Registration and POST /auth/tokens
create no session and use no cookie, so API clients call them without CSRF.
"""

from django.conf import settings
from django.http import Http404
from django.middleware.csrf import get_token
from django.urls import reverse
from ninja import File, Query, Router, Status, UploadedFile
from ninja.security import APIKeyCookie

from accounts import selectors, services
from accounts.schemas import (
    AccountDeleteIn,
    CircleIn,
    CircleInviteOut,
    CircleOut,
    CirclePatchIn,
    DataExportOut,
    FollowRequestOut,
    FollowStateOut,
    InvitationCreatedOut,
    InvitationIn,
    InvitationOut,
    LoginIn,
    MemberOut,
    MyInviteOut,
    ProfileIn,
    RegisterIn,
    RoleIn,
    TicketOut,
    TokenIn,
    TokenOut,
    UsernameIn,
    UserOut,
)
from circles.openapi import errors
from circles.schemas import Page, PageParams


class LoginCsrf(APIKeyCookie):
    """No credentials yet, but the CSRF check of a session write still applies."""

    param_name = settings.CSRF_COOKIE_NAME

    def authenticate(self, request, key):
        return True


auth_router = Router(tags=["auth"])
realtime_router = Router(tags=["realtime"])
users_router = Router(tags=["users"])
followers_router = Router(tags=["users"])
follow_requests_router = Router(tags=["users"])
blocks_router = Router(tags=["users"])
circles_router = Router(tags=["circles"])
invitations_router = Router(tags=["invitations"])


# --- auth and account -----------------------------------------------------------------


@auth_router.get("/csrf", auth=None, response={200: dict})
def csrf(request):
    """Sets the CSRF cookie; send its value back as X-CSRFToken on unsafe requests."""
    return {"csrf_token": get_token(request)}


@auth_router.post("/register", auth=None, response={201: UserOut}, openapi_extra=errors(429))
def register(request, payload: RegisterIn):
    """`invite_token` (beyond API.md): the token of an invitation link, required when the
    instance is invite-only; an unknown, used, expired or withdrawn one answers 400 on
    that field and counts against a limit."""
    user = services.user_register(request=request, **payload.dict())
    return Status(201, selectors.user_get_profile(username=user.username, viewer=user))


@auth_router.post("/login", auth=LoginCsrf(), response=UserOut, openapi_extra=errors(429))
def login(request, payload: LoginIn):
    """Starts a session. Failed tries are limited per username and address and per
    address (429 + Retry-After; circles.ratelimits). An account with two-factor sign-in
    also needs `otp_code` (beyond API.md): without it 400 `two_factor_required`, a wrong
    or reused one 400 `invalid_otp_code`, under their own limit."""
    user = services.user_login(
        request=request,
        username=payload.username,
        password=payload.password,
        otp_code=payload.otp_code,
    )
    return selectors.user_get_profile(username=user.username, viewer=user)


@auth_router.post("/logout", response={204: None})
def logout(request, everywhere: bool = False):
    """Ends this session (`?everywhere=true`: every session) and closes your sockets."""
    services.user_logout(request=request, everywhere=everywhere)
    return Status(204, None)


@auth_router.get("/me", response=UserOut)
def me(request):
    return selectors.user_get_profile(username=request.auth.username, viewer=request.auth)


@auth_router.patch("/me", response=UserOut)
def me_update(request, payload: ProfileIn):
    user = services.user_update(user=request.auth, **payload.dict(exclude_unset=True))
    return selectors.user_get_profile(username=user.username, viewer=user)


@auth_router.post("/me/avatar", response={202: UserOut})
def me_avatar(request, image: File[UploadedFile]):
    """Multipart `image`: JPEG, PNG, WebP or HEIC, ≤ 10 MB (413), checked by content (415)."""
    user = services.user_avatar_set(user=request.auth, file=image)
    return Status(202, selectors.user_get_profile(username=user.username, viewer=user))


@auth_router.delete("/me", response={204: None}, openapi_extra=errors(429))
def me_delete(request, payload: AccountDeleteIn):
    """Delete your account: `{password, otp_code?}` (otp_code: the second factor, needed
    when two-factor sign-in is on).
    Signed out everywhere at once, tokens revoked; everything you own is removed by a
    task. Wrong or missing password: 400, nothing changed; attempts are limited (429)."""
    services.account_delete_request(
        user=request.auth, password=payload.password, otp_code=payload.otp_code, request=request
    )
    services.user_logout(request=request)
    return Status(204, None)


@auth_router.post("/me/export", response={202: DataExportOut}, openapi_extra=errors(409, 429))
def me_export_start(request):
    """Start "Download your data" (a ZIP built by a task). 409 while one is being built;
    requests are limited (429)."""
    return Status(202, services.data_export_request(user=request.auth, request=request))


@auth_router.get("/me/export", response=DataExportOut, openapi_extra=errors(404))
def me_export(request):
    """Your newest export: its state and percent while building, its download_url once
    ready (7 days). 404 when you have none."""
    export = selectors.data_export_latest(user=request.auth)
    if export is None:
        raise Http404
    return export


@auth_router.post("/tokens", auth=None, response={201: TokenOut}, openapi_extra=errors(429))
def token_create(request, payload: TokenIn):
    """For an account with two-factor sign-in, `otp_code` too (beyond API.md): a token is
    only made after the second factor (400 `two_factor_required` / `invalid_otp_code`)."""
    user = services.user_authenticate(
        request=request,
        username=payload.username,
        password=payload.password,
        otp_code=payload.otp_code,
    )
    token, raw = services.api_token_create(user=user, name=payload.name)
    return Status(201, {"id": str(token.pk), "token": raw})


@auth_router.delete("/tokens/{token_id}", response={204: None})
def token_delete(request, token_id: str):
    services.api_token_revoke(user=request.auth, token_id=token_id)
    return Status(204, None)


@invitations_router.get("", response=Page[InvitationOut])
def invitation_list(request, page: Query[PageParams]):
    """The invitations you made, newest first, with their state and who used each (not
    in API.md)."""
    return selectors.invitation_list_for_user(
        user=request.auth, cursor=page.cursor, limit=page.limit
    )


@invitations_router.post("", response={201: InvitationCreatedOut}, openapi_extra=errors(429))
def invitation_create(request, payload: InvitationIn):
    """A single-use link to register, valid INVITATION_DAYS (7); `token` and `link` are in
    this answer only. 20 a day (429). Not in API.md."""
    invitation, raw = services.invitation_create(
        created_by=request.auth, note=payload.note, request=request
    )
    invitation.state, invitation.token = "pending", raw
    invitation.link = request.build_absolute_uri(reverse("accounts:register_invited", args=[raw]))
    return Status(201, invitation)


@invitations_router.delete("/{invitation_id}", response={204: None})
def invitation_revoke(request, invitation_id: str):
    """Withdraw one of your invitations that is not used yet (not in API.md)."""
    services.invitation_revoke(user=request.auth, invitation_id=invitation_id)
    return Status(204, None)


@realtime_router.post("/ticket", response={201: TicketOut})
def ticket_create(request):
    return Status(201, {"ticket": services.realtime_ticket_create(user=request.auth)})


# --- users and graph ------------------------------------------------------------------


@users_router.get("/{username}", response=UserOut)
def user_detail(request, username: str):
    return selectors.user_get_profile(username=username, viewer=request.auth)


@users_router.post("/{username}/follow", response=FollowStateOut)
def follow(request, username: str):
    """Follows a public account at once; asks a private one (state "requested")."""
    target = selectors.user_get_visible(username=username, viewer=request.auth)
    return {"state": services.follow_create(follower=request.auth, target=target)}


@users_router.delete("/{username}/follow", response={204: None})
def unfollow(request, username: str):
    """Unfollows, or withdraws a pending request."""
    target = selectors.user_get_visible(username=username, viewer=request.auth)
    services.follow_delete(follower=request.auth, target=target)
    return Status(204, None)


@users_router.get("/{username}/followers", response=Page[UserOut])
def user_followers(request, username: str, page: Query[PageParams]):
    """A private account's lists answer 403 to people who don't follow it."""
    user = selectors.user_get_visible(username=username, viewer=request.auth)
    return selectors.user_list_followers(
        user=user, viewer=request.auth, cursor=page.cursor, limit=page.limit
    )


@users_router.get("/{username}/following", response=Page[UserOut])
def user_following(request, username: str, page: Query[PageParams]):
    """A private account's lists answer 403 to people who don't follow it."""
    user = selectors.user_get_visible(username=username, viewer=request.auth)
    return selectors.user_list_following(
        user=user, viewer=request.auth, cursor=page.cursor, limit=page.limit
    )


@users_router.post("/{username}/block", response={204: None})
def block(request, username: str):
    target = selectors.user_get_visible(username=username, viewer=request.auth)
    services.block_create(blocker=request.auth, target=target)
    return Status(204, None)


@users_router.delete("/{username}/block", response={204: None})
def unblock(request, username: str):
    target = selectors.user_get_visible(username=username, viewer=request.auth)
    services.block_delete(blocker=request.auth, target=target)
    return Status(204, None)


@followers_router.delete("/{username}", response={204: None})
def follower_remove(request, username: str):
    """Removes username from your followers."""
    follower = selectors.user_get_visible(username=username, viewer=request.auth)
    services.follower_remove(user=request.auth, follower=follower)
    return Status(204, None)


@blocks_router.get("", response=Page[UserOut])
def block_list(request, page: Query[PageParams]):
    """The people you block, most recent first."""
    return selectors.block_list_for_user(user=request.auth, cursor=page.cursor, limit=page.limit)


@follow_requests_router.get("", response=Page[FollowRequestOut])
def follow_request_list(request, page: Query[PageParams]):
    """Requests to follow your private account, newest first."""
    return selectors.follow_request_list_incoming(
        user=request.auth, cursor=page.cursor, limit=page.limit
    )


@follow_requests_router.post("/{request_id}/approve", response={204: None})
def follow_request_approve(request, request_id: str):
    services.follow_request_approve(user=request.auth, request_id=request_id)
    return Status(204, None)


@follow_requests_router.post("/{request_id}/decline", response={204: None})
def follow_request_decline(request, request_id: str):
    services.follow_request_decline(user=request.auth, request_id=request_id)
    return Status(204, None)


# --- circles --------------------------------------------------------------------------


@circles_router.get("", response=Page[CircleOut])
def circle_list(request, page: Query[PageParams]):
    """Your circles, most recently joined first."""
    return selectors.circle_list_for_user(user=request.auth, cursor=page.cursor, limit=page.limit)


@circles_router.post("", response={201: CircleOut})
def circle_create(request, payload: CircleIn):
    circle = services.circle_create(owner=request.auth, **payload.dict())
    return Status(201, selectors.circle_get_for_member(circle_id=circle.pk, viewer=request.auth))


@circles_router.get("/invites", response=Page[MyInviteOut])
def circle_invite_list(request, page: Query[PageParams]):
    """Invitations waiting for your answer (not in API.md)."""
    return selectors.circle_invite_list_for_user(
        user=request.auth, cursor=page.cursor, limit=page.limit
    )


@circles_router.post("/invites/{invite_id}/accept", response=CircleOut)
def circle_invite_accept(request, invite_id: str):
    """Join the circle (not in API.md)."""
    circle = services.circle_invite_accept(user=request.auth, invite_id=invite_id)
    return selectors.circle_get_for_member(circle_id=circle.pk, viewer=request.auth)


@circles_router.post("/invites/{invite_id}/decline", response={204: None})
def circle_invite_decline(request, invite_id: str):
    """Decline an invitation (not in API.md)."""
    services.circle_invite_decline(user=request.auth, invite_id=invite_id)
    return Status(204, None)


@circles_router.get("/{circle_id}", response=CircleOut)
def circle_detail(request, circle_id: str):
    return selectors.circle_get_for_member(circle_id=circle_id, viewer=request.auth)


@circles_router.patch("/{circle_id}", response=CircleOut)
def circle_update(request, circle_id: str, payload: CirclePatchIn):
    """Owner only."""
    circle = selectors.circle_get_for_member(circle_id=circle_id, viewer=request.auth)
    return services.circle_update(
        actor=request.auth, circle=circle, **payload.dict(exclude_unset=True)
    )


@circles_router.delete("/{circle_id}", response={204: None})
def circle_delete(request, circle_id: str):
    """Owner only."""
    circle = selectors.circle_get_for_member(circle_id=circle_id, viewer=request.auth)
    services.circle_delete(actor=request.auth, circle=circle)
    return Status(204, None)


@circles_router.post("/{circle_id}/transfer", response=CircleOut)
def circle_transfer(request, circle_id: str, payload: UsernameIn):
    """Hand the circle to another member; you stay as an admin (not in API.md)."""
    circle = selectors.circle_get_for_member(circle_id=circle_id, viewer=request.auth)
    new_owner = selectors.user_get_visible(username=payload.username, viewer=request.auth)
    services.circle_transfer_ownership(actor=request.auth, circle=circle, new_owner=new_owner)
    return selectors.circle_get_for_member(circle_id=circle_id, viewer=request.auth)


@circles_router.get("/{circle_id}/members", response=Page[MemberOut])
def circle_members(request, circle_id: str, page: Query[PageParams]):
    circle = selectors.circle_get_for_member(circle_id=circle_id, viewer=request.auth)
    return selectors.circle_member_list(
        circle=circle, viewer=request.auth, cursor=page.cursor, limit=page.limit
    )


@circles_router.post("/{circle_id}/members", response={201: CircleInviteOut})
def circle_invite(request, circle_id: str, payload: UsernameIn):
    """Invite someone (owner or admin); they accept or decline."""
    circle = selectors.circle_get_for_member(circle_id=circle_id, viewer=request.auth)
    invitee = selectors.user_get_visible(username=payload.username, viewer=request.auth)
    return Status(201, services.circle_invite(actor=request.auth, circle=circle, invitee=invitee))


@circles_router.patch("/{circle_id}/members/{username}", response={204: None})
def circle_member_role(request, circle_id: str, username: str, payload: RoleIn):
    """Make a member an admin or a member again (owner only; not in API.md)."""
    circle = selectors.circle_get_for_member(circle_id=circle_id, viewer=request.auth)
    user = selectors.user_get_visible(username=username, viewer=request.auth)
    services.circle_member_set_role(actor=request.auth, circle=circle, user=user, role=payload.role)
    return Status(204, None)


@circles_router.delete("/{circle_id}/members/{username}", response={204: None})
def circle_member_remove(request, circle_id: str, username: str):
    """Remove a member (owner/admin), withdraw an invitation, or leave (yourself)."""
    circle = selectors.circle_get_for_member(circle_id=circle_id, viewer=request.auth)
    user = selectors.circle_person_get(circle=circle, username=username, viewer=request.auth)
    services.circle_member_remove(actor=request.auth, circle=circle, user=user)
    return Status(204, None)


@circles_router.get("/{circle_id}/invites", response=Page[CircleInviteOut])
def circle_invites(request, circle_id: str, page: Query[PageParams]):
    """Pending invitations of a circle you are in (not in API.md)."""
    circle = selectors.circle_get_for_member(circle_id=circle_id, viewer=request.auth)
    return selectors.circle_invite_list_for_circle(
        circle=circle, viewer=request.auth, cursor=page.cursor, limit=page.limit
    )
