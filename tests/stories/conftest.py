"""Fixtures for stories: a public author, their circle, viewers of each kind, and stories
taken through the real upload path and image pipeline."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import services as accounts
from media.services import image_process
from stories import services
from stories.models import Story
from tests.accounts.conftest import API, Api, error_of, media_storage, mode
from tests.factories import UserFactory
from tests.posts.conftest import jpeg_bytes

__all__ = ["API", "Api", "error_of", "media_storage", "mode"]


def story_upload(name="story.jpg", size=(360, 640)) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg_bytes(size), content_type="image/jpeg")


def make_story(author, *, audience="followers", circle=None, process=True, **fields) -> Story:
    """A story created by the service and, by default, its photo processed by the task body."""
    story, _ = services.story_create(
        author=author,
        file=story_upload(),
        audience=audience,
        circle_id=str(circle.pk) if circle else None,
        **fields,
    )
    if process:
        image_process(image_id=story.image_id)
    return Story.objects.select_related("image").get(pk=story.pk)


def join(circle, user):
    invite = accounts.circle_invite(actor=circle.owner, circle=circle, invitee=user)
    accounts.circle_invite_accept(user=user, invite_id=invite.pk)


@pytest.fixture
def author(db):
    return UserFactory(username="author")


@pytest.fixture
def circle(author):
    return accounts.circle_create(owner=author, name="Close friends")


@pytest.fixture
def follower(author):
    user = UserFactory(username="follower")
    accounts.follow_create(follower=user, target=author)
    return user


@pytest.fixture
def member(circle):
    user = UserFactory(username="member")
    join(circle, user)
    return user


@pytest.fixture
def stranger(db):
    return UserFactory(username="stranger")


@pytest.fixture
def friend(author):
    """Follows the author and is followed back: may see followers stories and message them."""
    user = UserFactory(username="friend")
    accounts.follow_create(follower=user, target=author)
    accounts.follow_create(follower=author, target=user)
    return user


@pytest.fixture
def api_as(db):
    def make(user=None, mode="token"):
        return Api(user, mode)

    return make
