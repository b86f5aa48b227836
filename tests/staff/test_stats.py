"""The stats: numbers that match what was seeded, the queue read from the real broker,
open sockets from presence, and the page (staff only, linked from the admin index)."""

import re
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from circles.celery import app as celery_app
from media.models import Image, ImageState
from messaging import presence
from staff import stats
from tests.accounts.conftest import Api
from tests.factories import UserFactory
from tests.staff.conftest import build_world, image

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(db, superuser):
    """Two small worlds, a banned person, an old quiet account and two failed images."""
    build_world("1")
    build_world("2")
    now = timezone.now()
    old = UserFactory(username="quiet")
    User.objects.filter(pk=old.pk).update(
        date_joined=now - timedelta(days=60), last_login=now - timedelta(days=45)
    )
    User.objects.filter(username="carol2").update(is_active=False)
    owner = User.objects.get(username="alice1")
    image(owner, state=ImageState.FAILED, error="Not an image.", renditions_bytes=None)
    image(owner, state=ImageState.FAILED, error="Not an image.", renditions_bytes=None)
    stale = image(owner, state=ImageState.FAILED, error="Too large.", renditions_bytes=None)
    Image.objects.filter(pk=stale.pk).update(updated_at=now - timedelta(days=3))
    image(owner, state=ImageState.PENDING, original_bytes=None, renditions_bytes=None)


def test_figures_match_the_seeded_data(seeded):
    figures = stats.stats_collect()
    # 3 people per world + the superuser + quiet; nobody else signed in or acted
    assert figures["people"]["total"] == 8
    assert figures["people"]["banned"] == 1
    assert figures["people"]["new_this_week"] == 7
    # alice and bob of each world acted (posts, comments, messages, stories)
    assert figures["people"]["active_1d"] == 4
    assert figures["people"]["active_30d"] == 4
    assert figures["content"] == {
        "posts": 2, "photos": 2, "stories": 2, "stories_live": 2, "messages": 2,
        "conversations": 2, "circles": 2, "albums": 2, "album_photos": 2, "notifications": 2,
    }  # fmt: skip
    # 4 images per world (post, story, album, chat photo) + 3 failed + 1 pending
    assert figures["images"]["by_state"] == {"pending": 1, "processing": 0, "ready": 8, "failed": 3}
    assert figures["images"]["failed_last_day"] == 2
    assert figures["images"]["failure_reasons"] == [{"reason": "Not an image.", "count": 2}]
    assert figures["storage"] == {
        "originals_bytes": 11 * 1000,
        "renditions_bytes": 8 * 300,
        "images_unmeasured": 1,
    }
    posts_per_day = figures["daily"]["posts"]
    assert len(posts_per_day) == 30 and posts_per_day[-1]["count"] == 2
    assert sum(day["count"] for day in figures["daily"]["new_people"]) == 7


def test_active_counts_sign_ins_by_window(db):
    now = timezone.now()
    for days, name in ((0.5, "today"), (3, "this_week"), (20, "this_month")):
        person = UserFactory(username=name)
        User.objects.filter(pk=person.pk).update(last_login=now - timedelta(days=days))
    people = stats.stats_collect()["people"]
    assert (people["active_1d"], people["active_7d"], people["active_30d"]) == (1, 2, 3)


def test_queue_depth_and_oldest_task_come_from_the_broker(db):
    assert stats.queue_stats() == {"available": True, "depth": 0, "oldest_waiting_seconds": None}
    celery_app.send_task("circles.heartbeat")
    celery_app.send_task("circles.heartbeat")
    queue = stats.queue_stats()
    assert queue["available"] and queue["depth"] == 2
    assert 0 <= queue["oldest_waiting_seconds"] < 60


def test_without_a_broker_the_queue_is_not_available(settings):
    settings.CELERY_BROKER_URL = "memory://localhost//"
    assert stats.queue_stats() == {
        "available": False,
        "depth": None,
        "oldest_waiting_seconds": None,
    }


def test_open_sockets_are_counted_from_presence(db):
    assert presence.socket_count() == 0
    async_to_sync(presence.socket_open)("user-a", "channel-1")
    async_to_sync(presence.socket_open)("user-a", "channel-2")
    async_to_sync(presence.socket_open)("user-b", "channel-3")
    assert presence.socket_count() == 3
    async_to_sync(presence.socket_close)("user-a", "channel-1")
    assert stats.stats_collect()["sockets"] == {"open": 2}


def test_the_api_returns_the_same_figures(seeded, superuser):
    body = Api(superuser, "token").get("/admin/stats").json()
    figures = stats.stats_collect()
    for section in ("people", "content", "images", "storage", "daily"):
        assert body[section] == figures[section], section


# --- the page -----------------------------------------------------------------------------


def test_the_page_shows_the_figures_and_charts(client_for, staff_user, seeded):
    page = client_for(staff_user).get(reverse("admin:stats"))
    assert page.status_code == 200
    html = page.content.decode()

    def cell(name):
        return re.search(rf'id="{name}">([^<]*)<', html).group(1)

    assert cell("people-total") == "9"  # the seeded 8 and this operator
    assert cell("content-posts") == "2"
    assert cell("content-stories") == "2 (2)"
    assert cell("content-albums") == "2 (2)"
    assert cell("content-notifications") == "2"
    assert cell("images-failed") == "3" and cell("images-failed-day") == "2"
    assert cell("queue-depth") == "0"
    assert cell("sockets-open") == "0"
    assert "Not an image." in html
    assert html.count("<svg viewBox") == 4
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # the CSP allows no inline script
    assert re.search(r'<rect x="[\d.]+" y="0\.0" width="[\d.]+" height="60\.0"', html)


def test_without_a_broker_the_page_says_not_available(client_for, staff_user, settings):
    settings.CELERY_BROKER_URL = "memory://localhost//"
    html = client_for(staff_user).get(reverse("admin:stats")).content.decode()
    assert "not available (tasks run in-process)" in html


def test_the_page_is_for_staff_only(client_for, member, staff_user, superuser):
    url = reverse("admin:stats")
    anonymous = client_for().get(url)
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    assert client_for(member).get(url).status_code == 302
    assert client_for(staff_user).get(url).status_code == 200
    assert client_for(superuser).get(url).status_code == 200


def test_the_admin_index_links_to_the_stats(client_for, staff_user):
    html = client_for(staff_user).get(reverse("admin:index")).content.decode()
    assert f'href="{reverse("admin:stats")}"' in html


def test_storage_sizes_are_recorded_by_the_pipeline(media_storage):
    from tests.posts.conftest import jpeg_upload, make_post

    upload = jpeg_upload(size=(1200, 900))
    post = make_post(UserFactory(username="photographer"), files=[upload])
    stored = post.images.get()
    renditions = [key for key in stored.storage_keys() if key != stored.original_key]
    assert stored.original_bytes == upload.size
    assert stored.renditions_bytes == sum(
        (media_storage / key).stat().st_size for key in renditions
    )
    assert stats.storage_stats() == {
        "originals_bytes": stored.original_bytes,
        "renditions_bytes": stored.renditions_bytes,
        "images_unmeasured": 0,
    }
