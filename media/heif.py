"""The primary image of a HEIC decoded with FFmpeg's HEVC decoder (PyAV), made small on the
way: faster than libde265 (libheif's decoder, under pillow-heif), and the full-size RGB
frame never exists.

FFmpeg's frames are YCbCr 4:2:0. Each one (a grid's 512x512 tiles, as phones store
photos, one by one) has its luma plane reduced by the largest power of two that still
covers the renditions (the chroma planes are already half size); the three planes are
then resized to the working size and only that is converted to RGB, so a grid never has a
full-size plane.

PyAV does not expose FFmpeg's HEIF tile-grid layout, so this module reads the file's item
boxes itself (ISO/IEC 23008-12: pitm, iinf, iloc, iref, iprp/ipco/ipma, idat) and hands
each coded image to the decoder as one packet. It handles what phones and pillow-heif
write: a primary image that is one HEVC image or a grid of them, 8-bit 4:2:0, rotated
(irot) or not, BT.601 colours (the JPEG ones; full or limited range), with or without an
ICC profile. For anything else (alpha, mirroring, a crop, 10-bit, other matrices, other
codecs, a layout it cannot follow, boxes it cannot read, a bitstream FFmpeg refuses) it
answers None, and the caller decodes with libheif, which also refuses damaged files.

Public surface:
    Layout                                    the primary image as read from the boxes
    read_layout(data) -> Layout | None        None: not a case handled here
    Truncated                                 raised by read_layout: the file is cut short
    decode(layout, factor, size)              RGB, upright, reduced (and resized); or None
    preload()                                 load FFmpeg (PyAV) now, not at the first decode
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from PIL import Image

# BT.601 ("5" and "6" are the same matrix) or unspecified ("2"): what Pillow's YCbCr is.
_BT601 = {2, 5, 6}
_ALPHA_URNS = (b"urn:mpeg:hevc:2015:auxid:1", b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha")
# Properties this reader understands; an essential property not among them means no.
_KNOWN = {b"hvcC", b"ispe", b"irot", b"colr", b"pixi"}
_MAX_TILES = 64 * 64


class Truncated(Exception):
    """The file ends before its primary image's data does: an upload cut short."""


class _Unsupported(Exception):
    """Not a file this module decodes (the caller falls back to libheif)."""


@dataclass
class _Item:
    type: bytes = b""
    extents: list[tuple[int, int, int]] = field(default_factory=list)  # (method, offset, len)
    properties: list[tuple[bytes, bytes, bool]] = field(default_factory=list)  # type, body, ess.


@dataclass(frozen=True)
class Layout:
    width: int  # of the image as stored, before its rotation
    height: int
    rotation: int  # quarter turns anticlockwise (irot)
    columns: int
    rows: int
    tile_width: int
    tile_height: int
    config: bytes  # the HEVC decoder configuration (hvcC) shared by every tile
    tiles: list[bytes | memoryview]  # the coded tiles, row by row
    full_range: bool
    matrix: int | None  # from an nclx colour box; None: the bitstream says (or BT.601)
    icc_profile: bytes | None

    @property
    def coded_pixels(self) -> int:
        """The pixels the decoder makes: the whole tiles, beyond the image's edges too."""
        return self.columns * self.tile_width * self.rows * self.tile_height

    @property
    def upright_size(self) -> tuple[int, int]:
        return (self.height, self.width) if self.rotation % 2 else (self.width, self.height)


def preload() -> None:
    """Load FFmpeg's libraries now (a Celery worker does, before forking its pool)."""
    import av  # noqa: F401


def read_layout(data: bytes) -> Layout | None:
    """The primary image's layout, or None when this module does not handle the file.
    Raises Truncated when the file ends before the image's data (libheif would decode the
    tiles there are and leave the rest blank)."""
    try:
        return _layout(data)
    except (_Unsupported, struct.error, IndexError, KeyError, ValueError):
        return None


