"""Deleting an account: after the password, it stops at once (sessions, tokens, sockets),
then every row and stored file of theirs goes in resumable steps; their messages stay in
others' conversations as "deleted account"; the username is held for 30 days."""

import os
from datetime import timedelta

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import models
from django.utils import timezone

from accounts import hooks
from accounts.models import AccountDeletion, ApiToken, Circle, CircleRole, User, UsernameHold
from accounts.services import (
    account_delete_request,
    account_delete_run,
    api_token_create,
    data_export_build,
    data_export_request,
    user_create,
)
from circles.errors import ApiError
from media.models import Image
from messaging.models import Conversation, Message
from posts.models import Post
from tests.factories import DEFAULT_PASSWORD
from tests.leaving.conftest import build_world

pytestmark = pytest.mark.django_db


def rows_of(user_pk) -> list[str]:
    """Every row anywhere that still points at the person: each foreign key to users."""
    found = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if (
                isinstance(field, models.ForeignKey | models.OneToOneField)
                and field.related_model is User
                and model.objects.filter(**{field.name: user_pk}).exists()
            ):
                found.append(f"{model._meta.label}.{field.name}")
    return found


def their_keys(user) -> list[str]:
    keys = [k for image in Image.objects.filter(owner=user) for k in image.storage_keys()]
    return keys + [e.key for e in user.data_exports.all() if e.key]


def stored_files(root) -> set[str]:
    return {
        os.path.relpath(os.path.join(folder, name), root)
        for folder, _, names in os.walk(root)
        for name in names
    }


def everyone_elses_keys() -> set[str]:
    return {key for image in Image.objects.all() for key in image.storage_keys()}


def delete(user, **kwargs):
    account_delete_request(user=user, password=DEFAULT_PASSWORD, **kwargs)
    account_delete_run(user_id=user.pk)


@pytest.fixture
def world_with_export(world):
    data_export_build(export_id=data_export_request(user=world.alice).pk)
    return world


def test_nothing_of_theirs_is_left_in_the_database_or_on_disk(world_with_export, media_storage):
    world = world_with_export
    alice = world.alice
    keys = their_keys(alice)
    assert len(keys) > 20 and all(default_storage.exists(k) for k in keys)
    delete(alice)
    assert not User.objects.filter(pk=alice.pk).exists()
    assert rows_of(alice.pk) == []
    assert not [k for k in keys if default_storage.exists(k)]
    # what is left on disk is exactly what other people's images hold
    assert stored_files(media_storage) == everyone_elses_keys()


def test_others_conversations_stay_and_read_deleted_account(world, client_for):
    delete(world.alice)
    conversation = Conversation.objects.get(pk=world.conversation.pk)
    mine = Message.objects.select_related("sender").get(pk=world.alice_message.pk)
    assert mine.sender.username == "deleted-account" and mine.sender.name == "Deleted account"
    assert mine.content == "" and mine.image_id is None
    bob_message = Message.objects.get(pk=world.bob_message.pk)
    assert bob_message.content == "photo for you" and bob_message.image_id is not None
    page = client_for(world.bob).get(f"/direct/{conversation.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Message from a deleted account" in text and "thanks bob, mine too" not in text
    assert "Deleted account" in text
    api = client_for(world.bob).get(f"/api/v1/conversations/{conversation.pk}/messages")
    items = api.json()["items"]
    assert [m["sender"]["username"] for m in items] == ["deleted-account", "bob"]
    assert items[0]["content"] == "" and items[0]["image"] is None


def test_counts_and_circles_of_others_are_kept_right(world):
    delete(world.alice)
    bob_post = Post.objects.get(pk=world.bob_post.pk)
    assert (bob_post.like_count, bob_post.comment_count) == (0, 0)
    assert Post.objects.get(pk=world.carol_post.pk).like_count == 0
    circle = Circle.objects.get(pk=world.alice_circle.pk)  # handed to bob, not deleted
    assert circle.owner == world.bob
    assert circle.memberships.get(user=world.bob).role == CircleRole.OWNER
    assert Post.objects.filter(pk=world.bob_circle_post.pk).exists()


def test_sessions_and_tokens_end_at_once(world, client_for):
    _, raw = api_token_create(user=world.alice)
    browser = client_for(world.alice)
    assert browser.get("/api/v1/auth/me").status_code == 200
    account_delete_request(user=world.alice, password=DEFAULT_PASSWORD)
    # before the task has run: the account is already unusable
    assert not ApiToken.objects.filter(user=world.alice).exists()
    assert browser.get("/api/v1/auth/me").status_code == 401
    bearer = client_for(None).get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert bearer.status_code == 401
    assert client_for(None).post(
        "/accounts/login/", {"username": "alice", "password": DEFAULT_PASSWORD}
    ).status_code in (200, 400)  # the form again, not a redirect into the app
    assert client_for(None).get("/alice/").status_code == 404


@pytest.mark.parametrize("password", ["", "wrong password"])
def test_without_the_right_password_nothing_changes(world, password):
    with pytest.raises((ApiError, ValidationError)):
        account_delete_request(user=world.alice, password=password)
    world.alice.refresh_from_db()
    assert world.alice.is_active
    assert not AccountDeletion.objects.exists() and not UsernameHold.objects.exists()


def test_an_interrupted_deletion_resumes_after_the_last_step_done(world):
    calls = []

    def flaky(*, user):
        calls.append(user.pk)
        if len(calls) == 1:
            raise ConnectionError("worker lost")

    hooks.account_deleting.register("flaky", flaky, order=45)
    try:
        account_delete_request(user=world.alice, password=DEFAULT_PASSWORD)
        with pytest.raises(ConnectionError):
            account_delete_run(user_id=world.alice.pk)
        deletion = AccountDeletion.objects.get(user=world.alice)
        assert deletion.steps_done == ["circles_hand_over", "posts", "stories", "albums"]
        assert not Post.objects.filter(author=world.alice).exists()
        assert account_delete_run(user_id=world.alice.pk)
        assert calls == [world.alice.pk, world.alice.pk]  # the failed step again, once
        assert not User.objects.filter(pk=world.alice.pk).exists()
        assert account_delete_run(user_id=world.alice.pk)  # a redelivery: nothing to do
    finally:
        hooks.account_deleting.unregister("flaky")


def test_the_username_is_held_for_30_days(world):
    delete(world.alice)
    hold = UsernameHold.objects.get(username="alice")
    assert timedelta(days=29) < hold.until - timezone.now() <= timedelta(days=30)
    with pytest.raises(ValidationError) as refused:
        user_create(username="alice", email="new@example.com", password="a-long-pass-phrase-1")
    assert "deleted recently" in refused.value.message_dict["username"][0]
    UsernameHold.objects.filter(username="alice").update(until=timezone.now())
    assert user_create(username="alice", email="new@example.com", password="a-long-pass-phrase-1")


def test_deletion_on_s3_leaves_no_key_of_theirs_in_the_bucket(s3_storage):
    client, bucket = s3_storage
    world = build_world()
    data_export_build(export_id=data_export_request(user=world.alice).pk)
    keys = their_keys(world.alice)
    listed = {o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert set(keys) <= listed
    delete(world.alice)
    left = {o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert not set(keys) & left
    assert left == everyone_elses_keys()
    assert settings.STORAGES["default"]["OPTIONS"]["bucket_name"] == bucket
