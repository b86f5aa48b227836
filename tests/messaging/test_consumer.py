"""The socket, through Channels' communicator on the Redis channel layer: frames in and
out exactly as API.md says, and who receives what."""

import asyncio

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.layers import channel_layers
from django.contrib.auth.models import AnonymousUser

from accounts.models import Block, CircleMembership
from circles import ratelimits
from circles.realtime import apublish, conversation_group, publish
from messaging import consumers, events, presence, services
from messaging.consumers import RealtimeConsumer
from messaging.models import Message, Reaction
from tests.messaging.conftest import (
    WebsocketCommunicator,
    frames_until_quiet,
    next_frame,
    open_socket,
    send,
    start,
)

pytestmark = pytest.mark.django_db(transaction=True)

MESSAGE_FIELDS = {
    "id", "conversation_id", "sender", "client_id", "content", "image", "reactions",
    "created_at", "seq",
    "story",  # beyond API.md: the story a message replies to (README), null otherwise
}  # fmt: skip
USER_SUMMARY_FIELDS = {"id", "username", "display_name", "avatar"}


def frame_send(conversation, client_id, content="hello"):
    return {
        "type": "message.send",
        "conversation_id": str(conversation.pk),
        "client_id": client_id,
        "content": content,
    }


async def test_socket_without_a_person_is_closed_with_4401():
    communicator = WebsocketCommunicator(RealtimeConsumer.as_asgi(), "/ws/")
    communicator.scope["user"] = AnonymousUser()
    await communicator.connect()
    assert (await communicator.receive_output())["code"] == 4401
    await communicator.disconnect()


async def test_send_is_acked_to_sender_and_reaches_every_participant(direct, user, other_user):
    alice, bob = await open_socket(user), await open_socket(other_user)
    await alice.send_json_to(frame_send(direct, "c1", "Hello <b>Bob</b>"))

    alice_frames = [await next_frame(alice), await next_frame(alice)]
    ack = next(f for f in alice_frames if f["type"] == "message.ack")
    assert {f["type"] for f in alice_frames} == {"message.ack", "message.new"}
    assert set(ack) == {"type", "client_id", "message"} and ack["client_id"] == "c1"
    message = ack["message"]
    assert set(message) == MESSAGE_FIELDS
    assert set(message["sender"]) == USER_SUMMARY_FIELDS
    assert message["sender"]["username"] == "alice"
    assert message["content"] == "Hello <b>Bob</b>"  # stored as typed; pages escape it
    assert message["seq"] == 1 and message["reactions"] == [] and message["image"] is None
    assert message["conversation_id"] == str(direct.pk)
    assert message["created_at"].endswith("Z")

    new = await next_frame(bob)
    assert new == {"type": "message.new", "message": message}
    assert await Message.objects.acount() == 1
    await alice.disconnect()
    await bob.disconnect()


async def test_repeated_client_id_returns_the_first_message_and_broadcasts_nothing(
    direct, user, other_user
):
    alice, bob = await open_socket(user), await open_socket(other_user)
    await alice.send_json_to(frame_send(direct, "same-id", "once"))
    first = [await next_frame(alice), await next_frame(alice)]
    first_ack = next(f for f in first if f["type"] == "message.ack")
    assert (await next_frame(bob))["type"] == "message.new"

    await alice.send_json_to(frame_send(direct, "same-id", "once"))  # a resend
    again = await next_frame(alice)
    assert again["type"] == "message.ack"
    assert again["message"]["id"] == first_ack["message"]["id"]
    assert await frames_until_quiet(bob) == []
    assert await frames_until_quiet(alice) == []
    assert await Message.objects.acount() == 1
    await alice.disconnect()
    await bob.disconnect()


async def test_refused_sends_answer_message_error_and_store_nothing(direct, user, monkeypatch):
    alice = await open_socket(user)
    cases = [
        (frame_send(direct, "e1", "   "), "invalid"),
        (frame_send(direct, "e2", "x" * 4001), "invalid"),
        ({**frame_send(direct, "e3"), "conversation_id": "nope"}, "not_found"),
        ({**frame_send(direct, "e4"), "content": 12}, "invalid"),
        ({"type": "message.send", "conversation_id": str(direct.pk)}, "invalid"),
    ]
    for frame, code in cases:
        await alice.send_json_to(frame)
        answer = await next_frame(alice)
        assert answer["type"] == "message.error"
        assert answer["client_id"] == frame.get("client_id")
        assert answer["error"]["code"] == code
        assert answer["error"]["message"]
    assert await Message.objects.acount() == 0
    await alice.disconnect()


