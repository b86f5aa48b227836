"""The one socket per tab at /ws/. Translation only: frames in, services called, events
out (shared/API.md "WebSocket /ws/"; event → frame table in messaging/events.py).

On connect the socket joins `user.<id>` and the `conversation.<id>` group of every
conversation its person may read; `conversation.joined` / `conversation.left` events on
the user group make it join new ones and leave ones it may no longer read (a block, a
removal from a circle). It also remembers which conversations it is in and drops any
conversation event outside them, so an event already on its way when a `left` arrived
is not delivered either.

Presence: the socket counts itself in Redis (messaging.presence) while open; when its
person comes online or (3 s after their last socket closed) goes offline, the change is
announced through their conversations' groups.

Per socket: frames ≤ 16 KB; at most FRAMES_PER_SECOND frames a second (beyond: an error
frame; far beyond: close 1008); typing at most twice a second per conversation. Sending
shares the per-person message rate limit with the API.

Blocks: in a group the two share, each person's sockets leave out the other's messages,
typing, read receipts, reactions and presence (`self.hidden`, loaded on connect and kept
current by `block.changed`), as their history does (Message.objects.shown_to).

Per-socket state (the groups joined, throttles, the hidden people) lives and dies with
the socket; nothing another process needs is kept here.
"""

import asyncio
import contextlib
import contextvars
import functools
import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import orjson
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from uvicorn.protocols.utils import ClientDisconnected

from accounts.selectors import block_user_ids_for
from circles import metrics, realtime, textguard
from circles.errors import REFUSALS, error_object, invalid_text_refusal, refusal
from circles.realtime import conversation_group, user_group
from messaging import events, presence
from messaging.selectors import (
    conversation_ids_for_user,
    reactions_for_viewer,
    user_list_partners_online,
)
from messaging.services import (
    conversation_mark_read,
    message_send,
    presence_announce_async,
    typing_announce,
)

logger = logging.getLogger(__name__)

MAX_FRAME_BYTES = 16 * 1024
CLOSE_UNAUTHENTICATED = 4401
CLOSE_POLICY_VIOLATION = 1008
# The channel layer (Redis) failed: "internal error", which the page's client
# (static/js/realtime.js) answers by reconnecting with backoff.
CLOSE_LAYER_LOST = 1011
# What a lost channel layer raises: redis-py's errors (ConnectionError, TimeoutError…)
# and the socket errors beneath them.
LAYER_ERRORS = (RedisError, OSError)
FRAMES_PER_SECOND = 30
CLOSE_AFTER_FRAMES_PER_SECOND = 4 * FRAMES_PER_SECOND
TYPING_EVERY_S = 0.5
JOIN_BATCH = 20  # conversation groups joined at once on connect

# The threads that run the sockets' writes (a send, typing, a read mark), each with its
# database connection from the pool. Not Django's one sync thread: every socket of the
# process queued its sends behind each other there, one PostgreSQL round trip at a time,
# and under load that queue was the tail (README "Performance", "Hot paths"). Order is
# the database's: a send locks its conversation's row until it commits, so seqs follow
# commit order whichever thread writes them.
_writers = ThreadPoolExecutor(
    max_workers=settings.CHAT_WRITE_THREADS, thread_name_prefix="socket-writes"
)

# Writes in progress (held so they are not collected while shielded from a cancel).
_writing: set = set()

# Offline checks scheduled after a last socket closed (held so they are not collected).
_settling: set = set()


def error_body(exc: Exception) -> dict:
    """A refusal as the API's error object {code, message, fields?}, in the socket's words
    for a rate limit."""
    return error_object(refusal(exc, too_often="Too many messages. Try again in a minute."))


def _send_and_describe(*, user, conversation_id, client_id, content) -> dict:
    """Store the message, describe it for events (in the database thread)."""
    message, _ = message_send(
        sender=user, conversation_id=conversation_id, client_id=client_id, content=content
    )
    if not hasattr(message, "reactions_by_user"):
        message.reactions_by_user = []
    return events.message_payload(message)


