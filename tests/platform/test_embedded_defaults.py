"""Smoke test of the embedded defaults: no DATABASE_URL, no REDIS_URL, no S3 — SQLite,
in-memory channel layer, in-process tasks, local media — as `make run` uses them."""

import asyncio
import json
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request

import pytest
import websockets

from tests.servers import ROOT, _stop, _wait_http, free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def bare_env(tmp_path):
    # Only what any shell has; none of the service variables the rest of the suite sets.
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["VAR_DIR"] = str(tmp_path / "var")  # keep the developer's var/ untouched
    return env


def run(args, env):
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


async def test_embedded_defaults_migrate_seed_and_serve(bare_env, tmp_path):
    # async only for the WebSocket client at the end; the rest blocks, which is fine here
    python = sys.executable
    run([python, "manage.py", "migrate", "--noinput", "-v0"], bare_env)
    seed = [python, "manage.py", "seed_demo", "--posts", "60", "--stories"]  # as make run
    first, again = run(seed, bare_env), run(seed, bare_env)  # idempotent
    assert "Seeded 60 posts" in first and "Seeded" not in again
    assert "Seeded 7 demo stories" in first
    assert (tmp_path / "var" / "db.sqlite3").exists()

    port = free_port()
    # what `make run` runs after migrating and seeding; the port comes from the environment
    server = subprocess.Popen(
        ["bash", "scripts/serve.sh"], cwd=ROOT, env={**bare_env, "PORT": str(port)}
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"{base}/healthz", server)
        for path in ("/", "/admin/login/", "/accounts/login/", "/static/vendor/htmx.min.js"):
            with urllib.request.urlopen(base + path, timeout=10) as response:
                assert response.status == 200, path
        with urllib.request.urlopen(base + "/api/v1/openapi.json", timeout=10) as response:
            assert json.load(response)["info"]["title"] == "Circles API"
        with urllib.request.urlopen(base + "/readyz", timeout=10) as response:
            checks = json.load(response)["checks"]
        assert checks == {"database": "ok", "redis": "not_configured", "storage": "ok"}
        # the feed's compiled page query on SQLite (ids as hex there: circles/compiled.py)
        login = json.dumps({"username": "alice", "password": "circles-demo"}).encode()
        request = urllib.request.Request(
            base + "/api/v1/auth/tokens", data=login, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            token = json.load(response)["token"]
        request = urllib.request.Request(
            base + "/api/v1/feed", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            feed = json.load(response)["items"]
        assert feed and {post["status"] for post in feed} == {"published"}
        # a like notifies on SQLite too: the group's upsert is portable SQL
        # (notifications.services), and the author's list and count are compiled queries
        theirs = next(p for p in feed if p["author"]["username"] != "alice" and not p["liked"])
        _api(base, f"/api/v1/posts/{theirs['id']}/like", token, method="POST")
        author = _api(base, "/api/v1/auth/tokens", None, body={
            "username": theirs["author"]["username"], "password": "circles-demo",
        })["token"]  # fmt: skip
        items = _api(base, "/api/v1/notifications", author)["items"]
        assert [(n["type"], n["actor"]["username"]) for n in items][:1] == [("post_like", "alice")]
        assert _api(base, "/api/v1/notifications/unread-count", author)["count"] >= 1
        # and the home page, signed in through the form: its cards are Jinja2 templates
        home = _signed_in_page(base, "/", "alice", "circles-demo")
        assert home.count('class="card post-card"') == 10 and "data-feed-more" in home
        assert 'class="story-ring unseen"' in home  # the demo stories' rings, on SQLite

        async with websockets.connect(f"ws://127.0.0.1:{port}/ws/", origin=base) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd.code == 4401
    finally:
        _stop(server)


def _api(base: str, path: str, token, *, method=None, body=None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _signed_in_page(base: str, path: str, username: str, password: str) -> str:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    with opener.open(base + "/accounts/login/", timeout=10) as response:
        form = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    fields = {"csrfmiddlewaretoken": token, "username": username, "password": password}
    data = urllib.parse.urlencode(fields).encode()
    with opener.open(base + "/accounts/login/", data=data, timeout=10) as response:
        assert response.url == base + "/"  # signed in, sent home
    with opener.open(base + path, timeout=10) as response:
        return response.read().decode()
