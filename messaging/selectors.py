"""Reads about conversations that carry a rule or feed a page.

The two rules of messaging live here (and in the QuerySet filter they are built on):
- `user_list_messageable(user=)` / `user_may_message(sender=, recipient=)`: whom a person
  may start a conversation with;
- `Conversation.objects.readable_by(user)` (models.py), asked through
  `conversation_get_readable` and `message_image_visible`: who reads a conversation and
  receives its events.
"""

import functools
from collections import defaultdict

from django.core import signing
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Greatest
from django.http import Http404

from accounts.models import Block, CircleMembership, Follow, User
from accounts.people import user_summary
from accounts.selectors import block_user_ids_for
from circles.compiled import CompiledQuery
from circles.errors import ApiError
from circles.ids import uuid_or_404
from circles.links import reverse_with_id
from circles.pagination import DEFAULT_LIMIT, MAX_LIMIT, PageResult, paginate
from messaging.models import Conversation, ConversationKind, Message, Participant, Reaction
from notifications.registry import Target as NotificationTarget
from stories.models import Story

_HISTORY_SALT = "messaging.history"


def _is_anonymous(user) -> bool:
    return user is None or not user.is_authenticated


# --- who may start a conversation ------------------------------------------------------


def user_list_messageable(*, user) -> QuerySet[User]:
    """THE rule for whom user may start a conversation with (direct or group):

    active people other than user who follow user and are followed back (a mutual
    follow) or who share a circle with user — never across a block, either way.
    The new-conversation form, the API and the services use this one filter.
    """
    if _is_anonymous(user):
        return User.objects.none()
    mutual = Exists(Follow.objects.filter(follower=user, following=OuterRef("pk"))) & Exists(
        Follow.objects.filter(follower=OuterRef("pk"), following=user)
    )
    shared_circle = Exists(
        CircleMembership.objects.filter(
            user=OuterRef("pk"),
            circle__in=CircleMembership.objects.filter(user=user).values("circle"),
        )
    )
    blocked = Exists(Block.objects.between(user, OuterRef("pk")))
    return (
        User.objects.filter(is_active=True)
        .exclude(pk=user.pk)
        .filter(mutual | shared_circle)
        .exclude(blocked)
    )


def user_may_message(*, sender, recipient) -> bool:
    """May sender start a conversation with recipient? (user_list_messageable's rule)"""
    return user_list_messageable(user=sender).filter(pk=recipient.pk).exists()


def user_ids_messageable(*, viewer, author_ids) -> set:
    """Those of author_ids viewer may message (one query; the story viewer's reply box)."""
    if _is_anonymous(viewer) or not author_ids:
        return set()
    return set(
        user_list_messageable(user=viewer).filter(pk__in=author_ids).values_list("pk", flat=True)
    )


def user_list_message_suggestions(*, user, limit: int = 20) -> list[User]:
    """People user may message, for the new-conversation page (alphabetical)."""
    return list(user_list_messageable(user=user).order_by("username")[:limit])


# --- conversations --------------------------------------------------------------------


def _with_unread(queryset: QuerySet, *, viewer) -> QuerySet:
    """viewer's reading state (my_last_read_seq, my_cleared_seq) and unread_count."""
    mine = Participant.objects.filter(conversation=OuterRef("pk"), user=viewer)
    hidden_through = Coalesce(F("my_cleared_seq"), Value(0))
    # unread: the seqs after what viewer read or cleared, less the messages of people a
    # block hides from them (counted only in that range: usually nothing to walk)
    unread_from_blocked = (
        Message.objects.hidden_from(viewer)
        .filter(
            conversation=OuterRef("pk"),
            seq__gt=Greatest(
                OuterRef("my_last_read_seq"), Coalesce(OuterRef("my_cleared_seq"), Value(0))
            ),
        )
        .order_by()
        .values("conversation")
        .annotate(n=Count("*"))
        .values("n")
    )
    return queryset.annotate(
        my_last_read_seq=Subquery(mine.values("last_read_seq")[:1]),
        my_cleared_seq=Subquery(mine.values("cleared_seq")[:1]),
    ).annotate(
        unread_count=Greatest(
            F("last_seq")
            - Greatest(F("my_last_read_seq"), hidden_through)
            - Coalesce(Subquery(unread_from_blocked, output_field=IntegerField()), Value(0)),
            Value(0),
        ),
    )


