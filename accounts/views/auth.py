"""Register (by invitation on an invite-only instance), log in (with the second step for
two-factor sign-in), log out, change and reset the password. Sign-in goes through
accounts.services, so the login rate limit and its single "wrong username or password"
answer are the same here as in the API."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts import services
from accounts.forms import CodeForm, LoginForm, PasswordChangeForm, RegisterForm
from accounts.views.edges import REFUSALS, refusal, render_page, safe_next
from circles.ratelimits import enforce


@sensitive_post_parameters("password", "password_again")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def register(request, token=""):
    """Open, or (INVITE_ONLY) by invitation: the link /accounts/register/<token>/ carries
    it in a hidden field; without a link the page asks for the invitation code. A link
    that is not a usable invitation says why, and no form is shown."""
    next_url = safe_next(request, settings.LOGIN_REDIRECT_URL)
    if request.user.is_authenticated and request.method == "GET":
        return redirect(next_url)
    form, status, headers = (
        RegisterForm(request.POST or None, initial={"invite_token": token}),
        200,
        {},
    )
    invitation_problem = ""
    if form.is_bound:
        status = 400
        if form.is_valid():
            try:
                user = services.user_register(request=request, **form.service_kwargs())
                auth.login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
                messages.success(request, f"Welcome to Circles, {user.name}!")
                return redirect(next_url)
            except REFUSALS as exc:
                status, message, headers = refusal(exc)
                form.add_refusal(exc, message)
    elif token:
        try:
            services.invitation_check(request=request, token=token)
        except REFUSALS as exc:
            status, invitation_problem, headers = refusal(exc)
    context = {
        "form": form,
        "next": safe_next(request),
        "invite_only": settings.INVITE_ONLY,
        "invited": bool(token),
        "invitation_problem": invitation_problem,
        "invitation_days": settings.INVITATION_DAYS,
    }
    return render_page(request, "accounts/register.html", context, status=status, headers=headers)


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login(request):
    """Failed tries are limited per username and address and per address (429 +
    Retry-After; circles.ratelimits). A person with two-factor sign-in goes on to the
    code page, still signed out."""
    next_url = safe_next(request, settings.LOGIN_REDIRECT_URL)
    if request.user.is_authenticated and request.method == "GET":
        return redirect(next_url)
    form, status, headers = LoginForm(request.POST or None), 200, {}
    if form.is_bound:
        status = 400
        if form.is_valid():
            try:
                if services.user_login_start(request=request, **form.cleaned_data):
                    return redirect(next_url)
                code_page = reverse("accounts:login_code")
                return redirect(f"{code_page}?{urlencode({'next': next_url})}")
            except REFUSALS as exc:
                status, message, headers = refusal(exc)
                form.add_refusal(exc, message)
    context = {"form": form, "next": safe_next(request)}
    return render_page(request, "registration/login.html", context, status=status, headers=headers)


@sensitive_post_parameters("otp_code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_code(request):
    """The second step: the code from the authenticator app (or a recovery code), under
    its own limit. Only after it is the session signed in."""
    next_url = safe_next(request, settings.LOGIN_REDIRECT_URL)
    if request.user.is_authenticated:
        return redirect(next_url)
    if services.two_factor_login_pending(request=request) is None:
        if request.method == "POST":
            messages.error(request, "Your sign-in timed out. Enter your password again.")
        return redirect_to_login(next_url)
    form, status, headers = CodeForm(request.POST or None), 200, {}
    if form.is_bound:
        status = 400
        if form.is_valid():
            try:
                services.two_factor_login_complete(
                    request=request, code=form.cleaned_data["otp_code"]
                )
                return redirect(next_url)
            except REFUSALS as exc:
                status, message, headers = refusal(exc)
                form.add_refusal(exc, message)
    context = {"form": form, "next": safe_next(request)}
    template = "registration/login_code.html"
    return render_page(request, template, context, status=status, headers=headers)


@require_http_methods(["GET", "POST"])
def logout(request):
    """GET asks (changes nothing); POST logs out, with everywhere=1 every session."""
    if request.method == "GET":
        return render(request, "accounts/logout.html")
    services.user_logout(request=request, everywhere=request.POST.get("everywhere") == "1")
    return redirect(settings.LOGOUT_REDIRECT_URL)


def password_changed_message(tokens_revoked: int) -> str:
    """What a person reads after changing their password: what else stopped working."""
    if not tokens_revoked:
        return "Password changed. Your other sessions were ended."
    tokens = "token was" if tokens_revoked == 1 else "tokens were"
    return (
        f"Password changed. Your other sessions were ended and your {tokens_revoked} "
        f"API {tokens} revoked: apps that used them must sign in again."
    )


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def password_change(request):
    """The other sessions and every API token end (the service does it); this one stays
    signed in, and is told what was revoked."""
    form, status = PasswordChangeForm(request.user, request.POST or None), 200
    if form.is_bound:
        status = 400
        if form.is_valid():
            try:
                revoked = services.user_password_set(
                    user=request.user,
                    password=form.cleaned_data["new_password1"],
                    keep_session=request.session,
                )
                messages.success(request, password_changed_message(revoked))
                return redirect("accounts:settings")
            except REFUSALS as exc:
                form.add_refusal(exc, refusal(exc)[1])
    return render(request, "accounts/password_change.html", {"form": form}, status=status)


# --- password reset by email: Django's views, our templates and our password service ----


class RateLimitedPasswordResetView(auth_views.PasswordResetView):
    """Django's reset view, limited per address and per email so it cannot be used to
    flood someone's inbox (a Ratelimited becomes a 429 page via RatelimitMiddleware)."""

    def form_valid(self, form):
        enforce(self.request, "password_reset", key="ip")
        enforce(self.request, "password_reset", key=f"email:{form.cleaned_data['email'].lower()}")
        return super().form_valid(form)


password_reset = RateLimitedPasswordResetView.as_view(
    template_name="registration/password_reset_form.html",
    email_template_name="registration/password_reset_email.txt",
    subject_template_name="registration/password_reset_subject.txt",
    success_url=reverse_lazy("accounts:password_reset_done"),
)
password_reset_done = auth_views.PasswordResetDoneView.as_view(
    template_name="registration/password_reset_done.html"
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="registration/password_reset_complete.html"
)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        # the service, not form.save(): it also ends every session, revokes every API
        # token and closes sockets
        services.user_password_set(user=form.user, password=form.cleaned_data["new_password1"])
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        return redirect(self.get_success_url())


password_reset_confirm = PasswordResetConfirmView.as_view()
