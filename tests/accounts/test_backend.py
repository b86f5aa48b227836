"""The session's user lookup (accounts.backends.UserBackend): what ModelBackend.get_user
answers, from a query compiled once."""

import uuid

import pytest
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.backends import UserBackend
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", ["active", "inactive", "unknown", "malformed"])
def test_get_user_answers_as_model_backend(kind):
    alice = UserFactory(username="alice", is_active=kind != "inactive")
    user_id = {"unknown": str(uuid.uuid4()), "malformed": "not-a-uuid"}.get(kind, str(alice.pk))
    found = UserBackend().get_user(user_id)
    expected = ModelBackend().get_user(user_id) if kind != "malformed" else None
    assert found == expected
    if kind == "active":
        assert found.pk == alice.pk and found.username == "alice"
        assert found.get_session_auth_hash() == alice.get_session_auth_hash()
    else:
        assert found is None


def test_a_signed_in_page_looks_the_user_up_in_one_query():
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    for person in (alice, bob):  # the same compiled query answers for each person
        client = Client()
        client.force_login(person)
        with CaptureQueriesContext(connection) as queries:
            answer = client.get(reverse("accounts:settings"))
        assert answer.status_code == 200 and person.username in answer.text
        lookups = [q["sql"] for q in queries if 'FROM "accounts_user"' in q["sql"]]
        assert len(lookups) == 1, lookups


def test_a_ban_ends_the_session_on_the_next_request():
    alice = UserFactory(username="alice")
    client = Client()
    client.force_login(alice)
    assert client.get(reverse("accounts:settings")).status_code == 200
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    answer = client.get(reverse("accounts:settings"))
    assert answer.status_code == 302 and reverse("accounts:login") in answer["Location"]