def conversations_for_viewer(queryset: QuerySet, *, viewer) -> QuerySet:
    """Everything a conversation shows its viewer, in a constant number of queries:
    viewer's reading state (my_last_read_seq, my_cleared_seq), unread_count,
    last_message_id, the circle and the participants with their users."""
    shown = Message.objects.shown_to(viewer).filter(conversation=OuterRef("pk"))
    newest_visible = (
        shown.filter(seq__gt=Coalesce(OuterRef("my_cleared_seq"), Value(0)))
        .order_by("-seq")
        .values("pk")[:1]
    )
    return (
        _with_unread(queryset.select_related("circle"), viewer=viewer)
        .annotate(last_message_id=Subquery(newest_visible))
        .prefetch_related(
            Prefetch(
                "participants",
                # whether a block stands between each and viewer: participants_shown_to
                queryset=Participant.objects.select_related("user")
                .annotate(
                    blocked_with_viewer=Exists(Block.objects.between(viewer, OuterRef("user")))
                )
                .order_by("joined_at", "pk"),
            )
        )
    )


def _finish_conversations(conversations: list, *, viewer) -> None:
    """Attach last_message (with details) and display_title: two queries for any number."""
    ids = [c.last_message_id for c in conversations if c.last_message_id]
    found = {}
    if ids:
        messages = messages_with_details(Message.objects.filter(pk__in=ids), viewer)
        found = {m.pk: m for m in messages}
    for conversation in conversations:
        conversation.last_message = found.get(conversation.last_message_id)
        conversation.display_title = conversation_title(conversation, viewer=viewer)
        conversation.other_user = conversation_other_user(conversation, viewer=viewer)


def conversation_get_readable(
    *, viewer, conversation_id, with_last_message: bool = True
) -> Conversation:
    """A conversation viewer may read, with what it shows them; Http404 for anyone else
    (outsiders, people removed from the circle, across a block, malformed ids).
    The conversation page, which lists the messages anyway, skips last_message."""
    conversation = (
        conversations_for_viewer(Conversation.objects.readable_by(viewer), viewer=viewer)
        .filter(pk=uuid_or_404(conversation_id))
        .first()
    )
    if conversation is None:
        raise Http404
    if not with_last_message:
        conversation.last_message_id = None
    _finish_conversations([conversation], viewer=viewer)
    return conversation


