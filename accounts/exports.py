"""The "Download your data" ZIP: what each app contributes (accounts.hooks.export_sections)
gathered into a readable index.html and a machine-readable data.json, with the photos
beside them, streamed into storage piece by piece (zipstream-ng) so that memory holds one
photo's piece at a time however many photos there are.

Photos are the best rendition the pipeline made (`large`, JPEG): re-encoded pixels with no
metadata. Stored originals, which may carry EXIF and GPS, are never read here.
"""

import io
import json
from collections.abc import Callable, Iterator

from django.template.loader import render_to_string
from django.utils import timezone
from zipstream import ZIP_DEFLATED, ZIP_STORED, ZipStream

from media import storage
from media.models import ImageState

FORMAT = "circles-export/1"
BEST_RENDITION = "large"


class ExportArchive:
    """What a section calls while it is read: photo(image) lays a photo in the ZIP (read
    from storage only when the ZIP is streamed) and returns its path inside it."""

    def __init__(self):
        self._photos: dict = {}  # image id -> path inside the ZIP
        self.pending: list[tuple[str, str]] = []  # (path, storage key), in order

    def photo(self, image, *, folder: str = "photos") -> str | None:
        if image is None or image.state != ImageState.READY or not image.renditions:
            return None
        if image.pk in self._photos:
            return self._photos[image.pk]
        rendition = image.renditions.get(BEST_RENDITION) or max(
            image.renditions.values(), key=lambda r: r["width"]
        )
        path = f"{folder}/{image.pk}.jpg"
        self._photos[image.pk] = path
        self.pending.append((path, rendition["jpeg"]))
        return path

    @property
    def photo_count(self) -> int:
        return len(self.pending)


def _text(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return "" if value is None else str(value)


def _for_page(sections: list[dict]) -> list[dict]:
    """Sections as the page shows them: each item's fields as (label, text) pairs and
    its photos apart (relative paths, so the page works offline, unzipped)."""
    shown = []
    for section in sections:
        items = []
        for item in section["items"]:
            photos = [p for p in item.get("photos", []) if p]
            fields = [
                (key.replace("_", " "), _text(value))
                for key, value in item.items()
                if key != "photos" and value not in (None, "", [])
            ]
            items.append({"fields": fields, "photos": photos})
        shown.append({"name": section["name"], "title": section["title"], "items": items})
    return shown


def sections_read(*, user, archive: ExportArchive, contributors) -> list[dict]:
    """Ask every contributor for its section (name, contributor) in order."""
    sections = []
    for name, contribute in contributors:
        section = contribute(user=user, archive=archive)
        if section is not None:
            sections.append({"name": name, "title": section["title"], "items": section["items"]})
    return sections


def archive_chunks(
    *, user, sections: list[dict], archive: ExportArchive, on_photo: Callable[[int], None]
) -> Iterator[bytes]:
    """The ZIP's bytes: photos first (stored: JPEG does not compress), then data.json
    and index.html (deflated). on_photo(n) is told after each photo is written."""
    zipped = ZipStream(compress_type=ZIP_STORED, sized=False)
    done = 0

    def photo_bytes(key: str) -> Iterator[bytes]:
        nonlocal done
        yield from storage.media_chunks(key)
        done += 1
        on_photo(done)

    for path, key in archive.pending:
        zipped.add(photo_bytes(key), path)
    generated = timezone.now()
    data = {
        "format": FORMAT,
        "generated_at": generated.isoformat(),
        "username": user.username,
        "sections": {s["name"]: {"title": s["title"], "items": s["items"]} for s in sections},
    }
    zipped.add(
        json.dumps(data, indent=1, ensure_ascii=False), "data.json", compress_type=ZIP_DEFLATED
    )
    page = render_to_string(
        "accounts/export_index.html",
        {"owner": user, "generated_at": generated, "sections": _for_page(sections)},
    )
    zipped.add(page, "index.html", compress_type=ZIP_DEFLATED)
    yield from zipped


class ChunkReader(io.RawIOBase):
    """A read-only file over an iterator of bytes, so storage can pull the ZIP as it is
    made; counts what was read."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = iter(chunks)
        self._left = b""
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._left:
            try:
                self._left = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(buffer), len(self._left))
        buffer[:n] = self._left[:n]
        self._left = self._left[n:]
        self.size += n
        return n
