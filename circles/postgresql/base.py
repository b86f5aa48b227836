"""Django's PostgreSQL backend, reading timestamps with psycopg's C loader.

Django registers its own `timestamptz` loader, a pure-Python subclass of psycopg's, to
force its time zone on every value; psycopg-binary's C loader cannot be subclassed, so
every timestamp Django reads goes through Python (Django ticket #36960, psycopg issue
#1273): ~6 µs a value, ~2.4 ms of a story tray's ~10 ms of CPU (≈400 timestamps).

When Django's connection time zone is UTC (USE_TZ with TIME_ZONE "UTC", as in
circles.settings) the C loader already returns datetimes in `datetime.timezone.utc`,
exactly what Django's loader returns, so this backend registers the C loader instead.
Any other time zone, or psycopg without its C implementation, keeps Django's loader.
"""

import datetime
import functools
import importlib

from django.db.backends.postgresql import base
from django.db.backends.postgresql.psycopg_any import get_adapters_template
from psycopg import _queries as psycopg_queries
from psycopg import adapt, pq


def _c_timestamptz_loader():
    """psycopg's C `TimestamptzLoader` class, or None with the pure-Python psycopg."""
    if pq.__impl__ not in ("binary", "c"):
        return None
    module = importlib.import_module(f"psycopg_{pq.__impl__}._psycopg")
    return getattr(module, "TimestamptzLoader", None)


_C_LOADER = _c_timestamptz_loader()


class UtcTimestamptzLoader:
    """Registered in place of Django's loader class. Django reads `timezone` from the
    registered class to decide whether a cursor needs a loader of its own (it does not:
    UTC); psycopg instantiates it for each result and so gets the C loader."""

    timezone = datetime.UTC
    format = pq.Format.TEXT

    def __new__(cls, oid, context=None):
        return _C_LOADER(oid, context)


@functools.cache
def _adapters_with_c_loader(use_tz: bool) -> adapt.AdaptersMap:
    adapters = adapt.AdaptersMap(get_adapters_template(use_tz, datetime.UTC))
    adapters.register_loader("timestamptz", UtcTimestamptzLoader)
    return adapters


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        params = super().get_connection_params()
        if _C_LOADER is not None and self.timezone is datetime.UTC:
            params["context"] = _adapters_with_c_loader(True)
        return params


# psycopg converts each statement's %s placeholders with a regex on every run unless the
# statement is short and has few parameters (its private limits: 4,096 characters, 50
# parameters); the compiled queries (circles.compiled) are longer, and re-parsing them was
# ~1 ms of a notifications page. They are few and fixed, so cache them too.
psycopg_queries.MAX_CACHED_STATEMENT_LENGTH = 32_768
psycopg_queries.MAX_CACHED_STATEMENT_PARAMS = 500
