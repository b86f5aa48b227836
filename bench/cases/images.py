"""The image pipeline against Node's sharp, on the same machine and photos, same 8 outputs.

For each sample photo in tests/photos: milliseconds for media.images.render_renditions()
(bytes in, 4 renditions x WebP + progressive JPEG out), and for sharp producing the same
outputs with the same encoder settings, driven its fastest way: decode and resize once to
raw pixels, each smaller rendition from the one before, sharp.concurrency(1),
UV_THREADPOOL_SIZE=1, no libvips cache. Both run one image at a time on one thread, and
runs alternate between the two so that a busy machine slows both alike.

sharp keeps its default kernel (lanczos3) while the pipeline uses Hamming
(see media/images.py): libvips's resampling is vectorised, and its time does not depend
on the kernel — 1080 -> 640 -> 320 on raw pixels took 10.1-10.4 ms with lanczos3 and
9.3-10.6 ms with cubic here — so matching kernels would not change sharp's figures.
Where the time goes (12 MP JPEG, same run): the same libwebp 1.6.0 encodes the 1080 in
97 ms through Pillow and 127 ms through sharp, the 1080 JPEG 17 vs 29 ms (libjpeg-turbo
vs mozjpeg); Pillow gives most of that back in decoding and resizing (~75 ms of its
~245), where its code is scalar.

Also the peak memory (max RSS) of a fresh process rendering the 12 MP JPEG and the HEIC.

sharp is installed with npm into var/bench/sharp/ (ignored by git, kept between runs). No
node or npm, or no network on the first run: the sharp rows are left out, with the reason.
sharp's prebuilt libvips cannot decode HEVC, so HEIC has no sharp row. Besides the
HEIC in tests/photos (one HEVC image), an iPhone-like HEIC is made once into var/bench/
from the 12 MP JPEG: a grid of 512x512 tiles, as iPhones store photos, whose tiles libheif
can decode on several threads; each HEIC is timed with one decode thread (its row) and
with pillow-heif's default of DECODE_THREADS (a "threads" row), as the worker runs it.

Run alone: `python -m bench.cases.images [RUNS]`.
"""

import json
import os
import select
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pillow_heif
from PIL import Image

from bench.harness import REPO_DIR, WORK_DIR, Result, percentile
from media import images

DESCRIPTION = "render_renditions per sample photo vs Node's sharp, same 8 outputs, 1 thread"

PHOTOS_DIR = Path(__file__).resolve().parents[2] / "tests" / "photos"
MAIN_PHOTO = "fixture-12mp-4032x3024-q92.jpg"  # the target's "one 12 MP JPEG"
MEMORY_PHOTOS = [MAIN_PHOTO, "fixture-12mp-orient6.heic"]
GRID_PHOTO = WORK_DIR / "samples" / "grid512-12mp-q75.heic"  # made from MAIN_PHOTO
MAIN_RUNS = 15
OTHER_RUNS = 5
FORMATS = ("webp", "jpeg")
TARGET_RATIO = 0.8  # the pipeline may take at most 0.8x sharp's time
SHARP_VERSION = "0.35.5"
SHARP_DIR = WORK_DIR / "sharp"
NODE_TIMEOUT_S = 60

# One job per line of stdin ({"file", "sizes" of the fitted renditions, "side" of the
# square}), one JSON answer per line of stdout: {"ms", "cpu_ms", "outputs"} or {"error"}.
SHARP_WORKER = r"""
const fs = require('fs');
const readline = require('readline');
const sharp = require('sharp');
sharp.concurrency(1);
sharp.cache(false);
const WEBP = { quality: %(webp_quality)d, effort: %(webp_method)d };
const JPEG = { quality: %(jpeg_quality)d, progressive: true };
const inputs = new Map();

function rawOf(info) {
  return { raw: { width: info.width, height: info.height, channels: info.channels } };
}

async function encode(outputs, { data, info }) {
  for (const [format, options] of [['webp', WEBP], ['jpeg', JPEG]]) {
    const out = await sharp(data, rawOf(info))[format](options)
      .toBuffer({ resolveWithObject: true });
    outputs.push([format, out.info.width, out.info.height]);
  }
}

// sizes: the fitted renditions' [width, height], largest first, then the square crop's side.
async function render(input, sizes, side) {
  const [width, height] = sizes[0];
  let image = await sharp(input).autoOrient().flatten({ background: '#ffffff' })
    .resize(width, height, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  const outputs = [];
  for (const [width, height] of sizes) {
    if (width !== image.info.width || height !== image.info.height) {
      image = await sharp(image.data, rawOf(image.info)).resize(width, height, { fit: 'fill' })
        .raw().toBuffer({ resolveWithObject: true });
    }
    await encode(outputs, image);
  }
  const thumbnail = await sharp(image.data, rawOf(image.info)).resize(side, side, { fit: 'cover' })
    .raw().toBuffer({ resolveWithObject: true });
  await encode(outputs, thumbnail);
  return outputs;
}

readline.createInterface({ input: process.stdin }).on('line', async (line) => {
  const { file, sizes, side } = JSON.parse(line);
  try {
    if (!inputs.has(file)) inputs.set(file, fs.readFileSync(file));
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    const outputs = await render(inputs.get(file), sizes, side);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const used = process.cpuUsage(cpu);
    const cpu_ms = (used.user + used.system) / 1000;
    process.stdout.write(JSON.stringify({ ms, cpu_ms, outputs }) + '\n');
  } catch (error) {
    const lines = String(error.message || error).trim().split('\n');
    process.stdout.write(JSON.stringify({ error: lines[lines.length - 1] }) + '\n');
  }
});
"""


