"""Compare media storage with the rows: orphans (files no row refers to) and missing
files (keys a row refers to with no file); --delete-orphans removes the orphans."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from media import services


class Command(BaseCommand):
    help = "Find media files no row refers to (orphans) and keys with no file (missing)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--delete-orphans", action="store_true", help="delete the orphans found"
        )
        parser.add_argument(
            "--min-age",
            type=int,
            default=int(services.ORPHAN_MIN_AGE.total_seconds()),
            help="seconds a file with no row must be old to count as an orphan (uploads "
            "store their file before their row commits); default %(default)s",
        )
        parser.add_argument(
            "--list", action="store_true", dest="show_keys", help="print every key found"
        )

    def handle(self, *args, delete_orphans, min_age, show_keys, **options):
        found = services.media_check(min_age=timedelta(seconds=min_age))
        orphan_bytes = sum(orphan.size for orphan in found.orphans)
        self.stdout.write(
            f"{found.files} files in storage; {len(found.orphans)} orphans "
            f"({orphan_bytes} bytes); {len(found.missing)} missing; "
            f"{found.recent_unreferenced} newer than {min_age} s with no row (left alone)"
        )
        if show_keys:
            for orphan in found.orphans:
                self.stdout.write(f"orphan  {orphan.key}  {orphan.size}")
            for key in found.missing:
                self.stdout.write(f"missing {key}")
        if delete_orphans and found.orphans:
            deleted = services.media_orphans_delete(orphans=found.orphans)
            self.stdout.write(f"Deleted {deleted} orphans.")
        if found.missing:
            # an exit status a cron job or a monitor can see
            raise CommandError(f"{len(found.missing)} keys have no file (see --list).")
