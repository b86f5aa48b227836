"""The bench servers' ASGI app: the site, plus the chat case's floor at /ws/floor/.

The floor is the least a chat message can cost here: a bare Channels consumer that takes
a frame, relays it through the same channel layer (to a socket held by the other uvicorn
process) and acks it, with no database, no session and no rules. Run in the same
invocation as the chat rows, it gives them a ratio that a noisy machine cannot hide
(bench/cases/chat.py). Bench only: production serves circles.asgi:application.
"""

import json
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer

from circles.asgi import application as site


class FloorConsumer(AsyncWebsocketConsumer):
    """Joins `floor.<me>` (and `floor.<group>` when given); a frame {"to", "client_id",
    ...} goes as is to `floor.<to>`, and the sender gets {"type": "floor.ack"}."""

    async def connect(self):
        query = parse_qs(self.scope.get("query_string", b"").decode())
        self.groups_joined = [
            f"floor.{name}" for key in ("me", "group") for name in query.get(key, [])
        ]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        frame = json.loads(text_data)
        await self.channel_layer.group_send(
            f"floor.{frame['to']}", {"type": "floor.relay", "text": text_data}
        )
        await self.send(
            text_data=json.dumps({"type": "floor.ack", "client_id": frame["client_id"]})
        )

    async def floor_relay(self, event):
        await self.send(text_data=event["text"])


floor = FloorConsumer.as_asgi()


async def application(scope, receive, send):
    if scope["type"] == "websocket" and scope["path"] == "/ws/floor/":
        return await floor(scope, receive, send)
    return await site(scope, receive, send)
