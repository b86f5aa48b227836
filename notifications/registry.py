"""The notification table: for each target type, which notification kinds are about it,
whether a recipient may still see it, and how to describe it. Content apps register their
entry from AppConfig.ready(), so notifications/ never imports them and every rule still
exists once (in the app that owns the target); a new kind is one registration. A target
type nobody registered is never created and never shown.

    registry.target_register(
        "post",
        visible_to=lambda viewer, now: Post.objects.visible_to(viewer),  # the app's own rule
        describe=post_notification_targets,                          # (viewer, ids) -> {id: Target}
        kinds=[Kind("post_like", "{actors} liked your {target}", group=BY_TARGET), ...],
    )

`visible_to(recipient, now)` returns a QuerySet of the target model; the list and the count
ask it per row inside SQL (an EXISTS on the target's pk), so a target that became
invisible, was deleted or left drops out of both at once. Those queries are compiled once
per process (circles/compiled.py) and run with each recipient and clock, so a rule must
depend on nothing but the recipient's id and `now` (the time to judge by: a rule that
reads the clock itself, like a story's expiry, must take it from `now`).
`describe(recipient, ids)` answers, in one query, what a page shows of its targets of that
type.

People come from accounts through `people_register`: the user-summary of the API, and
whether two people have a block between them (checked when a notification is created;
accounts' block service removes what the two had of each other's).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured

from notifications.models import KIND_MAX, TARGET_TYPE_MAX

# How a kind's events group into one row while it is unread.
BY_TARGET = "target"  # every actor on one target: "ana, ben and 3 others liked your photo"
BY_DAY = "day"  # every actor on one day: "ana and ben started following you"
BY_ACTOR = "actor"  # each actor apart: "ana invited you to Close friends"


@dataclass(frozen=True)
class Action:
    """A button on a row (a form POSTed to url): follow back, approve."""

    label: str
    url: str


@dataclass(frozen=True)
class Target:
    """What a row shows of its target, for one recipient."""

    label: str  # the words for it in a sentence: "photo", "comment", "Close friends"
    url: str  # where the row links
    thumbnail: str | None = None  # an image URL (the app's own, checked media URL)
    action: Action | None = None


@dataclass(frozen=True)
class Kind:
    name: str  # the API's `type`
    # the sentence: {actors} becomes "ana", "ana and ben", "ana, ben and 3 others";
    # {target} the target's label
    text: str
    group: str = BY_TARGET
    # a notice from the system about the person's own thing (their export is ready):
    # actor and recipient are the same person, which other kinds never notify
    to_self: bool = False


@dataclass(frozen=True)
class TargetType:
    name: str
    # (recipient, now) -> QuerySet of targets recipient may still see at `now`
    visible_to: Callable
    describe: Callable  # (recipient, ids) -> {id: Target}, one query for a page
    kinds: tuple = field(default=())


@dataclass
class People:
    # (user) -> dict: the API's user-summary {id, username, display_name, avatar}
    summary: Callable = lambda user: {
        "id": str(user.pk),
        "username": user.username,
        "display_name": getattr(user, "display_name", ""),
        "avatar": None,
    }
    # (user_id, other_id) -> bool: a block either way between them
    blocked_between: Callable = lambda user_id, other_id: False


_TARGETS: dict[str, TargetType] = {}
_KINDS: dict[str, tuple[Kind, str]] = {}
people = People()


def target_register(name: str, *, visible_to: Callable, describe: Callable, kinds) -> str:
    """Register a target type with its kinds; returns the name to pass to the services."""
    if not re.fullmatch(rf"[a-z_]{{1,{TARGET_TYPE_MAX}}}", name):
        raise ImproperlyConfigured(f"notification target {name!r}: 1-30 of a-z and _")
    if name in _TARGETS:
        raise ImproperlyConfigured(f"notification target {name!r} is registered twice")
    for kind in kinds:
        if not re.fullmatch(rf"[a-z_]{{1,{KIND_MAX}}}", kind.name) or kind.name in _KINDS:
            raise ImproperlyConfigured(f"notification kind {kind.name!r}: bad or registered twice")
        if kind.group not in (BY_TARGET, BY_DAY, BY_ACTOR):
            raise ImproperlyConfigured(f"notification kind {kind.name!r}: unknown grouping")
        _KINDS[kind.name] = (kind, name)
    _TARGETS[name] = TargetType(name, visible_to, describe, tuple(kinds))
    return name


def people_register(*, summary: Callable, blocked_between: Callable) -> None:
    """accounts says what a person looks like in the API and whether two are blocked."""
    people.summary, people.blocked_between = summary, blocked_between


def target_get(name: str) -> TargetType | None:
    return _TARGETS.get(name)


def kind_get(name: str) -> tuple[Kind, str] | tuple[None, None]:
    """(kind, its target type's name), or (None, None) when nobody registered it."""
    return _KINDS.get(name, (None, None))


def targets_registered() -> list[TargetType]:
    return [_TARGETS[name] for name in sorted(_TARGETS)]
