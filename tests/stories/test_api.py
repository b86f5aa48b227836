"""The stories API contract (shared/API.md "Stories"): shapes, status codes, error bodies,
idempotency, bad input storing nothing, views counted once, the tray's order and its
constant number of queries."""

import threading
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from accounts import services as accounts
from media.models import Image
from media.services import image_process
from stories import selectors
from stories.models import Story, StoryView
from tests.factories import UserFactory
from tests.stories.conftest import Api, error_of, make_story, story_upload

pytestmark = pytest.mark.django_db

STORY_FIELDS = {"id", "author", "image", "audience", "circle", "created_at", "expires_at", "seen"}


def upload(api, data=None, image=None, **headers):
    body = {"image": image or story_upload(), **(data or {})}
    return api.upload("/stories", body, **headers)


# --- create ---------------------------------------------------------------------------


def test_create_answers_202_with_a_processing_story(author, mode, media_storage):
    response = upload(Api(author, mode))
    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) == STORY_FIELDS | {"view_count"}  # the author sees view_count
    assert body["audience"] == "followers" and body["circle"] is None
    assert body["image"]["status"] == "processing" and body["image"]["renditions"] is None
    assert body["seen"] is True and body["view_count"] == 0
    story = Story.objects.get(pk=body["id"])
    assert story.expires_at - story.created_at == timedelta(hours=24)
    assert story.image.purpose == "story"


def test_circle_story_names_its_circle(author, circle, media_storage):
    response = upload(Api(author), {"audience": "circle", "circle_id": str(circle.pk)})
    assert response.status_code == 202
    assert response.json()["circle"] == {"id": str(circle.pk), "name": "Close friends"}


def test_idempotency_key_returns_the_first_story(author, media_storage):
    api = Api(author)
    first = upload(api, HTTP_IDEMPOTENCY_KEY="k-1")
    again = upload(api, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert Story.objects.count() == 1 and Image.objects.count() == 1


def _nothing_stored(media_storage):
    assert not Story.objects.exists() and not Image.objects.exists()
    assert not media_storage.exists() or not any(p.is_file() for p in media_storage.rglob("*"))


@pytest.mark.parametrize(
    ("data", "status", "field"),
    [
        ({"audience": "everyone"}, 400, "audience"),
        ({"audience": "circle"}, 400, "circle_id"),
        ({"audience": "circle", "circle_id": "not-a-uuid"}, 400, "circle_id"),
        ({"audience": "followers", "circle_id": "3f1b7c1e-0000-4000-8000-000000000000"}, 400,
         "circle_id"),
    ],
)  # fmt: skip
def test_bad_audience_is_400_and_stores_nothing(author, media_storage, data, status, field):
    response = upload(Api(author), data)
    assert response.status_code == status
    error = error_of(response)
    assert error["code"] == "invalid" and field in error["fields"]
    _nothing_stored(media_storage)


def test_a_circle_you_are_not_in_is_refused(author, media_storage):
    theirs = accounts.circle_create(owner=UserFactory(username="other"), name="Theirs")
    response = upload(Api(author), {"audience": "circle", "circle_id": str(theirs.pk)})
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"circle_id": ["Choose one of your circles."]}
    _nothing_stored(media_storage)


def test_not_an_image_is_415_and_stores_nothing(author, media_storage):
    fake = SimpleUploadedFile("story.jpg", b"%PDF-1.4 not a photo" * 50, content_type="image/jpeg")
    response = upload(Api(author), image=fake)
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"
    _nothing_stored(media_storage)


def test_over_10_mb_is_413_and_stores_nothing(author, media_storage):
    big = SimpleUploadedFile("big.jpg", b"\xff\xd8\xff" + b"0" * (10 * 1024 * 1024 + 1))
    response = upload(Api(author), image=big)
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"
    _nothing_stored(media_storage)


def test_missing_photo_is_400(author, media_storage):
    response = Api(author).upload("/stories", {"audience": "followers"})
    assert response.status_code == 400
    assert "image" in error_of(response)["fields"]


def test_anonymous_gets_401(db):
    assert Api(None).get("/stories/feed").status_code == 401


# --- detail, view, viewers, delete ----------------------------------------------------


def test_story_object_for_a_follower_has_no_view_count(author, follower, media_storage):
    story = make_story(author)
    body = Api(follower).get(f"/stories/{story.pk}").json()
    assert set(body) == STORY_FIELDS
    assert body["seen"] is False
    assert body["image"]["status"] == "ready"
    assert set(body["image"]["renditions"]) == {"thumbnail", "small", "medium", "large"}


def test_views_count_once_and_only_the_author_sees_who(author, follower, friend, media_storage):
    story = make_story(author)
    for _ in range(3):
        assert Api(follower).post(f"/stories/{story.pk}/view").status_code == 204
    Api(friend).post(f"/stories/{story.pk}/view")
    Api(author).post(f"/stories/{story.pk}/view")  # your own views are not recorded
    assert StoryView.objects.filter(story=story).count() == 2
    assert Api(follower).get(f"/stories/{story.pk}").json()["seen"] is True

    viewers = Api(author).get(f"/stories/{story.pk}/viewers").json()
    assert [v["user"]["username"] for v in viewers["items"]] == ["friend", "follower"]
    assert set(viewers["items"][0]) == {"user", "viewed_at"} and viewers["next_cursor"] is None
    assert Api(author).get(f"/stories/{story.pk}").json()["view_count"] == 2
    refused = Api(follower).get(f"/stories/{story.pk}/viewers")
    assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden"


