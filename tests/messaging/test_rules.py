"""The two rules of messaging — who may start a conversation, who reads one — and the
services that keep circle chats and blocks in step, with each event's payload and
audience."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.models import Block, CircleMembership, Follow
from accounts.services import user_ban, user_unban
from circles.realtime import conversation_group, user_group
from media.models import Image
from messaging import selectors, services
from messaging.models import IMAGE_PURPOSE, Conversation, Message, Participant
from tests.factories import CircleFactory, UserFactory
from tests.messaging.conftest import befriend, send, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_on_commit(transactional_db):
    """Real commits, so the publishes after commit happen as the test's writes commit."""


# --- who may start a conversation ------------------------------------------------------


def test_people_who_follow_each_other_may_start_a_conversation(user, other_user):
    assert not selectors.user_may_message(sender=user, recipient=other_user)
    Follow.objects.create(follower=user, following=other_user)
    assert not selectors.user_may_message(sender=user, recipient=other_user)  # one way only
    Follow.objects.create(follower=other_user, following=user)
    assert selectors.user_may_message(sender=user, recipient=other_user)
    assert selectors.user_may_message(sender=other_user, recipient=user)


def test_people_who_share_a_circle_may_start_a_conversation(user, other_user, outsider):
    circle = CircleFactory(owner=user)
    CircleMembership.objects.create(circle=circle, user=other_user)
    assert selectors.user_may_message(sender=other_user, recipient=user)
    assert not selectors.user_may_message(sender=outsider, recipient=user)


@pytest.mark.parametrize("blocker_is_sender", [True, False])
def test_never_across_a_block(user, other_user, blocker_is_sender):
    befriend(user, other_user)
    circle = CircleFactory(owner=user)
    CircleMembership.objects.create(circle=circle, user=other_user)
    blocker, blocked = (user, other_user) if blocker_is_sender else (other_user, user)
    Block.objects.create(blocker=blocker, blocked=blocked)
    assert not selectors.user_may_message(sender=user, recipient=other_user)
    assert not selectors.user_may_message(sender=other_user, recipient=user)


def test_not_yourself_nor_banned_people(user, other_user):
    befriend(user, other_user)
    assert user not in selectors.user_list_messageable(user=user)
    other_user.is_active = False
    other_user.save()
    assert not selectors.user_may_message(sender=user, recipient=other_user)


# --- who reads a conversation --------------------------------------------------------


def test_only_participants_read_a_conversation(user, other_user, outsider, direct):
    assert set(Conversation.objects.readable_by(user)) == {direct}
    assert set(Conversation.objects.readable_by(other_user)) == {direct}
    assert not Conversation.objects.readable_by(outsider).exists()
    with pytest.raises(Http404):
        selectors.conversation_get_readable(viewer=outsider, conversation_id=direct.pk)
    with pytest.raises(Http404):
        selectors.conversation_get_readable(viewer=user, conversation_id="1; drop table")


def test_a_block_closes_the_direct_conversation_but_not_shared_groups(
    user, other_user, carol, direct, group
):
    Block.objects.create(blocker=carol, blocked=other_user)
    Block.objects.create(blocker=other_user, blocked=user)
    assert set(Conversation.objects.readable_by(user)) == {group}
    assert set(Conversation.objects.readable_by(other_user)) == {group}
    assert selectors.conversation_audience_ids(conversation=direct) == []
    assert set(selectors.conversation_audience_ids(conversation=group)) == {
        user.pk,
        other_user.pk,
        carol.pk,
    }


def test_a_circle_chat_follows_membership_even_before_a_sync(user, other_user, circle_chat):
    assert Conversation.objects.readable_by(other_user).filter(pk=circle_chat.pk).exists()
    CircleMembership.objects.filter(user=other_user).delete()  # no sync yet
    assert not Conversation.objects.readable_by(other_user).exists()
    assert selectors.conversation_audience_ids(conversation=circle_chat) == [user.pk]


# --- circles and blocks keep the sockets in step ----------------------------------------


