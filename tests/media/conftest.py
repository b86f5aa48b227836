"""Fixtures for media: local or S3 storage (moto's server: a real S3 HTTP endpoint)."""

import subprocess
import time
import urllib.request

import boto3
import pytest
from botocore.config import Config as BotoConfig

from tests.accounts.conftest import media_storage
from tests.servers import VENV_BIN, free_port

__all__ = ["media_storage", "s3_endpoint", "s3_storage", "s3_storages"]


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 server: a real S3 HTTP endpoint standing in for MinIO, which has no
    binary on this machine."""
    port = free_port()
    proc = subprocess.Popen(
        [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 - local test server
            break
        except OSError:
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def s3_storages(endpoint: str, bucket: str, *, read_timeout: float = 5) -> dict:
    """settings.STORAGES as production sets them for S3 (circles/settings.py)."""
    return {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "client_config": BotoConfig(
                    connect_timeout=2,
                    read_timeout=read_timeout,
                    retries={"max_attempts": 2, "mode": "standard"},
                    signature_version="s3v4",
                    s3={"addressing_style": "path"},
                ),
                "bucket_name": bucket,
                "endpoint_url": endpoint,
                "access_key": "test",
                "secret_key": "test",
                "region_name": "us-east-1",
                "default_acl": "private",
                "querystring_auth": True,
                "querystring_expire": 300,
                "file_overwrite": False,
                "signature_version": "s3v4",
                "addressing_style": "path",
            },
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def s3_storage(settings, s3_endpoint):
    client = boto3.client(
        "s3", endpoint_url=s3_endpoint, aws_access_key_id="test",
        aws_secret_access_key="test", region_name="us-east-1",
    )  # fmt: skip
    bucket = f"circles-{time.monotonic_ns()}"
    client.create_bucket(Bucket=bucket)
    settings.STORAGES = s3_storages(s3_endpoint, bucket)
    return client, bucket
