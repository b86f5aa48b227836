"""seed_posts: demo posts on top of seed_demo, photos rendered once and shared, counters
that match their rows, and a rerun that adds nothing."""

import io

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db.models import Count, F, Q

from accounts.models import User
from media.models import Image, ImageState
from posts import selectors
from posts.models import Comment, Post, PostImage, PostStatus
from tests.feed.conftest import bearer
from tests.posts.conftest import jpeg_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def media_in_tmp(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "one.jpg").write_bytes(jpeg_bytes((800, 600), (10, 120, 200)))
    (photos / "two.jpg").write_bytes(jpeg_bytes((600, 800), (200, 120, 10)))
    return photos


def seed_posts(photos, posts) -> str:
    out = io.StringIO()
    call_command("seed_posts", posts=posts, photos_dir=str(photos), stdout=out)
    return out.getvalue()


def test_seed_posts_on_top_of_seed_demo(media_in_tmp):
    call_command("seed_demo", users=40, follows=8, stdout=io.StringIO())
    assert "Seeded 120 posts" in seed_posts(media_in_tmp, 120)
    assert Post.objects.count() == 120
    assert not Post.objects.exclude(status=PostStatus.PUBLISHED).exists()
    # every photo is ready and points at the two renditions sets stored once
    assert not Image.objects.exclude(state=ImageState.READY).exists()
    keys = {img.renditions["large"]["jpeg"] for img in Image.objects.all()}
    assert len(keys) == 2 and all(default_storage.exists(key) for key in keys)
    assert not Post.objects.annotate(n=Count("post_images")).filter(n=0).exists()
    assert PostImage.objects.count() == Image.objects.count()
    # counters match their rows
    assert not Post.objects.annotate(n=Count("likes", distinct=True)).exclude(n=F("like_count"))
    assert not Post.objects.annotate(n=Count("comments", distinct=True)).exclude(
        n=F("comment_count")
    )
    assert not Comment.objects.annotate(
        n=Count("replies", filter=Q(replies__isnull=False))
    ).exclude(n=F("reply_count"))
    # a demo person's feed has posts, and the API serialises them
    person = User.objects.filter(username__startswith="demo", follows_given__isnull=False).first()
    assert selectors.post_list_for_feed(viewer=person).items
    assert bearer(person).get("/api/v1/feed").status_code == 200


def test_rerun_adds_only_what_is_missing_and_restores_shared_files(media_in_tmp):
    call_command("seed_demo", users=10, follows=3, stdout=io.StringIO())
    seed_posts(media_in_tmp, 20)
    key = Image.objects.first().renditions["small"]["webp"]
    default_storage.delete(key)  # as deleting one seeded post would
    assert "Already 20 posts" in seed_posts(media_in_tmp, 20)
    assert Post.objects.count() == 20
    assert default_storage.exists(key)
    seed_posts(media_in_tmp, 25)
    assert Post.objects.count() == 25


def test_seed_demo_with_posts_seeds_people_then_posts_and_a_rerun_adds_nothing(
    media_in_tmp, monkeypatch
):
    """`seed_demo --users N --posts M`, as the issue writes it: people, then seed_posts."""
    from posts.management.commands import seed_posts as command

    monkeypatch.setattr(command, "PHOTOS_DIR", media_in_tmp)  # the two small photos

    def seed_demo() -> str:
        out = io.StringIO()
        call_command("seed_demo", users=30, posts=60, stdout=out)
        return out.getvalue()

    def counts():
        return User.objects.count(), Post.objects.count(), Image.objects.count()

    output = seed_demo()
    assert "30 bulk users" in output and "Seeded 60 posts" in output  # both outputs
    assert User.objects.filter(username__startswith="demo").count() == 30
    assert Post.objects.count() == 60
    assert not Image.objects.exclude(state=ImageState.READY).exists()
    assert {img.renditions["large"]["jpeg"] for img in Image.objects.all()} == {
        "seed/one/large.jpg",
        "seed/two/large.jpg",
    }
    first = counts()
    assert "Already 60 posts; nothing to add." in seed_demo()
    assert counts() == first


def test_seed_demo_adds_no_posts_by_default():
    call_command("seed_demo", users=5, follows=2, stdout=io.StringIO())
    assert not Post.objects.exists()
