"""Accounts routes, in three groups mounted by circles/urls.py:

- `urlpatterns` (namespace "accounts") under /accounts/: sign-in (and its two-factor
  step), registration (and by invitation), passwords, settings, invitations, two-factor,
  follow/block actions, the request inbox, the blocked list;
- `circle_urls` (namespace "circles") under /circles/;
- `people_urls`: a person's follower lists, which posts/urls.py puts beside the profile
  page in the "profiles" namespace (the profile shows posts, so posts owns that list).
"""

from django.urls import path

from accounts.views import auth, circles, leaving, people, security

app_name = "accounts"

U = "users/<str:username>/"
R = "requests/<uuid:request_id>/"

urlpatterns = [
    path("register/", auth.register, name="register"),
    path("register/<str:token>/", auth.register, name="register_invited"),
    path("login/", auth.login, name="login"),
    path("login/code/", auth.login_code, name="login_code"),
    path("logout/", auth.logout, name="logout"),
    path("password/", auth.password_change, name="password_change"),
    path("password/reset/", auth.password_reset, name="password_reset"),
    path("password/reset/sent/", auth.password_reset_done, name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        auth.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("password/reset/done/", auth.password_reset_complete, name="password_reset_complete"),
    path("profile/", people.profile_edit, name="profile_edit"),
    path("settings/", people.settings_page, name="settings"),
    path("settings/tokens/", people.token_create, name="token_create"),
    path("settings/tokens/<uuid:token_id>/revoke/", people.token_revoke, name="token_revoke"),
    path("settings/export/", leaving.export_start, name="export_start"),
    path("settings/export/status/", leaving.export_status, name="export_status"),
    path("export/<uuid:export_id>/download/", leaving.export_download, name="export_download"),
    path("delete/", leaving.account_delete, name="delete"),
    path("settings/invitations/", people.invitation_create, name="invitation_create"),
    path(
        "settings/invitations/<uuid:invitation_id>/revoke/",
        people.invitation_revoke,
        name="invitation_revoke",
    ),
    path("two-factor/", security.two_factor, name="two_factor"),
    path("two-factor/start/", security.two_factor_setup_start, name="two_factor_start"),
    path("two-factor/setup/", security.two_factor_setup, name="two_factor_setup"),
    path("two-factor/disable/", security.two_factor_disable, name="two_factor_disable"),
    path(
        "two-factor/recovery-codes/",
        security.recovery_codes_regenerate,
        name="recovery_codes_regenerate",
    ),
    path("requests/", people.follow_requests, name="requests"),
    path(f"{R}approve/", people.follow_request_approve, name="request_approve"),
    path(f"{R}decline/", people.follow_request_decline, name="request_decline"),
    path("blocked/", people.blocked, name="blocked"),
    path(f"{U}follow/", people.follow, name="follow"),
    path(f"{U}unfollow/", people.unfollow, name="unfollow"),
    path(f"{U}cancel-request/", people.follow_request_cancel, name="request_cancel"),
    path(f"{U}remove-follower/", people.follower_remove, name="follower_remove"),
    path(f"{U}block/", people.block, name="block"),
    path(f"{U}unblock/", people.unblock, name="unblock"),
]

C = "<uuid:circle_id>/"
INV = "invites/<uuid:invite_id>/"
M = f"{C}members/<str:username>/"

circle_urls = (
    [
        path("", circles.circle_list, name="list"),
        path("invites/", circles.circle_invites, name="invites"),
        path(f"{INV}accept/", circles.circle_invite_accept, name="invite_accept"),
        path(f"{INV}decline/", circles.circle_invite_decline, name="invite_decline"),
        path(C, circles.circle_detail, name="detail"),
        path(f"{C}edit/", circles.circle_update, name="update"),
        path(f"{C}delete/", circles.circle_delete, name="delete"),
        path(f"{C}invite/", circles.circle_invite, name="invite"),
        path(f"{C}invites/<str:username>/cancel/", circles.circle_invite_cancel, name="uninvite"),
        path(f"{C}leave/", circles.circle_leave, name="leave"),
        path(f"{C}transfer/", circles.circle_transfer, name="transfer"),
        path(f"{M}remove/", circles.circle_member_remove, name="member_remove"),
        path(f"{M}role/", circles.circle_member_role, name="member_role"),
    ],
    "circles",
)

people_urls = [
    path("<str:username>/followers/", people.followers, name="followers"),
    path("<str:username>/following/", people.following, name="following"),
]
