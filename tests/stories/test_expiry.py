"""Expiry: a story is gone from every path at exactly 24 hours (the queries filter on
expires_at; nothing waits for the cleanup), and the cleanup removes expired stories, their
views and their files — idempotent, and safe to run twice at once."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from media import storage
from media.links import media_url
from media.models import Image
from stories import services
from stories.models import Story, StoryView
from stories.tasks import stories_cleanup_task
from tests.stories.conftest import Api, make_story

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    """clock(at) moves django.utils.timezone.now to `at` for everything in this process."""

    def move(at):
        monkeypatch.setattr(timezone, "now", lambda: at)

    return move


def paths(user, story) -> dict:
    api = Api(user, "session")
    feed = api.get("/stories/feed").json()["items"]
    return {
        "tray": any(s["id"] == str(story.pk) for e in feed for s in e["stories"]),
        "detail": api.get(f"/stories/{story.pk}").status_code,
        "view": api.post(f"/stories/{story.pk}/view").status_code,
        "reply": api.post(f"/stories/{story.pk}/reply", {"content": "hi"}).status_code,
        "media": api.client.get(media_url(story.image, "small", "jpeg")).status_code,
        "page": api.client.get(f"/stories/{story.pk}/").status_code,
    }


def test_visible_at_23_59_59_and_gone_at_24_00_00(friend, author, media_storage, clock):
    story = make_story(author)
    assert story.expires_at == story.created_at + timedelta(hours=24)
    clock(story.created_at + timedelta(hours=23, minutes=59, seconds=59))
    assert paths(friend, story) == {
        "tray": True, "detail": 200, "view": 204, "reply": 201, "media": 200, "page": 200,
    }  # fmt: skip
    clock(story.created_at + timedelta(hours=24))
    assert paths(friend, story) == {
        "tray": False, "detail": 404, "view": 404, "reply": 404, "media": 404, "page": 404,
    }  # fmt: skip
    assert Story.objects.filter(pk=story.pk).exists()  # gone without any cleanup


def test_author_loses_their_own_story_at_24_hours_too(author, media_storage, clock):
    story = make_story(author)
    clock(story.expires_at)
    api = Api(author, "session")
    assert api.get(f"/stories/{story.pk}").status_code == 404
    assert api.get("/stories/feed").json() == {"items": []}


def _expired_story(author, viewer):
    story = make_story(author)
    StoryView.objects.create(story=story, viewer=viewer)
    Story.objects.filter(pk=story.pk).update(
        created_at=story.created_at - timedelta(hours=25),
        expires_at=story.created_at - timedelta(hours=1),
    )
    return story


def test_cleanup_removes_expired_rows_and_files_and_keeps_live_ones(
    author, follower, media_storage
):
    expired = _expired_story(author, follower)
    live = make_story(author)
    keys = expired.image.storage_keys()
    assert keys and all(storage.media_exists(key) for key in keys)

    assert services.stories_cleanup() == 1

    assert not Story.objects.filter(pk=expired.pk).exists()
    assert not StoryView.objects.filter(story_id=expired.pk).exists()
    assert not Image.objects.filter(pk=expired.image_id).exists()
    assert not any(storage.media_exists(key) for key in keys)
    assert Story.objects.filter(pk=live.pk).exists()
    assert all(storage.media_exists(key) for key in live.image.storage_keys())
    # idempotent: a second run finds nothing and breaks nothing
    assert services.stories_cleanup() == 0
    assert Story.objects.filter(pk=live.pk).exists()


def test_cleanup_task_and_command_run_the_same_cleanup(author, follower, media_storage, capsys):
    _expired_story(author, follower)
    assert stories_cleanup_task.run() == 1
    _expired_story(author, follower)
    call_command("stories_cleanup")
    assert "Removed 1 expired stories." in capsys.readouterr().out
    assert not Story.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_cleanups_at_once_share_the_work(author, follower, media_storage):
    stories = [_expired_story(author, follower) for _ in range(6)]
    barrier, results = threading.Barrier(2), []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(services.stories_cleanup(batch=2))
        except BaseException as exc:  # reported below
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == len(stories)  # each story removed once, by one of them
    assert not Story.objects.exists() and not StoryView.objects.exists()


def test_a_story_reply_notification_goes_with_the_story_at_24_hours(
    friend, author, media_storage, clock
):
    # the notifications list and count are compiled once per process with the clock as a
    # value (notifications.selectors): the story's expiry is judged at each request's now
    from notifications.selectors import notification_count_unread, notification_list_for_user
    from notifications.services import notification_create

    story = make_story(author)
    notification_create(actor=friend, recipient=author, kind="story_reply", target_id=story.pk)

    def shown():
        items = notification_list_for_user(user=author).items
        return [row.notification.kind for row in items], notification_count_unread(user=author)

    clock(story.created_at + timedelta(hours=23, minutes=59, seconds=59))
    assert shown() == (["story_reply"], 1)
    clock(story.created_at + timedelta(hours=24))
    assert shown() == ([], 0)
