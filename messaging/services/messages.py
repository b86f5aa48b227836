"""Sending messages (order, idempotency, photos) and reactions."""

import contextlib
import functools
import logging
import re
import unicodedata

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, Exists, F, OuterRef
from django.db.models.functions import Cast
from django.http import Http404, HttpRequest
from django.utils import timezone
from django_ratelimit.exceptions import Ratelimited

from accounts.models import User
from accounts.services import deleted_account
from circles import metrics
from circles.compiled import CompiledQuery
from circles.errors import ApiError
from circles.ids import uuid_or_404
from circles.ratelimits import enforce
from circles.realtime import conversation_group, publish_on_commit
from media.models import Image
from media.services import images_accept, images_purge
from messaging import events
from messaging.models import (
    CLIENT_ID_MAX,
    EMOJI_MAX,
    IMAGE_PURPOSE,
    MESSAGE_MAX,
    Conversation,
    ConversationKind,
    Message,
    Participant,
    Reaction,
)
from messaging.selectors import (
    message_get_readable,
    messages_with_details,
    reaction_counts,
    reactions_for_viewer,
)

logger = logging.getLogger(__name__)

CLIENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]+$")
MAX_REACTIONS_PER_PERSON = 10  # distinct emojis one person puts on one message


# --- sending --------------------------------------------------------------------------


def _clean_client_id(client_id) -> str:
    if (
        not isinstance(client_id, str)
        or not 0 < len(client_id) <= CLIENT_ID_MAX
        or not CLIENT_ID_PATTERN.match(client_id)
    ):
        raise ValidationError(
            {
                "client_id": [
                    f"Send a client_id of 1–{CLIENT_ID_MAX} letters, digits or . _ : - "
                    "(a UUID is fine)."
                ]
            }
        )
    return client_id


def _clean_content(content) -> str:
    if content is None:
        return ""
    if not isinstance(content, str):
        raise ValidationError({"content": ["Send the message as text."]})
    content = content.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(content) > MESSAGE_MAX:
        raise ValidationError(
            {"content": [f"A message can be at most {MESSAGE_MAX:,} characters."]}
        )
    if "\x00" in content:
        raise ValidationError({"content": ["The message contains a NUL character."]})
    return content


def message_rate_check(*, user: User) -> None:
    """Count one message against the per-person limit (RATES["message"], shared by the
    API, the pages and the socket); Ratelimited when over. A cache (Redis) failure lets
    the message through (circles.ratelimits): sending must keep working when Redis is down."""
    request = HttpRequest()
    request.user = user
    enforce(request, "message", key=f"user:{user.pk}")


def _first_send(*, sender: User, client_id: str, conversation_id) -> Message | None:
    """The message sender already sent with client_id, if any (with details)."""
    first = messages_with_details(
        Message.objects.filter(sender=sender, client_id=client_id), sender
    )
    if not first:
        return None
    if str(first[0].conversation_id) != str(conversation_id):
        raise ApiError(
            409,
            "client_id_reused",
            "That client_id was already used for a message in another conversation.",
            fields={"client_id": ["Use a new client_id for each message."]},
        )
    return first[0]


@functools.cache
def _sender_rule() -> CompiledQuery:
    """Whether sender may write in a conversation: the read rule on their participant row
    (`Participant.objects.reading`), its conversation's kind, and whether anyone else in it
    is still active — (kind, others_active), or no row. Compiled once per process
    (circles/compiled.py): building and compiling the rule's query cost more than
    PostgreSQL took to answer it."""
    others_active = Exists(
        Participant.objects.filter(
            conversation_id=OuterRef("conversation_id"), user__is_active=True
        ).exclude(user_id=OuterRef("user_id"))
    )

    def build(*, conversation, sender):
        return (
            Participant.objects.reading()
            .filter(conversation_id=conversation, user_id=sender)
            .annotate(others_active=others_active)
            .values_list("conversation__kind", "others_active")[:1]
        )

    return CompiledQuery(build, conversation="uuid", sender="uuid")


