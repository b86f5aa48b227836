"""Moving Image from posts to media lost no row: the table stays, only Django's state
moves. Rows written under the old state are read under the new one, links included."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("migrations")]

BEFORE = [("media", None)]  # unapplies media and what depends on it (posts 0004, ...)


def test_images_written_before_the_move_are_read_after_it():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    old = (
        MigrationExecutor(connection)
        .loader.project_state(
            [("posts", "0003_image_claimed_by"), ("accounts", "0003_avatar_from_image_pipeline")]
        )
        .apps
    )
    user = old.get_model("accounts", "User").objects.create(username="keeper", email="k@x.org")
    image = old.get_model("posts", "Image").objects.create(
        owner=user, purpose="post", original_key="originals/ab/keep", state="ready",
        renditions={"small": {"width": 1, "height": 1, "webp": "w", "jpeg": "j"}},
    )  # fmt: skip
    post = old.get_model("posts", "Post").objects.create(author=user, status="published")
    old.get_model("posts", "PostImage").objects.create(post=post, image=image, position=0)
    user.avatar = image
    user.save()

    executor = MigrationExecutor(connection)
    executor.migrate(latest)

    from accounts.models import User
    from media.models import Image
    from posts.models import Post

    moved = Image.objects.get(pk=image.pk)
    assert (moved.owner_id, moved.purpose, moved.original_key, moved.state) == (
        user.pk,
        "post",
        "originals/ab/keep",
        "ready",
    )
    assert moved.renditions["small"]["jpeg"] == "j"
    assert list(Post.objects.get(pk=post.pk).images.all()) == [moved]
    assert User.objects.get(pk=user.pk).avatar == moved
