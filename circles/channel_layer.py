"""The channel layer the site runs on (CHANNEL_LAYER=pubsub, the default): channels_redis's
pub/sub layer, with publishing that does not queue.

channels_redis's RedisSingleShardConnection publishes under the one asyncio lock it also
subscribes and unsubscribes under, so every event a process publishes — each chat message,
presence change, notification push, from every socket and request of the process — waits
for the Redis round trip of the one before it. Under the soak's mixed load that queue held
publishes for up to 1.4 s on a busy machine (README "Soak"), and one waiting past
circles.realtime's PUBLISH_TIMEOUT_S was dropped: a message stored and acknowledged but
never delivered live. PUBLISH needs no lock (Redis orders each connection's commands, and
events of one conversation are published in order by the one coroutine that wrote them), so
here send() and group_send() publish on a connection pool of their own per event loop,
concurrently; subscriptions and receiving are channels_redis's, unchanged.
"""

import asyncio

from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer
from channels_redis.utils import _close_redis, _consistent_hash, _wrap_close
from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

# Connections a process publishes on at once (per event loop and Redis host); more
# publishes wait for a free one.
PUBLISH_CONNECTIONS = 16


class _LoopLayer(RedisPubSubLoopLayer):
    """One event loop's layer, with its publishing clients (one per Redis host)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.publishers: dict[int, aioredis.Redis] = {}

    def publisher(self, channel: str) -> aioredis.Redis:
        index = _consistent_hash(channel, len(self._shards))
        client = self.publishers.get(index)
        if client is None:
            host = dict(self._shards[index].host)
            address = host.pop("address", None)
            options = {
                "max_connections": PUBLISH_CONNECTIONS,
                "timeout": 5,
                # a pooled connection Redis closed (a restart) is replaced by one retry
                # instead of failing the first publish after it
                "retry": Retry(NoBackoff(), 1),
                "retry_on_error": [RedisConnectionError],
                **host,
            }
            pool = (
                aioredis.BlockingConnectionPool.from_url(address, **options)
                if address is not None
                else aioredis.BlockingConnectionPool(**options)
            )
            client = self.publishers[index] = aioredis.Redis(connection_pool=pool)
        return client

    async def publish(self, channel: str, message: dict) -> None:
        await self.publisher(channel).publish(channel, self.channel_layer.serialize(message))

    async def send(self, channel, message):
        await self.publish(channel, message)

    async def group_send(self, group, message):
        await self.publish(self._get_group_channel_name(group), message)

    async def flush(self):
        publishers, self.publishers = self.publishers, {}
        try:
            for client in publishers.values():
                await _close_redis(client)
        finally:  # the subscriptions are closed whatever happened to the publishers
            await super().flush()


class PubSubChannelLayer(RedisPubSubChannelLayer):
    def _get_layer(self):
        """channels_redis's, making a _LoopLayer (flushed when its loop closes)."""
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = self._layers[loop] = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            _wrap_close(self, loop)
        return layer
