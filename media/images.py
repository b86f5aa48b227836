"""The image pipeline's pure functions: uploaded bytes in, web renditions out.

No ORM, no storage, no Celery: callers read the original, call render_renditions(), and
store what it returns.

Public surface:
    MAX_BYTES, MAX_PIXELS, MAX_ASPECT_RATIO   the limits; beyond them an image is refused
    RENDITIONS                                name -> RenditionSpec (box size, crop or fit)
    ImageRejected(reason)                     a permanent refusal with a readable reason
    detect_format(data) -> str                the real format from the first bytes
    render_renditions(data) -> RenderResult   width, height, blurhash, renditions

Decisions:
- Accepted: JPEG (cameras' MPO too), PNG (APNG), WebP, HEIC/HEIF, GIF; animated files
  give their first frame. Everything else is refused by its magic bytes, before Pillow
  sees it, so no other Pillow plugin (EPS through Ghostscript, PSD, ...) ever runs.
- Orientation: EXIF orientation is applied (for HEIC, libheif applies the file's own
  rotation and mirroring, and its EXIF tag is ignored); width and height are upright.
- Colour: an embedded ICC profile (RGB, CMYK or grey) is converted to sRGB with
  LittleCMS; one that already is sRGB, or is broken, is taken as is. Outputs carry no
  profile (the web assumes sRGB), and no EXIF, GPS, XMP or comment.
- Alpha is flattened on white in both formats, so the WebP and JPEG of a rendition look
  the same whichever one a browser picks.
- Aspect ratio: refused beyond 20:1 (long side to short side); at 20:1 the large
  rendition is still 1080x54 and the thumbnail a crop of the middle.
- Memory: dimensions are checked from the header before any pixel is decoded, so a decoded
  image holds at most 40 MP (160 MB at 4 bytes a pixel). JPEGs decode at reduced scale.
  HEICs as phones write them are decoded by FFmpeg (media.heif) a tile at a time, each
  reduced as it comes (a 12 MP grid adds ~40 MB to a process, a 12 MP single picture ~56,
  a 12 MP JPEG ~17); other
  HEICs by libheif, whose frame is read into Pillow a strip at a time (a 12 MP HEIC adds
  ~60-80 MB, nearly all of it libheif's own decoding).
- Speed: decode once (a JPEG at the smallest DCT scale that serves every rendition: 1/8,
  1/4, 3/8 or 1/2; a HEIC reduced by a power of two), one short-filter (Hamming) resize to
  a working size, then each rendition from the previous one, Hamming too, or a 2x2 average
  where it is exactly half the one before; a rendition equal to the one before is encoded
  once.
  bench/cases/images.py times it against Node's sharp. Pillow's resampling is scalar, so
  the filter's length is the cost: the 640 and 320 steps took 14 ms with bicubic, 9 with
  Hamming (Lanczos more). Against a full-resolution Lanczos resize, after q80 encoding,
  the renditions keep 34.0-34.2 dB PSNR at worst (34.4-34.6 with bicubic steps), far less
  than the encoders lose; tests/media/test_images.py keeps that fidelity.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import blurhash
import pillow_heif
from PIL import ExifTags, Image, ImageCms

from media import heif

pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)

# blurhash-python reads pixels with Image.getdata(), deprecated in Pillow 12.1.
warnings.filterwarnings("ignore", category=DeprecationWarning, module="blurhash")

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_ASPECT_RATIO = 20

JPEG_OPTIONS = {"quality": 80, "progressive": True}  # 4:2:0, optimised Huffman tables
WEBP_OPTIONS = {"quality": 80, "method": 4}
BACKGROUND = (255, 255, 255)  # what transparent pixels become

SUPPORTED = "Upload a JPEG, PNG, WebP, HEIC or GIF photo."


@dataclass(frozen=True)
class RenditionSpec:
    box: int  # the side of the square box
    crop: bool  # True: exactly box x box, centre crop; False: fit inside, never upscaled


# Largest first: each one is made from the one before it.
RENDITIONS = {
    "large": RenditionSpec(1080, crop=False),
    "medium": RenditionSpec(640, crop=False),
    "small": RenditionSpec(320, crop=False),
    "thumbnail": RenditionSpec(150, crop=True),
}


@dataclass(frozen=True)
class Rendition:
    width: int
    height: int
    webp: bytes
    jpeg: bytes


@dataclass(frozen=True)
class RenderResult:
    width: int  # of the upright original
    height: int
    blurhash: str
    renditions: dict[str, Rendition]


class ImageRejected(Exception):
    """The file is not an image we accept, or is damaged: permanent, never retried.

    Deliberately not an OSError (Pillow's errors are), so a caller retrying transient
    OSErrors can never retry this one.
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# --- Format -------------------------------------------------------------------------------

_HEVC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
_HEIF_BRANDS = {b"mif1", b"msf1"}  # generic HEIF; libheif decides what it can decode
_AVIF_BRANDS = {b"avif", b"avis"}
# Things people upload by mistake, by their first bytes, with what to tell them.
_REFUSED_MAGIC = [
    (b"%PDF-", "PDF documents are not supported."),
    (b"%!PS", "PostScript/EPS files are not supported."),
    (b"\xc5\xd0\xd3\xc6", "PostScript/EPS files are not supported."),
    (b"8BPS", "Photoshop (PSD) files are not supported."),
    (b"II*\x00", "TIFF and camera RAW files are not supported."),
    (b"MM\x00*", "TIFF and camera RAW files are not supported."),
    (b"BM", "BMP images are not supported."),
    (b"\x00\x00\x01\x00", "Icon files are not supported."),
    (b"\xff\x0a", "JPEG XL images are not supported."),
    (b"\x00\x00\x00\x0cJXL ", "JPEG XL images are not supported."),
    (b"\x00\x00\x00\x0cjP  ", "JPEG 2000 images are not supported."),
    (b"PK\x03\x04", "Archives and office documents are not supported."),
    (b"\xd0\xcf\x11\xe0", "Office documents are not supported."),
    (b"{\\rtf", "Documents are not supported."),
]
# The formats we hand to Pillow, by our name: only that plugin may open the file.
_PILLOW_FORMATS = {"jpeg": "JPEG", "png": "PNG", "gif": "GIF", "webp": "WEBP", "heic": "HEIF"}


def detect_format(data: bytes) -> str:
    """The real format of an upload from its first bytes (4 KB are enough):
    "jpeg", "png", "gif", "webp" or "heic". Raises ImageRejected for anything else."""
    if not data:
        raise ImageRejected("The file is empty.")
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"  # MPO (camera multi-picture) files are JPEGs too
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp":
        return _detect_iso_media(data)
    for magic, reason in _REFUSED_MAGIC:
        if data.startswith(magic):
            raise ImageRejected(f"{reason} {SUPPORTED}")
    text = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<svg" in text or (text.startswith(b"<?xml") and b"svg" in text):
        raise ImageRejected(f"SVG images are not supported. {SUPPORTED}")
    if text.startswith(b"<"):  # HTML, XML...
        raise ImageRejected(f"This is a web page or markup, not a photo. {SUPPORTED}")
    raise ImageRejected(f"This file is not an image in a supported format. {SUPPORTED}")


def _detect_iso_media(data: bytes) -> str:
    """HEIC/HEIF among ISO media files (AVIF, MP4 and MOV are too) by their ftyp brands."""
    box_end = min(int.from_bytes(data[:4], "big"), len(data))
    major = data[8:12]
    brands = {major} | {data[i : i + 4] for i in range(16, box_end - 3, 4)}
    if major in _AVIF_BRANDS or (brands & _AVIF_BRANDS and not brands & _HEVC_BRANDS):
        raise ImageRejected(f"AVIF images are not supported. {SUPPORTED}")
    if brands & (_HEVC_BRANDS | _HEIF_BRANDS):
        return "heic"
    raise ImageRejected(f"Videos and other media files are not supported. {SUPPORTED}")


# --- Rendering ----------------------------------------------------------------------------

# What Pillow and pillow-heif raise for a damaged file: OSError (truncated data, broken
# stream, UnidentifiedImageError), SyntaxError from a plugin's parser, and plain errors
# from malformed headers and chunks.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, RuntimeError)
_DAMAGED = "The file is damaged or incomplete and cannot be read as an image."

# Pillow's resampling is scalar, so filters are chosen for speed where the work is big.
_FIRST_FILTER = Image.Resampling.HAMMING  # the big first step, after JPEG draft decoding
_FILTER = Image.Resampling.HAMMING  # the later, smaller steps too
_REDUCING_GAP = 3.0  # beyond this ratio, reduce() by an integer factor first (a box filter)
_SRGB = ImageCms.createProfile("sRGB")
# How to turn an image stored with each EXIF orientation upright (as ImageOps.exif_transpose
# does; that one also rewrites the EXIF we drop anyway, and fails on some malformed EXIF).
_TURNS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# JPEG decoding scales, smallest first, as the N of the 1/N that Pillow asks libjpeg for;
# libjpeg decodes at the smallest M/8 at least 1/N: 1/8, 2/8, 3/8, 4/8.
_JPEG_SCALES = (8, 4, 3, 2)
_HEIF_STRIP_ROWS = 256  # rows of a decoded HEIC copied into Pillow at a time (3 MB at 12 MP)
_BLURHASH_SIZE = 32  # BlurHash only needs a few colours: encode a tiny copy


def render_renditions(data: bytes) -> RenderResult:
    """Every rendition of an uploaded image as WebP and progressive JPEG, plus its upright
    size and BlurHash. Raises ImageRejected, with a readable reason, for anything refused."""
    if len(data) > MAX_BYTES:
        raise ImageRejected(f"The file is larger than {MAX_BYTES // 2**20} MB.")
    img, stored_size, box = _decode(data, detect_format(data))
    orientation = _orientation(img)
    width, height = stored_size[::-1] if orientation >= 5 else stored_size  # 5-8: on its side
    icc_profile = img.info.get("icc_profile")

    # One working image, without alpha, as small as the renditions allow, upright, in sRGB
    # and without metadata; the renditions are made from it, each from the one before.
    img = _opaque_eight_bit(img)
    work_size = _working_size(*stored_size)
    if img.size != work_size:
        img = img.resize(work_size, _FIRST_FILTER, box=box, reducing_gap=_REDUCING_GAP)
    if orientation in _TURNS:
        img = img.transpose(_TURNS[orientation])
    img = _to_srgb(img, icc_profile)
    img.info = {}  # no EXIF, GPS, XMP, comment or profile reaches an output
    renditions, smallest_fit = _renditions(img, width, height)
    return RenderResult(width, height, _blurhash(smallest_fit), renditions)


def _decode(data: bytes, fmt: str) -> tuple[Image.Image, tuple[int, int], tuple | None]:
    """The first frame, loaded, and its full stored size. A JPEG is decoded at the smallest
    scale (1/8, 1/4, 3/8, 1/2) that still serves every rendition; then the region of the
    result matching the full image is returned too (the scaled size is rounded up)."""
    if fmt == "heic":
        return _decode_heic(data)
    if fmt == "webp" and (size := _webp_size(data)):
        _check_dimensions(*size)  # its decoder allocates the canvas when the file is opened
    try:
        img = Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[fmt]])
        stored_size = img.size
        _check_dimensions(*stored_size)  # from the header: no pixel is decoded yet
        box = _draft_jpeg(img, _working_size(*stored_size)) if fmt == "jpeg" else None
        img.load()  # verify() passes a truncated JPEG; only a full load catches it
    except Image.DecompressionBombError as exc:  # not an OSError
        raise ImageRejected(
            f"The image has far more than {MAX_PIXELS // 10**6} megapixels."
        ) from exc
    except _DECODE_ERRORS as exc:
        raise ImageRejected(_DAMAGED) from exc
    return img, stored_size, box


