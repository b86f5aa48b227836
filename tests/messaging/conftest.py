"""Fixtures for messaging: people who may talk, conversations, API clients, socket helpers
and a listener on channel-layer groups (to assert each event's payload and audience)."""

import asyncio
import importlib.util
import sys
import threading
import types

import pytest
from channels.layers import get_channel_layer
from django.db import connection

from accounts.models import CircleMembership, CircleRole, Follow
from accounts.services import circle_create
from messaging import services
from messaging.consumers import RealtimeConsumer
from messaging.models import Conversation
from tests.accounts.conftest import API, Api, error_of, media_storage
from tests.factories import UserFactory

__all__ = ["API", "Api", "error_of", "media_storage"]


def _import_websocket_communicator():
    """channels.testing imports daphne for ChannelsLiveServerTestCase, which Circles does
    not use (its live tests run uvicorn) and does not install. Without daphne, an empty
    stand-in lets the package import; WebsocketCommunicator itself needs nothing of it."""
    if "daphne.testing" not in sys.modules and importlib.util.find_spec("daphne") is None:
        stand_in = types.ModuleType("daphne.testing")
        stand_in.DaphneProcess = None
        sys.modules.setdefault("daphne", types.ModuleType("daphne"))
        sys.modules["daphne.testing"] = stand_in
    from channels.testing import WebsocketCommunicator

    return WebsocketCommunicator


WebsocketCommunicator = _import_websocket_communicator()


def befriend(a, b) -> None:
    """A mutual follow: the two may message each other."""
    Follow.objects.get_or_create(follower=a, following=b)
    Follow.objects.get_or_create(follower=b, following=a)


def start(creator, *others, title="") -> Conversation:
    conversation, _ = services.conversation_start(
        creator=creator, usernames=[o.username for o in others], title=title
    )
    return conversation


_counter = iter(range(1_000_000))


def send(sender, conversation, content="hi", client_id=None):
    message, _ = services.message_send(
        sender=sender,
        conversation_id=conversation.pk,
        client_id=client_id or f"c-{next(_counter)}",
        content=content,
    )
    return message


def at_once(*calls):
    """Run the calls in parallel threads released together (each with its own database
    connection); return their results in order, raising the first failure."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except BaseException as exc:  # reported below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """A channel layer of its own for each test. channels_redis keeps receive state
    (locks, buffers, cleanup tasks) on the layer object; a test's event loop ends with
    some of it pending, which would leave the next test's sockets deaf."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def friends(user, other_user):
    befriend(user, other_user)
    return user, other_user


@pytest.fixture
def direct(friends, user, other_user):
    """alice's and bob's direct conversation."""
    return start(user, other_user)


@pytest.fixture
def carol(db):
    return UserFactory(username="carol")


@pytest.fixture
def group(user, other_user, carol):
    """A group of alice, bob and carol (alice is friends with both)."""
    befriend(user, other_user)
    befriend(user, carol)
    return start(user, other_user, carol, title="Trip")


@pytest.fixture
def circle_chat(user, other_user):
    """A circle owned by alice with bob as a member, and its chat in step."""
    circle = circle_create(owner=user, name="Close friends")
    CircleMembership.objects.create(circle=circle, user=other_user, role=CircleRole.MEMBER)
    return services.circle_conversation_sync(circle=circle)


@pytest.fixture
def api_as(db):
    """api_as(user, mode="token"|"session") -> an Api client acting as user."""

    def make(user=None, mode="token"):
        return Api(user, mode)

    return make


# --- channel layer and sockets ---------------------------------------------------------


class Listener:
    """A channel subscribed to groups; collects the events published to them. It runs on
    an event loop of its own (the layer's receive buffers belong to one loop)."""

    def __init__(self, *groups):
        self.loop = asyncio.new_event_loop()
        self.layer = get_channel_layer()
        self.channel = self.loop.run_until_complete(self.layer.new_channel())
        for group in groups:
            self.loop.run_until_complete(self.layer.group_add(group, self.channel))

    def events(self, timeout=0.3) -> list[dict]:
        async def drain():
            found = []
            while True:
                try:
                    found.append(await asyncio.wait_for(self.layer.receive(self.channel), timeout))
                except TimeoutError:
                    return found

        return self.loop.run_until_complete(drain())

    def close(self):
        self.loop.close()


@pytest.fixture
def listen(db):
    """listen(*groups) -> a Listener on those groups (closed after the test)."""
    made = []

    def make(*groups):
        made.append(Listener(*groups))
        return made[-1]

    yield make
    for listener in made:
        listener.close()


async def open_socket(user) -> WebsocketCommunicator:
    """A consumer connected as user, past its connect (groups joined)."""
    communicator = WebsocketCommunicator(RealtimeConsumer.as_asgi(), "/ws/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to({"type": "ping"})
    assert await next_frame(communicator) == {"type": "pong"}
    return communicator


async def next_frame(communicator, *, timeout=3, skip=("presence",)) -> dict:
    """The next frame whose type is not in skip."""
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        if frame.get("type") not in skip:
            return frame


async def frames_until_quiet(communicator, *, quiet=0.4, skip=("presence",)) -> list[dict]:
    """Every frame that arrives until none has for `quiet` seconds."""
    found = []
    # receive_nothing waits without cancelling the consumer (a receive timeout would)
    while not await communicator.receive_nothing(timeout=quiet):
        frame = await communicator.receive_json_from()
        if frame.get("type") not in skip:
            found.append(frame)
    return found
