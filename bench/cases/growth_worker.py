"""Growth of the image worker: a real `celery worker` (prefork, as production runs it)
with 1, 2 and 4 pool processes, each given the same batch of IMAGES uploads of the
sample 12 MP JPEG at once (queued through the Redis broker by posts.services.post_create,
as an upload is); images a second from the first upload to the last image ready, the
cores each group of processes used meanwhile, and which runs out first. The "load" group
is this process (storing the uploads and polling for the end).

GROWTH_WORKER_POOLS=1,2 picks steps.
"""

import os
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

from bench import growth
from bench.harness import REPO_DIR, WORK_DIR, Bench, Result, stop_process
from bench.resources import children, tree

DESCRIPTION = "Celery worker images/s with 1 / 2 / 4 pool processes, what runs out first"
EXPLICIT = 1

POOLS = (1, 2, 4)
IMAGES = 24
PHOTO = "fixture-12mp-4032x3024-q92.jpg"
USERNAME = "bench_growth_worker"
TIMEOUT_S = 300


def this_process() -> list[int]:
    return [os.getpid()]


def run(bench: Bench) -> list[Result]:
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.models import User
    from bench.cases.images import PHOTOS_DIR, _grid_photo
    from media.models import ImageState
    from posts import services
    from posts.models import PostImage

    if not settings.REDIS_URL:
        print("growth_worker: needs REDIS_URL (a real broker)", file=sys.stderr)
        return []
    pools = [int(s) for s in os.environ.get("GROWTH_WORKER_POOLS", "").split(",") if s] or POOLS
    user, _ = User.objects.get_or_create(
        username=USERNAME, defaults={"email": f"{USERNAME}@example.com"}
    )
    path = Path(PHOTOS_DIR) / PHOTO
    data = (path if path.exists() else _grid_photo()).read_bytes()
    env, database_url = bench.server.env, bench.server.env["DATABASE_URL"]
    rows, results = [], []
    for size in pools:
        print(f"growth_worker: {size} pool process(es) ...", file=sys.stderr, flush=True)
        log = open(WORK_DIR / "worker-growth.log", "wb")  # noqa: SIM115 - closed below
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "circles", "worker", "--pool", "prefork",
             "--concurrency", str(size), "--loglevel", "WARNING", "--without-gossip",
             "--without-mingle", "--without-heartbeat"],
            cwd=REPO_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        posts = []
        try:
            deadline = time.monotonic() + 60
            while len(children(worker.pid)) < size and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(3)  # let the pool processes finish starting
            machine = growth.conditions()
            workers = partial(tree, worker.pid)
            with growth.meter(workers, database_url, settings.REDIS_URL, this_process) as cpu:
                started = time.perf_counter()
                for n in range(IMAGES):
                    upload = SimpleUploadedFile(f"growth-{n}.jpg", data, "image/jpeg")
                    posts.append(services.post_create(author=user, files=[upload])[0])
                ids = [post.pk for post in posts]
                done_at, waiting = [], set(ids)
                deadline = time.monotonic() + TIMEOUT_S
                while waiting and time.monotonic() < deadline:
                    finished = set(
                        PostImage.objects.filter(
                            post_id__in=waiting,
                            image__state__in=(ImageState.READY, ImageState.FAILED),
                        ).values_list("post_id", flat=True)
                    )
                    now = time.perf_counter()
                    done_at += [(now - started) * 1000] * len(finished)
                    waiting -= finished
                    time.sleep(0.05)
                ended = time.perf_counter()
            machine["load_after"] = os.getloadavg()[0]
            failed = PostImage.objects.filter(
                post_id__in=ids, image__state=ImageState.FAILED
            ).count()
            usage = cpu.usage(started, ended)
            rows.append(
                {
                    "pool": size,
                    **machine,
                    "images": IMAGES,
                    "done": len(done_at),
                    "failed": failed,
                    "wall_s": ended - started,
                    "per_s": len(done_at) / (ended - started),
                    "peak_mb": cpu.peak_rss_mb.get("server", 0.0),
                    **growth.usage_figures(usage, names={"server": "worker", "load": "bench"}),
                }
            )
            results.append(
                Result(
                    f"growth/worker, {size} pool process(es): time to ready",
                    0.0,
                    IMAGES,
                    IMAGES - len(done_at) + failed,
                    done_at,
                    ended - started,
                )  # fmt: skip
            )
        finally:
            stop_process(worker, timeout=30)
            log.close()
            for post in posts:
                services.post_delete(post=post, actor=user)
    header = ["pool processes", "images", "seconds", "images/s", "worker RSS MB (all)",
              "cores: worker / PG / Redis / bench", "first to run out",
              "probe ms; load"]  # fmt: skip
    cells = [
        [
            str(row["pool"]),
            f"{row['done']}/{row['images']}" + (f", {row['failed']} failed" * bool(row["failed"])),
            f"{row['wall_s']:.1f}",
            f"{row['per_s']:.2f}",
            f"{row['peak_mb']:.0f}",
            growth.groups_cell(row["cores"]),
            row["first"],
            growth.conditions_cell(row),
        ]
        for row in rows
    ]
    growth.show_table(
        f"growth: the image worker, {IMAGES} × {PHOTO} queued at once",
        "growth-worker",
        header,
        cells,
    )
    return results
