"""Who gets the bytes of a photo, whatever it belongs to: the media privacy matrix, run
once with the session cookie and once with a bearer token, and per-viewer signed URLs.

The media view asks the purpose table (media.registry) for each image's rule: posts'
visibility for post photos, the profile's for avatars, messaging's read rule for chat
photos. Hidden answers 404, never 403.
"""

import pytest
from django.core import signing
from django.test import Client

from accounts.models import Block, Circle, CircleMembership, CircleRole, Follow
from accounts.services import api_token_create, api_token_revoke, user_avatar_set
from media.links import media_url
from media.models import Image
from media.schemas import RENDITION_NAMES
from media.services import image_process
from messaging import services as messaging
from tests.factories import UserFactory
from tests.posts.conftest import jpeg_upload, make_post

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_storage")]

VIEWERS = ("anonymous", "outsider", "follower", "circle_member", "blocked")
PHOTOS = ("public_post", "followers_post", "circle_post", "private_avatar", "chat_photo")

# viewer -> photo -> status of its media URLs
EXPECTED = {
    "anonymous": {
        "public_post": 200, "followers_post": 404, "circle_post": 404,
        "private_avatar": 200, "chat_photo": 404,
    },
    "outsider": {
        "public_post": 200, "followers_post": 404, "circle_post": 404,
        "private_avatar": 200, "chat_photo": 404,
    },
    "follower": {
        "public_post": 200, "followers_post": 200, "circle_post": 404,
        "private_avatar": 200, "chat_photo": 404,
    },
    "circle_member": {
        "public_post": 200, "followers_post": 404, "circle_post": 200,
        "private_avatar": 200, "chat_photo": 200,
    },
    "blocked": {
        "public_post": 404, "followers_post": 404, "circle_post": 404,
        "private_avatar": 404, "chat_photo": 404,
    },
}  # fmt: skip


def ready_image(image) -> Image:
    image_process(image_id=image.pk)
    return Image.objects.get(pk=image.pk)


@pytest.fixture
def world():
    """author (public) with a post of each visibility; carol (private) with an avatar; a
    photo in the chat of author's circle (author and circle_member); "blocked" was
    blocked by both author and carol."""
    author = UserFactory(username="author")
    carol = UserFactory(username="carol", is_private=True)
    people = {name: UserFactory(username=name) for name in VIEWERS if name != "anonymous"}
    people["anonymous"] = None
    Follow.objects.create(follower=people["follower"], following=author)
    circle = Circle.objects.create(name="Close", owner=author)
    CircleMembership.objects.create(circle=circle, user=author, role=CircleRole.OWNER)
    CircleMembership.objects.create(circle=circle, user=people["circle_member"])
    group = messaging.circle_conversation_sync(circle=circle)  # the circle's chat
    message, _ = messaging.message_send(
        sender=author, conversation_id=group.pk, client_id="p", image=jpeg_upload()
    )
    user_avatar_set(user=carol, file=jpeg_upload())
    photos = {
        "public_post": make_post(author).images.get(),
        "followers_post": make_post(author, visibility="followers").images.get(),
        "circle_post": make_post(author, visibility="circle", circle_id=circle.pk).images.get(),
        "private_avatar": ready_image(Image.objects.get(owner=carol)),
        "chat_photo": ready_image(message.image),
    }
    carol.refresh_from_db()
    assert carol.avatar_id == photos["private_avatar"].pk
    for owner in (author, carol):
        Block.objects.create(blocker=owner, blocked=people["blocked"])
    return {"people": people, "photos": photos, "author": author}


def client_as(viewer, mode: str) -> Client:
    if mode == "bearer":
        # anonymous: a token that names nobody, which must count for nothing
        token = api_token_create(user=viewer)[1] if viewer else "not-a-real-token"
        return Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    client = Client()
    if viewer is not None:
        client.force_login(viewer)
    return client