@pytest.mark.django_db(transaction=True)
def test_concurrent_views_count_once(author, follower, media_storage):
    story = make_story(author)
    barrier, statuses = threading.Barrier(4), []

    def view():
        try:
            barrier.wait(timeout=10)
            from stories import selectors, services

            found = selectors.story_get_visible(viewer=follower, story_id=story.pk)
            services.story_view_record(viewer=follower, story=found)
            statuses.append("ok")
        except BaseException as exc:  # reported below
            statuses.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=view) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == ["ok"] * 4
    assert StoryView.objects.filter(story=story, viewer=follower).count() == 1


def test_delete_removes_the_story_and_its_files(author, follower, media_storage):
    from media import storage
    from media.tasks import files_delete_task

    story = make_story(author)
    keys = story.image.storage_keys()
    StoryView.objects.create(story=story, viewer=follower)
    assert Api(follower).delete(f"/stories/{story.pk}").status_code == 403
    assert Api(author).delete(f"/stories/{story.pk}").status_code == 204
    assert not Story.objects.exists() and not StoryView.objects.exists()
    assert not Image.objects.filter(pk=story.image_id).exists()
    files_delete_task.run(keys)  # the task queued on commit, its body run here
    assert not any(storage.media_exists(key) for key in keys)
    assert Api(author).get(f"/stories/{story.pk}").status_code == 404
    assert Api(author).delete(f"/stories/{story.pk}").status_code == 404


def test_malformed_id_is_404(author):
    response = Api(author).get("/stories/not-a-uuid")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


def test_processing_story_is_the_authors_alone(author, follower, media_storage):
    story = make_story(author, process=False)
    assert Api(follower).get(f"/stories/{story.pk}").status_code == 404
    assert Api(author).get(f"/stories/{story.pk}").status_code == 200
    image_process(image_id=story.image_id)
    assert Api(follower).get(f"/stories/{story.pk}").status_code == 200


# --- the tray -------------------------------------------------------------------------


def _aged(story, hours):
    at = story.created_at - timedelta(hours=hours)
    Story.objects.filter(pk=story.pk).update(created_at=at, expires_at=at + timedelta(hours=24))


def test_tray_order_own_first_then_unseen_then_seen_each_by_latest(author, media_storage):
    me = author
    people = {name: UserFactory(username=name) for name in ("ann", "ben", "cat", "dan")}
    for person in people.values():
        accounts.follow_create(follower=me, target=person)
    # ann: latest 1 h ago, unseen; ben: latest 3 h ago, unseen; cat: latest 0.5 h ago,
    # all seen; dan: latest 2 h ago, one of two seen (so unseen)
    plan = {"ann": [5, 1], "ben": [3], "cat": [4, 0.5], "dan": [6, 2]}
    made = {}
    for name, ages in plan.items():
        for age in ages:
            story = make_story(people[name])
            _aged(story, age)
            made.setdefault(name, []).append(story)
    for story in made["cat"]:
        StoryView.objects.create(story=story, viewer=me)
    StoryView.objects.create(story=made["dan"][0], viewer=me)
    make_story(me)

    items = Api(me).get("/stories/feed").json()["items"]
    assert [e["user"]["username"] for e in items] == ["author", "ann", "dan", "ben", "cat"]
    assert [e["has_unseen"] for e in items] == [False, True, True, True, False]
    dan = items[2]["stories"]
    assert [s["seen"] for s in dan] == [True, False]  # oldest first
    assert dan[0]["created_at"] < dan[1]["created_at"]
    assert "view_count" in items[0]["stories"][0] and "view_count" not in dan[0]

    # the home page's rings (their own slimmer query) keep the API's order and stories
    rings = selectors.story_rings_for_home(viewer=me)
    assert [e.user.username for e in rings] == [e["user"]["username"] for e in items]
    assert [e.has_unseen for e in rings] == [e["has_unseen"] for e in items]
    assert [str(e.story_id) for e in rings] == [
        next((s for s in e["stories"] if not s["seen"]), e["stories"][0])["id"] for e in items
    ]


def test_tray_costs_the_same_queries_for_many_people(
    author, django_assert_max_num_queries, django_assert_num_queries
):
    me = author
    api = Api(me, "token")

    def add_people(count, start):
        for index in range(start, start + count):
            person = UserFactory(username=f"p{index}")
            accounts.follow_create(follower=me, target=person)
            accounts.follow_create(follower=person, target=me)
            make_story(person)

    add_people(2, 0)
    api.get("/stories/feed")  # token's first use writes last_used_at; the photos are cached
    with django_assert_max_num_queries(10) as few:
        assert len(api.get("/stories/feed").json()["items"]) == 2
    add_people(8, 2)
    # the 8 new photos' renditions, all in one more query, read once
    with django_assert_num_queries(len(few.captured_queries) + 1) as cold:
        assert len(api.get("/stories/feed").json()["items"]) == 10
    assert sum("posts_image" in q["sql"] and "stories_story" not in q["sql"] for q in cold) == 1
    with django_assert_num_queries(len(few.captured_queries)) as many:
        assert len(api.get("/stories/feed").json()["items"]) == 10
    tray = [q for q in many.captured_queries if "stories_story" in q["sql"]]
    assert len(tray) == 1  # the tray: the rule's branches with the details; the rest is auth
