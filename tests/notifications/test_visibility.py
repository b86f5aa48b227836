"""Nothing about something the recipient may no longer see: such notifications drop out
of the list and the count at once (the target type's own rule, asked on every read)."""

import pytest

from accounts import services as accounts
from accounts.models import CircleInvite, Follow
from messaging import services as messaging
from posts import services as posts
from posts.models import Post
from tests.factories import CircleFactory
from tests.messaging.conftest import befriend
from tests.notifications.conftest import follow, publish_post, shown, unread

pytestmark = pytest.mark.django_db


def test_mention_in_a_post_that_became_invisible_drops_out(committed, user, other_user):
    follow(user, other_user)
    post = publish_post(other_user, visibility="followers")
    committed(posts.comment_create, author=other_user, post=post, content="hi @alice")
    assert unread(user) == 1
    Follow.objects.filter(follower=user, following=other_user).delete()
    assert shown(user) == [] and unread(user) == 0


def test_a_deleted_post_takes_its_notifications(committed, user, other_user, alice_post):
    committed(posts.post_like, user=other_user, post=alice_post)
    posts.post_delete(post=alice_post, actor=user)
    assert shown(user) == [] and unread(user) == 0


def test_a_deleted_comment_takes_the_likes_on_it(committed, user, other_user, alice_post):
    comment = committed(posts.comment_create, author=other_user, post=alice_post, content="x")
    committed(posts.comment_like, user=user, comment=comment)
    assert shown(other_user) == [("comment_like", "alice liked your comment")]
    Post.objects.filter(pk=alice_post.pk)  # the post stays
    posts.comment_delete(comment=comment, actor=user)
    assert shown(other_user) == []


def test_leaving_a_circle_drops_its_notifications(committed, user, other_user, carol):
    circle = CircleFactory(owner=user, name="Hikers")
    committed(accounts.circle_invite, actor=user, circle=circle, invitee=other_user)
    invite = CircleInvite.objects.get(invitee=other_user)
    committed(accounts.circle_invite_accept, user=other_user, invite_id=invite.pk)
    # a circle post of alice's that mentions bob, and bob's notification of it
    post = publish_post(user, visibility="circle", circle=circle)
    committed(posts.comment_create, author=user, post=post, content="@bob look")
    assert {kind for kind, _ in shown(other_user)} == {"circle_invite", "comment_mention"}
    accounts.circle_leave(user=other_user, circle=circle)
    assert shown(other_user) == [] and unread(other_user) == 0


def test_leaving_a_group_conversations_circle_drops_group_added(committed, user, other_user):
    # conversations registered their own rule: a group stays readable while you are in it
    befriend(user, other_user)
    carol_ = CircleFactory(owner=user)  # unrelated circle, to be sure nothing leaks across
    assert carol_
    from tests.factories import UserFactory

    dan = UserFactory(username="dan")
    befriend(user, dan)
    conversation, _ = committed(
        messaging.conversation_start, creator=user, usernames=["bob", "dan"], title="Plans"
    )
    assert shown(other_user) == [("group_added", "alice added you to Plans")]
    # what the rule says, not a copy: the participant row gone, the conversation unreadable
    conversation.participants.filter(user=other_user).delete()
    assert shown(other_user) == []


def test_a_person_who_blocked_you_later_is_gone_from_follow_rows(committed, user, other_user):
    committed(accounts.follow_create, follower=other_user, target=user)
    assert unread(user) == 1
    accounts.block_create(blocker=other_user, target=user)
    assert shown(user) == [] and unread(user) == 0
