"""Contract of the circle-membership endpoints (API.md "Circles and albums", plus the
invitation and transfer endpoints API.md does not list)."""

import pytest

from accounts import services
from accounts.models import Block, Circle, CircleInvite, CircleMembership, CircleRole
from messaging.models import Conversation
from tests.accounts.conftest import error_of
from tests.factories import BlockFactory, CircleMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

CIRCLE_FIELDS = {"id", "name", "description", "owner", "role", "member_count", "conversation_id"}


@pytest.fixture
def circle(user):
    return services.circle_create(owner=user, name="Close friends", description="Us")


@pytest.fixture
def member(circle):
    return CircleMembershipFactory(circle=circle, user=UserFactory(username="mia")).user


def test_create_circle(api_for, user):
    response = api_for(user).post("/circles", {"name": "Hikers", "description": "Weekends"})
    assert response.status_code == 201
    body = response.json()
    circle = Circle.objects.get()
    chat = Conversation.objects.get(circle=circle)
    assert body == {
        "id": str(circle.pk),
        "name": "Hikers",
        "description": "Weekends",
        "owner": {
            "id": str(user.pk),
            "username": "alice",
            "display_name": "Alice",
            "avatar": None,
        },
        "role": "owner",
        "member_count": 1,
        "conversation_id": str(chat.pk),
    }


def test_create_circle_validation(api_for, user):
    api = api_for(user)
    response = api.post("/circles", {"name": "n" * 61})
    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == {"name"}
    assert api.post("/circles", {}).status_code == 400
    assert api.post("/circles", {"name": 12}).status_code == 400
    assert not Circle.objects.exists()


def test_my_circles(api_for, user, circle, member):
    theirs = services.circle_create(owner=UserFactory(), name="Not mine")
    services.circle_create(owner=member, name="Mia's")
    body = api_for(member).get("/circles").json()
    assert [(c["name"], c["role"]) for c in body["items"]] == [
        ("Mia's", "owner"),
        ("Close friends", "member"),
    ]
    assert set(body["items"][1]) == CIRCLE_FIELDS
    assert body["items"][1]["member_count"] == 2
    assert str(theirs.pk) not in {c["id"] for c in body["items"]}


def test_my_circles_queries_are_constant(api_for, user, list_queries):
    api = api_for(user)
    services.circle_create(owner=user, name="First")
    api.get("/auth/me")
    _, one = list_queries(api, "/circles")
    for n in range(12):
        circle = services.circle_create(owner=UserFactory(), name=f"C{n}")
        CircleMembershipFactory(circle=circle, user=user)
    body, many = list_queries(api, "/circles")
    assert len(body["items"]) == 13 and many == one


def test_circle_detail_for_members_only(api_for, circle, member, outsider):
    assert api_for(member).get(f"/circles/{circle.pk}").json()["role"] == "member"
    response = api_for(outsider).get(f"/circles/{circle.pk}")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert api_for(member).get("/circles/00000000-0000-0000-0000-000000000000").status_code == 404
    assert api_for(member).get("/circles/not-a-uuid").status_code == 404


def test_invitee_is_still_an_outsider(api_for, user, circle, outsider):
    services.circle_invite(actor=user, circle=circle, invitee=outsider)
    api = api_for(outsider)
    assert api.get(f"/circles/{circle.pk}").status_code == 404
    assert api.get(f"/circles/{circle.pk}/members").status_code == 404


def test_update_circle(api_for, user, circle, member, outsider):
    response = api_for(user).patch(f"/circles/{circle.pk}", {"name": "Family"})
    assert response.status_code == 200
    assert response.json()["name"] == "Family"
    assert response.json()["description"] == "Us"
    refused = api_for(member).patch(f"/circles/{circle.pk}", {"name": "Mine"})
    assert refused.status_code == 403
    assert error_of(refused)["code"] == "forbidden"
    assert api_for(outsider).patch(f"/circles/{circle.pk}", {"name": "x"}).status_code == 404
    invalid = api_for(user).patch(f"/circles/{circle.pk}", {"name": ""})
    assert invalid.status_code == 400
    circle.refresh_from_db()
    assert circle.name == "Family"


def test_delete_circle(api_for, user, circle, member, outsider):
    assert api_for(outsider).delete(f"/circles/{circle.pk}").status_code == 404
    assert api_for(member).delete(f"/circles/{circle.pk}").status_code == 403
    response = api_for(user).delete(f"/circles/{circle.pk}")
    assert response.status_code == 204 and response.content == b""
    assert not Circle.objects.exists()
    assert api_for(user).get(f"/circles/{circle.pk}").status_code == 404


def test_members_list(api_for, circle, member, outsider):
    response = api_for(member).get(f"/circles/{circle.pk}/members")
    assert response.status_code == 200
    items = response.json()["items"]
    assert [(m["user"]["username"], m["role"]) for m in items] == [
        ("mia", "member"),
        ("alice", "owner"),
    ]
    assert set(items[0]) == {"user", "role", "joined_at"}
    assert "relationship" not in items[0]["user"]  # that's me
    assert api_for(outsider).get(f"/circles/{circle.pk}/members").status_code == 404


