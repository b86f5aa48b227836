"""Order and idempotency under concurrency, against real PostgreSQL: threads with their
own connections send at the same moment."""

import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404

from accounts.models import Block, User
from messaging import services
from messaging.models import Conversation, Message, Participant
from tests.factories import CircleFactory, UserFactory
from tests.messaging.conftest import at_once, befriend, start

pytestmark = pytest.mark.django_db(transaction=True)

SENDERS = 8
EACH = 15


def test_concurrent_senders_get_seq_1_to_n_without_gaps_or_repeats(user):
    assert connection.vendor == "postgresql"
    people = [user] + [UserFactory() for _ in range(SENDERS - 1)]
    for person in people[1:]:
        befriend(user, person)
    conversation = start(user, *people[1:], title="Busy")
    barrier = threading.Barrier(SENDERS)
    errors = []

    def sender(person):
        try:
            barrier.wait(timeout=10)
            for n in range(EACH):
                services.message_send(
                    sender=person,
                    conversation_id=conversation.pk,
                    client_id=f"{person.username}-{n}",
                    content=f"{person.username} {n}",
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []

    total = SENDERS * EACH
    seqs = list(Message.objects.filter(conversation=conversation).values_list("seq", flat=True))
    assert sorted(seqs) == list(range(1, total + 1))
    conversation.refresh_from_db()
    assert conversation.last_seq == total
    for person in people:  # each sender's messages keep the order they were sent in
        mine = Message.objects.filter(sender=person).order_by("seq")
        assert [m.client_id for m in mine] == [f"{person.username}-{n}" for n in range(EACH)]
        participant = Participant.objects.get(conversation=conversation, user=person)
        assert participant.last_read_seq == mine.last().seq


def test_the_same_client_id_sent_at_once_stores_one_message(friends, user, direct):
    for round_ in range(5):
        client_id = f"twice-{round_}"
        results = at_once(
            *[
                lambda cid=client_id: services.message_send(
                    sender=user, conversation_id=direct.pk, client_id=cid, content="hi"
                )
            ]
            * 3
        )
        assert len({message.pk for message, _ in results}) == 1
        assert sorted(created for _, created in results) == [False, False, True]
        assert Message.objects.filter(client_id=client_id).count() == 1
    assert list(Message.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3, 4, 5]


def test_starting_the_same_direct_conversation_at_once_makes_one(user, other_user):
    befriend(user, other_user)
    for _ in range(5):
        Conversation.objects.all().delete()
        results = at_once(
            lambda: services.conversation_start(creator=user, usernames=["bob"]),
            lambda: services.conversation_start(creator=other_user, usernames=["alice"]),
        )
        assert len({conversation.pk for conversation, _ in results}) == 1
        assert sorted(created for _, created in results) == [False, True]
        assert Conversation.objects.count() == 1
        assert Participant.objects.count() == 2


def test_circle_syncs_at_once_make_one_chat(user):
    circle = CircleFactory(owner=user)
    results = at_once(*[lambda: services.circle_conversation_sync(circle=circle)] * 3)
    assert len({chat.pk for chat in results}) == 1
    assert Participant.objects.filter(conversation__circle=circle).count() == 1


def test_a_text_message_is_one_statement_and_a_refused_one_writes_nothing(
    user, other_user, direct, django_assert_num_queries
):
    """The sender's rule, the seq, the row and the read mark go to PostgreSQL as one
    statement, committed on its own; a send the rule refuses bumps no seq."""
    with django_assert_num_queries(1):
        message, created = services.message_send(
            sender=user, conversation_id=direct.pk, client_id="one", content="hi"
        )
    assert created and message.seq == 1
    stored = Message.objects.get(pk=message.pk)
    assert (stored.seq, stored.content, stored.created_at) == (1, "hi", message.created_at)
    mine = Participant.objects.get(conversation=direct, user=user)
    assert (mine.last_read_seq, mine.last_read_message_id) == (1, message.pk)

    Block.objects.create(blocker=other_user, blocked=user)
    with pytest.raises(Http404):
        services.message_send(sender=user, conversation_id=direct.pk, client_id="two", content="x")
    Block.objects.all().delete()
    User.objects.filter(pk=other_user.pk).update(is_active=False)
    with pytest.raises(PermissionDenied):
        services.message_send(
            sender=user, conversation_id=direct.pk, client_id="three", content="x"
        )
    User.objects.filter(pk=other_user.pk).update(is_active=True)
    again, _ = services.message_send(
        sender=user, conversation_id=direct.pk, client_id="four", content="back"
    )
    assert again.seq == 2 and Message.objects.count() == 2
