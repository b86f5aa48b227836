"""The tray API's cached image objects (stories.cards): the answer is what StoryOut
writes; one copy per story serves every viewer, while `seen` and `view_count` stay each
viewer's; settling the image again makes a new key, and deleting the story drops it."""

from datetime import timedelta

import orjson
import pytest
from django.core.cache import cache

from media.models import Image
from media.services import image_process, image_reprocess
from stories import cards, selectors
from stories.models import StoryView
from tests.stories.conftest import Api, make_story

pytestmark = pytest.mark.django_db

STALE = {"stale": "a copy the tray must not show once the image changed"}


def tray(user) -> dict:
    """{story id: story object} of user's tray."""
    items = Api(user, "token").get("/stories/feed").json()["items"]
    return {story["id"]: story for entry in items for story in entry["stories"]}


def key_of(story) -> str:
    return cards.image_key(story.pk, Image.objects.get(pk=story.image_id).updated_at)


def poison(story):
    """Replace the cached copy of story's image object with STALE (in Redis; the
    process's own copies are dropped, so the next tray reads Redis)."""
    key = key_of(story)
    assert cache.get(key) is not None
    cache.set(key, orjson.dumps(STALE))
    cards.forget_recent()


def test_tray_stories_are_what_the_story_object_is(
    author, follower, friend, circle, member, media_storage
):
    followers = make_story(author)
    close = make_story(author, audience="circle", circle=circle)
    StoryView.objects.create(story=followers, viewer=friend)
    for viewer, stories in ((author, [followers, close]), (friend, [followers]),
                            (member, [close]), (follower, [followers])):  # fmt: skip
        for _ in range(2):  # a cold cache, then a warm one
            shown = tray(viewer)
            assert set(shown) == {str(story.pk) for story in stories}
            for story in stories:
                assert shown[str(story.pk)] == Api(viewer).get(f"/stories/{story.pk}").json()


def test_two_viewers_share_the_copy_and_keep_their_own_seen(
    author, follower, friend, media_storage
):
    story = make_story(author)
    StoryView.objects.create(story=story, viewer=friend)
    tray(follower)  # fills the cache
    poison(story)  # from now on the copy shows: both viewers get it
    seen_by_friend, seen_by_follower, own = tray(friend), tray(follower), tray(author)
    sid = str(story.pk)
    assert seen_by_friend[sid]["image"] == seen_by_follower[sid]["image"] == STALE
    assert seen_by_friend[sid]["seen"] is True and seen_by_follower[sid]["seen"] is False
    assert "view_count" not in seen_by_friend[sid] and "view_count" not in seen_by_follower[sid]
    assert own[sid]["seen"] is True and own[sid]["view_count"] == 1
    copy = orjson.loads(cache.get(key_of(story)))
    assert copy == STALE  # the copy holds the image object alone: nothing per viewer


def test_the_image_settling_makes_a_new_copy(author, follower, media_storage):
    story = make_story(author)
    tray(follower)
    poison(story)
    assert tray(follower)[str(story.pk)]["image"] == STALE
    image_reprocess(image_ids=[story.image_id])  # processing again: the author's alone
    assert str(story.pk) not in tray(follower)
    assert tray(author)[str(story.pk)]["image"]["status"] == "processing"
    image_process(image_id=story.image_id)
    fresh = tray(follower)[str(story.pk)]
    assert fresh == Api(follower).get(f"/stories/{story.pk}").json()
    assert fresh["image"]["status"] == "ready"


def test_a_processing_photo_is_shown_fresh_and_not_kept(author, follower, media_storage):
    story = make_story(author, process=False)
    assert tray(author)[str(story.pk)]["image"]["status"] == "processing"
    assert cache.get(key_of(story)) is None
    image_process(image_id=story.image_id)
    assert tray(author)[str(story.pk)]["image"]["status"] == "ready"
    assert tray(follower)[str(story.pk)]["image"]["renditions"] is not None


def test_deleting_a_story_drops_its_copy(
    author, follower, media_storage, django_capture_on_commit_callbacks
):
    story = make_story(author)
    tray(follower)
    key = key_of(story)
    assert cache.get(key) is not None
    with django_capture_on_commit_callbacks(execute=True):
        assert Api(author).delete(f"/stories/{story.pk}").status_code == 204
    assert cache.get(key) is None
    assert str(story.pk) not in tray(follower) and str(story.pk) not in tray(author)


def test_a_process_keeps_the_copies_it_read(author, follower, media_storage):
    """A warm tray reads its image objects from the process's memory, not Redis; what it
    holds is what Redis held, so a copy replaced in Redis shows only once it is dropped."""
    story = make_story(author)
    first = tray(follower)[str(story.pk)]["image"]
    cache.set(key_of(story), orjson.dumps(STALE))  # Redis changes, the process's copy not
    assert tray(follower)[str(story.pk)]["image"] == first
    cards.forget_recent()
    assert tray(follower)[str(story.pk)]["image"] == STALE


def test_the_process_keeps_at_most_recent_max_copies(author, follower, media_storage, monkeypatch):
    monkeypatch.setattr(cards, "RECENT_MAX", 1)
    cards.forget_recent()
    make_story(author), make_story(author)
    tray(follower)
    assert len(cards._recent) == 1


def tray_row(story, viewer):
    (row,) = [s for e in selectors.story_rows_for_tray(viewer=viewer) for s in e.stories
              if s.pk == story.pk]  # fmt: skip
    return row


def test_a_photo_changed_after_the_trays_query_is_shown_not_kept(author, follower, media_storage):
    """The details are read in a second query: when the photo changed in between, its
    object is shown but not cached under the key of the version the tray's row read."""
    story = make_story(author)
    row = tray_row(story, follower)
    older = row._replace(image=row.image._replace(updated_at=row.image.updated_at - timedelta(1)))
    cards.forget_recent()
    objects = cards.fixed_members([older])
    assert orjson.loads(objects[story.pk.int])["image"]["id"] == str(story.image_id)
    assert cache.get(cards.image_key(story.pk, older.image.updated_at)) is None
    assert not cards._recent


def test_a_story_deleted_after_the_trays_query_is_left_out(author, follower, media_storage):
    story = make_story(author)
    row = tray_row(story, follower)
    Image.objects.filter(pk=story.image_id).delete()  # takes the story with it
    cards.forget_recent()
    cache.clear()
    assert cards.fixed_members([row]) == {}