def test_members_list_queries_are_constant(api_for, user, circle, list_queries):
    api = api_for(user)
    api.get("/auth/me")
    _, one = list_queries(api, f"/circles/{circle.pk}/members")
    for _ in range(15):
        CircleMembershipFactory(circle=circle)
    body, many = list_queries(api, f"/circles/{circle.pk}/members")
    assert len(body["items"]) == 16 and many == one


def test_invite_and_accept(api_for, user, circle, outsider):
    response = api_for(user).post(f"/circles/{circle.pk}/members", {"username": "Mallory"})
    assert response.status_code == 201
    body = response.json()
    invite = CircleInvite.objects.get()
    assert body["id"] == str(invite.pk)
    assert body["user"]["username"] == "mallory"
    assert body["invited_by"]["username"] == "alice"
    pending = api_for(user).get(f"/circles/{circle.pk}/invites").json()["items"]
    assert [i["user"]["username"] for i in pending] == ["mallory"]
    inbox = api_for(outsider).get("/circles/invites").json()["items"]
    assert [(i["id"], i["circle"]["name"]) for i in inbox] == [(str(invite.pk), "Close friends")]
    assert set(inbox[0]["circle"]) == {"id", "name", "description", "owner", "member_count"}
    accepted = api_for(outsider).post(f"/circles/invites/{invite.pk}/accept")
    assert accepted.status_code == 200
    assert accepted.json()["role"] == "member"
    assert accepted.json()["member_count"] == 2
    assert CircleMembership.objects.filter(circle=circle, user=outsider).exists()


def test_decline_invite(api_for, user, circle, outsider):
    invite = services.circle_invite(actor=user, circle=circle, invitee=outsider)
    response = api_for(outsider).post(f"/circles/invites/{invite.pk}/decline")
    assert response.status_code == 204
    assert not CircleInvite.objects.exists()
    assert not CircleMembership.objects.filter(user=outsider).exists()


def test_someone_elses_invite_is_404(api_for, user, circle, outsider, other_user):
    invite = services.circle_invite(actor=user, circle=circle, invitee=outsider)
    for actor in (user, other_user):
        assert api_for(actor).post(f"/circles/invites/{invite.pk}/accept").status_code == 404
        assert api_for(actor).post(f"/circles/invites/{invite.pk}/decline").status_code == 404
    assert api_for(outsider).post("/circles/invites/nope/accept").status_code == 404
    assert CircleInvite.objects.filter(pk=invite.pk).exists()


def test_invite_errors(api_for, user, circle, member, outsider, other_user):
    api = api_for(user)
    unknown = api.post(f"/circles/{circle.pk}/members", {"username": "nobody"})
    assert unknown.status_code == 404
    already = api.post(f"/circles/{circle.pk}/members", {"username": "mia"})
    assert already.status_code == 400
    assert error_of(already)["fields"] == {"username": ["@mia is already in this circle."]}
    BlockFactory(blocker=outsider, blocked=member)
    blocked = api.post(f"/circles/{circle.pk}/members", {"username": "mallory"})
    assert blocked.status_code == 400
    assert error_of(blocked)["fields"] == {
        "username": ["You can't invite @mallory to this circle."]
    }
    by_member = api_for(member).post(f"/circles/{circle.pk}/members", {"username": "bob"})
    assert by_member.status_code == 403
    by_outsider = api_for(outsider).post(f"/circles/{circle.pk}/members", {"username": "bob"})
    assert by_outsider.status_code == 404
    assert api.post(f"/circles/{circle.pk}/members", {}).status_code == 400
    assert not CircleInvite.objects.exists()


def test_full_circle_refuses_invites(api_for, user, circle):
    CircleMembership.objects.bulk_create(
        [
            CircleMembership(circle=circle, user=u, role=CircleRole.MEMBER)
            for u in UserFactory.create_batch(49)
        ]
    )
    UserFactory(username="late")
    response = api_for(user).post(f"/circles/{circle.pk}/members", {"username": "late"})
    assert response.status_code == 400
    assert error_of(response)["fields"] == {
        "username": ["A circle has at most 50 people, invitations included."]
    }


def test_remove_member_and_leave(api_for, user, circle, member):
    admin = CircleMembershipFactory(circle=circle, role=CircleRole.ADMIN).user
    other = CircleMembershipFactory(circle=circle).user
    # a member cannot remove others
    assert (
        api_for(member).delete(f"/circles/{circle.pk}/members/{other.username}").status_code == 403
    )
    # an admin removes a member
    response = api_for(admin).delete(f"/circles/{circle.pk}/members/{other.username}")
    assert response.status_code == 204
    # nobody removes the owner
    owner = api_for(admin).delete(f"/circles/{circle.pk}/members/alice")
    assert owner.status_code == 403
    assert error_of(owner)["message"] == "The owner can't be removed."
    # yourself: leave
    assert api_for(member).delete(f"/circles/{circle.pk}/members/mia").status_code == 204
    # the owner cannot leave before transferring
    stays = api_for(user).delete(f"/circles/{circle.pk}/members/alice")
    assert stays.status_code == 400
    assert error_of(stays)["message"] == "Transfer ownership to another member before you leave."
    # not a member, unknown user
    assert api_for(user).delete(f"/circles/{circle.pk}/members/mia").status_code == 404
    assert api_for(user).delete(f"/circles/{circle.pk}/members/nobody").status_code == 404
    assert set(CircleMembership.objects.values_list("user__username", flat=True)) == {
        "alice",
        admin.username,
    }


