import pytest

pytestmark = pytest.mark.django_db


def test_healthz_needs_nothing(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_every_dependency(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok", "storage": "ok"}


def test_readyz_names_what_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["redis"]
    assert body["checks"]["database"] == "ok"


def test_metrics_are_exposed_for_prometheus(client):
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert b"django_http_requests_total_by_method_total" in response.content


def test_the_wsgi_entry_point_serves_too():
    from wsgiref.util import setup_testing_defaults

    from circles.wsgi import application

    environ = {"PATH_INFO": "/healthz", "HTTP_HOST": "localhost"}
    setup_testing_defaults(environ)
    statuses = []
    body = b"".join(application(environ, lambda status, headers: statuses.append(status)))
    assert statuses == ["200 OK"] and body
