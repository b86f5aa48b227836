"""Fixtures for albums: a circle with an owner, an admin and a member, an outsider, and
albums with processed photos (media on a temporary disk)."""

import pytest

from accounts import hooks
from accounts import services as accounts
from accounts.models import CircleMembership, CircleRole
from albums import services
from albums.models import AlbumItem
from media.services import image_process
from tests.accounts.conftest import Api, api_for, media_storage, mode, session_api  # noqa: F401
from tests.factories import UserFactory
from tests.posts.conftest import jpeg_upload


@pytest.fixture(autouse=True)
def _media(media_storage):  # noqa: F811 - the fixture
    return media_storage


@pytest.fixture
def owner(db):
    return UserFactory(username="olga")


@pytest.fixture
def circle(owner):
    return accounts.circle_create(owner=owner, name="Close friends", description="Us")


@pytest.fixture
def admin(circle):
    user = UserFactory(username="adam")
    CircleMembership.objects.create(circle=circle, user=user, role=CircleRole.ADMIN)
    hooks.circle_members_changed(circle=circle)
    return user


@pytest.fixture
def member(circle):
    user = UserFactory(username="mia")
    CircleMembership.objects.create(circle=circle, user=user, role=CircleRole.MEMBER)
    hooks.circle_members_changed(circle=circle)  # into the circle's chat, as the services do
    return user


@pytest.fixture
def stranger(db):
    return UserFactory(username="sam")


def add_photos(album, actor, count=1, *, process=True, size=(640, 480)) -> list[AlbumItem]:
    """Photos uploaded into album by actor through the service, processed by the task body."""
    uploads = [jpeg_upload(f"p{i}.jpg", size=size) for i in range(count)]
    items = services.album_images_add(actor=actor, album=album, uploads=uploads)
    if process:
        for item in items:
            image_process(image_id=item.image_id)
    return items


@pytest.fixture
def circle_album(circle, owner, member):
    return services.album_create(owner=owner, title="Summer", circle_id=circle.pk)


def order_of(album) -> list:
    return list(
        AlbumItem.objects.filter(album=album).order_by("position").values_list("pk", flat=True)
    )
