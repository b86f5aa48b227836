"""media.heif: HEIC decoded with FFmpeg, and the fallback to libheif for what it leaves.

The reference is libheif (pillow-heif) decoding the same file: the FFmpeg path must give
the same picture (the decoders differ in rounding and chroma upsampling by a few levels),
the same size and orientation, and leave to libheif every file it does not handle.
"""

import dataclasses
import functools
import io
import os
import random
import subprocess
import sys
from pathlib import Path

import pillow_heif
import pytest
from PIL import Image, ImageChops, ImageStat

from media import heif, images
from media.images import ImageRejected, render_renditions

# blurhash-python reads pixels with a Pillow API deprecated in Pillow 12.1.
pytestmark = pytest.mark.filterwarnings("ignore:Image.Image.getdata:DeprecationWarning")

PHOTOS_DIR = Path(__file__).resolve().parents[1] / "photos"


def heic(img: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, "HEIF", quality=90, **options)
    return buffer.getvalue()


def picture(size: tuple[int, int]) -> Image.Image:
    """Noise over a gradient with a red top-left quarter: a misplaced tile, a turned or
    mirrored picture, or wrong colours all show."""
    noise = Image.frombytes("RGB", size, random.Random(3).randbytes(size[0] * size[1] * 3))
    img = Image.blend(noise, Image.linear_gradient("L").convert("RGB").resize(size), 0.7)
    img.paste((220, 30, 30), (0, 0, size[0] // 2, size[1] // 2))
    return img


@functools.cache
def grid_heic() -> bytes:
    """A grid of 512x512 tiles, as phones store photos; the last column and row are cut."""
    return heic(picture((2300, 1700)), tile_size=512)


def libheif_reduced(data: bytes, factor: int) -> Image.Image:
    """What libheif decodes, reduced by factor (the reference)."""
    return Image.open(io.BytesIO(data)).convert("RGB").reduce(factor)


def difference(img: Image.Image, reference: Image.Image) -> tuple[float, int]:
    """The mean and the largest difference of any channel, in levels."""
    diff = ImageChops.difference(img, reference)
    return max(ImageStat.Stat(diff).mean), max(high for _, high in diff.getextrema())


def ffmpeg(data: bytes, factor: int) -> Image.Image | None:
    layout = heif.read_layout(data)
    assert layout is not None
    return heif.decode(layout, factor)


@pytest.mark.parametrize("factor", [1, 2, 4])
def test_grid_is_decoded_by_ffmpeg_as_libheif_decodes_it(factor):
    layout = heif.read_layout(grid_heic())
    assert (layout.columns, layout.rows, layout.tile_width, layout.tile_height) == (5, 4, 512, 512)
    assert (layout.width, layout.height, layout.rotation) == (2300, 1700, 0)
    img = heif.decode(layout, factor)
    reference = libheif_reduced(grid_heic(), factor)
    assert img.size == reference.size == (-(-2300 // factor), -(-1700 // factor))
    mean, largest = difference(img, reference)
    assert mean < 1.5 and largest <= 24, (mean, largest)


def test_rotated_photo_is_decoded_by_ffmpeg_upright():
    data = (PHOTOS_DIR / "fixture-12mp-orient6.heic").read_bytes()
    layout = heif.read_layout(data)
    assert layout.rotation == 3 and layout.upright_size == (3024, 4032)  # irot: 270° anticlockwise
    img = heif.decode(layout, 4)
    mean, largest = difference(img, libheif_reduced(data, 4))
    assert img.size == (756, 1008)
    assert mean < 1.5 and largest <= 24, (mean, largest)


def test_limited_range_is_stretched_as_libheif_does():
    data = heic(picture((1200, 900)), full_range_flag=0)
    layout = heif.read_layout(data)
    assert not layout.full_range and layout.matrix == 6
    mean, largest = difference(heif.decode(layout, 1), libheif_reduced(data, 1))
    assert mean < 1.5 and largest <= 24, (mean, largest)


def test_renditions_of_a_grid_match_libheifs(monkeypatch):
    ours = render_renditions(grid_heic())
    monkeypatch.setattr(heif, "read_layout", lambda data: None)  # libheif only
    theirs = render_renditions(grid_heic())
    assert (ours.width, ours.height) == (theirs.width, theirs.height) == (2300, 1700)
    for name, rendition in ours.renditions.items():
        mine = Image.open(io.BytesIO(rendition.webp)).convert("RGB")
        reference = Image.open(io.BytesIO(theirs.renditions[name].webp)).convert("RGB")
        assert mine.size == reference.size
        assert difference(mine, reference)[0] < 2, name


def test_other_colours_go_to_libheif(monkeypatch):
    """BT.709 (or any matrix but BT.601's) is left to libheif, which converts it."""
    data = heic(picture((600, 400)), matrix_coefficients=1)
    assert heif.read_layout(data).matrix == 1
    assert heif.decode(heif.read_layout(data), 1) is None
    decoded = []
    real = images._decode_heic_with_libheif
    monkeypatch.setattr(images, "_decode_heic_with_libheif", lambda d: decoded.append(d) or real(d))
    render_renditions(data)
    assert decoded == [data]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(lambda: heic(Image.new("RGBA", (300, 200), (0, 0, 0, 128))), id="alpha"),
        pytest.param(lambda: heic(picture((300, 200)).convert("L")), id="monochrome"),
        pytest.param(lambda: heic(Image.new("I;16", (300, 200), 40000)), id="10-bit"),
        pytest.param(lambda: b"\x00\x00\x00\x18ftypheic" + bytes(100), id="no meta box"),
    ],
)
def test_files_ffmpeg_does_not_handle_are_left_to_libheif(data):
    assert heif.read_layout(data()) is None


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda tile: tile[: len(tile) // 2], id="cut"),
        pytest.param(lambda tile: b"\x00\x00\x10\x00" + tile[4:100], id="length past the end"),
        pytest.param(lambda tile: b"", id="empty"),
        pytest.param(lambda tile: bytes(1000), id="zeros"),
    ],
)
def test_tile_ffmpeg_refuses_is_left_to_libheif(damage):
    layout = heif.read_layout(grid_heic())
    assert heif.decode(layout, 2) is not None
    tiles = list(layout.tiles)
    tiles[3] = damage(tiles[3])
    assert heif.decode(heif.Layout(**{**layout.__dict__, "tiles": tiles}), 2) is None


def test_size_is_checked_before_ffmpeg_decodes(monkeypatch):
    def decode(*args):
        raise AssertionError("decoded before the size check")

    monkeypatch.setattr(images, "MAX_PIXELS", 2_000_000)
    monkeypatch.setattr(heif, "_decode_planes", decode)
    monkeypatch.setattr(pillow_heif.HeifImage, "load", decode)
    with pytest.raises(ImageRejected) as caught:
        render_renditions(grid_heic())
    assert "megapixels" in caught.value.reason


def test_truncated_grid_is_refused():
    """libheif decodes the tiles there are and leaves the rest blank (green): refused
    before it is asked."""
    data = grid_heic()
    with pytest.raises(heif.Truncated):
        heif.read_layout(data[: len(data) * 2 // 3])
    with pytest.raises(ImageRejected) as caught:
        render_renditions(data[: len(data) * 2 // 3])
    assert "damaged or incomplete" in caught.value.reason


def test_tiles_larger_than_stated_are_not_decoded():
    """FFmpeg may not make frames larger than the boxes say (a decompression bomb whose
    header passed the size check): the decoder refuses them."""
    layout = heif.read_layout(grid_heic())
    stated = dataclasses.replace(layout, tile_width=128, tile_height=128, columns=20, rows=16)
    assert heif.decode(stated, 2) is None


def test_coded_pixels_over_the_limit_go_to_libheif(monkeypatch):
    """Tiles past the image's edges count too: 2300x1700 is coded as 2560x2048."""
    decoded = []
    real = images._decode_heic_with_libheif
    monkeypatch.setattr(images, "_decode_heic_with_libheif", lambda d: decoded.append(d) or real(d))
    monkeypatch.setattr(images, "MAX_PIXELS", 2300 * 1700 + 1)
    assert heif.read_layout(grid_heic()).coded_pixels == 2560 * 2048
    render_renditions(grid_heic())
    assert decoded == [grid_heic()]


# A fresh interpreter: whether FFmpeg's libraries are loaded is per process.
LOADED_AT_WORKER_INIT = """
import sys
import django
django.setup()
from celery import signals
import media.tasks
before = "av" in sys.modules
signals.worker_init.send(sender=None)
print(before, "av" in sys.modules)
"""


def test_the_main_worker_process_loads_ffmpeg_before_forking():
    """Loaded lazily everywhere (web processes never decode a HEIC), but by the Celery main
    process at worker_init, so that its pool processes share the libraries' pages."""
    done = subprocess.run(
        [sys.executable, "-c", LOADED_AT_WORKER_INIT],
        capture_output=True, text=True, timeout=60, check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "circles.settings"},
    )  # fmt: skip
    assert done.stdout.split() == ["False", "True"]
