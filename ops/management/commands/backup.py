"""manage.py backup DEST: a consistent snapshot of the database and every media file."""

from django.core.management.base import BaseCommand, CommandError

from ops.backup import BackupError, backup_write
from ops.destinations import destination_open


class Command(BaseCommand):
    help = (
        "Write a consistent snapshot (database dump, media files and a manifest of every "
        "media key with its sha256) to a new folder or to s3://bucket/prefix."
    )

    def add_arguments(self, parser):
        parser.add_argument("destination", help="a folder path, or s3://bucket/prefix")

    def handle(self, *args, destination, **options):
        try:
            target = destination_open(destination)
            summary = backup_write(destination=target, say=self.stdout.write)
        except (BackupError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if summary.missing:
            self.stderr.write(
                f"{len(summary.missing)} keys had no file (deleted meanwhile, or lost "
                "before): listed under 'missing' in the manifest."
            )
        self.stdout.write(f"Backup written to {target}.")
