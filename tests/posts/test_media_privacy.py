"""No byte of a photo reaches someone who may not see it."""

import pytest

from accounts.models import Block
from media.links import media_url
from media.models import ImageState
from tests.posts.conftest import make_post

pytestmark = pytest.mark.django_db


def first_image(post):
    return post.images.order_by("post_image__position").first()


def test_member_gets_circle_photo_and_outsider_gets_404(
    client_for, circle_post, circle_member, outsider
):
    image = first_image(circle_post)
    url = media_url(image, "large", "jpeg")
    member_response = client_for(circle_member).get(url)
    assert member_response.status_code == 200
    assert member_response["Content-Type"] == "image/jpeg"
    assert b"".join(member_response.streaming_content)[:2] == b"\xff\xd8"
    assert member_response["Cache-Control"] == "private, max-age=300"
    assert client_for(outsider).get(url).status_code == 404
    assert client_for(None).get(url).status_code == 404


def test_followers_only_photo(client_for, author, follower, outsider):
    post = make_post(author, visibility="followers")
    url = media_url(first_image(post), "thumbnail", "webp")
    assert client_for(follower).get(url).status_code == 200
    assert client_for(outsider).get(url).status_code == 404


def test_public_photo_of_private_account_is_for_followers_only(
    client_for, author, follower, outsider
):
    author.is_private = True
    author.save()
    post = make_post(author)
    url = media_url(first_image(post), "small", "jpeg")
    assert client_for(follower).get(url).status_code == 200
    assert client_for(outsider).get(url).status_code == 404
    assert client_for(None).get(url).status_code == 404


def test_block_hides_photos_both_ways(client_for, author, follower):
    post = make_post(author)
    url = media_url(first_image(post), "medium", "webp")
    assert client_for(follower).get(url).status_code == 200
    Block.objects.create(blocker=author, blocked=follower)
    assert client_for(follower).get(url).status_code == 404


def test_unprocessed_image_and_unknown_ids_are_404(client_for, author):
    post = make_post(author, process=False)
    image = first_image(post)
    assert image.state == ImageState.PENDING
    client = client_for(author)
    assert client.get(f"/media/{image.pk}/large.jpeg").status_code == 404
    assert client.get("/media/00000000-0000-0000-0000-000000000000/large.jpeg").status_code == 404
    assert client.get(f"/media/{image.pk}/original.jpeg").status_code == 404


def test_deleted_posts_files_are_gone_from_storage(
    author, client_for, django_capture_on_commit_callbacks
):
    from django.core.files.storage import default_storage

    from posts import services

    post = make_post(author)
    image = first_image(post)
    keys = image.storage_keys()
    assert len(keys) == 9 and all(default_storage.exists(k) for k in keys)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.post_delete(post=post, actor=author)
    # the queued task's body, run here directly
    from media.tasks import files_delete_task

    assert callbacks, "file removal is queued on commit"
    files_delete_task.run(keys)
    assert not any(default_storage.exists(k) for k in keys)


def test_photo_revalidates_with_an_etag_but_only_after_the_viewer_check(
    client_for, circle_post, circle_member, outsider
):
    url = media_url(first_image(circle_post), "medium", "webp")
    first = client_for(circle_member).get(url)
    etag = first["ETag"]
    assert first.status_code == 200 and etag.startswith('"')
    again = client_for(circle_member).get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again["ETag"] == etag
    assert again["Cache-Control"] == "private, max-age=300"
    # knowing the ETag gets an outsider nothing, not even a 304 that confirms the photo
    assert client_for(outsider).get(url, HTTP_IF_NONE_MATCH=etag).status_code == 404
    other = client_for(circle_member).get(media_url(first_image(circle_post), "small", "webp"))
    assert other["ETag"] != etag
