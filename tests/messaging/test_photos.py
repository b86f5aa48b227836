"""A photo sent in a conversation, across the handoff to media: who gets its bytes once it
is ready (the media view asks messaging's rule through the purpose table), and the live
update every participant's sockets receive when it is settled."""

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import Block, CircleMembership
from accounts.services import api_token_create, circle_member_remove
from media.links import media_url
from media.models import Image, ImageState
from media.services import image_process
from messaging import services
from tests.messaging.conftest import frames_until_quiet, next_frame, open_socket
from tests.posts.conftest import jpeg_bytes

pytestmark = pytest.mark.usefixtures("media_storage")


def send_photo(sender, conversation, client_id="photo") -> Image:
    message, _ = services.message_send(
        sender=sender,
        conversation_id=conversation.pk,
        client_id=client_id,
        image=SimpleUploadedFile("p.jpg", jpeg_bytes(), content_type="image/jpeg"),
    )
    return message.image


def fetch(viewer, image, *, mode="session", rendition="small") -> int:
    """Status of one rendition of image for viewer (None: anonymous), by session or token."""
    if viewer is None:
        client = Client()
    elif mode == "session":
        client = Client()
        client.force_login(viewer)
    else:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=viewer)[1]}")
    return client.get(media_url(image, rendition, "jpeg")).status_code


@pytest.mark.django_db
@pytest.mark.parametrize("mode", ["session", "bearer"])
def test_a_chat_photo_reaches_every_participant_and_nobody_else(
    mode, user, other_user, carol, outsider, group
):
    image = send_photo(user, group)
    assert fetch(other_user, image, mode=mode) == 404  # not ready yet: nothing to serve
    image_process(image_id=image.pk)
    for participant in (user, other_user, carol):
        assert fetch(participant, image, mode=mode) == 200, participant
    assert fetch(outsider, image, mode=mode) == 404
    assert fetch(None, image) == 404


@pytest.mark.django_db
def test_a_chat_photo_is_gone_for_who_hid_the_conversation(user, other_user, direct):
    image = send_photo(user, direct)
    image_process(image_id=image.pk)
    assert fetch(other_user, image) == 200
    services.conversation_hide(user=other_user, conversation_id=direct.pk)
    assert fetch(other_user, image) == 404
    assert fetch(user, image) == 200  # hiding is for the one who hid it


@pytest.mark.django_db
def test_a_chat_photo_is_gone_across_a_block(user, other_user, direct):
    image = send_photo(other_user, direct)
    image_process(image_id=image.pk)
    assert fetch(user, image, mode="bearer") == 200
    Block.objects.create(blocker=other_user, blocked=user)
    assert fetch(user, image, mode="session") == 404
    assert fetch(user, image, mode="bearer") == 404


@pytest.mark.django_db
def test_a_circle_chat_photo_is_gone_for_who_left_the_circle(user, other_user, circle_chat):
    image = send_photo(user, circle_chat)
    image_process(image_id=image.pk)
    assert fetch(other_user, image) == 200
    membership = CircleMembership.objects.get(circle=circle_chat.circle, user=other_user)
    circle_member_remove(actor=other_user, circle=membership.circle, user=other_user)
    assert fetch(other_user, image) == 404
    assert fetch(other_user, image, mode="bearer") == 404


@pytest.mark.django_db(transaction=True)
async def test_every_participant_socket_gets_the_photo_when_ready(
    user, other_user, carol, outsider, group
):
    image = await sync_to_async(send_photo)(user, group)
    sockets = {person: await open_socket(person) for person in (user, other_user, carol)}
    stranger = await open_socket(outsider)
    await sync_to_async(image_process)(image_id=image.pk)
    for person, socket in sockets.items():
        frame = await next_frame(socket)
        assert frame["type"] == "message.new", person
        assert frame["message"]["conversation_id"] == str(group.pk)
        photo = frame["message"]["image"]
        assert photo["id"] == str(image.pk) and photo["status"] == ImageState.READY
        assert photo["renditions"]["small"]["jpeg"] == media_url(image, "small", "jpeg")
    assert await frames_until_quiet(stranger) == []
    for socket in (*sockets.values(), stranger):
        await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_failed_chat_photo_is_announced_with_its_reason(user, other_user, direct):
    image = await sync_to_async(send_photo)(user, direct)
    await sync_to_async(Image.objects.filter(pk=image.pk).update)(original_key="missing/key")
    socket = await open_socket(other_user)
    await sync_to_async(image_process)(image_id=image.pk)
    frame = await next_frame(socket)
    assert frame["type"] == "message.new"
    assert frame["message"]["image"]["status"] == "failed"
    assert frame["message"]["image"]["error"] == "The uploaded file was lost."
    await socket.disconnect()
