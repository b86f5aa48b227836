"""Keyset pagination on (created_at, id) with opaque, tamper-evident cursors.

    page = paginate(queryset, cursor=cursor, limit=limit)
    return {"items": page.items, "next_cursor": page.next_cursor}

Rows are ordered newest first; the cursor names the last row of a page, so rows inserted
while a client pages never shift what it sees next (no repeats, no gaps).
"""

from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.db.models import Q, QuerySet

from circles.errors import ApiError

_SALT = "circles.pagination"
DEFAULT_LIMIT = 20
MAX_LIMIT = 50


@dataclass
class PageResult:
    items: list
    next_cursor: str | None


def encode_cursor(created_at: datetime, pk) -> str:
    return signing.dumps([created_at.isoformat(), str(pk)], salt=_SALT, compress=True)


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        created_at, pk = signing.loads(cursor, salt=_SALT)
        return datetime.fromisoformat(created_at), pk
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise ApiError(400, "invalid_cursor", "The cursor is not valid.") from exc


def paginate(
    queryset: QuerySet,
    *,
    cursor: str | None,
    limit: int = DEFAULT_LIMIT,
    time_field: str = "created_at",
) -> PageResult:
    """One page of queryset, newest first on (time_field, pk), fetching limit + 1 rows."""
    limit = max(1, min(limit, MAX_LIMIT))
    if cursor:
        created_at, pk = decode_cursor(cursor)
        queryset = queryset.filter(
            Q(**{f"{time_field}__lt": created_at}) | Q(**{time_field: created_at, "pk__lt": pk})
        )
    rows = list(queryset.order_by(f"-{time_field}", "-pk")[: limit + 1])
    items, more = rows[:limit], len(rows) > limit
    next_cursor = encode_cursor(getattr(items[-1], time_field), items[-1].pk) if more else None
    return PageResult(items=items, next_cursor=next_cursor)