def test_circle_sync_makes_the_chat_and_follows_the_members(
    user, other_user, carol, listen, run_on_commit
):
    circle = CircleFactory(owner=user)
    listener = listen(user_group(user.pk), user_group(other_user.pk), user_group(carol.pk))
    chat = services.circle_conversation_sync(circle=circle)
    assert chat.kind == "group" and chat.circle == circle
    assert [e["conversation_id"] for e in listener.events()] == [str(chat.pk)]

    send(user, chat, "history")
    CircleMembership.objects.create(circle=circle, user=other_user)
    CircleMembership.objects.create(circle=circle, user=carol)
    assert services.circle_conversation_sync(circle=circle) == chat
    joined = listener.events()
    assert sorted(e["type"] for e in joined) == ["conversation.joined"] * 2
    newcomer = Participant.objects.get(conversation=chat, user=carol)
    assert newcomer.last_read_seq == 1  # the history is not "unread" news to newcomers

    CircleMembership.objects.filter(user=carol).delete()
    services.circle_conversation_sync(circle=circle)
    assert listener.events() == [
        {"type": "conversation.left", "conversation_id": str(chat.pk)}
    ]  # carol's group only
    assert set(Participant.objects.filter(conversation=chat).values_list("user", flat=True)) == {
        user.pk,
        other_user.pk,
    }
    services.circle_conversation_sync(circle=circle)  # a repeat changes nothing
    assert listener.events() == []
    assert Conversation.objects.filter(circle=circle).count() == 1


def test_circle_close_sends_everyone_away(user, other_user, circle_chat, listen, run_on_commit):
    listener = listen(user_group(user.pk), user_group(other_user.pk))
    services.circle_conversation_close(circle=circle_chat.circle)
    assert (
        listener.events()
        == [{"type": "conversation.left", "conversation_id": str(circle_chat.pk)}] * 2
    )


def test_block_stops_and_unblock_resumes_the_direct_conversation(
    user, other_user, direct, listen, run_on_commit
):
    listener = listen(user_group(user.pk), user_group(other_user.pk))
    Block.objects.create(blocker=user, blocked=other_user)
    services.participant_events_stop(user=user, other=other_user)
    left = {"type": "conversation.left", "conversation_id": str(direct.pk)}
    # and each side's sockets start leaving out the other's frames in shared groups
    hidden = [
        {"type": "block.changed", "user_id": str(other_user.pk), "blocked": True},
        {"type": "block.changed", "user_id": str(user.pk), "blocked": True},
    ]
    assert listener.events() == [left, left, *hidden]
    Block.objects.all().delete()
    services.participant_events_resume(user=user, other=other_user)
    joined = {"type": "conversation.joined", "conversation_id": str(direct.pk)}
    shown = [{**event, "blocked": False} for event in hidden]
    assert listener.events() == [joined, joined, *shown]


def test_block_without_a_conversation_only_tells_the_two(
    user, other_user, outsider, listen, run_on_commit
):
    listener = listen(user_group(user.pk), user_group(other_user.pk))
    elsewhere = listen(user_group(outsider.pk))
    services.participant_events_stop(user=user, other=other_user)
    assert [e["type"] for e in listener.events()] == ["block.changed"] * 2
    assert elsewhere.events() == []


# --- events: payload and audience ------------------------------------------------------


def test_a_new_message_goes_to_its_conversation_only(
    user, other_user, outsider, direct, listen, run_on_commit
):
    in_conversation = listen(conversation_group(direct.pk))
    elsewhere = listen(user_group(outsider.pk), user_group(user.pk), user_group(other_user.pk))
    message = send(user, direct, "hi <there>")
    (event,) = in_conversation.events()
    assert event["type"] == "message.created"
    assert event["conversation_id"] == str(direct.pk)
    assert event["message"]["id"] == str(message.pk)
    assert event["message"]["content"] == "hi <there>"
    assert event["message"]["reactions"] == []
    assert elsewhere.events() == []


def test_read_is_published_only_when_it_moves_forward(
    user, other_user, direct, listen, run_on_commit
):
    message = send(other_user, direct)
    listener = listen(conversation_group(direct.pk))
    assert services.conversation_mark_read(
        user=user, conversation_id=direct.pk, message_id=message.pk
    )
    (event,) = listener.events()
    assert event == {
        "type": "message.read",
        "conversation_id": str(direct.pk),
        "user": {"id": str(user.pk), "username": "alice", "display_name": "Alice", "avatar": None},
        "message_id": str(message.pk),
    }
    assert not services.conversation_mark_read(
        user=user, conversation_id=direct.pk, message_id=message.pk
    )
    assert listener.events() == []


def test_reaction_events_carry_who_reacted(user, other_user, direct, listen, run_on_commit):
    message = send(user, direct)
    listener = listen(conversation_group(direct.pk))
    services.reaction_add(user=other_user, message_id=message.pk, emoji="👍")
    (event,) = listener.events()
    assert event == {
        "type": "reaction.changed",
        "conversation_id": str(direct.pk),
        "message_id": str(message.pk),
        "reactions": [{"emoji": "👍", "count": 1, "user_ids": [str(other_user.pk)]}],
    }


