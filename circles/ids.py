"""Ids from outside (URLs, forms, JSON): every id is a UUID, and one that is not is unknown."""

import uuid

from django.http import Http404


def uuid_or_none(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def uuid_or_404(value) -> uuid.UUID:
    """The UUID in value; Http404 when it is not one (not found, as an unknown id is)."""
    found = uuid_or_none(value)
    if found is None:
        raise Http404
    return found
