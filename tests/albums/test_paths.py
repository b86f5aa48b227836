"""The S3 path of a batch upload, the pages (circle space sections, album page forms
without JavaScript) and the demo command."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from albums.models import Album, AlbumItem
from media.links import media_url
from media.models import Image
from media.services import image_process
from messaging import services as messaging
from messaging.models import Conversation
from tests.albums.conftest import add_photos, order_of
from tests.media.conftest import s3_endpoint, s3_storage  # noqa: F401
from tests.posts.conftest import jpeg_upload

pytestmark = pytest.mark.django_db


def test_batch_upload_through_s3(session_api, client_for, circle_album, member, s3_storage):  # noqa: F811
    client, bucket = s3_storage
    files = [jpeg_upload(f"b{i}.jpg") for i in range(3)]
    response = session_api(member).upload(f"/albums/{circle_album.pk}/images", {"images": files})
    assert response.status_code == 202
    items = response.json()["items"]
    assert [i["image"]["status"] for i in items] == ["processing"] * 3
    for item in AlbumItem.objects.all():
        image_process(image_id=item.image_id)
    keys = {o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])}
    images = list(Image.objects.filter(album_items__album=circle_album))
    assert all(set(image.storage_keys()) <= keys for image in images) and len(images) == 3
    answer = client_for(member).get(media_url(images[0], "large", "jpeg"))
    assert answer.status_code == 302 and bucket in answer["Location"]  # a presigned URL


def test_a_refused_file_refuses_the_batch(session_api, circle_album, member):
    uploads = [jpeg_upload("ok.jpg"), SimpleUploadedFile("bad.jpg", b"not an image", "image/jpeg")]
    response = session_api(member).upload(f"/albums/{circle_album.pk}/images", {"images": uploads})
    assert response.status_code == 415
    assert not AlbumItem.objects.exists() and not Image.objects.exists()
    too_many = [jpeg_upload(f"{i}.jpg", size=(8, 8)) for i in range(21)]
    response = session_api(member).upload(f"/albums/{circle_album.pk}/images", {"images": too_many})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
    assert not AlbumItem.objects.exists()


def test_circle_page_shows_posts_albums_and_chat_with_unread(
    client_for, circle_album, owner, member
):
    add_photos(circle_album, member)
    chat = Conversation.objects.get(circle=circle_album.circle)
    messaging.message_send(sender=owner, conversation_id=chat.pk, content="hi", client_id="c1")
    page = client_for(member).get(f"/circles/{circle_album.circle_id}/").content.decode()
    for section in ("space-chat", "space-posts", "space-albums"):
        assert f'id="{section}"' in page
    assert "Summer" in page and "1 unread message" in page
    assert f"/direct/{chat.pk}/" in page


def test_album_page_forms_work_without_javascript(client_for, circle_album, member):
    a, b = add_photos(circle_album, member, 2, size=(600, 400))
    client = client_for(member)
    page = client.get(f"/albums/{circle_album.pk}/")
    assert page.status_code == 200 and b"Move photo 2 earlier" in page.content
    client.post(f"/albums/{circle_album.pk}/items/{b.pk}/move/", {"after_id": ""})
    assert order_of(circle_album) == [b.pk, a.pk]
    client.post(f"/albums/{circle_album.pk}/cover/", {"item_id": str(a.pk), "aspect": "2:3"})
    circle_album.refresh_from_db()
    assert circle_album.cover_aspect == "2:3"
    crop = circle_album.cover_crop
    assert crop["height"] == 1 and abs(crop["width"] * 600 / 400 - 2 / 3) < 0.01
    bad = client.post(f"/albums/{circle_album.pk}/cover/", {"item_id": str(a.pk), "aspect": "4:5"})
    assert bad.status_code == 400
    circle_album.refresh_from_db()
    assert circle_album.cover_aspect == "2:3"


def test_seed_albums_is_idempotent(db):
    call_command("seed_demo")
    call_command("seed_albums")
    call_command("seed_albums")
    album = Album.objects.get()
    assert album.kind == "circle" and album.cover_aspect == "2:3"
    assert AlbumItem.objects.filter(album=album, image__state="ready").count() == 4
