"""Starting conversations, reading them, typing, deleting one for yourself, presence."""

import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.http import Http404

from accounts.models import Block, User
from circles.ids import uuid_or_404
from circles.realtime import (
    apublish,
    conversation_group,
    publish,
    publish_on_commit,
    user_group,
)
from messaging import events
from messaging.models import (
    GROUP_MAX_PEOPLE,
    TITLE_MAX,
    Conversation,
    ConversationKind,
    Participant,
    direct_key_for,
)
from messaging.selectors import (
    conversation_ids_for_user,
    message_get_readable,
    user_list_messageable,
)
from notifications.services import notification_create_on_commit

# --- starting conversations ------------------------------------------------------------


def conversation_start(
    *, creator: User, usernames: list[str], title: str = ""
) -> tuple[Conversation, bool]:
    """Start a conversation with the people named; returns (conversation, created).

    One other person: the direct conversation of the two, reused when it exists (also
    when two requests race: one row, both get it). Several: a new group with `title`.
    Each person must be someone creator may message (user_list_messageable: a mutual
    follow or a shared circle, no block); nobody in a group may have blocked another.
    Unknown people and people who blocked creator are not found (404).
    """
    names = list(dict.fromkeys((name or "").strip().lstrip("@").lower() for name in usernames))
    names = [name for name in names if name and name != creator.username]
    if not names:
        raise ValidationError({"usernames": ["Name at least one other person."]})
    if len(names) > GROUP_MAX_PEOPLE - 1:
        raise ValidationError(
            {"usernames": [f"A conversation has at most {GROUP_MAX_PEOPLE} people."]}
        )
    title = (title or "").strip()
    if len(title) > TITLE_MAX:
        raise ValidationError({"title": [f"Keep the title under {TITLE_MAX} characters."]})
    others = list(User.objects.visible_to(creator).filter(username__in=names))
    others.sort(key=lambda other: names.index(other.username))  # as named: a stable order
    if len(others) != len(names):
        raise Http404
    allowed = set(
        user_list_messageable(user=creator)
        .filter(pk__in=[other.pk for other in others])
        .values_list("pk", flat=True)
    )
    for other in sorted(others, key=lambda u: u.username):
        if other.pk in allowed:
            continue
        if Block.objects.filter(blocker=creator, blocked=other).exists():
            raise PermissionDenied(f"You blocked @{other.username}. Unblock them first.")
        raise PermissionDenied(
            f"You can message @{other.username} once you follow each other or share a circle."
        )
    if len(others) == 1:
        return _direct_get_or_create(user=creator, other=others[0])
    ids = [other.pk for other in others]
    if Block.objects.among(ids).exists():
        raise ValidationError(
            {"usernames": ["Some of these people can't be in a conversation together."]}
        )
    return _group_create(creator=creator, others=others, title=title), True


