"""Render images again from their kept originals, e.g. after a pipeline change."""

from django.core.management.base import BaseCommand

from media import services
from media.models import Image, ImageState


class Command(BaseCommand):
    help = "Queue images for processing again from their originals."

    def add_arguments(self, parser):
        parser.add_argument("--failed", action="store_true", help="only images that failed")
        parser.add_argument("--all", action="store_true", help="every image, ready ones too")
        parser.add_argument("ids", nargs="*", help="image ids")

    def handle(self, *args, ids, failed, all, **options):
        images = Image.objects.all()
        if ids:
            images = images.filter(pk__in=ids)
        elif failed:
            images = images.filter(state=ImageState.FAILED)
        elif not all:
            self.stderr.write("Name image ids, or pass --failed or --all.")
            return
        count = services.image_reprocess(image_ids=list(images.values_list("pk", flat=True)))
        self.stdout.write(f"Queued {count} images.")
