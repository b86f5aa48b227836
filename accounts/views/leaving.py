"""Leaving pages: "Download your data" (start, progress for htmx to poll, download) and
deleting the account (the password first)."""

from django.contrib import auth
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from accounts import selectors, services
from accounts.views.edges import REFUSALS, htmx, page_action, refusal, render_page
from accounts.views.people import settings_page_render
from circles.auth import accepts_bearer_token
from media import storage


def _export_answer(request, *, status=200, message="", headers=None):
    """To htmx: the export box in its new state. Otherwise: the settings page."""
    context = {"export": selectors.data_export_latest(user=request.user), "message": message}
    if htmx(request):
        return render_page(
            request, "accounts/_export.html", context, status=status, headers=headers
        )
    return settings_page_render(request, export_message=message, status=status, headers=headers)


@never_cache
@page_action
def export_start(request):
    try:
        services.data_export_request(user=request.user, request=request)
    except REFUSALS as exc:
        status, message, headers = refusal(exc)
        return _export_answer(request, status=status, message=message, headers=headers)
    return _export_answer(request, status=202)


@login_required
@never_cache
@require_GET
def export_status(request):
    """The export box alone: htmx polls it every 2 s while the ZIP is being built."""
    context = {"export": selectors.data_export_latest(user=request.user), "message": ""}
    return render(request, "accounts/_export.html", context)


@require_GET
@accepts_bearer_token
def export_download(request, export_id):
    """Only its owner gets the ZIP, while it lasts; anyone else — signed out, another
    person, a wrong or expired id — gets 404, as for a photo they may not see."""
    export = selectors.data_export_get_downloadable(viewer=request.user, export_id=export_id)
    filename = f"circles-{request.user.username}-{export.created_at:%Y-%m-%d}.zip"
    response = storage.download_response(
        export.key, content_type="application/zip", filename=filename
    )
    response["Cache-Control"] = "private, no-store"
    return response


@sensitive_post_parameters("password", "otp_code")
@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def account_delete(request):
    """The password (and, once enabled, the second factor) proves it is the owner; then
    the account stops at once and this session ends."""
    status, message, headers = 200, "", {}
    if request.method == "POST":
        try:
            services.account_delete_request(
                user=request.user,
                password=request.POST.get("password", ""),
                otp_code=request.POST.get("otp_code") or None,
                request=request,
            )
        except REFUSALS as exc:
            status, message, headers = refusal(exc)
        else:
            auth.logout(request)
            return render(request, "accounts/deleted.html")
    context = {
        "message": message,
        "settings_url": reverse("accounts:settings"),
        "two_factor_on": services.two_factor_enabled(request.user),
    }
    return render_page(request, "accounts/delete.html", context, status=status, headers=headers)