def test_typing_needs_a_readable_conversation(user, outsider, direct, listen):
    listener = listen(conversation_group(direct.pk))
    with pytest.raises(Http404):
        services.typing_announce(user=outsider, conversation_id=direct.pk)
    services.typing_announce(user=user, conversation_id=direct.pk)
    assert [e["type"] for e in listener.events()] == ["typing.started"]


def test_presence_goes_to_the_conversations_one_may_read(
    user, other_user, carol, outsider, direct, group, listen
):
    Block.objects.create(blocker=other_user, blocked=user)  # closes the direct conversation
    listener = listen(
        conversation_group(direct.pk),
        conversation_group(group.pk),
        user_group(outsider.pk),
        user_group(other_user.pk),
    )
    services.presence_announce(user=user, online=True)
    (event,) = listener.events()
    assert event["type"] == "presence.changed" and event["online"] is True
    assert event["conversation_id"] == str(group.pk)
    assert event["user"]["username"] == "alice"
    services.presence_announce(user=outsider, online=True)
    assert listener.events() == []


def test_sending_to_a_banned_person_is_refused(user, other_user, direct):
    other_user.is_active = False
    other_user.save()
    with pytest.raises(PermissionDenied):
        send(user, direct)


def test_a_banned_persons_messages_are_hidden_from_everyone_until_unbanned(
    user, other_user, carol, group
):
    """As their posts and comments: a ban hides a person's messages on every path —
    history, a single message, unread counts and the inbox's preview — and keeps them."""
    send(user, group, "from alice")
    bob_said = send(other_user, group, "from bob")

    def seen_by(viewer):
        conversation = selectors.conversation_get_readable(viewer=viewer, conversation_id=group.pk)
        page = selectors.message_list_for_conversation(viewer=viewer, conversation=conversation)
        listed = selectors.conversation_list_for_inbox(viewer=viewer).items[0]
        return (
            [m.content for m in reversed(page.items)],
            conversation.unread_count,
            str(listed.last_message_id),
        )

    before = seen_by(carol)
    assert before[0] == ["from alice", "from bob"] and before[1] == 2
    assert before[2] == str(bob_said.pk)

    user_ban(user=other_user)
    assert seen_by(carol)[0] == ["from alice"]
    assert seen_by(carol)[1] == 1  # bob's message is not waiting to be read
    assert seen_by(carol)[2] != str(bob_said.pk)
    assert seen_by(user)[0] == ["from alice"]
    with pytest.raises(Http404):
        selectors.message_get_readable(viewer=carol, message_id=bob_said.pk)
    assert Message.objects.filter(pk=bob_said.pk).exists()  # kept

    user_unban(user=other_user)
    assert seen_by(carol) == before


# --- photos in messages ------------------------------------------------------------------


def test_a_message_photo_is_visible_exactly_to_who_reads_the_message(
    user, other_user, outsider, direct
):
    image = Image.objects.create(owner=user, purpose=IMAGE_PURPOSE, original_key="k")
    Message.objects.create(conversation=direct, sender=user, client_id="p", seq=1, image=image)
    Conversation.objects.filter(pk=direct.pk).update(last_seq=1)
    assert selectors.message_image_visible(viewer=other_user, image=image)
    assert not selectors.message_image_visible(viewer=outsider, image=image)
    assert not selectors.message_image_visible(viewer=None, image=image)
    services.conversation_hide(user=other_user, conversation_id=direct.pk)
    assert not selectors.message_image_visible(viewer=other_user, image=image)
    assert selectors.message_image_visible(viewer=user, image=image)
    Block.objects.create(blocker=other_user, blocked=user)
    assert not selectors.message_image_visible(viewer=user, image=image)


def test_image_ready_publishes_the_message_again(user, direct, listen, run_on_commit):
    image = Image.objects.create(owner=user, purpose=IMAGE_PURPOSE, original_key="k")
    message = Message.objects.create(
        conversation=direct, sender=user, client_id="p", seq=1, image=image
    )
    listener = listen(conversation_group(direct.pk))
    services.message_image_settled(image)
    (event,) = listener.events()
    assert event["type"] == "message.changed"
    assert event["message"]["id"] == str(message.pk)
    assert event["message"]["image"]["status"] == "processing"


def test_direct_conversations_are_reused_and_group_titles_named(user, other_user, carol):
    befriend(user, other_user)
    first = start(user, other_user)
    assert start(other_user, user) == first
    befriend(user, carol)
    group = start(user, other_user, carol)
    page = selectors.conversation_list_for_inbox(viewer=carol)
    assert [c.display_title for c in page.items] == ["Alice, Bob"]
    assert group.kind == "group"
    stranger = UserFactory()
    with pytest.raises(PermissionDenied):
        start(user, stranger)
