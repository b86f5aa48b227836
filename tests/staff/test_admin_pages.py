"""Every model in the admin: each list page loads, searches and filters with a number of
queries that does not grow with its rows; chat pages never show what was said."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from messaging.models import Conversation, Message, Participant, Reaction
from tests.staff.conftest import SECRET, build_world

pytestmark = pytest.mark.django_db

APPS = ("accounts", "posts", "stories", "albums", "notifications", "media", "messaging", "staff")


def registered():
    return sorted(
        (model._meta.app_label, model._meta.model_name)
        for model in admin.site._registry
        if model._meta.app_label in APPS
    )


def changelist_queries(client, app, model, params=None) -> int:
    url = reverse(f"admin:{app}_{model}_changelist")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200, (app, model, response.status_code)
    return len(captured)


def test_every_model_of_every_app_is_in_the_admin():
    names = set(registered())
    expected = {
        ("accounts", m) for m in
        ("user", "apitoken", "follow", "followrequest", "block", "circle", "circlemembership",
         "circleinvite")
    } | {
        ("posts", m) for m in
        ("post", "postimage", "like", "comment", "commentlike", "bookmark", "hashtag",
         "posthashtag", "mention")
    } | {("stories", "story"), ("stories", "storyview")} | {
        ("albums", m) for m in ("album", "albumitem", "albumlike")
    } | {("notifications", "notification"), ("notifications", "notificationactor")} | {
        ("media", "image")
    } | {
        ("messaging", m) for m in ("conversation", "participant", "message", "reaction")
    } | {("staff", "auditentry")}  # fmt: skip
    assert expected <= names


def test_changelists_cost_the_same_queries_for_one_row_or_many(client_for, superuser):
    client = client_for(superuser)
    build_world("1")
    one = {name: changelist_queries(client, *name) for name in registered()}
    for tag in ("2", "3", "4"):
        build_world(tag)
    many = {name: changelist_queries(client, *name) for name in registered()}
    assert many == one


@pytest.mark.parametrize(
    "app, model, search, found, list_filter",
    [
        ("posts", "post", "alice1", "post", {"status__exact": "published"}),
        ("messaging", "message", "alice1", "message", {"story_reply__exact": "0"}),
        ("accounts", "user", "alice1", "alice", {"is_active__exact": "1"}),
        ("albums", "album", "alice1", "album", {"kind__exact": "personal"}),
    ],
)
def test_search_and_filters(client_for, superuser, world, app, model, search, found, list_filter):
    client = client_for(superuser)
    build_world("2")
    url = reverse(f"admin:{app}_{model}_changelist")
    hit = world[found]
    page = client.get(url, {"q": search}).content.decode()
    assert str(hit.pk) in page or getattr(hit, "username", "-") in page
    assert "alice2" not in page and "1 result" in page
    filtered = client.get(url, list_filter)
    assert filtered.status_code == 200
    assert "alice1" in filtered.content.decode() and "alice2" in filtered.content.decode()


def chat_pages(world) -> list[str]:
    pages = []
    for model, obj in (
        (Conversation, world["conversation"]),
        (Message, world["message"]),
        (Participant, Participant.objects.filter(conversation=world["conversation"]).first()),
        (Reaction, Reaction.objects.first()),
    ):
        name = model._meta.model_name
        pages += [
            reverse(f"admin:messaging_{name}_changelist"),
            reverse(f"admin:messaging_{name}_change", args=[obj.pk]),
            reverse(f"admin:messaging_{name}_history", args=[obj.pk]),
        ]
    pages.append(reverse("admin:media_image_change", args=[world["photo"].pk]))
    return pages


def test_no_admin_page_shows_what_was_said_in_a_chat(client_for, superuser, world):
    client = client_for(superuser)
    for url in chat_pages(world):
        response = client.get(url)
        assert response.status_code == 200, url
        assert SECRET not in response.content.decode(), url
    # the pages say who, how much and when
    page = client.get(reverse("admin:messaging_message_changelist")).content.decode()
    assert "alice1" in page and str(world["conversation"].pk) in page
    # searching by the text finds nothing: the text is not searchable
    found = client.get(reverse("admin:messaging_message_changelist"), {"q": SECRET})
    assert str(world["message"].pk) not in found.content.decode()
    # deleting the sender lists their messages by number, never by text
    deletion = client.get(reverse("admin:accounts_user_delete", args=[world["alice"].pk]))
    assert deletion.status_code == 200 and SECRET not in deletion.content.decode()


def test_chat_is_read_only_in_the_admin(client_for, superuser, world):
    client = client_for(superuser)
    message = world["message"]
    assert client.get(reverse("admin:messaging_message_add")).status_code == 403
    assert (
        client.post(
            reverse("admin:messaging_message_delete", args=[message.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert Message.objects.filter(pk=message.pk).exists()