# VmHWM, not ru_maxrss: on Linux the latter keeps the parent's peak across fork and exec.
PEAK_MEMORY = """
import re, sys
from media import images
def peak_kb():
    with open("/proc/self/status") as status:
        return int(re.search(r"VmHWM:\\s+(\\d+)", status.read()).group(1))
data = open(sys.argv[1], "rb").read()
before = peak_kb()
images.render_renditions(data)
print(before, peak_kb())
"""


def run(bench=None, main_runs: int = MAIN_RUNS, other_runs: int = OTHER_RUNS) -> list[Result]:
    if not PHOTOS_DIR.is_dir():
        print(f"images: no sample photos in {PHOTOS_DIR}", file=sys.stderr)
        return []
    # pillow-heif decodes with several threads by default: measure one, like sharp.
    default_threads = pillow_heif.options.DECODE_THREADS
    pillow_heif.options.DECODE_THREADS = 1
    photos = sorted(path for path in PHOTOS_DIR.iterdir() if path.suffix != ".md")
    photos.append(_grid_photo())
    sharp, why_not = _start_sharp()
    results, rows = [], []
    try:
        for photo in photos:
            runs = main_runs if photo.name == MAIN_PHOTO else other_runs
            row = _measure(photo, runs, sharp)
            results.append(_result(f"images/pillow {photo.name}", row.pillow_ms))
            if row.sharp_ms:
                results.append(_result(f"images/sharp {photo.name}", row.sharp_ms))
            rows.append(row)
        for photo in photos:
            if photo.suffix == ".heic":  # again with the worker's decode threads
                pillow_heif.options.DECODE_THREADS = default_threads
                row = _measure(photo, other_runs, None)
                row.photo += f" ({default_threads} threads)"
                results.append(_result(f"images/pillow {row.photo}", row.pillow_ms))
                rows.append(row)
                pillow_heif.options.DECODE_THREADS = 1
    finally:
        pillow_heif.options.DECODE_THREADS = default_threads
        if sharp is not None:
            sharp.stdin.close()
            sharp.wait(timeout=10)
    _print_table(rows, why_not)
    for path in [*(PHOTOS_DIR / name for name in MEMORY_PHOTOS), GRID_PHOTO]:
        print(f"peak memory rendering {path.name} in a fresh process: {_peak_memory(path)}")
    print()
    return results


def _grid_photo():
    """The iPhone-like HEIC (512x512 tiles), encoded once from the 12 MP JPEG (~25 s)."""
    if not GRID_PHOTO.exists():
        print(f"making {GRID_PHOTO} ...", file=sys.stderr)
        GRID_PHOTO.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(PHOTOS_DIR / MAIN_PHOTO) as img:
            img.save(GRID_PHOTO.with_suffix(".tmp"), "HEIF", quality=75, tile_size=512)
        GRID_PHOTO.with_suffix(".tmp").rename(GRID_PHOTO)
    return GRID_PHOTO


@dataclass
class Row:
    photo: str
    pillow_ms: list[float] = field(default_factory=list)
    pillow_cpu_ms: list[float] = field(default_factory=list)
    sharp_ms: list[float] = field(default_factory=list)
    sharp_cpu_ms: list[float] = field(default_factory=list)
    note: str = ""


def _measure(photo: Path, runs: int, sharp: subprocess.Popen | None) -> Row:
    row = Row(photo.name)
    data = photo.read_bytes()
    ours = images.render_renditions(data)  # a warm-up, and the outputs sharp must match
    expected = [[fmt, r.width, r.height] for r in ours.renditions.values() for fmt in FORMATS]
    job = {
        "file": str(photo),
        "sizes": [
            [r.width, r.height] for name, r in ours.renditions.items() if name != "thumbnail"
        ],
        "side": ours.renditions["thumbnail"].width,
    }
    if sharp is not None:
        answer = _ask_sharp(sharp, job)  # its warm-up
        if "error" in answer:
            row.note, sharp = f"sharp failed: {answer['error']}", None
        elif answer["outputs"] != expected:
            row.note = f"sharp's outputs differ: {answer['outputs']}"
    for _ in range(runs):  # alternate, so that load from elsewhere slows both alike
        cpu, start = time.process_time(), time.perf_counter()
        images.render_renditions(data)
        row.pillow_ms.append((time.perf_counter() - start) * 1000)
        row.pillow_cpu_ms.append((time.process_time() - cpu) * 1000)
        if sharp is not None:
            answer = _ask_sharp(sharp, job)
            row.sharp_ms.append(answer["ms"])
            row.sharp_cpu_ms.append(answer["cpu_ms"])
    return row


