"""Fixtures for posts: real images made with Pillow, posts taken through the pipeline."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image as PILImage

from accounts.models import Circle, CircleMembership, CircleRole, Follow
from media.services import image_process
from posts import services
from posts.models import Post
from tests.factories import UserFactory
from tests.media.conftest import s3_endpoint, s3_storage

__all__ = ["s3_endpoint", "s3_storage"]  # fixtures, for the S3 tests of posts


def jpeg_bytes(size=(640, 480), color=(200, 60, 90)) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", size, color).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def jpeg_upload(name="photo.jpg", size=(640, 480)) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg_bytes(size), content_type="image/jpeg")


def make_post(author, *, files=None, process=True, **fields) -> Post:
    """A post created by the service and, by default, processed by the task body."""
    post, _ = services.post_create(author=author, files=files or [jpeg_upload()], **fields)
    if process:
        for image in post.images.all():
            image_process(image_id=image.pk)
    return Post.objects.get(pk=post.pk)


@pytest.fixture
def author(db):
    return UserFactory(username="author")


@pytest.fixture
def follower(author):
    user = UserFactory(username="follower")
    Follow.objects.create(follower=user, following=author)
    return user


@pytest.fixture
def circle(author):
    circle = Circle.objects.create(name="Close friends", owner=author)
    CircleMembership.objects.create(circle=circle, user=author, role=CircleRole.OWNER)
    return circle


@pytest.fixture
def circle_member(circle):
    user = UserFactory(username="member")
    CircleMembership.objects.create(circle=circle, user=user, role=CircleRole.MEMBER)
    return user


@pytest.fixture
def circle_post(author, circle):
    return make_post(author, visibility="circle", circle_id=str(circle.pk))
