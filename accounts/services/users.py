"""Writes about people: registration, sign-in and sessions, profile and avatar, API tokens
and realtime tickets."""

import secrets

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import HASH_SESSION_KEY
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django_ratelimit.exceptions import Ratelimited

from accounts.models import (
    AVATAR_PURPOSE,
    DELETED_USERNAME,
    ApiToken,
    Follow,
    FollowRequest,
    User,
    UsernameHold,
    hash_token,
    validate_username,
)
from accounts.services import invitations
from circles.errors import ApiError
from circles.ids import uuid_or_404
from circles.ratelimits import login_attempt, registration_attempt
from circles.realtime import publish_on_commit, user_group
from media.models import ImageState
from media.services import images_accept, images_delete

TICKET_TTL_SECONDS = 30


def _lock_users(*users: User) -> dict:
    """Lock the users' rows (FOR NO KEY UPDATE, in id order) for the current transaction;
    returns {id: fresh user}. Writes about a pair of people serialize on this."""
    rows = User.objects.select_for_update(no_key=True).filter(pk__in=[u.pk for u in users])
    return {user.pk: user for user in rows.order_by("pk")}


# --- registration, sign-in and sessions ------------------------------------------------


def user_create(*, username: str, email: str, password: str, display_name: str = "") -> User:
    """Register a person. Username is stored lowercase; duplicate usernames or emails
    (case-insensitive) and weak passwords raise ValidationError naming the field."""
    user = User(
        username=(username or "").strip().lower(),
        email=User.objects.normalize_email((email or "").strip()).lower(),
        display_name=(display_name or "").strip(),
    )
    errors: dict[str, list[str]] = {}
    exclude = ["password"]
    if user.username:
        try:
            validate_username(user.username)
        except ValidationError as exc:  # one clear message, not one per validator
            errors["username"], exclude = list(exc.messages), [*exclude, "username"]
    try:
        user.full_clean(exclude=exclude, validate_constraints=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    # a held name says so even while its account is still being deleted ("taken")
    held_until = _held_until(user.username) if user.username else None
    if held_until:
        errors["username"] = [
            "That username belonged to an account deleted recently; it can be taken again "
            f"from {held_until:%-d %B %Y}."
        ]
    if "email" not in errors and User.objects.filter(email__iexact=user.email).exists():
        errors["email"] = ["That email is already registered."]
    try:
        validate_password(password, user)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save(force_insert=True)
    except IntegrityError as exc:  # a concurrent registration won the race
        if User.objects.filter(username=user.username).exists():
            raise ValidationError({"username": ["That username is taken."]}) from exc
        raise ValidationError({"email": ["That email is already registered."]}) from exc
    return user


def _held_until(username: str):
    hold = UsernameHold.objects.filter(username=username, until__gt=timezone.now()).first()
    return hold.until if hold else None


def deleted_account() -> User:
    """The one stand-in sender of messages whose author deleted their account: inactive
    (no profile, no sign-in), shown as "Deleted account"."""
    user, _ = User.objects.get_or_create(
        username=DELETED_USERNAME,
        defaults={
            "email": "deleted-account@invalid",
            "display_name": "Deleted account",
            "is_active": False,
            "password": "!",  # an unusable password, as set_unusable_password() writes
        },
    )
    return user


def user_register(*, request, invite_token: str = "", **fields) -> User:
    """user_create under the registration limit per client address (a refused form does
    not count); over → Ratelimited (429 + Retry-After).

    With an invitation token the invitation is taken first and marked used by the new
    account in the same transaction; a token that is not a usable invitation refuses the
    registration (ValidationError on `invite_token`, counted against the "invite" limit)
    and nothing is created. With INVITE_ONLY on, a token is required."""
    attempt = registration_attempt(request)
    try:
        invite_token = (invite_token or "").strip()
        if settings.INVITE_ONLY and not invite_token:
            raise ValidationError({invitations.FIELD: [invitations.REQUIRED]})
        with transaction.atomic():
            invitation = None
            if invite_token:
                invitation = invitations.invitation_take(request=request, token=invite_token)
            user = user_create(**fields)
            if invitation is not None:
                invitations.invitation_use(invitation=invitation, user=user)
        return user
    except (ValidationError, Ratelimited):
        attempt.give_back()
        raise


def user_check_password(*, request, username: str, password: str) -> User:
    """Check the password under the sign-in limits (circles.ratelimits.login_attempt:
    failures per username and address, per address, and a per-username cap that slows
    down instead of locking out; held in the process while Redis is down); over →
    Ratelimited (429 + Retry-After). A right password gives its attempt back. A wrong
    password, an unknown user and a banned user all get the same answer. The first factor
    only: two_factor.user_authenticate asks for the second."""
    username = (username or "").strip().lower()
    attempt = login_attempt(request, username)
    user = auth.authenticate(request, username=username, password=password)
    if user is None:
        raise ApiError(400, "invalid_credentials", "Wrong username or password.")
    attempt.give_back()
    return user


def user_logout(*, request, everywhere: bool = False) -> None:
    """End this session (and with everywhere=True every other one too), and close the
    person's open sockets; sockets of sessions still valid simply reconnect. A bearer
    token is not a session: revoke it with api_token_revoke (everywhere=True still ends
    all the person's browser sessions)."""
    user = request.user
    signed_in_by_session = auth.SESSION_KEY in request.session
    if everywhere and user.is_authenticated:
        user_sessions_end(user=user)
    elif signed_in_by_session and user.is_authenticated:
        publish_on_commit(user_group(user.pk), {"type": "session.ended"})
    auth.logout(request)


def user_sessions_end(*, user: User, keep_session=None) -> None:
    """End the person's sessions, except keep_session if given, and close their sockets.

    Mechanism: Django stores a hash of the user's credentials in each session at login
    and checks it on every request, page, API call and WebSocket handshake alike; our
    User mixes `session_epoch` into that hash (User.get_session_auth_hash). Bumping the
    epoch makes every existing session fail the check, so it is flushed on its next use —
    whatever the session backend, on every host, with no session table to keep. The
    session to keep gets a new key and the new hash. Then `session.ended` is published to
    the user's group: the consumer closes every socket of that user (a socket whose
    session is still valid reconnects). API tokens are separate credentials:
    user_credentials_end ends them too.
    """
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])
    if keep_session is not None:
        keep_session.cycle_key()
        keep_session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    publish_on_commit(user_group(user.pk), {"type": "session.ended"})


