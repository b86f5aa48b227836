"""Sending messages (order, idempotency, photos) and reactions."""

import functools
import logging
import re
import unicodedata

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, Exists, OuterRef
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


def _next_seq(conversation_id) -> int:
    """Bump the conversation's counter and return the new seq, in one statement. The row
    stays locked until the sending transaction ends, so concurrent senders get 1, 2, 3…
    in commit order, and a rolled-back send leaves no gap."""
    meta = Conversation._meta
    quote = connection.ops.quote_name
    last_seq, updated_at = meta.get_field("last_seq"), meta.get_field("updated_at")
    sql = (
        f"UPDATE {quote(meta.db_table)} "  # noqa: S608 (names from the model, values bound)
        f"SET {quote(last_seq.column)} = {quote(last_seq.column)} + 1, "
        f"{quote(updated_at.column)} = %s "
        f"WHERE {quote(meta.pk.column)} = %s RETURNING {quote(last_seq.column)}"
    )
    params = [
        updated_at.get_db_prep_value(timezone.now(), connection),
        meta.pk.get_db_prep_value(conversation_id, connection),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        raise Http404
    return row[0]


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
def _sender_row():
    """The sender's participant row under the read rule, with its conversation and whether
    anyone else in it is still active: compiled once per process (circles/compiled.py)
    and run per send, since building and compiling the rule's query cost more than
    PostgreSQL took to answer it (README "Performance", "Hot paths")."""
    others_active = Exists(
        Participant.objects.filter(
            conversation_id=OuterRef("conversation_id"), user__is_active=True
        ).exclude(user_id=OuterRef("user_id"))
    )

    def build(*, conversation, sender):
        return (
            Participant.objects.reading()
            .select_related("conversation")
            .annotate(others_active=others_active)
            .filter(conversation_id=conversation, user_id=sender)[:1]
        )

    return CompiledQuery(build, conversation="uuid", sender="uuid")


def _conversation_for_sending(*, sender: User, conversation_id) -> Conversation:
    """The conversation, if sender may read it (the rule, asked on sender's participant
    row: one small query on every send); in a direct conversation the other person must
    still be active."""
    rows = _sender_row().run(conversation=uuid_or_404(conversation_id), sender=sender.pk)
    if not rows:
        raise Http404
    mine = rows[0]
    if mine.conversation.kind == ConversationKind.DIRECT and not mine.others_active:
        raise PermissionDenied("This account is no longer active.")
    return mine.conversation


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
    """
    client_id = _clean_client_id(client_id)
    content = _clean_content(content)
    if not content and image is None:
        raise ValidationError({"content": ["Write a message or attach a photo."]})
    conversation = _conversation_for_sending(sender=sender, conversation_id=conversation_id)
    try:
        message_rate_check(user=sender)
    except Ratelimited:
        first = _first_send(sender=sender, client_id=client_id, conversation_id=conversation.pk)
        if first is None:
            raise
        return first, False
    try:
        with images_accept(
            owner=sender, uploads=[image] if image is not None else [], purpose=IMAGE_PURPOSE
        ) as photos:
            message = _message_insert(
                conversation=conversation, sender=sender, client_id=client_id, content=content,
                image=photos[0] if photos else None, story=story,
            )  # fmt: skip
    except IntegrityError:  # a repeat: the (sender, client_id) is taken; its photo is dropped
        first = _first_send(sender=sender, client_id=client_id, conversation_id=conversation.pk)
        if first is None:
            raise
        return first, False
    metrics.MESSAGES_SENT.inc()  # committed (images_accept's transaction), unless nested
    return message, True


def _message_insert(*, conversation, sender, client_id, content, image, story=None) -> Message:
    seq = _next_seq(conversation.pk)
    message = Message.objects.create(
        conversation=conversation, sender=sender, client_id=client_id, seq=seq, content=content,
        image=image, story=story, story_reply=story is not None,
    )  # fmt: skip
    message.story_available = story is not None  # the sender just passed the story's rule
    Participant.objects.filter(
        conversation=conversation, user=sender, last_read_seq__lt=seq
    ).update(last_read_seq=seq, last_read_message=message)
    message.reactions_by_user, message.reaction_summary = [], []
    publish_on_commit(conversation_group(conversation.pk), events.message_created(message))
    return message


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
