"""/healthz: the process answers. /readyz: its dependencies answer (503 naming the ones down)."""

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import redis
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connections.close_all()  # this check's thread hands its connection back
    return "ok"


def _redis() -> str:
    if not settings.REDIS_URL:
        return "not_configured"  # embedded defaults: nothing to be down
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    client.ping()
    return "ok"


def _storage() -> str:
    # For S3 this is a HEAD request against the private bucket; locally, a stat.
    default_storage.exists("readyz-probe")
    return "ok"


CHECKS = {"database": _database, "redis": _redis, "storage": _storage}
# Each check gets this long; one that has not answered by then is down (a hung store must
# not hang the probe that exists to notice it).
CHECK_TIMEOUT_S = 3.0
_checks_pool = ThreadPoolExecutor(max_workers=2 * len(CHECKS), thread_name_prefix="readyz")


@never_cache
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request):
    running = {name: _checks_pool.submit(check) for name, check in CHECKS.items()}
    deadline = time.monotonic() + CHECK_TIMEOUT_S  # the checks run side by side
    results = {}
    for name, future in running.items():
        try:
            results[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            logger.warning("readiness check %s timed out after %ss", name, CHECK_TIMEOUT_S)
            results[name] = "down"
        except Exception as exc:
            logger.warning("readiness check %s failed: %s", name, exc)
            results[name] = "down"
    down = [name for name, state in results.items() if state == "down"]
    body = {"status": "unavailable" if down else "ok", "checks": results, "down": down}
    return JsonResponse(body, status=503 if down else 200)
