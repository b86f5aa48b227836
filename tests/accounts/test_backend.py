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
        # (the notifications badge's count names the user table inside its visibility
        # rule; it is not a lookup of the person)
        lookups = [
            q["sql"]
            for q in queries
            if 'FROM "accounts_user"' in q["sql"] and "notifications_notification" not in q["sql"]
        ]
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


@pytest.mark.django_db(transaction=True)  # outside a test transaction, as a request runs
def test_a_tokens_use_is_written_once_a_minute_without_waiting_for_the_disk():
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import ApiToken
    from accounts.services import api_token_create

    alice = UserFactory(username="alice")
    token, raw = api_token_create(user=alice, name="script")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    with CaptureQueriesContext(connection) as first:
        assert api.get("/api/v1/auth/me").status_code == 200
    sql = [q["sql"] for q in first]
    update = next(i for i, q in enumerate(sql) if q.startswith('UPDATE "accounts_apitoken"'))
    assert sql[update - 1] == "SET LOCAL synchronous_commit = off"  # in its own transaction
    used = ApiToken.objects.get(pk=token.pk).last_used_at
    assert used is not None and timezone.now() - used < timedelta(seconds=5)
    with CaptureQueriesContext(connection) as again:  # within the minute: no write
        assert api.get("/api/v1/auth/me").status_code == 200
    assert not [q for q in again if q["sql"].startswith("UPDATE") or "SET LOCAL" in q["sql"]]