def decode(layout: Layout, factor: int, size: tuple[int, int] | None = None) -> Image.Image | None:
    """The image in RGB and upright: reduced by factor (1, 2, 4 or 8; sizes rounded up, as
    reduce() does), then resized to size if given (upright; Hamming, as the pipeline's
    first step). None when the bitstream holds something this module does not handle, or
    that FFmpeg refuses (libheif then decides whether the file is damaged).

    The resize is done on the Y, Cb and Cr planes, before the conversion to RGB (an affine
    map, so the order changes nothing but rounding): the chroma planes are smaller, and only
    the resized image is converted."""
    step = max(2, factor)  # a grid's reduced tiles, and their chroma, must line up
    if len(layout.tiles) > 1 and (layout.tile_width % step or layout.tile_height % step):
        return None
    decoded = _decode_planes(layout, factor)  # the decoder's buffers are freed on return
    if decoded is None:
        return None
    planes, full_range = decoded
    if size is not None:
        stored = size[::-1] if layout.rotation % 2 else size
        box = (0, 0, layout.width / factor, layout.height / factor)  # without the rounding
        chroma = box if factor > 1 else (0, 0, layout.width / 2, layout.height / 2)
        planes = [
            plane.resize(stored, Image.Resampling.HAMMING, box=chroma if i else box)
            for i, plane in enumerate(planes)
        ]
    elif factor == 1:  # the chroma planes are half size: repeated, as libheif does
        planes[1:] = [
            plane.resize(planes[0].size, Image.Resampling.NEAREST) for plane in planes[1:]
        ]
    if not full_range:  # limited range: stretch to full, as Pillow's YCbCr is JPEG's
        planes[0] = planes[0].point([_clip((v - 16) * 255 / 219) for v in range(256)])
        lut = [_clip((v - 128) * 255 / 224 + 128) for v in range(256)]
        planes[1:] = [plane.point(lut) for plane in planes[1:]]
    img = Image.merge("YCbCr", planes).convert("RGB")
    if layout.rotation:
        img = img.transpose(_TURNS[layout.rotation])
    return img


def _decode_planes(layout: Layout, factor: int):
    """The Y, Cb and Cr planes, each tile reduced as it comes out of the decoder, and
    whether they are full range; None as for decode()."""
    import av  # FFmpeg's libraries are loaded by the first HEIC a process decodes

    codec = av.CodecContext.create("hevc", "r")
    codec.extradata = layout.config
    codec.options = {
        "err_detect": "explode",  # a damaged tile fails, it is not concealed
        "max_pixels": str(_coded(layout.tile_width) * _coded(layout.tile_height)),
    }
    codec.thread_count = 1  # frame threads across tiles gained little, and cost memory (README)
    planes = None
    colours = None
    done = 0
    try:
        frames = _frames(codec, layout)
        if len(layout.tiles) == 1:
            # One picture (not a grid): its frame outlives the decoder, so the decoder's
            # own per-picture buffers are freed before the planes are made, not beside them.
            frames = list(frames)
            del codec
        for frame in frames:
            if done == len(layout.tiles) or not _is_tile(frame, layout):
                return None
            colours = colours or _colours(frame, layout)
            if colours is None:
                return None
            planes = planes or _blank_planes(layout, factor)
            row, column = divmod(done, layout.columns)
            _paste(frame, planes, column * layout.tile_width, row * layout.tile_height, factor)
            done += 1
    except av.error.FFmpegError:
        return None
    return (planes, colours[1]) if done == len(layout.tiles) else None


