"""Demo data. Safe to run again: it adds what is missing and changes nothing else.

    manage.py seed_demo                 # the small world `make run` uses (a few seconds)
    manage.py seed_demo --users 10000   # plus 10,000 people following ~150 others each
    manage.py seed_demo --users 10000 --posts 200000   # and then 200,000 posts (seed_posts)

The small world: alice, bob, carol (a private account), dave and erin; alice and bob
follow each other, alice follows carol (approved), bob's request to carol is pending,
and alice's circle "Close friends" (with its group chat) has bob and dave in it and an
invitation for carol.

--users N adds people named demo00000… in bulk, inside one transaction: one password hash
computed once for all, bulk_create in large batches, follows through COPY on PostgreSQL
(see insert_follows), and follows only for people created in this run (so a rerun is
quick). 10,000 people × 150 follows take ~9 s on PostgreSQL (2-core machine). About a tenth
are private; follows to a private account count as approved, and each private account
also gets a few pending requests. One circle per 25 people, with 5–12 members; these
bulk circles get no group chat (syncing and announcing 400 chats would add ~10 s): it
appears with the circle's next membership change.

--posts N then runs `seed_posts --posts N` (posts/management/commands/seed_posts.py:
photos, likes, comments, hashtags, bookmarks; it tops the database up to N posts, so a
rerun adds nothing) and passes its output on. 200,000 posts take ~65 s on PostgreSQL.
The default, 0, adds no posts: the small world stays quick.
"""

import random
import time
from contextlib import contextmanager
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.db.models import UniqueConstraint
from django.utils import timezone

from accounts import hooks
from accounts.models import (
    Circle,
    CircleInvite,
    CircleMembership,
    CircleRole,
    Follow,
    FollowRequest,
    User,
)

DEMO_PASSWORD = "circles-demo"  # noqa: S105 - printed for people trying the app locally
DEMO_USERS = [
    ("alice", "Alice Martin", False),
    ("bob", "Bob Okafor", False),
    ("carol", "Carol Nguyen", True),
    ("dave", "Dave Kowalski", False),
    ("erin", "Erin Haddad", False),
]
DEMO_FOLLOWS = [("alice", "bob"), ("bob", "alice"), ("alice", "carol"), ("dave", "alice")]
DEMO_REQUESTS = [("bob", "carol")]
BULK_PREFIX = "demo"
BATCH = 5000
REBUILD_KEYS_FROM = 100_000  # follows in one load
FIRST_NAMES = [
    "Ana",
    "Ben",
    "Chloé",
    "Dmitri",
    "Emeka",
    "Fatima",
    "Gus",
    "Hana",
    "Ivan",
    "Jade",
    "Kofi",
    "Lena",
    "Mateo",
    "Nia",
    "Omar",
]
LAST_NAMES = [
    "Silva",
    "Brown",
    "Dubois",
    "Ivanova",
    "Okoro",
    "Haddad",
    "Lind",
    "Sato",
    "Petrov",
    "Moreau",
    "Mensah",
    "Novak",
]