async def test_outsider_socket_receives_nothing_of_the_conversation(
    direct, user, other_user, outsider
):
    watcher = await open_socket(outsider)
    alice, bob = await open_socket(user), await open_socket(other_user)

    # the outsider tries everything a socket can do with the conversation
    await watcher.send_json_to(frame_send(direct, "sneaky"))
    refused = await next_frame(watcher)
    assert refused["type"] == "message.error" and refused["error"]["code"] == "not_found"
    await watcher.send_json_to({"type": "typing", "conversation_id": str(direct.pk)})
    assert (await next_frame(watcher))["error"]["code"] == "not_found"

    # meanwhile the participants chat, type, read and react
    await alice.send_json_to(frame_send(direct, "c1"))
    message = (await next_frame(bob))["message"]
    await bob.send_json_to({"type": "typing", "conversation_id": str(direct.pk)})
    await bob.send_json_to(
        {"type": "read", "conversation_id": str(direct.pk), "message_id": message["id"]}
    )
    await sync_to_async(services.reaction_add)(
        user=other_user, message_id=message["id"], emoji="🔥"
    )
    await watcher.send_json_to(
        {"type": "read", "conversation_id": str(direct.pk), "message_id": message["id"]}
    )
    assert (await next_frame(watcher))["error"]["code"] == "not_found"

    assert {f["type"] for f in await frames_until_quiet(alice)} >= {"typing", "read", "reaction"}
    assert await frames_until_quiet(watcher, skip=()) == []
    assert await Message.objects.acount() == 1
    for socket in (watcher, alice, bob):
        await socket.disconnect()


async def test_typing_reaches_the_others_throttled(direct, user, other_user):
    alice, bob = await open_socket(user), await open_socket(other_user)
    for _ in range(3):  # a burst: the server passes one per half second per conversation
        await alice.send_json_to({"type": "typing", "conversation_id": str(direct.pk)})
    typing = await next_frame(bob)
    assert typing == {
        "type": "typing",
        "conversation_id": str(direct.pk),
        "user": {"id": str(user.pk), "username": "alice", "display_name": "Alice", "avatar": None},
    }
    assert await frames_until_quiet(bob) == []
    assert await frames_until_quiet(alice) == []  # nobody is told they are typing themselves
    await alice.disconnect()
    await bob.disconnect()


async def test_read_receipt_reaches_participants(direct, user, other_user):
    message = await sync_to_async(send)(user, direct, "read me")
    alice, bob = await open_socket(user), await open_socket(other_user)
    await bob.send_json_to(
        {"type": "read", "conversation_id": str(direct.pk), "message_id": str(message.pk)}
    )
    receipt = await next_frame(alice)
    assert receipt["type"] == "read"
    assert receipt["conversation_id"] == str(direct.pk)
    assert receipt["message_id"] == str(message.pk)
    assert receipt["user"]["username"] == "bob"
    # reading the same message again moves nothing and says nothing
    await bob.send_json_to(
        {"type": "read", "conversation_id": str(direct.pk), "message_id": str(message.pk)}
    )
    await frames_until_quiet(bob)
    assert await frames_until_quiet(alice) == []
    await alice.disconnect()
    await bob.disconnect()


async def test_reactions_reach_each_socket_with_its_own_mine(direct, user, other_user):
    message = await sync_to_async(send)(user, direct)
    alice, bob = await open_socket(user), await open_socket(other_user)
    await sync_to_async(services.reaction_add)(user=other_user, message_id=message.pk, emoji="❤️")
    for socket, mine in ((alice, False), (bob, True)):
        assert await next_frame(socket) == {
            "type": "reaction",
            "message_id": str(message.pk),
            "reactions": [{"emoji": "❤️", "count": 1, "mine": mine}],
        }
    await sync_to_async(services.reaction_remove)(user=other_user, message_id=message.pk, emoji="❤️")
    assert (await next_frame(alice))["reactions"] == []
    assert await Reaction.objects.acount() == 0
    await alice.disconnect()
    await bob.disconnect()


