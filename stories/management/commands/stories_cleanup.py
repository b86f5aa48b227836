"""`manage.py stories_cleanup`: remove expired stories, their views and their files now —
the same service the Celery beat task `stories.cleanup` runs every 10 minutes."""

from django.core.management.base import BaseCommand

from stories.services import stories_cleanup


class Command(BaseCommand):
    help = "Remove expired stories, their views and their photos' files (idempotent)."

    def handle(self, *args, **options):
        removed = stories_cleanup()
        self.stdout.write(f"Removed {removed} expired stories.")
