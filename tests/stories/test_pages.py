"""Story pages: the tray on the home page, the viewer, the picker, the viewer list."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import services as accounts
from stories.models import Story, StoryView
from tests.factories import UserFactory
from tests.stories.conftest import make_story, story_upload

pytestmark = pytest.mark.django_db


def tray_people(html: str) -> list[str]:
    return re.findall(r'data-story-person="([^"]+)"', html)


def test_home_tray_own_entry_then_people_with_rings(author, client_for, media_storage):
    seen_person, unseen_person = UserFactory(username="seenp"), UserFactory(username="unseenp")
    for person in (seen_person, unseen_person):
        accounts.follow_create(follower=author, target=person)
    seen_story = make_story(seen_person)
    make_story(unseen_person)
    StoryView.objects.create(story=seen_story, viewer=author)

    html = client_for(author).get("/").content.decode()
    assert 'aria-label="Stories"' in html
    assert 'href="/stories/new/"' in html  # "Your story": nothing yet, so the picker
    assert tray_people(html) == ["unseenp", "seenp"]
    assert 'class="story-ring unseen"' in html and 'class="story-ring seen"' in html
    assert "css/stories.css" in html


def test_home_tray_rings_link_each_first_unseen_story_and_escape_names(
    author, client_for, media_storage
):
    person = UserFactory(username="xss", display_name='<script>alert("x")</script>')
    accounts.follow_create(follower=author, target=person)
    first, second = make_story(person), make_story(person)
    StoryView.objects.create(story=first, viewer=author)
    own = make_story(author)

    html = client_for(author).get("/").content.decode()
    assert f'href="/stories/{second.pk}/"' in html  # the first one not seen yet
    assert f'href="/stories/{own.pk}/"' in html and "Your story, 1 active" in html
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;'s story, new" in html
    assert '<span class="avatar" aria-hidden="true">&lt;</span>' in html  # the initial


def test_home_tray_rings_kept_by_the_process_follow_every_change(author, client_for, media_storage):
    """Rings are kept as HTML per process (stories.rings): seen, a new name, a new story
    or an unfollow shows on the next page all the same."""
    person = UserFactory(username="kept", display_name="Kept Once")
    accounts.follow_create(follower=author, target=person)
    story = make_story(person)
    client = client_for(author)
    assert "Kept Once's story, new" in client.get("/").content.decode()

    StoryView.objects.create(story=story, viewer=author)
    html = client.get("/").content.decode()
    assert "Kept Once's story, seen" in html and 'class="story-ring seen"' in html

    person.display_name = "Kept Twice"
    person.save(update_fields=["display_name"])
    newer = make_story(person)
    html = client.get("/").content.decode()
    assert "Kept Twice's story, new" in html and f'href="/stories/{newer.pk}/"' in html
    assert "Kept Once" not in html

    accounts.follow_delete(follower=author, target=person)
    assert tray_people(client.get("/").content.decode()) == []


def test_home_page_queries_do_not_grow_with_the_tray(
    author, client_for, media_storage, django_assert_max_num_queries
):
    """The tray adds one query to the home page, however many people are in it (the
    rest — session, feed, suggestions on an empty feed — is the page's own)."""
    client = client_for(author)

    def add(count, start):
        for index in range(start, start + count):
            person = UserFactory(username=f"t{index}")
            accounts.follow_create(follower=author, target=person)
            make_story(person)

    client.get("/")
    for count, start, shown in ((1, 0, 1), (6, 1, 7)):
        add(count, start)
        with django_assert_max_num_queries(10) as captured:
            assert len(tray_people(client.get("/").content.decode())) == shown
        tray = [
            q
            for q in captured.captured_queries
            if "stories_story" in q["sql"] and "notifications_notification" not in q["sql"]
        ]
        assert len(tray) == 1  # the rule's rows, with what a ring shows


def test_viewer_page_records_the_view_and_offers_a_reply(author, friend, client_for, media_storage):
    first, second = make_story(author), make_story(author)
    html = client_for(friend).get(f"/stories/{first.pk}/").content.decode()
    assert StoryView.objects.filter(story=first, viewer=friend).exists()
    assert f'action="/direct/story/{first.pk}/reply/"' in html
    assert f'href="/stories/{second.pk}/"' in html  # next
    assert 'id="story-data"' in html and "large.jpeg" in html
    assert "data-seen-by" not in html


def test_viewer_page_without_a_reply_box_where_you_may_not_message(
    author, follower, client_for, media_storage
):
    story = make_story(author)
    html = client_for(follower).get(f"/stories/{story.pk}/").content.decode()
    assert "/reply/" not in html


def test_own_story_shows_seen_by_and_delete(author, friend, client_for, media_storage):
    story = make_story(author)
    StoryView.objects.create(story=story, viewer=friend)
    html = client_for(author).get(f"/stories/{story.pk}/").content.decode()
    assert "Seen by 1" in html and f'action="/stories/{story.pk}/delete/"' in html
    assert "/reply/" not in html
    viewers = client_for(author).get(f"/stories/{story.pk}/viewers/")
    assert viewers.status_code == 200 and "Friend" in viewers.content.decode()
    assert client_for(friend).get(f"/stories/{story.pk}/viewers/").status_code == 403
    assert client_for(friend).post(f"/stories/{story.pk}/delete/").status_code == 403
    response = client_for(author).post(f"/stories/{story.pk}/delete/")
    assert response.status_code == 302 and not Story.objects.exists()


def test_picker_shares_a_story(author, circle, client_for, media_storage):
    client = client_for(author)
    page = client.get("/stories/new/").content.decode()
    assert "Close friends" in page and 'name="idempotency_key"' in page
    response = client.post(
        "/stories/new/",
        {"image": story_upload(), "audience": "circle", "circle_id": str(circle.pk),
         "idempotency_key": "page-1"},
    )  # fmt: skip
    assert response.status_code == 302 and response["Location"] == "/"
    story = Story.objects.get()
    assert story.audience == "circle" and story.circle_id == circle.pk
    again = client.post(
        "/stories/new/",
        {"image": story_upload(), "audience": "followers", "idempotency_key": "page-1"},
    )
    assert again.status_code == 302 and Story.objects.count() == 1


def test_picker_refuses_bad_input_and_stores_nothing(author, client_for, media_storage):
    client = client_for(author)
    fake = SimpleUploadedFile("x.jpg", b"not an image at all" * 20, content_type="image/jpeg")
    response = client.post("/stories/new/", {"image": fake, "audience": "followers"})
    assert response.status_code == 415 and "Your story was not shared" in response.content.decode()
    response = client.post("/stories/new/", {"image": story_upload(), "audience": "circle"})
    assert (
        response.status_code == 400 and "Choose one of your circles." in response.content.decode()
    )
    response = client.post("/stories/new/", {"audience": "followers"})
    assert response.status_code == 400 and "Add a photo." in response.content.decode()
    assert not Story.objects.exists()


def test_pages_need_a_session_and_hide_what_you_may_not_see(
    author, stranger, client_for, media_storage
):
    story = make_story(author)
    assert client_for(None).get(f"/stories/{story.pk}/").status_code == 302
    assert client_for(stranger).get(f"/stories/{story.pk}/").status_code == 404
    assert client_for(stranger).post(f"/stories/{story.pk}/delete/").status_code == 404


def test_home_tray_own_ring_opens_the_first_of_your_stories_and_counts_them(
    author, client_for, media_storage
):
    first, second = make_story(author), make_story(author)
    StoryView.objects.create(story=first, viewer=author)  # your own count as seen anyway
    html = client_for(author).get("/").content.decode()
    assert f'href="/stories/{first.pk}/"' in html and "Your story, 2 active" in html
    assert f'href="/stories/{second.pk}/"' not in html
