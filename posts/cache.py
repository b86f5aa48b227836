"""Redis (the default cache) for the read paths of posts: feed cards, explore, search and
suggestions. It is only ever a copy: every value can be rebuilt from PostgreSQL, every
key expires by itself, and every Redis failure is logged and read as a miss, so pages
and the API keep answering from PostgreSQL when Redis is down.

After a failure Redis is left alone for BACKOFF_SECONDS in this process, so a Redis that
hangs instead of refusing costs one timeout, not one per request.
"""

import logging
import time

from django.core.cache import cache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

BACKOFF_SECONDS = 5.0
ERRORS = (RedisError, OSError)
_down_until = 0.0


def _available() -> bool:
    return time.monotonic() >= _down_until


def _failed(operation: str) -> None:
    global _down_until
    _down_until = time.monotonic() + BACKOFF_SECONDS
    logger.warning("cache %s failed; answering from the database", operation, exc_info=True)


def reset_backoff() -> None:
    """Forget an earlier failure (tests, and a Redis known to be back)."""
    global _down_until
    _down_until = 0.0


def cache_get(key: str, default=None):
    if not _available():
        return default
    try:
        return cache.get(key, default)
    except ERRORS:
        _failed("get")
        return default


def cache_get_many(keys: list[str]) -> dict:
    if not keys or not _available():
        return {}
    try:
        return cache.get_many(keys)
    except ERRORS:
        _failed("get_many")
        return {}


def cache_set(key: str, value, timeout: float) -> None:
    if not _available():
        return
    try:
        cache.set(key, value, timeout)
    except ERRORS:
        _failed("set")


def cache_set_many(values: dict, timeout: float) -> None:
    if not values or not _available():
        return
    try:
        cache.set_many(values, timeout)
    except ERRORS:
        _failed("set_many")


def cache_delete_many(keys: list[str]) -> None:
    if not keys or not _available():
        return
    try:
        cache.delete_many(keys)
    except ERRORS:
        _failed("delete_many")


def enforce_feed_limit(request, *, user) -> None:
    """The "feed" rate limit (60 a minute per person) of circles.ratelimits, failing open:
    the counter lives in Redis, and a Redis outage must not take the feed down with it."""
    from circles.ratelimits import enforce

    if not _available():
        return
    try:
        enforce(request, "feed", key=f"user:{user.pk}")
    except ERRORS:
        _failed("rate limit")
