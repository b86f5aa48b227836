"""Where a backup is written: a folder, or an object-store prefix (s3://bucket/prefix).

Both hold the same layout (ops/backup.py) and answer the same few calls, so backup and
restore never ask which one they have.
"""

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import ClientError
from django.conf import settings


class Folder:
    def __init__(self, path: str):
        self.root = Path(path).expanduser().resolve()

    def __str__(self) -> str:
        return str(self.root)

    def _path(self, name: str) -> Path:
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root):  # a key is never allowed out of the folder
            raise ValueError(f"{name!r} is outside the backup")
        return path

    def put(self, name: str, data: bytes) -> None:
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def put_file(self, name: str, source: Path) -> None:
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, path)

    def get(self, name: str) -> bytes:
        return self._path(name).read_bytes()

    def get_file(self, name: str, target: Path) -> None:
        shutil.copyfile(self._path(name), target)

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()


class Bucket:
    """s3://bucket/prefix on the object store media uses (settings.STORAGES), or on AWS
    with boto3's own credentials when media is on local disk."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        if not parts.netloc:
            raise ValueError(f"{url!r} names no bucket")
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self.url = url
        self.client = _s3_client()

    def __str__(self) -> str:
        return self.url

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def put(self, name: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(name), Body=data)

    def put_file(self, name: str, source: Path) -> None:
        self.client.upload_file(str(source), self.bucket, self._key(name))

    def get(self, name: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(name))["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(self._key(name)) from exc
            raise

    def get_file(self, name: str, target: Path) -> None:
        self.client.download_file(self.bucket, self._key(name), str(target))

    def exists(self, name: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError:
            return False
        return True


def _s3_client():
    media = settings.STORAGES["default"]
    if media["BACKEND"].startswith("storages.backends.s3"):
        options = media["OPTIONS"]
        return boto3.client(
            "s3",
            endpoint_url=options.get("endpoint_url"),
            aws_access_key_id=options.get("access_key") or None,
            aws_secret_access_key=options.get("secret_key") or None,
            region_name=options.get("region_name"),
            config=options.get("client_config"),
        )
    return boto3.client("s3", endpoint_url=settings.S3_ENDPOINT_URL or None)


def destination_open(spec: str) -> Folder | Bucket:
    """A destination from the command line: s3://bucket/prefix, or a folder path."""
    return Bucket(spec) if spec.startswith("s3://") else Folder(spec)