def _refuse_unless_allowed(kind: str | None, others_active: bool | None) -> None:
    """The rule's answer (_sender_rule) as the refusal it calls for: 404 when the sender
    may not read the conversation, 403 in a direct one whose other person is inactive."""
    if kind is None:
        raise Http404
    if kind == ConversationKind.DIRECT and not others_active:
        raise PermissionDenied("This account is no longer active.")


def _check_sender(*, sender: User, conversation_id) -> None:
    """The sender's rule alone, as its own query (the paths that must know before they
    store anything: a photo's upload, a repeat past the rate limit)."""
    rows = _sender_rule().run(conversation=conversation_id, sender=sender.pk)
    _refuse_unless_allowed(*(rows[0] if rows else (None, None)))


def message_send(
    *, sender: User, conversation_id, client_id, content="", image=None, story=None
) -> tuple[Message, bool]:
    """Send a message (text ≤ 4,000 characters and/or a photo); returns (message, created).

    Idempotent on client_id: a repeat (a resend, a reconnect, a double submit, two at
    once) returns the first message and publishes nothing new — the unique (sender,
    client_id) decides, so the usual case costs no extra query, and a repeat is never
    refused by the rate limit. The message gets the next seq of its conversation; after
    commit `message.created` goes to the conversation's group. A photo goes through the
    image pipeline (processed by a task after commit). Sending counts as having read the
    conversation up to the new message. `story` (from story_reply_send, which checked it)
    makes the message a reply to that story.

    A text message is one statement (_message_insert: the sender's rule, the seq, the row
    and the read mark), committed on its own; with a photo it runs inside the photo's
    transaction.
    """
    client_id = _clean_client_id(client_id)
    content = _clean_content(content)
    if not content and image is None:
        raise ValidationError({"content": ["Write a message or attach a photo."]})
    conversation_id = uuid_or_404(conversation_id)
    try:
        message_rate_check(user=sender)
    except Ratelimited:
        _check_sender(sender=sender, conversation_id=conversation_id)  # hidden stays hidden
        first = _first_send(sender=sender, client_id=client_id, conversation_id=conversation_id)
        if first is None:
            raise
        return first, False
    fields = {"conversation_id": conversation_id, "sender": sender, "client_id": client_id,
              "content": content, "story": story}  # fmt: skip
    try:
        if image is None:
            message = _message_insert(**fields, image=None)
        else:
            _check_sender(sender=sender, conversation_id=conversation_id)  # before storing
            with images_accept(owner=sender, uploads=[image], purpose=IMAGE_PURPOSE) as photos:
                message = _message_insert(**fields, image=photos[0])
    except IntegrityError:  # a repeat: the (sender, client_id) is taken; its photo is dropped
        first = _first_send(sender=sender, client_id=client_id, conversation_id=conversation_id)
        if first is None:
            raise
        return first, False
    metrics.MESSAGES_SENT.inc()  # committed (its statement, or the photo's transaction)
    return message, True


_INSERT = """
WITH sender_rule (kind, others_active) AS ({rule}),
bumped AS (
    UPDATE {conversation} SET {last_seq} = {last_seq} + 1, {updated_at} = %s
    WHERE {conversation_pk} = %s
      AND EXISTS (SELECT 1 FROM sender_rule WHERE kind <> %s OR others_active)
    RETURNING {last_seq}
),
inserted AS (
    INSERT INTO {message} ({columns}) SELECT {values} FROM bumped RETURNING {seq}
),
read_mark AS (
    UPDATE {participant} SET {last_read_seq} = inserted.{seq}, {last_read_message} = %s
    FROM inserted
    WHERE {participant_conversation} = %s AND {participant_user} = %s
      AND {last_read_seq} < inserted.{seq}
)
SELECT (SELECT kind FROM sender_rule), (SELECT others_active FROM sender_rule),
       (SELECT {seq} FROM inserted)
"""


