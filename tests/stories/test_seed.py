"""seed_stories on top of seed_demo: a few active stories the tray shows, each photo
ready and stored; a rerun adds nothing."""

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command

from accounts.models import User
from stories.models import Story
from stories.selectors import story_list_for_tray

pytestmark = pytest.mark.django_db


def test_seed_stories_fills_the_tray_and_is_idempotent(media_storage, capsys):
    call_command("seed_demo")
    call_command("seed_stories")
    seeded = Story.objects.count()
    assert seeded >= 3 and f"Seeded {seeded} demo stories." in capsys.readouterr().out
    for story in Story.objects.select_related("image"):
        assert story.image.state == "ready"
        assert all(default_storage.exists(key) for key in story.image.storage_keys())
    alice = User.objects.get(username="alice")
    assert [entry for entry in story_list_for_tray(viewer=alice) if entry.stories]
    call_command("seed_stories")
    assert Story.objects.count() == seeded
