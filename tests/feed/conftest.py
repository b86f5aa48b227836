"""Fixtures for the feed and discovery: people, a graph, and posts made quickly.

`quick_post` writes a published post with one ready photo straight into the tables (no
image rendering), with a chosen created_at, so tests can make dozens; `make_post` (from
tests/posts) takes a post through the real pipeline where that matters."""

import itertools
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Block, Circle, CircleMembership, CircleRole, Follow
from accounts.services import api_token_create
from media.models import Image, ImageState
from posts.models import IMAGE_PURPOSE, Post, PostImage, PostStatus
from tests.factories import UserFactory

_clock = itertools.count(1)

RENDITIONS = {
    name: {
        "width": side,
        "height": side,
        "webp": f"seed/x/{name}.webp",
        "jpeg": f"seed/x/{name}.jpg",
    }
    for name, side in (("thumbnail", 150), ("small", 320), ("medium", 640), ("large", 1080))
}


def quick_post(
    author, *, at=None, status=PostStatus.PUBLISHED, caption="", renditions=None, **fields
) -> Post:
    """A post with one ready photo, written directly; `at` is its created_at (default:
    a little later than the previous quick_post, so order is known). The photo's files
    do not exist unless `renditions` names real ones (e.g. a make_post photo's)."""
    at = at or timezone.now() - timedelta(hours=1) + timedelta(seconds=next(_clock))
    post = Post.objects.create(author=author, caption=caption, status=status, **fields)
    Post.objects.filter(pk=post.pk).update(created_at=at)
    image = Image.objects.create(
        owner=author,
        purpose=IMAGE_PURPOSE,
        original_key="",
        state=ImageState.READY if status == PostStatus.PUBLISHED else ImageState.PENDING,
        width=1080,
        height=1080,
        blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj",
        renditions=(renditions or RENDITIONS) if status == PostStatus.PUBLISHED else {},
    )
    PostImage.objects.create(post=post, image=image, position=0)
    return Post.objects.get(pk=post.pk)


def bearer(user) -> Client:
    _, raw = api_token_create(user=user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def follow(follower, *targets) -> None:
    for target in targets:
        Follow.objects.get_or_create(follower=follower, following=target)


def block(blocker, blocked) -> None:
    Block.objects.get_or_create(blocker=blocker, blocked=blocked)


def make_circle(owner, *members, name="Close friends") -> Circle:
    circle = Circle.objects.create(name=name, owner=owner)
    CircleMembership.objects.create(circle=circle, user=owner, role=CircleRole.OWNER)
    for member in members:
        CircleMembership.objects.create(circle=circle, user=member, role=CircleRole.MEMBER)
    return circle


def ids(items) -> list[str]:
    return [str(getattr(item, "pk", None) or item["id"]) for item in items]


@pytest.fixture
def viewer(db):
    return UserFactory(username="viewer", display_name="Vera Viewer")


@pytest.fixture
def friend(db):
    return UserFactory(username="friend", display_name="Fred Friend")


@pytest.fixture
def stranger(db):
    return UserFactory(username="stranger", display_name="Stan Stranger")
