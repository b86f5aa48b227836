"""Fixtures for leaving (data export, account deletion): a person with something of
every kind — posts (one photo carrying EXIF and GPS), comments, likes, bookmarks, live
and expired stories, an album, a conversation with photos both ways, follows, a block,
circles — and others whose content they may or may no longer see."""

import io
import zipfile
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import ExifTags
from PIL import Image as PILImage

from accounts import services as accounts
from accounts.models import Block, CircleMembership, Follow
from albums import services as albums
from media.models import Image
from media.services import image_process
from messaging import services as messaging
from posts import services as posts
from stories import services as stories
from stories.models import Story
from tests.accounts.conftest import API, Api, error_of, media_storage
from tests.factories import UserFactory
from tests.media.conftest import s3_endpoint, s3_storage
from tests.posts.conftest import jpeg_upload as _jpeg_upload
from tests.posts.conftest import make_post

__all__ = ["API", "Api", "error_of", "media_storage", "s3_endpoint", "s3_storage"]

SECRET_MAKE = "SecretCam-9000"
SCRIPT_CAPTION = "<script>alert('x')</script> sunset & sea"


def jpeg_upload(name="photo.jpg", size=(160, 120)) -> SimpleUploadedFile:
    """Small photos: the pipeline's work is the same, and the world builds fast."""
    return _jpeg_upload(name, size=size)


def gps_jpeg_upload(name="gps.jpg") -> SimpleUploadedFile:
    """A photo as a phone takes it: camera make and a GPS position in its EXIF."""
    exif = PILImage.Exif()
    exif[ExifTags.Base.Make] = SECRET_MAKE
    exif[ExifTags.Base.GPSInfo] = {1: "N", 2: (52.0, 22.0, 1.0), 3: "E", 4: (4.0, 53.0, 2.0)}
    buffer = io.BytesIO()
    PILImage.new("RGB", (240, 180), (30, 140, 90)).save(buffer, "JPEG", exif=exif)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def processed(images) -> None:
    for image in images:
        image_process(image_id=image.pk)


@dataclass
class World:
    alice: object
    bob: object
    carol: object
    dave: object
    eve: object
    alice_posts: list
    bob_post: object
    carol_post: object
    dave_post: object
    bob_circle_post: object
    alice_circle: object
    live_story: object
    expired_story: object
    album: object
    conversation: object
    bob_message: object
    alice_message: object


def build_world() -> World:
    alice = UserFactory(username="alice", display_name="Alice")
    bob = UserFactory(username="bob", display_name="Bob")
    carol = UserFactory(username="carol", is_private=True)
    dave = UserFactory(username="dave")
    eve = UserFactory(username="eve")
    for a, b in ((alice, bob), (bob, alice), (alice, carol), (alice, dave)):
        Follow.objects.create(follower=a, following=b)
    Block.objects.create(blocker=alice, blocked=eve)
    accounts.user_avatar_set(user=alice, file=jpeg_upload("me.jpg", size=(120, 120)))
    processed(Image.objects.filter(owner=alice, purpose="avatar"))

    alice_posts = [
        make_post(alice, files=[gps_jpeg_upload()], caption=SCRIPT_CAPTION, location="Harbour"),
        make_post(alice, files=[jpeg_upload("a.jpg"), jpeg_upload("b.jpg")], caption="two"),
    ]
    bob_post = make_post(bob, files=[jpeg_upload()], caption="bob's public")
    carol_post = make_post(
        carol, files=[jpeg_upload()], caption="carol followers only", visibility="followers"
    )
    for post in (bob_post, carol_post):
        posts.post_like(user=alice, post=post)
    posts.comment_create(author=alice, post=bob_post, content="nice one, bob")
    posts.comment_create(author=bob, post=alice_posts[0], content="lovely, alice")
    posts.bookmark_create(user=alice, post=bob_post)
    posts.comment_create(author=alice, post=carol_post, content="secret comment")
    # carol removes alice as a follower: her post is no longer alice's to see
    Follow.objects.filter(follower=alice, following=carol).delete()

    # dave's circle: alice commented on a circle post there, then left the circle
    dave_circle = accounts.circle_create(owner=dave, name="Dave's circle")
    CircleMembership.objects.create(circle=dave_circle, user=alice)
    dave_post = make_post(dave, files=[jpeg_upload()], caption="dave circle only",
                          visibility="circle", circle_id=str(dave_circle.pk))  # fmt: skip
    posts.post_like(user=alice, post=dave_post)
    CircleMembership.objects.filter(circle=dave_circle, user=alice).delete()

    # alice's own circle, with bob in it and a post of bob's there
    alice_circle = accounts.circle_create(owner=alice, name="Alice's friends")
    CircleMembership.objects.create(circle=alice_circle, user=bob)
    bob_circle_post = make_post(bob, files=[jpeg_upload()], caption="for alice's circle",
                                visibility="circle", circle_id=str(alice_circle.pk))  # fmt: skip

    live_story, _ = stories.story_create(author=alice, file=jpeg_upload("s.jpg"))
    expired_story, _ = stories.story_create(author=alice, file=jpeg_upload("old.jpg"))
    processed([live_story.image, expired_story.image])
    past = timezone.now() - timedelta(days=2)
    Story.objects.filter(pk=expired_story.pk).update(
        created_at=past, expires_at=past + timedelta(hours=24)
    )

    album = albums.album_create(owner=alice, title="Summer")
    items = albums.album_images_add(actor=alice, album=album, uploads=[jpeg_upload("al.jpg")])
    processed([item.image for item in items])

    conversation, _ = messaging.conversation_start(creator=alice, usernames=["bob"])
    bob_message, _ = messaging.message_send(
        sender=bob, conversation_id=conversation.pk, client_id="bob-1",
        content="photo for you", image=jpeg_upload("fromBob.jpg"),
    )  # fmt: skip
    alice_message, _ = messaging.message_send(
        sender=alice, conversation_id=conversation.pk, client_id="alice-1",
        content="thanks bob, mine too", image=jpeg_upload("fromAlice.jpg"),
    )  # fmt: skip
    processed([bob_message.image, alice_message.image])
    alice.refresh_from_db()
    return World(
        alice, bob, carol, dave, eve, alice_posts, bob_post, carol_post, dave_post,
        bob_circle_post, alice_circle, live_story, expired_story, album, conversation,
        bob_message, alice_message,
    )  # fmt: skip


@pytest.fixture
def world(media_storage):  # noqa: F811 - the fixture
    return build_world()


def read_zip(key: str) -> zipfile.ZipFile:
    with default_storage.open(key, "rb") as handle:
        return zipfile.ZipFile(io.BytesIO(handle.read()))
