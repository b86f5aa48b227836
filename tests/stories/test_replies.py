"""Replies: a direct message to the story's author that refers to the story, opening or
reusing their conversation; the chat shows the story's thumbnail while the reader may see
it and "Story unavailable" after. Not on your own story, nor where you may not message."""

from datetime import timedelta

import pytest

from accounts import services as accounts
from media.links import media_url
from messaging.models import Conversation, Message
from messaging.services import conversation_start, story_reply_send
from stories import services as stories
from stories.models import Story
from tests.stories.conftest import Api, error_of, make_story

pytestmark = pytest.mark.django_db


def expire(story):
    """Move the story 25 hours into the past: it expired an hour ago."""
    Story.objects.filter(pk=story.pk).update(
        created_at=story.created_at - timedelta(hours=25),
        expires_at=story.created_at - timedelta(hours=1),
    )


def test_reply_opens_the_direct_conversation_with_a_story_reference(author, friend, media_storage):
    story = make_story(author)
    response = Api(friend).post(
        f"/stories/{story.pk}/reply", {"content": "Love it", "client_id": "r1"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["content"] == "Love it" and body["sender"]["username"] == "friend"
    assert body["story"]["id"] == str(story.pk) and body["story"]["available"] is True
    assert body["story"]["image"]["renditions"]["thumbnail"]["jpeg"] == media_url(
        story.image, "thumbnail", "jpeg"
    )
    conversation = Conversation.objects.get(pk=body["conversation_id"])
    assert conversation.kind == "direct"
    assert {p.user.username for p in conversation.participants.all()} == {"author", "friend"}
    # the author reads it in the conversation, with the story
    history = Api(author).get(f"/conversations/{conversation.pk}/messages").json()["items"]
    assert history[0]["story"]["available"] is True
    # a repeat with the same client_id is the same message
    again = Api(friend).post(
        f"/stories/{story.pk}/reply", {"content": "Love it", "client_id": "r1"}
    )
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert Message.objects.count() == 1


def test_reply_reuses_the_existing_conversation(author, friend, media_storage):
    existing, _ = conversation_start(creator=author, usernames=["friend"])
    message, created = story_reply_send(sender=friend, story_id=make_story(author).pk, content="hi")
    assert created and message.conversation_id == existing.pk
    assert Conversation.objects.count() == 1


def test_no_reply_to_your_own_story_nor_where_you_may_not_message(
    author, follower, friend, media_storage
):
    story = make_story(author)
    own = Api(author).post(f"/stories/{story.pk}/reply", {"content": "me"})
    assert own.status_code == 403 and error_of(own)["code"] == "forbidden"
    # a follower the author does not follow back may see the story but not message them
    refused = Api(follower).post(f"/stories/{story.pk}/reply", {"content": "hi"})
    assert refused.status_code == 403
    empty = Api(friend).post(f"/stories/{story.pk}/reply", {"content": "   "})
    assert empty.status_code == 400 and "content" in error_of(empty)["fields"]
    assert not Message.objects.exists() and not Conversation.objects.exists()


def test_reply_to_an_expired_or_deleted_story_is_404(author, friend, media_storage):
    expired, deleted = make_story(author), make_story(author)
    expire(expired)
    stories.story_delete(story=deleted, actor=author)
    for story in (expired, deleted):
        response = Api(friend).post(f"/stories/{story.pk}/reply", {"content": "hi"})
        assert response.status_code == 404
    assert not Message.objects.exists()


def test_chat_shows_the_story_while_it_lives_and_unavailable_after(
    author, friend, client_for, media_storage
):
    story = make_story(author)
    message, _ = story_reply_send(sender=friend, story_id=story.pk, content="Wow")
    page_url = f"/direct/{message.conversation_id}/"
    thumbnail = media_url(story.image, "thumbnail", "jpeg")

    page = client_for(author).get(page_url).content.decode()
    assert thumbnail in page and "Story unavailable" not in page

    expire(story)
    for viewer in (author, friend):
        page = client_for(viewer).get(page_url).content.decode()
        assert "Story unavailable" in page and thumbnail not in page
    api = Api(friend).get(f"/conversations/{message.conversation_id}/messages").json()
    assert api["items"][0]["story"] == {"id": None, "available": False, "image": None}

    stories.stories_cleanup()  # the story row goes; the reply stays, marked
    message.refresh_from_db()
    assert message.story_id is None and message.story_reply and message.content == "Wow"
    page = client_for(friend).get(page_url).content.decode()
    assert "Story unavailable" in page


def test_a_reader_who_lost_the_audience_sees_it_unavailable(
    author, friend, client_for, media_storage
):
    story = make_story(author)
    message, _ = story_reply_send(sender=friend, story_id=story.pk, content="Wow")
    circle = accounts.circle_create(owner=author, name="Chat stays")  # keep them messageable
    invite = accounts.circle_invite(actor=author, circle=circle, invitee=friend)
    accounts.circle_invite_accept(user=friend, invite_id=invite.pk)
    accounts.follow_delete(follower=friend, target=author)
    page = client_for(friend).get(f"/direct/{message.conversation_id}/").content.decode()
    assert "Story unavailable" in page
    assert client_for(friend).get(media_url(story.image, "thumbnail", "jpeg")).status_code == 404
    page = client_for(author).get(f"/direct/{message.conversation_id}/").content.decode()
    assert media_url(story.image, "thumbnail", "jpeg") in page


def test_reply_page_action_without_javascript(author, friend, client_for, media_storage):
    story = make_story(author)
    client = client_for(friend)
    response = client.post(f"/direct/story/{story.pk}/reply/", {"content": "From the form"})
    assert response.status_code == 302 and response["Location"] == f"/stories/{story.pk}/"
    assert Message.objects.get().story_id == story.pk
    assert (
        client_for(author).post(f"/direct/story/{story.pk}/reply/", {"content": "x"}).status_code
        == 403
    )
