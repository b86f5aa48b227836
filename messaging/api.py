"""The messaging part of /api/v1 (shared/API.md "Messaging"). Handlers translate:
parse → service/selector → return. Everything a person may not read answers 404.

CSRF: like every session-authenticated write, these need X-CSRFToken with the session
cookie; Bearer tokens need none.
"""

import json
import uuid

from ninja import Query, Router, Schema, Status
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import Field
from pydantic import ValidationError as PydanticValidationError

from circles.errors import ApiError
from circles.openapi import BODY_NOT_JSON, errors
from circles.pagination import DEFAULT_LIMIT, MAX_LIMIT
from circles.schemas import Page
from messaging import selectors, services
from messaging.schemas import (
    ConversationIn,
    ConversationOut,
    ConversationReadIn,
    MessageIn,
    MessageOut,
    ReactionIn,
    ReactionsOut,
    StoryReplyIn,
)

conversations_router = Router(tags=["messaging"])
messages_router = Router(tags=["messaging"])
# mounted at /stories beside stories' own router: a reply is a message (beyond API.md)
story_replies_router = Router(tags=["stories"])


class HistoryParams(Schema):
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    after_seq: int | None = Field(None, ge=0)


class InboxParams(Schema):
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


_MULTIPART_MESSAGE = {
    "type": "object",
    "properties": {
        "client_id": {"type": "string"},
        "content": {"type": "string"},
        "image": {"type": "string", "format": "binary"},
    },
    "required": ["client_id", "image"],
}
_SEND_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": MessageIn.model_json_schema()},
            "multipart/form-data": {"schema": _MULTIPART_MESSAGE},
        },
    }
}


def _message_input(request) -> tuple[MessageIn, object]:
    """The send body: JSON {content?, client_id}, or multipart with `image` too."""
    if request.content_type == "multipart/form-data":
        data, image = request.POST.dict(), request.FILES.get("image")
    else:
        try:
            data, image = json.loads(request.body or b"null"), None
        except ValueError as exc:
            raise ApiError(400, "invalid", BODY_NOT_JSON) from exc
    if not isinstance(data, dict):
        raise ApiError(400, "invalid", "Send a JSON object: {client_id, content}.")
    try:
        return MessageIn.model_validate(data), image
    except PydanticValidationError as exc:
        raise NinjaValidationError(exc.errors(include_url=False)) from exc


def _conversation_out(request, conversation_id):
    return selectors.conversation_get_readable(viewer=request.auth, conversation_id=conversation_id)


@conversations_router.get("", response=Page[ConversationOut])
def conversation_list(request, page: Query[InboxParams]):
    """Your conversations, latest activity first (deleted ones come back with a newer
    message)."""
    return selectors.conversation_list_for_inbox(
        viewer=request.auth, cursor=page.cursor, limit=page.limit
    )


@conversations_router.post("", response={200: ConversationOut, 201: ConversationOut})
def conversation_create(request, payload: ConversationIn):
    """One username: your direct conversation with them (200 when it already exists).
    Several: a new group. You may message people you follow who follow you back, or who
    share a circle with you (403 otherwise); unknown people are 404."""
    conversation, created = services.conversation_start(
        creator=request.auth, usernames=payload.usernames, title=payload.title
    )
    return Status(201 if created else 200, _conversation_out(request, conversation.pk))


@conversations_router.get("/{conversation_id}", response=ConversationOut)
def conversation_detail(request, conversation_id: str):
    """One conversation (not in API.md)."""
    return _conversation_out(request, conversation_id)


@conversations_router.delete("/{conversation_id}", response={204: None})
def conversation_delete(request, conversation_id: str):
    """Hides the conversation's history so far, for you only."""
    services.conversation_hide(user=request.auth, conversation_id=conversation_id)
    return Status(204, None)


@conversations_router.get("/{conversation_id}/messages", response=Page[MessageOut])
def message_list(request, conversation_id: str, page: Query[HistoryParams]):
    """Newest first. `after_seq=N` lists only messages after seq N (what a reconnecting
    client missed); page back with next_cursor until it is null."""
    conversation = _conversation_out(request, conversation_id)
    return selectors.message_list_for_conversation(
        viewer=request.auth,
        conversation=conversation,
        cursor=page.cursor,
        limit=page.limit,
        after_seq=page.after_seq,
    )


@conversations_router.post(
    "/{conversation_id}/messages",
    response={200: MessageOut, 201: MessageOut},
    openapi_extra={**_SEND_BODY, **errors(409, 429)},
)
def message_create(request, conversation_id: str):
    """JSON `{content?, client_id}`, or multipart `client_id`, `content?`, `image` (a
    photo: JPEG, PNG, WebP or HEIC ≤ 10 MB). 201 with the message; 200 with the first
    message when client_id was already used (nothing new is sent). Text ≤ 4,000
    characters; 120 messages a minute (429 + Retry-After)."""
    payload, image = _message_input(request)
    message, created = services.message_send(
        sender=request.auth,
        conversation_id=conversation_id,
        client_id=payload.client_id,
        content=payload.content,
        image=image,
    )
    return Status(201 if created else 200, message)


@conversations_router.post("/{conversation_id}/read", response={204: None})
def conversation_read(request, conversation_id: str, payload: ConversationReadIn):
    """You have read up to message_id (moves only forward)."""
    services.conversation_mark_read(
        user=request.auth, conversation_id=conversation_id, message_id=payload.message_id
    )
    return Status(204, None)


@messages_router.post("/{message_id}/reactions", response=ReactionsOut)
def reaction_create(request, message_id: str, payload: ReactionIn):
    """React with one emoji; answers the message's reactions (as the `reaction` frame)."""
    reactions = services.reaction_add(user=request.auth, message_id=message_id, emoji=payload.emoji)
    return {"message_id": str(uuid.UUID(message_id)), "reactions": reactions}


@messages_router.delete("/{message_id}/reactions/{emoji}", response={204: None})
def reaction_delete(request, message_id: str, emoji: str):
    services.reaction_remove(user=request.auth, message_id=message_id, emoji=emoji)
    return Status(204, None)


@story_replies_router.post(
    "/{story_id}/reply",
    response={200: MessageOut, 201: MessageOut},
    openapi_extra=errors(409, 429),
)
def story_reply(request, story_id: str, payload: StoryReplyIn):
    """Reply to a story you may see with a direct message to its author (the conversation
    is opened or reused); the message refers to the story. 201 with the message (200 and
    the first message for a repeated client_id). 404 for a story you may not see
    (expired, deleted, hidden); 403 on your own story or when you may not message its
    author."""
    message, created = services.story_reply_send(
        sender=request.auth, story_id=story_id, content=payload.content, client_id=payload.client_id
    )
    return Status(201 if created else 200, message)
