"""Shared fixtures. The suite runs on real PostgreSQL and Redis (see `make test`)."""

import os
import time

import pytest
import redis
from django.conf import settings
from django.test import Client

from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.servers import uvicorn_server

# Playwright's sync API runs an event loop in the test thread; the ORM calls a test makes
# between browser steps are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session", autouse=True)
def _real_services(django_db_setup, django_db_blocker):
    """Fail loudly if the suite was started without the real services behind it."""
    with django_db_blocker.unblock():
        from django.db import connection

        vendor = connection.vendor
    if vendor != "postgresql" or not settings.REDIS_URL:
        pytest.exit(
            "The test suite needs PostgreSQL and Redis: run it with `make test` "
            f"(database: {vendor}, REDIS_URL: {settings.REDIS_URL or 'unset'}).",
            returncode=2,
        )


@pytest.fixture(autouse=True)
def _fresh_redis():
    """Each test starts on an empty Redis database (this xdist worker's own)."""
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


@pytest.fixture(autouse=True)
def _local_rate_counts_forgotten():
    """The credential limits' in-process counters (used while Redis is down) start empty."""
    from circles import ratelimits

    ratelimits.local_reset()


@pytest.fixture(autouse=True)
def _rate_windows_held(monkeypatch):
    """Rate limits count in fixed windows (a minute, an hour): a test that straddled a
    window's end would see its count start again halfway. Within a test the limits' clock
    stands still, a second into a day, so every count stays in one window."""
    import types

    import django_ratelimit.core

    from circles import ratelimits

    held = time.time() // 86400 * 86400 + 1
    monkeypatch.setattr(ratelimits, "_now", lambda: held)
    monkeypatch.setattr(django_ratelimit.core, "time", types.SimpleNamespace(time=lambda: held))


@pytest.fixture(autouse=True)
def _cache_backoff_forgotten():
    """Each test starts with Redis considered up (circles.cache backs off after a failure)."""
    from circles import cache

    cache.reset_backoff()
    yield
    cache.reset_backoff()


DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens there


@pytest.fixture
def redis_down(settings):
    """The production cache and session settings with Redis unreachable."""
    settings.CACHES = {
        "default": {
            "BACKEND": "circles.cache.FailSoftRedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    settings.RATELIMIT_ENABLE = True


@pytest.fixture(autouse=True)
def _fast_passwords(request, settings):
    # A live server process keeps the real hasher, so users it must log in keep it too.
    if "live_server_url" not in request.fixturenames:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def password():
    return DEFAULT_PASSWORD


@pytest.fixture
def user(db):
    return UserFactory(username="alice")


@pytest.fixture
def other_user(db):
    return UserFactory(username="bob")


@pytest.fixture
def outsider(db):
    return UserFactory(username="mallory")


@pytest.fixture
def client_for():
    """client_for(user) -> a Django test client logged in as user (None: anonymous)."""

    def make(user=None, **kwargs):
        client = Client(**kwargs)
        if user is not None:
            client.force_login(user)
        return client

    return make


# --- live server and browser ----------------------------------------------------------


@pytest.fixture(scope="session")
def live_server_url(django_db_setup, _real_services):
    """A uvicorn process on the test database, shared by the session's live tests.

    Tests that use it must commit their data: mark them `django_db(transaction=True)`.
    """
    with uvicorn_server() as base_url:
        yield base_url


@pytest.fixture
def browser():
    # Per test, not per session: Playwright's sync API keeps an event loop running in
    # this thread while it is started, which would break every async test after it.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server_url):
    """A fresh browser context and page; console errors are collected in page.console_errors."""
    context = browser.new_context(base_url=live_server_url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    yield page
    context.close()
