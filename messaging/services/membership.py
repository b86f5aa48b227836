"""Keeping conversations in step with circles and blocks (called by accounts services)."""

from django.db import IntegrityError, transaction

from accounts.models import CircleMembership, User
from circles.realtime import publish_on_commit, user_group
from messaging import events
from messaging.models import Conversation, ConversationKind, Participant, direct_key_for
from messaging.selectors import conversation_audience_ids
from messaging.services.conversations import _announce_joined, _announce_left

# --- circles and blocks (called by accounts services) ----------------------------------


def circle_conversation_sync(*, circle) -> Conversation:
    """Make circle's group chat exist and hold exactly the circle's members: newcomers'
    sockets join it, removed people's sockets leave it at once (after commit). Call it
    after creating a circle and after any membership change. Safe to repeat and to race
    (the circle's chat is unique; syncs of one circle take turns on its row)."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().filter(circle=circle).first()
        if conversation is None:
            try:
                with transaction.atomic():
                    conversation = Conversation.objects.create(
                        kind=ConversationKind.GROUP, circle=circle
                    )
            except IntegrityError:
                conversation = Conversation.objects.select_for_update().get(circle=circle)
        members = set(
            CircleMembership.objects.filter(circle=circle).values_list("user_id", flat=True)
        )
        current = set(
            Participant.objects.filter(conversation=conversation).values_list("user_id", flat=True)
        )
        added, removed = members - current, current - members
        # newcomers start with the history read: it is not news to them
        Participant.objects.bulk_create(
            [
                Participant(
                    conversation=conversation, user_id=user_id, last_read_seq=conversation.last_seq
                )
                for user_id in added
            ],
            ignore_conflicts=True,
        )
        Participant.objects.filter(conversation=conversation, user_id__in=removed).delete()
        _announce_joined(conversation, added)
        _announce_left(conversation.pk, removed)
    return conversation


def circle_conversation_close(*, circle) -> None:
    """Before a circle is deleted (its chat goes with it): everyone's sockets leave."""
    conversation = Conversation.objects.filter(circle=circle).first()
    if conversation is not None:
        user_ids = Participant.objects.filter(conversation=conversation).values_list(
            "user_id", flat=True
        )
        _announce_left(conversation.pk, list(user_ids))


def participant_events_stop(*, user: User, other: User) -> None:
    """A block between user and other: their direct conversation becomes unreadable to
    both (the rule), and their sockets leave its group at once (after commit), so no
    event of it reaches either. Shared groups stay shared, and each one's sockets start
    leaving out the other's frames there (Message.objects.shown_to's rule, live)."""
    conversation = Conversation.objects.filter(direct_key=direct_key_for(user.pk, other.pk)).first()
    if conversation is not None:
        _announce_left(conversation.pk, [user.pk, other.pk])
    _announce_block(user, other, blocked=True)


def participant_events_resume(*, user: User, other: User) -> None:
    """The block is lifted: their sockets join the direct conversation again, and see
    each other's frames in shared groups again."""
    conversation = Conversation.objects.filter(direct_key=direct_key_for(user.pk, other.pk)).first()
    if conversation is not None:
        _announce_joined(conversation, conversation_audience_ids(conversation=conversation))
    _announce_block(user, other, blocked=False)


def _announce_block(user: User, other: User, *, blocked: bool) -> None:
    for one, another in ((user, other), (other, user)):
        publish_on_commit(
            user_group(one.pk), events.block_changed(other_id=another.pk, blocked=blocked)
        )
