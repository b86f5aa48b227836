"""The purpose table: every purpose in use is registered by the app that owns it, an
unregistered purpose is refused at upload and never served, and a purpose is one entry."""

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.storage import default_storage
from django.test import Client

from media import registry
from media.links import media_url
from media.models import Image
from media.services import images_accept
from tests.posts.conftest import jpeg_upload, make_post

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_storage")]


def test_each_owner_registered_its_purpose():
    assert registry.purposes_registered() == ["album", "avatar", "message", "post", "story"]


def test_a_purpose_without_an_entry_is_refused_at_upload_and_stores_nothing(user, media_storage):
    accepting = images_accept(owner=user, uploads=[jpeg_upload()], purpose="legacy")
    with pytest.raises(ValidationError) as refused, accepting:
        pytest.fail("nothing runs for an unknown purpose")
    assert "purpose" in refused.value.message_dict
    assert not Image.objects.exists()
    assert not media_storage.exists() or not any(media_storage.rglob("*.*"))


def test_an_image_whose_purpose_has_no_entry_is_never_served_even_to_its_owner(user):
    image = make_post(user).images.get()
    url = media_url(image, "small", "jpeg")
    client = Client()
    client.force_login(user)
    assert client.get(url).status_code == 200
    Image.objects.filter(pk=image.pk).update(purpose="legacy")  # a purpose nobody registered
    assert client.get(url).status_code == 404


def test_a_failure_inside_the_owner_write_removes_the_stored_originals(user):
    accepting = images_accept(owner=user, uploads=[jpeg_upload(), jpeg_upload()], purpose="post")
    with pytest.raises(RuntimeError), accepting:
        keys = list(Image.objects.values_list("original_key", flat=True))
        assert len(keys) == 2 and all(default_storage.exists(key) for key in keys)
        raise RuntimeError("the owner's own write failed")
    assert not Image.objects.exists()
    assert not any(default_storage.exists(key) for key in keys)


@pytest.mark.parametrize("name", ["post", "", "Has-Caps", "much_too_long_a_name"])
def test_a_purpose_is_registered_once_with_a_storable_name(name):
    with pytest.raises(ImproperlyConfigured):
        registry.purpose_register(name, may_see=lambda viewer, image: True)
    assert registry.purposes_registered() == ["album", "avatar", "message", "post", "story"]
