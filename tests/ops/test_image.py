"""The app image can back up the compose stack's database: it installs the PostgreSQL
client of the postgres service's major version (pg_dump refuses a newer server)."""

import re
from pathlib import Path

import yaml

from ops import backup

REPO = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_the_image_installs_the_client_of_the_servers_major_version():
    services = compose()["services"]
    server_major = re.fullmatch(r"postgres:(\d+)(\..*)?", services["postgres"]["image"]).group(1)
    dockerfile = (REPO / "Dockerfile").read_text()
    default_major = re.search(r"^ARG POSTGRES_MAJOR=(\d+)$", dockerfile, re.M).group(1)
    assert default_major == server_major
    for name in ("migrate", "web", "worker", "beat"):
        assert services[name]["build"]["args"]["POSTGRES_MAJOR"] == server_major, name
    # installed where ops/backup.py looks for the server's major first
    assert 'install -y --no-install-recommends "postgresql-client-${POSTGRES_MAJOR}"' in dockerfile
    assert "/usr/lib/postgresql/{" in Path(backup.__file__).read_text()
