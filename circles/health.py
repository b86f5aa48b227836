"""/healthz: the process answers. /readyz: its dependencies answer (503 naming the ones down)."""

import logging

import redis
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
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


@never_cache
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request):
    results = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:
            logger.warning("readiness check %s failed: %s", name, exc)
            results[name] = "down"
    down = [name for name, state in results.items() if state == "down"]
    body = {"status": "unavailable" if down else "ok", "checks": results, "down": down}
    return JsonResponse(body, status=503 if down else 200)
