"""manage.py restore SRC: bring a backup back into an empty database and check its media."""

from django.core.management.base import BaseCommand, CommandError

from ops.backup import BackupError, backup_restore
from ops.destinations import destination_open


class Command(BaseCommand):
    help = (
        "Restore a backup (a folder or s3://bucket/prefix) into this empty database, write "
        "its media files back to storage and verify every key's sha256."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", help="a folder path, or s3://bucket/prefix")
        parser.add_argument(
            "--force",
            action="store_true",
            help="restore even though the database holds data (its tables are replaced)",
        )

    def handle(self, *args, source, force, **options):
        try:
            summary = backup_restore(
                source=destination_open(source), force=force, say=self.stdout.write
            )
        except (BackupError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if summary.failed:
            for failure in summary.failed:
                self.stderr.write(failure)
            raise CommandError(f"{len(summary.failed)} media files could not be restored.")
        self.stdout.write("Restored; every media key verified.")
