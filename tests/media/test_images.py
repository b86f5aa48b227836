"""media.images, the pure pipeline: bytes in, renditions out. No database involved.

Real photos come from tests/photos (see its SOURCES.md); edge cases are
made here with Pillow, or byte by byte where Pillow would refuse to write them.
"""

import functools
import io
import math
import random
import struct
import zlib
from pathlib import Path

import blurhash
import pillow_heif
import pytest
from PIL import ExifTags, Image, ImageChops, ImageCms, ImageFile, ImageOps, ImageStat

from media import images
from media.images import ImageRejected, detect_format, render_renditions

# blurhash-python reads pixels with a Pillow API deprecated in Pillow 12.1.
pytestmark = pytest.mark.filterwarnings("ignore:Image.Image.getdata:DeprecationWarning")

PHOTOS_DIR = Path(__file__).resolve().parents[1] / "photos"

# name: (detected format, upright width, upright height)
PHOTOS = {
    "2569067123_aca715a2ee_o.jpg": ("jpeg", 2725, 2225),
    "4.webp": ("webp", 1024, 772),
    "Landscape_6.jpg": ("jpeg", 600, 450),  # stored 450x600, EXIF orientation 6
    "alpha-premultiply-2048x1536-paper.png": ("png", 2048, 1536),
    "fixture-12mp-4032x3024-q92.jpg": ("jpeg", 4032, 3024),
    "fixture-12mp-orient6.heic": ("heic", 3024, 4032),  # orientation 6: portrait
    "flowers.jpeg": ("jpeg", 1920, 1080),  # with EXIF and XMP
    "gain-map.jpg": ("jpeg", 3840, 2160),  # a phone's JPEG with an HDR gain map
}
FITTED = {"large": 1080, "medium": 640, "small": 320}
SECRETS = [b"SecretCam", b"secret-xmp", b"secret-comment", b"GPS"]


# --- helpers ------------------------------------------------------------------------------


def encode(img: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, fmt, **options)
    return buffer.getvalue()


