"""Each kind of notification is created by the action that causes it, through the one
service, after the action commits — and never for your own action, never across a block."""

import pytest

from accounts import services as accounts
from accounts.models import Block, CircleInvite
from messaging import services as messaging
from posts import services as posts
from posts.models import Mention
from tests.factories import CircleFactory
from tests.messaging.conftest import befriend
from tests.notifications.conftest import follow, publish_post, shown, unread

pytestmark = pytest.mark.django_db


def test_like_on_your_post(committed, user, other_user, alice_post):
    committed(posts.post_like, user=other_user, post=alice_post)
    assert shown(user) == [("post_like", "bob liked your photo")]
    assert unread(user) == 1
    assert shown(other_user) == []


def test_nothing_is_written_before_the_action_commits(user, other_user, alice_post):
    # no after-commit callbacks run here: the action's transaction never committed
    posts.post_like(user=other_user, post=alice_post)
    assert shown(user) == []


def test_comment_on_your_post_and_reply_to_your_comment(committed, user, other_user, carol):
    post = publish_post(user)
    first = committed(posts.comment_create, author=carol, post=post, content="nice")
    committed(posts.comment_create, author=other_user, post=post, content="yes", parent_id=first.pk)
    # carol hears of the reply; alice of the two comments on her photo, grouped
    assert shown(carol) == [("comment_reply", "bob replied to your comment")]
    assert shown(user) == [("post_comment", "bob and carol commented on your photo")]


def test_reply_to_the_post_authors_own_comment_is_one_notification(committed, user, other_user):
    post = publish_post(user)
    mine = committed(posts.comment_create, author=user, post=post, content="first!")
    committed(posts.comment_create, author=other_user, post=post, content="hi", parent_id=mine.pk)
    assert shown(user) == [("comment_reply", "bob replied to your comment")]


def test_like_on_your_comment(committed, user, other_user, alice_post):
    comment = committed(posts.comment_create, author=other_user, post=alice_post, content="wow")
    committed(posts.comment_like, user=user, comment=comment)
    assert shown(other_user) == [("comment_like", "alice liked your comment")]


def test_mention_in_a_comment(committed, user, other_user, carol):
    post = publish_post(other_user)
    committed(posts.comment_create, author=other_user, post=post, content="look @carol @alice")
    assert shown(carol) == [("comment_mention", "bob mentioned you in a comment")]
    assert shown(user) == [("comment_mention", "bob mentioned you in a comment")]


def test_mention_in_a_caption_arrives_when_the_post_is_published(
    committed, user, other_user, django_capture_on_commit_callbacks
):
    from media.models import Image, ImageState
    from posts.models import Post, PostImage

    post = Post.objects.create(author=other_user, caption="with @alice")
    Mention.objects.create(post=post, user=user)
    image = Image.objects.create(owner=other_user, purpose="post", state=ImageState.READY)
    PostImage.objects.create(post=post, image=image, position=0)
    assert shown(user) == []
    committed(posts.post_image_settled, image=image)
    assert shown(user) == [("post_mention", "bob mentioned you in a photo")]


def test_new_follower_and_follows_grouped_per_day(committed, user, other_user, carol):
    committed(accounts.follow_create, follower=other_user, target=user)
    committed(accounts.follow_create, follower=carol, target=user)
    assert shown(user) == [("follow", "carol and bob started following you")]


def test_follow_request_and_its_approval(committed, user, other_user):
    user.is_private = True
    user.save()
    committed(accounts.follow_create, follower=other_user, target=user)
    assert shown(user) == [("follow_request", "bob asked to follow you")]
    request_id = user.follow_requests_received.get().pk
    committed(accounts.follow_request_approve, user=user, request_id=request_id)
    assert shown(other_user) == [("follow_approved", "alice approved your follow request")]


def test_circle_invite_and_its_acceptance(committed, user, other_user):
    circle = accounts.circle_create(owner=user, name="Close friends")
    committed(accounts.circle_invite, actor=user, circle=circle, invitee=other_user)
    assert shown(other_user) == [("circle_invite", "alice invited you to Close friends")]
    invite = CircleInvite.objects.get(invitee=other_user)
    committed(accounts.circle_invite_accept, user=other_user, invite_id=invite.pk)
    assert shown(user) == [("circle_joined", "bob joined Close friends")]
    # the invitation row still shows (bob is a member now), without its Accept button
    assert shown(other_user) == [("circle_invite", "alice invited you to Close friends")]


def test_added_to_a_group_conversation(committed, user, other_user, carol):
    befriend(user, other_user)
    befriend(user, carol)
    committed(
        messaging.conversation_start,
        creator=user,
        usernames=["bob", "carol"],
        title="Trip",
    )
    assert shown(other_user) == [("group_added", "alice added you to Trip")]
    assert shown(carol) == [("group_added", "alice added you to Trip")]
    assert shown(user) == []


