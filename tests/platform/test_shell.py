"""The shell's server side: badge counts, the profile's Message button, the live comment
count, presence without Redis, and what makes the site installable (favicon, manifest,
service worker). The browser side is in tests/e2e/test_shell.py."""

import json
import os
import re
import subprocess
import sys

import pytest
from django.contrib.staticfiles import finders

from accounts.models import Block, Follow
from messaging import presence
from messaging import services as messaging
from tests.factories import CircleFactory, CircleInviteFactory, FollowRequestFactory, UserFactory
from tests.posts.conftest import make_post
from tests.servers import ROOT

pytestmark = pytest.mark.django_db


def mutual(a, b):
    Follow.objects.create(follower=a, following=b)
    Follow.objects.create(follower=b, following=a)


def badge(body: str, name: str) -> str | None:
    """The count shown on a badge, None when it is hidden."""
    match = re.search(rf'<span id="badge-{name}"([^>]*)>(\d+)<', body)
    assert match, body
    return None if " hidden" in match.group(1) else match.group(2)


def test_badges_count_unread_conversations_and_what_waits(
    client_for, user, other_user, django_capture_on_commit_callbacks
):
    FollowRequestFactory(requester=UserFactory(), target=user)
    CircleInviteFactory(invitee=user, circle=CircleFactory())
    mutual(user, other_user)
    for title in ("one", "two"):  # two conversations, one message each
        third = UserFactory()
        mutual(user, third)
        mutual(other_user, third)
        with django_capture_on_commit_callbacks(execute=True):  # the "added you" notification
            conversation, _ = messaging.conversation_start(
                creator=other_user, usernames=[user.username, third.username], title=title
            )
        messaging.message_send(
            sender=other_user, conversation_id=conversation.pk, client_id=title, content="hi"
        )
    body = client_for(user).get("/accounts/badges/").content.decode()
    assert badge(body, "messages") == "2"
    assert badge(body, "activity") == "2"  # the bell: unread notifications (added to two groups)
    assert badge(body, "requests") == "1" and badge(body, "invites") == "1"
    # the sender has nothing unread and nothing waiting: hidden badges
    body = client_for(other_user).get("/accounts/badges/").content.decode()
    assert badge(body, "messages") is None and badge(body, "activity") is None
    assert client_for(None).get("/accounts/badges/").status_code == 204


def test_badges_cost_the_same_queries_however_much_waits(
    client_for, user, django_assert_max_num_queries
):
    client = client_for(user)
    client.get("/accounts/badges/")  # warm (session, user)
    with django_assert_max_num_queries(6) as few:
        client.get("/accounts/badges/")
    for _ in range(5):
        FollowRequestFactory(requester=UserFactory(), target=user)
        CircleInviteFactory(invitee=user, circle=CircleFactory())
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/accounts/badges/")


def test_every_page_carries_the_shell(client_for, user):
    body = client_for(user).get("/explore/").content.decode()
    nav = body[body.index('<nav class="tabbar"') : body.index("</nav>")]
    for place in ("/", "/explore/", "/p/new/", "/direct/", f"/{user.username}/"):
        assert f'href="{place}"' in nav
    assert re.search(r'href="/explore/" aria-current="page"', nav)
    assert 'hx-get="/accounts/badges/?except=activity"' in body
    assert 'rel="manifest"' in body and 'name="theme-color"' in body
    assert "/static/vendor/lucide/icons.svg#house" in body
    anonymous = client_for(None).get("/accounts/login/").content.decode()
    assert 'class="tabbar"' not in anonymous and "/accounts/badges/" not in anonymous


def test_message_button_only_for_people_you_may_message(client_for, user, other_user, outsider):
    mutual(user, other_user)
    url = f"/direct/with/{other_user.username}/button/"
    response = client_for(user).get(url)
    assert response.status_code == 200
    assert f'value="{other_user.username}"' in response.content.decode()
    assert client_for(user).get(f"/direct/with/{outsider.username}/button/").status_code == 204
    assert client_for(None).get(url).status_code == 204
    Block.objects.create(blocker=other_user, blocked=user)
    assert client_for(user).get(url).status_code == 204
    profile = client_for(user).get(f"/{outsider.username}/").content.decode()
    assert f'hx-get="/direct/with/{outsider.username}/button/"' in profile


def test_a_comment_posted_with_htmx_updates_the_count(client_for, user, settings):
    settings.RATELIMIT_ENABLE = False
    post = make_post(user)
    client = client_for(user)
    for expected in ("1", "2"):
        response = client.post(
            f"/p/{post.pk}/comments/new/", {"content": "Nice"}, HTTP_HX_REQUEST="true"
        )
        body = response.content.decode()
        assert 'class="comment"' in body
        assert re.search(rf'id="comment-count"[^>]*hx-swap-oob="true">{expected}<', body)
    page = client.get(f"/p/{post.pk}/").content.decode()
    assert re.search(r'<span id="comment-count" class="muted">2</span>', page)


# --- presence without Redis ------------------------------------------------------------------


def test_presence_works_in_one_process_without_redis(settings, monkeypatch):
    settings.REDIS_URL = ""
    monkeypatch.setattr(presence, "_local", presence._LocalPresence())
    clock = [1000.0]
    monkeypatch.setattr(presence.time, "time", lambda: clock[0])
    run = presence.asyncio.run

    assert run(presence.socket_open("u1", "tab-a")) is True  # came online
    assert run(presence.socket_open("u1", "tab-b")) is False  # already online
    assert presence.online_map(["u1", "u2"]) == {"u1": True, "u2": False}
    assert run(presence.socket_close("u1", "tab-a")) is False  # another tab is open
    assert run(presence.socket_close("u1", "tab-b")) is True  # the grace period starts
    assert presence.is_online("u1")  # a reload within 3 s is not going away
    clock[0] += presence.OFFLINE_GRACE_S + 0.1
    assert presence.is_online("u1") is False
    assert run(presence.settle("u1")) is True  # announce it, once
    assert run(presence.settle("u1")) is False
    # a socket not refreshed for SOCKET_TTL_S counts as gone
    run(presence.socket_open("u2", "tab-c"))
    clock[0] += presence.SOCKET_TTL_S + 1
    assert presence.is_online("u2") is False


# --- installable ----------------------------------------------------------------------------


def test_favicon_service_worker_and_manifest(client):
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 301 and favicon["Location"] == "/static/img/favicon.ico"
    assert finders.find("img/favicon.ico")
    worker = client.get("/sw.js")
    assert worker.status_code == 200 and worker["Content-Type"] == "text/javascript"
    assert worker["Service-Worker-Allowed"] == "/" and "no-cache" in worker["Cache-Control"]
    assert b"/static/offline.html" in worker.content and finders.find("offline.html")
    with open(finders.find("manifest.webmanifest")) as file:
        manifest = json.load(file)
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes and manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        assert finders.find(icon["src"].removeprefix("/static/")), icon


@pytest.mark.slow
def test_no_broker_warning_with_the_embedded_defaults(tmp_path):
    """No REDIS_URL: Celery runs tasks in-process; kombu must not warn about a broker."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="circles.settings")
    code = (
        "import django, logging; logging.basicConfig(); django.setup();"
        "from circles.celery import app; app.connection_for_write().info();"
        "print(app.conf.task_always_eager)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
    assert "No hostname" not in result.stderr and "WARNING" not in result.stderr
