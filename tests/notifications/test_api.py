"""The notifications API exactly as API.md says, its bad input, and its query counts."""

import uuid

import pytest

from notifications.models import Notification
from notifications.services import notification_create
from posts import services as posts
from tests.accounts.conftest import Api
from tests.factories import UserFactory
from tests.notifications.conftest import publish_post

pytestmark = pytest.mark.django_db

FIELDS = {"id", "type", "actor", "target", "text", "read", "created_at"}


@pytest.fixture(params=["session", "token"])
def alice_api(request, user):
    return Api(user, request.param)


def test_list_unread_count_and_read_all(committed, alice_api, user, other_user, alice_post):
    committed(posts.post_like, user=other_user, post=alice_post)
    body = alice_api.get("/notifications").json()
    assert body["next_cursor"] is None and len(body["items"]) == 1
    item = body["items"][0]
    assert set(item) == FIELDS
    assert item["type"] == "post_like" and item["text"] == "bob liked your photo"
    assert item["target"] == {"type": "post", "id": str(alice_post.pk)}
    assert item["actor"] == {
        "id": str(other_user.pk),
        "username": "bob",
        "display_name": "Bob",
        "avatar": None,
    }
    assert item["read"] is False and item["created_at"].endswith("Z")
    assert alice_api.get("/notifications/unread-count").json() == {"count": 1}
    response = alice_api.post("/notifications/read")
    assert response.status_code == 204
    assert alice_api.get("/notifications/unread-count").json() == {"count": 0}
    assert alice_api.get("/notifications").json()["items"][0]["read"] is True


def test_read_some_by_id(alice_api, user):
    posts_ = [publish_post(user) for _ in range(2)]
    liker = UserFactory(username="ana")
    made = [
        notification_create(actor=liker, recipient=user, kind="post_like", target_id=p.pk)
        for p in posts_
    ]
    response = alice_api.post("/notifications/read", {"ids": [str(made[0].pk)]})
    assert response.status_code == 204
    assert set(Notification.objects.filter(read_at__isnull=True).values_list("pk", flat=True)) == {
        made[1].pk
    }
    assert alice_api.post("/notifications/read", {"ids": []}).status_code == 204
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"ids": ["not-a-uuid"]},
        {"ids": [str(uuid.uuid4())]},  # unknown
        {"ids": "all"},
        {"ids": [1, 2]},
        {"ids": ["x"] * 101},
    ],
)
def test_bad_read_requests_are_400_and_change_nothing(alice_api, user, other_user, body):
    post = publish_post(user)
    mine = notification_create(
        actor=other_user, recipient=user, kind="post_like", target_id=post.pk
    )
    response = alice_api.post("/notifications/read", body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"invalid", "validation_error"}
    assert Notification.objects.get(pk=mine.pk).read_at is None


def test_someone_elses_ids_look_unknown_and_nothing_changes(alice_api, user, other_user):
    theirs_post = publish_post(other_user)
    mine_post = publish_post(user)
    theirs = notification_create(
        actor=user, recipient=other_user, kind="post_like", target_id=theirs_post.pk
    )
    mine = notification_create(
        actor=other_user, recipient=user, kind="post_like", target_id=mine_post.pk
    )
    response = alice_api.post("/notifications/read", {"ids": [str(mine.pk), str(theirs.pk)]})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "ids": ["Some of these notifications do not exist."]
    }
    assert Notification.objects.filter(read_at__isnull=False).count() == 0


def test_malformed_json_is_400(alice_api):
    response = alice_api.client.post(
        "/api/v1/notifications/read", "{nope", content_type="application/json", **alice_api.headers
    )
    assert response.status_code == 400
    assert "error" in response.json()


def test_anonymous_is_401():
    client = Api(None, "session")
    assert client.get("/notifications").status_code == 401
    assert client.get("/notifications/unread-count").status_code == 401


