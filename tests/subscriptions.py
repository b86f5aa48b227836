"""A channel subscribed to groups, for tests that check what was published."""

import asyncio

from channels.layers import get_channel_layer


class Subscription:
    """A new channel in `groups`, on an event loop of its own: the pub/sub channel layer
    keeps a channel (and its subscriptions) with the event loop that made it, so it is
    made and read on one loop. Events published meanwhile wait in the connection."""

    def __init__(self, *groups: str):
        self.loop = asyncio.new_event_loop()
        self.layer = get_channel_layer()
        self.channel = self.loop.run_until_complete(self.layer.new_channel())
        for group in groups:
            self.loop.run_until_complete(self.layer.group_add(group, self.channel))

    def receive(self, timeout: float = 1.0) -> dict | None:
        """The next event, or None after `timeout` seconds."""

        async def receive():
            try:
                return await asyncio.wait_for(self.layer.receive(self.channel), timeout)
            except TimeoutError:
                return None

        return self.loop.run_until_complete(receive())

    def close(self) -> None:
        self.loop.run_until_complete(self.layer.flush())
        self.loop.close()
