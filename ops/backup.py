"""Backups: one consistent snapshot of the database and every media file it refers to,
and bringing one back.

A backup (a folder, or a prefix in the object store) holds:

    manifest.json        what is in it; written last, so a backup without it is unfinished
    database.dump        pg_dump --format=custom (PostgreSQL), or
    database.sqlite3     a copy by SQLite's online backup API (the embedded mode)
    media/<key>          every file a row refers to, under its storage key

The media keys are read in the same snapshot as the dump (PostgreSQL: the dump runs on a
snapshot exported by the transaction that reads the keys; SQLite: from the copy), so the
manifest lists exactly the files the dumped rows name. Files are never rewritten (keys are
random), so copying them after the snapshot copies what it saw; one deleted meanwhile (its
row deleted after the snapshot) is listed under "missing" and reported.
"""

import hashlib
import json
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from media import storage
from media.models import Image
from ops.destinations import Bucket, Folder

FORMAT = 1
MANIFEST = "manifest.json"
# Tables `migrate` fills by itself: a database holding only these is still empty.
_BOOKKEEPING_TABLES = {"django_migrations", "django_content_type", "auth_permission"}


class BackupError(Exception):
    """The backup or restore could not be done; the message says why."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the database ------------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    """pg_dump / pg_restore for the server's major version: a client older than the
    server refuses to dump it."""
    if settings.PG_BIN_DIR:
        return str(Path(settings.PG_BIN_DIR) / name)
    connection.ensure_connection()
    versioned = Path(f"/usr/lib/postgresql/{connection.pg_version // 10000}/bin/{name}")
    if versioned.exists():
        return str(versioned)
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} was not found; install the PostgreSQL client or set PG_BIN_DIR")
    return found


def _pg_args() -> tuple[list[str], dict]:
    """Connection arguments and environment for pg_dump/pg_restore."""
    db = settings.DATABASES["default"]
    args = ["--dbname", db["NAME"]]
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            args += [option, str(db[key])]
    env = {"PATH": "/usr/bin:/bin", "PGCONNECT_TIMEOUT": "10"}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def _run(command: list[str], env: dict) -> None:
    # the command is ours: a PostgreSQL tool, settings and a temporary path
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()[-2000:]}")


def _image_rows(rows) -> list[dict]:
    """Manifest entries (key, image, purpose) of (id, purpose, original, renditions)."""
    entries = []
    for image_id, purpose, original, renditions in rows:
        if isinstance(renditions, str):  # SQLite's copy, read without the ORM
            renditions = json.loads(renditions or "{}")
        for key in Image(original_key=original, renditions=renditions).storage_keys():
            entries.append({"key": key, "image": str(image_id), "purpose": purpose})
    return entries


def _dump_postgresql(target: Path) -> list[dict]:
    """pg_dump into target on a snapshot shared with the read of the media keys."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        args, env = _pg_args()
        _run(
            [_pg_tool("pg_dump"), "--format=custom", f"--snapshot={snapshot}", "--file",
             str(target), *args],
            env,
        )  # fmt: skip
        rows = Image.objects.order_by("pk").values_list(
            "pk", "purpose", "original_key", "renditions"
        )
        return _image_rows(rows)


def _dump_sqlite(target: Path) -> list[dict]:
    """SQLite's online backup API: a consistent copy while the app keeps writing."""
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        connection.connection.backup(copy)
        table = Image._meta.db_table
        rows = copy.execute(
            f'SELECT id, purpose, original_key, renditions FROM "{table}" ORDER BY id'  # noqa: S608 - model metadata
        ).fetchall()
    finally:
        copy.close()
    return _image_rows(rows)


# --- backup ------------------------------------------------------------------------------


@dataclass
class BackupSummary:
    files: int = 0
    bytes: int = 0
    missing: list[str] = field(default_factory=list)


