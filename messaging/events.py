"""Event payloads (what services publish through circles.realtime) and the socket frames
the consumer makes of them.

Events carry ids and data every member of their audience may see. A message's reactions
travel as [{emoji, count, user_ids}] so that each socket can work out `mine` for its own
person (the frames are API.md's: [{emoji, count, mine}]).

| event (group)                          | frame                                   |
| -------------------------------------- | --------------------------------------- |
| message.created / message.changed (c)  | {"type": "message.new", "message"}     |
| typing.started (c)                     | {"type": "typing", conversation_id, user} |
| message.read (c)                       | {"type": "read", conversation_id, user, message_id} |
| reaction.changed (c)                   | {"type": "reaction", message_id, reactions} |
| presence.changed (c)                   | {"type": "presence", user, online}     |
| conversation.joined / .left (u)        | none: the socket joins / leaves the group |
| block.changed (u)                      | none: the socket hides / shows the other's frames |
| notification.created (u)               | {"type": "notification.new", notification, unread_count}|

notification.created is built by notifications.events; the consumer only passes it on.

(c) conversation.<id>, (u) user.<id>.
"""

import orjson
from django.core.serializers.json import DjangoJSONEncoder

from accounts.people import user_summary
from messaging.selectors import reactions_for_viewer

# Dates as Django's JSON encoder writes them (the API's form: milliseconds, "Z" for UTC);
# orjson does the rest, ~10x faster than the json module's round trip it replaced.
_django_default = DjangoJSONEncoder().default


def _jsonable(data):
    """The JSON the API would answer (ISO times with milliseconds, "Z" for UTC)."""
    return orjson.loads(
        orjson.dumps(data, default=_django_default, option=orjson.OPT_PASSTHROUGH_DATETIME)
    )


def message_payload(message) -> dict:
    """A message as events carry it (needs messages_with_details' reaction data). Kept on
    the instance: a send describes its message for the event and again for the ack."""
    from messaging.schemas import MessageOut

    cached = message.__dict__.get("_event_payload")
    if cached is not None and cached[0] == getattr(message, "reactions_by_user", []):
        return cached[1]
    data = MessageOut.from_orm(message).model_dump()
    data["reactions"] = getattr(message, "reactions_by_user", [])
    payload = _jsonable(data)
    message._event_payload = (data["reactions"], payload)
    return payload


def message_for_viewer(message: dict, *, viewer_id, hidden=frozenset()) -> dict:
    """An event's message as API.md's message object for one person (without the
    reactions of `hidden` people)."""
    reactions = reactions_for_viewer(message["reactions"], viewer_id=viewer_id, hidden=hidden)
    return {**message, "reactions": reactions}


def message_created(message) -> dict:
    return {
        "type": "message.created",
        "conversation_id": str(message.conversation_id),
        "message": message_payload(message),
    }


def message_changed(message) -> dict:
    """The same message again, changed (its photo is ready): clients replace it by id."""
    return {**message_created(message), "type": "message.changed"}


def typing_started(*, conversation_id, user) -> dict:
    return {
        "type": "typing.started",
        "conversation_id": str(conversation_id),
        "user": user_summary(user),
    }


def message_read(*, conversation_id, user, message_id) -> dict:
    return {
        "type": "message.read",
        "conversation_id": str(conversation_id),
        "user": user_summary(user),
        "message_id": str(message_id),
    }


def reaction_changed(*, message, reactions) -> dict:
    return {
        "type": "reaction.changed",
        "conversation_id": str(message.conversation_id),
        "message_id": str(message.pk),
        "reactions": reactions,
    }


def presence_changed(*, user, online: bool, conversation_id, announcement: str) -> dict:
    """Sent through each conversation the two share; a socket passes on each announcement
    once, however many of its conversations it came through."""
    return {
        "type": "presence.changed",
        "conversation_id": str(conversation_id),
        "announcement": announcement,
        "user": user_summary(user),
        "online": online,
    }


def conversation_joined(conversation_id) -> dict:
    return {"type": "conversation.joined", "conversation_id": str(conversation_id)}


def conversation_left(conversation_id) -> dict:
    return {"type": "conversation.left", "conversation_id": str(conversation_id)}


def block_changed(*, other_id, blocked: bool) -> dict:
    """A block between the socket's person and other_id was made (blocked) or the last
    one lifted: the socket starts or stops leaving out other's frames."""
    return {"type": "block.changed", "user_id": str(other_id), "blocked": blocked}