def test_a_direct_conversation_is_no_notification(committed, user, other_user):
    befriend(user, other_user)
    committed(messaging.conversation_start, creator=user, usernames=["bob"])
    assert shown(other_user) == []


# --- suppression ----------------------------------------------------------------------


def test_never_for_your_own_actions(committed, user, alice_post):
    committed(posts.post_like, user=user, post=alice_post)
    comment = committed(posts.comment_create, author=user, post=alice_post, content="me @alice")
    committed(posts.comment_like, user=user, comment=comment)
    assert shown(user) == [] and unread(user) == 0


@pytest.mark.parametrize("direction", ["recipient_blocked_actor", "actor_blocked_recipient"])
def test_never_across_a_block(committed, user, other_user, carol, direction):
    # a mention needs no access to alice's things, so it is the case a block must stop
    post = publish_post(carol)
    if direction == "recipient_blocked_actor":
        Block.objects.create(blocker=user, blocked=other_user)
    else:
        Block.objects.create(blocker=other_user, blocked=user)
    committed(posts.comment_create, author=other_user, post=post, content="hey @alice")
    assert shown(user) == [] and unread(user) == 0


def test_a_block_removes_what_each_had_of_the_other_at_once(committed, user, other_user, carol):
    post = publish_post(user)
    theirs = publish_post(other_user)
    committed(posts.post_like, user=other_user, post=post)
    committed(posts.post_like, user=carol, post=post)
    committed(posts.post_like, user=user, post=theirs)
    assert shown(user) == [("post_like", "carol and bob liked your photo")]
    accounts.block_create(blocker=user, target=other_user)
    assert shown(user) == [("post_like", "carol liked your photo")]
    assert shown(other_user) == []
    assert unread(user) == 1 and unread(other_user) == 0


def test_unlike_removes_the_notification(committed, user, other_user, alice_post):
    committed(posts.post_like, user=other_user, post=alice_post)
    committed(posts.post_unlike, user=other_user, post=alice_post)
    assert shown(user) == [] and unread(user) == 0


def test_unlike_a_comment_removes_its_notification(committed, user, other_user, alice_post):
    comment = committed(posts.comment_create, author=user, post=alice_post, content="mine")
    committed(posts.comment_like, user=other_user, comment=comment)
    committed(posts.comment_unlike, user=other_user, comment=comment)
    assert shown(user) == []


def test_deleting_a_comment_removes_its_notifications(committed, user, other_user, carol):
    post = publish_post(user)
    comment = committed(posts.comment_create, author=other_user, post=post, content="@carol hi")
    committed(posts.comment_create, author=carol, post=post, content="too")
    assert shown(user) == [("post_comment", "carol and bob commented on your photo")]
    posts.comment_delete(comment=comment, actor=other_user)
    assert shown(user) == [("post_comment", "carol commented on your photo")]
    assert shown(carol) == []


def test_unfollow_and_withdrawn_request_remove_theirs(committed, user, other_user, carol):
    committed(accounts.follow_create, follower=other_user, target=user)
    accounts.follow_delete(follower=other_user, target=user)
    assert shown(user) == []
    carol_private = carol
    carol_private.is_private = True
    carol_private.save()
    committed(accounts.follow_create, follower=other_user, target=carol_private)
    accounts.follow_request_cancel(requester=other_user, target=carol_private)
    assert shown(carol_private) == []


def test_an_invitation_declined_drops_out(committed, user, other_user):
    circle = CircleFactory(owner=user, name="Book club")
    committed(accounts.circle_invite, actor=user, circle=circle, invitee=other_user)
    invite = CircleInvite.objects.get(invitee=other_user)
    accounts.circle_invite_decline(user=other_user, invite_id=invite.pk)
    assert shown(other_user) == [] and unread(other_user) == 0


def test_follow_back_and_approve_buttons(committed, user, other_user, carol):
    from notifications.selectors import notification_list_for_user

    user.is_private = True
    user.save()
    follow(carol, user)  # carol already followed before alice went private
    committed(accounts.follow_create, follower=other_user, target=user)
    from notifications.services import notification_create

    notification_create(actor=carol, recipient=user, kind="follow", target_id=carol.pk)
    rows = {row.notification.kind: row for row in notification_list_for_user(user=user).items}
    assert rows["follow_request"].target.action.label == "Approve"
    assert rows["follow"].target.action.label == "Follow back"
    follow(user, carol)
    rows = {row.notification.kind: row for row in notification_list_for_user(user=user).items}
    assert rows["follow"].target.action is None


def test_an_unregistered_kind_is_refused(user, other_user):
    from django.core.exceptions import ImproperlyConfigured

    from notifications.services import notification_create

    with pytest.raises(ImproperlyConfigured):
        notification_create(actor=other_user, recipient=user, kind="nope", target_id=user.pk)
