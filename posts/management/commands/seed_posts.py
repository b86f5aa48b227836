"""Demo posts on top of `seed_demo`: photos, likes, comments, hashtags and bookmarks.

    manage.py seed_demo --users 10000 && manage.py seed_posts --posts 200000

--posts N makes sure the database holds at least N posts: it adds the difference (none
when there are enough already), so a rerun is quick and changes nothing else.

Photos are real: a handful of pictures (tests/photos, or generated gradients when
that folder is missing) go through media.images.render_renditions once, their renditions
are stored once under fixed keys (seed/<photo>/<rendition>.<ext>), and every bulk Image
row points at those same keys, already `ready`. A rerun writes back any of those files
that went missing (deleting a seeded post removes its files, which the other seeded
posts share).

Authors are every active person, some much busier than others; posts are spread over the
last 90 days (newest denser), ~80 % public, ~15 % followers-only, ~5 % to one of the
author's circles. Likes (~8 a post, skewed), comments with some replies, 1–3 hashtags
from a skewed list, a few @mentions, and bookmarks. Counters (like_count, comment_count,
reply_count) match the rows.

PostgreSQL takes the rows through COPY inside one transaction (a failure leaves
nothing), then VACUUM ANALYZE; other databases get bulk_create.
"""

import io
import json
import random
import time
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from PIL import Image as PILImage
from PIL import ImageDraw

from accounts.models import CircleMembership, User
from media import images
from media.models import Image, ImageState
from posts import inbox
from posts.models import (
    IMAGE_PURPOSE,
    Bookmark,
    Comment,
    Hashtag,
    Like,
    Mention,
    Post,
    PostHashtag,
    PostImage,
    PostStatus,
    Visibility,
)

PHOTOS_DIR = Path(settings.BASE_DIR) / "tests" / "photos"
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
MAX_PHOTOS = 6
SPREAD_DAYS = 90
BATCH = 5000
TAGS = [
    "sunset", "travel", "food", "coffee", "friends", "weekend", "nature", "cats", "dogs",
    "beach", "mountains", "city", "streetphoto", "family", "summer", "winter", "autumn",
    "spring", "hiking", "books", "music", "concert", "art", "design", "garden", "flowers",
    "birthday", "brunch", "running", "cycling", "sea", "lake", "forest", "roadtrip",
    "architecture", "night", "rain", "snow", "picnic", "baking", "pizza", "ramen", "tea",
    "vintage", "film", "selfie", "throwback", "sky", "clouds", "bridge", "market", "museum",
    "festival", "home", "cozy",
]  # fmt: skip
PHRASES = (
    "Golden hour never gets old",
    "What a day",
    "Finally made it here",
    "Sunday mood",
    "Can't believe this view",
    "Little things",
    "Best company",
    "Back again",
    "Trying something new",
    "Good times with good people",
    "This light though",
    "Slow morning",
)
COMMENTS = (
    "Love this!",
    "Wow 😍",
    "So beautiful",
    "Where is this?",
    "Miss you guys",
    "Great shot",
    "Take me there",
    "🔥🔥",
    "Looks amazing",
    "Haha yes",
    "Need to go back",
    "The colours!",
)
LOCATIONS = ("", "", "", "Lisbon", "Kyoto", "Berlin", "Lagos", "Montréal", "Oslo", "Lima")


class Command(BaseCommand):
    help = "Add demo posts (with photos, likes, comments, hashtags) up to --posts in total."

    def add_arguments(self, parser):
        parser.add_argument("--posts", type=int, default=100, help="posts wanted in total")
        parser.add_argument("--likes", type=float, default=8.0, help="mean likes per post")
        parser.add_argument("--comments", type=float, default=1.5, help="mean comments a post")
        parser.add_argument("--photos-dir", default=str(PHOTOS_DIR), help="source photos")
        parser.add_argument("--seed", type=int, default=7, help="random seed")

    def handle(self, *args, posts, likes, comments, photos_dir, seed, **options):
        started = time.monotonic()
        wanted = posts - Post.objects.count()
        photos = self.prepare_photos(Path(photos_dir))
        if wanted <= 0:
            self.stdout.write(f"Already {Post.objects.count()} posts; nothing to add.")
            return
        people = list(User.objects.filter(is_active=True).values_list("pk", flat=True))
        if not people:
            raise CommandError("No people yet: run `manage.py seed_demo` first.")
        rng = random.Random(seed + Post.objects.count())
        with transaction.atomic():
            counts = Seeder(self, rng, people, photos, likes, comments).run(wanted)
        self.refresh_planner_statistics()
        inbox.forget_all()  # bulk inserts skip the fan-out: lists are rebuilt on next read
        elapsed = time.monotonic() - started
        summary = ", ".join(f"{n} {what}" for what, n in counts.items())
        self.stdout.write(f"Seeded {summary} in {elapsed:.1f} s.")

    # --- photos: rendered once, stored once ---------------------------------------------

    def prepare_photos(self, folder: Path) -> list[dict]:
        """The Image fields for each source photo, with its renditions stored once."""
        sources = sorted(p for p in folder.glob("*") if p.suffix.lower() in PHOTO_SUFFIXES)
        sources = [(p.stem, p.read_bytes()) for p in sources[:MAX_PHOTOS]]
        if not sources:  # no photo folder on this machine: make a few
            sources = [(f"gradient{i}", _gradient_jpeg(i)) for i in range(4)]
        prepared = []
        for stem, data in sources:
            try:
                result = images.render_renditions(data)
            except images.ImageRejected:
                continue
            renditions = {}
            for name, rendition in result.renditions.items():
                renditions[name] = {"width": rendition.width, "height": rendition.height}
                for fmt in ("webp", "jpeg"):
                    ext = "jpg" if fmt == "jpeg" else fmt
                    key = _store_once(f"seed/{_slug(stem)}/{name}.{ext}", getattr(rendition, fmt))
                    renditions[name][fmt] = key
            prepared.append(
                {
                    "width": result.width,
                    "height": result.height,
                    "blurhash": result.blurhash,
                    "renditions": renditions,
                }
            )
        if not prepared:
            raise CommandError(f"None of the photos in {folder} could be rendered.")
        return prepared

    def refresh_planner_statistics(self) -> None:
        if connection.vendor != "postgresql":
            return
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        models = (Post, Image, PostImage, Like, Comment, Hashtag, PostHashtag, Mention, Bookmark)
        with connection.cursor() as cursor:
            for model in models:
                cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")


