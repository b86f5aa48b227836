"""Shapes of the messaging API (shared/API.md: "Objects" conversation and message)."""

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field

from accounts.schemas import UserSummaryOut
from circles.openapi import CLIENT_ID_PATTERN, USERNAME_SCHEMA, non_blank
from media.schemas import ImageOut
from messaging.models import GROUP_MAX_PEOPLE, TITLE_MAX

CLIENT_ID = {"pattern": CLIENT_ID_PATTERN, "maxLength": 64}

# Inputs only check types and gross sizes; messaging.services checks the rules and
# answers with readable messages (4,000 characters, the client id's shape, ...).
_TEXT_CAP = 100_000


class ReactionOut(Schema):
    emoji: str
    count: int
    mine: bool


class MessageStoryOut(Schema):
    """What a reply to a story shows of it (beyond API.md): while the reader may still see
    the story, its id and photo; after (expired, deleted, out of its audience), only
    `available: false` ("Story unavailable")."""

    id: str | None
    available: bool
    image: ImageOut | None


class MessageOut(Schema):
    """message: {id, conversation_id, sender, client_id, content, image, reactions,
    created_at, seq} and, beyond API.md, `story` (null unless the message replies to a
    story). Built from messages_with_details (reaction_summary, story_available)."""

    id: str
    conversation_id: str
    sender: UserSummaryOut
    client_id: str
    content: str
    image: ImageOut | None
    reactions: list[ReactionOut]
    created_at: datetime
    seq: int
    story: MessageStoryOut | None = None

    @staticmethod
    def resolve_id(obj) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_conversation_id(obj) -> str:
        return str(obj.conversation_id)

    @staticmethod
    def resolve_story(obj):
        if not obj.story_reply:
            return None
        if not getattr(obj, "story_available", False) or obj.story is None:
            return {"id": None, "available": False, "image": None}
        return {"id": str(obj.story_id), "available": True, "image": obj.story.image}

    @staticmethod
    def resolve_reactions(obj) -> list:
        return getattr(obj, "reaction_summary", [])


class ConversationOut(Schema):
    """conversation: {id, kind, title, circle_id, participants, last_message, unread_count,
    updated_at}. `title` is what the viewer sees: the group's title, the circle's name,
    or the other people's names. Built by the messaging.selectors conversation readers."""

    id: str
    kind: Literal["direct", "group"]
    title: str
    circle_id: str | None
    participants: list[UserSummaryOut]
    last_message: MessageOut | None
    unread_count: int
    updated_at: datetime

    @staticmethod
    def resolve_id(obj) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_title(obj) -> str:
        return obj.display_title

    @staticmethod
    def resolve_circle_id(obj) -> str | None:
        return str(obj.circle_id) if obj.circle_id else None

    @staticmethod
    def resolve_participants(obj) -> list:
        return [participant.user for participant in obj.participants.all()]


class ConversationIn(Schema):
    usernames: list[str] = Field(
        min_length=1,
        max_length=GROUP_MAX_PEOPLE - 1,
        json_schema_extra={"items": USERNAME_SCHEMA},
    )
    title: str = Field("", max_length=TITLE_MAX)


class MessageIn(Schema):
    """JSON body of POST /conversations/{id}/messages (multipart sends the same fields
    plus `image`)."""

    client_id: str = Field(max_length=_TEXT_CAP, json_schema_extra=CLIENT_ID)
    content: str = Field("", max_length=_TEXT_CAP, json_schema_extra={"maxLength": 4000})


class StoryReplyIn(Schema):
    """POST /stories/{id}/reply (beyond API.md): the reply's text, and optionally the
    client_id that makes a repeat return the first message."""

    content: str = non_blank(max_length=_TEXT_CAP, json_schema_extra={"maxLength": 4000})
    client_id: str | None = Field(None, max_length=_TEXT_CAP, json_schema_extra=CLIENT_ID)


class ConversationReadIn(Schema):
    message_id: str = Field(max_length=100)


class ReactionIn(Schema):
    emoji: str = Field(max_length=100, json_schema_extra={"maxLength": 16, "minLength": 1})


class ReactionsOut(Schema):
    """What POST /messages/{id}/reactions answers (the `reaction` frame's fields)."""

    message_id: str
    reactions: list[ReactionOut]