def _keep_connection_if_sound() -> None:
    """After a write, in its writer thread: keep the thread's database connection for the
    next write unless the write left it in doubt. Django would hand it back to the pool
    after every call (database_sync_to_async), and taking it again costs the pool's
    health check, a round trip, per send."""
    if connection.connection is None:
        return
    if connection.in_atomic_block or not connection.get_autocommit():
        connection.close()  # a write never leaves a transaction open; if one did, end it
    elif connection.errors_occurred:  # not for IntegrityError (a repeated client_id)
        if connection.is_usable():
            connection.errors_occurred = False
        else:
            connection.close()


def _write(function, kwargs: dict):
    """function(**kwargs) in a writer thread, on the thread's kept connection; returns
    (result, error, the events it published on commit). A connection PostgreSQL dropped
    while it was kept (a restart, pg_terminate_backend) fails the first statement: the
    write runs once more on a new one, which is safe for every write the socket makes (a
    send is idempotent on its client_id, a read mark moves only forward, typing is
    typing)."""
    with realtime.deferred() as held:
        for attempt in (1, 2):
            kept = connection.connection is not None
            try:
                return function(**kwargs), None, held
            except (OperationalError, InterfaceError) as exc:
                if attempt == 1 and kept and not connection.is_usable():
                    connection.close()
                    continue
                return None, exc, held
            except Exception as exc:  # what committed before the fault is still announced
                return None, exc, held
            finally:
                _keep_connection_if_sound()
    raise AssertionError("unreachable")  # pragma: no cover


async def _in_database_thread(function, **kwargs):
    """function(**kwargs) in a writer thread (one trip there and back, _write); what it
    published on commit is sent from here, on the event loop, once it returns — not from
    the thread, which would hop back to this loop and hold the thread (and every other
    socket's database work behind it) until Redis answered (circles.realtime.deferred).
    A plain run_in_executor, not database_sync_to_async, which would hand the thread's
    connection back to the pool after each call (_keep_connection_if_sound)."""

    async def write_and_publish():
        call = functools.partial(contextvars.copy_context().run, _write, function, kwargs)
        result, error, held = await asyncio.get_running_loop().run_in_executor(_writers, call)
        await realtime.apublish_all(held)
        return result, error

    # shielded: a socket that closes (or a task cancelled) mid-write still publishes what
    # was committed, as the write itself cannot be taken back
    task = asyncio.ensure_future(write_and_publish())
    _writing.add(task)
    task.add_done_callback(_writing.discard)
    result, error = await asyncio.shield(task)
    if error is not None:
        raise error
    return result


async def _settle_presence(user, conversation_ids: list[str]) -> None:
    """After the grace period: announce "offline" if no socket of user came back."""
    try:
        await asyncio.sleep(presence.OFFLINE_GRACE_S + 0.1)
        if await presence.settle(user.pk):
            await presence_announce_async(
                user=user, online=False, conversation_ids=conversation_ids
            )
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.warning("presence settle failed", exc_info=True)


