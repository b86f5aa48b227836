"""Demo stories on top of `seed_demo`: a few active stories from the small demo world, so
the tray is not empty on a fresh `make run`. `seed_demo` runs it (call_command).

    manage.py seed_stories

Idempotent: a demo person who has an active story gets none more; one whose stories all
expired gets new ones. Photos come from tests/photos (generated gradients when that
folder is missing), rendered once per run; each story's renditions are stored under keys
of its own, since the cleanup removes an expired story's files.
"""

import io
import random
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from PIL import Image as PILImage

from accounts.models import Circle, User
from media import images, storage
from media.models import Image, ImageState
from stories.models import IMAGE_PURPOSE, LIFETIME, Audience, Story

PHOTOS_DIR = Path(settings.BASE_DIR) / "tests" / "photos"
PHOTOS = ("flowers.jpeg", "Landscape_6.jpg", "4.webp")
# who posts stories, and how many; bob's last one goes to alice's circle
PLAN = {"bob": 2, "dave": 1, "erin": 3, "alice": 1}


class Command(BaseCommand):
    help = "Add a few active demo stories (after seed_demo). Safe to rerun."

    def handle(self, *args, **options):
        people = {u.username: u for u in User.objects.filter(username__in=PLAN)}
        active = set(
            Story.objects.active()
            .filter(author__in=people.values())
            .values_list("author__username", flat=True)
        )
        wanted = {name: n for name, n in PLAN.items() if name in people and name not in active}
        if not wanted:
            self.stdout.write("Demo stories already active; nothing to add.")
            return
        rendered = self.render_photos()
        circle = Circle.objects.filter(owner__username="alice", name="Close friends").first()
        rng, now, made = random.Random(7), timezone.now(), 0
        with transaction.atomic():
            for name, count in wanted.items():
                for index in range(count):
                    age = timedelta(hours=rng.uniform(0.2, 20))
                    to_circle = name == "bob" and index == count - 1 and circle is not None
                    self.story_create(
                        author=people[name],
                        result=rendered[made % len(rendered)],
                        created_at=now - age - timedelta(minutes=count - index),
                        circle=circle if to_circle else None,
                    )
                    made += 1
        self.stdout.write(f"Seeded {made} demo stories.")

    def render_photos(self) -> list:
        sources = [PHOTOS_DIR / name for name in PHOTOS if (PHOTOS_DIR / name).exists()]
        rendered = []
        for path in sources:
            try:
                rendered.append(images.render_renditions(path.read_bytes()))
            except images.ImageRejected:
                continue
        if not rendered:  # no photo folder on this machine: a plain colour will do
            buffer = io.BytesIO()
            PILImage.new("RGB", (1080, 1920), (106, 76, 240)).save(buffer, "JPEG")
            rendered.append(images.render_renditions(buffer.getvalue()))
        return rendered

    def story_create(self, *, author, result, created_at, circle) -> Story:
        renditions = {}
        for name, rendition in result.renditions.items():
            renditions[name] = {"width": rendition.width, "height": rendition.height}
            for fmt in ("webp", "jpeg"):
                renditions[name][fmt] = storage.rendition_save(
                    storage.rendition_key(fmt), getattr(rendition, fmt)
                )
        image = Image.objects.create(
            owner=author,
            purpose=IMAGE_PURPOSE,
            original_key="",
            state=ImageState.READY,
            width=result.width,
            height=result.height,
            blurhash=result.blurhash,
            renditions=renditions,
        )
        return Story.objects.create(
            author=author,
            image=image,
            audience=Audience.CIRCLE if circle else Audience.FOLLOWERS,
            circle=circle,
            created_at=created_at,
            expires_at=created_at + LIFETIME,
        )
