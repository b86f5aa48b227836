"""Conversations, their participants, messages and reactions.

Order: every message has a per-conversation `seq` that increases by one (1, 2, 3, …). The
conversation row holds the counter (`last_seq`); messaging.services.message_send bumps it
with one `UPDATE … RETURNING` inside the transaction that inserts the message, so
concurrent senders serialize on that row and a rolled-back send leaves no gap.

Idempotency: `client_id` is unique per sender; a repeat returns the first message.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q

from accounts.models import DELETED_USERNAME, Block, CircleMembership

MESSAGE_MAX = 4000
TITLE_MAX = 100
CLIENT_ID_MAX = 64
EMOJI_MAX = 16
GROUP_MAX_PEOPLE = 50  # like a circle
# The purpose of chat photos in the media purpose table (registered in MessagingConfig).
IMAGE_PURPOSE = "message"


class ConversationKind(models.TextChoices):
    DIRECT = "direct"
    GROUP = "group"


def direct_key_for(user_a_id, user_b_id) -> str:
    """The one key of the direct conversation between two people (order-free)."""
    low, high = sorted([str(user_a_id), str(user_b_id)])
    return f"{low}:{high}"


class ParticipantQuerySet(models.QuerySet):
    def reading(self):
        """THE rule for who reads a conversation and receives its events: participant rows
        whose person may read their conversation. A participant row, and:
        - a circle's chat: the person is still a member of the circle (a membership row,
          the rule of `CircleMembership.objects.of`);
        - a direct conversation: no block either way between its two people.
        Group conversations stay shared across a block between two of their members;
        each of the two stops seeing the other's messages (`Message.objects.shown_to`).
        `Conversation.objects.readable_by(user)` asks this for one person; pages, the API,
        the socket, presence and media serving all go through one of the two.
        """
        circle_member = Exists(
            CircleMembership.objects.of(
                user=OuterRef("user_id"), circle=OuterRef("conversation__circle_id")
            )
        )
        # in a direct conversation both people are participants, so a block whose two
        # sides are both participants is a block between them (IN lists, not joins: this
        # runs on every send, and its planning time is most of its cost)
        people = Participant.objects.filter(
            conversation_id=OuterRef(OuterRef("conversation_id"))
        ).values("user_id")
        blocked_inside = Exists(Block.objects.among(people))
        return self.filter(Q(conversation__circle__isnull=True) | circle_member).exclude(
            Q(conversation__kind=ConversationKind.DIRECT) & blocked_inside
        )


class ConversationQuerySet(models.QuerySet):
    def readable_by(self, user):
        """Conversations user may read: `Participant.objects.reading()` for one person."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(
            Exists(Participant.objects.reading().filter(conversation=OuterRef("pk"), user=user))
        )


class MessageQuerySet(models.QuerySet):
    def shown_to(self, viewer):
        """THE rule for whose messages a reader sees in a conversation they may read
        (`Participant.objects.reading`): everyone's but the messages of someone a block
        stands between, either way (`Block.objects.between`). So in a group chat the two
        share (a circle's), each stops seeing the other's messages — history, live
        frames, unread counts and the inbox's preview — while both stay in it, as on
        Instagram. (A direct conversation across a block is not read at all.) Nor the
        messages of a banned (inactive) person, as their posts and comments are hidden:
        kept, and shown again if the ban is lifted."""
        if viewer is None or not viewer.is_authenticated:
            return self.none()
        return self.filter(self._sender_shown()).exclude(self._blocked(viewer))

    def hidden_from(self, viewer):
        """shown_to's complement for a signed-in viewer: the messages a block or a ban
        hides from them (what their unread count leaves out)."""
        return self.filter(Q(self._blocked(viewer)) | ~self._sender_shown())

    @staticmethod
    def _sender_shown():
        # an active sender, or the deleted-account stand-in (inactive, never banned)
        return Q(sender__is_active=True) | Q(sender__username=DELETED_USERNAME)

    @staticmethod
    def _blocked(viewer):
        return Exists(Block.objects.between(viewer, OuterRef("sender_id")))


class Conversation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=6, choices=ConversationKind.choices)
    title = models.CharField(max_length=TITLE_MAX, blank=True)
    # A circle's group chat; its participants follow the circle's membership.
    circle = models.OneToOneField(
        "accounts.Circle",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="conversation",
    )
    # "<smaller user id>:<larger user id>" for direct conversations: unique, so two
    # people have one direct conversation however many times (and at once) it is asked for.
    direct_key = models.CharField(max_length=73, null=True, blank=True, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations_started",
    )
    # the seq of the newest message (0: none yet); bumped in the sending transaction
    last_seq = models.BigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # latest activity (creation or the newest message): the inbox order
    updated_at = models.DateTimeField(auto_now_add=True, db_index=False)

    objects = ConversationQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["-updated_at", "-id"], name="conversation_updated_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="direct", direct_key__isnull=False, circle__isnull=True)
                | Q(kind="group", direct_key__isnull=True),
                name="conversation_kind_shape",
            ),
            models.CheckConstraint(condition=Q(last_seq__gte=0), name="conversation_seq_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} conversation {self.pk}"


class Participant(models.Model):
    """One person in one conversation, with their own reading state."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="participants", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="chat_participations",
        db_index=False,
    )
    # the newest message this person has read (sending a message counts as reading)
    last_read_seq = models.BigIntegerField(default=0)
    last_read_message = models.ForeignKey(
        "Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # "delete conversation": messages up to this seq are hidden from this person only;
    # NULL: never deleted. The conversation leaves their inbox until a newer message.
    cleared_seq = models.BigIntegerField(null=True, blank=True)
    muted = models.BooleanField(default=False)
    joined_at = models.DateTimeField(auto_now_add=True)

    objects = ParticipantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "user"], name="participant_unique_pair"
            ),
        ]
        indexes = [
            # "my conversations" (the socket joins their groups; the inbox)
            models.Index(fields=["user", "conversation"], name="participant_user_conv_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.conversation_id}"

    @property
    def hidden_through(self) -> int:
        """Messages with seq ≤ this are hidden from this person."""
        return self.cleared_seq or 0


class Message(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="messages_sent"
    )
    client_id = models.CharField(max_length=CLIENT_ID_MAX)
    seq = models.BigIntegerField()
    content = models.TextField(max_length=MESSAGE_MAX, blank=True)
    image = models.OneToOneField(
        "media.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="message",
    )
    # A reply to a story: the story while it exists (expired stories are removed by the
    # cleanup, which empties this), and story_reply kept so the chat can say "Story
    # unavailable" after. Whether the story shows is asked of Story.objects.visible_to.
    story = models.ForeignKey(
        "stories.Story",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replies",
    )
    story_reply = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        constraints = [
            # history pages walk this index backwards: (conversation, seq DESC)
            models.UniqueConstraint(fields=["conversation", "seq"], name="message_conv_seq"),
            models.UniqueConstraint(fields=["sender", "client_id"], name="message_sender_client"),
            models.CheckConstraint(condition=Q(seq__gt=0), name="message_seq_positive"),
        ]

    def __str__(self) -> str:
        return f"message {self.seq} in {self.conversation_id}"


class Reaction(models.Model):
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="reactions", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="message_reactions"
    )
    emoji = models.CharField(max_length=EMOJI_MAX)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["message", "user", "emoji"], name="reaction_unique_per_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.emoji} by {self.user_id} on {self.message_id}"