class RealtimeConsumer(AsyncJsonWebsocketConsumer):
    @classmethod
    async def encode_json(cls, content):
        # orjson: ~5x faster than json.dumps for a message frame, sent once per recipient
        return orjson.dumps(content).decode()

    async def __call__(self, scope, receive, send):
        """Channels' AsyncConsumer.__call__, with a channel-layer receive that survives a
        client-side read timeout. channels_redis's core layer (CHANNEL_LAYER=core) waits
        for events with a blocking pop of 5 s, and redis-py 8 also times reads out after
        5 s by default: when the empty
        answer arrives a moment late, the read raises TimeoutError, which would end the
        consumer and close an idle socket. Retrying is what the pop would have done.
        (The settings can remove the cause: see the hosts options of CHANNEL_LAYERS.)"""
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.base_send = send
        try:
            # in the try: the pub/sub layer subscribes here, so a lost Redis raises here
            self.channel_name = await self.channel_layer.new_channel()
            with contextlib.suppress(StopConsumer):  # the consumer's normal way out
                await await_many_dispatch([receive, self.channel_receive], self.dispatch)
        except ClientDisconnected:
            # The other end went away while something was on its way to it (a network
            # that vanished, a closed laptop): ordinary life for a socket, not an error.
            logger.info("a socket went away mid-send (%s)", getattr(self, "user", "not signed in"))
        except LAYER_ERRORS as exc:
            # Redis (the channel layer) went away: nothing more can reach this socket.
            await self.close_for_lost_layer(exc)
        finally:
            # However the consumer ends, its presence must end with it (disconnect() is
            # not called when a handler raised).
            await self.release()

    async def dispatch(self, message):
        """Channels' dispatch without its per-message aclose_old_connections(): that is a
        hop to Django's one sync thread for every frame and event, queued behind every
        other socket's database work. No handler here touches the ORM outside
        database_sync_to_async, which closes old connections around each call itself."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:  # an event kind this socket does not relay: not worth a crash
            logger.warning("no handler for %s", message.get("type"))
            return
        await handler(message)

    async def channel_receive(self):
        while True:
            try:
                return await self.channel_layer.receive(self.channel_name)
            except RedisTimeoutError:
                # A cancel that came with the timeout must win, or the consumer would
                # outlive its socket (and an event loop closing would wait for it forever).
                if asyncio.current_task().cancelling():
                    raise asyncio.CancelledError from None
                logger.debug("channel layer read timed out; waiting again")

    async def connect(self):
        user = self.scope.get("user")
        await self.accept()
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        metrics.SOCKETS_OPEN.inc()
        metrics.SOCKETS_OPENED.inc()
        self.joined: set[str] = set()
        self.conversations: set[str] = set()
        self.window = (0.0, 0)  # (second it started, frames in it)
        self.typed: dict[str, float] = {}
        self.presence_seen: dict[str, str] = {}  # user id -> last announcement passed on
        self.presence_shown: dict[str, bool] = {}  # user id -> what the page was last told
        # people a block stands between: their frames in shared groups are left out
        # (Message.objects.shown_to's rule); kept current by block.changed events
        await self.join(user_group(user.pk))
        self.hidden: set[str] = await database_sync_to_async(block_user_ids_for)(user=user)
        ids = await database_sync_to_async(conversation_ids_for_user)(user=user)
        for start in range(0, len(ids), JOIN_BATCH):  # bounded: the layer's pool is finite
            batch = ids[start : start + JOIN_BATCH]
            await asyncio.gather(*(self.join_conversation(cid) for cid in batch))
        came_online = await presence.socket_open(user.pk, self.channel_name)
        self.heartbeat = asyncio.create_task(self.keep_present(announce=came_online, ids=ids))
        # who is online now (a reconnecting page has set every dot to offline meanwhile)
        partners = database_sync_to_async(user_list_partners_online)
        for person in await partners(user=user, conversation_ids=ids):
            if person["id"] in self.hidden:
                continue
            self.presence_shown[person["id"]] = True
            await self.send_json({"type": "presence", "user": person, "online": True})

    async def disconnect(self, code):
        await self.release()

    async def release(self):
        """Leave the groups and count this socket out of presence; safe to call twice."""
        if getattr(self, "released", False):
            return
        self.released = True
        try:
            for group in getattr(self, "joined", ()):
                await self.channel_layer.group_discard(group, self.channel_name)
        except LAYER_ERRORS:  # Redis is gone: the groups expire on their own
            logger.debug("leaving channel groups failed", exc_info=True)
        except Exception:  # the groups expire on their own; presence must still close
            logger.warning("leaving channel groups failed", exc_info=True)
        if not hasattr(self, "user"):
            return
        metrics.SOCKETS_OPEN.dec()
        if getattr(self, "heartbeat", None) is not None:
            self.heartbeat.cancel()
        try:
            last = await presence.socket_close(self.user.pk, self.channel_name)
        except LAYER_ERRORS:  # the count lives in Redis too, and expires there
            logger.debug("presence close failed", exc_info=True)
            return
        if last:
            settle = _settle_presence(self.user, sorted(self.conversations))
            task = asyncio.get_running_loop().create_task(settle)
            _settling.add(task)
            task.add_done_callback(_settling.discard)

    async def join(self, group: str):
        self.joined.add(group)
        await self.channel_layer.group_add(group, self.channel_name)

    async def join_conversation(self, conversation_id: str):
        self.conversations.add(conversation_id)
        await self.join(conversation_group(conversation_id))

    async def keep_present(self, *, announce: bool, ids: list[str]):
        """Keep this socket counted in Redis while it is open (after announcing that its
        person came online, when they did), and close it when Redis is lost — found by
        this process's shared check (presence.redis_lost) or by the refresh failing.
        The core channel layer raises on a lost Redis by itself (see __call__); the
        pub/sub layer reconnects silently and would leave the socket open but deaf."""
        try:
            if announce:
                await presence_announce_async(user=self.user, online=True, conversation_ids=ids)
            while True:
                if await presence.redis_lost(presence.HEARTBEAT_S):
                    raise RedisConnectionError("Redis did not answer the process's check")
                await presence.socket_refresh(self.user.pk, self.channel_name)
        except asyncio.CancelledError:
            raise
        except LAYER_ERRORS as exc:
            await self.close_for_lost_layer(exc)
        except Exception:
            logger.warning("presence heartbeat failed", exc_info=True)

    async def close_for_lost_layer(self, exc: Exception):
        """Close with a code the client acts on (reconnect with backoff) and one line in
        the log rather than a traceback per socket; once per socket."""
        if getattr(self, "closed_for_layer", False):
            return
        self.closed_for_layer = True
        logger.warning(
            "channel layer lost (%s: %s); socket closed with %s",
            type(exc).__name__,
            exc,
            CLOSE_LAYER_LOST,
        )
        with contextlib.suppress(Exception):  # the client may be gone as well
            await self.base_send({"type": "websocket.close", "code": CLOSE_LAYER_LOST})

    # --- frames from the client ---------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if not hasattr(self, "user"):
            return
        if not await self.within_budget():
            return
        if text_data is None or len(text_data) > MAX_FRAME_BYTES:
            await self.send_error("frame_rejected", "Send JSON text frames under 16 KB.")
            return
        try:
            content = json.loads(text_data)
        except (ValueError, RecursionError):  # deep nesting raises RecursionError
            await self.send_error("invalid_json", "The frame is not valid JSON.")
            return
        if not isinstance(content, dict):
            await self.send_error("invalid_frame", "A frame is a JSON object with a type.")
            return
        if (fault := textguard.first_fault(content)) is not None:
            await self.refuse_text(content, fault)
            return
        try:
            await self.receive_json(content)
        except ClientDisconnected:
            raise  # gone: nothing to answer (see __call__)
        except Exception:  # a fault behind one frame (say the database) must not end the socket
            logger.exception("frame %s failed", content.get("type"))
            await self.send_error("server_error", "That did not work. Try again.")

    async def within_budget(self) -> bool:
        """Flood control: an error past FRAMES_PER_SECOND, a close far past it."""
        now = time.monotonic()
        started, count = self.window
        if now - started >= 1.0:
            started, count = now, 0
        self.window = (started, count + 1)
        if count + 1 > CLOSE_AFTER_FRAMES_PER_SECOND:
            await self.close(code=CLOSE_POLICY_VIOLATION)
            return False
        if count + 1 > FRAMES_PER_SECOND:
            if count == FRAMES_PER_SECOND:  # say it once per second, not per frame
                await self.send_error("too_many_frames", "Slow down: too many frames.")
            return False
        return True

    async def receive_json(self, content, **kwargs):
        kind = content.get("type")
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "message.send":
            await self.on_message_send(content)
        elif kind == "typing":
            await self.on_typing(content)
        elif kind == "read":
            await self.on_read(content)
        else:
            await self.send_error("unknown_type", "Unknown frame type.")

    async def on_message_send(self, content):
        client_id = content.get("client_id")
        try:
            message = await _in_database_thread(
                _send_and_describe,
                user=self.user,
                conversation_id=content.get("conversation_id"),
                client_id=client_id,
                content=content.get("content", ""),
            )
        except REFUSALS as exc:
            await self.send_json(
                {
                    "type": "message.error",
                    "client_id": client_id if isinstance(client_id, str) else None,
                    "error": error_body(exc),
                }
            )
            return
        await self.send_json(
            {
                "type": "message.ack",
                "client_id": client_id,
                "message": events.message_for_viewer(message, viewer_id=self.user.pk),
            }
        )

    async def on_typing(self, content):
        try:
            conversation_id = str(uuid.UUID(str(content.get("conversation_id"))))
        except ValueError:
            conversation_id = None
        if conversation_id not in self.conversations:  # checked first: self.typed stays bounded
            await self.send_error("not_found", "Not found.")
            return
        now = time.monotonic()
        if now - self.typed.get(conversation_id, -TYPING_EVERY_S) < TYPING_EVERY_S:
            return
        self.typed[conversation_id] = now
        try:
            await _in_database_thread(
                typing_announce, user=self.user, conversation_id=conversation_id
            )
        except REFUSALS as exc:
            await self.send_json({"type": "error", "error": error_body(exc)})

    async def on_read(self, content):
        try:
            await _in_database_thread(
                conversation_mark_read,
                user=self.user,
                conversation_id=content.get("conversation_id"),
                message_id=content.get("message_id"),
            )
        except REFUSALS as exc:
            await self.send_json({"type": "error", "error": error_body(exc)})

    async def refuse_text(self, content: dict, fault: str):
        """The input guard's refusal (circles.textguard), as the API words it: for a
        message, a message.error the page can mark the message with; else an error."""
        error = error_object(invalid_text_refusal(fault, textguard.MESSAGE))
        if content.get("type") != "message.send":
            await self.send_json({"type": "error", "error": error})
            return
        client_id = content.get("client_id")
        if not isinstance(client_id, str) or fault == "client_id":
            client_id = None
        await self.send_json({"type": "message.error", "client_id": client_id, "error": error})

    async def send_error(self, code: str, message: str):
        await self.send_json({"type": "error", "error": {"code": code, "message": message}})

    # --- events from circles.realtime.publish -------------------------------------------

    async def session_ended(self, event):
        """The person logged out, changed their password or was banned."""
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def conversation_joined(self, event):
        await self.join_conversation(event["conversation_id"])

    async def conversation_left(self, event):
        conversation_id = event["conversation_id"]
        self.conversations.discard(conversation_id)
        group = conversation_group(conversation_id)
        self.joined.discard(group)
        await self.channel_layer.group_discard(group, self.channel_name)

    async def notification_created(self, event):
        """To user.<id> only: the person's own notification and unread count."""
        await self.send_json(
            {
                "type": "notification.new",
                "notification": event["notification"],
                "unread_count": event["unread_count"],
            }
        )

    async def block_changed(self, event):
        if event["blocked"]:
            self.hidden.add(event["user_id"])
        else:
            self.hidden.discard(event["user_id"])

    def receives(self, event, *, from_id: str | None = None) -> bool:
        """Is the event for this socket: one of its conversations, and not from someone
        a block stands between (from_id: who caused it)?"""
        return event.get("conversation_id") in self.conversations and from_id not in self.hidden

    async def message_created(self, event):
        if self.receives(event, from_id=event["message"]["sender"]["id"]):
            message = events.message_for_viewer(
                event["message"], viewer_id=self.user.pk, hidden=self.hidden
            )
            await self.send_json({"type": "message.new", "message": message})

    message_changed = message_created

    async def typing_started(self, event):
        user_id = event["user"]["id"]
        if self.receives(event, from_id=user_id) and user_id != str(self.user.pk):
            await self.send_json(
                {
                    "type": "typing",
                    "conversation_id": event["conversation_id"],
                    "user": event["user"],
                }
            )

    async def message_read(self, event):
        if self.receives(event, from_id=event["user"]["id"]):
            await self.send_json(
                {
                    "type": "read",
                    "conversation_id": event["conversation_id"],
                    "user": event["user"],
                    "message_id": event["message_id"],
                }
            )

    async def reaction_changed(self, event):
        if self.receives(event):
            reactions = reactions_for_viewer(
                event["reactions"], viewer_id=self.user.pk, hidden=self.hidden
            )
            await self.send_json(
                {"type": "reaction", "message_id": event["message_id"], "reactions": reactions}
            )

    async def presence_changed(self, event):
        """One event per shared conversation: pass on a change once, not once per group."""
        user_id = event["user"]["id"]
        if not self.receives(event, from_id=user_id) or user_id == str(self.user.pk):
            return
        if self.presence_seen.get(user_id) == event["announcement"]:
            return
        self.presence_seen[user_id] = event["announcement"]
        # an announcement sent before this socket joined can still reach it (the pub/sub
        # layer resolves a group's sockets when an event arrives): tell nothing twice
        if self.presence_shown.get(user_id) == event["online"]:
            return
        self.presence_shown[user_id] = event["online"]
        await self.send_json({"type": "presence", "user": event["user"], "online": event["online"]})