async def test_sending_over_http_fans_out_the_same_event(direct, user, other_user, client_for):
    bob = await open_socket(other_user)
    message = await sync_to_async(send)(user, direct, "by http")
    new = await next_frame(bob)
    assert new["type"] == "message.new"
    assert new["message"]["id"] == str(message.pk) and new["message"]["content"] == "by http"
    await bob.disconnect()


async def test_sockets_join_conversations_created_while_they_are_open(friends, user, other_user):
    bob = await open_socket(other_user)
    conversation = await sync_to_async(start)(user, other_user)
    await asyncio.sleep(0.2)  # the join event travels to bob's socket
    await sync_to_async(send)(user, conversation, "first words")
    new = await next_frame(bob)
    assert new["type"] == "message.new" and new["message"]["content"] == "first words"
    await bob.disconnect()


async def test_a_block_stops_events_to_both_at_once(direct, user, other_user):
    alice, bob = await open_socket(user), await open_socket(other_user)
    message = await sync_to_async(send)(user, direct, "before")
    assert (await next_frame(bob))["type"] == "message.new"
    await frames_until_quiet(alice)

    def block():
        Block.objects.create(blocker=other_user, blocked=user)
        services.participant_events_stop(user=other_user, other=user)

    await sync_to_async(block)()
    await asyncio.sleep(0.2)
    # even an event already on its way (published straight to the group) is dropped
    await sync_to_async(publish)(conversation_group(direct.pk), events.message_created(message))
    await alice.send_json_to(frame_send(direct, "after"))
    assert (await next_frame(alice))["error"]["code"] == "not_found"
    assert await frames_until_quiet(bob, skip=()) == []
    assert await frames_until_quiet(alice, skip=()) == []
    await alice.disconnect()
    await bob.disconnect()


async def test_removal_from_a_circle_stops_its_chat_events_at_once(circle_chat, user, other_user):
    alice, bob = await open_socket(user), await open_socket(other_user)
    await sync_to_async(send)(user, circle_chat, "all of us")
    assert (await next_frame(bob))["message"]["content"] == "all of us"
    assert (await next_frame(alice))["message"]["content"] == "all of us"

    def remove_bob():
        CircleMembership.objects.filter(user=other_user).delete()
        services.circle_conversation_sync(circle=circle_chat.circle)

    await sync_to_async(remove_bob)()
    await asyncio.sleep(0.2)
    await sync_to_async(send)(user, circle_chat, "without bob")
    assert (await next_frame(alice))["message"]["content"] == "without bob"
    assert await frames_until_quiet(bob, skip=()) == []
    await alice.disconnect()
    await bob.disconnect()


async def test_presence_online_at_once_offline_only_after_the_grace_period(
    direct, user, other_user, monkeypatch
):
    monkeypatch.setattr(presence, "OFFLINE_GRACE_S", 1.5)
    bob = await open_socket(other_user)
    alice = await open_socket(user)
    online = await next_frame(bob, skip=())
    assert online == {
        "type": "presence",
        "user": {"id": str(user.pk), "username": "alice", "display_name": "Alice", "avatar": None},
        "online": True,
    }
    assert await sync_to_async(presence.is_online)(user.pk)

    # a reload: the socket closes and another opens at once — nobody sees a flicker
    await alice.disconnect()
    alice = await open_socket(user)
    await asyncio.sleep(1.8)  # past the grace period of the first socket's close
    assert await frames_until_quiet(bob, skip=()) == []

    await alice.disconnect()
    assert await sync_to_async(presence.is_online)(user.pk)  # within the grace period
    assert await bob.receive_nothing(timeout=0.5)
    offline = await next_frame(bob, skip=(), timeout=3)
    assert offline["type"] == "presence" and offline["online"] is False
    assert not await sync_to_async(presence.is_online)(user.pk)
    await bob.disconnect()


