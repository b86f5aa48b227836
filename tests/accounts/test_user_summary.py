"""accounts.people.user_summary writes what UserSummaryOut writes, without pydantic."""

import pytest

from accounts.people import user_summary
from accounts.schemas import UserSummaryOut
from media.models import Image, ImageState
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_person_without_an_avatar():
    person = UserFactory(username="ana", display_name="Ana <b>")
    assert user_summary(person) == UserSummaryOut.from_orm(person).model_dump()
    assert user_summary(person)["avatar"] is None


def test_a_person_with_an_avatar():
    person = UserFactory(username="ben")
    person.avatar = Image.objects.create(
        owner=person, purpose="avatar", original_key="", state=ImageState.READY
    )
    summary = user_summary(person)
    assert summary == UserSummaryOut.from_orm(person).model_dump()
    assert summary["avatar"] and str(person.avatar_id) in summary["avatar"]