def _result(name: str, latencies_ms: list[float]) -> Result:
    elapsed_s = sum(latencies_ms) / 1000
    return Result(name, 0, len(latencies_ms), 0, latencies_ms, elapsed_s)


def _start_sharp() -> tuple[subprocess.Popen | None, str]:
    """A node process running SHARP_WORKER, or None and why not."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        return None, "node and npm are not installed"
    installed = SHARP_DIR / "node_modules" / "sharp" / "package.json"
    if not installed.exists() or json.loads(installed.read_text())["version"] != SHARP_VERSION:
        SHARP_DIR.mkdir(parents=True, exist_ok=True)
        (SHARP_DIR / "package.json").write_text('{"private": true}\n')
        print(f"installing sharp@{SHARP_VERSION} into {SHARP_DIR} ...", file=sys.stderr)
        install = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", f"sharp@{SHARP_VERSION}"],
            cwd=SHARP_DIR,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if install.returncode != 0:
            return None, f"npm install sharp failed: {install.stderr.strip()[-300:]}"
    worker = SHARP_DIR / "worker.js"
    worker.write_text(
        SHARP_WORKER
        % {
            "webp_quality": images.WEBP_OPTIONS["quality"],
            "webp_method": images.WEBP_OPTIONS["method"],
            "jpeg_quality": images.JPEG_OPTIONS["quality"],
        }
    )
    # sharp runs its work on libuv's pool: one thread there too, not just in libvips.
    with open(SHARP_DIR / "worker.log", "wb") as log:
        process = subprocess.Popen(
            [node, str(worker)],
            cwd=SHARP_DIR,
            env={**os.environ, "UV_THREADPOOL_SIZE": "1"},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    return process, ""


def _ask_sharp(process: subprocess.Popen, job: dict) -> dict:
    process.stdin.write(json.dumps(job) + "\n")
    process.stdin.flush()
    ready, _, _ = select.select([process.stdout], [], [], NODE_TIMEOUT_S)
    line = process.stdout.readline() if ready else ""
    if not line:
        process.kill()
        raise RuntimeError(f"the sharp worker did not answer, see {SHARP_DIR / 'worker.log'}")
    return json.loads(line)


def _peak_memory(photo: Path) -> str:
    """Max RSS of a new Python process rendering the photo, and what the render added."""
    done = subprocess.run(
        [sys.executable, "-c", PEAK_MEMORY, str(photo)],
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        return f"failed: {done.stderr.strip()[-200:]}"
    before_kb, after_kb = map(int, done.stdout.split())
    return f"{after_kb / 1024:.0f} MB ({(after_kb - before_kb) / 1024:.0f} MB over the imports)"


def _print_table(rows: list[Row], why_not: str) -> None:
    def cells(wall: list[float], cpu: list[float]) -> list[str]:
        if not wall:
            return ["-"] * 3
        return [
            f"{percentile(wall, 50):.1f}",
            f"{percentile(wall, 95):.1f}",
            f"{percentile(cpu, 50):.1f}",
        ]

    def ratio(ours: list[float], theirs: list[float]) -> str:
        return f"{percentile(ours, 50) / percentile(theirs, 50):.2f}" if theirs else "-"

    header = ["photo", "runs", "pillow p50", "p95", "cpu p50", "sharp p50", "p95", "cpu p50"]
    header += ["ratio", "cpu ratio", ""]
    lines = [header]
    for row in rows:
        lines.append(
            [row.photo, str(len(row.pillow_ms))]
            + cells(row.pillow_ms, row.pillow_cpu_ms)
            + cells(row.sharp_ms, row.sharp_cpu_ms)
            + [ratio(row.pillow_ms, row.sharp_ms), ratio(row.pillow_cpu_ms, row.sharp_cpu_ms)]
            + [row.note]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    print("\nimages: ms per photo, 4 renditions x (WebP + progressive JPEG), one thread each")
    for line in lines:
        first, *rest, note = (
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        )
        print("  ".join([first, *rest, note.strip()]).rstrip())
    if why_not:
        print(f"no sharp comparison: {why_not}")
    print(f"target: pillow p50 <= {TARGET_RATIO} x sharp p50 ({MAIN_PHOTO})")


if __name__ == "__main__":
    main_runs = int(sys.argv[1]) if len(sys.argv) > 1 else MAIN_RUNS
    run(main_runs=main_runs, other_runs=max(1, main_runs // 3))