async def test_presence_through_several_shared_conversations_is_told_once(
    direct, group, user, other_user
):
    bob = await open_socket(other_user)
    alice = await open_socket(user)
    frames = await frames_until_quiet(bob, skip=())
    assert [(f["type"], f["user"]["username"], f["online"]) for f in frames] == [
        ("presence", "alice", True)
    ]
    await alice.disconnect()
    await bob.disconnect()


async def test_presence_is_not_told_to_strangers(user, outsider):
    watcher = await open_socket(outsider)
    alice = await open_socket(user)
    assert await frames_until_quiet(watcher, skip=()) == []
    await alice.disconnect()
    await watcher.disconnect()


async def test_sending_shares_the_per_person_rate_limit(direct, user, monkeypatch):
    # hourly: a per-minute window could turn over between the sends
    monkeypatch.setitem(ratelimits.RATES, "message", "2/h")
    alice = await open_socket(user)
    answers = []
    for n in range(3):
        await alice.send_json_to(frame_send(direct, f"r{n}"))
        while (frame := await next_frame(alice))["type"] == "message.new":
            pass
        answers.append(frame)
    assert [a["type"] for a in answers] == ["message.ack", "message.ack", "message.error"]
    assert answers[2]["error"]["code"] == "rate_limited"
    assert await Message.objects.acount() == 2
    await alice.disconnect()


async def test_flooding_frames_are_answered_with_an_error(user, monkeypatch):
    monkeypatch.setattr(consumers, "FRAMES_PER_SECOND", 5)
    socket = await open_socket(user)
    for _ in range(12):
        await socket.send_json_to({"type": "ping"})
    frames = await frames_until_quiet(socket)
    assert 4 <= frames.count({"type": "pong"}) <= 10  # the budget is per second
    errors = [f for f in frames if f["type"] == "error"]
    assert errors and {e["error"]["code"] for e in errors} == {"too_many_frames"}
    await socket.send_json_to({"type": "ping"})  # the socket lives on
    await asyncio.sleep(1.1)
    await socket.send_json_to({"type": "ping"})
    assert (await frames_until_quiet(socket))[-1] == {"type": "pong"}
    await socket.disconnect()


async def test_far_too_many_frames_close_the_socket(user, monkeypatch):
    monkeypatch.setattr(consumers, "FRAMES_PER_SECOND", 5)
    monkeypatch.setattr(consumers, "CLOSE_AFTER_FRAMES_PER_SECOND", 10)
    socket = await open_socket(user)
    for _ in range(15):
        await socket.send_json_to({"type": "ping"})
    output = await socket.receive_output(timeout=3)
    while output["type"] != "websocket.close":
        output = await socket.receive_output(timeout=3)
    assert output["code"] == 1008


async def test_bad_frames_get_errors(user):
    socket = await open_socket(user)
    for frame, code in [
        ("{not json", "invalid_json"),
        ("[1]", "invalid_frame"),
        ('{"type": "launch"}', "unknown_type"),
        ("x" * 17_000, "frame_rejected"),
    ]:
        await socket.send_to(text_data=frame)
        assert (await next_frame(socket))["error"]["code"] == code
    await socket.disconnect()


async def test_session_end_closes_the_socket(user):
    socket = await open_socket(user)
    await sync_to_async(publish)(f"user.{user.pk}", {"type": "session.ended"})
    closed = await socket.receive_output(timeout=3)
    assert closed == {"type": "websocket.close", "code": 4401}


async def test_start_conversation_via_another_service_does_not_reach_strangers(
    friends, user, other_user, outsider
):
    watcher = await open_socket(outsider)
    conversation = await sync_to_async(start)(user, other_user)
    await sync_to_async(send)(user, conversation)
    assert await frames_until_quiet(watcher, skip=()) == []
    await watcher.disconnect()


@pytest.fixture(autouse=True)
def _quick_settle(monkeypatch):
    """Presence checks scheduled after a test's sockets close must not outlive it."""
    monkeypatch.setattr(presence, "OFFLINE_GRACE_S", 0.1)


async def test_async_publish_failure_is_logged_not_raised(settings, caplog):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    channel_layers.backends.clear()
    assert await apublish("user.x", {"type": "x.lost"}) is False
    assert "realtime publish to user.x failed" in caplog.text