class Command(BaseCommand):
    help = "Create demo people, follows and circles (password 'circles-demo'). Safe to rerun."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=0, help="also add N bulk people")
        parser.add_argument(
            "--follows", type=int, default=150, help="follows per bulk person (default 150)"
        )
        parser.add_argument("--seed", type=int, default=42, help="random seed")
        parser.add_argument(
            "--posts",
            type=int,
            default=0,
            help="then run seed_posts to have N posts in total (default 0: none)",
        )
        parser.add_argument(
            "--stories",
            action="store_true",
            help="then run seed_stories: a few active demo stories (make run does)",
        )

    def handle(self, *args, users, follows, seed, posts, stories, **options):
        started = time.monotonic()
        password_hash = make_password(DEMO_PASSWORD)
        created = self.seed_small_world(password_hash)
        message = f"Demo data ready: {created} new demo users"
        if users > 0:
            added, follow_count = self.seed_bulk(users, follows, password_hash, random.Random(seed))
            self.refresh_planner_statistics()
            message += f", {added} bulk users with {follow_count} follows"
        elapsed = time.monotonic() - started
        self.stdout.write(f"{message} in {elapsed:.1f} s; log in as alice / {DEMO_PASSWORD}.")
        if posts > 0:
            call_command("seed_posts", posts=posts, stdout=self.stdout, stderr=self.stderr)
        if stories:  # a few active stories, so the tray is not empty (stories/, above us)
            call_command("seed_stories", stdout=self.stdout, stderr=self.stderr)

    # --- the small, hand-made world -----------------------------------------------------

    @transaction.atomic
    def seed_small_world(self, password_hash: str) -> int:
        people, created = {}, 0
        for username, display_name, is_private in DEMO_USERS:
            people[username], was_created = User.objects.get_or_create(
                username=username,
                defaults={
                    "email": f"{username}@example.com",
                    "display_name": display_name,
                    "is_private": is_private,
                    "password": password_hash,
                },
            )
            created += was_created
        Follow.objects.bulk_create(
            [Follow(follower=people[a], following=people[b]) for a, b in DEMO_FOLLOWS],
            ignore_conflicts=True,
        )
        FollowRequest.objects.bulk_create(
            [FollowRequest(requester=people[a], target=people[b]) for a, b in DEMO_REQUESTS],
            ignore_conflicts=True,
        )
        circle = Circle.objects.filter(owner=people["alice"], name="Close friends").first()
        if circle is None:
            circle = Circle.objects.create(
                owner=people["alice"], name="Close friends", description="The usual suspects"
            )
        CircleMembership.objects.bulk_create(
            [
                CircleMembership(circle=circle, user=people["alice"], role=CircleRole.OWNER),
                CircleMembership(circle=circle, user=people["bob"], role=CircleRole.ADMIN),
                CircleMembership(circle=circle, user=people["dave"], role=CircleRole.MEMBER),
            ],
            ignore_conflicts=True,
        )
        CircleInvite.objects.bulk_create(
            [CircleInvite(circle=circle, invitee=people["carol"], invited_by=people["alice"])],
            ignore_conflicts=True,
        )
        hooks.circle_members_changed(circle=circle)  # its group chat, as circle_create makes
        return created

    # --- many people, in bulk -----------------------------------------------------------

    @transaction.atomic
    def seed_bulk(self, count: int, follows: int, password_hash: str, rng: random.Random):
        names = [f"{BULK_PREFIX}{i:05d}" for i in range(count)]
        existing = {name for name, _ in self.bulk_people(names)}
        new_users = []
        for name in names:
            if name in existing:
                continue
            new_users.append(
                User(
                    username=name,
                    email=f"{name}@example.com",
                    display_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                    is_private=rng.random() < 0.1,
                    password=password_hash,
                )
            )
        User.objects.bulk_create(new_users, batch_size=BATCH)
        ids = [pk for _, pk in self.bulk_people(names)]
        new_ids = [u.pk for u in new_users]
        per_person = max(0, min(follows, len(ids) - 1))
        now, spread = timezone.now(), 90 * 24 * 3600  # follows made over the last 90 days
        rows = []
        for follower in new_ids:
            targets = [t for t in rng.sample(ids, per_person + 1) if t != follower]
            rows += [
                (follower, following, now - timedelta(seconds=rng.randrange(spread)))
                for following in targets[:per_person]
            ]
        self.insert_follows(rows)
        private = {u.pk for u in new_users if u.is_private}
        followed = {(a, b) for a, b, _ in rows if b in private}
        self.seed_bulk_requests(new_users, ids, followed, rng)
        self.seed_bulk_circles(new_ids, rng)
        return len(new_users), len(rows)

    def bulk_people(self, names: list[str]) -> list[tuple]:
        """(username, pk) of those of `names` who exist, asked BATCH names at a time: one
        `IN` of more than 65,535 names would pass PostgreSQL's limit on a statement's
        parameters (from ~65,000 people on)."""
        found = []
        for start in range(0, len(names), BATCH):
            chunk = names[start : start + BATCH]
            found += User.objects.filter(username__in=chunk).values_list("username", "pk")
        return found

    def insert_follows(self, rows: list[tuple]) -> None:
        """Insert (follower_id, following_id, created_at) rows, none of which exists yet
        (every follower was created in this run). PostgreSQL takes them through COPY,
        with the table's indexes and keys set aside for a big load (see
        follow_keys_set_aside); other databases get bulk_create."""
        if connection.vendor != "postgresql":
            # (created_at is auto_now_add there: the spread in time is PostgreSQL-only)
            Follow.objects.bulk_create(
                [Follow(follower_id=a, following_id=b) for a, b, _ in rows], batch_size=BATCH
            )
            return
        columns = "(follower_id, following_id, created_at)"
        statement = f"COPY {Follow._meta.db_table} {columns} FROM STDIN"  # noqa: S608
        big = len(rows) >= REBUILD_KEYS_FROM
        with (
            self.follow_keys_set_aside(big),
            connection.cursor() as cursor,
            cursor.copy(statement) as copy,
        ):
            for row in rows:
                copy.write_row(row)

    @contextmanager
    def follow_keys_set_aside(self, enabled: bool):
        """For a big load, drop the follow table's secondary indexes, unique constraint and
        foreign keys, and build them again afterwards: one sorted index build and one
        join to validate each key beat 1.5 million incremental index insertions and three
        million deferred per-row key checks (about 3× faster overall). All of it happens
        in this command's transaction, so a failure rolls everything back; the names and
        definitions are the ones the migrations made."""
        if not enabled:
            yield
            return
        table, quote = Follow._meta.db_table, connection.ops.quote_name
        uniques = [c for c in Follow._meta.constraints if isinstance(c, UniqueConstraint)]
        with connection.cursor() as cursor:
            # ALTER TABLE refuses to run while deferred key checks are pending: run them
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            found = connection.introspection.get_constraints(cursor, table)
            keys = {name: c for name, c in found.items() if c["foreign_key"]}
            for name in keys:
                cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        with connection.schema_editor(atomic=False) as editor:
            for index in Follow._meta.indexes:
                editor.remove_index(Follow, index)
            for constraint in uniques:
                editor.remove_constraint(Follow, constraint)
        yield
        with connection.schema_editor(atomic=False) as editor:
            for constraint in uniques:
                editor.add_constraint(Follow, constraint)
            for index in Follow._meta.indexes:
                editor.add_index(Follow, index)
        with connection.cursor() as cursor:
            for name, key in keys.items():
                (column,), (target_table, target_column) = key["columns"], key["foreign_key"]
                cursor.execute(
                    f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} "
                    f"FOREIGN KEY ({quote(column)}) "
                    f"REFERENCES {quote(target_table)} ({quote(target_column)}) "
                    "DEFERRABLE INITIALLY DEFERRED"
                )

    def refresh_planner_statistics(self) -> None:
        """After a bulk load PostgreSQL's statistics and visibility map are stale until
        autovacuum runs; refresh them now so the first requests get good plans and
        index-only counts. (VACUUM cannot run inside a transaction: then ANALYZE only.)"""
        if connection.vendor != "postgresql":
            return
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        tables = (User, Follow, FollowRequest, Circle, CircleMembership)
        with connection.cursor() as cursor:
            for model in tables:
                cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")

    def seed_bulk_requests(self, new_users, ids, followed, rng):
        """A few pending requests for each new private account, from people who don't
        follow it yet."""
        rows = [
            FollowRequest(requester_id=requester, target_id=user.pk)
            for user in new_users
            if user.is_private
            for requester in rng.sample(ids, min(3, len(ids)))
            if requester != user.pk and (requester, user.pk) not in followed
        ]
        FollowRequest.objects.bulk_create(rows, batch_size=BATCH, ignore_conflicts=True)

    def seed_bulk_circles(self, new_ids, rng):
        owners = new_ids[::25]
        circles = [
            Circle(owner_id=owner, name=f"{rng.choice(LAST_NAMES)} friends") for owner in owners
        ]
        Circle.objects.bulk_create(circles, batch_size=BATCH)
        memberships = []
        for circle in circles:
            memberships.append(
                CircleMembership(circle=circle, user_id=circle.owner_id, role=CircleRole.OWNER)
            )
            others = rng.sample(new_ids, min(len(new_ids), rng.randint(5, 12)))
            memberships += [
                CircleMembership(circle=circle, user_id=user_id, role=CircleRole.MEMBER)
                for user_id in others
                if user_id != circle.owner_id
            ]
        CircleMembership.objects.bulk_create(memberships, batch_size=BATCH, ignore_conflicts=True)