def conversation_list_for_inbox(
    *, viewer, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> PageResult:
    """viewer's conversations, latest activity first. A conversation viewer deleted stays
    out of the list until a newer message arrives; a new, empty one is listed."""
    conversations = Conversation.objects.readable_by(viewer)
    conversations = conversations_for_viewer(conversations, viewer=viewer).filter(
        Q(my_cleared_seq__isnull=True) | Q(last_seq__gt=F("my_cleared_seq"))
    )
    page = paginate(conversations, cursor=cursor, limit=limit, time_field="updated_at")
    _finish_conversations(page.items, viewer=viewer)
    return page


def conversation_ids_for_user(*, user) -> list[str]:
    """The conversations whose events user's sockets receive (their groups to join)."""
    if _is_anonymous(user):
        return []
    ids = Participant.objects.reading().filter(user=user).values_list("conversation_id", flat=True)
    return [str(pk) for pk in ids]


PRESENCE_SNAPSHOT_MAX = 200  # people told to a socket when it connects


def user_list_partners_online(*, user, conversation_ids) -> list[dict]:
    """The people user shares the conversations conversation_ids with (the ones user may
    read, from conversation_ids_for_user: the audience of presence events, at most
    PRESENCE_SNAPSHOT_MAX) who are online now, as user summaries: what a socket is told
    when it connects, so a reconnecting page corrects the dots it showed."""
    from messaging import presence

    partner_ids = list(
        Participant.objects.reading()
        .filter(conversation_id__in=conversation_ids, user__is_active=True)
        .exclude(user=user)
        .values_list("user_id", flat=True)
        .distinct()[:PRESENCE_SNAPSHOT_MAX]
    )
    online = [pk for pk, is_online in presence.online_map(partner_ids).items() if is_online]
    return [user_summary(person) for person in User.objects.filter(pk__in=online)]


def conversation_audience_ids(*, conversation: Conversation) -> list:
    """Who may read conversation now (the participants the rule lets in)."""
    return list(
        Participant.objects.reading()
        .filter(conversation=conversation)
        .values_list("user_id", flat=True)
    )


def conversation_title(conversation: Conversation, *, viewer) -> str:
    """What a conversation is called for viewer: its title, its circle's name, or the
    names of the other people in it. Needs conversations_for_viewer's prefetch."""
    if conversation.title:
        return conversation.title
    if conversation.circle_id:
        return conversation.circle.name
    others = [p.user for p in conversation.participants.all() if p.user_id != viewer.pk]
    if not others:
        return "Deleted account" if conversation.kind == ConversationKind.DIRECT else "Just you"
    names = [user.name for user in others[:3]]
    more = len(others) - len(names)
    return ", ".join(names) + (f" and {more} more" if more else "")


def conversation_other_user(conversation: Conversation, *, viewer) -> User | None:
    """The other person of a direct conversation (None for groups)."""
    if conversation.kind != ConversationKind.DIRECT:
        return None
    return next((p.user for p in conversation.participants.all() if p.user_id != viewer.pk), None)


@functools.cache
def _unread_conversations_query() -> CompiledQuery:
    """The ids of the conversations one person may read with messages unread by them,
    compiled once per process: the nav's badge asks it after every page, and building
    and compiling the rule's subqueries cost ~8 ms of CPU a request, many times what
    PostgreSQL takes to run it."""

    def build(viewer):
        person = User(pk=viewer)  # the rules read only its pk
        readable = Conversation.objects.readable_by(person)
        unread = _with_unread(readable, viewer=person).filter(unread_count__gt=0)
        return unread.order_by().values_list("pk")

    return CompiledQuery(build, viewer="uuid")


def conversation_unread_total(*, user) -> int:
    """How many conversations have unread messages for user (a badge for the nav)."""
    if user is None or not user.is_authenticated:
        return 0
    return len(_unread_conversations_query().run(viewer=user.pk))


# --- messages -------------------------------------------------------------------------


def messages_with_details(queryset: QuerySet, viewer) -> list[Message]:
    """Messages with sender, image and story joined, `reaction_summary` attached
    ([{emoji, count, mine}], oldest reaction first) and `story_available` on story
    replies: three queries for any number (four when some are story replies)."""
    messages = list(queryset.select_related("sender", "image", "story__image"))
    attach_reactions(messages, viewer=viewer)
    attach_story_availability(messages, viewer=viewer)
    return messages


def attach_story_availability(messages: list[Message], *, viewer) -> None:
    """`story_available` on each story reply: may viewer still see the story it answers
    (Story.objects.visible_to: not expired, not deleted, viewer still in its audience)?
    Without a viewer (events, which go to the sender and the author alike), whether it
    is still visible to its own author — i.e. not expired nor deleted."""
    story_ids = {m.story_id for m in messages if m.story_id}
    if not story_ids:
        for message in messages:
            message.story_available = False
        return
    if viewer is None:
        # what visible_to(author) is for an author's own story: active, author active
        stories = Story.objects.active().filter(author__is_active=True)
    else:
        stories = Story.objects.visible_to(viewer)
    shown = set(stories.filter(pk__in=story_ids).values_list("pk", flat=True))
    for message in messages:
        message.story_available = message.story_id in shown


def reaction_counts(message_ids, *, viewer=None) -> dict:
    """{message_id: [{emoji, count, user_ids}]}, each message's emojis in the order they
    were first used (the shape events carry; the consumer turns user_ids into `mine`).
    With a viewer, without the reactions of people a block stands between them and
    viewer (as their messages); events carry everyone's and each socket leaves out its
    own person's blocked (reactions_for_viewer)."""
    reactions = Reaction.objects.filter(message_id__in=list(message_ids))
    if viewer is not None and viewer.is_authenticated:
        reactions = reactions.exclude(Exists(Block.objects.between(viewer, OuterRef("user_id"))))
    rows = reactions.order_by("message_id", "created_at", "pk").values_list(
        "message_id", "emoji", "user_id"
    )
    grouped: dict = defaultdict(dict)
    for message_id, emoji, user_id in rows:
        entry = grouped[message_id].setdefault(emoji, {"emoji": emoji, "count": 0, "user_ids": []})
        entry["count"] += 1
        entry["user_ids"].append(str(user_id))
    return {message_id: list(by_emoji.values()) for message_id, by_emoji in grouped.items()}


def reactions_for_viewer(
    reactions: list[dict], *, viewer_id, hidden: frozenset | set = frozenset()
) -> list[dict]:
    """[{emoji, count, user_ids}] → the API shape [{emoji, count, mine}], leaving out the
    reactions of `hidden` people (ids as strings: those a block stands between)."""
    viewer_id = str(viewer_id)
    shown = []
    for r in reactions:
        count = r["count"] - sum(1 for user_id in r["user_ids"] if user_id in hidden)
        if count > 0:
            shown.append({"emoji": r["emoji"], "count": count, "mine": viewer_id in r["user_ids"]})
    return shown


def attach_reactions(messages: list[Message], *, viewer) -> None:
    counts = reaction_counts((m.pk for m in messages), viewer=viewer)
    viewer_id = getattr(viewer, "pk", None)
    for message in messages:
        message.reactions_by_user = counts.get(message.pk, [])
        message.reaction_summary = reactions_for_viewer(
            message.reactions_by_user, viewer_id=viewer_id
        )


def _encode_history_cursor(seq: int) -> str:
    return signing.dumps(int(seq), salt=_HISTORY_SALT)


def _decode_history_cursor(cursor: str) -> int:
    try:
        return int(signing.loads(cursor, salt=_HISTORY_SALT))
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise ApiError(400, "invalid_cursor", "The cursor is not valid.") from exc


def message_list_for_conversation(
    *,
    viewer,
    conversation: Conversation,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    after_seq: int | None = None,
) -> PageResult:
    """A page of a conversation viewer may read (from conversation_get_readable), newest
    first, keyset-paginated on seq (strict order, stable under concurrent sends).

    Messages viewer deleted (seq ≤ their cleared point) are never listed. `after_seq`
    keeps only newer messages: a reconnecting client asks for what it missed and pages
    back with next_cursor until the page is short.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    hidden_through = conversation.my_cleared_seq or 0
    messages = Message.objects.shown_to(viewer).filter(
        conversation=conversation, seq__gt=max(hidden_through, after_seq or 0)
    )
    if cursor:
        messages = messages.filter(seq__lt=_decode_history_cursor(cursor))
    rows = messages_with_details(messages.order_by("-seq")[: limit + 1], viewer)
    items, more = rows[:limit], len(rows) > limit
    next_cursor = _encode_history_cursor(items[-1].seq) if more else None
    return PageResult(items=items, next_cursor=next_cursor)


def message_get_readable(*, viewer, message_id) -> Message:
    """A message viewer may read (its conversation's rule, not deleted by viewer), with
    `conversation` joined; Http404 otherwise."""
    mine = Participant.objects.filter(conversation=OuterRef("conversation"), user=viewer)
    message = (
        Message.objects.shown_to(viewer)
        .filter(
            pk=uuid_or_404(message_id),
            conversation__in=Conversation.objects.readable_by(viewer),
        )
        .select_related("conversation", "sender", "image")
        .annotate(hidden_through=Coalesce(Subquery(mine.values("cleared_seq")[:1]), Value(0)))
        .first()
    )
    if message is None or message.seq <= message.hidden_through:
        raise Http404
    return message


def message_image_visible(viewer, image) -> bool:
    """May viewer see a photo sent in a message? Exactly when they may read the message
    (the media purpose rule of chat photos)."""
    if _is_anonymous(viewer):
        return False
    try:
        message = Message.objects.only("pk").get(image=image)
    except Message.DoesNotExist:
        return False
    try:
        message_get_readable(viewer=viewer, message_id=message.pk)
    except Http404:
        return False
    return True


def conversation_read_states(*, conversation: Conversation) -> list[dict]:
    """[{user_id, last_read_seq}] of every participant (for "Seen" receipts); uses the
    participants prefetched by conversations_for_viewer."""
    return [
        {"user_id": str(p.user_id), "last_read_seq": p.last_read_seq}
        for p in conversation.participants.all()
    ]


# --- what the conversation page shows -------------------------------------------------


def participants_shown_to(*, conversation: Conversation, viewer) -> list[Participant]:
    """The conversation's participants viewer sees in its receipts and page data: all but
    the people a block stands between viewer and (either way), whose messages viewer does
    not see either (Message.objects.shown_to) — so "Seen by N" never counts them. No query
    for a conversation from conversations_for_viewer (its participants carry the answer);
    one otherwise."""
    participants = list(conversation.participants.all())
    if all(hasattr(p, "blocked_with_viewer") for p in participants):
        return [p for p in participants if not p.blocked_with_viewer]
    hidden = block_user_ids_for(user=viewer)
    return [p for p in participants if str(p.user_id) not in hidden]


def conversation_seen_text(*, conversation: Conversation, viewer, history: list[Message]) -> dict:
    """The "Seen" receipt under viewer's message when it is the newest one shown:
    {"message_id", "text"} ("Seen"; in groups "Seen by N", of the people viewer may see),
    or {} when nobody has."""
    if not history or history[-1].sender_id != viewer.pk:
        return {}
    newest = history[-1]
    shown = participants_shown_to(conversation=conversation, viewer=viewer)
    others = [p for p in shown if p.user_id != viewer.pk]
    seen = sum(1 for p in others if p.last_read_seq >= newest.seq)
    if not seen:
        return {}
    if conversation.kind == ConversationKind.DIRECT:
        text = "Seen"
    else:
        text = "Seen by everyone" if seen == len(others) else f"Seen by {seen}"
    return {"message_id": str(newest.pk), "text": text}


def conversation_page_data(*, conversation: Conversation, viewer, history: list[Message]) -> dict:
    """What static/js/chat.js needs to take over the page (json_script)."""
    return {
        "conversation_id": str(conversation.pk),
        "kind": conversation.kind,
        "me": {"id": str(viewer.pk), "username": viewer.username, "name": viewer.name},
        "participants": [
            {
                "id": str(p.user_id),
                "username": p.user.username,
                "name": p.user.name,
                "last_read_seq": p.last_read_seq,
            }
            for p in participants_shown_to(conversation=conversation, viewer=viewer)
        ],
        # The newest seq there is, not the page's: on a page of older messages a reconnect
        # must not catch up on everything after it and mix it into the old view.
        "last_seq": max(
            history[-1].seq if history else 0,
            conversation.last_seq,
            conversation.my_cleared_seq or 0,
        ),
    }


def circle_chat_for_viewer(*, circle, viewer) -> Conversation | None:
    """The circle's group chat as viewer reads it (with unread_count), or None when it
    has none yet or viewer may not read it."""
    chats = Conversation.objects.readable_by(viewer).filter(circle=circle)
    return conversations_for_viewer(chats, viewer=viewer).prefetch_related(None).first()


# --- notifications' target type (registered in MessagingConfig) --------------------------


def conversation_notification_targets(viewer, ids) -> dict:
    """What a notification shows of these conversations (one query): the group's title
    (or "a group conversation") and its page. Readability was asked before
    (Conversation.objects.readable_by)."""
    found = {}
    for conversation_id, title in Conversation.objects.filter(pk__in=ids).values_list(
        "pk", "title"
    ):
        found[conversation_id] = NotificationTarget(
            label=title or "a group conversation",
            url=reverse_with_id("messaging:conversation", "conversation_id", conversation_id),
        )
    return found


def messages_export_section(*, user, archive) -> dict:
    """messaging's part of "Download your data": every message of the conversations the
    person may read (Conversation.objects.readable_by) that they have not deleted for
    themselves — theirs and the others', which they received — with the photos in them."""
    conversations = (
        Conversation.objects.readable_by(user)
        .select_related("circle")
        .prefetch_related(
            Prefetch("participants", queryset=Participant.objects.select_related("user"))
        )
        .annotate(
            my_cleared_seq=Subquery(
                Participant.objects.filter(conversation=OuterRef("pk"), user=user).values(
                    "cleared_seq"
                )[:1]
            )
        )
    )
    items = []
    for conversation in conversations:
        title = conversation_title(conversation, viewer=user)
        history = (
            Message.objects.filter(
                conversation=conversation, seq__gt=conversation.my_cleared_seq or 0
            )
            .select_related("sender", "image")
            .order_by("seq")
        )
        for message in history.iterator(chunk_size=500):
            items.append(
                {
                    "conversation": title,
                    "conversation_id": str(conversation.pk),
                    "from": message.sender.username,
                    "sent_at": message.created_at.isoformat(),
                    "text": message.content,
                    "photos": [archive.photo(message.image, folder="photos/messages")]
                    if message.image_id
                    else [],
                }
            )
    return {"title": "Messages", "items": items}