async def test_deeply_nested_frame_is_refused_and_the_socket_lives_on(user):
    socket = await open_socket(user)
    await socket.send_to(text_data="[" * 5_000)  # json raises RecursionError, not ValueError
    assert (await next_frame(socket))["error"]["code"] == "invalid_json"
    await socket.send_json_to({"type": "ping"})
    assert await next_frame(socket) == {"type": "pong"}
    await socket.disconnect()


async def test_a_fault_behind_one_frame_is_an_error_not_a_dead_socket(direct, user, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(consumers, "conversation_mark_read", broken)
    socket = await open_socket(user)
    await socket.send_json_to({"type": "read", "conversation_id": str(direct.pk)})
    assert (await next_frame(socket))["error"]["code"] == "server_error"
    await socket.send_json_to({"type": "ping"})
    assert await next_frame(socket) == {"type": "pong"}
    await socket.disconnect()


async def test_typing_for_unknown_conversations_keeps_no_state(user):
    socket = await open_socket(user)
    for n in range(5):
        await socket.send_json_to({"type": "typing", "conversation_id": f"junk-{n}" * 100})
        assert (await next_frame(socket))["error"]["code"] == "not_found"
    await socket.disconnect()


async def test_an_event_kind_without_a_handler_does_not_end_the_socket(user):
    socket = await open_socket(user)
    await sync_to_async(publish)(f"user.{user.pk}", {"type": "nothing.handles_this"})
    await socket.send_json_to({"type": "ping"})
    assert await next_frame(socket) == {"type": "pong"}
    await socket.disconnect()


async def test_a_consumer_that_dies_still_goes_offline(user, other_user, direct, monkeypatch):
    monkeypatch.setattr(presence, "OFFLINE_GRACE_S", 0.5)
    alice = await open_socket(user)
    assert await sync_to_async(presence.is_online)(user.pk)
    # a malformed event makes its handler raise: the consumer ends without disconnect()
    await sync_to_async(publish)(f"user.{user.pk}", {"type": "conversation.left"})
    with pytest.raises(KeyError):
        await alice.wait(timeout=2)
    await asyncio.sleep(1.0)
    assert not await sync_to_async(presence.is_online)(user.pk)


async def test_a_socket_is_told_who_is_online_when_it_connects(direct, user, other_user, outsider):
    bob = await open_socket(other_user)
    stranger = await open_socket(outsider)  # online too, but shares no conversation
    alice = WebsocketCommunicator(RealtimeConsumer.as_asgi(), "/ws/")
    alice.scope["user"] = user
    assert (await alice.connect())[0]
    frames = await frames_until_quiet(alice, skip=())
    assert [(f["type"], f["user"]["username"], f["online"]) for f in frames] == [
        ("presence", "bob", True)
    ]
    for socket in (alice, bob, stranger):
        await socket.disconnect()


async def test_forbidden_text_in_a_frame_is_refused_and_nothing_stored(direct, user, caplog):
    """The socket's frames pass the same input guard as HTTP (circles.textguard)."""
    alice = await open_socket(user)
    await alice.send_json_to(frame_send(direct, "s1", "\ud800"))  # json escapes it: \\ud800
    answer = await next_frame(alice)
    assert answer["type"] == "message.error" and answer["client_id"] == "s1"
    assert answer["error"]["code"] == "invalid_text"
    assert answer["error"]["fields"] == {"content": [answer["error"]["message"]]}
    await alice.send_json_to({**frame_send(direct, "s2"), "content": "nul\u0000"})
    assert (await next_frame(alice))["error"]["code"] == "invalid_text"
    await alice.send_json_to({"type": "typing", "conversation_id": "\u0000"})
    assert (await next_frame(alice)) == {
        "type": "error",
        "error": {
            "code": "invalid_text",
            "message": answer["error"]["message"],
            "fields": {"conversation_id": [answer["error"]["message"]]},
        },
    }
    assert await Message.objects.acount() == 0
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    # the socket lives on, and clean text still goes through
    await alice.send_json_to(frame_send(direct, "s3", "line one\nline two"))
    frames = [await next_frame(alice), await next_frame(alice)]
    assert {f["type"] for f in frames} == {"message.ack", "message.new"}
    await alice.disconnect()