def test_keyset_pagination_and_a_bad_cursor(alice_api, user, other_user):
    for _ in range(5):
        post = publish_post(user)
        notification_create(actor=other_user, recipient=user, kind="post_like", target_id=post.pk)
    first = alice_api.get("/notifications", {"limit": 2}).json()
    second = alice_api.get("/notifications", {"limit": 2, "cursor": first["next_cursor"]}).json()
    third = alice_api.get("/notifications", {"limit": 2, "cursor": second["next_cursor"]}).json()
    ids = [i["id"] for page in (first, second, third) for i in page["items"]]
    assert len(ids) == len(set(ids)) == 5 and third["next_cursor"] is None
    assert alice_api.get("/notifications", {"cursor": "bogus"}).status_code == 400
    assert alice_api.get("/notifications", {"limit": 0}).status_code == 400


def _fill(user, *, n):
    """n notifications of every registered target type on alice."""
    from accounts.services import circle_create, circle_invite
    from messaging.services import conversation_start
    from tests.messaging.conftest import befriend

    people = [UserFactory() for _ in range(n)]
    for person in people:
        post = publish_post(user)
        notification_create(actor=person, recipient=user, kind="post_like", target_id=post.pk)
        comment = posts.comment_create(author=user, post=post, content="mine")
        notification_create(actor=person, recipient=user, kind="comment_like", target_id=comment.pk)
        notification_create(actor=person, recipient=user, kind="follow", target_id=person.pk)
        circle = circle_create(owner=person, name=f"c {person.username}")
        circle_invite(actor=person, circle=circle, invitee=user)
        notification_create(actor=person, recipient=user, kind="circle_invite", target_id=circle.pk)
        other = UserFactory()
        befriend(person, user)
        befriend(person, other)
        conversation, _ = conversation_start(
            creator=person, usernames=[user.username, other.username], title="t"
        )
        notification_create(
            actor=person, recipient=user, kind="group_added", target_id=conversation.pk
        )


def _queries(call) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        call()
    return [q["sql"] for q in context.captured_queries]


def test_the_list_and_the_count_cost_the_same_queries_whatever_their_length(alice_api, user):
    _fill(user, n=2)
    alice_api.get("/notifications")  # a token's once-a-minute last_used_at write, done
    few = _queries(lambda: alice_api.get("/notifications"))
    few_count = _queries(lambda: alice_api.get("/notifications/unread-count"))
    _fill(user, n=6)
    body = alice_api.get("/notifications").json()
    assert len(body["items"]) == 20 and body["next_cursor"]
    many = _queries(lambda: alice_api.get("/notifications"))
    many_count = _queries(lambda: alice_api.get("/notifications/unread-count"))
    assert len(many) == len(few) and len(many_count) == len(few_count)
    ours = [sql for sql in many if "notifications_" in sql or 'FROM "posts_' in sql]
    # the page, its actors, and one per target type on it (post, comment, user, circle,
    # conversation): 7, however many rows
    assert len(ours) <= 7, "\n\n".join(many)
    # anything unread at all (the unread index alone), then the count by the rule
    assert len([sql for sql in many_count if "notifications_" in sql]) == 2
    assert alice_api.get("/notifications/unread-count").json() == {"count": 6 * 4 + 2 * 4 + 1}


def test_with_nothing_unread_the_count_skips_the_rule(alice_api, user):
    _fill(user, n=1)
    assert alice_api.get("/notifications/unread-count").json()["count"] > 0
    assert alice_api.post("/notifications/read").status_code == 204
    alice_api.get("/notifications/unread-count")  # a token's once-a-minute write, done
    queries = _queries(lambda: alice_api.get("/notifications/unread-count"))
    assert alice_api.get("/notifications/unread-count").json() == {"count": 0}
    ours = [sql for sql in queries if "notifications_" in sql]
    assert len(ours) == 1 and "EXISTS" not in ours[0], ours
