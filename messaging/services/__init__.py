"""Every write about conversations: starting them, sending, reading, reacting, deleting
for yourself, and keeping circle chats and blocks in step. Pages, the API and the socket
call these; they decide, the edges translate.

Errors: ValidationError({field: [message]}) for bad input (400), Http404 for what the actor
may not read, PermissionDenied for what they can see but may not do (403), Ratelimited
(429), ApiError for the rest (409 client_id reused elsewhere, 413/415 photos).

Events are published after commit, only from here, to `conversation.<id>` (everyone who
may read it: their sockets joined that group) or `user.<id>`; see messaging/events.py.
A failing publish is logged, never raised: with Redis down, sending still stores.

The writes live in three modules by sub-domain (conversations, messages, membership);
import them from here.
"""

from messaging.services.conversations import (
    conversation_hide,
    conversation_mark_read,
    conversation_start,
    presence_announce,
    presence_announce_async,
    typing_announce,
)
from messaging.services.membership import (
    circle_conversation_close,
    circle_conversation_sync,
    participant_events_resume,
    participant_events_stop,
)
from messaging.services.messages import (
    message_image_settled,
    message_rate_check,
    message_send,
    messages_account_deleting,
    reaction_add,
    reaction_remove,
)
from messaging.services.stories import story_reply_send

__all__ = [
    "circle_conversation_close",
    "circle_conversation_sync",
    "conversation_hide",
    "conversation_mark_read",
    "conversation_start",
    "message_image_settled",
    "message_rate_check",
    "message_send",
    "messages_account_deleting",
    "participant_events_resume",
    "participant_events_stop",
    "presence_announce",
    "presence_announce_async",
    "reaction_add",
    "reaction_remove",
    "story_reply_send",
    "typing_announce",
]
