"""Contract of "Users and graph" (API.md): profiles, follow, lists, requests, blocks."""

import pytest
from django.test import Client

from accounts.models import Block, Follow, FollowRequest
from tests.accounts.conftest import API, error_of
from tests.factories import BlockFactory, FollowFactory, FollowRequestFactory, UserFactory

pytestmark = pytest.mark.django_db

NO_RELATIONSHIP = {"following": False, "followed_by": False, "requested": False, "blocking": False}


@pytest.fixture
def carol(db):
    """A private account."""
    return UserFactory(username="carol", is_private=True)


# --- GET /users/{username} --------------------------------------------------------------


def test_profile_of_someone_else(api_for, user, other_user):
    FollowFactory(follower=other_user, following=user)
    other_user.bio = "Bread and cameras"
    other_user.save()
    response = api_for(user).get("/users/bob")
    assert response.status_code == 200
    assert response.json() == {
        "id": str(other_user.pk),
        "username": "bob",
        "display_name": "Bob",
        "bio": "Bread and cameras",
        "avatar": None,
        "is_private": False,
        "followers_count": 0,
        "following_count": 1,
        "posts_count": 0,
        "relationship": {**NO_RELATIONSHIP, "followed_by": True},
    }


def test_your_own_profile_has_no_relationship(api_for, user):
    body = api_for(user).get("/users/alice").json()
    assert "relationship" not in body
    assert body["username"] == "alice"


def test_profile_usernames_are_case_insensitive(api_for, user, other_user):
    assert api_for(user).get("/users/BOB").json()["username"] == "bob"


def test_unknown_banned_and_blocking_users_are_404(api_for, user, other_user, outsider):
    outsider.is_active = False
    outsider.save()
    BlockFactory(blocker=other_user, blocked=user)
    api = api_for(user)
    for username in ("nobody", "mallory", "bob"):
        response = api.get(f"/users/{username}")
        assert response.status_code == 404, username
        assert error_of(response) == {"code": "not_found", "message": "Not found."}


def test_the_blocker_sees_blocking_true(api_for, user, other_user):
    BlockFactory(blocker=user, blocked=other_user)
    body = api_for(user).get("/users/bob").json()
    assert body["relationship"] == {**NO_RELATIONSHIP, "blocking": True}


def test_profiles_need_authentication(client, user):
    response = client.get(f"{API}/users/alice")
    assert response.status_code == 401


# --- follow / unfollow ------------------------------------------------------------------


def test_follow_public_account(api_for, user, other_user):
    api = api_for(user)
    response = api.post("/users/bob/follow")
    assert response.status_code == 200
    assert response.json() == {"state": "following"}
    assert api.post("/users/bob/follow").json() == {"state": "following"}
    assert Follow.objects.filter(follower=user, following=other_user).count() == 1
    body = api.get("/users/bob").json()
    assert body["followers_count"] == 1
    assert body["relationship"]["following"] is True


def test_follow_private_account_is_a_request(api_for, user, carol):
    api = api_for(user)
    response = api.post("/users/carol/follow")
    assert response.status_code == 200
    assert response.json() == {"state": "requested"}
    assert api.get("/users/carol").json()["relationship"] == {**NO_RELATIONSHIP, "requested": True}
    assert not Follow.objects.exists()


def test_follow_yourself_is_400(api_for, user):
    response = api_for(user).post("/users/alice/follow")
    assert response.status_code == 400
    assert error_of(response) == {
        "code": "invalid",
        "message": "You can't follow yourself.",
        "fields": {"username": ["You can't follow yourself."]},
    }


def test_follow_unknown_or_blocking_user_is_404(api_for, user, other_user):
    BlockFactory(blocker=other_user, blocked=user)
    api = api_for(user)
    assert api.post("/users/nobody/follow").status_code == 404
    assert api.post("/users/bob/follow").status_code == 404
    assert not Follow.objects.exists() and not FollowRequest.objects.exists()


def test_follow_someone_you_block_is_403(api_for, user, other_user):
    BlockFactory(blocker=user, blocked=other_user)
    response = api_for(user).post("/users/bob/follow")
    assert response.status_code == 403
    assert error_of(response) == {"code": "forbidden", "message": "Unblock them first."}


def test_unfollow_and_cancel_request(api_for, user, other_user, carol):
    FollowFactory(follower=user, following=other_user)
    FollowRequestFactory(requester=user, target=carol)
    api = api_for(user)
    assert api.delete("/users/bob/follow").status_code == 204
    assert api.delete("/users/carol/follow").status_code == 204
    assert api.delete("/users/carol/follow").status_code == 204  # nothing left: still fine
    assert not Follow.objects.exists() and not FollowRequest.objects.exists()
    assert api.delete("/users/nobody/follow").status_code == 404


