"""The image worker's memory: a real `celery worker` (prefork, one pool process, as
production runs it) processing uploads of the sample 12 MP photos from the Redis broker;
the pool process's peak resident memory (VmHWM) before the first job and after each.

Each job's own peak is printed too: the peak is reset (/proc/PID/clear_refs) before each
job, so the peak after the grid HEIC is not the single-image HEIC's before it; "so far" is
the highest of them (what VmHWM alone would say).

VmHWM counts every page the process maps, also those it shares with the main worker
process it was forked from (Django and the apps, imported there). So each line also gives
PSS (shared pages divided among the processes sharing them) and USS (the process's own
pages) from /proc/PID/smaps_rollup: at rest, and the highest seen while the job ran
(sampled every 10 ms, so a short peak can be missed).

Printed as lines, not table rows (they are sizes, not latencies).
"""

import subprocess
import sys
import time
from pathlib import Path

from bench.harness import REPO_DIR, WORK_DIR, Bench, Result, stop_process

DESCRIPTION = "peak memory of a real Celery worker's pool process on 12 MP photos"

PHOTOS = ("fixture-12mp-4032x3024-q92.jpg", "fixture-12mp-orient6.heic", "grid512-12mp-q75.heic")
USERNAME = "bench_worker"
TIMEOUT_S = 120


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(child) for child in f.read().split()]
    except FileNotFoundError:
        return []


def _peak_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def _rollup_kb(pid: int) -> tuple[int, int]:
    """(PSS, USS) in kB: USS is the private pages, clean and dirty (anonymous swap aside)."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if rest.strip().endswith("kB"):
                fields[name] = int(rest.split()[0])
    return fields["Pss"], fields["Private_Clean"] + fields["Private_Dirty"]


def _reset_peak(pid: int) -> None:
    """VmHWM back to the current RSS (Linux 4.0 and later)."""
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


def _sizes(pid: int, pss_uss: tuple[int, int]) -> str:
    return (
        f"{_peak_kb(pid) / 1024:.0f} MB peak RSS;"
        f" PSS {pss_uss[0] / 1024:.0f} MB, USS {pss_uss[1] / 1024:.0f} MB"
    )


def run(bench: Bench) -> list[Result]:
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.models import User
    from bench.cases.images import PHOTOS_DIR, _grid_photo
    from media.models import Image, ImageState
    from posts import services

    if not settings.REDIS_URL:
        print("worker: needs REDIS_URL (a real broker)", file=sys.stderr)
        return []
    user, _ = User.objects.get_or_create(
        username=USERNAME, defaults={"email": f"{USERNAME}@example.com"}
    )
    log = open(WORK_DIR / "worker.log", "wb")  # noqa: SIM115 - closed below
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "circles", "worker", "--pool", "prefork",
         "--concurrency", "1", "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
         "--without-heartbeat"],
        cwd=REPO_DIR, env=bench.server.env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not (pool := _children(worker.pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        if not pool:
            raise RuntimeError(f"no pool process; see {WORK_DIR / 'worker.log'}")
        time.sleep(2)  # let the pool process finish starting
        child = pool[0]
        print(f"worker: pool process at rest: {_sizes(child, _rollup_kb(child))}")
        so_far = _peak_kb(child)
        for name in PHOTOS:
            _reset_peak(child)
            path = Path(PHOTOS_DIR) / name
            data = (path if path.exists() else _grid_photo()).read_bytes()
            post, _ = services.post_create(author=user, files=[SimpleUploadedFile(name, data)])
            image = post.images.get()
            deadline = time.monotonic() + TIMEOUT_S
            highest = (0, 0)
            while Image.objects.get(pk=image.pk).state not in (ImageState.READY, ImageState.FAILED):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} was not processed; see {WORK_DIR / 'worker.log'}")
                for _ in range(10):
                    pss_uss = _rollup_kb(child)
                    highest = (max(highest[0], pss_uss[0]), max(highest[1], pss_uss[1]))
                    time.sleep(0.01)
            state = Image.objects.get(pk=image.pk).state
            so_far = max(so_far, _peak_kb(child))
            print(
                f"worker: {name} ({state}): {_sizes(child, highest)} at most;"
                f" peak RSS so far {so_far / 1024:.0f} MB"
            )
            services.post_delete(post=post, actor=user)
    finally:
        stop_process(worker, timeout=20)
        log.close()
    return []
