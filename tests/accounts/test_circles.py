"""Circle membership rules, on the services and selectors directly."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404

from accounts import selectors, services
from accounts.models import (
    CIRCLE_MAX_PEOPLE,
    Block,
    Circle,
    CircleInvite,
    CircleMembership,
    CircleRole,
)
from tests.factories import (
    BlockFactory,
    CircleFactory,
    CircleInviteFactory,
    CircleMembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def roles(circle):
    return dict(
        CircleMembership.objects.filter(circle=circle).values_list("user__username", "role")
    )


@pytest.fixture
def circle(user):
    return services.circle_create(owner=user, name="  Close friends ", description="Us")


@pytest.fixture
def admin(circle):
    return CircleMembershipFactory(
        circle=circle, user=UserFactory(username="adam"), role=CircleRole.ADMIN
    ).user


@pytest.fixture
def member(circle):
    return CircleMembershipFactory(circle=circle, user=UserFactory(username="mia")).user


def test_create_makes_the_owner_the_first_member(circle, user):
    assert circle.name == "Close friends"
    assert circle.owner == user
    assert roles(circle) == {"alice": "owner"}
    assert selectors.circle_has_member(circle=circle, user=user)


def test_create_validates(user):
    with pytest.raises(ValidationError) as caught:
        services.circle_create(owner=user, name=" ", description="d" * 301)
    assert set(caught.value.message_dict) == {"name", "description"}
    with pytest.raises(ValidationError):
        services.circle_create(owner=user, name="n" * 61)
    assert not Circle.objects.exists()


def test_one_owner_per_circle_in_the_database(circle, member):
    with pytest.raises(IntegrityError), transaction.atomic():
        CircleMembership.objects.filter(circle=circle, user=member).update(role=CircleRole.OWNER)


def test_membership_rule(circle, user, outsider):
    CircleInviteFactory(circle=circle, invitee=outsider)
    assert selectors.circle_has_member(circle=circle, user=user)
    assert not selectors.circle_has_member(circle=circle, user=outsider)  # invited ≠ member
    assert not selectors.circle_has_member(circle=circle, user=None)
    assert list(Circle.objects.with_member(user)) == [circle]
    assert not Circle.objects.with_member(outsider).exists()


def test_only_the_owner_edits_and_deletes(circle, admin, member, user):
    for actor in (admin, member):
        with pytest.raises(PermissionDenied):
            services.circle_update(actor=actor, circle=circle, name="Mine now")
        with pytest.raises(PermissionDenied):
            services.circle_delete(actor=actor, circle=circle)
    with pytest.raises(Http404):
        services.circle_update(actor=UserFactory(), circle=circle, name="x")
    services.circle_update(actor=user, circle=circle, name="Family", description="")
    circle.refresh_from_db()
    assert (circle.name, circle.description) == ("Family", "")
    services.circle_delete(actor=user, circle=circle)
    assert not Circle.objects.exists() and not CircleMembership.objects.exists()


# --- invitations ------------------------------------------------------------------------


def test_invite_accept(circle, user, outsider):
    invite = services.circle_invite(actor=user, circle=circle, invitee=outsider)
    assert services.circle_invite(actor=user, circle=circle, invitee=outsider) == invite
    assert selectors.circle_invite_count_for_user(user=outsider) == 1
    assert selectors.circle_invite_count_for_user(user=user) == 0
    joined = services.circle_invite_accept(user=outsider, invite_id=invite.pk)
    assert selectors.circle_invite_count_for_user(user=outsider) == 0
    assert joined == circle
    assert roles(circle) == {"alice": "owner", "mallory": "member"}
    assert not CircleInvite.objects.exists()


def test_invite_decline(circle, user, outsider):
    invite = services.circle_invite(actor=user, circle=circle, invitee=outsider)
    services.circle_invite_decline(user=outsider, invite_id=invite.pk)
    assert roles(circle) == {"alice": "owner"}
    assert not CircleInvite.objects.exists()


def test_only_the_invitee_answers(circle, user, outsider, other_user):
    invite = services.circle_invite(actor=user, circle=circle, invitee=outsider)
    for actor in (user, other_user):
        with pytest.raises(Http404):
            services.circle_invite_accept(user=actor, invite_id=invite.pk)
        with pytest.raises(Http404):
            services.circle_invite_decline(user=actor, invite_id=invite.pk)
    with pytest.raises(Http404):
        services.circle_invite_accept(user=outsider, invite_id="nope")
    assert CircleInvite.objects.filter(pk=invite.pk).exists()


def test_admins_invite_members_do_not(circle, admin, member, outsider):
    services.circle_invite(actor=admin, circle=circle, invitee=outsider)
    with pytest.raises(PermissionDenied):
        services.circle_invite(actor=member, circle=circle, invitee=UserFactory())
    with pytest.raises(Http404):
        services.circle_invite(actor=UserFactory(), circle=circle, invitee=UserFactory())


def test_members_cannot_be_invited_again(circle, user, member):
    with pytest.raises(ValidationError) as caught:
        services.circle_invite(actor=user, circle=circle, invitee=member)
    assert caught.value.message_dict == {"username": ["@mia is already in this circle."]}
    with pytest.raises(ValidationError):
        services.circle_invite(actor=user, circle=circle, invitee=user)


def test_blocked_pairs_cannot_be_invited(circle, user, member, outsider, other_user):
    BlockFactory(blocker=user, blocked=outsider)
    with pytest.raises(ValidationError):
        services.circle_invite(actor=user, circle=circle, invitee=outsider)
    # a block with any member counts, in either direction
    BlockFactory(blocker=other_user, blocked=member)
    with pytest.raises(ValidationError):
        services.circle_invite(actor=user, circle=circle, invitee=other_user)
    # someone who blocked the inviter does not exist for them
    carol = UserFactory(username="carol")
    BlockFactory(blocker=carol, blocked=user)
    with pytest.raises(Http404):
        services.circle_invite(actor=user, circle=circle, invitee=carol)
    assert not CircleInvite.objects.exists()


@pytest.mark.parametrize(
    ("blocker", "blocked"),
    [
        ("invitee", "owner"),
        ("owner", "invitee"),
        ("invitee", "inviter"),
        ("inviter", "invitee"),
        ("invitee", "member"),  # any member, as circle_invite refuses
    ],
)
def test_accept_is_refused_while_a_block_stands(circle, user, admin, member, blocker, blocked):
    invitee = UserFactory(username="ivy")
    invite = services.circle_invite(actor=admin, circle=circle, invitee=invitee)
    people = {"invitee": invitee, "owner": user, "inviter": admin, "member": member}
    # made after the invitation (raw: block_create would withdraw an inviter's invitation)
    BlockFactory(blocker=people[blocker], blocked=people[blocked])
    with pytest.raises(Http404):
        services.circle_invite_accept(user=invitee, invite_id=invite.pk)
    assert not selectors.circle_has_member(circle=circle, user=invitee)
    assert CircleInvite.objects.filter(pk=invite.pk).exists()  # nothing changed


def test_blocking_the_owner_leaves_an_admins_invitation_unacceptable(circle, user, admin):
    invitee = UserFactory(username="ivy")
    invite = services.circle_invite(actor=admin, circle=circle, invitee=invitee)
    services.block_create(blocker=invitee, target=user)
    assert CircleInvite.objects.filter(pk=invite.pk).exists()  # not between the two
    with pytest.raises(Http404):
        services.circle_invite_accept(user=invitee, invite_id=invite.pk)
    services.block_delete(blocker=invitee, target=user)  # unblocked: the invitation works
    services.circle_invite_accept(user=invitee, invite_id=invite.pk)
    assert selectors.circle_has_member(circle=circle, user=invitee)


def test_fifty_people_counting_invitations(circle, user):
    members = UserFactory.create_batch(30)
    CircleMembership.objects.bulk_create(
        [CircleMembership(circle=circle, user=m, role=CircleRole.MEMBER) for m in members]
    )
    for invitee in UserFactory.create_batch(CIRCLE_MAX_PEOPLE - 31):
        services.circle_invite(actor=user, circle=circle, invitee=invitee)
    # 31 members + 19 pending invitations = 50: full
    assert circle.memberships.count() + circle.invites.count() == CIRCLE_MAX_PEOPLE
    with pytest.raises(ValidationError) as caught:
        services.circle_invite(actor=user, circle=circle, invitee=UserFactory())
    assert caught.value.message_dict == {
        "username": ["A circle has at most 50 people, invitations included."]
    }
    # accepting uses the reserved seat; declining frees one
    invite = circle.invites.first()
    services.circle_invite_decline(user=invite.invitee, invite_id=invite.pk)
    services.circle_invite(actor=user, circle=circle, invitee=UserFactory())
    invite = circle.invites.first()
    services.circle_invite_accept(user=invite.invitee, invite_id=invite.pk)
    assert circle.memberships.count() + circle.invites.count() == CIRCLE_MAX_PEOPLE


# --- removing, leaving, roles, ownership ------------------------------------------------


def test_owner_removes_anyone_but_themselves(circle, user, admin, member):
    services.circle_member_remove(actor=user, circle=circle, user=admin)
    services.circle_member_remove(actor=user, circle=circle, user=member)
    assert roles(circle) == {"alice": "owner"}


def test_admin_removes_members_not_admins_or_owner(circle, user, admin, member):
    other_admin = CircleMembershipFactory(circle=circle, role=CircleRole.ADMIN).user
    with pytest.raises(PermissionDenied):
        services.circle_member_remove(actor=admin, circle=circle, user=user)
    with pytest.raises(PermissionDenied):
        services.circle_member_remove(actor=admin, circle=circle, user=other_admin)
    services.circle_member_remove(actor=admin, circle=circle, user=member)
    assert "mia" not in roles(circle)


def test_members_cannot_remove_others(circle, admin, member):
    with pytest.raises(PermissionDenied):
        services.circle_member_remove(actor=member, circle=circle, user=admin)


def test_removing_an_invitee_withdraws_the_invitation(circle, user, outsider):
    services.circle_invite(actor=user, circle=circle, invitee=outsider)
    services.circle_member_remove(actor=user, circle=circle, user=outsider)
    assert not CircleInvite.objects.exists()
    with pytest.raises(Http404):
        services.circle_member_remove(actor=user, circle=circle, user=outsider)


def test_leave(circle, member, user):
    services.circle_member_remove(actor=member, circle=circle, user=member)  # = leave
    assert "mia" not in roles(circle)
    with pytest.raises(Http404):
        services.circle_leave(user=member, circle=circle)
    with pytest.raises(ValidationError) as caught:
        services.circle_leave(user=user, circle=circle)
    assert caught.value.messages == ["Transfer ownership to another member before you leave."]


def test_transfer_ownership(circle, user, member, outsider):
    with pytest.raises(ValidationError):
        services.circle_transfer_ownership(actor=user, circle=circle, new_owner=outsider)
    with pytest.raises(ValidationError):
        services.circle_transfer_ownership(actor=user, circle=circle, new_owner=user)
    with pytest.raises(PermissionDenied):
        services.circle_transfer_ownership(actor=member, circle=circle, new_owner=member)
    services.circle_transfer_ownership(actor=user, circle=circle, new_owner=member)
    circle.refresh_from_db()
    assert circle.owner == member
    assert roles(circle) == {"alice": "admin", "mia": "owner"}
    services.circle_leave(user=user, circle=circle)  # now allowed
    assert roles(circle) == {"mia": "owner"}


def test_transfer_ownership_refused_with_a_block_either_way(circle, user, member):
    BlockFactory(blocker=member, blocked=user)  # they blocked the owner: not found
    with pytest.raises(Http404):
        services.circle_transfer_ownership(actor=user, circle=circle, new_owner=member)
    Block.objects.all().delete()
    BlockFactory(blocker=user, blocked=member)  # the owner blocked them: refused
    with pytest.raises(ValidationError) as caught:
        services.circle_transfer_ownership(actor=user, circle=circle, new_owner=member)
    assert caught.value.message_dict == {"username": ["You can't hand the circle to @mia."]}
    circle.refresh_from_db()
    assert circle.owner == user
    assert roles(circle) == {"alice": "owner", "mia": "member"}


def test_circle_person_lookup_ignores_blocks(circle, user, admin, member, outsider):
    BlockFactory(blocker=member, blocked=user)
    invitee = UserFactory(username="ivy")
    services.circle_invite(actor=admin, circle=circle, invitee=invitee)
    BlockFactory(blocker=invitee, blocked=user)
    assert selectors.circle_person_get(circle=circle, username="Mia", viewer=user) == member
    assert selectors.circle_person_get(circle=circle, username="ivy", viewer=user) == invitee
    for username in ("mallory", "nobody", ""):
        with pytest.raises(Http404):
            selectors.circle_person_get(circle=circle, username=username, viewer=user)
    with pytest.raises(Http404):  # only for people in the circle
        selectors.circle_person_get(circle=circle, username="mia", viewer=outsider)


def test_owner_sets_roles(circle, user, admin, member):
    services.circle_member_set_role(actor=user, circle=circle, user=member, role="admin")
    services.circle_member_set_role(actor=user, circle=circle, user=admin, role="member")
    assert roles(circle) == {"alice": "owner", "adam": "member", "mia": "admin"}
    with pytest.raises(PermissionDenied):
        services.circle_member_set_role(actor=member, circle=circle, user=admin, role="admin")
    with pytest.raises(ValidationError):
        services.circle_member_set_role(actor=user, circle=circle, user=user, role="member")
    with pytest.raises(ValidationError):
        services.circle_member_set_role(actor=user, circle=circle, user=member, role="owner")


# --- lists ------------------------------------------------------------------------------


def test_circle_lists(circle, user, member, outsider):
    other = CircleFactory(owner=outsider)
    services.circle_invite(actor=outsider, circle=other, invitee=member)
    page = selectors.circle_list_for_user(user=member)
    assert [(c.name, c.viewer_role, c.member_count) for c in page.items] == [
        ("Close friends", "member", 2)
    ]
    invites = selectors.circle_invite_list_for_user(user=member).items
    assert [(i.circle.name, i.circle.member_count) for i in invites] == [(other.name, 1)]
    members = selectors.circle_member_list(circle=circle, viewer=member).items
    assert [(u.username, u.circle_role) for u in members] == [("mia", "member"), ("alice", "owner")]
    with pytest.raises(Http404):
        selectors.circle_member_list(circle=circle, viewer=outsider)
    with pytest.raises(Http404):
        selectors.circle_invite_list_for_circle(circle=circle, viewer=outsider)
    with pytest.raises(Http404):
        selectors.circle_get_for_member(circle_id=circle.pk, viewer=outsider)


# --- the circle's group chat follows its membership -------------------------------------


def chat_people(circle):
    from messaging.models import Participant

    return set(
        Participant.objects.filter(conversation__circle=circle).values_list(
            "user__username", flat=True
        )
    )


def test_the_circle_chat_follows_membership(circle, user, outsider, member):
    # (the member fixture bypasses the services; any service call re-syncs)
    assert chat_people(circle) == {"alice"}
    invite = services.circle_invite(actor=user, circle=circle, invitee=outsider)
    services.circle_invite_accept(user=outsider, invite_id=invite.pk)
    assert chat_people(circle) == {"alice", "mia", "mallory"}
    services.circle_member_remove(actor=user, circle=circle, user=member)
    assert chat_people(circle) == {"alice", "mallory"}
    services.circle_leave(user=outsider, circle=circle)
    assert chat_people(circle) == {"alice"}
    page = selectors.circle_list_for_user(user=user)
    assert page.items[0].chat_id is not None


def test_deleting_a_circle_deletes_its_chat(circle, user):
    from messaging.models import Conversation

    assert Conversation.objects.filter(circle=circle).exists()
    services.circle_delete(actor=user, circle=circle)
    assert not Conversation.objects.exists()
