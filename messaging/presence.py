"""Online presence, kept in Redis with expiry (never in process memory), so every web
process sees the same answer.

Per person, three keys:
- `…:sockets:<user>`: a sorted set of their open sockets (channel names), each scored
  with the time it expires unless its consumer refreshes it (every HEARTBEAT_S); a
  crashed process's sockets thus fade out on their own;
- `…:grace:<user>`: set for OFFLINE_GRACE_S when their last socket closes, so a page
  reload (close, then open within a second) never shows them offline;
- `…:announced:<user>`: what was last announced ("1" online, "0" offline), swapped
  atomically so each change is announced once even with many processes.

Online = a live socket or the grace key. Each transition runs as one Lua script, so two
processes never both announce (or both miss) a change. The offline check after the grace
period is a timer in the process whose socket closed; if that process dies, the person's
sockets simply expire and readers (pages, online_map) see them offline.

Without REDIS_URL (the embedded defaults) the same rules run on a dict in this process
(_LocalPresence): the embedded defaults serve from one process, whose in-memory channel
layer reaches no other anyway. A Redis failure is logged and treated as "offline, nothing
to announce": real time is an enhancement.
"""

import asyncio
import logging
import time
import weakref

import redis
import redis.asyncio as aioredis
from django.conf import settings

logger = logging.getLogger(__name__)

PREFIX = "circles:presence"
SOCKET_TTL_S = 60  # a socket not refreshed for this long counts as gone
HEARTBEAT_S = 20
# How often each process checks that Redis still answers while it has sockets open: a
# lost Redis closes them (messaging.consumers), so they do not stay open but deaf.
LOSS_CHECK_S = 5.0
OFFLINE_GRACE_S = 3.0  # "a disconnect counts only after 3 s"
ANNOUNCED_TTL_S = 24 * 3600
POOL_SIZE = 32  # Redis connections for presence per process

_OPEN = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('DEL', KEYS[2])
local old = redis.call('GETSET', KEYS[3], '1')
redis.call('EXPIRE', KEYS[3], ARGV[5])
if old == '1' then return 0 end
return 1
"""

_REFRESH = """
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return 1
"""

_CLOSE = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
return 1
"""

_SETTLE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) > 0 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local old = redis.call('GETSET', KEYS[3], '0')
redis.call('EXPIRE', KEYS[3], ARGV[2])
if old == '1' then return 1 end
return 0
"""


class _LocalPresence:
    """The Lua scripts' rules over a dict, for the embedded defaults (no Redis)."""

    def __init__(self):
        self.sockets: dict[str, dict[str, float]] = {}  # user -> {channel: expires at}
        self.grace: dict[str, float] = {}  # user -> grace period ends at
        self.announced: dict[str, bool] = {}

    def live(self, user: str, now: float) -> dict[str, float]:
        sockets = {c: t for c, t in self.sockets.get(user, {}).items() if t > now}
        self.sockets[user] = sockets
        return sockets

    def open(self, user: str, channel: str, now: float) -> bool:
        self.live(user, now)[channel] = now + SOCKET_TTL_S
        self.grace.pop(user, None)
        was_online = self.announced.get(user, False)
        self.announced[user] = True
        return not was_online

    def refresh(self, user: str, channel: str, now: float) -> None:
        self.live(user, now)[channel] = now + SOCKET_TTL_S

    def close(self, user: str, channel: str, now: float) -> bool:
        sockets = self.live(user, now)
        sockets.pop(channel, None)
        if sockets:
            return False
        self.grace[user] = now + OFFLINE_GRACE_S
        return True

    def settle(self, user: str, now: float) -> bool:
        if self.online(user, now):
            return False
        was_online = self.announced.get(user, False)
        self.announced[user] = False
        return was_online

    def online(self, user: str, now: float) -> bool:
        return bool(self.live(user, now)) or self.grace.get(user, 0) > now


_local = _LocalPresence()


def _keys(user_id) -> list[str]:
    return [
        f"{PREFIX}:sockets:{user_id}",
        f"{PREFIX}:grace:{user_id}",
        f"{PREFIX}:announced:{user_id}",
    ]


def enabled() -> bool:
    return bool(settings.REDIS_URL)


_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 2}
_async_clients: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_sync_client: redis.Redis | None = None


def _async_client() -> aioredis.Redis:
    """One client per event loop (an asyncio Redis connection belongs to its loop)."""
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        # a bounded pool that waits for a free connection rather than failing when a
        # thousand sockets open or close at once
        pool = aioredis.BlockingConnectionPool.from_url(
            settings.REDIS_URL, max_connections=POOL_SIZE, timeout=5, **_OPTIONS
        )
        client = aioredis.Redis(connection_pool=pool)
        _async_clients[loop] = client
    return client


def _client() -> redis.Redis:
    global _sync_client
    if _sync_client is None:
        _sync_client = redis.Redis.from_url(settings.REDIS_URL, **_OPTIONS)
    return _sync_client


UNREACHABLE = (redis.ConnectionError, redis.TimeoutError, OSError)


async def _run(script: str, keys: list[str], args: list, *, strict: bool = False) -> int:
    """Run a script; Redis unreachable answers 0 (strict: raises UNREACHABLE)."""
    if not enabled():
        return 0
    try:
        return int(await _async_client().eval(script, len(keys), *keys, *args))
    except UNREACHABLE as exc:
        if strict:
            raise
        # Redis unreachable: the socket's own close says so once (consumers.LAYER_ERRORS)
        logger.info("presence update failed (%s: %s)", type(exc).__name__, exc)
        return 0
    except redis.RedisError:
        logger.warning("presence update failed", exc_info=True)
        return 0


