"""The purpose table: for each purpose of an image, who may see it and what happens when
it is settled. Content apps register their entry from AppConfig.ready(), so media/ never
imports them, every rule still exists once (in the app that owns the object), and a new
purpose is one registration. A purpose with no entry is refused at upload and never served.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

from media.models import PURPOSE_MAX


def _nothing(image) -> None:
    return None


@dataclass(frozen=True)
class Purpose:
    name: str
    # may_see(viewer, image) -> bool: the owning object's own rule. Never asked for the
    # image's owner (they always see their own photos) nor for an image not yet ready.
    may_see: Callable
    # on_settled(image): called when the image turned ready or failed, inside the
    # transaction that settles it (publish events and queue work on commit from there).
    on_settled: Callable = _nothing


_PURPOSES: dict[str, Purpose] = {}


def purpose_register(name: str, *, may_see: Callable, on_settled: Callable = _nothing) -> str:
    """Register a purpose's rule and settle hook; returns the name to store on images."""
    if not re.fullmatch(rf"[a-z_]{{1,{PURPOSE_MAX}}}", name):
        raise ImproperlyConfigured(f"image purpose {name!r}: 1-{PURPOSE_MAX} of a-z and _")
    if name in _PURPOSES:
        raise ImproperlyConfigured(f"image purpose {name!r} is registered twice")
    _PURPOSES[name] = Purpose(name=name, may_see=may_see, on_settled=on_settled)
    return name


def purpose_get(name: str) -> Purpose | None:
    return _PURPOSES.get(name)


def purposes_registered() -> list[str]:
    return sorted(_PURPOSES)
