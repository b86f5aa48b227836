"""Download your data: the ZIP holds what the person made or received — and only what
they may see —, photos as renditions without metadata, an index.html that works offline,
a data.json; one export at a time; owner-only download; 7 days, then cleaned up."""

import io
import json
import re
import urllib.request
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image as PILImage

from accounts.models import DataExport, ExportState
from accounts.services import data_export_build, data_export_request, data_exports_cleanup
from circles.errors import ApiError
from notifications.models import Notification
from tests.leaving.conftest import SCRIPT_CAPTION, SECRET_MAKE, read_zip

pytestmark = pytest.mark.django_db


def export_for(user, capture=None):
    export = data_export_request(user=user)
    data_export_build(export_id=export.pk)
    export.refresh_from_db()
    return export


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


@pytest.fixture
def built(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        export = export_for(world.alice)
    return world, export, read_zip(export.key)


def test_export_is_ready_with_progress_done_and_a_notification(built):
    world, export, _ = built
    assert export.state == ExportState.READY and export.percent == 100
    assert export.expires_at - export.finished_at == timedelta(days=7)
    assert default_storage.exists(export.key)
    note = Notification.objects.get(recipient=world.alice, kind="export_ready")
    assert note.target_type == "data_export" and note.target_id == export.pk


def test_the_notification_reads_ready_and_links_to_settings(built, client_for):
    world, export, _ = built
    listed = client_for(world.alice).get("/api/v1/notifications").json()["items"]
    assert [(n["type"], n["text"]) for n in listed] == [
        ("export_ready", "Your data export is ready to download")
    ]
    page = client_for(world.alice).get("/notifications/").content.decode()
    assert (
        "Your data export is ready to download" in page and "/accounts/settings/#your-data" in page
    )


def test_data_json_holds_what_the_person_has(built):
    world, _, archive = built
    data = json.loads(archive.read("data.json"))
    sections = data["sections"]
    assert data["username"] == "alice"
    profile = sections["account"]["items"][0]
    assert profile["kind"] == "profile" and profile["email"] == world.alice.email
    people = {(i["kind"], i.get("username")) for i in sections["account"]["items"]}
    assert {("following", "bob"), ("following", "dave"), ("follower", "bob"),
            ("blocked", "eve")} <= people  # fmt: skip
    circles = {i["circle"] for i in sections["account"]["items"] if i["kind"] == "circle"}
    assert circles == {"Alice's friends"}  # left Dave's circle

    items = sections["posts"]["items"]
    own = [i for i in items if i["kind"] == "post"]
    assert {i["id"] for i in own} == {str(p.pk) for p in world.alice_posts}
    assert sum(len(i["photos"]) for i in own) == 3
    assert [i["post"] for i in items if i["kind"] == "like"] == [str(world.bob_post.pk)]
    assert [i["post"] for i in items if i["kind"] == "bookmark"] == [str(world.bob_post.pk)]
    assert [i["text"] for i in items if i["kind"] == "comment"] == ["nice one, bob"]

    stories = sections["stories"]["items"]
    assert [s["id"] for s in stories] == [str(world.live_story.pk)]
    assert [a["title"] for a in sections["albums"]["items"]] == ["Summer"]
    messages = sections["messages"]["items"]
    assert [(m["from"], m["text"]) for m in messages] == [
        ("bob", "photo for you"), ("alice", "thanks bob, mine too"),
    ]  # fmt: skip
    assert all(len(m["photos"]) == 1 for m in messages)


def test_what_the_person_may_no_longer_see_is_absent(built):
    world, _, archive = built
    raw = archive.read("data.json").decode()
    # carol's followers-only post (alice was removed as follower), dave's circle post
    # (alice left), alice's comment there, and the expired story: none of them
    for absent in (world.carol_post.pk, world.dave_post.pk, world.expired_story.pk):
        assert str(absent) not in raw
    assert "secret comment" not in raw and "carol followers only" not in raw
    # nobody else's post photos (bob's liked post) and no originals
    names = archive.namelist()
    others = [str(i.pk) for p in (world.bob_post, world.carol_post) for i in p.images.all()]
    assert not [n for n in names if any(pk in n for pk in others)]


def test_photos_are_renditions_that_decode_without_exif_or_gps(built):
    world, export, archive = built
    photos = [n for n in archive.namelist() if n.startswith(("photos/", "avatar/"))]
    # 3 post photos, 1 live story, 1 album photo, 2 chat photos, the avatar
    assert len(photos) == 8 and export.photo_count == 8
    for name in photos:
        data = archive.read(name)
        image = PILImage.open(io.BytesIO(data))
        image.load()
        assert image.format == "JPEG"
        assert len(image.getexif()) == 0 and "exif" not in image.info
        assert b"Exif\x00\x00" not in data and SECRET_MAKE.encode() not in data
    gps_image = world.alice_posts[0].images.get()
    data = archive.read(f"photos/posts/{gps_image.pk}.jpg")
    assert PILImage.open(io.BytesIO(data)).size == (
        gps_image.renditions["large"]["width"], gps_image.renditions["large"]["height"]
    )  # fmt: skip


def test_index_html_works_offline_and_escapes_text(built):
    _, _, archive = built
    page = archive.read("index.html").decode()
    names = set(archive.namelist())
    links = Links()
    links.feed(page)
    inside = [u for u in links.urls if not u.startswith("#")]
    assert inside and all(u in names for u in inside), set(inside) - names
    assert not re.search(r"(https?:)?//", " ".join(links.urls))
    assert "<script" not in page.lower() and "@import" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; sunset &amp; sea" in page
    assert json.loads(archive.read("data.json"))["sections"]["posts"]["items"][0]["caption"] in (
        SCRIPT_CAPTION,
        "two",
    )


def test_a_second_export_while_one_runs_is_refused_and_changes_nothing(world):
    first = data_export_request(user=world.alice)
    with pytest.raises(ApiError) as refused:
        data_export_request(user=world.alice)
    assert refused.value.status == 409 and refused.value.code == "export_running"
    assert list(DataExport.objects.filter(user=world.alice)) == [first]
    # another person is not held up by it
    data_export_request(user=world.bob)


def test_a_new_export_replaces_the_old_one(world):
    old = export_for(world.alice)
    new = export_for(world.alice)
    assert list(DataExport.objects.filter(user=world.alice)) == [new]
    assert new.key != old.key


def test_interrupted_build_starts_again_and_removes_its_partial_file(world):
    export = data_export_request(user=world.alice)
    partial = default_storage.save("exports/ab/partial.zip", io.BytesIO(b"half a zip"))
    DataExport.objects.filter(pk=export.pk).update(state=ExportState.RUNNING, key=partial)
    data_export_build(export_id=export.pk)  # the redelivery
    export.refresh_from_db()
    assert export.state == ExportState.READY and export.key != partial
    assert not default_storage.exists(partial)
    read_zip(export.key).testzip()


def test_expired_exports_are_cleaned_up_file_and_row(world):
    export = export_for(world.alice)
    assert data_exports_cleanup() == 0
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert data_exports_cleanup() == 1
    assert not DataExport.objects.filter(pk=export.pk).exists()
    assert not default_storage.exists(export.key)


def test_stuck_builds_are_given_up(world):
    export = data_export_request(user=world.alice)
    DataExport.objects.filter(pk=export.pk).update(created_at=timezone.now() - timedelta(hours=5))
    data_exports_cleanup()
    export.refresh_from_db()
    assert export.state == ExportState.FAILED and "too long" in export.error
    data_export_request(user=world.alice)  # a new one may start


def test_download_only_for_its_owner_while_it_lasts(world, client_for):
    export = export_for(world.alice)
    url = f"/accounts/export/{export.pk}/download/"
    response = client_for(world.alice).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content)[:2] == b"PK"
    assert client_for(world.bob).get(url).status_code == 404
    assert client_for(None).get(url).status_code == 404
    assert client_for(world.alice).get("/accounts/export/not-a-uuid/download/").status_code == 404
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now())
    assert client_for(world.alice).get(url).status_code == 404


def test_export_on_s3_is_streamed_to_the_bucket_and_served_by_a_signed_url(s3_storage, client_for):
    from tests.leaving.conftest import build_world

    client, bucket = s3_storage
    world = build_world()
    export = export_for(world.alice)
    listed = client.list_objects_v2(Bucket=bucket, Prefix="exports/")["Contents"]
    assert [o["Key"] for o in listed] == [export.key] and listed[0]["Size"] == export.size
    response = client_for(world.alice).get(f"/accounts/export/{export.pk}/download/")
    assert response.status_code == 302 and "X-Amz-Signature" in response["Location"]
    with urllib.request.urlopen(response["Location"]) as fetched:  # noqa: S310 - moto
        body = fetched.read()
        assert "attachment" in fetched.headers["Content-Disposition"]
    archive = __import__("zipfile").ZipFile(io.BytesIO(body))
    assert "index.html" in archive.namelist() and archive.testzip() is None
    assert client_for(world.bob).get(f"/accounts/export/{export.pk}/download/").status_code == 404
