"""Two-factor sign-in pages: set up (QR code, confirm), recovery codes, turn off. They
call accounts.services; the sign-in's second step is in auth.py."""

from base64 import b32encode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from accounts import selectors, services
from accounts.forms import CodeForm, ConfirmCodeForm, TwoFactorDisableForm
from accounts.views.edges import REFUSALS, page_action, refusal, render_page


def _qr_svg(uri: str) -> str:
    """The otpauth:// URI as an inline SVG QR code, drawn here (segno): the secret never
    leaves the server for a QR service. currentColor follows the light or dark theme;
    the quiet zone is light in both, as scanners need."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=5, border=4, dark="#111", light="#fff", title="QR code for your authenticator app"
    )
    return mark_safe(svg)  # noqa: S308 (segno's own markup, from our URI)


def _secret_groups(device) -> str:
    """The base32 secret in groups of four, for typing into an app by hand."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


# --- two-factor sign-in ----------------------------------------------------------------

DISABLE_IDS = "disable_%s"  # two forms on one page each have an otp_code field


def _two_factor_page(request, *, status=200, headers=None, **context):
    user = request.user
    enabled = services.two_factor_enabled(user)
    context = {
        "enabled": enabled,
        "codes_left": selectors.recovery_codes_left(user=user) if enabled else 0,
        "disable_form": TwoFactorDisableForm(auto_id=DISABLE_IDS),
        "codes_form": CodeForm(),
        "staff_required": user.is_staff and settings.TWO_FACTOR_REQUIRED_FOR_STAFF,
        **context,
    }
    template = "accounts/two_factor.html"
    return render_page(request, template, context, status=status, headers=headers)


@login_required
@never_cache
@require_GET
def two_factor(request):
    return _two_factor_page(request)


@never_cache
@page_action
def two_factor_setup_start(request):
    services.two_factor_setup_start(user=request.user)
    return redirect("accounts:two_factor_setup")


def two_factor_on_message(tokens_revoked: int) -> str:
    """What a person reads once two-factor sign-in is on: what else stopped working."""
    if not tokens_revoked:
        return "Two-factor sign-in is on. Your other sessions were ended."
    tokens = "token was" if tokens_revoked == 1 else "tokens were"
    return (
        f"Two-factor sign-in is on. Your other sessions were ended and your "
        f"{tokens_revoked} API {tokens} revoked: apps that used them must sign in again."
    )


@sensitive_post_parameters("otp_code")
@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    """The QR code and the secret of the authenticator being set up, and the code that
    confirms it; then the ten recovery codes, on this answer only."""
    device = selectors.two_factor_setup_device(user=request.user)
    if device is None:
        return redirect("accounts:two_factor")
    form, status, headers = ConfirmCodeForm(request.POST or None), 200, {}
    if form.is_bound:
        status = 400
        if form.is_valid():
            try:
                codes, revoked = services.two_factor_confirm(
                    request=request,
                    user=request.user,
                    code=form.cleaned_data["otp_code"],
                    keep_session=request.session,
                )
                messages.success(request, two_factor_on_message(revoked))
                return _two_factor_page(request, recovery_codes=codes)
            except REFUSALS as exc:
                status, message, headers = refusal(exc)
                form.add_refusal(exc, message)
    context = {
        "form": form,
        "qr_svg": _qr_svg(device.config_url),
        "secret": _secret_groups(device),
    }
    template = "accounts/two_factor_setup.html"
    return render_page(request, template, context, status=status, headers=headers)


@sensitive_post_parameters("otp_code")
@never_cache
@page_action
def recovery_codes_regenerate(request):
    form = CodeForm(request.POST)
    if not form.is_valid():
        return _two_factor_page(request, codes_form=form, status=400)
    try:
        codes = services.recovery_codes_regenerate(
            request=request, user=request.user, code=form.cleaned_data["otp_code"]
        )
    except REFUSALS as exc:
        status, message, headers = refusal(exc)
        form.add_refusal(exc, message)
        return _two_factor_page(request, codes_form=form, status=status, headers=headers)
    return _two_factor_page(request, recovery_codes=codes)


@sensitive_post_parameters("password", "otp_code")
@never_cache
@page_action
def two_factor_disable(request):
    form = TwoFactorDisableForm(request.POST, auto_id=DISABLE_IDS)
    if form.is_valid():
        try:
            services.two_factor_disable(
                request=request,
                user=request.user,
                password=form.cleaned_data["password"],
                code=form.cleaned_data["otp_code"],
            )
            messages.success(request, "Two-factor sign-in is off.")
            return redirect("accounts:two_factor")
        except REFUSALS as exc:
            status, message, headers = refusal(exc)
            form.add_refusal(exc, message)
            return _two_factor_page(request, disable_form=form, status=status, headers=headers)
    return _two_factor_page(request, disable_form=form, status=400)
