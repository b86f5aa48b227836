"""The one publisher to the channel layer. Real time is an enhancement: a failing publish
is logged, never raised, so the write that caused it still succeeds.

Groups are named from ids only: `user.<id>`, `conversation.<id>`.
"""

import asyncio
import contextlib
import contextvars
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from redis.exceptions import ConnectionError as RedisConnectionError

logger = logging.getLogger(__name__)

# A publish that takes longer than this is given up (and logged): the write behind it has
# already succeeded, and a Redis that hangs must not hang the request too.
PUBLISH_TIMEOUT_S = 2.0


# Set by deferred(): publish() keeps (group, event) pairs here instead of sending them.
_held: contextvars.ContextVar[list | None] = contextvars.ContextVar("realtime_held", default=None)


@contextlib.contextmanager
def deferred():
    """Within it, publish() keeps each (group, event) in the list it yields instead of
    sending it; the caller sends them with apublish_all() once back on its event loop.

    For a consumer's database call (run in a thread): publishing from that thread is a
    hop back to the event loop that holds the thread — and so every other socket's
    database work queued behind it — until Redis answers. The events are still only
    published after the commit (publish_on_commit adds them when the commit runs)."""
    held: list = []
    token = _held.set(held)
    try:
        yield held
    finally:
        _held.reset(token)


async def apublish_all(held: list) -> None:
    """Send what deferred() kept, in order."""
    for group, event in held:
        await apublish(group, event)


def user_group(user_id) -> str:
    return f"user.{user_id}"


def conversation_group(conversation_id) -> str:
    return f"conversation.{conversation_id}"


def publish(group: str, event: dict) -> bool:
    """Send `event` (a dict with a dotted "type") to every socket in `group` now.

    Returns whether the layer accepted it. Consumers map the event type to a handler
    method (dots become underscores).
    """
    held = _held.get()
    if held is not None:  # inside deferred(): sent by the caller, on its event loop
        held.append((group, event))
        return True
    try:
        async_to_sync(_group_send)(group, event)
        return True
    except Exception as error:
        _log_failed(group, error)
        return False


async def apublish(group: str, event: dict) -> bool:
    """publish() for async code (a consumer): the same delivery, without a hop to a thread
    and back. Failures are logged, never raised."""
    try:
        await _group_send(group, event)
        return True
    except Exception as error:
        _log_failed(group, error)
        return False


def _log_failed(group: str, error: Exception) -> None:
    # Redis unreachable is an outage the sockets report (1011), not a bug: one line
    if isinstance(error, (ConnectionError, OSError, RedisConnectionError)):
        logger.warning("realtime publish to %s failed: %r", group, error)
    else:
        logger.warning("realtime publish to %s failed", group, exc_info=error)


async def _group_send(group: str, event: dict) -> None:
    # asyncio.timeout, not wait_for: on Python 3.11 wait_for runs the send as a task of
    # its own, one more task per event published
    async with asyncio.timeout(PUBLISH_TIMEOUT_S):
        await get_channel_layer().group_send(group, event)


def publish_on_commit(group: str, event: dict) -> None:
    """Publish after the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: publish(group, event))
