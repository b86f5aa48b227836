"""A Content-Security-Policy on every response: scripts and style sheets from the site
only, no inline scripts (the browser tests load every page under it and fail on any
violation, which Chromium reports as a console error)."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in header.split("; ")}


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/accounts/login/",
        "/accounts/register/",
        "/accounts/password/reset/",
        "/accounts/profile/",
        "/accounts/settings/",
        "/circles/",
        "/direct/",
        "/search/?q=al",
        "/explore/",
        "/alice/",
        "/no-such-person/",  # 404 page
        "/search/?q=%00",  # the text guard's 400 page
        "/api/v1/auth/me",
        "/healthz",
    ],
)
def test_every_response_carries_the_policy(client_for, user, path):
    response = client_for(user).get(path)
    policy = directives(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


def test_anonymous_pages_too(client):
    assert directives(client.get("/"))["default-src"] == ["'self'"]


def test_no_template_has_an_inline_script_or_event_handler():
    """What the policy would refuse in a browser, found in the source: a <script> without
    src (json_script's type="application/json" blocks are data, allowed) or an on*=
    attribute."""
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and "application/json" not in tag:
                offenders.append(f"{template.name}: {tag}")
        offenders += [f"{template.name}: {m}" for m in re.findall(r"\son[a-z]+=\"", text)]
    assert offenders == []


def test_a_second_user_page(client_for):
    other = UserFactory(username="zed")
    response = client_for(other).get("/zed/")
    assert response.status_code == 200
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