async def socket_open(user_id, channel_name: str) -> bool:
    """Count a new socket of user_id; True when they just came online."""
    now = time.time()
    if not enabled():
        return _local.open(str(user_id), channel_name, now)
    keys = _keys(user_id)
    args = [channel_name, now, now + SOCKET_TTL_S, SOCKET_TTL_S * 1000, ANNOUNCED_TTL_S]
    return bool(await _run(_OPEN, keys, args))


async def socket_refresh(user_id, channel_name: str) -> None:
    """Keep an open socket counted (its consumer calls this every HEARTBEAT_S). Raises
    UNREACHABLE when Redis does not answer: the consumer closes the socket for it."""
    if not enabled():
        return _local.refresh(str(user_id), channel_name, time.time())
    keys = _keys(user_id)
    args = [channel_name, time.time() + SOCKET_TTL_S, SOCKET_TTL_S * 1000, ANNOUNCED_TTL_S]
    await _run(_REFRESH, [keys[0], keys[2]], args, strict=True)


class _LossWatch:
    """One per event loop: while sockets wait on it, one PING every LOSS_CHECK_S on a
    connection of its own (never queued behind the sockets' pool), shared by all of them —
    finding Redis gone costs one round trip a process, not one a socket. Why at all: the
    pub/sub channel layer reconnects by itself and raises nothing, so without this a
    socket would stay open but deaf while Redis is away, and miss what was sent meanwhile."""

    def __init__(self):
        self.lost = asyncio.Event()
        self.waiting = 0
        self.task: asyncio.Task | None = None

    async def wait(self, timeout: float) -> bool:
        """True when Redis was found unreachable within timeout seconds."""
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self.run())
        lost = self.lost  # this round's event: a later loss sets a new one
        self.waiting += 1
        try:
            async with asyncio.timeout(timeout):
                await lost.wait()
            return True
        except TimeoutError:
            return False
        finally:
            self.waiting -= 1

    async def run(self):
        client = aioredis.Redis.from_url(settings.REDIS_URL, max_connections=1, **_OPTIONS)
        try:
            while self.waiting:
                await asyncio.sleep(LOSS_CHECK_S)
                try:
                    await client.ping()
                except UNREACHABLE as exc:
                    logger.info("Redis unreachable (%s: %s)", type(exc).__name__, exc)
                    self.lost.set()
                    self.lost = asyncio.Event()
        finally:
            self.task = None
            await client.aclose()


_watches: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


async def redis_lost(timeout: float) -> bool:
    """Wait up to timeout seconds; True as soon as this process finds Redis unreachable
    (never without REDIS_URL)."""
    if not enabled():
        await asyncio.sleep(timeout)
        return False
    loop = asyncio.get_running_loop()
    watch = _watches.get(loop)
    if watch is None:
        watch = _watches[loop] = _LossWatch()
    return await watch.wait(timeout)


async def socket_close(user_id, channel_name: str) -> bool:
    """Stop counting a socket; True when it was the last one (the grace period starts:
    call settle() once it is over)."""
    if not enabled():
        return _local.close(str(user_id), channel_name, time.time())
    keys = _keys(user_id)
    args = [channel_name, time.time(), int(OFFLINE_GRACE_S * 1000)]
    return bool(await _run(_CLOSE, keys[:2], args))


async def settle(user_id) -> bool:
    """After the grace period: True when user_id has gone offline (announce it), False
    when they came back meanwhile or someone else announced it already."""
    if not enabled():
        return _local.settle(str(user_id), time.time())
    return bool(await _run(_SETTLE, _keys(user_id), [time.time(), ANNOUNCED_TTL_S]))


def online_map(user_ids) -> dict:
    """{user_id: online} for pages and the API (one round trip)."""
    user_ids = list(dict.fromkeys(user_ids))
    if not user_ids:
        return {}
    now = time.time()
    if not enabled():
        return {user_id: _local.online(str(user_id), now) for user_id in user_ids}
    try:
        pipe = _client().pipeline(transaction=False)
        for user_id in user_ids:
            sockets, grace, _ = _keys(user_id)
            pipe.zcount(sockets, now, "+inf")
            pipe.exists(grace)
        replies = pipe.execute()
    except (redis.RedisError, OSError):
        logger.warning("presence lookup failed", exc_info=True)
        return dict.fromkeys(user_ids, False)
    return {
        user_id: bool(replies[2 * i] or replies[2 * i + 1]) for i, user_id in enumerate(user_ids)
    }


def is_online(user_id) -> bool:
    return online_map([user_id])[user_id]


def socket_count() -> int | None:
    """Open sockets across every process (for the operators' stats), or None when Redis
    cannot be read. Walks the socket sets with SCAN: fine for a site among friends."""
    now = time.time()
    if not enabled():
        return sum(len(_local.live(user, now)) for user in list(_local.sockets))
    try:
        client = _client()
        keys = list(client.scan_iter(match=f"{PREFIX}:sockets:*", count=500))
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.zcount(key, now, "+inf")
        return sum(pipe.execute()) if keys else 0
    except (redis.RedisError, OSError):
        logger.warning("socket count failed", exc_info=True)
        return None
