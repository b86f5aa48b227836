"""Request ids on responses and log lines; the client address is the socket peer unless a
trusted proxy says otherwise."""

import io
import json
import logging

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from pythonjsonlogger.json import JsonFormatter

from circles.logs import RequestIdFilter
from circles.middleware import ClientIpMiddleware, RequestIdMiddleware, resolve_client_ip

pytestmark = pytest.mark.django_db


def test_response_carries_a_generated_request_id(client):
    response = client.get("/healthz")
    assert len(response["X-Request-ID"]) == 32


def test_well_formed_incoming_request_id_is_kept_and_junk_is_replaced(client):
    kept = client.get("/healthz", HTTP_X_REQUEST_ID="edge-1234abcd")
    assert kept["X-Request-ID"] == "edge-1234abcd"
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID="<script>\nalert(1)")
    assert replaced["X-Request-ID"] != "<script>\nalert(1)"


def test_every_log_line_of_a_request_has_its_id_as_json():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("%(levelname)s %(message)s %(request_id)s"))
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("tests.request_context")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    def view(request):
        logger.info("first")
        logger.info("second")
        return HttpResponse("ok")

    try:
        request = RequestFactory().get("/", HTTP_X_REQUEST_ID="req-abcdef123")
        RequestIdMiddleware(view)(request)
        logger.info("after the request")
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["request_id"] for line in lines] == ["req-abcdef123", "req-abcdef123", "-"]


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "expected"),
    [
        ("203.0.113.9", "1.2.3.4", [], "203.0.113.9"),  # no proxy trusted: header ignored
        ("10.0.0.2", "198.51.100.7", ["10.0.0.2"], "198.51.100.7"),
        ("10.0.0.2", "1.2.3.4, 198.51.100.7", ["10.0.0.2"], "198.51.100.7"),  # spoofed left part
        ("10.0.0.2", "198.51.100.7, 10.0.0.3", ["10.0.0.2", "10.0.0.3"], "198.51.100.7"),
        ("10.0.0.2", "not-an-ip", ["10.0.0.2"], "10.0.0.2"),
        # CIDR ranges: every proxy of a load balancer's subnet, and only those
        ("10.1.2.3", "198.51.100.7, 10.9.9.9", ["10.0.0.0/8"], "198.51.100.7"),
        ("192.0.2.1", "198.51.100.7", ["10.0.0.0/8"], "192.0.2.1"),
        ("fd00::5", "2001:db8::1", ["fd00::/8"], "2001:db8::1"),
    ],
)
def test_client_ip_resolution(remote, forwarded, trusted, expected):
    assert resolve_client_ip(remote, forwarded, trusted) == expected


def test_spoofed_forwarded_for_changes_nothing_by_default():
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="1.1.1.1")
    ClientIpMiddleware(lambda r: HttpResponse())(request)
    assert request.client_ip == "203.0.113.9"


def test_oversized_request_is_refused_before_reading(client):
    response = client.generic("POST", "/api/v1/posts", b"x", CONTENT_LENGTH=str(200 * 1024 * 1024))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    page = client.generic("POST", "/accounts/login/", b"x", CONTENT_LENGTH=str(200 * 1024 * 1024))
    assert page.status_code == 413


def test_celery_processes_log_json_lines_with_the_request_id():
    """What a worker does at start (app.log.setup), then a log line inside a task."""
    import subprocess
    import sys

    from tests.servers import ROOT, process_env

    script = (
        "import logging; from circles.celery import app; import django; django.setup(); "
        "app.log.setup(loglevel='INFO'); "
        "from circles.logs import set_request_id; set_request_id('req-from-web-1'); "
        "logging.getLogger('celery.worker').warning('inside a task')"
    )
    env = process_env(LOG_FORMAT="json", LOG_LEVEL="INFO")
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    line = next(line for line in lines if line["message"] == "inside a task")
    assert line["request_id"] == "req-from-web-1" and line["logger"] == "celery.worker"


def test_djangos_own_log_of_a_failed_request_carries_its_request_id(client):
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        response = client.get("/api/v1/auth/me", HTTP_X_REQUEST_ID="req-denied-0001")
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 401
    assert [r.request_id for r in records] == ["req-denied-0001"]
