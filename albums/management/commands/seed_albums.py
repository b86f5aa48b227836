"""Demo albums: alice's circle "Close friends" (from seed_demo) gets an album with a few
photos added by alice and bob, in order, with a 2:3 cover. Safe to rerun."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from PIL import Image as PILImage

from accounts.models import Circle
from albums import services
from albums.models import Album
from media.services import image_process

TITLE = "Weekend at the lake"
COLOURS = [(64, 120, 200), (230, 160, 60), (90, 170, 110), (200, 80, 120)]


def _photo(index: int, colour) -> SimpleUploadedFile:
    picture = PILImage.new("RGB", (960, 720), colour)
    for x in range(0, 960, 8):  # a gradient, so the thumbnails are not flat squares
        shade = tuple(min(255, c + x // 12) for c in colour)
        picture.paste(shade, (x, 0, x + 8, 360))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=85)
    return SimpleUploadedFile(f"lake-{index}.jpg", buffer.getvalue(), content_type="image/jpeg")


class Command(BaseCommand):
    help = "Create a demo circle album with photos (after seed_demo). Safe to rerun."

    def handle(self, *args, **options):
        circle = Circle.objects.filter(owner__username="alice", name="Close friends").first()
        if circle is None:
            self.stdout.write("No demo circle (run seed_demo first); no albums made.")
            return
        if Album.objects.filter(circle=circle, title=TITLE).exists():
            self.stdout.write("Demo album already there.")
            return
        alice = circle.owner
        bob = circle.members.filter(username="bob").first() or alice
        album = services.album_create(
            owner=alice, title=TITLE, description="Photos from everyone.", circle_id=circle.pk
        )
        items = []
        for index, colour in enumerate(COLOURS):
            adder = alice if index % 2 == 0 else bob
            items += services.album_images_add(
                actor=adder, album=album, uploads=[_photo(index, colour)]
            )
        for item in items:
            image_process(image_id=item.image_id)  # in process: the demo needs no worker
        item = items[1]
        item.image.refresh_from_db()
        crop = services.cover_crop_centered(image=item.image, aspect="2:3")
        services.album_cover_set(actor=alice, album=album, item_id=item.pk, aspect="2:3", crop=crop)
        self.stdout.write(f"Demo album “{TITLE}” with {len(items)} photos.")
