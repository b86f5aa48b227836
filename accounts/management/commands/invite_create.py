"""An invitation link from the operator: the way in to an invite-only instance before
anyone can make one from their settings page.

    manage.py invite_create --url https://circles.example.com --note "For Sam"
    manage.py invite_create --by alice --days 3     # listed in alice's settings
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from accounts import services
from accounts.models import User


class Command(BaseCommand):
    help = "Make an invitation link (single use, expiring) and print it."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="", help="the site's address, e.g. https://…")
        parser.add_argument("--note", default="", help="who it is for (shown in the list)")
        parser.add_argument("--by", default="", help="the member it is listed under")
        parser.add_argument("--days", type=int, default=settings.INVITATION_DAYS)

    def handle(self, *args, url, note, by, days, **options):
        if days < 1:
            raise CommandError("--days must be at least 1.")
        member = None
        if by:
            member = User.objects.filter(username=by.lower(), is_active=True).first()
            if member is None:
                raise CommandError(f"No active member is called {by!r}.")
        invitation, raw = services.invitation_create(created_by=member, note=note, days=days)
        link = url.rstrip("/") + reverse("accounts:register_invited", args=[raw])
        self.stdout.write(link)
        expires = invitation.expires_at.strftime("%Y-%m-%d %H:%M UTC")
        self.stderr.write(f"Works once, until {expires}.")
