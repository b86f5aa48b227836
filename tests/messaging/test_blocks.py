"""A block inside a group chat the two share (a circle's): each stops seeing the other's
messages — history, the API, unread counts, the inbox's preview, reactions and live
frames over a real socket — while the third member sees everything (README "Privacy
rules", Message.objects.shown_to)."""

import asyncio
import json
import re

import pytest
import websockets

from accounts.models import CircleMembership, CircleRole
from accounts.services import (
    block_create,
    block_delete,
    circle_create,
    realtime_ticket_create,
)
from messaging import selectors, services
from tests.messaging.conftest import befriend, send, start
from tests.messaging.test_live import next_frame, quiet, ready, send_frame, ws_url


@pytest.fixture
def circle_of_three(user, other_user, carol):
    """alice's circle with bob and carol, and its chat."""
    circle = circle_create(owner=user, name="Close friends")
    for person in (other_user, carol):
        CircleMembership.objects.create(circle=circle, user=person, role=CircleRole.MEMBER)
    return services.circle_conversation_sync(circle=circle)


def history(viewer, chat) -> list[str]:
    conversation = selectors.conversation_get_readable(viewer=viewer, conversation_id=chat.pk)
    page = selectors.message_list_for_conversation(viewer=viewer, conversation=conversation)
    return [m.content for m in reversed(page.items)]


def unread(viewer, chat) -> int:
    return selectors.conversation_get_readable(viewer=viewer, conversation_id=chat.pk).unread_count


@pytest.mark.django_db
def test_each_side_stops_seeing_the_others_messages(user, other_user, carol, circle_of_three):
    send(user, circle_of_three, "from alice")
    send(other_user, circle_of_three, "from bob")
    send(carol, circle_of_three, "from carol")
    block_create(blocker=user, target=other_user)

    assert history(user, circle_of_three) == ["from alice", "from carol"]
    assert history(other_user, circle_of_three) == ["from bob", "from carol"]
    assert history(carol, circle_of_three) == ["from alice", "from bob", "from carol"]
    # both stay in the chat: the circle's membership is not the block's to change
    assert selectors.conversation_audience_ids(conversation=circle_of_three)


@pytest.mark.django_db
def test_the_api_history_reactions_and_single_messages(
    api_as, user, other_user, carol, circle_of_three
):
    theirs = send(other_user, circle_of_three, "from bob")
    carols = send(carol, circle_of_three, "from carol")
    services.reaction_add(user=other_user, message_id=carols.pk, emoji="🔥")
    services.reaction_add(user=carol, message_id=carols.pk, emoji="🔥")
    block_create(blocker=other_user, target=user)  # the block is bob's: it hides both ways
    alice = api_as(user)

    items = alice.get(f"/conversations/{circle_of_three.pk}/messages").json()["items"]
    assert [m["content"] for m in items] == ["from carol"]
    assert items[0]["reactions"] == [{"emoji": "🔥", "count": 1, "mine": False}]
    # bob's message itself is not found for alice (reactions, its photo: media serving)
    assert alice.post(f"/messages/{theirs.pk}/reactions", {"emoji": "👍"}).status_code == 404
    answer = alice.post(f"/messages/{carols.pk}/reactions", {"emoji": "🔥"})
    assert answer.json()["reactions"] == [{"emoji": "🔥", "count": 2, "mine": True}]
    # carol sees every reaction: alice's, bob's and hers
    carol_items = api_as(carol).get(f"/conversations/{circle_of_three.pk}/messages").json()
    assert carol_items["items"][0]["reactions"] == [{"emoji": "🔥", "count": 3, "mine": True}]


