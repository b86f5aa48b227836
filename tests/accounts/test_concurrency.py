"""Race safety against real PostgreSQL: simultaneous identical writes leave one row and
all succeed. Each thread has its own database connection (and so its own transaction)."""

import threading

import pytest
from django.db import connection
from django.test import Client

from accounts import services
from accounts.models import (
    Block,
    CircleMembership,
    CircleRole,
    Follow,
    FollowRequest,
    FollowState,
)
from tests.accounts.conftest import API
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(*calls):
    """Run the calls in parallel threads released together; return results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except BaseException as exc:  # reported to the test below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def test_two_identical_follows_at_once_make_one_row(user, other_user):
    assert connection.vendor == "postgresql"
    for _ in range(5):  # several rounds make a real overlap very likely
        Follow.objects.all().delete()
        results = at_once(
            lambda: services.follow_create(follower=user, target=other_user),
            lambda: services.follow_create(follower=user, target=other_user),
        )
        assert results == [FollowState.FOLLOWING, FollowState.FOLLOWING]
        assert Follow.objects.filter(follower=user, following=other_user).count() == 1


def test_two_identical_requests_at_once_make_one_request(user):
    private = UserFactory(username="carol", is_private=True)
    results = at_once(*[lambda: services.follow_create(follower=user, target=private)] * 4)
    assert results == [FollowState.REQUESTED] * 4
    assert FollowRequest.objects.count() == 1


def test_concurrent_follow_requests_over_http_both_succeed(user, other_user, password):
    def follow_over_http():
        client = Client()
        client.force_login(user)
        return client.post(f"{API}/users/bob/follow")

    responses = at_once(follow_over_http, follow_over_http)
    assert [r.status_code for r in responses] == [200, 200]
    assert [r.json() for r in responses] == [{"state": "following"}] * 2
    assert Follow.objects.count() == 1


def test_follow_racing_a_block_never_leaves_a_follow_behind(user, other_user):
    for _ in range(5):
        Block.objects.all().delete()
        Follow.objects.all().delete()

        def follow():
            try:
                return services.follow_create(follower=user, target=other_user)
            except Exception as exc:  # losing to the block is a 404
                return type(exc).__name__

        results = at_once(follow, lambda: services.block_create(blocker=other_user, target=user))
        assert results[0] in (FollowState.FOLLOWING, "Http404")
        assert Block.objects.count() == 1
        assert not Follow.objects.exists()


def test_concurrent_invites_respect_the_limit(user):
    circle = services.circle_create(owner=user, name="Almost full")
    CircleMembership.objects.bulk_create(
        [
            CircleMembership(circle=circle, user=u, role=CircleRole.MEMBER)
            for u in UserFactory.create_batch(47)
        ]
    )
    invitees = UserFactory.create_batch(4)  # 48 members: only 2 seats left

    def invite(invitee):
        def call():
            try:
                return services.circle_invite(actor=user, circle=circle, invitee=invitee)
            except Exception as exc:
                return type(exc).__name__

        return call

    results = at_once(*[invite(i) for i in invitees])
    assert sorted(r if isinstance(r, str) else "ok" for r in results) == [
        "ValidationError",
        "ValidationError",
        "ok",
        "ok",
    ]
    assert circle.memberships.count() + circle.invites.count() == 50
