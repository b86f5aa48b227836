"""The stories tray API at 10,000 people / ~150 follows each: GET /api/v1/stories/feed at
100 requests/s for 30 s from the separate load process, against uvicorn with 2 workers,
as docker-compose.yml runs the site (one per core here: with 4, the workers and
PostgreSQL's backends fought over the two cores, and each request cost ~15 % more CPU —
alternating runs, README "Performance").

The dataset is the feed case's (`seed_demo --users 10000` + `seed_posts --posts 200000`,
made on the first run and kept), plus stories made fresh on every run (stories expire):
a third of the bulk people have 1–5 active stories each (one in ten to one of their
circles), so a person following ~150 people sees ~50 of them in the tray; about a third
of the stories a sampled person may see are already viewed by them. The stories share
one rendered photo (bench data only: the cleanup would delete its files, and the bench
never serves them).

Run alone: `python -m bench stories [--rate R] [--duration D] [--workers W]`.
"""

import random
import sys
import time
from datetime import timedelta

from bench.cases.feed import _ensure_dataset, _forget, _sample_people, _tokens
from bench.harness import Bench, Result, Server, checkpoint, get

DESCRIPTION = "stories tray API at 100 rps for 30 s: 150 follows, ~50 with 1-5 stories"

RATE = 100.0
DURATION_S = 30.0
# unmeasured seconds of the same load first: a fresh server's first ~4 s (each process's
# image copies, each pooled connection's statements) ran at p50 ~440 ms, then ~18 ms
WARMUP_S = 5.0
WORKERS = 2
SAMPLE = 500
STORY_SHARE = 3  # one in three people has active stories
SEEN_SHARE = 0.3


def run(bench: Bench) -> list[Result]:
    _ensure_dataset()
    people = _sample_people()[:SAMPLE]
    _make_stories(people)
    _print_tray_figures(people)
    _warm(people)
    tokens = _tokens(people)
    order = list(range(len(people)))
    random.Random(5).shuffle(order)
    requests = [get("/api/v1/stories/feed", Authorization=f"Bearer {tokens[i]}") for i in order]
    workers = bench.server.workers if bench.server.workers > 1 else WORKERS
    try:
        with Server(bench.server.env, workers=workers) as server:
            own = Bench(server, rate=bench.rate, duration_s=bench.duration_s)
            result = own.load(
                "stories/tray GET /api/v1/stories/feed",
                requests,
                rate=RATE,
                duration_s=DURATION_S,
                warmup_s=WARMUP_S,
            )
    finally:
        _forget(people, [])
    print(f"stories: uvicorn with {workers} workers, {len(people)} people")
    return [result]


def _make_stories(people) -> None:
    """Replace the bulk people's stories with fresh ones (expired ones would be hidden)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import CircleMembership, User
    from media import images, storage
    from media.models import Image, ImageState
    from posts.management.commands.seed_posts import PHOTOS_DIR
    from stories.models import IMAGE_PURPOSE, LIFETIME, Story, StoryView

    started = time.monotonic()
    rng = random.Random(11)
    result = images.render_renditions((PHOTOS_DIR / "flowers.jpeg").read_bytes())
    renditions = {}
    for name, rendition in result.renditions.items():
        renditions[name] = {"width": rendition.width, "height": rendition.height}
        for fmt in ("webp", "jpeg"):
            renditions[name][fmt] = storage.rendition_save(
                storage.rendition_key(fmt), getattr(rendition, fmt)
            )
    bulk = User.objects.filter(username__startswith="demo")
    authors = [pk for pk in bulk.values_list("pk", flat=True) if rng.randrange(STORY_SHARE) == 0]
    circles = dict(
        CircleMembership.objects.filter(user_id__in=authors).values_list("user_id", "circle_id")
    )
    now = timezone.now()
    with transaction.atomic():
        old = Story.objects.filter(author__username__startswith="demo")
        old_images = list(old.values_list("image_id", flat=True))
        old.delete()
        Image.objects.filter(pk__in=old_images).delete()
        image_rows, story_rows = [], []
        for author in authors:
            for _ in range(rng.randint(1, 5)):
                created = now - timedelta(hours=rng.uniform(0, 23))
                image = Image(
                    owner_id=author, purpose=IMAGE_PURPOSE, original_key="",
                    state=ImageState.READY, width=result.width, height=result.height,
                    blurhash=result.blurhash, renditions=renditions,
                )  # fmt: skip
                circle = circles.get(author) if rng.random() < 0.1 else None
                image_rows.append(image)
                story_rows.append(
                    Story(
                        author_id=author,
                        image=image,
                        circle_id=circle,
                        audience="circle" if circle else "followers",
                        created_at=created,
                        expires_at=created + LIFETIME,
                    )  # fmt: skip
                )
        Image.objects.bulk_create(image_rows, batch_size=2000)
        Story.objects.bulk_create(story_rows, batch_size=2000)
        views = []
        for person in people:
            for story in Story.objects.visible_to(person).values_list("pk", flat=True):
                if rng.random() < SEEN_SHARE:
                    views.append(StoryView(story_id=story, viewer=person))
        StoryView.objects.bulk_create(views, batch_size=5000, ignore_conflicts=True)
    # The run rewrote these tables at once, where a running site's writes (and autovacuum)
    # spread over the day: vacuumed and checkpointed before the load, so the load does not
    # measure the bulk write's aftermath (a checkpoint flushing it mid-load put the tray's
    # p50 at 0.1–0.7 s and p95 at 1.5 s; ~25 and ~0.3 s after, on the same loaded VM)
    with connection.cursor() as cursor:
        for model in (Image, Story, StoryView):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        checkpoint(cursor)
    print(
        f"stories: {len(story_rows)} stories by {len(authors)} people, {len(views)} views, "
        f"in {time.monotonic() - started:.0f} s",
        file=sys.stderr,
    )


def _warm(people) -> None:
    """Fill the per-story image copies as a running site has them (every story is read
    by its author's ~150 followers): each sampled person's tray, once, in process."""
    from stories import cards

    started = time.monotonic()
    for person in people:
        cards.tray_response(person)
    elapsed = time.monotonic() - started
    print(f"stories: warmed the image copies in {elapsed:.0f} s", file=sys.stderr)


def _print_tray_figures(people) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.services import api_token_create
    from stories.selectors import story_list_for_tray

    sizes = [len(story_list_for_tray(viewer=person)) for person in people[:100]]
    stories = [sum(len(e.stories) for e in story_list_for_tray(viewer=p)) for p in people[:20]]
    token = api_token_create(user=people[0], name="bench")[1]  # removed by _forget
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")
    client.get("/api/v1/stories/feed")
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/stories/feed")
    mean = sum(sizes) / len(sizes)
    print(
        f"stories: people in a tray {min(sizes)}-{max(sizes)} (mean {mean:.0f}); "
        f"stories in a tray {min(stories)}-{max(stories)}; SQL queries per tray request: "
        f"{len(queries)}"
    )
