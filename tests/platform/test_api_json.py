"""circles.api_json: the hot answers write JSON exactly as the API's encoder does."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest
from django.core.serializers.json import DjangoJSONEncoder

from circles.api_json import dumps, json_time


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 12, 6, 16, 49, 11, 55981, tzinfo=UTC),
        datetime(2026, 12, 6, 16, 49, 11, tzinfo=UTC),  # no fraction: none written
        datetime(2026, 12, 6, 16, 49, 11, 999, tzinfo=UTC),  # truncated, not rounded
        datetime(2026, 12, 6, 16, 49, 11, 500, tzinfo=timezone(timedelta(hours=2))),
    ],
)
def test_hot_answers_write_times_as_the_rest_of_the_api(value):
    assert json_time(value) == DjangoJSONEncoder().default(value)
    assert orjson.loads(dumps({"at": value})) == {"at": DjangoJSONEncoder().default(value)}


def test_ids_are_written_as_str_writes_them():
    pk = uuid.uuid4()
    assert orjson.loads(dumps({"id": pk, "n": [1, None]})) == {"id": str(pk), "n": [1, None]}
