"""circles.ids: an id that is not a UUID is an unknown id."""

import uuid

import pytest
from django.http import Http404

from circles.ids import uuid_or_404, uuid_or_none


@pytest.mark.parametrize("value", ["nope", "", None, 12, "6f1c2b9e-3d4a-4e5f-9a8b"])
def test_what_is_not_a_uuid_is_unknown(value):
    assert uuid_or_none(value) is None
    with pytest.raises(Http404):
        uuid_or_404(value)


def test_a_uuid_in_any_form_is_read():
    value = uuid.uuid4()
    assert uuid_or_none(str(value).upper()) == value == uuid_or_404(value)