def backup_write(*, destination: Folder | Bucket, say: Callable[[str], None] = print):
    """Write a snapshot of the database and its media to destination."""
    if destination.exists(MANIFEST):
        raise BackupError(f"{destination} already holds a backup; name a new place")
    vendor = connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise BackupError(f"backups of {vendor} are not supported")
    name = "database.dump" if vendor == "postgresql" else "database.sqlite3"
    summary = BackupSummary()
    with tempfile.TemporaryDirectory(prefix="circles-backup-") as scratch:
        dump = Path(scratch) / name
        entries = _dump_postgresql(dump) if vendor == "postgresql" else _dump_sqlite(dump)
        database = {"engine": vendor, "file": name, "size": dump.stat().st_size}
        database["sha256"] = _sha256(dump.read_bytes())
        destination.put_file(name, dump)
        say(f"database: {name}, {database['size']} bytes")
        media, seen = [], set()
        for entry in entries:
            if entry["key"] in seen:  # images may share a file (seeded demo photos)
                continue
            seen.add(entry["key"])
            try:
                data = storage.media_read(entry["key"])
            except FileNotFoundError:
                summary.missing.append(entry["key"])
                continue
            destination.put(f"media/{entry['key']}", data)
            media.append({**entry, "sha256": _sha256(data), "size": len(data)})
            summary.files += 1
            summary.bytes += len(data)
    manifest = {
        "format": FORMAT,
        "created_at": timezone.now().isoformat(),
        "database": database,
        "media": media,
        "missing": summary.missing,
    }
    destination.put(MANIFEST, json.dumps(manifest, indent=1).encode())
    say(f"media: {summary.files} files, {summary.bytes} bytes; {len(summary.missing)} missing")
    return summary


# --- restore -----------------------------------------------------------------------------


def database_is_empty() -> bool:
    """No table holds a row, apart from what `migrate` writes by itself."""
    tables = set(connection.introspection.table_names()) - _BOOKKEEPING_TABLES
    with connection.cursor() as cursor:
        for table in sorted(tables):
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT 1 FROM {quoted} LIMIT 1")  # noqa: S608 - from the catalogue
            if cursor.fetchone() is not None:
                return False
    return True


def _restore_postgresql(dump: Path) -> None:
    args, env = _pg_args()
    connections.close_all()
    # --clean --if-exists: a database `migrate` already made gets the backup's tables
    # instead; one transaction, so a failure leaves the database as it was
    _run(
        [_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
         "--single-transaction", "--exit-on-error", *args, str(dump)],
        env,
    )  # fmt: skip


def _restore_sqlite(copy: Path) -> None:
    connection.ensure_connection()
    source = sqlite3.connect(copy)
    try:
        source.backup(connection.connection)
    finally:
        source.close()
    connections.close_all()


@dataclass
class RestoreSummary:
    present: int = 0  # already in storage with the right checksum
    written: int = 0  # put back from the backup, then checked
    failed: list[str] = field(default_factory=list)


def backup_restore(
    *, source: Folder | Bucket, force: bool = False, say: Callable[[str], None] = print
) -> RestoreSummary:
    """Bring a backup back into this (empty) database and media storage, then check every
    media key against the manifest's checksum."""
    try:
        manifest = json.loads(source.get(MANIFEST))
    except FileNotFoundError as exc:
        raise BackupError(f"{source} holds no finished backup ({MANIFEST} is missing)") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    database = manifest["database"]
    if database["engine"] != connection.vendor:
        raise BackupError(
            f"the backup is of {database['engine']}; this database is {connection.vendor}"
        )
    if not force and not database_is_empty():
        raise BackupError("the database is not empty: restore refuses to overwrite it (--force)")
    with tempfile.TemporaryDirectory(prefix="circles-restore-") as scratch:
        dump = Path(scratch) / database["file"]
        source.get_file(database["file"], dump)
        if _sha256(dump.read_bytes()) != database["sha256"]:
            damaged = f"{database['file']} does not match its checksum: the backup is damaged"
            raise BackupError(damaged)
        if database["engine"] == "postgresql":
            _restore_postgresql(dump)
        else:
            _restore_sqlite(dump)
    say(f"database: restored from {database['file']}")
    summary = RestoreSummary()
    for entry in manifest["media"]:
        key, expected = entry["key"], entry["sha256"]
        try:
            if _stored_checksum(key) == expected:
                summary.present += 1
                continue
            data = source.get(f"media/{key}")
            if _sha256(data) != expected:
                raise BackupError("the backup's copy does not match its checksum")
            storage.media_write(key, data)
            if _stored_checksum(key) != expected:
                raise BackupError("the stored file does not match its checksum")
            summary.written += 1
        except (BackupError, OSError, storage.StorageUnavailable) as exc:
            summary.failed.append(f"{key}: {exc}")
    say(
        f"media: {summary.present} already in place, {summary.written} written back, "
        f"{len(summary.failed)} failed; {len(manifest['missing'])} were missing at backup"
    )
    return summary


def _stored_checksum(key: str) -> str | None:
    try:
        return _sha256(storage.media_read(key))
    except FileNotFoundError:
        return None