def _draft_jpeg(img: Image.Image, target: tuple[int, int]) -> tuple | None:
    """Set a JPEG's decoder to the smallest DCT scale that still gives at least target, and
    return the region of the scaled image matching the full one (its size is rounded up);
    None, and the JPEG decodes at full size, when no scale does.

    Pillow's draft() offers 1/2, 1/4 and 1/8. libjpeg-turbo also scales by 3/8 (its IDCT
    gives 3 pixels for every 8), which is what a 12 MP photo needs for 1080 px: 1512 wide
    rather than 2016, so the first resize has 44 % fewer pixels to read. Pillow's decoder
    asks libjpeg for 1/N and libjpeg takes the smallest M/8 at least that (N = 3 gives
    3/8), so this sets up what draft() would, with that N: the tile, the size and the
    decoder's scale (Pillow's own attributes; tests/media pins the result)."""
    if len(img.tile) != 1 or img.decoderconfig:  # as draft(): one tile, not yet drafted
        return None
    width, height = img.size
    for n in _JPEG_SCALES:
        eighths = -(-8 // n)
        if width * eighths // 8 >= target[0] and height * eighths // 8 >= target[1]:
            break
    else:
        return None
    size = (-(-width * eighths // 8), -(-height * eighths // 8))  # libjpeg rounds up
    img.tile = [img.tile[0]._replace(extents=(0, 0, *size))]
    img._size = size
    img.decoderconfig = (n, 0)
    return (0, 0, width * eighths / 8, height * eighths / 8)


def _decode_heic(data: bytes) -> tuple[Image.Image, tuple[int, int], tuple | None]:
    """The primary image of a HEIC/HEIF, upright (the file's rotation and mirroring are
    applied; its EXIF orientation is ignored, as HEIF requires), flattened and reduced by
    the largest power of two that still serves every rendition, with its profile in info.

    What phones write (one HEVC image or a grid of them, 8-bit, BT.601 colours, no alpha)
    is decoded with FFmpeg (media.heif), faster, and comes back at the working size (made
    from its YCbCr planes); anything else, and whatever FFmpeg refuses, with libheif
    (on pillow-heif's DECODE_THREADS)."""
    try:
        layout = heif.read_layout(data)
    except heif.Truncated as exc:
        raise ImageRejected(_DAMAGED) from exc
    if layout is not None and layout.coded_pixels <= MAX_PIXELS:
        stored_size = layout.upright_size
        _check_dimensions(*stored_size)  # from the header: no pixel is decoded yet
        work_size = _working_size(*stored_size)
        factor = _reduction(stored_size, work_size)
        img = heif.decode(layout, factor, work_size)
        if img is not None:  # already the working size: render_renditions() keeps it
            if layout.icc_profile:
                img.info["icc_profile"] = layout.icc_profile
            return img, stored_size, None
    return _decode_heic_with_libheif(data)


def _decode_heic_with_libheif(data: bytes) -> tuple[Image.Image, tuple[int, int], tuple | None]:
    """_decode_heic() through pillow-heif: libheif applies the rotation and mirroring.

    libheif has no reduced-size decode: it hands over the whole frame as RGB(A) bytes. They
    are read a strip at a time, so the full-size frame is never copied into Pillow (48 MB
    for 12 MP) and libheif's buffer (36 MB) is released as soon as the reduced copy exists;
    a box reduce() of whole strips gives exactly the whole frame's reduce()."""
    try:
        heif = pillow_heif.open_heif(data, convert_hdr_to_8bit=True)
        frame = heif[heif.primary_index]
        stored_size = frame.size
        _check_dimensions(*stored_size)  # from the header: no pixel is decoded yet
        factor = _reduction(stored_size, _working_size(*stored_size))
        pixels, stride = frame.data, frame.stride
        width, height = stored_size
        reduced = Image.new("RGB", (-(-width // factor), -(-height // factor)))
        rows = max(1, _HEIF_STRIP_ROWS // factor) * factor
        for top in range(0, height, rows):
            bottom = min(top + rows, height)
            strip = Image.frombuffer(
                frame.mode, (width, bottom - top), pixels[top * stride : bottom * stride],
                "raw", frame.mode, stride, 1,
            )  # fmt: skip
            reduced.paste(_opaque_eight_bit(strip).reduce(factor), (0, top // factor))
    except _DECODE_ERRORS as exc:
        raise ImageRejected(_DAMAGED) from exc
    if icc_profile := frame.info.get("icc_profile"):
        reduced.info["icc_profile"] = icc_profile
    box = None if factor == 1 else (0, 0, width / factor, height / factor)
    return reduced, stored_size, box


def _reduction(size: tuple[int, int], target: tuple[int, int]) -> int:
    """The largest power of two (at most 8) by which an image can be divided and still be at
    least target (HEIC's reduction; JPEG decoding can also take 3/8, see _draft_jpeg)."""
    scale = min(size[0] // target[0], size[1] // target[1])
    return next(factor for factor in (8, 4, 2, 1) if scale >= factor)


def _orientation(img: Image.Image) -> int:
    """The EXIF (or XMP) orientation, 1 to 8; 1 when there is none or it is unreadable."""
    try:
        orientation = img.getexif().get(ExifTags.Base.Orientation, 1)
        return orientation if orientation in _TURNS else 1
    except Exception:  # EXIF is untrusted: a malformed block must not fail a good photo
        return 1


def _check_dimensions(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise ImageRejected(
            f"The image is {width}×{height} pixels ({width * height / 1e6:.0f} megapixels);"
            f" the maximum is {MAX_PIXELS // 10**6} megapixels."
        )
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        raise ImageRejected(
            f"The image is {width}×{height} pixels, too long and narrow: its long side may"
            f" be at most {MAX_ASPECT_RATIO} times its short side."
        )


def _webp_size(data: bytes) -> tuple[int, int] | None:
    """The canvas size in a WebP header (lossy, lossless or extended), or None."""
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        bits = int.from_bytes(data[26:30], "little")
        return bits & 0x3FFF, (bits >> 16) & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None


def _scaled(width: int, height: int, scale: float) -> tuple[int, int]:
    return max(1, round(width * scale)), max(1, round(height * scale))


def _fit(width: int, height: int, box: int) -> tuple[int, int]:
    """The size of an image fitted inside a box x box square, never upscaled."""
    return _scaled(width, height, min(1.0, box / max(width, height)))


def _working_size(width: int, height: int) -> tuple[int, int]:
    """The smallest size that serves every rendition: the largest one's, or more for a long
    strip, whose thumbnail (a centre square) still needs enough pixels across."""
    largest = max(spec.box for spec in RENDITIONS.values())
    thumbnail = max(spec.box for spec in RENDITIONS.values() if spec.crop)
    scale = max(largest / max(width, height), thumbnail / min(width, height))
    return _scaled(width, height, min(1.0, scale))


def _opaque_eight_bit(img: Image.Image) -> Image.Image:
    """The image in L, RGB or CMYK: 16-bit scaled down, palette expanded, alpha flattened on
    white (before resizing: cheaper than resizing with alpha, and the same result)."""
    if img.mode.startswith("I"):  # 16-bit greyscale: scale it, converting would clip it
        return img.point(lambda value: value / 256).convert("L")
    if img.has_transparency_data:
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", img.size, BACKGROUND)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if img.mode in ("L", "RGB", "CMYK"):
        return img
    return img.convert("RGB")  # palette, bilevel...: resizing those would be nearest-neighbour


def _to_srgb(img: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """The image as RGB in sRGB, converted from its embedded profile if it has one."""
    if icc_profile:
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            if not ImageCms.getProfileDescription(profile).lower().startswith("srgb"):
                return ImageCms.profileToProfile(img, profile, _SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile, or one for another colour space: take the pixels as sRGB
    return img if img.mode == "RGB" else img.convert("RGB")


def _renditions(work: Image.Image, width: int, height: int):
    """Every rendition of the working image, and the smallest fitted one (for BlurHash).

    Each fitted rendition is resized from the previous one; the crop comes from the
    smallest one still wide enough. A rendition no smaller than the one before (the image
    is small) is the same image, encoded once."""
    renditions: dict[str, Rendition] = {}
    chain = [work]  # the fitted images made so far, largest first
    encoded: tuple[Image.Image, bytes, bytes] | None = None
    for name, spec in RENDITIONS.items():
        if spec.crop:
            source = next((im for im in reversed(chain) if min(im.size) >= spec.box), work)
            w, h = source.size
            side = min(w, h)
            box = ((w - side) / 2, (h - side) / 2, (w + side) / 2, (h + side) / 2)
            img = source.resize((spec.box, spec.box), _FILTER, box=box)
        else:
            size = _fit(width, height, spec.box)
            previous = chain[-1]
            if previous.size == size:
                img = previous
            elif previous.size == (2 * size[0], 2 * size[1]):
                img = previous.reduce(2)  # an exact half: 2x2 averages, sharper than Hamming
            else:
                img = previous.resize(size, _FILTER, reducing_gap=_REDUCING_GAP)
            chain.append(img)
        if encoded is None or encoded[0] is not img:
            encoded = (img, *_encode(img))
        renditions[name] = Rendition(img.width, img.height, encoded[1], encoded[2])
    return renditions, chain[-1]


def _encode(img: Image.Image) -> tuple[bytes, bytes]:
    webp, jpeg = io.BytesIO(), io.BytesIO()
    img.save(webp, "WEBP", **WEBP_OPTIONS)
    img.save(jpeg, "JPEG", **JPEG_OPTIONS)
    return webp.getvalue(), jpeg.getvalue()


def _blurhash(img: Image.Image) -> str:
    tiny = img.resize(_fit(*img.size, _BLURHASH_SIZE), Image.Resampling.BILINEAR)
    landscape = tiny.width >= tiny.height
    return blurhash.encode(tiny, 4 if landscape else 3, 3 if landscape else 4)
