"""The messaging pages without JavaScript: the inbox, a conversation, sending by form,
starting and deleting conversations, reactions — escaped, private, and in a constant
number of queries."""

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from circles import ratelimits
from messaging import selectors, services
from messaging.models import Conversation, Message, Reaction
from tests.factories import UserFactory
from tests.messaging.conftest import befriend, send, start
from tests.posts.conftest import jpeg_bytes

pytestmark = pytest.mark.django_db

INBOX = "/direct/"


def page_of(conversation) -> str:
    return reverse("messaging:conversation", args=[conversation.pk])


def client_id_on(html: str) -> str:
    return re.search(r'name="client_id" value="([^"]+)"', html).group(1)


def test_pages_need_a_signed_in_person(client, direct):
    for url in (INBOX, page_of(direct), "/direct/new/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_inbox_lists_conversations_with_last_message_and_unread_count(
    client_for, user, other_user, direct
):
    send(other_user, direct, "<script>alert(1)</script>")
    html = client_for(user).get(INBOX).content.decode()
    assert "Bob" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert re.search(r'data-unread>\s*1<span class="visually-hidden"> unread', html)
    assert 'data-presence="' in html


def test_inbox_is_empty_for_strangers(client_for, outsider, direct, user):
    send(user, direct, "private words")
    html = client_for(outsider).get(INBOX).content.decode()
    assert "private words" not in html and "No conversations yet" in html


def test_conversation_page_shows_history_escaped_and_marks_it_read(
    client_for, user, other_user, direct
):
    send(user, direct, "mine")
    send(other_user, direct, 'bold <b>move</b> & "quotes"\nsecond line')
    response = client_for(user).get(page_of(direct))
    assert response.status_code == 200
    html = response.content.decode()
    assert "bold &lt;b&gt;move&lt;/b&gt; &amp; &quot;quotes&quot;<br>second line" in html
    assert '<script id="chat-data" type="application/json">' in html
    listed = selectors.conversation_list_for_inbox(viewer=user).items[0]
    assert listed.unread_count == 0  # seeing the page is reading it


def test_seen_receipt_under_my_newest_message(client_for, user, other_user, carol, direct, group):
    message = send(user, direct, "did you see this?")
    html = client_for(user).get(page_of(direct)).content.decode()
    assert re.search(r"data-seen hidden>\s*</p>", html)
    services.conversation_mark_read(
        user=other_user, conversation_id=direct.pk, message_id=message.pk
    )
    html = client_for(user).get(page_of(direct)).content.decode()
    assert re.search(r"data-seen>Seen</p>", html)

    latest = send(user, group, "group news")
    services.conversation_mark_read(user=carol, conversation_id=group.pk, message_id=latest.pk)
    html = client_for(user).get(page_of(group)).content.decode()
    assert re.search(r"data-seen>Seen by 1</p>", html)


def test_outsiders_get_404(client_for, outsider, direct):
    client = client_for(outsider)
    assert client.get(page_of(direct)).status_code == 404
    assert client.post(page_of(direct), {"content": "hi", "client_id": "x"}).status_code == 404
    assert client.post(reverse("messaging:delete", args=[direct.pk])).status_code == 404
    assert client.get("/direct/not-a-uuid/").status_code == 404


def test_sending_by_form_without_javascript(client_for, user, direct):
    client = client_for(user)
    form_page = client.get(page_of(direct)).content.decode()
    client_id = client_id_on(form_page)
    response = client.post(page_of(direct), {"content": "by form", "client_id": client_id})
    assert response.status_code == 302 and response["Location"] == page_of(direct) + "#end"
    again = client.post(page_of(direct), {"content": "by form", "client_id": client_id})
    assert again.status_code == 302  # a double submit: still one message
    assert list(Message.objects.values_list("content", flat=True)) == ["by form"]
    assert client_id_on(client.get(page_of(direct)).content.decode()) != client_id


def test_sending_a_photo_by_form(client_for, user, direct, media_storage):
    client = client_for(user)
    photo = SimpleUploadedFile("p.jpg", jpeg_bytes(), content_type="image/jpeg")
    response = client.post(page_of(direct), {"content": "", "client_id": "ph-1", "image": photo})
    assert response.status_code == 302
    message = Message.objects.get()
    assert message.image is not None and message.image.purpose == "message"
    assert "Photo processing…" in client.get(page_of(direct)).content.decode()
    bad = SimpleUploadedFile("x.jpg", b"not a photo", content_type="image/jpeg")
    refused = client.post(page_of(direct), {"client_id": "ph-2", "image": bad})
    assert refused.status_code == 415 and Message.objects.count() == 1


def test_refused_form_sends_show_why(client_for, user, direct, monkeypatch):
    client = client_for(user)
    empty = client.post(page_of(direct), {"content": "  ", "client_id": "c1"})
    assert empty.status_code == 400
    assert "Write a message or attach a photo." in empty.content.decode()
    too_long = client.post(page_of(direct), {"content": "x" * 4001, "client_id": "c2"})
    assert too_long.status_code == 400
    # hourly: a per-minute window could turn over between the sends
    monkeypatch.setitem(ratelimits.RATES, "message", "1/h")
    assert client.post(page_of(direct), {"content": "a", "client_id": "c3"}).status_code == 302
    limited = client.post(page_of(direct), {"content": "b", "client_id": "c4"})
    assert limited.status_code == 429 and limited["Retry-After"]
    assert "sending too fast" in limited.content.decode()
    assert Message.objects.count() == 1


