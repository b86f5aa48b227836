"""Fixtures for the operators' tools: people of each rank and a small world with a row
of every model."""

import pytest
from django.utils import timezone

from accounts.models import (
    Block,
    Circle,
    CircleInvite,
    CircleMembership,
    CircleRole,
    Follow,
    FollowRequest,
)
from accounts.services import api_token_create
from albums.models import Album, AlbumItem, AlbumLike
from media.models import Image, ImageState
from messaging.models import Conversation, Message, Participant, Reaction
from notifications.models import Notification, NotificationActor
from posts.models import (
    Bookmark,
    Comment,
    CommentLike,
    Hashtag,
    Like,
    Mention,
    Post,
    PostHashtag,
    PostImage,
)
from staff.services import audit_record
from stories.models import Story, StoryView
from tests.accounts.conftest import list_queries, media_storage
from tests.factories import UserFactory

__all__ = ["list_queries", "media_storage"]  # fixtures shared with accounts' tests

# A private message's text: no admin page may ever show it.
SECRET = "the-password-to-the-boathouse-is-marmalade"


@pytest.fixture
def member(db):
    return UserFactory(username="member")


@pytest.fixture
def staff_user(db):
    return UserFactory(username="operator", is_staff=True)


@pytest.fixture
def superuser(db):
    return UserFactory(username="chief", is_staff=True, is_superuser=True)


def image(owner, purpose="post", **fields) -> Image:
    values = {
        "original_key": f"originals/{purpose}-{Image.objects.count()}.jpg",
        "state": ImageState.READY,
        "original_bytes": 1000,
        "renditions_bytes": 300,
    }
    values.update(fields)
    return Image.objects.create(owner=owner, purpose=purpose, **values)


def build_world(tag: str) -> dict:
    """One row of every model (and the rows they need), names suffixed with tag."""
    alice = UserFactory(username=f"alice{tag}")
    bob = UserFactory(username=f"bob{tag}")
    api_token_create(user=alice, name=f"phone{tag}")
    Follow.objects.create(follower=alice, following=bob)

    carol = UserFactory(username=f"carol{tag}", is_private=True)
    FollowRequest.objects.create(requester=alice, target=carol)
    Block.objects.create(blocker=carol, blocked=bob)
    circle = Circle.objects.create(name=f"Friends {tag}", owner=alice)
    CircleMembership.objects.create(circle=circle, user=alice, role=CircleRole.OWNER)
    CircleMembership.objects.create(circle=circle, user=bob)
    CircleInvite.objects.create(circle=circle, invitee=carol, invited_by=alice)

    post = Post.objects.create(
        author=alice, caption=f"hello #tag{tag} @bob{tag}", status="published"
    )
    PostImage.objects.create(post=post, image=image(alice), position=0)
    Like.objects.create(user=bob, post=post)
    Bookmark.objects.create(user=bob, post=post)
    comment = Comment.objects.create(post=post, author=bob, content=f"nice {tag}")
    CommentLike.objects.create(user=alice, comment=comment)
    hashtag = Hashtag.objects.create(name=f"tag{tag}")
    PostHashtag.objects.create(post=post, hashtag=hashtag)
    Mention.objects.create(post=post, user=bob)

    story = Story.objects.create(
        author=alice, image=image(alice, "story"), audience="followers",
        expires_at=timezone.now() + timezone.timedelta(hours=24),
    )  # fmt: skip
    StoryView.objects.create(story=story, viewer=bob)

    album = Album.objects.create(
        kind="personal", owner=alice, audience="followers", title=f"Summer {tag}"
    )
    AlbumItem.objects.create(album=album, image=image(alice, "album"), added_by=alice, position=1)
    AlbumLike.objects.create(user=bob, album=album)

    notification = Notification.objects.create(
        recipient=alice, kind="post_like", target_type="post", target_id=post.pk,
        group_key=f"post_like:{post.pk}", actor=bob,
    )  # fmt: skip
    NotificationActor.objects.create(notification=notification, actor=bob, target_id=post.pk)

    conversation = Conversation.objects.create(
        kind="group", title=f"{SECRET} title", created_by=alice, last_seq=1
    )
    Participant.objects.create(conversation=conversation, user=alice)
    Participant.objects.create(conversation=conversation, user=bob)
    photo = image(alice, "message", alt=f"{SECRET} alt")
    message = Message.objects.create(
        conversation=conversation, sender=alice, client_id=f"{SECRET}-client", seq=1,
        content=f"{SECRET} {tag}", image=photo,
    )  # fmt: skip
    Reaction.objects.create(message=message, user=bob, emoji="👍")
    audit_record(actor=alice, ip="192.0.2.1", action="user.ban", target_type="accounts.user",
                 target_id=bob.pk, target_repr=bob.username)  # fmt: skip
    return {
        "alice": alice, "bob": bob, "post": post, "comment": comment, "story": story,
        "album": album, "conversation": conversation, "message": message, "photo": photo,
        "notification": notification, "circle": circle,
    }  # fmt: skip


@pytest.fixture
def world(db):
    return build_world("1")
