"""Contract of the Messaging endpoints of API.md: shapes, status codes, error bodies, and
that nobody outside a conversation learns anything about it (404)."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Block, Follow
from circles import ratelimits
from circles.openapi import BODY_NOT_JSON
from media.services import image_process
from messaging.models import Conversation, Message, Participant, Reaction
from tests.messaging.conftest import befriend, error_of, send, start
from tests.posts.conftest import jpeg_bytes

pytestmark = pytest.mark.django_db

CONVERSATION_FIELDS = {
    "id", "kind", "title", "circle_id", "participants", "last_message", "unread_count",
    "updated_at",
}  # fmt: skip
MESSAGE_FIELDS = {
    "id", "conversation_id", "sender", "client_id", "content", "image", "reactions",
    "created_at", "seq",
    "story",  # beyond API.md: the story a message replies to (README), null otherwise
}  # fmt: skip


def summary(user):
    return {
        "id": str(user.pk),
        "username": user.username,
        "display_name": user.display_name,
        "avatar": None,
    }


# --- POST /conversations ----------------------------------------------------------------


@pytest.mark.parametrize("mode", ["token", "session"])
def test_start_a_direct_conversation_then_get_the_same_one(api_as, friends, user, other_user, mode):
    api = api_as(user, mode)
    created = api.post("/conversations", {"usernames": ["bob"]})
    assert created.status_code == 201, created.content
    body = created.json()
    assert set(body) == CONVERSATION_FIELDS
    assert body["kind"] == "direct" and body["title"] == "Bob" and body["circle_id"] is None
    assert body["participants"] == [summary(user), summary(other_user)]
    assert body["last_message"] is None and body["unread_count"] == 0
    assert body["updated_at"].endswith("Z")

    again = api.post("/conversations", {"usernames": ["@Bob"]})
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    theirs = api_as(other_user).post("/conversations", {"usernames": ["alice"]})
    assert theirs.status_code == 200 and theirs.json()["id"] == body["id"]
    assert Conversation.objects.count() == 1


def test_start_a_group(api_as, user, other_user, carol):
    befriend(user, other_user)
    befriend(user, carol)
    response = api_as(user).post(
        "/conversations", {"usernames": ["bob", "carol"], "title": " Weekend "}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "group" and body["title"] == "Weekend"
    assert {p["username"] for p in body["participants"]} == {"alice", "bob", "carol"}
    untitled = api_as(user).post("/conversations", {"usernames": ["bob", "carol"]}).json()
    assert untitled["id"] != body["id"]  # groups are never reused
    assert untitled["title"] == "Bob, Carol"


def test_a_shared_circle_is_enough_to_start(api_as, circle_chat, user, other_user):
    Follow.objects.all().delete()
    response = api_as(other_user).post("/conversations", {"usernames": ["alice"]})
    assert response.status_code == 201


def test_start_refusals(api_as, user, other_user, carol, outsider):
    api = api_as(user)
    Follow.objects.create(follower=user, following=other_user)  # one way only
    refused = api.post("/conversations", {"usernames": ["bob"]})
    assert refused.status_code == 403
    assert error_of(refused) == {
        "code": "forbidden",
        "message": "You can message @bob once you follow each other or share a circle.",
    }
    assert api.post("/conversations", {"usernames": ["nobody_here"]}).status_code == 404
    Block.objects.create(blocker=outsider, blocked=user)
    befriend(user, outsider)
    assert api.post("/conversations", {"usernames": ["mallory"]}).status_code == 404
    befriend(user, carol)
    Block.objects.create(blocker=user, blocked=carol)
    mine = api.post("/conversations", {"usernames": ["carol"]})
    assert mine.status_code == 403 and "Unblock" in error_of(mine)["message"]

    empty = api.post("/conversations", {"usernames": []})
    assert empty.status_code == 400 and "usernames" in error_of(empty)["fields"]
    myself = api.post("/conversations", {"usernames": ["alice"]})
    assert myself.status_code == 400
    assert error_of(myself)["fields"] == {"usernames": ["Name at least one other person."]}
    assert api.post("/conversations", {"usernames": "bob"}).status_code == 400
    assert api.post("/conversations", {"usernames": ["bob"], "title": "t" * 101}).status_code == 400
    assert not Conversation.objects.exists()


def test_a_group_of_people_who_blocked_each_other_is_refused(api_as, user, other_user, carol):
    befriend(user, other_user)
    befriend(user, carol)
    Block.objects.create(blocker=other_user, blocked=carol)
    response = api_as(user).post("/conversations", {"usernames": ["bob", "carol"]})
    assert response.status_code == 400
    assert not Conversation.objects.exists()


def test_session_writes_need_the_csrf_header(api_as, friends, user):
    api = api_as(user, "session")
    api.headers.pop("HTTP_X_CSRFTOKEN")
    response = api.post("/conversations", {"usernames": ["bob"]})
    assert response.status_code == 403 and error_of(response)["code"] == "csrf_failed"


def test_anonymous_gets_401(client):
    assert client.get("/api/v1/conversations").status_code == 401
    response = client.post(
        f"/api/v1/conversations/{uuid.uuid4()}/messages", {}, content_type="application/json"
    )
    assert response.status_code == 401


# --- GET /conversations -----------------------------------------------------------------


def test_inbox_lists_latest_activity_first_with_unread_counts(
    api_as, user, other_user, carol, direct, group
):
    send(other_user, direct, "one")
    send(other_user, direct, "two")
    send(carol, group, "newest")
    send(user, group, "my reply")
    body = api_as(user).get("/conversations").json()
    assert body["next_cursor"] is None
    assert [c["id"] for c in body["items"]] == [str(group.pk), str(direct.pk)]
    group_item, direct_item = body["items"]
    assert group_item["unread_count"] == 0  # replying counts as reading
    assert group_item["last_message"]["content"] == "my reply"
    assert set(group_item["last_message"]) == MESSAGE_FIELDS
    assert direct_item["unread_count"] == 2
    assert direct_item["last_message"]["content"] == "two"
    bob_view = api_as(other_user).get("/conversations").json()["items"]
    assert [c["unread_count"] for c in bob_view] == [2, 0]  # group: carol and alice wrote


def test_inbox_pages(api_as, user, other_user, carol, outsider):
    for person in (other_user, carol, outsider):
        befriend(user, person)
        start(user, person)
    api = api_as(user)
    first = api.get("/conversations", {"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = api.get("/conversations", {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert {c["title"] for c in first["items"] + rest["items"]} == {"Bob", "Carol", "Mallory"}
    bad = api.get("/conversations", {"cursor": "forged"})
    assert bad.status_code == 400 and error_of(bad)["code"] == "invalid_cursor"
    assert api.get("/conversations", {"limit": 51}).status_code == 400


def test_inbox_shows_nothing_of_others_conversations(api_as, outsider, direct, user):
    send(user, direct)
    assert api_as(outsider).get("/conversations").json() == {"items": [], "next_cursor": None}


# --- GET /conversations/{id}/messages ------------------------------------------------------


def test_history_is_newest_first_and_pages_on_seq(api_as, user, other_user, direct):
    for n in range(5):
        send(user if n % 2 else other_user, direct, f"m{n}")
    api = api_as(user)
    first = api.get(f"/conversations/{direct.pk}/messages", {"limit": 3}).json()
    assert [m["seq"] for m in first["items"]] == [5, 4, 3]
    assert set(first["items"][0]) == MESSAGE_FIELDS
    rest = api.get(
        f"/conversations/{direct.pk}/messages", {"limit": 3, "cursor": first["next_cursor"]}
    ).json()
    assert [m["seq"] for m in rest["items"]] == [2, 1] and rest["next_cursor"] is None


def test_history_after_seq_is_what_a_reconnecting_client_missed(api_as, user, direct):
    for n in range(4):
        send(user, direct, f"m{n}")
    body = api_as(user).get(f"/conversations/{direct.pk}/messages", {"after_seq": 2}).json()
    assert [m["seq"] for m in body["items"]] == [4, 3]
    none = api_as(user).get(f"/conversations/{direct.pk}/messages", {"after_seq": 4}).json()
    assert none == {"items": [], "next_cursor": None}
    bad = api_as(user).get(f"/conversations/{direct.pk}/messages", {"after_seq": -1})
    assert bad.status_code == 400


def test_outsiders_get_404_everywhere(api_as, outsider, user, direct):
    message = send(user, direct)
    api = api_as(outsider)
    base = f"/conversations/{direct.pk}"
    for response in (
        api.get(base),
        api.get(f"{base}/messages"),
        api.post(f"{base}/messages", {"client_id": "x", "content": "hi"}),
        api.post(f"{base}/read", {"message_id": str(message.pk)}),
        api.delete(base),
        api.post(f"/messages/{message.pk}/reactions", {"emoji": "🔥"}),
        api.delete(f"/messages/{message.pk}/reactions/🔥"),
        api.get("/conversations/not-a-uuid/messages"),
        api.post(f"/messages/{uuid.uuid4()}/reactions", {"emoji": "🔥"}),
    ):
        assert response.status_code == 404, response.content
        assert error_of(response) == {"code": "not_found", "message": "Not found."}
    assert Message.objects.count() == 1 and not Reaction.objects.exists()


def test_a_block_hides_the_direct_conversation_from_both(api_as, user, other_user, direct):
    send(user, direct)
    Block.objects.create(blocker=user, blocked=other_user)
    for person in (user, other_user):
        api = api_as(person)
        assert api.get("/conversations").json()["items"] == []
        assert api.get(f"/conversations/{direct.pk}/messages").status_code == 404
        sent = api.post(f"/conversations/{direct.pk}/messages", {"client_id": "b", "content": "x"})
        assert sent.status_code == 404
    Block.objects.all().delete()  # unblocking brings it back, history intact
    assert len(api_as(user).get(f"/conversations/{direct.pk}/messages").json()["items"]) == 1


# --- POST /conversations/{id}/messages ---------------------------------------------------


@pytest.mark.parametrize("mode", ["token", "session"])
def test_send_then_resend_with_the_same_client_id(
    api_as, user, other_user, direct, mode, django_capture_on_commit_callbacks
):
    api = api_as(user, mode)
    path = f"/conversations/{direct.pk}/messages"
    with django_capture_on_commit_callbacks() as callbacks:
        created = api.post(path, {"client_id": "abc-1", "content": "  Hello <3  "})
    assert created.status_code == 201, created.content
    body = created.json()
    assert set(body) == MESSAGE_FIELDS
    assert body["content"] == "Hello <3" and body["client_id"] == "abc-1" and body["seq"] == 1
    assert body["sender"] == summary(user) and body["conversation_id"] == str(direct.pk)
    assert body["reactions"] == [] and body["image"] is None
    assert len(callbacks) == 1  # message.created, after commit

    with django_capture_on_commit_callbacks() as callbacks:
        repeat = api.post(path, {"client_id": "abc-1", "content": "Hello <3 (again)"})
    assert repeat.status_code == 200 and repeat.json() == body
    assert callbacks == []  # nothing new is published
    assert Message.objects.count() == 1


def test_a_client_id_used_in_another_conversation_is_a_conflict(api_as, user, direct, group):
    api = api_as(user)
    api.post(f"/conversations/{direct.pk}/messages", {"client_id": "k1", "content": "a"})
    response = api.post(f"/conversations/{group.pk}/messages", {"client_id": "k1", "content": "b"})
    assert response.status_code == 409
    assert error_of(response)["code"] == "client_id_reused"


def test_bad_messages_are_refused_with_reasons(api_as, user, direct):
    api = api_as(user)
    path = f"/conversations/{direct.pk}/messages"
    cases = [
        ({"client_id": "a", "content": "x" * 4001}, "content"),
        ({"client_id": "a", "content": "   "}, "content"),
        ({"client_id": "a"}, "content"),
        ({"content": "hi"}, "client_id"),
        ({"client_id": "", "content": "hi"}, "client_id"),
        ({"client_id": "has spaces", "content": "hi"}, "client_id"),
        ({"client_id": "a" * 65, "content": "hi"}, "client_id"),
        ({"client_id": 5, "content": "hi"}, "client_id"),
        ({"client_id": "a", "content": ["no"]}, "content"),
    ]
    for payload, field in cases:
        response = api.post(path, payload)
        assert response.status_code == 400, (payload, response.content)
        assert field in error_of(response)["fields"], (payload, response.content)
    too_long = api.post(path, {"client_id": "a", "content": "x" * 4001})
    assert error_of(too_long)["fields"]["content"] == ["A message can be at most 4,000 characters."]
    not_json = api.client.post(
        f"/api/v1{path}", "{oops", content_type="application/json", **api.headers
    )
    # the one body check (circles.openapi) answers it, as on every endpoint
    assert not_json.status_code == 400 and error_of(not_json)["message"] == BODY_NOT_JSON
    assert api.post(path, ["a", "list"]).status_code == 400
    assert not Message.objects.exists()
    ok = api.post(path, {"client_id": "a", "content": "x" * 4000})
    assert ok.status_code == 201


def test_sending_is_rate_limited_per_person(api_as, user, direct, monkeypatch):
    # hourly: a per-minute window could turn over between the sends
    monkeypatch.setitem(ratelimits.RATES, "message", "2/h")
    api = api_as(user)
    path = f"/conversations/{direct.pk}/messages"
    statuses = [
        api.post(path, {"client_id": f"r{n}", "content": "hi"}).status_code for n in range(3)
    ]
    assert statuses == [201, 201, 429]
    limited = api.post(path, {"client_id": "r9", "content": "hi"})
    assert error_of(limited)["code"] == "rate_limited" and int(limited["Retry-After"]) > 0
    # a resend of a stored message is not a new message and is not limited
    assert api.post(path, {"client_id": "r0", "content": "hi"}).status_code == 200
    assert Message.objects.count() == 2


def test_a_photo_message_goes_through_the_pipeline(
    api_as, user, other_user, direct, media_storage, django_capture_on_commit_callbacks
):
    api = api_as(user)
    photo = SimpleUploadedFile("p.jpg", jpeg_bytes(), content_type="image/jpeg")
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.upload(
            f"/conversations/{direct.pk}/messages",
            {"client_id": "photo-1", "content": "look", "image": photo},
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["content"] == "look"
    assert body["image"]["status"] == "processing" and body["image"]["renditions"] is None
    assert len(callbacks) == 2  # the processing task and message.created
    image_process(image_id=body["image"]["id"])
    listed = api_as(other_user).get(f"/conversations/{direct.pk}/messages").json()["items"][0]
    assert listed["image"]["status"] == "ready"
    assert set(listed["image"]["renditions"]) == {"thumbnail", "small", "medium", "large"}
    photo_only = api.upload(
        f"/conversations/{direct.pk}/messages",
        {"client_id": "photo-2", "image": SimpleUploadedFile("q.jpg", jpeg_bytes())},
    )
    assert photo_only.status_code == 201 and photo_only.json()["content"] == ""


def test_a_file_that_is_not_a_photo_is_refused(api_as, user, direct, media_storage):
    response = api_as(user).upload(
        f"/conversations/{direct.pk}/messages",
        {"client_id": "x", "image": SimpleUploadedFile("a.jpg", b"not an image at all")},
    )
    assert response.status_code == 415
    assert not Message.objects.exists()


def test_sending_still_stores_when_redis_is_down(
    api_as, user, direct, settings, redis_down, django_capture_on_commit_callbacks
):
    from channels.layers import channel_layers

    from tests.conftest import DEAD_REDIS as dead

    api = api_as(user)
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [dead]}}
    }
    channel_layers.backends.clear()
    try:
        # the publish after commit runs (and fails quietly) inside the request
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = api.post(
                f"/conversations/{direct.pk}/messages",
                {"client_id": "down-1", "content": "still here"},
            )
    finally:
        channel_layers.backends.clear()
    assert response.status_code == 201, response.content
    assert len(callbacks) == 1
    assert Message.objects.get().content == "still here"


# --- read, delete, reactions ---------------------------------------------------------------


def test_mark_read(api_as, user, other_user, direct, group):
    first, second = send(other_user, direct, "1"), send(other_user, direct, "2")
    api = api_as(user)
    path = f"/conversations/{direct.pk}/read"
    assert api.post(path, {"message_id": str(first.pk)}).status_code == 204
    assert api.get("/conversations").json()["items"][0]["unread_count"] == 1
    assert api.post(path, {"message_id": str(second.pk)}).status_code == 204
    assert api.post(path, {"message_id": str(first.pk)}).status_code == 204  # never back
    me = Participant.objects.get(conversation=direct, user=user)
    assert me.last_read_seq == 2 and me.last_read_message_id == second.pk
    other = send(user, group)
    assert api.post(path, {"message_id": str(other.pk)}).status_code == 404
    assert api.post(path, {"message_id": "nope"}).status_code == 404
    assert api.post(path, {}).status_code == 400


def test_delete_hides_history_for_me_only(api_as, user, other_user, direct):
    send(user, direct, "old")
    api = api_as(user)
    assert api.delete(f"/conversations/{direct.pk}").status_code == 204
    assert api.get("/conversations").json()["items"] == []
    assert api.get(f"/conversations/{direct.pk}/messages").json()["items"] == []
    bob = api_as(other_user)
    assert [
        m["content"] for m in bob.get(f"/conversations/{direct.pk}/messages").json()["items"]
    ] == ["old"]
    send(other_user, direct, "new")  # a newer message brings it back, without the old ones
    listed = api.get("/conversations").json()["items"]
    assert [c["id"] for c in listed] == [str(direct.pk)] and listed[0]["unread_count"] == 1
    contents = [
        m["content"] for m in api.get(f"/conversations/{direct.pk}/messages").json()["items"]
    ]
    assert contents == ["new"]
    again = api.post("/conversations", {"usernames": ["bob"]})
    assert again.status_code == 200 and again.json()["last_message"]["content"] == "new"


def test_reactions(api_as, user, other_user, direct):
    message = send(user, direct)
    alice, bob = api_as(user), api_as(other_user)
    path = f"/messages/{message.pk}/reactions"
    response = bob.post(path, {"emoji": "❤️"})
    assert response.status_code == 200
    assert response.json() == {
        "message_id": str(message.pk),
        "reactions": [{"emoji": "❤️", "count": 1, "mine": True}],
    }
    assert bob.post(path, {"emoji": "❤️"}).json()["reactions"][0]["count"] == 1  # one per person
    both = alice.post(path, {"emoji": "❤️"}).json()["reactions"]
    assert both == [{"emoji": "❤️", "count": 2, "mine": True}]
    listed = alice.get(f"/conversations/{direct.pk}/messages").json()["items"][0]["reactions"]
    assert listed == [{"emoji": "❤️", "count": 2, "mine": True}]
    for bad in ("", "heart", "<b>", "❤️" * 9, "a❤️"):
        refused = bob.post(path, {"emoji": bad})
        assert refused.status_code == 400 and "emoji" in error_of(refused)["fields"]
    assert bob.delete(f"{path}/❤️").status_code == 204
    assert bob.delete(f"{path}/❤️").status_code == 204  # nothing left to take back is fine
    listed = bob.get(f"/conversations/{direct.pk}/messages").json()["items"][0]["reactions"]
    assert listed == [{"emoji": "❤️", "count": 1, "mine": False}]


def test_reactions_per_person_are_capped(api_as, user, direct):
    message = send(user, direct)
    api = api_as(user)
    emojis = ["😀", "😁", "😂", "🤣", "😃", "😄", "😅", "😆", "😉", "😊", "😋"]
    statuses = [
        api.post(f"/messages/{message.pk}/reactions", {"emoji": e}).status_code for e in emojis
    ]
    assert statuses == [200] * 10 + [400]


def test_openapi_describes_every_messaging_endpoint(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    expected = {
        "/api/v1/conversations": {"get", "post"},
        "/api/v1/conversations/{conversation_id}": {"get", "delete"},
        "/api/v1/conversations/{conversation_id}/messages": {"get", "post"},
        "/api/v1/conversations/{conversation_id}/read": {"post"},
        "/api/v1/messages/{message_id}/reactions": {"post"},
        "/api/v1/messages/{message_id}/reactions/{emoji}": {"delete"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
    send_body = paths["/api/v1/conversations/{conversation_id}/messages"]["post"]["requestBody"]
    assert set(send_body["content"]) == {"application/json", "multipart/form-data"}