@pytest.mark.django_db
def test_unread_counts_and_the_inbox_preview_leave_the_blocked_out(
    api_as, user, other_user, carol, circle_of_three
):
    block_create(blocker=user, target=other_user)
    send(carol, circle_of_three, "carol's")
    send(other_user, circle_of_three, "bob's 1")
    send(other_user, circle_of_three, "bob's 2")

    assert unread(user, circle_of_three) == 1
    assert unread(carol, circle_of_three) == 2
    assert unread(other_user, circle_of_three) == 0  # sending reads what came before
    inbox = api_as(user).get("/conversations").json()["items"]
    (chat,) = [c for c in inbox if c["id"] == str(circle_of_three.pk)]
    assert chat["unread_count"] == 1
    assert chat["last_message"]["content"] == "carol's"

    # the nav's badge: alice reads carol's message, and bob's leave nothing unread
    services.conversation_mark_read(
        user=user,
        conversation_id=circle_of_three.pk,
        message_id=chat["last_message"]["id"],
    )
    assert selectors.conversation_unread_total(user=user) == 0
    assert selectors.conversation_unread_total(user=carol) == 1
    # lifting the block brings them back, unread as they are
    block_delete(blocker=user, target=other_user)
    assert history(user, circle_of_three) == ["carol's", "bob's 1", "bob's 2"]
    assert unread(user, circle_of_three) == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_live_frames_stop_both_ways_and_come_back_on_unblock(
    live_server_url, user, other_user, carol, circle_of_three
):
    """Over a real uvicorn socket: the block made while the sockets are open."""
    tickets = {p.username: realtime_ticket_create(user=p) for p in (user, other_user, carol)}
    chat = circle_of_three

    async def scenario():
        async with (
            websockets.connect(ws_url(live_server_url, tickets["alice"])) as alice,
            websockets.connect(ws_url(live_server_url, tickets["bob"])) as bob,
            websockets.connect(ws_url(live_server_url, tickets["carol"])) as carol_ws,
        ):
            for ws in (alice, bob, carol_ws):
                await ready(ws)
            await asyncio.to_thread(block_create, blocker=user, target=other_user)
            await asyncio.sleep(0.3)  # the block.changed events reach the sockets

            await bob.send(send_frame(chat, "b-1", "bob after the block"))
            assert (await next_frame(bob))["type"] == "message.ack"
            assert (await next_frame(carol_ws))["message"]["content"] == "bob after the block"
            await bob.send(json.dumps({"type": "typing", "conversation_id": str(chat.pk)}))
            assert (await next_frame(carol_ws))["type"] == "typing"

            await alice.send(send_frame(chat, "a-1", "alice after the block"))
            assert (await next_frame(alice))["type"] == "message.ack"
            assert (await next_frame(carol_ws))["message"]["content"] == "alice after the block"
            # each got only the echo of their own message: nothing of the other's
            for ws, name in ((alice, "alice"), (bob, "bob")):
                frames = await quiet(ws, skip=())
                assert [(f["type"], f["message"]["sender"]["username"]) for f in frames] == [
                    ("message.new", name)
                ]

            await asyncio.to_thread(block_delete, blocker=user, target=other_user)
            await asyncio.sleep(0.3)
            await bob.send(send_frame(chat, "b-2", "bob after the unblock"))
            assert (await next_frame(alice))["message"]["content"] == "bob after the unblock"

    asyncio.run(scenario())


@pytest.mark.django_db
def test_seen_by_counts_only_the_people_the_viewer_may_see(
    client_for, user, other_user, carol, circle_of_three
):
    """A block either way: the blocked reader is not counted under the blocker's message,
    nor the blocker under the blocked person's, and neither is in the other's page data."""

    def seen_line(viewer) -> str:
        html = client_for(viewer).get(f"/direct/{circle_of_three.pk}/").content.decode()
        return re.search(r"<p[^>]*data-seen[^>]*>([^<]*)</p>", html).group(1).strip()

    def page_people(viewer) -> set[str]:
        html = client_for(viewer).get(f"/direct/{circle_of_three.pk}/").content.decode()
        data = re.search(r'<script id="chat-data" type="application/json">(.*?)</script>', html)
        return {p["username"] for p in json.loads(data.group(1))["participants"]}

    mine = send(user, circle_of_three, "alice asks")
    read = services.conversation_mark_read
    read(user=other_user, conversation_id=circle_of_three.pk, message_id=mine.pk)
    assert seen_line(user) == "Seen by 1"
    bobs = send(other_user, circle_of_three, "bob asks")
    read(user=user, conversation_id=circle_of_three.pk, message_id=bobs.pk)
    assert seen_line(other_user) == "Seen by 1"

    block_create(blocker=user, target=other_user)
    assert seen_line(user) == ""  # only bob read alice's newest, and she blocked him
    assert seen_line(other_user) == ""  # only alice read bob's, and she blocked him
    assert page_people(user) == {"alice", "carol"}
    assert page_people(other_user) == {"bob", "carol"}

    read(user=carol, conversation_id=circle_of_three.pk, message_id=mine.pk)
    assert seen_line(user) == "Seen by everyone"  # everyone alice may see
    read(user=carol, conversation_id=circle_of_three.pk, message_id=bobs.pk)
    assert seen_line(other_user) == "Seen by everyone"


@pytest.mark.django_db
def test_the_badge_counts_the_conversations_the_inbox_shows_unread(
    api_as, user, other_user, carol, circle_of_three
):
    """The nav's Messages badge (a query compiled once per process) agrees with the
    inbox, person by person, across a block, a read and a member who left."""
    befriend(carol, user)
    send(carol, start(carol, user), "hi alice")
    block_create(blocker=user, target=other_user)
    send(other_user, circle_of_three, "bob's")
    send(carol, circle_of_three, "carol's")

    def inbox_unread(person) -> int:
        items = api_as(person).get("/conversations").json()["items"]
        return sum(1 for item in items if item["unread_count"] > 0)

    expected = {user: 2, other_user: 1, carol: 0}  # alice: the direct one and carol's
    for person, count in expected.items():
        assert selectors.conversation_unread_total(user=person) == count == inbox_unread(person)

    # bob leaves the circle: its chat is no longer his to read, nor to count
    CircleMembership.objects.filter(circle=circle_of_three.circle, user=other_user).delete()
    assert selectors.conversation_unread_total(user=other_user) == 0 == inbox_unread(other_user)
    assert selectors.conversation_unread_total(user=None) == 0
