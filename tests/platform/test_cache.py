"""circles.cache: one Redis connection pool per process, whatever Django does with its
cache objects (see the module's docstring). Redis down is tested in tests/*/test_redis_down.py."""

import contextvars

from django.core.cache import caches


def cache_of_a_new_request():
    """The default cache as a new ASGI request sees it: Django's cache handler is
    context-local, and each request runs in a fresh context."""
    return contextvars.Context().run(lambda: caches["default"])


def test_requests_share_one_connection_pool():
    first, second = cache_of_a_new_request(), cache_of_a_new_request()
    assert first is not second  # what Django does under ASGI
    client = first._cache.get_client()
    assert client is second._cache.get_client()
    client.ping()  # a connection exists (other tests may have made more)
    made = client.connection_pool._created_connections
    for number in range(20):
        cache = cache_of_a_new_request()
        cache.set(f"shared-pool-{number}", number)
        assert cache.get(f"shared-pool-{number}") == number
    assert client.connection_pool._created_connections == made  # none opened per request


def test_an_unreachable_redis_logs_one_line_and_a_surprise_its_traceback(redis_down, caplog):
    """An outage repeats every BACKOFF_SECONDS: one line each, no traceback; an error that
    is not about reaching Redis keeps its traceback."""
    import logging

    from redis.exceptions import ResponseError

    from circles import cache as soft

    with caplog.at_level(logging.WARNING, logger="circles.cache"):
        assert caches["default"].get("anything", "fallback") == "fallback"
    (outage,) = caplog.records
    assert "answering without Redis (ConnectionError" in outage.getMessage()
    assert not outage.exc_info
    caplog.clear()
    soft.reset_backoff()

    def refuse(*args, **kwargs):
        raise ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value")

    client = soft.FailSoftRedisCacheClient
    guarded = soft._soft("get", lambda key, default, *a: default)(refuse)
    with caplog.at_level(logging.WARNING, logger="circles.cache"):
        assert guarded(client, "key", "fallback") == "fallback"
    (surprise,) = caplog.records
    assert surprise.exc_info is not None and "WRONGTYPE" in surprise.getMessage()