def _direct_get_or_create(*, user: User, other: User) -> tuple[Conversation, bool]:
    key = direct_key_for(user.pk, other.pk)
    existing = Conversation.objects.filter(direct_key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(
                kind=ConversationKind.DIRECT, direct_key=key, created_by=user
            )
            Participant.objects.bulk_create(
                [Participant(conversation=conversation, user=person) for person in (user, other)]
            )
            _announce_joined(conversation, [user.pk, other.pk])
    except IntegrityError:  # a concurrent request made it first
        return Conversation.objects.get(direct_key=key), False
    return conversation, True


def _group_create(*, creator: User, others: list[User], title: str) -> Conversation:
    with transaction.atomic():
        conversation = Conversation.objects.create(
            kind=ConversationKind.GROUP, title=title, created_by=creator
        )
        people = [creator, *others]
        Participant.objects.bulk_create(
            [Participant(conversation=conversation, user=person) for person in people]
        )
        _announce_joined(conversation, [person.pk for person in people])
        for other in others:
            notification_create_on_commit(
                actor=creator, recipient=other, kind="group_added", target_id=conversation.pk
            )
    return conversation


def _announce_joined(conversation: Conversation, user_ids) -> None:
    """Tell these people's sockets to join the conversation's group (after commit)."""
    for user_id in user_ids:
        publish_on_commit(user_group(user_id), events.conversation_joined(conversation.pk))


def _announce_left(conversation_id, user_ids) -> None:
    """Tell these people's sockets to leave the conversation's group at once."""
    for user_id in user_ids:
        publish_on_commit(user_group(user_id), events.conversation_left(conversation_id))


# --- reading, typing, deleting for yourself --------------------------------------------


def conversation_mark_read(*, user: User, conversation_id, message_id) -> bool:
    """user has read conversation up to message_id. Moves only forward; when it does,
    `message.read` goes to the conversation (the "Seen" receipts). Returns whether it
    moved. A message of another conversation, or one user cannot read, is not found."""
    message = message_get_readable(viewer=user, message_id=message_id)
    if str(message.conversation_id) != str(uuid_or_404(conversation_id)):
        raise Http404
    with transaction.atomic():
        moved = Participant.objects.filter(
            conversation_id=message.conversation_id, user=user, last_read_seq__lt=message.seq
        ).update(last_read_seq=message.seq, last_read_message=message)
        if moved:
            publish_on_commit(
                conversation_group(message.conversation_id),
                events.message_read(
                    conversation_id=message.conversation_id, user=user, message_id=message.pk
                ),
            )
    return bool(moved)


def typing_announce(*, user: User, conversation_id) -> None:
    """user is typing in conversation: `typing.started` to its group (clients show it for
    at most 5 s). Not found for conversations user cannot read."""
    conversation_id = uuid_or_404(conversation_id)
    if not Conversation.objects.readable_by(user).filter(pk=conversation_id).exists():
        raise Http404
    publish(
        conversation_group(conversation_id),
        events.typing_started(conversation_id=conversation_id, user=user),
    )


def conversation_hide(*, user: User, conversation_id) -> None:
    """ "Delete conversation", for user only: every message so far is hidden from them
    (others keep theirs), and it leaves their inbox until a newer message arrives."""
    conversation_id = uuid_or_404(conversation_id)
    with transaction.atomic():
        conversation = (
            Conversation.objects.readable_by(user)
            .filter(pk=conversation_id)
            .only("pk", "last_seq")
            .first()
        )
        if conversation is None:
            raise Http404
        seq = conversation.last_seq
        Participant.objects.filter(conversation=conversation, user=user).update(
            cleared_seq=seq, last_read_seq=Greatest(F("last_read_seq"), Value(seq))
        )


# --- presence -------------------------------------------------------------------------


def presence_announce(*, user: User, online: bool, conversation_ids=None) -> None:
    """Tell the people who share a conversation with user that they came online or went
    offline (the consumer decides when, from messaging.presence): `presence.changed` to
    the group of each conversation user may read — the people in it, who in a group
    shared across a block see each other's messages anyway. conversation_ids: those
    conversations, when the caller has them; without, they are looked up."""
    if conversation_ids is None:
        conversation_ids = conversation_ids_for_user(user=user)
    for group, event in _presence_events(user=user, online=online, ids=conversation_ids):
        publish(group, event)


async def presence_announce_async(*, user: User, online: bool, conversation_ids) -> None:
    """presence_announce for a socket, which knows its person's conversations: no query
    and no thread, so a thousand sockets opening at once queue nothing behind them."""
    for group, event in _presence_events(user=user, online=online, ids=conversation_ids):
        await apublish(group, event)


def _presence_events(*, user: User, online: bool, ids) -> list[tuple[str, dict]]:
    announcement = uuid.uuid4().hex
    return [
        (
            conversation_group(conversation_id),
            events.presence_changed(
                user=user,
                online=online,
                conversation_id=conversation_id,
                announcement=announcement,
            ),
        )  # fmt: skip
        for conversation_id in ids
    ]
