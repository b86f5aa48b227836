"""manage.py backup / restore / media_check on the real services: PostgreSQL (pg_dump,
pg_restore), media on S3 (moto's server over HTTP) and on local disk."""

import io
import json
import shutil
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.services.users import user_avatar_set
from albums.services import album_create
from media import storage
from media.models import Image
from media.services import image_process, media_check
from notifications.models import Notification
from posts import services as posts
from tests.accounts.conftest import media_storage
from tests.albums.conftest import add_photos
from tests.factories import UserFactory
from tests.media.conftest import s3_endpoint, s3_storage
from tests.posts.conftest import jpeg_upload, make_post
from tests.stories.conftest import make_story

__all__ = ["media_storage", "s3_endpoint", "s3_storage"]

pytestmark = pytest.mark.django_db(transaction=True)

BOOKKEEPING = {"django_migrations", "django_content_type", "auth_permission"}


def make_data() -> None:
    """People, a post with two photos, a like (and its notification), a comment, an avatar,
    a story and an album photo: images of four purposes."""
    author, friend = UserFactory(), UserFactory()
    post = make_post(author, files=[jpeg_upload("a.jpg"), jpeg_upload("b.jpg")], caption="hi")
    posts.post_like(user=friend, post=post)
    posts.comment_create(author=friend, post=post, content="Lovely")
    user_avatar_set(user=friend, file=jpeg_upload("me.jpg"))
    image_process(image_id=Image.objects.get(owner=friend).pk)
    make_story(author)
    album = album_create(owner=author, title="Summer")
    add_photos(album, author)
    assert Notification.objects.filter(recipient=author).exists()


def rows() -> dict[str, list[str]]:
    """Every table's rows, in a comparable form."""
    found = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names()):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            found[table] = sorted(repr(row) for row in cursor.fetchall())
    return found


def media_files() -> dict[str, bytes]:
    return {stored.key: storage.media_read(stored.key) for stored in storage.media_list()}


def wipe_database() -> None:
    tables = set(connection.introspection.table_names()) - BOOKKEEPING
    with connection.cursor() as cursor:
        cursor.execute(
            f"TRUNCATE {', '.join(connection.ops.quote_name(t) for t in tables)} CASCADE"
        )


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_round_trip_on_postgresql_with_media_on_s3(s3_storage, s3_endpoint):
    client, bucket = s3_storage
    client.create_bucket(Bucket=f"{bucket}-backups")
    make_data()
    before_rows, before_media = rows(), media_files()
    purposes = set(Image.objects.values_list("purpose", flat=True))
    assert purposes == {"post", "avatar", "story", "album"}
    assert len(before_media) == 5 * 9  # each: original + 8 renditions

    destination = f"s3://{bucket}-backups/nightly/1"
    run("backup", destination)
    manifest = json.loads(
        client.get_object(Bucket=f"{bucket}-backups", Key="nightly/1/manifest.json")["Body"].read()
    )
    assert manifest["database"]["engine"] == "postgresql"
    assert {entry["key"] for entry in manifest["media"]} == set(before_media)
    assert {entry["purpose"] for entry in manifest["media"]} == purposes
    for entry in manifest["media"][:3]:
        assert entry["size"] == len(before_media[entry["key"]])

    # lose everything: every row, every file
    wipe_database()
    for key in before_media:
        client.delete_object(Bucket=bucket, Key=key)
    assert rows() != before_rows and media_files() == {}

    out = run("restore", destination)
    assert "45 written back, 0 failed" in out
    assert rows() == before_rows
    assert media_files() == before_media


def test_round_trip_on_local_disk(media_storage, tmp_path):
    make_data()
    before_rows, before_media = rows(), media_files()
    run("backup", str(tmp_path / "backup"))
    assert (tmp_path / "backup" / "database.dump").stat().st_size > 0

    wipe_database()
    shutil.rmtree(media_storage)
    out = run("restore", str(tmp_path / "backup"))
    assert "45 written back" in out
    assert rows() == before_rows
    assert media_files() == before_media


def test_restore_refuses_a_database_with_data_unless_forced(media_storage, tmp_path):
    make_post(UserFactory())
    run("backup", str(tmp_path / "backup"))
    make_post(UserFactory())  # written after the backup
    before = rows()
    with pytest.raises(CommandError, match="not empty"):
        run("restore", str(tmp_path / "backup"))
    assert rows() == before

    run("restore", "--force", str(tmp_path / "backup"))
    assert rows() != before  # the backup's data, without the later post
    assert Image.objects.count() == 1


def test_restore_rewrites_a_damaged_file_and_reports_a_damaged_backup(media_storage, tmp_path):
    make_post(UserFactory())
    run("backup", str(tmp_path / "backup"))
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    first, second = manifest["media"][0]["key"], manifest["media"][1]["key"]
    (media_storage / first).write_bytes(b"bit rot")  # damaged in storage: written back
    (media_storage / second).unlink()
    (tmp_path / "backup" / "media" / second).write_bytes(b"damaged")  # and in the backup
    wipe_database()
    with pytest.raises(CommandError, match="1 media files could not be restored"):
        run("restore", str(tmp_path / "backup"))
    assert storage.media_read(first) != b"bit rot"


def test_backup_refuses_a_place_that_holds_one(media_storage, tmp_path):
    run("backup", str(tmp_path / "backup"))
    with pytest.raises(CommandError, match="already holds a backup"):
        run("backup", str(tmp_path / "backup"))


@pytest.mark.django_db
def test_media_check_finds_orphans_and_missing_and_deletes_orphans(media_storage):
    post = make_post(UserFactory())
    image = post.images.get()
    storage.media_write("originals/ab/left-behind.jpg", b"orphan")
    storage.media_delete([image.renditions["large"]["webp"]])

    found = media_check(min_age=timedelta(0))
    assert [orphan.key for orphan in found.orphans] == ["originals/ab/left-behind.jpg"]
    assert found.missing == [image.renditions["large"]["webp"]]
    # a file newer than the grace period is an upload on its way, not an orphan
    assert media_check().orphans == [] and media_check().recent_unreferenced == 1

    with pytest.raises(CommandError, match="1 keys have no file"):
        run("media_check", "--min-age", "0", "--delete-orphans")
    assert not storage.media_exists("originals/ab/left-behind.jpg")
    assert storage.media_exists(image.original_key)  # a referenced file stays
    assert media_check(min_age=timedelta(0)).orphans == []


@pytest.mark.django_db
def test_media_check_on_s3(s3_storage):
    client, bucket = s3_storage
    post = make_post(UserFactory())
    client.put_object(Bucket=bucket, Key="renditions/zz/stray.webp", Body=b"x")
    found = media_check(min_age=timedelta(0))
    assert [orphan.key for orphan in found.orphans] == ["renditions/zz/stray.webp"]
    assert found.missing == [] and found.files == 1 + len(post.images.get().storage_keys())


@pytest.mark.django_db
def test_s3_backup_client_reaches_the_object_store(s3_storage):
    """The backup bucket is reached with media's own endpoint and credentials."""
    from ops.destinations import destination_open

    client, bucket = s3_storage
    target = destination_open(f"s3://{bucket}/backups")
    target.put("probe", b"1")
    assert client.get_object(Bucket=bucket, Key="backups/probe")["Body"].read() == b"1"
    assert target.exists("probe") and not target.exists("nothing")
