"""seed_demo: the small world `make run` uses is idempotent; --users scales it in bulk."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, F

from accounts import selectors
from accounts.models import Circle, CircleInvite, CircleMembership, Follow, FollowRequest, User

pytestmark = pytest.mark.django_db


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def counts():
    return (
        User.objects.count(),
        Follow.objects.count(),
        FollowRequest.objects.count(),
        Circle.objects.count(),
        CircleMembership.objects.count(),
        CircleInvite.objects.count(),
    )


def test_default_world_is_small_and_idempotent():
    assert "log in as alice / circles-demo" in seed()
    first = counts()
    assert first == (5, 4, 1, 1, 3, 1)
    seed()
    assert counts() == first
    alice, bob, carol = (User.objects.get(username=n) for n in ("alice", "bob", "carol"))
    assert alice.check_password("circles-demo")
    assert carol.is_private
    assert selectors.user_content_visible(viewer=alice, owner=carol)
    assert not selectors.user_content_visible(viewer=bob, owner=carol)
    circle = selectors.circle_list_for_user(user=bob).items[0]
    assert (circle.name, circle.viewer_role, circle.member_count) == ("Close friends", "admin", 3)
    assert circle.chat_id is not None  # its group chat exists


def test_bulk_people_with_follows_requests_and_circles():
    seed(users=60, follows=10)
    bulk = User.objects.filter(username__startswith="demo")
    assert bulk.count() == 60
    per_follower = (
        Follow.objects.filter(follower__in=bulk)
        .values("follower")
        .annotate(n=Count("*"))
        .values_list("n", flat=True)
    )
    assert sorted(set(per_follower)) == [10] and len(per_follower) == 60
    assert not Follow.objects.filter(follower=F("following")).exists()
    circles = Circle.objects.filter(owner__in=bulk)
    assert circles.count() == 3
    for circle in circles:
        assert circle.memberships.filter(role="owner", user=circle.owner).exists()
        assert 5 <= circle.memberships.count() <= 13
    for request in FollowRequest.objects.filter(target__in=bulk):
        assert request.target.is_private
        assert not Follow.objects.filter(
            follower=request.requester_id, following=request.target_id
        ).exists()
    before = counts()
    seed(users=60, follows=10)
    assert counts() == before


def test_bulk_people_can_log_in(client):
    seed(users=3, follows=2)
    assert client.login(username="demo00001", password="circles-demo")


def test_big_loads_rebuild_the_follow_indexes_and_keys(monkeypatch):
    from accounts.management.commands import seed_demo

    monkeypatch.setattr(seed_demo, "REBUILD_KEYS_FROM", 1)
    seed(users=20, follows=5)
    assert Follow.objects.filter(follower__username__startswith="demo").count() == 100
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, Follow._meta.db_table)
    assert {index.name for index in Follow._meta.indexes} <= set(found)
    assert found["follow_unique_pair"]["unique"]
    keys = sorted(c["foreign_key"] for c in found.values() if c["foreign_key"])
    assert keys == [("accounts_user", "id"), ("accounts_user", "id")]


def test_bulk_people_are_looked_up_in_batches(monkeypatch):
    """Names are asked BATCH at a time (one IN of 100,000 names passed PostgreSQL's 65,535
    parameters); a rerun across several batches still finds everyone and adds nothing."""
    from accounts.management.commands import seed_demo

    monkeypatch.setattr(seed_demo, "BATCH", 7)
    seed(users=30, follows=4)
    assert User.objects.filter(username__startswith="demo").count() == 30
    assert Follow.objects.filter(follower__username__startswith="demo").count() == 120
    before = counts()
    assert "0 bulk users" in seed(users=30, follows=4)
    assert counts() == before
