"""JSON as the API writes it, for the hot answers built without pydantic (the tray, the
feed's cards, notifications): times with milliseconds and "Z" for UTC, as Django's JSON
encoder writes them, and everything else by orjson."""

from datetime import datetime

import orjson
from django.core.serializers.json import DjangoJSONEncoder

_django_default = DjangoJSONEncoder().default


def json_time(value) -> str:
    """A datetime as DjangoJSONEncoder writes it, without its type dispatch (a tray writes
    ~300 of them)."""
    text = value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _default(value):
    return json_time(value) if isinstance(value, datetime) else _django_default(value)


def dumps(data) -> bytes:
    """data as JSON bytes: UUIDs as str() writes them, times as json_time."""
    return orjson.dumps(data, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME)
