"""The graph and circle rules written once as QuerySet methods: a block either way, the
blocks inside a group, and circle membership — for two people and per row (OuterRef)."""

import pytest
from django.db.models import Exists, OuterRef

from accounts.models import Block, CircleMembership, User
from tests.factories import BlockFactory, CircleFactory, CircleMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("direction", ["made", "received"])
def test_a_block_is_found_between_two_people_whichever_made_it(user, other_user, direction):
    blocker, blocked = (user, other_user) if direction == "made" else (other_user, user)
    BlockFactory(blocker=blocker, blocked=blocked)
    assert Block.objects.between(user, other_user).exists()
    assert Block.objects.between(other_user, user).exists()
    assert Block.objects.between(user.pk, other_user.pk).exists()


def test_no_block_between_two_people_is_not_confused_with_a_third(user, other_user, outsider):
    BlockFactory(blocker=user, blocked=outsider)
    BlockFactory(blocker=outsider, blocked=other_user)
    assert not Block.objects.between(user, other_user).exists()


def test_a_block_either_way_per_row_names_exactly_the_people_concerned(user):
    blocked_by_user, blocked_user, stranger = UserFactory(), UserFactory(), UserFactory()
    BlockFactory(blocker=user, blocked=blocked_by_user)
    BlockFactory(blocker=blocked_user, blocked=user)
    blocked = User.objects.filter(Exists(Block.objects.between(user, OuterRef("pk"))))
    assert set(blocked) == {blocked_by_user, blocked_user}
    assert stranger not in blocked


def test_none_with_keeps_the_rows_between_exactly_as_between_does_not(user):
    blocked_by_user, blocked_user, stranger = UserFactory(), UserFactory(), UserFactory()
    BlockFactory(blocker=user, blocked=blocked_by_user)
    BlockFactory(blocker=blocked_user, blocked=user)
    BlockFactory(blocker=blocked_by_user, blocked=stranger)  # not user's: no effect
    people = User.objects.exclude(pk=user.pk)
    kept = set(people.filter(Block.objects.none_with(user, "pk")))
    per_row = set(people.exclude(Exists(Block.objects.between(user, OuterRef("pk")))))
    assert kept == per_row
    assert stranger in kept and not {blocked_by_user, blocked_user} & kept


def test_blocks_among_a_group_need_both_sides_in_it(user, other_user, outsider):
    BlockFactory(blocker=user, blocked=outsider)
    assert not Block.objects.among([user.pk, other_user.pk]).exists()
    assert Block.objects.among([user.pk, other_user.pk, outsider.pk]).exists()


def test_circle_membership_is_a_row_of_any_role_for_two_values_and_per_row(user, other_user):
    circle = CircleFactory(owner=user)
    CircleMembershipFactory(circle=circle, user=other_user, role="admin")
    outsider = UserFactory()
    assert CircleMembership.objects.of(user=user, circle=circle).exists()  # the owner
    assert CircleMembership.objects.of(user=other_user.pk, circle=circle.pk).exists()
    assert not CircleMembership.objects.of(user=outsider, circle=circle).exists()
    members = User.objects.filter(
        Exists(CircleMembership.objects.of(user=OuterRef("pk"), circle=circle))
    )
    assert set(members) == {user, other_user}