def decode(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


@functools.cache
def render_photo(name: str) -> images.RenderResult:
    return render_renditions((PHOTOS_DIR / name).read_bytes())


def expected_fit(width: int, height: int, box: int) -> tuple[int, int]:
    scale = min(1.0, box / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def outputs(result: images.RenderResult):
    """(rendition name, format, bytes) for all eight outputs."""
    for name, rendition in result.renditions.items():
        yield name, "webp", rendition.webp
        yield name, "jpeg", rendition.jpeg


def centre_colour(data: bytes) -> tuple[int, int, int]:
    img = decode(data).convert("RGB")
    return img.getpixel((img.width // 2, img.height // 2))


def close(colour, expected, tolerance=8) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected, strict=True))


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bytes(width: int, height: int, bit_depth: int, colour_type: int, rows: bytes) -> bytes:
    """A PNG written byte by byte: rows are the raw scanlines, each with its filter byte."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(rows))
        + png_chunk(b"IEND", b"")
    )


def rejection(data: bytes) -> str:
    with pytest.raises(ImageRejected) as caught:
        render_renditions(data)
    return caught.value.reason


# --- real photos --------------------------------------------------------------------------


@pytest.mark.parametrize("name", PHOTOS)
def test_photo_is_detected_from_its_first_bytes(name):
    head = (PHOTOS_DIR / name).read_bytes()[:4096]  # what the upload check reads
    assert detect_format(head) == PHOTOS[name][0]


@pytest.mark.parametrize("name", PHOTOS)
def test_photo_renditions_have_the_right_sizes_and_decode(name):
    _, width, height = PHOTOS[name]
    result = render_photo(name)
    assert (result.width, result.height) == (width, height)
    assert list(result.renditions) == ["large", "medium", "small", "thumbnail"]
    for rendition_name, box in FITTED.items():
        rendition = result.renditions[rendition_name]
        assert (rendition.width, rendition.height) == expected_fit(width, height, box)
    thumbnail = result.renditions["thumbnail"]
    assert (thumbnail.width, thumbnail.height) == (150, 150)
    for rendition_name, fmt, data in outputs(result):
        img = decode(data)
        rendition = result.renditions[rendition_name]
        assert img.format == fmt.upper()
        assert img.size == (rendition.width, rendition.height)
        assert img.mode == "RGB"


def psnr(img: Image.Image, reference: Image.Image) -> float:
    stat = ImageStat.Stat(ImageChops.difference(img.convert("RGB"), reference))
    mse = sum(stat.sum2) / (3 * img.width * img.height)
    return 10 * math.log10(255**2 / mse) if mse else math.inf


@pytest.mark.parametrize(
    "name", ["fixture-12mp-4032x3024-q92.jpg", "gain-map.jpg", "2569067123_aca715a2ee_o.jpg"]
)
def test_renditions_stay_close_to_a_full_resolution_lanczos_resize(name):
    """The fast path (draft decoding, short Hamming steps, each from the one before)
    against the slow ideal: every rendition as decoded by a browser, compared with the
    full-size upright photo resized by Lanczos in one step. Now 34.0-37 dB (the
    q80 encoders account for most of the difference); nearest-neighbour steps, a shifted
    or wrongly cropped image, or an upscaled copy fall below."""
    data = (PHOTOS_DIR / name).read_bytes()
    full = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    result = render_photo(name)
    for rendition_name in FITTED:
        rendition = result.renditions[rendition_name]
        reference = full.resize((rendition.width, rendition.height), Image.Resampling.LANCZOS)
        for fmt in ("webp", "jpeg"):
            fidelity = psnr(decode(getattr(rendition, fmt)), reference)
            assert fidelity >= 33, (rendition_name, fmt, fidelity)


@pytest.mark.parametrize("name", PHOTOS)
def test_photo_outputs_carry_no_metadata(name):
    for _, _, data in outputs(render_photo(name)):
        img = decode(data)
        assert not {"exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment"} & set(img.info)
        assert len(img.getexif()) == 0
        assert b"Exif\x00\x00" not in data
        assert b"http://ns.adobe.com/xap/1.0/" not in data


def test_jpegs_are_progressive():
    for _, fmt, data in outputs(render_photo("flowers.jpeg")):
        if fmt == "jpeg":
            assert decode(data).info.get("progressive") == 1


def test_heic_with_orientation_6_comes_out_portrait():
    result = render_photo("fixture-12mp-orient6.heic")
    large = result.renditions["large"]
    assert (large.width, large.height) == (810, 1080)
    # The same picture as the upright JPEG fixture: compare the large renditions.
    upright = decode(render_photo("fixture-12mp-4032x3024-q92.jpg").renditions["large"].jpeg)
    turned = decode(large.jpeg).transpose(Image.Transpose.ROTATE_90)
    assert turned.size == upright.size
    assert close(turned.resize((8, 6)).getpixel((2, 2)), upright.resize((8, 6)).getpixel((2, 2)))


def test_an_embedded_profile_is_converted_to_srgb():
    # Landscape_6.jpg embeds Apple's "Generic RGB Profile" (gamma 1.8): mid greys darken.
    profile = decode((PHOTOS_DIR / "Landscape_6.jpg").read_bytes()).info["icc_profile"]
    tagged = Image.new("RGB", (200, 100), (128, 128, 128))
    expected = ImageCms.profileToProfile(
        tagged.resize((1, 1)),
        ImageCms.ImageCmsProfile(io.BytesIO(profile)),
        ImageCms.createProfile("sRGB"),
    ).getpixel((0, 0))
    assert abs(expected[0] - 128) > 10  # the conversion is visible, so the test means something
    result = render_renditions(encode(tagged, "PNG", icc_profile=profile))
    for _, _, data in outputs(result):
        assert close(centre_colour(data), expected, tolerance=3)


def test_a_broken_profile_is_ignored():
    data = encode(Image.new("RGB", (200, 100), (90, 140, 200)), "PNG", icc_profile=b"junk" * 40)
    assert decode(data).info["icc_profile"] == b"junk" * 40
    for _, _, out in outputs(render_renditions(data)):
        assert close(centre_colour(out), (90, 140, 200), tolerance=3)


# --- orientation --------------------------------------------------------------------------

# The transposition that undoes each orientation: what a camera stored for an upright scene.
STORED_AS = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


@pytest.mark.parametrize("orientation", STORED_AS)
def test_every_exif_orientation_comes_out_upright(orientation):
    upright = Image.new("RGB", (400, 200), (0, 0, 255))
    upright.paste((255, 0, 0), (0, 0, 200, 100))  # a red top-left quarter
    method = STORED_AS[orientation]
    stored = upright.transpose(method) if method is not None else upright
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    result = render_renditions(encode(stored, "JPEG", exif=exif, quality=95))
    assert (result.width, result.height) == (400, 200)
    large = decode(result.renditions["large"].jpeg)
    assert large.size == (400, 200)
    assert close(large.getpixel((100, 50)), (255, 0, 0), tolerance=40)  # top left
    assert close(large.getpixel((300, 50)), (0, 0, 255), tolerance=40)  # top right
    assert close(large.getpixel((100, 150)), (0, 0, 255), tolerance=40)  # bottom left


def test_malformed_exif_does_not_fail_the_photo():
    # Orientation 6, next to a StripOffsets tag holding text: Pillow reads this EXIF but
    # cannot write it back (ImageOps.exif_transpose tries to, and raises struct.error).
    exif = bytes.fromhex(
        "4578696600004d4d002a000000080002011100020000000443616d0001120003000000010006000000000000"
    )
    jpeg = encode(Image.new("RGB", (64, 48), "red"), "JPEG")
    with_exif = jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif + jpeg[2:]
    assert decode(with_exif).getexif()[ExifTags.Base.Orientation] == 6
    result = render_renditions(with_exif)
    assert (result.width, result.height) == (48, 64)


# --- sizes --------------------------------------------------------------------------------


def test_small_images_are_never_upscaled_but_the_thumbnail_is_always_150():
    result = render_renditions(encode(Image.new("RGB", (500, 300), "green"), "PNG"))
    sizes = {name: (r.width, r.height) for name, r in result.renditions.items()}
    assert sizes == {
        "large": (500, 300),
        "medium": (500, 300),
        "small": (320, 192),
        "thumbnail": (150, 150),
    }
    # Same pixels, same files: large and medium are encoded once.
    assert result.renditions["large"].webp is result.renditions["medium"].webp
    tiny = render_renditions(encode(Image.new("RGB", (40, 30), "green"), "PNG"))
    assert (tiny.renditions["large"].width, tiny.renditions["large"].height) == (40, 30)
    assert decode(tiny.renditions["thumbnail"].jpeg).size == (150, 150)
    dot = render_renditions(encode(Image.new("RGB", (1, 1), "green"), "PNG"))
    assert (dot.width, dot.height, dot.renditions["small"].width) == (1, 1, 1)


def test_thumbnail_is_the_centre_square():
    img = Image.new("RGB", (900, 300), (255, 0, 0))
    img.paste((0, 255, 0), (300, 0, 600, 300))  # red | green | red
    thumbnail = decode(render_renditions(encode(img, "PNG")).renditions["thumbnail"].jpeg)
    assert close(thumbnail.getpixel((5, 75)), (0, 255, 0), tolerance=30)
    assert close(thumbnail.getpixel((144, 75)), (0, 255, 0), tolerance=30)


def test_a_long_strip_within_the_limit_keeps_a_sharp_thumbnail():
    img = Image.new("RGB", (4000, 200), "white")
    img.paste((0, 0, 0), (1992, 0, 2008, 200))  # a thin black line in the middle
    result = render_renditions(encode(img, "PNG"))
    large = result.renditions["large"]
    assert (large.width, large.height) == (1080, 54)
    # The crop comes from a working image 150 px high, not from a smaller image blown up:
    # the line stays black with crisp edges instead of turning into a grey smear.
    thumbnail = decode(result.renditions["thumbnail"].webp).convert("L")
    row = [thumbnail.getpixel((x, 75)) for x in range(150)]
    assert row[75] < 12
    assert sum(1 for value in row if 25 < value < 230) <= 1


@pytest.mark.parametrize(
    "size,decoded_size",
    [
        ((2400, 1800), (1200, 900)),  # 1/2 still covers the 1080 px large one
        ((3200, 2400), (1200, 900)),  # 3/8
        ((4032, 3024), (1512, 1134)),  # 3/8: a 12 MP photo
        ((4400, 3300), (1100, 825)),  # 1/4
        ((2000, 1500), (2000, 1500)),  # 1/2 would be too small: full size
    ],
)
def test_jpegs_decode_at_the_smallest_scale_that_covers_the_renditions(
    monkeypatch, size, decoded_size
):
    decoded = []
    load = ImageFile.ImageFile.load

    def spy(self):
        result = load(self)
        decoded.append(self.size)
        return result

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    result = render_renditions(encode(Image.new("RGB", size, "teal"), "JPEG"))
    assert set(decoded) == {decoded_size}
    large = result.renditions["large"]
    assert (large.width, large.height) == expected_fit(*size, 1080)
    assert close(centre_colour(large.jpeg), (0, 128, 128))


def test_an_exact_half_is_made_by_averaging_2x2(monkeypatch):
    """640x480 -> 320x240 (a 4:3 photo's medium and small): each small pixel is the mean of
    four medium ones, cheaper than a filter and sharper; other steps are filtered."""
    reduced = []
    reduce = Image.Image.reduce

    def spy(self, factor, box=None):
        reduced.append((self.size, factor))
        return reduce(self, factor, box)

    monkeypatch.setattr(Image.Image, "reduce", spy)
    result = render_renditions(encode(Image.new("RGB", (1280, 960), "teal"), "PNG"))
    assert reduced == [((640, 480), 2)]
    assert (result.renditions["small"].width, result.renditions["small"].height) == (320, 240)
    reduced.clear()
    render_renditions(encode(Image.new("RGB", (1280, 850), "teal"), "PNG"))  # 640x425
    assert reduced == []  # 320x212 is not an exact half: filtered


def test_blurhash_describes_the_image():
    result = render_renditions(encode(Image.new("RGB", (300, 200), (200, 30, 30)), "PNG"))
    assert blurhash.is_valid_blurhash(result.blurhash)
    average = blurhash.decode(result.blurhash, 4, 4).resize((1, 1)).getpixel((0, 0))
    assert close(average, (200, 30, 30), tolerance=12)


# --- metadata -----------------------------------------------------------------------------


def exif_with_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretCam"
    exif[ExifTags.Base.Orientation] = 1
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 31.0, 12.5)
    return exif


XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">secret-xmp</x:xmpmeta>'


@pytest.mark.parametrize(
    "fmt,options",
    [
        ("JPEG", {"exif": exif_with_gps(), "xmp": XMP, "comment": b"secret-comment"}),
        ("WEBP", {"exif": exif_with_gps(), "xmp": XMP}),
        ("PNG", {"exif": exif_with_gps()}),
    ],
)
def test_exif_gps_xmp_and_comments_are_stripped(fmt, options):
    original = encode(Image.new("RGB", (600, 400), (90, 140, 200)), fmt, **options)
    source = decode(original)
    assert ExifTags.Base.Make in source.getexif()  # the input really carries them
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    result = render_renditions(original)
    for name, out_fmt, data in outputs(result):
        img = decode(data)
        assert len(img.getexif()) == 0, (name, out_fmt)
        assert not {"exif", "xmp", "XML:com.adobe.xmp", "comment", "icc_profile"} & set(img.info)
        for secret in SECRETS:
            assert secret not in data, (name, out_fmt, secret)


# --- modes --------------------------------------------------------------------------------


def test_cmyk_jpeg_becomes_rgb():
    cmyk = Image.new("CMYK", (300, 200), (0, 255, 255, 0))  # no cyan, full magenta and yellow
    for _, _, data in outputs(render_renditions(encode(cmyk, "JPEG"))):
        assert decode(data).mode == "RGB"
        assert close(centre_colour(data), (255, 0, 0), tolerance=12)


def test_16_bit_greyscale_png_is_scaled_not_clipped():
    data = encode(Image.new("I;16", (300, 200), 40000), "PNG")
    assert decode(data).mode.startswith("I")
    grey = 40000 // 256  # 156; clipping would give 255
    for _, _, out in outputs(render_renditions(data)):
        assert close(centre_colour(out), (grey, grey, grey), tolerance=3)


def test_16_bit_rgba_png_is_flattened_on_white():
    # Left half opaque orange, right half fully transparent; 16 bits a channel.
    opaque = struct.pack(">HHHH", 0xFFFF, 0x8000, 0x0000, 0xFFFF)
    clear = struct.pack(">HHHH", 0, 0, 0, 0)
    rows = b"".join(b"\x00" + opaque * 100 + clear * 100 for _ in range(100))
    result = render_renditions(png_bytes(200, 100, 16, 6, rows))
    for _, _, out in outputs(result):
        img = decode(out).convert("RGB")
        assert close(img.getpixel((img.width // 4, img.height // 2)), (255, 128, 0), tolerance=12)
        assert close(img.getpixel((img.width * 3 // 4, img.height // 2)), (255, 255, 255))


def test_palette_image_with_transparency():
    img = Image.new("P", (300, 200), 0)
    img.putpalette([255, 255, 255, 20, 120, 20])  # index 0 transparent, 1 green
    img.paste(1, (0, 0, 150, 200))
    result = render_renditions(encode(img, "PNG", transparency=0))
    large = decode(result.renditions["large"].webp)
    assert large.mode == "RGB"
    assert close(large.getpixel((75, 100)), (20, 120, 20))
    assert close(large.getpixel((225, 100)), (255, 255, 255))


@pytest.mark.parametrize("mode,colour", [("LA", (0, 128)), ("RGBA", (0, 0, 0, 128))])
def test_half_transparent_black_becomes_grey_on_white(mode, colour):
    result = render_renditions(encode(Image.new(mode, (300, 200), colour), "PNG"))
    for _, _, data in outputs(result):
        assert close(centre_colour(data), (127, 127, 127), tolerance=4)


def test_greyscale_jpeg_becomes_rgb():
    result = render_renditions(encode(Image.new("L", (300, 200), 77), "JPEG"))
    for _, _, data in outputs(result):
        assert decode(data).mode == "RGB"
        assert close(centre_colour(data), (77, 77, 77), tolerance=3)


# --- first frames -------------------------------------------------------------------------

RED, BLUE = Image.new("RGB", (200, 100), (255, 0, 0)), Image.new("RGB", (200, 100), (0, 0, 255))


@pytest.mark.parametrize("fmt,detected", [("GIF", "gif"), ("WEBP", "webp"), ("PNG", "png")])
def test_animations_give_their_first_frame(fmt, detected):
    data = encode(RED, fmt, save_all=True, append_images=[BLUE], duration=100, loop=0)
    assert getattr(decode(data), "n_frames", 1) == 2  # really animated (APNG for PNG)
    assert detect_format(data) == detected
    for _, _, out in outputs(render_renditions(data)):
        assert close(centre_colour(out), (255, 0, 0), tolerance=12)


def test_camera_mpo_is_a_jpeg_and_gives_its_first_picture():
    data = encode(RED, "MPO", save_all=True, append_images=[BLUE])
    assert decode(data).format == "MPO"
    assert detect_format(data) == "jpeg"
    assert close(centre_colour(render_renditions(data).renditions["large"].jpeg), (255, 0, 0))


# --- refusals -----------------------------------------------------------------------------


def test_rejection_is_not_an_os_error():
    # Callers retry OSErrors (storage); a refused image must never look like one.
    assert not issubclass(ImageRejected, OSError)
    assert ImageRejected("why").reason == "why"


@pytest.mark.parametrize(
    "data,words",
    [
        (b"", "empty"),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "SVG"),
        (b"<!DOCTYPE html><html><body>hi</body></html>", "web page"),
        (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "PDF"),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", "EPS"),
        (b"8BPS\x00\x01" + bytes(40), "Photoshop"),
        (b"II*\x00\x08\x00\x00\x00" + bytes(40), "TIFF"),
        (b"PK\x03\x04" + bytes(40), "documents"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "AVIF"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", "Videos"),
        (random.Random(4).randbytes(4096), "not an image"),
    ],
)
def test_non_images_are_refused_with_a_reason(data, words):
    with pytest.raises(ImageRejected) as caught:
        detect_format(data)
    assert words.lower() in caught.value.reason.lower()
    assert "JPEG, PNG, WebP, HEIC" in caught.value.reason or not data
    assert rejection(data) == caught.value.reason


def noisy_jpeg(size=(800, 600)) -> bytes:
    img = Image.frombytes("RGB", size, random.Random(1).randbytes(size[0] * size[1] * 3))
    return encode(img, "JPEG", quality=90)


def test_truncated_jpeg_is_refused():
    data = noisy_jpeg()
    truncated = data[: len(data) // 2]
    Image.open(io.BytesIO(truncated)).verify()  # verify() lets it through...
    assert "damaged or incomplete" in rejection(truncated)  # ...a full decode does not


def test_corrupt_png_is_refused():
    data = bytearray(encode(Image.new("RGB", (300, 200), "blue"), "PNG"))
    data[60:80] = bytes(20)  # zeroes over the compressed pixels
    assert "damaged or incomplete" in rejection(bytes(data))


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if any pixel data is decoded."""

    def load(self):
        raise AssertionError("decoded before the size check")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


def test_decompression_bomb_is_refused_without_decoding(no_decoding):
    # 70 bytes claiming 50000 x 50000 pixels (7.5 GB decoded): Pillow raises
    # DecompressionBombError, which is not an OSError.
    bomb = png_bytes(50000, 50000, 8, 2, b"\x00")
    assert len(bomb) < 100
    assert "megapixels" in rejection(bomb)


def with_jpeg_size(data: bytes, width: int, height: int) -> bytes:
    """The JPEG with the size in its frame header (SOF0) changed: nothing else is touched."""
    at = data.index(b"\xff\xc0") + 5
    return data[:at] + struct.pack(">HH", height, width) + data[at + 4 :]


def test_over_40_megapixels_is_refused_from_the_header(no_decoding):
    big = with_jpeg_size(encode(Image.new("RGB", (64, 64), "red"), "JPEG"), 8000, 6000)
    assert Image.open(io.BytesIO(big)).size == (8000, 6000)
    reason = rejection(big)
    assert "8000×6000" in reason and "48 megapixels" in reason and "40" in reason


def test_webp_canvas_is_checked_before_the_decoder_allocates_it(monkeypatch):
    data = bytearray(encode(Image.new("RGB", (64, 64), "red"), "WEBP"))
    assert data[12:16] == b"VP8 "
    data[26:30] = struct.pack("<HH", 10000, 10000)  # 100 megapixels, under Pillow's own limit
    # Opening a WebP creates its decoder, which allocates the whole canvas at once.
    monkeypatch.setattr(Image, "open", lambda *args, **kwargs: pytest.fail("opened"))
    assert "10000×10000" in rejection(bytes(data))


def test_exactly_40_megapixels_is_accepted():
    # Only the header says 8000 x 5000; libjpeg pads the missing blocks (the file still
    # ends with its end marker) and the draft decode at 1/8 scale keeps it small.
    big = with_jpeg_size(encode(Image.new("RGB", (64, 64), "red"), "JPEG"), 8000, 5000)
    result = render_renditions(big)
    assert (result.width, result.height) == (8000, 5000)
    assert (result.renditions["large"].width, result.renditions["large"].height) == (1080, 675)


@pytest.mark.parametrize("size", [(20000, 1), (1, 20000), (2100, 100)])
def test_extreme_aspect_ratios_are_refused(size):
    reason = rejection(encode(Image.new("L", size, 128), "PNG"))
    assert "too long and narrow" in reason and "20" in reason


def test_aspect_ratio_of_exactly_20_is_accepted():
    result = render_renditions(encode(Image.new("L", (2000, 100), 128), "PNG"))
    assert (result.renditions["large"].width, result.renditions["large"].height) == (1080, 54)


def test_files_over_10_mb_are_refused_before_anything_else():
    data = b"\xff\xd8\xff\xe0" + bytes(images.MAX_BYTES)
    assert "10 MB" in rejection(data)


# --- reduced decoding: JPEG draft, HEIC strips --------------------------------------------


@pytest.mark.parametrize(
    "upright_size,decoded_size",
    [
        ((2403, 1601), (801, 1202)),  # stored 1601 x 2403, decoded at 1/2 (rounded up)
        ((3203, 2403), (902, 1202)),  # stored 2403 x 3203, decoded at 3/8 (rounded up)
    ],
)
def test_draft_decoded_jpeg_keeps_exact_sizes_and_orientation(
    monkeypatch, upright_size, decoded_size
):
    """A JPEG decoded at reduced scale, with an odd size and stored on its side (EXIF 6):
    every rendition has the exact size of the upright photo's fit, and the picture is
    upright."""
    decoded = []
    load = ImageFile.ImageFile.load

    def spy(self):
        result = load(self)
        decoded.append(self.size)
        return result

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    width, height = upright_size
    upright = Image.new("RGB", upright_size, (0, 0, 255))
    upright.paste((255, 0, 0), (0, 0, width // 2, height // 2))  # a red top-left quarter
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    result = render_renditions(
        encode(upright.transpose(Image.Transpose.ROTATE_90), "JPEG", exif=exif, quality=95)
    )
    assert set(decoded) == {decoded_size}
    assert (result.width, result.height) == upright_size
    for name, box in FITTED.items():
        rendition = result.renditions[name]
        assert (rendition.width, rendition.height) == expected_fit(width, height, box)
        img = decode(rendition.jpeg)
        w, h = img.size
        assert close(img.getpixel((w // 4, h // 4)), (255, 0, 0), tolerance=40)  # top left
        assert close(img.getpixel((w * 3 // 4, h // 4)), (0, 0, 255), tolerance=40)
        assert close(img.getpixel((w // 4, h * 3 // 4)), (0, 0, 255), tolerance=40)


def heic(img: Image.Image, **options) -> bytes:
    return encode(img, "HEIF", quality=90, **options)


@functools.cache
def noisy_heic() -> bytes:
    """2201 x 1651 (odd both ways), noisy, so that a misplaced strip shows."""
    size = (2201, 1651)
    noise = Image.frombytes("RGB", size, random.Random(2).randbytes(size[0] * size[1] * 3))
    return heic(Image.blend(noise, Image.linear_gradient("L").convert("RGB").resize(size), 0.7))


def test_heic_is_reduced_strip_by_strip_exactly_as_the_whole_frame(monkeypatch):
    strips = []
    frombuffer = Image.frombuffer

    def spy(mode, size, *args):
        strips.append(size)
        return frombuffer(mode, size, *args)

    monkeypatch.setattr(Image, "frombuffer", spy)
    reduced, stored_size, box = images._decode_heic_with_libheif(noisy_heic())
    assert stored_size == (2201, 1651)
    assert box == (0, 0, 1100.5, 825.5)
    # never the full frame in Pillow: strips of at most _HEIF_STRIP_ROWS rows
    assert len(strips) == 7 and {w for w, _ in strips} == {2201}
    assert max(h for _, h in strips) == images._HEIF_STRIP_ROWS
    whole = decode(noisy_heic()).convert("RGB").reduce(2)  # the whole frame, then reduced
    assert reduced.size == whole.size == (1101, 826)
    assert ImageChops.difference(reduced, whole).getbbox() is None


def test_heic_renditions_have_exact_sizes():
    result = render_renditions(noisy_heic())
    assert (result.width, result.height) == (2201, 1651)
    for name, box in FITTED.items():
        rendition = result.renditions[name]
        assert (rendition.width, rendition.height) == expected_fit(2201, 1651, box)
        assert (
            decode(rendition.webp).size
            == decode(rendition.jpeg).size
            == expected_fit(2201, 1651, box)
        )


def test_heic_exif_gps_and_xmp_are_stripped():
    original = heic(Image.new("RGB", (600, 400), (90, 140, 200)), exif=exif_with_gps(), xmp=XMP)
    source = decode(original)
    assert source.getexif()[ExifTags.Base.Make] == "SecretCam"  # the input really carries them
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert b"secret-xmp" in original
    for name, fmt, data in outputs(render_renditions(original)):
        img = decode(data)
        assert len(img.getexif()) == 0, (name, fmt)
        assert not {"exif", "xmp", "XML:com.adobe.xmp", "icc_profile"} & set(img.info)
        for secret in SECRETS:
            assert secret not in data, (name, fmt, secret)


def test_heic_with_alpha_is_flattened_on_white():
    result = render_renditions(heic(Image.new("RGBA", (300, 200), (0, 0, 0, 128))))
    for _, _, data in outputs(result):
        assert close(centre_colour(data), (127, 127, 127), tolerance=6)


def test_heic_profile_is_converted_to_srgb():
    profile = decode((PHOTOS_DIR / "Landscape_6.jpg").read_bytes()).info["icc_profile"]
    tagged = Image.new("RGB", (200, 100), (128, 128, 128))
    expected = ImageCms.profileToProfile(
        tagged.resize((1, 1)),
        ImageCms.ImageCmsProfile(io.BytesIO(profile)),
        ImageCms.createProfile("sRGB"),
    ).getpixel((0, 0))
    data = heic(tagged, icc_profile=profile)
    assert decode(data).info["icc_profile"] == profile
    for _, _, out in outputs(render_renditions(data)):
        assert close(centre_colour(out), expected, tolerance=4)


def test_truncated_heic_is_refused():
    data = noisy_heic()
    assert "damaged or incomplete" in rejection(data[: len(data) // 2])


def test_heic_over_the_limit_is_refused_before_decoding(monkeypatch):
    def load(self):
        raise AssertionError("decoded before the size check")

    monkeypatch.setattr(images, "MAX_PIXELS", 200_000)
    monkeypatch.setattr(pillow_heif.HeifImage, "load", load)
    assert "megapixels" in rejection(heic(Image.new("RGB", (600, 400), "red")))


@pytest.mark.parametrize(
    "size,factor",
    [((4032, 3024), 2), ((8000, 6000), 4), ((8640, 4608), 8), ((2100, 1600), 1), ((600, 400), 1)],
)
def test_heic_reduction_is_the_largest_power_of_two_that_still_covers(size, factor):
    work = images._working_size(*size)
    assert images._reduction(size, work) == factor
    assert size[0] // factor >= work[0] and size[1] // factor >= work[1]  # still enough pixels
