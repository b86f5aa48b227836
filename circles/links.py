"""URLs with an id in them, reversed once per process and filled in with the id.

A feed page shows five links and an avatar per post, and every page the navigation's
ten; reversing each one (Django's resolver walk, converters, quoting) was ~12 % of
rendering a page and ~1 ms of an API page on the bench VM. A URL's shape does not change
while the process runs, so it is reversed once with a placeholder UUID, and each call puts
the id in its place.
"""

import functools
import uuid

from django.templatetags.static import static
from django.urls import reverse

_PLACEHOLDER = "00000000-0000-4000-8000-000000000000"


@functools.lru_cache(maxsize=128)
def _shape(viewname: str, slot: str, fixed: tuple) -> str:
    return reverse(viewname, kwargs={slot: _PLACEHOLDER, **dict(fixed)})


def reverse_with_id(viewname: str, slot: str, value: uuid.UUID | str, **fixed: str) -> str:
    """reverse(viewname, kwargs={slot: value, **fixed}) for a UUID value."""
    # a UUID's own form, whatever was passed (a UUID already is: parsing it again was most
    # of this function's time)
    value = str(value) if isinstance(value, uuid.UUID) else str(uuid.UUID(str(value)))
    return _shape(viewname, slot, tuple(sorted(fixed.items()))).replace(_PLACEHOLDER, value)


# The shell's links (components/nav.html), on every page: reversed once per process.
_NAV = {
    "home": "home",
    "explore": "posts:explore",
    "search": "posts:search",
    "create": "posts:create",
    "inbox": "messaging:inbox",
    "saved": "posts:saved",
    "circles": "circles:list",
    "invites": "circles:invites",
    "requests": "accounts:requests",
    "settings": "accounts:settings",
    "password": "accounts:password_change",
    "blocked": "accounts:blocked",
    "admin": "admin:index",
    "logout": "accounts:logout",
    "badges": "nav_badges",
    "notifications": "notifications:list",
    "login": "accounts:login",
    "register": "accounts:register",
}


@functools.cache
def _nav_links() -> dict[str, str]:
    return {key: reverse(viewname) for key, viewname in _NAV.items()}


@functools.cache
def icon_sprite_url() -> str:
    return static("vendor/lucide/icons.svg")


def nav(request) -> dict:
    """Context processor: `nav.home`, `nav.settings`, … for components/nav.html."""
    return {"nav": _nav_links()}
