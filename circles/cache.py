"""The default cache when REDIS_URL is set: Django's Redis backend, failing soft.

Everything Circles keeps in the cache is a copy or a guard — sessions (cached_db, whose
rows are in PostgreSQL), feed cards, rankings, rate-limit counters — so a Redis outage
must cost speed, not answers: every failing operation is logged and answered as a miss
(get: the default, add/set: not stored, incr: None, which django-ratelimit reads as
"unknown" and, with RATELIMIT_FAIL_OPEN, lets through).

After a failure Redis is left alone for BACKOFF_SECONDS in this process, so a Redis that
hangs instead of refusing costs one timeout, not one per request.

Connections are kept per process. Django's cache handler is context-local, so under ASGI
every request gets a new cache object, and Django's Redis client a new connection pool:
each request used to open a fresh TCP connection (with redis-py's handshake, which reads
package metadata from disk) — 14 % of a feed page's time in a profile under load. One
redis-py client per server and options serves the whole process instead (redis-py's
pools are thread-safe and start over after a fork, as in Celery's pool processes).
"""

import logging
import time

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

BACKOFF_SECONDS = 5.0
ERRORS = (RedisError, OSError)
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
_down_until = 0.0


def available() -> bool:
    """False while backing off after a failure."""
    return time.monotonic() >= _down_until


def mark_down() -> None:
    """Back off after a failure seen outside the cache's own calls (posts.inbox)."""
    global _down_until
    _down_until = time.monotonic() + BACKOFF_SECONDS


def reset_backoff() -> None:
    """Forget an earlier failure (tests, and a Redis known to be back)."""
    global _down_until
    _down_until = 0.0


def _soft(operation: str, fallback):
    def wrap(method):
        def guarded(self, *args, **kwargs):
            if not available():
                return fallback(*args)
            try:
                return method(self, *args, **kwargs)
            except ERRORS as exc:
                mark_down()
                # Redis unreachable: one line (it comes back every BACKOFF_SECONDS while
                # the outage lasts); anything else is a surprise and keeps its traceback
                logger.warning(
                    "cache %s failed; answering without Redis (%s: %s)",
                    operation,
                    type(exc).__name__,
                    exc,
                    exc_info=not isinstance(exc, UNREACHABLE),
                )
                return fallback(*args)

        return guarded

    return wrap


_clients: dict[tuple[str, str], object] = {}  # (server URL, options) -> redis.Redis


class FailSoftRedisCacheClient(RedisCacheClient):
    def __init__(self, servers, **options):
        super().__init__(servers, **options)
        self._options_key = repr(sorted(self._pool_options.items(), key=str))

    def get_client(self, key=None, *, write=False):
        server = self._servers[self._get_connection_pool_index(write)]
        client = _clients.get((server, self._options_key))
        if client is None:
            pool = self._pool_class.from_url(server, **self._pool_options)
            client = _clients.setdefault(
                (server, self._options_key), self._client(connection_pool=pool)
            )
        return client

    add = _soft("add", lambda *a: False)(RedisCacheClient.add)
    get = _soft("get", lambda key, default, *a: default)(RedisCacheClient.get)
    set = _soft("set", lambda *a: None)(RedisCacheClient.set)
    touch = _soft("touch", lambda *a: False)(RedisCacheClient.touch)
    delete = _soft("delete", lambda *a: False)(RedisCacheClient.delete)
    get_many = _soft("get_many", lambda *a: {})(RedisCacheClient.get_many)
    has_key = _soft("has_key", lambda *a: False)(RedisCacheClient.has_key)
    incr = _soft("incr", lambda *a: None)(RedisCacheClient.incr)
    set_many = _soft("set_many", lambda data, *a: list(data))(RedisCacheClient.set_many)
    delete_many = _soft("delete_many", lambda *a: None)(RedisCacheClient.delete_many)
    clear = _soft("clear", lambda *a: False)(RedisCacheClient.clear)


class FailSoftRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = FailSoftRedisCacheClient
