"""Signing in, and two-factor sign-in with TOTP (django-otp): enrolment, the second step
of sign-in, recovery codes, turning it off.

A person has it on when they have a confirmed TOTPDevice (an authenticator app); their
ten recovery codes are a StaticDevice whose tokens django-otp deletes as they are used.
Every code — at sign-in, on the API's login and token endpoints, to turn it off or to
make new recovery codes — is checked by `two_factor_verify`, under one rate limit
(circles.ratelimits.second_factor_attempt). django-otp's TOTP device keeps the time step
of the last code it accepted and refuses that step and earlier ones, so a code works once
even within its 30 seconds; the devices are locked while a code is checked, so two
requests with one code cannot both pass.
"""

import time

from django.conf import settings
from django.contrib import auth
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.services.users import user_check_password, user_credentials_end
from circles.errors import ApiError
from circles.ratelimits import second_factor_attempt

RECOVERY_CODES = 10
# How long the second step of a sign-in waits for its code after the password.
PENDING_SECONDS = 300
PENDING_KEY = "two_factor_pending"
FIELD = "otp_code"
WRONG_CODE = "That code is not right. Check your authenticator app's current code."


def two_factor_enabled(user) -> bool:
    """Whether user signs in with a second factor (a confirmed authenticator)."""
    if user is None or not user.is_authenticated:
        return False
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def _normalize(code: str) -> str:
    """Codes as people type them: spaces and dashes ignored, recovery codes any case."""
    return "".join((code or "").split()).replace("-", "").lower()[:32]


def two_factor_verify(*, request, user: User, code: str) -> None:
    """Check a code from user's authenticator (or one of their recovery codes, used up
    by this) under the second-factor limit; a wrong, replayed or empty one raises
    ApiError 400 `invalid_otp_code` (Ratelimited when over the limit)."""
    attempt = second_factor_attempt(request, user.pk)
    code = _normalize(code)
    with transaction.atomic():
        devices = [
            *TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True),
            *StaticDevice.objects.select_for_update().filter(user=user, confirmed=True),
        ]
        verified = bool(code) and any(device.verify_token(code) for device in devices)
    if not verified:
        raise ApiError(400, "invalid_otp_code", WRONG_CODE, fields={FIELD: [WRONG_CODE]})
    attempt.give_back()


def two_factor_required_error() -> ApiError:
    message = (
        "This account uses two-factor sign-in: send the current code from its "
        "authenticator app (or a recovery code) as otp_code."
    )
    return ApiError(400, "two_factor_required", message, fields={FIELD: [message]})


# --- enrolment ----------------------------------------------------------------------------


def two_factor_setup_start(*, user: User) -> TOTPDevice:
    """A new, unconfirmed authenticator for user (any earlier unconfirmed one goes): its
    secret is shown as a QR code until a code from it confirms it. Refused while one is
    already on (turn it off first)."""
    if two_factor_enabled(user):
        raise PermissionDenied("Two-factor sign-in is already on.")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def _recovery_codes_replace(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def two_factor_confirm(
    *, request, user: User, code: str, keep_session=None
) -> tuple[list[str], int]:
    """Turn two-factor sign-in on with a code from the authenticator being set up:
    the device is confirmed, ten recovery codes are made (shown once), and every other
    session, socket and API token ends — they were all obtained without the second
    factor, so an intruder holding one would otherwise keep it. Returns (the recovery
    codes, how many tokens were revoked). A wrong code raises ApiError 400 and counts
    against the second-factor limit."""
    attempt = second_factor_attempt(request, user.pk)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
        if device is None:
            raise ValidationError({FIELD: ["Start the set-up again: it was not found."]})
        if not device.verify_token(_normalize(code)):
            raise ApiError(400, "invalid_otp_code", WRONG_CODE, fields={FIELD: [WRONG_CODE]})
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _recovery_codes_replace(user)
        revoked = user_credentials_end(user=user, keep_session=keep_session)
    attempt.give_back()
    return codes, revoked


def recovery_codes_regenerate(*, request, user: User, code: str) -> list[str]:
    """Ten new recovery codes (the old ones stop working), after a current code."""
    if not two_factor_enabled(user):
        raise PermissionDenied("Two-factor sign-in is off.")
    two_factor_verify(request=request, user=user, code=code)
    with transaction.atomic():
        return _recovery_codes_replace(user)


def two_factor_disable(*, request, user: User, password: str, code: str) -> None:
    """Turn two-factor sign-in off: needs the password and a current code (or a recovery
    code). A wrong password counts against the second-factor limit as a wrong code does."""
    if not two_factor_enabled(user):
        raise PermissionDenied("Two-factor sign-in is off.")
    if not user.check_password(password or ""):
        second_factor_attempt(request, user.pk)  # counted, not given back
        message = "That password is not right."
        raise ApiError(400, "invalid_password", message, fields={"password": [message]})
    two_factor_verify(request=request, user=user, code=code)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()


# --- signing in -------------------------------------------------------------------------


def user_authenticate(*, request, username: str, password: str, otp_code: str = "") -> User:
    """Both factors at once (the API's login and token endpoints): the password under the
    sign-in limits (user_check_password), then, for a person with two-factor sign-in,
    otp_code — missing: ApiError 400 `two_factor_required`; wrong or replayed: 400
    `invalid_otp_code`, under the second-factor limit."""
    user = user_check_password(request=request, username=username, password=password)
    if two_factor_enabled(user):
        if not (otp_code or "").strip():
            raise two_factor_required_error()
        two_factor_verify(request=request, user=user, code=otp_code)
    return user


def user_login(*, request, username: str, password: str, otp_code: str = "") -> User:
    """user_authenticate, then start a session (new session key, CSRF token rotated)."""
    user = user_authenticate(
        request=request, username=username, password=password, otp_code=otp_code
    )
    auth.login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    return user


def user_login_start(*, request, username: str, password: str) -> bool:
    """The sign-in page's first step: check the password (user_check_password); without
    two-factor sign-in, sign in and answer True; with it, remember who is signing in
    (two_factor_login_begin) and answer False — the code page is next."""
    user = user_check_password(request=request, username=username, password=password)
    if two_factor_enabled(user):
        two_factor_login_begin(request=request, user=user)
        return False
    auth.login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    return True


def two_factor_login_begin(*, request, user: User) -> None:
    """The password was right and user has two-factor sign-in: remember who is signing
    in (for PENDING_SECONDS) without signing in. The session stays anonymous until
    two_factor_login_complete checks the code."""
    request.session[PENDING_KEY] = {
        "user": str(user.pk),
        "hash": user.get_session_auth_hash(),
        "at": time.time(),
    }


def two_factor_login_pending(*, request) -> User | None:
    """Whose sign-in waits for its code in this session, or None (none, expired, or the
    person's password or sessions changed since, or banned)."""
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    user = User.objects.filter(pk=pending.get("user"), is_active=True).first()
    if user is None or user.get_session_auth_hash() != pending.get("hash"):
        return None
    return user


def two_factor_login_complete(*, request, code: str) -> User:
    """Check the code for the sign-in that waits in this session, then sign in (a new
    session key). No sign-in waiting: ApiError 400 `two_factor_expired`."""
    user = two_factor_login_pending(request=request)
    if user is None:
        request.session.pop(PENDING_KEY, None)
        raise ApiError(
            400, "two_factor_expired", "Your sign-in timed out. Enter your password again."
        )
    two_factor_verify(request=request, user=user, code=code)
    request.session.pop(PENDING_KEY, None)
    auth.login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    return user
