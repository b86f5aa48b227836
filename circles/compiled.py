"""Querysets compiled to SQL once per process and run many times with other values.

Django builds and compiles a queryset on every call. For the hot reads — the feed's page
query, with the visibility rule's EXISTS subqueries — that costs more than PostgreSQL
takes to plan and run the SQL (bench/cases/feed.py: ~10 of a page's ~17 ms on the bench
VM). A CompiledQuery calls `build` once with placeholder values, keeps the SQL and the
row layout it compiled to, and each run swaps the placeholders among the parameters for
the real values, then makes model instances as the queryset would (select_related and
annotations included). The rule stays where it is written; only its compiling is reused.

It is for querysets whose SQL does not depend on the values: a value must be a non-null
UUID, string or aware datetime compared with `=`, `<`, `>`… or listed in an `IN` of a
fixed length (Django writes other SQL for None or an empty list). Placeholders are fresh
UUIDs, random strings and random instants before 1900, so they cannot meet a real
parameter. tests/platform/test_compiled.py compares runs with the querysets built for
each value.

`generic_plan=True` has PostgreSQL run the statement with its one generic plan (prepared
once per pooled connection: settings' server-side binding) instead of planning it again
for each run's values. PostgreSQL picks a custom plan whenever the generic one's estimate
is higher, and for a rule with an EXISTS per target type (the notifications list, ~80
parameters) that meant planning on every run: ~4–10 ms for a statement that runs in
about 1 ms (bench/cases/notifications.py). Only for statements whose best plan does not
depend on the values.
"""

import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.db import connections
from django.db.models import Count, QuerySet
from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators

_UUID, _STRING, _DATETIME = "uuid", "string", "datetime"
_NOBODY = uuid.UUID(int=0)  # pads a list of ids: uuid4 never makes it
_LONG_AGO = datetime(1800, 1, 1, tzinfo=UTC)


def _placeholder(kind: str):
    if kind == _UUID:
        return uuid.uuid4()
    if kind == _DATETIME:  # any microsecond of a century no story or post was written in
        return _LONG_AGO + timedelta(microseconds=secrets.randbelow(3_000_000_000_000_000))
    return f"placeholder-{secrets.token_hex(16)}"


class CompiledQuery:
    """`CompiledQuery(build, viewer="uuid", ids=("uuid", 31))`: build(viewer=..., ids=[...])
    must return the queryset; each keyword names a value, "uuid", "string" or "datetime",
    or a list of them of a fixed length (a list of UUIDs may be passed shorter: it is padded).
    `run(viewer=..., ids=[...])` returns the model instances (tuples for a values_list()
    queryset)."""

    def __init__(self, build: Callable[..., QuerySet], *, generic_plan=False, **shape):
        placeholders, spots = {}, []
        self.uuid_lists = {}  # name -> length, for the lists run() pads
        for name, kind in shape.items():
            if isinstance(kind, tuple):
                kind, length = kind
                if kind == _UUID:
                    self.uuid_lists[name] = length
                placeholders[name] = [_placeholder(kind) for _ in range(length)]
                spots += [(name, index, value) for index, value in enumerate(placeholders[name])]
            else:
                placeholders[name] = _placeholder(kind)
                spots.append((name, None, placeholders[name]))
        queryset = build(**placeholders)
        self.db = queryset.db
        self.generic_plan = generic_plan and connections[self.db].vendor == "postgresql"
        ops = connections[self.db].ops
        forms = {}  # each form the backend may be given -> (name, index, how to make it)
        for name, index, value in spots:
            forms[value] = (name, index, None)
            if isinstance(value, uuid.UUID):  # its hex on SQLite (no UUID type)
                forms[value.hex] = (name, index, lambda v: uuid.UUID(str(v)).hex)
            elif isinstance(value, datetime):  # a string on SQLite
                forms[ops.adapt_datetimefield_value(value)] = (
                    name,
                    index,
                    ops.adapt_datetimefield_value,
                )
        self.compiler = queryset.query.get_compiler(using=self.db)
        self.sql, params = self.compiler.as_sql()
        self.params = list(params)
        self.slots = [
            (position, *forms[param])
            for position, param in enumerate(self.params)
            if isinstance(param, str | uuid.UUID | datetime) and param in forms
        ]
        expected = {(name, index) for name, index, _ in forms.values()}
        if {(name, index) for _, name, index, _ in self.slots} != expected:
            raise ValueError("build must use every value it is given, as a parameter")
        if queryset._iterable_class is ValuesListIterable:  # rows are returned as tuples
            self.model = None
            return
        if queryset._iterable_class is not ModelIterable:
            raise ValueError("a compiled query returns model instances or values_list() tuples")
        klass_info = self.compiler.klass_info
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.model_columns = slice(fields[0], fields[-1] + 1)
        self.init_list = [
            column[0].target.attname for column in self.compiler.select[self.model_columns]
        ]
        self.related_populators = get_related_populators(klass_info, self.compiler.select, self.db)
        self.annotations = dict(self.compiler.annotation_col_map)

    def bind(self, **values) -> tuple[str, list]:
        """The SQL and its parameters for these values, for a caller that runs it inside
        a statement of its own (as a subquery or a WITH clause)."""
        for name, length in self.uuid_lists.items():  # a shorter list is padded with an id
            shorter = list(values[name])  # no row has (the nil UUID)
            if len(shorter) > length:
                raise ValueError(f"{name}: at most {length} values")
            values[name] = shorter + [_NOBODY] * (length - len(shorter))
        params = list(self.params)
        for position, name, index, form in self.slots:
            value = values[name] if index is None else values[name][index]
            params[position] = form(value) if form else value
        return self.sql, params

    def count(self, **values) -> int:
        """run() for a counted() query: its n, 0 when it has no row."""
        rows = self.run(**values)
        return rows[0][0] if rows else 0

    def run(self, **values) -> list:
        _, params = self.bind(**values)
        with connections[self.db].cursor() as cursor:
            if self.generic_plan:
                rows = _run_generic(cursor, self.sql, params)
            else:
                cursor.execute(self.sql, params)
                rows = cursor.fetchall()
        if self.model is None:
            return list(self.compiler.results_iter([rows], tuple_expected=True))
        objects = []
        for row in self.compiler.results_iter([rows]):
            obj = self.model.from_db(self.db, self.init_list, row[self.model_columns])
            for populator in self.related_populators:
                populator.populate(row, obj)
            for name, column in self.annotations.items():
                setattr(obj, name, row[column])
            objects.append(obj)
        return objects


def counted(rows: QuerySet, by: str) -> QuerySet:
    """How many of rows there are for the one value of `by` they are filtered on, as a
    one-row queryset of "n" (no row when there are none): a count that can be compiled
    (`.values_list("n")`, read with CompiledQuery.count) or used as a subquery, where
    count() runs at once and builds its query every time."""
    return rows.order_by().values(by).annotate(n=Count("pk")).values("n")


def _run_generic(cursor, sql, params) -> list:
    """Run sql (PostgreSQL) with its generic plan: plan_cache_mode is set for this one
    statement. When it fails inside a transaction, the rollback that must follow undoes
    the SET too (and nothing else can run in that transaction before it)."""
    from psycopg.pq import TransactionStatus

    cursor.execute("SET plan_cache_mode = force_generic_plan")
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    finally:
        if cursor.db.connection.info.transaction_status != TransactionStatus.INERROR:
            cursor.execute("RESET plan_cache_mode")