def test_removing_works_whatever_the_blocks(api_for, user, circle, member):
    admin = CircleMembershipFactory(circle=circle, role=CircleRole.ADMIN).user
    other = CircleMembershipFactory(circle=circle, user=UserFactory(username="olga")).user
    invitee = UserFactory(username="ivy")
    services.circle_invite(actor=admin, circle=circle, invitee=invitee)
    BlockFactory(blocker=member, blocked=user)  # a member who blocked the owner
    BlockFactory(blocker=other, blocked=admin)  # a member who blocked an admin
    BlockFactory(blocker=invitee, blocked=user)  # an invitee who blocked the owner
    owner, by_admin = api_for(user), api_for(admin)
    assert owner.delete(f"/circles/{circle.pk}/members/mia").status_code == 204
    assert by_admin.delete(f"/circles/{circle.pk}/members/olga").status_code == 204
    assert owner.delete(f"/circles/{circle.pk}/members/ivy").status_code == 204  # withdrawn
    assert set(CircleMembership.objects.values_list("user__username", flat=True)) == {
        "alice",
        admin.username,
    }
    assert not CircleInvite.objects.exists()


def test_accepting_is_404_while_a_block_stands(api_for, user, circle, outsider):
    invite = services.circle_invite(actor=user, circle=circle, invitee=outsider)
    BlockFactory(blocker=user, blocked=outsider)  # made after the invitation
    response = api_for(outsider).post(f"/circles/invites/{invite.pk}/accept")
    assert response.status_code == 404
    assert CircleInvite.objects.filter(pk=invite.pk).exists()
    assert not CircleMembership.objects.filter(user=outsider).exists()


def test_remove_member_of_someone_elses_circle_is_404(api_for, circle, member, outsider):
    response = api_for(outsider).delete(f"/circles/{circle.pk}/members/mia")
    assert response.status_code == 404
    assert CircleMembership.objects.filter(user=member).exists()


def test_transfer_ownership(api_for, user, circle, member, outsider):
    refused = api_for(member).post(f"/circles/{circle.pk}/transfer", {"username": "mia"})
    assert refused.status_code == 403
    not_member = api_for(user).post(f"/circles/{circle.pk}/transfer", {"username": "mallory"})
    assert not_member.status_code == 400
    response = api_for(user).post(f"/circles/{circle.pk}/transfer", {"username": "mia"})
    assert response.status_code == 200
    assert response.json()["owner"]["username"] == "mia"
    assert response.json()["role"] == "admin"
    assert api_for(user).delete(f"/circles/{circle.pk}/members/alice").status_code == 204


def test_transfer_ownership_refused_with_a_block_either_way(api_for, user, circle, member):
    path = f"/circles/{circle.pk}/transfer"
    BlockFactory(blocker=member, blocked=user)
    assert api_for(user).post(path, {"username": "mia"}).status_code == 404
    Block.objects.all().delete()
    BlockFactory(blocker=user, blocked=member)
    refused = api_for(user).post(path, {"username": "mia"})
    assert refused.status_code == 400
    assert error_of(refused)["fields"] == {"username": ["You can't hand the circle to @mia."]}
    circle.refresh_from_db()
    assert circle.owner == user


def test_set_member_role(api_for, user, circle, member):
    path = f"/circles/{circle.pk}/members/mia"
    assert api_for(member).patch(path, {"role": "admin"}).status_code == 403
    assert api_for(user).patch(path, {"role": "owner"}).status_code == 400
    assert api_for(user).patch(path, {"role": "admin"}).status_code == 204
    assert CircleMembership.objects.get(user=member).role == "admin"


def test_invitation_lists_queries_are_constant(api_for, user, circle, list_queries):
    invitee = UserFactory(username="invitee")
    inbox, owner = api_for(invitee), api_for(user)
    services.circle_invite(actor=user, circle=circle, invitee=invitee)
    inbox.get("/auth/me")
    owner.get("/auth/me")
    _, mine = list_queries(inbox, "/circles/invites")
    _, theirs = list_queries(owner, f"/circles/{circle.pk}/invites")
    for n in range(10):
        other = services.circle_create(owner=UserFactory(), name=f"C{n}")
        services.circle_invite(actor=other.owner, circle=other, invitee=invitee)
        services.circle_invite(actor=user, circle=circle, invitee=UserFactory())
    body, many = list_queries(inbox, "/circles/invites")
    assert len(body["items"]) == 11 and many == mine
    body, many = list_queries(owner, f"/circles/{circle.pk}/invites")
    assert len(body["items"]) == 11 and many == theirs
