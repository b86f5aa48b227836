"""The one publisher to the channel layer. Real time is an enhancement: a failing publish
is logged, never raised, so the write that caused it still succeeds.

Groups are named from ids only: `user.<id>`, `conversation.<id>`.
"""

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

# A publish that takes longer than this is given up (and logged): the write behind it has
# already succeeded, and a Redis that hangs must not hang the request too.
PUBLISH_TIMEOUT_S = 2.0


def user_group(user_id) -> str:
    return f"user.{user_id}"


def conversation_group(conversation_id) -> str:
    return f"conversation.{conversation_id}"


def publish(group: str, event: dict) -> bool:
    """Send `event` (a dict with a dotted "type") to every socket in `group` now.

    Returns whether the layer accepted it. Consumers map the event type to a handler
    method (dots become underscores).
    """
    try:
        async_to_sync(_group_send)(group, event)
        return True
    except Exception:
        logger.warning("realtime publish to %s failed", group, exc_info=True)
        return False


async def apublish(group: str, event: dict) -> bool:
    """publish() for async code (a consumer): the same delivery, without a hop to a thread
    and back. Failures are logged, never raised."""
    try:
        await _group_send(group, event)
        return True
    except Exception:
        logger.warning("realtime publish to %s failed", group, exc_info=True)
        return False


async def _group_send(group: str, event: dict) -> None:
    await asyncio.wait_for(get_channel_layer().group_send(group, event), PUBLISH_TIMEOUT_S)


def publish_on_commit(group: str, event: dict) -> None:
    """Publish after the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: publish(group, event))
