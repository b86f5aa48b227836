"""circles.postgresql: timestamps read through psycopg's C loader are the same values, in
the same time zone object, as Django's own loader gives, on every path a model or a raw
cursor reads them; another time zone keeps Django's loader."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone
from psycopg import pq

from accounts.models import User
from circles.postgresql.base import DatabaseWrapper, UtcTimestamptzLoader
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TIMESTAMPTZ_OID = 1184


def loader_of_a_cursor():
    """The loader object psycopg builds for a timestamptz column on Django's cursor."""
    with connection.cursor() as cursor:
        return cursor.cursor.adapters.get_loader(TIMESTAMPTZ_OID, pq.Format.TEXT)


def test_the_engine_is_circles_postgresql_with_the_c_loader():
    assert connection.settings_dict["ENGINE"] == "circles.postgresql"
    assert connection.vendor == "postgresql"
    assert pq.__impl__ == "binary", "psycopg[binary] is a dependency: its C loaders are used"
    assert loader_of_a_cursor() is UtcTimestamptzLoader
    loader = UtcTimestamptzLoader(TIMESTAMPTZ_OID, connection.connection)
    assert type(loader).__module__.startswith("psycopg_binary")


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-06 13:56:46.123456+00",
        "2026-12-06 16:56:46.5+03",  # another offset: the same instant, read back in UTC
        "2026-03-29 01:30:00-05:30",
        "1999-12-31 23:59:59.999999+00",
    ],
)
def test_raw_timestamps_read_as_aware_utc_datetimes(text):
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz, %s::timestamptz::text", [text, text])
        value, as_text = cursor.fetchone()
    assert value.tzinfo is datetime.UTC
    expected = datetime.datetime.fromisoformat(text.replace(" ", "T") + ":00")
    assert value == expected
    assert as_text.endswith("+00")  # the session's time zone is UTC: what the loader assumes


def test_model_timestamps_round_trip_exactly():
    moment = datetime.datetime(2026, 12, 6, 13, 56, 46, 987654, tzinfo=datetime.UTC)
    user = UserFactory()
    User.objects.filter(pk=user.pk).update(date_joined=moment)
    loaded = User.objects.get(pk=user.pk).date_joined
    assert loaded == moment and loaded.tzinfo is datetime.UTC
    assert User.objects.filter(date_joined=loaded).count() == 1
    assert list(User.objects.filter(pk=user.pk).values_list("date_joined", flat=True)) == [moment]
    fresh = UserFactory()
    assert abs(User.objects.get(pk=fresh.pk).date_joined - timezone.now()).total_seconds() < 60


def test_null_timestamps_stay_none():
    user = UserFactory()
    assert User.objects.get(pk=user.pk).last_login is None


def test_another_connection_time_zone_keeps_djangos_loader_and_its_zone():
    paris = DatabaseWrapper({**connection.settings_dict, "TIME_ZONE": "Europe/Paris"}, "paris")
    try:
        with paris.cursor() as cursor:
            cursor.execute("SELECT '2026-12-06 12:00:00+00'::timestamptz")
            (value,) = cursor.fetchone()
            loader = cursor.cursor.adapters.get_loader(TIMESTAMPTZ_OID, pq.Format.TEXT)
    finally:
        paris.close()
        paris.close_pool()
    assert loader is not UtcTimestamptzLoader and loader.timezone == ZoneInfo("Europe/Paris")
    assert value == datetime.datetime(2026, 12, 6, 12, tzinfo=datetime.UTC)
    assert value.utcoffset() == datetime.timedelta(hours=1)


def test_long_statements_with_many_parameters_are_converted_once():
    """psycopg caches a statement's placeholder conversion only under its limits; the
    compiled queries exceed them, so circles.postgresql raises them."""
    from psycopg import _queries

    params = list(range(120))
    sql = "SELECT " + " + ".join(["%s::int"] * len(params)) + " -- " + "x" * 5000
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        before = _queries._query2pg.cache_info()
        cursor.execute(sql, params)
        (total,) = cursor.fetchone()
        after = _queries._query2pg.cache_info()
    assert total == sum(params)
    assert after.hits == before.hits + 1 and after.misses == before.misses


def test_the_apps_connections_plan_for_data_in_memory(settings):
    """DATABASE_RANDOM_PAGE_COST (1.1 by default) reaches every connection of the app."""
    assert settings.DATABASE_RANDOM_PAGE_COST == "1.1"
    with connection.cursor() as cursor:
        cursor.execute("SHOW random_page_cost")
        assert cursor.fetchone()[0] == "1.1"