@pytest.mark.parametrize("mode", ["session", "bearer"])
def test_media_privacy_matrix(world, mode):
    got, want = {}, {}
    for viewer_name in VIEWERS:
        client = client_as(world["people"][viewer_name], mode)
        for photo_name in PHOTOS:
            image = world["photos"][photo_name]
            statuses = {
                client.get(media_url(image, rendition, fmt)).status_code
                for rendition in RENDITION_NAMES
                for fmt in ("webp", "jpeg")
            }
            got[viewer_name, photo_name] = statuses
            want[viewer_name, photo_name] = {EXPECTED[viewer_name][photo_name]}
    assert got == want


def test_a_bearer_token_wins_over_the_session_and_revoking_it_ends_access(world):
    follower = world["people"]["follower"]
    token_row, token = api_token_create(user=follower)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.force_login(world["people"]["outsider"])  # the session names someone else
    url = media_url(world["photos"]["followers_post"], "small", "jpeg")
    response = client.get(url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, max-age=300" and response["ETag"]
    api_token_revoke(user=follower, token_id=token_row.pk)
    assert client.get(url).status_code == 404  # the outsider's session is all that is left


# --- signed URLs ------------------------------------------------------------------------


def signed(client, *images) -> dict:
    response = client.post(
        "/api/v1/media/signed-urls",
        {"image_ids": [str(image.pk) for image in images]},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_signed_urls_serve_without_credentials_only_what_the_viewer_may_see(world):
    follower = world["people"]["follower"]
    photos = world["photos"]
    body = signed(client_as(follower, "bearer"), photos["followers_post"], photos["circle_post"])
    assert [item["id"] for item in body["images"]] == [str(photos["followers_post"].pk)]
    assert body["expires_at"]
    renditions = body["images"][0]["renditions"]
    assert set(renditions) == set(RENDITION_NAMES)
    anonymous = Client()
    for rendition in renditions.values():
        for fmt in ("webp", "jpeg"):
            response = anonymous.get(rendition[fmt])
            assert response.status_code == 200, rendition[fmt]
            assert response["Cache-Control"] == "private, max-age=300"
    # the same signature on another image, a tampered one, or none: the anonymous view
    small = renditions["small"]["jpeg"]
    sig = small.split("?sig=")[1]
    other = media_url(photos["circle_post"], "small", "jpeg")
    assert anonymous.get(f"{other}?sig={sig}").status_code == 404
    assert anonymous.get(small[:-3] + "xyz").status_code == 404
    assert anonymous.get(small.split("?")[0]).status_code == 404


def test_signed_urls_stop_at_once_when_the_viewer_loses_access(world):
    follower = world["people"]["follower"]
    body = signed(client_as(follower, "session"), world["photos"]["followers_post"])
    url = body["images"][0]["renditions"]["large"]["webp"]
    assert Client().get(url).status_code == 200
    Follow.objects.filter(follower=follower).delete()
    assert Client().get(url).status_code == 404
    Follow.objects.create(follower=follower, following=world["author"])
    assert Client().get(url).status_code == 200
    follower.is_active = False  # banned
    follower.save()
    assert Client().get(url).status_code == 404


def test_signed_urls_expire(world, settings, monkeypatch):
    settings.MEDIA_SIGNED_URL_SECONDS = 60
    member = world["people"]["circle_member"]
    body = signed(client_as(member, "bearer"), world["photos"]["chat_photo"])
    url = body["images"][0]["renditions"]["thumbnail"]["jpeg"]
    assert Client().get(url).status_code == 200
    later = signing.time.time() + 61
    monkeypatch.setattr(signing.time, "time", lambda: later)
    assert Client().get(url).status_code == 404


def test_signed_urls_refuse_bad_input(world):
    client = client_as(world["people"]["follower"], "bearer")
    too_many = {"image_ids": [str(world["photos"]["public_post"].pk)] * 51}
    for payload in ({"image_ids": []}, {"image_ids": ["nope"]}, too_many, {}):
        response = client.post(
            "/api/v1/media/signed-urls", payload, content_type="application/json"
        )
        assert response.status_code == 400, payload
        assert response.json()["error"]["code"]
    assert (
        Client()
        .post("/api/v1/media/signed-urls", {"image_ids": []}, content_type="application/json")
        .status_code
        == 401
    )
