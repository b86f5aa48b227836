"""Where image bytes live: the configured storage (S3/MinIO or local disk) behind a few
functions that turn every storage failure into StorageUnavailable, the one error the
pipeline retries and the API answers with 503."""

import hashlib
import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponseRedirect
from django.utils.cache import get_conditional_response

from circles.errors import ApiError

CONTENT_TYPES = {"jpeg": "image/jpeg", "webp": "image/webp"}


class StorageUnavailable(ApiError):
    """The object store or disk could not be reached or written; nothing was lost.

    The pipeline retries it; the API answers it with 503."""

    def __init__(self, detail: str = ""):
        super().__init__(503, "storage_unavailable", "Photo storage is unavailable. Try again.")
        self.detail = detail


def _random_key(prefix: str, suffix: str = "") -> str:
    # Keys are random so that nothing about a file can be guessed from its name.
    return f"{prefix}/{secrets.token_hex(2)}/{secrets.token_urlsafe(24)}{suffix}"


def original_save(data) -> str:
    """Store an uploaded original privately; returns its key."""
    return _save(_random_key("originals"), data)


def rendition_key(fmt: str) -> str:
    """A new random key for a rendition, chosen (and recorded) before anything is written."""
    return _random_key("renditions", f".{'jpg' if fmt == 'jpeg' else fmt}")


def rendition_save(key: str, data: bytes) -> str:
    return _save(key, data)


def _save(key: str, data) -> str:
    content = ContentFile(data) if isinstance(data, bytes) else data
    try:
        return default_storage.save(key, content)
    except Exception as exc:  # boto/botocore and OS errors alike
        raise StorageUnavailable(f"could not write {key}") from exc


def media_read(key: str) -> bytes:
    try:
        with default_storage.open(key, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise
    except Exception as exc:
        raise StorageUnavailable(f"could not read {key}") from exc


def media_delete(keys) -> None:
    for key in keys:
        try:
            default_storage.delete(key)
        except FileNotFoundError:
            pass
        except Exception as exc:
            raise StorageUnavailable(f"could not delete {key}") from exc


def media_exists(key: str) -> bool:
    return default_storage.exists(key)


def media_write(key: str, data: bytes) -> None:
    """Write data under exactly `key`, replacing what is there (a restore puts files back
    under the keys the rows name)."""
    media_delete([key])
    saved = _save(key, data)
    if saved != key:  # the storage chose another name: the rows would not find it
        media_delete([saved])
        raise StorageUnavailable(f"{key} was stored as {saved}")


class StoredFile(NamedTuple):
    key: str
    size: int
    modified: datetime


def media_list() -> Iterator[StoredFile]:
    """Every file in media storage, with its size and time: one listing request per
    thousand objects on S3, a directory walk on disk."""
    bucket = getattr(default_storage, "bucket", None)
    try:
        if bucket is not None:
            prefix = default_storage.location.strip("/")
            prefix = f"{prefix}/" if prefix else ""
            for item in bucket.objects.filter(Prefix=prefix):
                yield StoredFile(item.key.removeprefix(prefix), item.size, item.last_modified)
            return
        root = Path(default_storage.location)
        for folder, _, names in os.walk(root):
            for name in names:
                path = Path(folder) / name
                stat = path.stat()
                modified = datetime.fromtimestamp(stat.st_mtime, tz=UTC)
                yield StoredFile(path.relative_to(root).as_posix(), stat.st_size, modified)
    except Exception as exc:
        raise StorageUnavailable("could not list media storage") from exc


def media_response(key: str, fmt: str, *, request=None):
    """The answer to a checked media request: a signed, short-lived object-store URL for
    S3 (the bucket is private), or the file streamed from local disk — with an ETag, and
    304 Not Modified when the browser already holds it (keys are random and never
    rewritten, so the key names the bytes)."""
    if hasattr(default_storage, "bucket_name"):
        return HttpResponseRedirect(default_storage.url(key))
    etag = f'"{hashlib.sha256(key.encode()).hexdigest()[:32]}"'
    not_modified = request and get_conditional_response(request, etag=etag)
    if not_modified:
        not_modified["ETag"] = etag
        return not_modified
    try:
        handle = default_storage.open(key, "rb")
    except OSError as exc:
        raise StorageUnavailable(f"could not read {key}") from exc
    response = FileResponse(handle, content_type=CONTENT_TYPES[fmt])
    response["ETag"] = etag
    return response


# --- files that are not images (a data export's ZIP) ----------------------------------


def file_key(prefix: str, suffix: str) -> str:
    """A new random key under prefix, chosen (and recorded) before anything is written."""
    return _random_key(prefix, suffix)


def stream_save(key: str, readable) -> str:
    """Write a file-like object (read() in pieces, never seeked) to key without holding
    it whole: local disk copies it chunk by chunk, S3 uploads it in multipart parts."""
    try:
        return default_storage.save(key, File(readable, name=key.rsplit("/", 1)[-1]))
    except Exception as exc:
        raise StorageUnavailable(f"could not write {key}") from exc


def media_chunks(key: str, size: int = 256 * 1024):
    """The bytes at key, piece by piece (one piece in memory at a time)."""
    try:
        with default_storage.open(key, "rb") as handle:
            while piece := handle.read(size):
                yield piece
    except FileNotFoundError:
        raise
    except Exception as exc:
        raise StorageUnavailable(f"could not read {key}") from exc


def download_response(key: str, *, content_type: str, filename: str):
    """A checked download: a signed, short-lived S3 URL that names the file, or the file
    streamed from local disk as an attachment."""
    if hasattr(default_storage, "bucket_name"):
        return HttpResponseRedirect(
            default_storage.url(
                key,
                parameters={
                    "ResponseContentDisposition": f'attachment; filename="{filename}"',
                    "ResponseContentType": content_type,
                },
            )
        )
    try:
        handle = default_storage.open(key, "rb")
    except OSError as exc:
        raise StorageUnavailable(f"could not read {key}") from exc
    return FileResponse(handle, content_type=content_type, as_attachment=True, filename=filename)
