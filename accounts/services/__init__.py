"""Every write about accounts, by sub-domain: users.py (registration, sessions, profile,
tokens), graph.py (follows, requests, blocks), circles.py. Import them from here:
`from accounts import services; services.follow_create(...)`. Pages, the API and admin
call these; they decide, the edges translate.

Errors: ValidationError({field: [message]}) for bad input (400), Http404 for things the
actor may not know about, PermissionDenied for things they can see but may not do (403),
ApiError for the few answers that need their own status (413, 415, wrong credentials).

Race safety: every pair (follow, request, block, membership, invite) is unique in the
database and inserted with ON CONFLICT DO NOTHING, so two identical writes at once leave
one row and both succeed. Writes that decide from the state of two people (follow, block,
approve, going public) first lock both user rows, in id order, so a follow cannot slip in
beside a concurrent block; circle writes lock the circle row (the 50-people limit).
"""

from accounts.services.circles import (
    circle_create,
    circle_delete,
    circle_invite,
    circle_invite_accept,
    circle_invite_cancel,
    circle_invite_decline,
    circle_leave,
    circle_member_remove,
    circle_member_set_role,
    circle_transfer_ownership,
    circle_update,
)
from accounts.services.graph import (
    block_create,
    block_delete,
    follow_create,
    follow_delete,
    follow_request_approve,
    follow_request_cancel,
    follow_request_decline,
    follower_remove,
)
from accounts.services.users import (
    TICKET_TTL_SECONDS,
    api_token_create,
    api_token_revoke,
    realtime_ticket_create,
    realtime_ticket_redeem,
    user_authenticate,
    user_avatar_set,
    user_avatar_settled,
    user_ban,
    user_ban_check,
    user_create,
    user_credentials_end,
    user_delete,
    user_login,
    user_logout,
    user_password_changed,
    user_password_set,
    user_register,
    user_sessions_end,
    user_unban,
    user_update,
)

__all__ = [
    "TICKET_TTL_SECONDS",
    "api_token_create",
    "api_token_revoke",
    "block_create",
    "block_delete",
    "circle_create",
    "circle_delete",
    "circle_invite",
    "circle_invite_accept",
    "circle_invite_cancel",
    "circle_invite_decline",
    "circle_leave",
    "circle_member_remove",
    "circle_member_set_role",
    "circle_transfer_ownership",
    "circle_update",
    "follow_create",
    "follow_delete",
    "follow_request_approve",
    "follow_request_cancel",
    "follow_request_decline",
    "follower_remove",
    "realtime_ticket_create",
    "realtime_ticket_redeem",
    "user_authenticate",
    "user_avatar_settled",
    "user_avatar_set",
    "user_ban",
    "user_ban_check",
    "user_create",
    "user_credentials_end",
    "user_delete",
    "user_login",
    "user_logout",
    "user_password_changed",
    "user_password_set",
    "user_register",
    "user_sessions_end",
    "user_unban",
    "user_update",
]