def test_start_a_conversation_from_the_form(client_for, user, other_user, carol):
    befriend(user, other_user)
    client = client_for(user)
    page = client.get("/direct/new/").content.decode()
    assert "@bob" in page and "@carol" not in page  # suggestions follow the rule
    response = client.post("/direct/new/", {"usernames": "@bob"})
    conversation = Conversation.objects.get()
    assert response.status_code == 302 and response["Location"] == page_of(conversation)
    assert client.post("/direct/new/", {"usernames": "bob"})["Location"] == page_of(conversation)
    refused = client.post("/direct/new/", {"usernames": "carol"})
    assert refused.status_code == 403
    assert "once you follow each other or share a circle" in refused.content.decode()
    unknown = client.post("/direct/new/", {"usernames": "ghost_user"})
    assert unknown.status_code == 404 and "couldn&#x27;t find" in unknown.content.decode()
    assert client.post("/direct/new/", {"usernames": ""}).status_code == 400
    assert Conversation.objects.count() == 1


def test_delete_for_me(client_for, user, other_user, direct):
    send(user, direct, "gone for me")
    response = client_for(user).post(reverse("messaging:delete", args=[direct.pk]))
    assert response.status_code == 302 and response["Location"] == INBOX
    assert "gone for me" not in client_for(user).get(page_of(direct)).content.decode()
    assert "gone for me" in client_for(other_user).get(page_of(direct)).content.decode()


def test_react_by_form(client_for, user, other_user, direct):
    message = send(user, direct)
    client = client_for(other_user)
    url = reverse("messaging:react", args=[message.pk])
    response = client.post(url, {"emoji": "🔥"})
    assert response.status_code == 302 and response["Location"].endswith(f"#m-{message.pk}")
    assert Reaction.objects.get().emoji == "🔥"
    assert "🔥 1" in client.get(page_of(direct)).content.decode()
    assert client.post(url, {"emoji": "🔥", "remove": "on"}).status_code == 302
    assert not Reaction.objects.exists()
    assert client.post(url, {"emoji": "nope"}).status_code == 400
    assert client_for(UserFactory()).post(url, {"emoji": "🔥"}).status_code == 404


def test_older_messages_page(client_for, user, direct):
    for n in range(35):
        send(user, direct, f"message number {n}")
    client = client_for(user)
    html = client.get(page_of(direct)).content.decode()
    assert "message number 34" in html and "message number 4<" not in html
    cursor = re.search(r'data-older="([^"]+)"', html).group(1)
    older = client.get(page_of(direct), {"before": cursor}).content.decode()
    assert "message number 4<" in older and "message number 34" not in older
    assert client.get(page_of(direct), {"before": "forged"}).status_code == 400
    # the script takes over from the newest seq, not the old page's: a reconnect must not
    # catch up on the newer messages into this view
    data = re.search(r'<script id="chat-data" type="application/json">(.+?)</script>', older)
    assert json.loads(data.group(1))["last_seq"] == 35


# --- queries: constant in the number of things shown ----------------------------------


def _inbox_world(user, n):
    for _ in range(n):
        person = UserFactory()
        befriend(user, person)
        conversation = start(user, person)
        message = send(person, conversation, "hello")
        services.reaction_add(user=user, message_id=message.pk, emoji="❤️")


@pytest.mark.parametrize("conversations", [2, 15])
def test_inbox_queries_are_constant(client_for, user, conversations, django_assert_max_num_queries):
    _inbox_world(user, conversations)
    client = client_for(user)
    client.get(INBOX)  # warm the session cache
    with django_assert_max_num_queries(6):
        response = client.get(INBOX)
    assert response.content.decode().count('class="inbox-item') == conversations


@pytest.mark.parametrize("messages", [3, 30])
def test_conversation_page_queries_are_constant(
    client_for, user, other_user, carol, group, messages, django_assert_max_num_queries
):
    for n in range(messages):
        message = send(other_user if n % 2 else carol, group, f"m{n}")
        services.reaction_add(user=user, message_id=message.pk, emoji="👍")
    client = client_for(user)
    client.get(page_of(group))  # marks it read and warms the session cache
    send(carol, group, "one more")  # so this visit marks it read again
    with django_assert_max_num_queries(10):
        response = client.get(page_of(group))
    assert response.status_code == 200
    assert response.content.decode().count('class="msg') >= min(messages, 30)


def test_pages_and_form_sending_work_with_redis_down(client, user, direct, settings, redis_down):
    """Production cache and sessions with Redis unreachable, the channel layer too."""
    from channels.layers import channel_layers

    from tests.conftest import DEAD_REDIS
    from tests.factories import DEFAULT_PASSWORD

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": DEAD_REDIS, "socket_connect_timeout": 0.5}]},
        }
    }
    channel_layers.backends.clear()
    try:
        login = {"username": user.username, "password": DEFAULT_PASSWORD}
        assert client.post("/accounts/login/", login).status_code == 302
        assert client.get(INBOX).status_code == 200
        page = client.get(page_of(direct))
        assert page.status_code == 200
        sent = client.post(
            page_of(direct),
            {
                "content": "sent while Redis sleeps",
                "client_id": client_id_on(page.content.decode()),
            },
        )
        assert sent.status_code == 302
    finally:
        channel_layers.backends.clear()
    assert Message.objects.get().content == "sent while Redis sleeps"