@functools.cache
def _insert_statement() -> str:
    """_INSERT with the models' table and column names and the sender's rule (its
    parameters come first); every value is bound."""
    quote = connection.ops.quote_name
    conversation, message, participant = Conversation._meta, Message._meta, Participant._meta

    def column(meta, name):
        return quote(meta.get_field(name).column)

    fields = message.concrete_fields
    values = (
        f"bumped.{column(conversation, 'last_seq')}"
        if field.name == "seq"
        else f"CAST(%s AS {field.cast_db_type(connection)})"
        for field in fields
    )
    return _INSERT.format(
        rule=_sender_rule().sql,
        conversation=quote(conversation.db_table),
        conversation_pk=quote(conversation.pk.column),
        last_seq=column(conversation, "last_seq"),
        updated_at=column(conversation, "updated_at"),
        message=quote(message.db_table),
        columns=", ".join(quote(field.column) for field in fields),
        values=", ".join(values),
        seq=column(message, "seq"),
        participant=quote(participant.db_table),
        last_read_seq=column(participant, "last_read_seq"),
        last_read_message=column(participant, "last_read_message"),
        participant_conversation=column(participant, "conversation"),
        participant_user=column(participant, "user"),
    )


def _message_insert(*, conversation_id, sender, client_id, content, image, story=None) -> Message:
    """Store the message if sender may still write in the conversation (_sender_rule):
    bump the conversation's counter for its seq — the row stays locked until the
    transaction ends, so concurrent senders get 1, 2, 3… in commit order, and a refused
    or rolled-back send leaves no gap —, insert the row, and move the sender's read mark
    to it. On PostgreSQL all of it, the rule included, is one statement (_INSERT): one
    round trip, committed on its own. Refused: Http404 or PermissionDenied; a taken
    (sender, client_id): IntegrityError, nothing written."""
    message = Message(
        conversation_id=conversation_id, sender=sender, client_id=client_id, content=content,
        image=image, story=story, story_reply=story is not None,
    )  # fmt: skip
    if connection.vendor == "postgresql":
        _store_in_one_statement(message)
    else:  # SQLite (development): no writes inside WITH; the same steps, one transaction
        _store_step_by_step(message)
    message.story_available = story is not None  # the sender just passed the story's rule
    message.reactions_by_user, message.reaction_summary = [], []
    publish_on_commit(conversation_group(conversation_id), events.message_created(message))
    return message


def _store_in_one_statement(message: Message) -> None:
    """_INSERT for message (PostgreSQL): sets its seq, or refuses."""
    conversation_id, sender = message.conversation_id, message.sender
    _, rule_params = _sender_rule().bind(conversation=conversation_id, sender=sender.pk)
    updated_at = Conversation._meta.get_field("updated_at")
    pk = Conversation._meta.pk.get_db_prep_value(conversation_id, connection)
    params = [
        *rule_params,
        updated_at.get_db_prep_value(timezone.now(), connection),
        pk,
        ConversationKind.DIRECT.value,
        # each field's value as Model.save would write it
        *(
            field.get_db_prep_save(field.pre_save(message, add=True), connection)
            for field in Message._meta.concrete_fields
            if field.name != "seq"
        ),
        Message._meta.pk.get_db_prep_value(message.pk, connection),
        pk,
        User._meta.pk.get_db_prep_value(sender.pk, connection),
    ]
    # alone, the statement is its own transaction; inside a caller's, a savepoint keeps a
    # repeat's IntegrityError from spoiling the caller's transaction
    nested = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    with nested, connection.cursor() as cursor:
        cursor.execute(_insert_statement(), params)
        kind, others_active, seq = cursor.fetchone()
    _refuse_unless_allowed(kind, others_active)
    if seq is None:  # the conversation went between the rule and the counter
        raise Http404
    message.seq = seq
    message._state.adding, message._state.db = False, connection.alias


def _store_step_by_step(message: Message) -> None:
    """What _INSERT does, as separate statements in one transaction (SQLite)."""
    _check_sender(sender=message.sender, conversation_id=message.conversation_id)
    with transaction.atomic():
        conversations = Conversation.objects.filter(pk=message.conversation_id)
        if not conversations.update(last_seq=F("last_seq") + 1, updated_at=timezone.now()):
            raise Http404
        message.seq = conversations.values_list("last_seq", flat=True).get()
        message.save(force_insert=True)
        Participant.objects.filter(
            conversation_id=message.conversation_id,
            user=message.sender,
            last_read_seq__lt=message.seq,
        ).update(last_read_seq=message.seq, last_read_message=message)


