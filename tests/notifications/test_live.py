"""The `notification.new` frame: its payload (the API's notification object and the unread
count) and its audience (the recipient's sockets, nobody else's), over the Redis channel
layer and through the real consumer."""

import pytest
from channels.db import database_sync_to_async

from circles.realtime import user_group
from posts import services as posts
from tests.accounts.conftest import Api
from tests.messaging.conftest import next_frame, open_socket
from tests.notifications.conftest import publish_post


@pytest.mark.django_db
def test_the_event_goes_to_the_recipient_only_with_the_api_object(
    committed, listen, user, other_user, carol, alice_post
):
    alice, bob, others = (
        listen(user_group(user.pk)),
        listen(user_group(other_user.pk)),
        listen(user_group(carol.pk)),
    )
    committed(posts.post_like, user=other_user, post=alice_post)
    events = alice.events()
    assert len(events) == 1
    event = events[0]
    assert event["type"] == "notification.created" and event["unread_count"] == 1
    listed = Api(user, "token").get("/notifications").json()["items"]
    assert event["notification"] == listed[0]
    assert bob.events() == [] and others.events() == []


@pytest.mark.django_db
def test_a_regrouped_notification_is_pushed_again_with_the_count(
    committed, listen, user, other_user, carol, alice_post
):
    alice = listen(user_group(user.pk))
    committed(posts.post_like, user=other_user, post=alice_post)
    committed(posts.post_like, user=carol, post=alice_post)
    events = alice.events()
    assert [e["unread_count"] for e in events] == [1, 1]
    assert events[0]["notification"]["id"] == events[1]["notification"]["id"]
    assert events[1]["notification"]["text"] == "carol and bob liked your photo"


@pytest.mark.django_db
def test_no_event_for_what_the_recipient_may_not_see(committed, listen, user, other_user):
    # bob mentions alice in a comment on a followers-only post she may not see
    post = publish_post(other_user, visibility="followers")
    alice = listen(user_group(user.pk))
    committed(posts.comment_create, author=other_user, post=post, content="@alice psst")
    assert alice.events() == []


@pytest.mark.django_db(transaction=True)
async def test_the_socket_gets_notification_new(user, other_user, carol):
    post = await database_sync_to_async(publish_post)(user)
    alice, bob = await open_socket(user), await open_socket(other_user)
    await database_sync_to_async(posts.post_like)(user=other_user, post=post)
    frame = await next_frame(alice)
    assert set(frame) == {"type", "notification", "unread_count"}
    assert frame["type"] == "notification.new" and frame["unread_count"] == 1
    assert frame["notification"]["text"] == "bob liked your photo"
    assert frame["notification"]["target"] == {"type": "post", "id": str(post.pk)}
    assert await bob.receive_nothing(timeout=0.3)
    await alice.disconnect()
    await bob.disconnect()