def _blank_planes(layout: Layout, factor: int) -> list[Image.Image]:
    """The Y, Cb and Cr planes of the whole image, reduced by factor, to paste tiles into."""
    luma = (-(-layout.width // factor), -(-layout.height // factor))
    chroma = luma if factor > 1 else (-(-layout.width // 2), -(-layout.height // 2))
    return [Image.new("L", luma), Image.new("L", chroma), Image.new("L", chroma)]


def _coded(side: int) -> int:
    """A stated side rounded up to whole 64-pixel blocks: frames may not be larger (HEVC
    codes whole blocks of 8 to 64 and crops the rest, so the stated size is not enough)."""
    return -(-side // 64) * 64


def _frames(codec, layout: Layout):
    import av

    for tile in layout.tiles:
        yield from codec.decode(av.Packet(tile))
    yield from codec.decode(None)  # any frame the decoder still holds


_TURNS = {
    1: Image.Transpose.ROTATE_90,
    2: Image.Transpose.ROTATE_180,
    3: Image.Transpose.ROTATE_270,
}


def _clip(value: float) -> int:
    return min(255, max(0, round(value)))


def _is_tile(frame, layout: Layout) -> bool:
    size = (frame.width, frame.height)
    return frame.format.name in ("yuv420p", "yuvj420p") and size == (
        layout.tile_width,
        layout.tile_height,
    )


def _colours(frame, layout: Layout) -> tuple[int, bool] | None:
    """(matrix, full range) from the file's nclx box, else from the bitstream, else BT.601
    full range (libheif's defaults); None unless the matrix is BT.601."""
    if layout.matrix is not None:
        matrix, full = layout.matrix, layout.full_range
    else:
        matrix, full = int(frame.colorspace), int(frame.color_range) != 1  # 1: "MPEG"
    return (matrix, full) if matrix in _BT601 else None


def _paste(frame, planes: list[Image.Image], x: int, y: int, factor: int) -> None:
    """A decoded tile's three planes, reduced by factor, into the image's planes at x, y."""
    for index, plane in enumerate(frame.planes):
        w, h = (frame.width, frame.height) if index == 0 else (plane.width, plane.height)
        img = Image.frombuffer("L", (w, h), plane, "raw", "L", plane.line_size, 1)
        scale = factor if index == 0 else max(1, factor // 2)
        if scale > 1:
            img = img.reduce(scale)
        at = (x // factor, y // factor) if index == 0 or factor > 1 else (x // 2, y // 2)
        planes[index].paste(img, at)


# --- Boxes --------------------------------------------------------------------------------


def _boxes(data: bytes, start: int = 0, end: int | None = None):
    """(type, body start, body end) of each box between start and end."""
    end = len(data) if end is None else end
    while start + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, start)
        header = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, start + 8)
            header = 16
        elif size == 0:
            size = end - start
        if size < header or start + size > end:
            raise _Unsupported("bad box size")
        yield kind, start + header, start + size
        start += size


def _uint(data: bytes, at: int, size: int) -> int:
    return int.from_bytes(data[at : at + size], "big") if size else 0


def _layout(data: bytes) -> Layout:
    meta = next((b for b in _boxes(data) if b[0] == b"meta"), None)
    if meta is None:
        raise _Unsupported("no meta box")
    children = {kind: (start, end) for kind, start, end in _boxes(data, meta[1] + 4, meta[2])}
    primary = _pitm(data, *children[b"pitm"])
    items = _iinf(data, *children[b"iinf"])
    _iloc(data, *children[b"iloc"], items)
    refs = _iref(data, *children[b"iref"]) if b"iref" in children else {}
    _iprp(data, *children[b"iprp"], items)
    idat = children.get(b"idat")

    view = memoryview(data)

    def item_data(item: _Item) -> bytes | memoryview:
        parts = []
        for method, offset, length in item.extents:
            base, end = (0, len(data)) if method == 0 else (idat[0], idat[1]) if idat else (0, 0)
            if length == 0:
                length = end - base - offset
            if method == 0 and length > 0 and base + offset + length > end:
                raise Truncated  # the file ends before the image's data does
            if offset < 0 or length <= 0 or base + offset + length > end:
                raise _Unsupported("item data out of bounds")
            parts.append(view[base + offset : base + offset + length])
        return parts[0] if len(parts) == 1 else b"".join(parts)  # one extent: not copied

    for kind, sources in refs.items():
        if kind == b"auxl":
            for source, targets in sources:
                auxc = _property(items[source], b"auxC")
                if primary in targets and auxc and auxc[4:].split(b"\0")[0] in _ALPHA_URNS:
                    raise _Unsupported("alpha")
    image = items[primary]
    if image.type == b"grid":
        grid = bytes(item_data(image))
        large = grid[1] & 1
        rows, columns = grid[2] + 1, grid[3] + 1
        width, height = (
            _uint(grid, 4 + i * (4 if large else 2), 4 if large else 2) for i in (0, 1)
        )
        tile_ids = next((t for s, t in refs.get(b"dimg", []) if s == primary), [])
        if grid[0] != 0 or len(tile_ids) != rows * columns or len(tile_ids) > _MAX_TILES:
            raise _Unsupported("grid")
        tiles = [items[tile_id] for tile_id in tile_ids]
    elif image.type == b"hvc1":
        tiles = [image]
        rows = columns = 1
        width, height = _ispe(image)
    else:
        raise _Unsupported("not HEVC")
    config = _property(tiles[0], b"hvcC")
    tile_width, tile_height = _ispe(tiles[0])
    for tile in tiles:
        if tile.type != b"hvc1" or _property(tile, b"hvcC") != config:
            raise _Unsupported("tiles differ")
        if _ispe(tile) != (tile_width, tile_height) or (
            tile is not image and _property(tile, b"irot")
        ):
            raise _Unsupported("tiles differ")
    if (
        config is None
        or len(config) < 23
        or config[16] & 3 != 1
        or config[17] & 7
        or config[18] & 7
    ):
        raise _Unsupported("not 8-bit 4:2:0")
    if not (columns * tile_width >= width > (columns - 1) * tile_width):
        raise _Unsupported("grid does not cover the image")
    if not (rows * tile_height >= height > (rows - 1) * tile_height):
        raise _Unsupported("grid does not cover the image")
    for item in {id(i): i for i in [image, *tiles]}.values():
        for kind, _, essential in item.properties:
            if essential and kind not in _KNOWN:
                raise _Unsupported(f"essential property {kind!r}")
        if any(kind in (b"imir", b"clap") for kind, _, _ in item.properties):
            raise _Unsupported("mirrored or cropped")
    irot = _property(image, b"irot")
    matrix, full_range, icc = None, True, None
    for colr in (_property(image, b"colr", every=True) or []) + (
        _property(tiles[0], b"colr", every=True) or []
    ):
        if colr[:4] == b"nclx" and matrix is None:
            matrix, full_range = _uint(colr, 8, 2), bool(colr[10] & 0x80)
        elif colr[:4] in (b"prof", b"rICC") and icc is None:
            icc = colr[4:]
    return Layout(
        width=width,
        height=height,
        rotation=irot[0] & 3 if irot else 0,
        columns=columns,
        rows=rows,
        tile_width=tile_width,
        tile_height=tile_height,
        config=config,
        tiles=[item_data(tile) for tile in tiles],
        full_range=full_range,
        matrix=matrix,
        icc_profile=icc,
    )


def _property(item: _Item, kind: bytes, every: bool = False):
    found = [body for k, body, _ in item.properties if k == kind]
    return found if every else (found[0] if found else None)


def _ispe(item: _Item) -> tuple[int, int]:
    ispe = _property(item, b"ispe")
    if ispe is None:
        raise _Unsupported("no ispe")
    return struct.unpack_from(">II", ispe, 4)


def _pitm(data: bytes, start: int, end: int) -> int:
    return _uint(data, start + 4, 4 if data[start] else 2)


def _iinf(data: bytes, start: int, end: int) -> dict[int, _Item]:
    version = data[start]
    items = {}
    for kind, body, _ in _boxes(data, start + 4 + (4 if version else 2), end):
        if kind != b"infe" or data[body] < 2:
            continue
        id_size = 4 if data[body] == 3 else 2
        item_id = _uint(data, body + 4, id_size)
        items[item_id] = _Item(type=data[body + 6 + id_size : body + 10 + id_size])
    return items


def _iloc(data: bytes, start: int, end: int, items: dict[int, _Item]) -> None:
    version = data[start]
    at = start + 4
    offset_size, length_size = data[at] >> 4, data[at] & 15
    base_size, index_size = data[at + 1] >> 4, (data[at + 1] & 15) if version else 0
    at += 2
    count_size = 4 if version == 2 else 2
    count = _uint(data, at, count_size)
    at += count_size
    for _ in range(count):
        item_id = _uint(data, at, count_size)
        at += count_size
        method = 0
        if version:
            method = _uint(data, at, 2) & 15
            at += 2
        if _uint(data, at, 2):  # data_reference_index: another file
            raise _Unsupported("external data")
        base = _uint(data, at + 2, base_size)
        extents = _uint(data, at + 2 + base_size, 2)
        at += 4 + base_size
        if method > 1:
            raise _Unsupported("construction method")
        found = []
        for _ in range(extents):
            at += index_size
            offset, length = (
                _uint(data, at, offset_size),
                _uint(data, at + offset_size, length_size),
            )
            at += offset_size + length_size
            found.append((method, base + offset, length))
        if at > end:
            raise _Unsupported("iloc")
        if item_id in items:
            items[item_id].extents = found


def _iref(data: bytes, start: int, end: int) -> dict[bytes, list[tuple[int, list[int]]]]:
    id_size = 4 if data[start] else 2
    refs: dict[bytes, list[tuple[int, list[int]]]] = {}
    for kind, body, _ in _boxes(data, start + 4, end):
        source, count = _uint(data, body, id_size), _uint(data, body + id_size, 2)
        at = body + id_size + 2
        targets = [_uint(data, at + i * id_size, id_size) for i in range(count)]
        refs.setdefault(kind, []).append((source, targets))
    return refs


def _iprp(data: bytes, start: int, end: int, items: dict[int, _Item]) -> None:
    children = list(_boxes(data, start, end))
    ipco = next(b for b in children if b[0] == b"ipco")
    properties = [(kind, data[body:body_end]) for kind, body, body_end in _boxes(data, *ipco[1:])]
    for kind, body, _ in children:
        if kind != b"ipma":
            continue
        version, flags = data[body], data[body + 3]
        count = _uint(data, body + 4, 4)
        at = body + 8
        for _ in range(count):
            item_id = _uint(data, at, 4 if version else 2)
            at += 4 if version else 2
            associations = data[at]
            at += 1
            for _ in range(associations):
                wide = flags & 1
                value = _uint(data, at, 2 if wide else 1)
                at += 2 if wide else 1
                index = value & (0x7FFF if wide else 0x7F)
                essential = bool(value >> (15 if wide else 7))
                if index and item_id in items:
                    prop_kind, prop_body = properties[index - 1]
                    items[item_id].properties.append((prop_kind, prop_body, essential))