def test_follow_with_a_session_needs_csrf(user, other_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(f"{API}/users/bob/follow")
    assert response.status_code == 403
    assert error_of(response)["code"] == "csrf_failed"
    assert not Follow.objects.exists()


def test_remove_a_follower(api_for, user, other_user):
    FollowFactory(follower=other_user, following=user)
    api = api_for(user)
    assert api.delete("/followers/bob").status_code == 204
    assert not Follow.objects.exists()
    assert api.delete("/followers/nobody").status_code == 404


# --- lists ------------------------------------------------------------------------------


def test_followers_and_following_lists(api_for, user, other_user, outsider):
    FollowFactory(follower=other_user, following=user)
    FollowFactory(follower=outsider, following=user)
    FollowFactory(follower=user, following=other_user)
    api = api_for(user)
    followers = api.get("/users/alice/followers")
    assert followers.status_code == 200
    body = followers.json()
    assert set(body) == {"items", "next_cursor"}
    assert [u["username"] for u in body["items"]] == ["mallory", "bob"]
    assert body["items"][1]["relationship"] == {
        **NO_RELATIONSHIP,
        "following": True,
        "followed_by": True,
    }
    assert body["next_cursor"] is None
    following = api.get("/users/bob/following").json()
    assert [u["username"] for u in following["items"]] == ["alice"]
    assert "relationship" not in following["items"][0]  # yourself


def test_list_pagination(api_for, user):
    for _ in range(5):
        FollowFactory(following=user)
    api = api_for(user)
    first = api.get("/users/alice/followers", {"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = api.get("/users/alice/followers", {"limit": 2, "cursor": first["next_cursor"]}).json()
    third = api.get("/users/alice/followers", {"limit": 2, "cursor": second["next_cursor"]}).json()
    names = [u["username"] for page in (first, second, third) for u in page["items"]]
    assert len(set(names)) == 5 and third["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 0}, "limit"), ({"limit": 51}, "limit"), ({"limit": "x"}, "limit")],
)
def test_list_bad_limit_is_400(api_for, user, params, field):
    response = api_for(user).get("/users/alice/followers", params)
    assert response.status_code == 400
    assert field in error_of(response)["fields"]


def test_list_bad_cursor_is_400(api_for, user):
    response = api_for(user).get("/users/alice/followers", {"cursor": "forged"})
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_cursor"


def test_private_account_lists_are_403_to_non_followers(api_for, user, other_user, carol):
    FollowFactory(follower=other_user, following=carol)
    outsider_view = api_for(user)
    for path in ("/users/carol/followers", "/users/carol/following"):
        response = outsider_view.get(path)
        assert response.status_code == 403
        assert error_of(response) == {"code": "forbidden", "message": "This account is private."}
    # the profile itself (with counts) stays visible
    assert outsider_view.get("/users/carol").json()["followers_count"] == 1
    follower_view = api_for(other_user)
    assert follower_view.get("/users/carol/followers").status_code == 200
    assert api_for(carol).get("/users/carol/following").status_code == 200


def test_lists_of_someone_who_blocked_you_are_404(api_for, user, other_user):
    BlockFactory(blocker=other_user, blocked=user)
    api = api_for(user)
    assert api.get("/users/bob/followers").status_code == 404
    assert api.get("/users/bob/following").status_code == 404


def test_list_queries_do_not_grow_with_the_page(api_for, user, list_queries):
    api = api_for(user)
    FollowFactory(follower=UserFactory(), following=user)
    api.get("/auth/me")  # a token's first use of the minute also records last_used_at
    _, one = list_queries(api, "/users/alice/followers")
    for _ in range(20):
        FollowFactory(follower=UserFactory(), following=user)
        FollowFactory(follower=user, following=UserFactory())
    body, many = list_queries(api, "/users/alice/followers")
    assert len(body["items"]) == 20 and many == one
    body, many = list_queries(api, "/users/alice/following")
    assert len(body["items"]) == 20 and many == one


# --- follow requests --------------------------------------------------------------------


def test_follow_request_inbox(api_for, user, other_user, carol):
    first = FollowRequestFactory(requester=user, target=carol)
    second = FollowRequestFactory(requester=other_user, target=carol)
    FollowRequestFactory(requester=carol, target=UserFactory(is_private=True))  # outgoing
    response = api_for(carol).get("/follow-requests")
    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["id"] for item in items] == [str(second.pk), str(first.pk)]
    assert set(items[0]) == {"id", "user", "created_at"}
    assert items[0]["user"]["username"] == "bob"
    assert items[0]["user"]["relationship"] == NO_RELATIONSHIP
    assert items[0]["created_at"].endswith("Z") or "+00:00" in items[0]["created_at"]


def test_follow_request_inbox_queries_are_constant(api_for, carol, list_queries):
    api = api_for(carol)
    FollowRequestFactory(target=carol)
    api.get("/auth/me")
    _, one = list_queries(api, "/follow-requests")
    for _ in range(15):
        FollowRequestFactory(target=carol)
    body, many = list_queries(api, "/follow-requests")
    assert len(body["items"]) == 16 and many == one


def test_approve_and_decline(api_for, user, other_user, carol):
    first = FollowRequestFactory(requester=user, target=carol)
    second = FollowRequestFactory(requester=other_user, target=carol)
    api = api_for(carol)
    approved = api.post(f"/follow-requests/{first.pk}/approve")
    assert approved.status_code == 204 and approved.content == b""
    assert api.post(f"/follow-requests/{second.pk}/decline").status_code == 204
    assert list(Follow.objects.values_list("follower__username", flat=True)) == ["alice"]
    assert not FollowRequest.objects.exists()
    # answered already: gone
    assert api.post(f"/follow-requests/{first.pk}/approve").status_code == 404
    # the new follower now sees the private lists
    assert api_for(user).get("/users/carol/followers").status_code == 200


def test_someone_elses_request_is_404(api_for, user, other_user, carol):
    request = FollowRequestFactory(requester=user, target=carol)
    for actor in (user, other_user):
        api = api_for(actor)
        for verb in ("approve", "decline"):
            response = api.post(f"/follow-requests/{request.pk}/{verb}")
            assert response.status_code == 404
            assert error_of(response)["code"] == "not_found"
    assert api_for(carol).post("/follow-requests/not-a-uuid/approve").status_code == 404
    assert FollowRequest.objects.filter(pk=request.pk).exists()
    assert not Follow.objects.exists()


# --- blocks -----------------------------------------------------------------------------


def test_block_and_unblock(api_for, user, other_user):
    FollowFactory(follower=user, following=other_user)
    FollowFactory(follower=other_user, following=user)
    api = api_for(user)
    response = api.post("/users/bob/block")
    assert response.status_code == 204 and response.content == b""
    assert api.post("/users/bob/block").status_code == 204
    assert Block.objects.filter(blocker=user, blocked=other_user).count() == 1
    assert not Follow.objects.exists()
    # bob can no longer see alice at all
    bob = api_for(other_user)
    assert bob.get("/users/alice").status_code == 404
    assert bob.post("/users/alice/follow").status_code == 404
    assert bob.post("/users/alice/block").status_code == 404
    # alice sees bob, marked as blocked, in her block list
    assert [u["username"] for u in api.get("/blocks").json()["items"]] == ["bob"]
    assert api.delete("/users/bob/block").status_code == 204
    assert api.delete("/users/bob/block").status_code == 204
    assert not Block.objects.exists()
    assert bob.get("/users/alice").status_code == 200
    assert not Follow.objects.exists()  # unblocking restores nothing


def test_block_yourself_or_unknown(api_for, user):
    api = api_for(user)
    yourself = api.post("/users/alice/block")
    assert yourself.status_code == 400
    assert error_of(yourself)["fields"] == {"username": ["You can't block yourself."]}
    assert api.post("/users/nobody/block").status_code == 404
    assert api.delete("/users/nobody/block").status_code == 404


def test_openapi_describes_the_accounts_endpoints(client):
    paths = client.get(f"{API}/openapi.json").json()["paths"]
    for path in (
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/auth/me",
        "/api/v1/auth/me/avatar",
        "/api/v1/users/{username}",
        "/api/v1/users/{username}/follow",
        "/api/v1/users/{username}/followers",
        "/api/v1/users/{username}/following",
        "/api/v1/users/{username}/block",
        "/api/v1/follow-requests",
        "/api/v1/follow-requests/{request_id}/approve",
        "/api/v1/follow-requests/{request_id}/decline",
        "/api/v1/circles",
        "/api/v1/circles/{circle_id}",
        "/api/v1/circles/{circle_id}/members",
        "/api/v1/circles/{circle_id}/members/{username}",
    ):
        assert path in paths, path


def test_block_list_queries_are_constant(api_for, user, list_queries):
    api = api_for(user)
    BlockFactory(blocker=user)
    api.get("/auth/me")
    _, one = list_queries(api, "/blocks")
    for _ in range(12):
        BlockFactory(blocker=user)
    body, many = list_queries(api, "/blocks")
    assert len(body["items"]) == 13 and many == one
    assert all(u["relationship"]["blocking"] for u in body["items"])
