"""People and their credentials: the user, API tokens, and what may be seen of a user."""

import hashlib
import re
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower
from django.utils.crypto import salted_hmac

from accounts.models.graph import Block, Follow

# The purpose of avatars in the media purpose table (registered in AccountsConfig).
AVATAR_PURPOSE = "avatar"
USERNAME_PATTERN = re.compile(r"^[a-z0-9_]{3,30}$")
# the stand-in sender of a deleted account's messages (accounts.services.deleted_account);
# outside USERNAME_PATTERN, so nobody can register it
DELETED_USERNAME = "deleted-account"
# Words that collide with routes (/<username>/ is a profile) or would mislead people.
RESERVED_USERNAMES = frozenset(
    {
        "about", "accounts", "admin", "albums", "api", "auth", "circles", "direct", "explore",
        "help", "healthz", "login", "logout", "media", "metrics", "new", "notifications",
        "p", "posts", "readyz", "register", "root", "saved", "search", "settings",
        "static", "stories", "support", "system", "tags", "ws", "www",
    }
)  # fmt: skip


def validate_username(value: str) -> None:
    if not USERNAME_PATTERN.match(value or ""):
        raise ValidationError(
            "Use 3–30 characters: lowercase letters, digits and underscores.",
            code="invalid_username",
        )
    if value in RESERVED_USERNAMES:
        raise ValidationError("That username is reserved.", code="reserved_username")


def _is_anonymous(viewer) -> bool:
    return viewer is None or not viewer.is_authenticated


class UserQuerySet(models.QuerySet):
    def visible_to(self, viewer):
        """Users whose profile viewer may see: active ones that have not blocked viewer.

        People viewer blocked stay visible to viewer (so they can be unblocked); people
        who blocked viewer are as if they did not exist (404).
        """
        users = self.filter(is_active=True)
        if _is_anonymous(viewer):
            return users
        return users.exclude(Exists(Block.objects.filter(blocker=OuterRef("pk"), blocked=viewer)))

    def content_visible_to(self, viewer):
        """THE rule for whose content viewer may see (posts, stories, follower lists).

        Yourself always; otherwise an active user with no block either way whose account
        is public or whom viewer follows (an approved follow). Anonymous viewers: public
        accounts only. Selectors and later apps use this filter, never their own copy.
        """
        users = self.filter(is_active=True)
        if _is_anonymous(viewer):
            return users.filter(is_private=False)
        blocked_either_way = Exists(Block.objects.between(OuterRef("pk"), viewer))
        followed = Exists(Follow.objects.filter(follower=viewer, following=OuterRef("pk")))
        return users.filter(
            Q(pk=viewer.pk) | (~blocked_either_way & (Q(is_private=False) | followed))
        )


class CirclesUserManager(UserManager.from_queryset(UserQuerySet)):
    def get_by_natural_key(self, username):
        return self.get(username=(username or "").lower())


class User(AbstractUser):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = models.CharField(
        max_length=30,
        unique=True,
        validators=[validate_username],
        help_text="3–30 characters: lowercase letters, digits and underscores.",
        error_messages={"unique": "That username is taken."},
    )
    email = models.EmailField(max_length=254)
    first_name = None
    last_name = None
    display_name = models.CharField(max_length=60, blank=True)
    bio = models.CharField(max_length=150, blank=True)
    # The current avatar: an image from the pipeline (AVATAR_PURPOSE), set only once its
    # renditions are ready, so a non-null avatar always has a URL.
    avatar = models.ForeignKey(
        "media.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_private = models.BooleanField(default=False)
    # Part of the session auth hash: bumping it ends every session signed with the old
    # value (see accounts.services.user_sessions_end).
    session_epoch = models.PositiveIntegerField(default=0, editable=False)

    objects = CirclesUserManager()
    REQUIRED_FIELDS = ["email"]

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def clean(self):
        super().clean()
        self.username = (self.username or "").lower()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    # Django stores this hash in each session at login and compares it on every request
    # (pages, API, WebSocket). Mixing in session_epoch lets us end sessions on demand.
    _SESSION_HASH_SALT = "accounts.User.get_session_auth_hash"

    def _session_hash(self, secret=None) -> str:
        value = f"{self.password}:{self.session_epoch}"
        return salted_hmac(
            self._SESSION_HASH_SALT, value, secret=secret, algorithm="sha256"
        ).hexdigest()

    def get_session_auth_hash(self) -> str:
        return self._session_hash()

    def get_session_auth_fallback_hash(self):
        for fallback_secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_hash(secret=fallback_secret)

    @property
    def name(self) -> str:
        return self.display_name or self.username

    def __str__(self) -> str:
        return self.username


def hash_token(raw: str) -> str:
    # API tokens are 256-bit random values, so a fast digest is enough to store them safely.
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=60, blank=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="apitoken_user_created_idx")]

    def __str__(self) -> str:
        return f"{self.user} · {self.name or 'token'}"