def message_image_settled(image) -> None:
    """A chat photo finished processing, ready or failed (the media purpose hook): publish
    its message again (`message.changed`, a `message.new` frame with the same id) to the
    conversation, so every participant's open page swaps the placeholder for the photo."""
    messages = messages_with_details(Message.objects.filter(image_id=image.pk), None)
    for message in messages:
        publish_on_commit(
            conversation_group(message.conversation_id), events.message_changed(message)
        )


# --- reactions ------------------------------------------------------------------------


def _clean_emoji(value) -> str:
    value = (value or "").strip() if isinstance(value, str) else ""

    def emoji_part(char: str) -> bool:
        return ord(char) > 0x7F and (
            unicodedata.category(char) in ("So", "Sk", "Mn", "Me", "Cf") or char == "\u200d"
        )

    if not value or len(value) > EMOJI_MAX or not all(emoji_part(c) for c in value):
        raise ValidationError({"emoji": ["Pick one emoji."]})
    return value


def _publish_reactions(message: Message) -> None:
    """Everyone's reactions go out; each socket leaves out its person's blocked."""
    counts = reaction_counts([message.pk]).get(message.pk, [])
    publish_on_commit(
        conversation_group(message.conversation_id),
        events.reaction_changed(message=message, reactions=counts),
    )


def reaction_add(*, user: User, message_id, emoji: str) -> list[dict]:
    """React to a message user may read (one reaction per person, message and emoji; a
    repeat changes nothing). Returns the message's reactions for user [{emoji, count,
    mine}]; `reaction.changed` goes to the conversation."""
    emoji = _clean_emoji(emoji)
    message = message_get_readable(viewer=user, message_id=message_id)
    with transaction.atomic():
        mine = set(
            Reaction.objects.filter(message=message, user=user).values_list("emoji", flat=True)
        )
        if emoji not in mine:
            if len(mine) >= MAX_REACTIONS_PER_PERSON:
                raise ValidationError(
                    {"emoji": [f"At most {MAX_REACTIONS_PER_PERSON} reactions per message."]}
                )
            Reaction.objects.get_or_create(message=message, user=user, emoji=emoji)
            _publish_reactions(message)
        counts = reaction_counts([message.pk], viewer=user).get(message.pk, [])
    return reactions_for_viewer(counts, viewer_id=user.pk)


def reaction_remove(*, user: User, message_id, emoji: str) -> list[dict]:
    """Take back user's reaction (none to take back is fine)."""
    message = message_get_readable(viewer=user, message_id=message_id)
    with transaction.atomic():
        deleted, _ = Reaction.objects.filter(message=message, user=user, emoji=emoji).delete()
        if deleted:
            _publish_reactions(message)
        counts = reaction_counts([message.pk], viewer=user).get(message.pk, [])
    return reactions_for_viewer(counts, viewer_id=user.pk)


def messages_account_deleting(*, user: User) -> None:
    """accounts.hooks.account_deleting: the person's messages stay in the others'
    conversations as "deleted account" — sender the one stand-in, text and photo gone,
    client id made unique under it —, their reactions go, and conversations nobody else
    is in go whole. Safe to run again."""
    images_purge(images_to_purge=Image.objects.filter(owner=user, purpose=IMAGE_PURPOSE))
    Message.objects.filter(sender=user).update(
        sender=deleted_account(),
        content="",
        story=None,
        client_id=Cast("id", output_field=CharField()),
    )
    Reaction.objects.filter(user=user).delete()
    others = Participant.objects.filter(conversation=OuterRef("pk")).exclude(user=user)
    Conversation.objects.filter(participants__user=user, circle__isnull=True).exclude(
        Exists(others)
    ).delete()