def user_credentials_end(*, user: User, keep_session=None) -> int:
    """Everything that lets someone act as user stops at once: every API token is deleted,
    every session but keep_session ends and every open socket closes (on commit).
    Returns how many tokens were revoked. Every way an account stops or changes its
    password goes through here: password change and reset, ban and deactivation,
    deletion."""
    with transaction.atomic():
        revoked, _ = ApiToken.objects.filter(user=user).delete()
        user_sessions_end(user=user, keep_session=keep_session)
    return revoked


def user_password_set(*, user: User, password: str, keep_session=None) -> int:
    """Set a new password (change or reset): validated, then every API token is revoked
    and every other session and socket ends (keep_session, the one that made the change,
    stays signed in) — a password changed because of a compromise locks the intruder
    out. Returns how many tokens were revoked."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": list(exc.messages)}) from exc
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        return user_credentials_end(user=user, keep_session=keep_session)


def user_password_changed(*, user: User, keep_session=None) -> int:
    """A password already set and saved by Django's own machinery (the admin's password
    form): revoke the tokens and end the other sessions and sockets, as user_password_set
    does."""
    return user_credentials_end(user=user, keep_session=keep_session)


def user_ban_check(*, user: User, by: User) -> None:
    """Refuse a ban that would lock the operators out: banning yourself, a superuser
    when you are not one, or the last active superuser."""
    if user.pk == by.pk:
        raise ApiError(403, "ban_refused", "You can't ban yourself.")
    if user.is_superuser and not by.is_superuser:
        raise ApiError(403, "ban_refused", "Only a superuser can ban a superuser.")
    if user.is_superuser:
        # locked until the ban commits: two superusers banning each other at once cannot
        # both pass this check
        superusers = User.objects.select_for_update().filter(is_superuser=True, is_active=True)
        if not [pk for pk in superusers.values_list("pk", flat=True) if pk != user.pk]:
            raise ApiError(403, "ban_refused", "You can't ban the last superuser.")


def user_ban(*, user: User, by: User | None = None) -> None:
    """Ban (or deactivate, as the admin's is_active box does): deactivate, end every
    session, delete every API token, close the sockets. Their content leaves every path
    at once (each visibility rule asks for an active author) and stays stored, so an
    unban brings it back. With `by` (the operator acting), user_ban_check refuses first."""
    with transaction.atomic():
        if by is not None:
            user_ban_check(user=user, by=by)
        User.objects.filter(pk=user.pk).update(is_active=False)
        user.is_active = False
        user_credentials_end(user=user)


def user_unban(*, user: User) -> None:
    """Let a banned person sign in again; their content is visible again as it was.
    Their old sessions and tokens stay ended: they sign in afresh."""
    User.objects.filter(pk=user.pk).update(is_active=True)
    user.is_active = True


# --- profile --------------------------------------------------------------------------


def user_update(
    *,
    user: User,
    display_name: str | None = None,
    bio: str | None = None,
    is_private: bool | None = None,
) -> User:
    """Change the profile; None leaves a field as it is. Going public approves every
    pending follow request (they become follows), as people expect."""
    with transaction.atomic():
        locked = _lock_users(user)[user.pk]
        went_public = locked.is_private and is_private is False
        if display_name is not None:
            user.display_name = display_name.strip()
        if bio is not None:
            user.bio = bio.strip()
        if is_private is not None:
            user.is_private = is_private
        user.full_clean(exclude=["password", "username", "email", "avatar"])
        user.save(update_fields=["display_name", "bio", "is_private"])
        if went_public:
            requests = FollowRequest.objects.filter(target=user)
            Follow.objects.bulk_create(
                [Follow(follower_id=r.requester_id, following=user) for r in requests],
                ignore_conflicts=True,
            )
            requests.delete()
    return user


def user_avatar_set(*, user: User, file) -> User:
    """Take a new avatar through the image pipeline: checked (≤ 10 MB, a real image by
    its bytes) and stored privately now, shown once processed (user_avatar_settled)."""
    with images_accept(
        owner=user, uploads=[file], purpose=AVATAR_PURPOSE, alts=[f"{user.username}'s avatar"]
    ):
        pass
    return user


def user_avatar_settled(image) -> None:
    """An avatar finished processing (the media purpose hook): once ready, make it current
    and remove the one it replaces. An older upload finishing after a newer one does not
    win; a failed one is simply not shown."""
    if image.state != ImageState.READY:
        return
    with transaction.atomic():
        user = User.objects.select_for_update(of=("self",)).get(pk=image.owner_id)
        previous = user.avatar  # the lock is on the user row; this reads the image after
        if previous is not None and previous.created_at > image.created_at:
            images_delete(images_to_delete=[image])
            return
        user.avatar = image
        user.save(update_fields=["avatar"])
        if previous is not None:
            images_delete(images_to_delete=[previous])


# --- API tokens and realtime tickets ---------------------------------------------------


def api_token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Make a token; the raw value is returned once and only its hash is stored."""
    raw = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name[:60], key_hash=hash_token(raw))
    return token, raw


def api_token_revoke(*, user: User, token_id) -> None:
    """Delete one of user's tokens. Someone else's (or a malformed) id is not found."""
    deleted, _ = ApiToken.objects.filter(user=user, id=uuid_or_404(token_id)).delete()
    if not deleted:
        raise Http404


def realtime_ticket_create(*, user: User) -> str:
    """A single-use ticket, valid 30 s, to open /ws/?ticket=… without the session cookie."""
    ticket = secrets.token_urlsafe(32)
    cache.set(f"circles:ws-ticket:{hash_token(ticket)}", str(user.pk), TICKET_TTL_SECONDS)
    return ticket


def realtime_ticket_redeem(*, ticket: str) -> User | None:
    """The ticket's active user, or None. Only the first redeemer wins the delete."""
    key = f"circles:ws-ticket:{hash_token(ticket)}"
    user_id = cache.get(key)
    if user_id is None or not cache.delete(key):
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()
