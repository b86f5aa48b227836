"""Replies to stories: a direct message to the story's author that refers to the story.

Stories sit below messaging, so this is where a reply is sent: the story's rule comes
from stories.selectors, whom one may message from messaging.selectors, and the message
goes through message_send like any other (order, idempotency, rate limit, events).
"""

import uuid

from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import User
from messaging.models import Message
from messaging.selectors import user_may_message
from messaging.services.conversations import conversation_start
from messaging.services.messages import message_send
from notifications.services import notification_create_on_commit
from stories.selectors import story_get_visible


def story_reply_send(
    *, sender: User, story_id, content, client_id: str | None = None
) -> tuple[Message, bool]:
    """Reply to a story sender may see (Http404 otherwise: expired, deleted, hidden, or
    unknown) with a text message in the direct conversation with its author, opened or
    reused. Refused (403) on your own story and when sender may not message the author.
    Returns (message, created); `client_id` makes a repeat return the first message (one
    is made up when a client sends none).
    """
    story = story_get_visible(viewer=sender, story_id=story_id)
    if story.author_id == sender.pk:
        raise PermissionDenied("You can't reply to your own story.")
    if not isinstance(content, str) or not content.strip():
        raise ValidationError({"content": ["Write a reply first."]})
    if not user_may_message(sender=sender, recipient=story.author):
        raise PermissionDenied("You can't send messages to this person.")
    conversation, _ = conversation_start(creator=sender, usernames=[story.author.username])
    message, created = message_send(
        sender=sender,
        conversation_id=conversation.pk,
        client_id=client_id or str(uuid.uuid4()),
        content=content,
        story=story,
    )
    if created:  # never for a repeat of the same client_id
        notification_create_on_commit(
            actor=sender, recipient=story.author, kind="story_reply", target_id=story.pk
        )
    return message, created
