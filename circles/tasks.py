"""Platform tasks: liveness of the worker, used by beat and by /readyz-style checks."""

import logging
import socket

from celery import shared_task
from django.core.cache import cache

logger = logging.getLogger(__name__)


@shared_task(name="circles.heartbeat")
def heartbeat_task(label: str = "beat") -> str:
    """Record that a worker ran a task; the key tells which host ran it."""
    hostname = socket.gethostname()
    cache.set(f"circles:heartbeat:{label}", hostname, timeout=300)
    logger.info("heartbeat", extra={"label": label})
    return hostname
