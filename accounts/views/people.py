"""People: follow lists (the profile page itself is posts.views.profile), follow/block
actions (htmx swaps the follow button in place; without JS each action redirects back),
the follow-request inbox, the blocked list, edit profile, and settings with API tokens
and invitations."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts import selectors, services
from accounts.forms import InvitationForm, ProfileForm, TokenForm
from accounts.views.edges import (
    REFUSALS,
    htmx,
    page_action,
    refusal,
    refusals_as_pages,
    refused,
    render_page,
    safe_next,
)


def _profile_url(username: str) -> str:
    return reverse("profiles:detail", args=[username])


# --- profile and lists ------------------------------------------------------------------


def _people_list(request, username, list_selector, title):
    owner = selectors.user_get_visible(username=username, viewer=request.user)
    try:
        page = list_selector(user=owner, viewer=request.user, cursor=request.GET.get("cursor"))
    except PermissionDenied as exc:  # a private account's lists
        return refused(request, exc, back=_profile_url(owner.username))
    context = {"owner": owner, "page": page, "title": title}
    return render(request, "accounts/people.html", context)


@require_GET
@refusals_as_pages
def followers(request, username):
    return _people_list(request, username, selectors.user_list_followers, "Followers")


@require_GET
@refusals_as_pages
def following(request, username):
    return _people_list(request, username, selectors.user_list_following, "Following")


# --- follow, block ----------------------------------------------------------------------


def _follow_answer(request, target):
    """To htmx: the button in its new state. Otherwise: back where the person was."""
    if htmx(request):
        person = selectors.user_get_profile(username=target.username, viewer=request.user)
        context = {"person": person, "next_url": safe_next(request)}
        return render(request, "accounts/_follow_button.html", context)
    return redirect(safe_next(request, _profile_url(target.username)))


@page_action
def follow(request, username):
    target = selectors.user_get_visible(username=username, viewer=request.user)
    services.follow_create(follower=request.user, target=target)
    return _follow_answer(request, target)


@page_action
def unfollow(request, username):
    target = selectors.user_get_visible(username=username, viewer=request.user)
    services.follow_delete(follower=request.user, target=target)
    return _follow_answer(request, target)


@page_action
def follow_request_cancel(request, username):
    target = selectors.user_get_visible(username=username, viewer=request.user)
    services.follow_request_cancel(requester=request.user, target=target)
    return _follow_answer(request, target)


@page_action
def follower_remove(request, username):
    follower = selectors.user_get_visible(username=username, viewer=request.user)
    services.follower_remove(user=request.user, follower=follower)
    messages.success(request, f"@{follower.username} no longer follows you.")
    return redirect(safe_next(request, reverse("profiles:followers", args=[request.user.username])))


@page_action
def block(request, username):
    target = selectors.user_get_visible(username=username, viewer=request.user)
    services.block_create(blocker=request.user, target=target)
    messages.success(request, f"You blocked @{target.username}.")
    return redirect(safe_next(request, _profile_url(target.username)))


@page_action
def unblock(request, username):
    target = selectors.user_get_visible(username=username, viewer=request.user)
    services.block_delete(blocker=request.user, target=target)
    messages.success(request, f"You unblocked @{target.username}.")
    return redirect(safe_next(request, _profile_url(target.username)))


# --- follow requests, blocked accounts ----------------------------------------------------


@login_required
@require_GET
@refusals_as_pages
def follow_requests(request):
    page = selectors.follow_request_list_incoming(
        user=request.user, cursor=request.GET.get("cursor")
    )
    return render(request, "accounts/requests.html", {"page": page})


def _request_answer(request, text):
    if htmx(request):
        return render(request, "accounts/_request_answered.html", {"text": text})
    messages.success(request, text)
    return redirect("accounts:requests")


@page_action
def follow_request_approve(request, request_id):
    services.follow_request_approve(user=request.user, request_id=request_id)
    return _request_answer(request, "Request approved: they follow you now.")


@page_action
def follow_request_decline(request, request_id):
    services.follow_request_decline(user=request.user, request_id=request_id)
    return _request_answer(request, "Request declined.")


@login_required
@require_GET
@refusals_as_pages
def blocked(request):
    page = selectors.block_list_for_user(user=request.user, cursor=request.GET.get("cursor"))
    return render(request, "accounts/blocked.html", {"page": page})


# --- edit profile, settings --------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request):
    """The avatar goes first: its checks (size, real image type) run before any write,
    so a refused photo leaves the rest of the profile unchanged too."""
    user = request.user
    initial = {"display_name": user.display_name, "bio": user.bio, "is_private": user.is_private}
    form = ProfileForm(request.POST or None, request.FILES or None, initial=initial)
    status, headers = 200, {}
    if form.is_bound:
        status = 400
        if form.is_valid():
            try:
                if form.cleaned_data["avatar"]:
                    services.user_avatar_set(user=user, file=form.cleaned_data["avatar"])
                services.user_update(user=user, **form.profile_kwargs())
                messages.success(request, "Profile saved.")
                return redirect("profiles:detail", username=user.username)
            except REFUSALS as exc:
                status, message, headers = refusal(exc)
                if status in (413, 415):
                    form.add_error("avatar", message)
                else:
                    form.add_refusal(exc, message)
    template = "accounts/profile_edit.html"
    return render_page(request, template, {"form": form}, status=status, headers=headers)


def settings_page_render(
    request,
    *,
    form=None,
    raw_token=None,
    export_message="",
    invitation_form=None,
    invitation_link=None,
    status=200,
    headers=None,
):
    context = {
        "tokens": selectors.api_token_list_for_user(user=request.user),
        "form": form or TokenForm(),
        "raw_token": raw_token,
        "export": selectors.data_export_latest(user=request.user),
        "message": export_message,
        "two_factor_on": services.two_factor_enabled(request.user),
        "invitations": selectors.invitation_list_for_user(user=request.user, limit=50).items,
        "invitation_form": invitation_form or InvitationForm(),
        "invitation_link": invitation_link,
        "invitation_days": settings.INVITATION_DAYS,
        "invite_only": settings.INVITE_ONLY,
    }
    return render_page(request, "accounts/settings.html", context, status=status, headers=headers)


@login_required
@never_cache
@require_GET
def settings_page(request):
    return settings_page_render(request)


@never_cache
@page_action
def token_create(request):
    """The raw token is in this answer only (never stored, never shown again)."""
    form = TokenForm(request.POST)
    if not form.is_valid():
        return settings_page_render(request, form=form, status=400)
    _, raw = services.api_token_create(user=request.user, name=form.cleaned_data["name"])
    return settings_page_render(request, raw_token=raw, status=201)


@page_action
def token_revoke(request, token_id):
    services.api_token_revoke(user=request.user, token_id=token_id)
    messages.success(request, "Token revoked.")
    return redirect("accounts:settings")


# --- invitations ------------------------------------------------------------------------


@never_cache
@page_action
def invitation_create(request):
    """The new link is in this answer only (its token is stored hashed)."""
    form = InvitationForm(request.POST)
    if not form.is_valid():
        return settings_page_render(request, invitation_form=form, status=400)
    _, raw = services.invitation_create(
        created_by=request.user, note=form.cleaned_data["note"], request=request
    )
    link = request.build_absolute_uri(reverse("accounts:register_invited", args=[raw]))
    return settings_page_render(request, invitation_link=link, status=201)


@page_action
def invitation_revoke(request, invitation_id):
    services.invitation_revoke(user=request.user, invitation_id=invitation_id)
    messages.success(request, "Invitation withdrawn: its link no longer works.")
    return redirect("accounts:settings")