def _slug(stem: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in stem.lower())[:40]


def _store_once(key: str, data: bytes) -> str:
    """Store data under exactly `key` unless it is there already (a rerun reuses it)."""
    if not default_storage.exists(key):
        saved = default_storage.save(key, ContentFile(data))
        if saved != key:
            raise CommandError(f"storage renamed {key} to {saved}")
    return key


def _gradient_jpeg(index: int) -> bytes:
    hues = [(235, 120, 60), (60, 140, 220), (90, 180, 110), (200, 80, 160)]
    image = PILImage.new("RGB", (1200, 900), hues[index % len(hues)])
    draw = ImageDraw.Draw(image)
    for y in range(0, 900, 6):
        shade = int(255 * y / 900)
        draw.line([(0, y), (1200, y)], fill=(shade, 255 - shade, (shade * 3) % 255), width=3)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


class Seeder:
    """Builds the rows in memory (ids made here, so rows can point at each other), then
    writes each table in one go."""

    def __init__(self, command, rng, people, photos, mean_likes, mean_comments):
        self.command, self.rng, self.people = command, rng, people
        self.photos, self.mean_likes, self.mean_comments = photos, mean_likes, mean_comments
        self.circles: dict = {}
        for user_id, circle_id in CircleMembership.objects.values_list("user_id", "circle_id"):
            self.circles.setdefault(user_id, []).append(circle_id)
        self.usernames = dict(User.objects.filter(is_active=True).values_list("pk", "username"))
        # Some people post much more than others: a heavy-tailed weight per person.
        self.weights = [rng.paretovariate(1.5) for _ in people]
        self.now = timezone.now()

    def run(self, count: int) -> dict:
        rng, now = self.rng, self.now
        authors = self.rng.choices(self.people, weights=self.weights, k=count)
        posts, images_, links, likes, comments, tag_links, mentions = [], [], [], [], [], [], []
        tag_ids = self.hashtag_ids()
        tag_weights = [1 / (rank + 1) for rank in range(len(TAGS))]
        for author in authors:
            # newer days denser: the age is the square of a uniform draw
            age = timedelta(seconds=SPREAD_DAYS * 86400 * rng.random() ** 2)
            created = now - age
            post_id = _uuid(rng)
            visibility, circle = self.visibility_for(author)
            tags = set(rng.choices(TAGS, weights=tag_weights, k=rng.choice((0, 1, 1, 2, 3))))
            caption = rng.choice(PHRASES)
            if tags:
                caption += " " + " ".join(f"#{t}" for t in sorted(tags))
            mentioned = None
            if rng.random() < 0.05:
                mentioned = rng.choice(self.people)
                if mentioned != author and mentioned in self.usernames:
                    caption += f" with @{self.usernames[mentioned]}"
                    mentions.append((post_id, mentioned))
            like_rows = self.likes_for(post_id, author, created)
            comment_rows = self.comments_for(post_id, created)
            posts.append(
                {
                    "id": post_id,
                    "author_id": author,
                    "caption": caption,
                    "location": rng.choice(LOCATIONS),
                    "visibility": visibility,
                    "circle_id": circle,
                    "status": PostStatus.PUBLISHED,
                    "idempotency_key": None,
                    "like_count": len(like_rows),
                    "comment_count": len(comment_rows),
                    "created_at": created,
                    "updated_at": created,
                }
            )
            for position in range(1 if rng.random() < 0.75 else rng.randint(2, 4)):
                photo = rng.choice(self.photos)
                image_id = _uuid(rng)
                images_.append(
                    {
                        "id": image_id,
                        "owner_id": author,
                        "purpose": IMAGE_PURPOSE,
                        "original_key": "",
                        "state": ImageState.READY,
                        "error": "",
                        "alt": "",
                        "width": photo["width"],
                        "height": photo["height"],
                        "blurhash": photo["blurhash"],
                        "renditions": photo["renditions"],
                        "attempts": 1,
                        "claimed_at": created,
                        "claimed_by": "",
                        "scratch_keys": [],
                        "created_at": created,
                        "updated_at": created,
                    }
                )
                links.append({"post_id": post_id, "image_id": image_id, "position": position})
            likes += like_rows
            comments += comment_rows
            tag_links += [(post_id, tag_ids[t]) for t in tags]
        bookmarks = self.bookmarks_for(posts)
        writer = Writer()
        writer.write(Post, posts)
        writer.write(Image, images_)
        writer.write(PostImage, links)
        writer.write(Like, likes)
        writer.write(Comment, comments)
        writer.write(PostHashtag, [{"post_id": p, "hashtag_id": h} for p, h in tag_links])
        writer.write(Mention, [{"post_id": p, "user_id": u} for p, u in mentions])
        writer.write(Bookmark, bookmarks)
        return {
            "posts": len(posts),
            "images": len(images_),
            "likes": len(likes),
            "comments": len(comments),
            "hashtag links": len(tag_links),
            "bookmarks": len(bookmarks),
        }

    def hashtag_ids(self) -> dict[str, int]:
        Hashtag.objects.bulk_create([Hashtag(name=t) for t in TAGS], ignore_conflicts=True)
        return dict(Hashtag.objects.filter(name__in=TAGS).values_list("name", "pk"))

    def visibility_for(self, author):
        roll = self.rng.random()
        if roll < 0.05 and self.circles.get(author):
            return Visibility.CIRCLE, self.rng.choice(self.circles[author])
        if roll < 0.20:
            return Visibility.FOLLOWERS, None
        return Visibility.PUBLIC, None

    def likes_for(self, post_id, author, created) -> list[dict]:
        # a skewed count: most posts get a few, some get many
        count = int(self.rng.expovariate(1 / self.mean_likes) ** 1.1)
        count = min(count, len(self.people) - 1, 500)
        likers = [u for u in self.rng.sample(self.people, count + 1) if u != author][:count]
        span = max(1.0, (self.now - created).total_seconds())
        return [
            {
                "user_id": user,
                "post_id": post_id,
                "created_at": created + timedelta(seconds=span * self.rng.random() ** 3),
            }
            for user in likers
        ]

    def comments_for(self, post_id, created) -> list[dict]:
        rng = self.rng
        count = min(int(rng.expovariate(1 / self.mean_comments)), 40) if self.mean_comments else 0
        span = max(1.0, (self.now - created).total_seconds())
        rows: list[dict] = []
        for _ in range(count):
            parent = None
            if rows and rng.random() < 0.25:
                parent = rng.choice([r for r in rows if r["parent_id"] is None])
                parent["reply_count"] += 1
            at = created + timedelta(seconds=span * rng.random() ** 3)
            if parent is not None:
                at = max(at, parent["created_at"])
            rows.append(
                {
                    "id": _uuid(rng),
                    "post_id": post_id,
                    "author_id": rng.choice(self.people),
                    "parent_id": parent["id"] if parent else None,
                    "content": rng.choice(COMMENTS),
                    "like_count": 0,
                    "reply_count": 0,
                    "created_at": at,
                }
            )
        return rows

    def bookmarks_for(self, posts) -> list[dict]:
        """About 30 saved public posts each for the first thousand people."""
        public = [p for p in posts if p["visibility"] == Visibility.PUBLIC]
        if not public:
            return []
        rows = []
        for user in self.people[:1000]:
            for post in self.rng.sample(public, min(len(public), 30)):
                saved = post["created_at"] + (self.now - post["created_at"]) * self.rng.random()
                rows.append({"user_id": user, "post_id": post["id"], "created_at": saved})
        return rows


class Writer:
    """Writes dict rows into a model's table: COPY on PostgreSQL, bulk_create elsewhere."""

    def write(self, model, rows: list[dict]) -> None:
        if not rows:
            return
        if connection.vendor != "postgresql":
            model.objects.bulk_create([model(**row) for row in rows], batch_size=BATCH)
            return
        columns = list(rows[0])
        fields = [model._meta.get_field(c.removesuffix("_id")) for c in columns]
        quoted = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        table = connection.ops.quote_name(model._meta.db_table)
        json_columns = {i for i, f in enumerate(fields) if f.get_internal_type() == "JSONField"}
        statement = f"COPY {table} ({quoted}) FROM STDIN"
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                values = [row[c] for c in columns]
                for i in json_columns:
                    values[i] = _json(values[i])
                copy.write_row(values)


def _json(value) -> str:
    return json.dumps(value, separators=(",", ":"))
