"""The social graph's rules, tested on the services and selectors directly."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404

from accounts import selectors, services
from accounts.models import Block, CircleInvite, Follow, FollowRequest, FollowState, User
from tests.factories import (
    BlockFactory,
    CircleFactory,
    CircleInviteFactory,
    FollowFactory,
    FollowRequestFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def profile(user, viewer):
    return selectors.user_get_profile(username=user.username, viewer=viewer)


# --- following --------------------------------------------------------------------------


def test_following_a_public_account_is_immediate_and_repeatable(user, other_user):
    assert services.follow_create(follower=user, target=other_user) == FollowState.FOLLOWING
    assert services.follow_create(follower=user, target=other_user) == FollowState.FOLLOWING
    assert Follow.objects.filter(follower=user, following=other_user).count() == 1
    assert profile(other_user, user).followers_count == 1
    assert profile(user, user).following_count == 1


def test_following_a_private_account_asks_first(user, other_user):
    other_user.is_private = True
    other_user.save()
    assert services.follow_create(follower=user, target=other_user) == FollowState.REQUESTED
    assert services.follow_create(follower=user, target=other_user) == FollowState.REQUESTED
    assert not Follow.objects.exists()
    assert FollowRequest.objects.filter(requester=user, target=other_user).count() == 1
    assert selectors.user_relationship(profile(other_user, user)).requested is True


def test_you_cannot_follow_yourself(user):
    with pytest.raises(ValidationError) as caught:
        services.follow_create(follower=user, target=user)
    assert caught.value.message_dict == {"username": ["You can't follow yourself."]}


def test_database_refuses_self_follow_and_duplicates(user, other_user):
    with pytest.raises(IntegrityError), transaction.atomic():
        Follow.objects.create(follower=user, following=user)
    Follow.objects.create(follower=user, following=other_user)
    with pytest.raises(IntegrityError), transaction.atomic():
        Follow.objects.create(follower=user, following=other_user)


def test_unfollow_and_remove_follower_keep_counts_right(user, other_user, outsider):
    services.follow_create(follower=user, target=other_user)
    services.follow_create(follower=outsider, target=other_user)
    assert profile(other_user, other_user).followers_count == 2
    services.follow_delete(follower=user, target=other_user)
    services.follow_delete(follower=user, target=other_user)  # nothing left to undo: fine
    services.follower_remove(user=other_user, follower=outsider)
    assert profile(other_user, other_user).followers_count == 0
    assert profile(user, user).following_count == 0


def test_lists_leave_out_banned_people(user, other_user, outsider):
    services.follow_create(follower=user, target=other_user)
    services.follow_create(follower=outsider, target=other_user)
    services.user_ban(user=user)
    page = selectors.user_list_followers(user=other_user, viewer=other_user)
    assert [u.username for u in page.items] == ["mallory"]


# --- requests ---------------------------------------------------------------------------


@pytest.fixture
def private_user(db):
    return UserFactory(username="carol", is_private=True)


def test_approving_a_request_makes_a_follow(user, private_user):
    services.follow_create(follower=user, target=private_user)
    request = FollowRequest.objects.get()
    services.follow_request_approve(user=private_user, request_id=request.pk)
    assert Follow.objects.filter(follower=user, following=private_user).exists()
    assert not FollowRequest.objects.exists()
    assert selectors.user_content_visible(viewer=user, owner=private_user)


def test_declining_a_request_leaves_nothing(user, private_user):
    services.follow_create(follower=user, target=private_user)
    services.follow_request_decline(user=private_user, request_id=FollowRequest.objects.get().pk)
    assert not Follow.objects.exists() and not FollowRequest.objects.exists()


def test_the_requester_can_cancel(user, private_user):
    services.follow_create(follower=user, target=private_user)
    services.follow_request_cancel(requester=user, target=private_user)
    assert not FollowRequest.objects.exists()
    services.follow_create(follower=user, target=private_user)
    services.follow_delete(follower=user, target=private_user)  # the API's way to cancel
    assert not FollowRequest.objects.exists()


def test_only_the_target_can_answer_a_request(user, private_user, outsider):
    request = FollowRequestFactory(requester=user, target=private_user)
    for answer in (services.follow_request_approve, services.follow_request_decline):
        with pytest.raises(Http404):
            answer(user=outsider, request_id=request.pk)
        with pytest.raises(Http404):
            answer(user=user, request_id=request.pk)  # not even the requester
    with pytest.raises(Http404):
        services.follow_request_approve(user=private_user, request_id="not-a-uuid")
    assert FollowRequest.objects.filter(pk=request.pk).exists()
    assert not Follow.objects.exists()


def test_following_someone_you_already_follow_after_they_went_private(user, other_user):
    services.follow_create(follower=user, target=other_user)
    other_user.is_private = True
    other_user.save()
    assert services.follow_create(follower=user, target=other_user) == FollowState.FOLLOWING
    assert not FollowRequest.objects.exists()


def test_going_public_approves_pending_requests(user, outsider, private_user):
    services.follow_create(follower=user, target=private_user)
    services.follow_create(follower=outsider, target=private_user)
    services.user_update(user=private_user, is_private=False)
    assert Follow.objects.filter(following=private_user).count() == 2
    assert not FollowRequest.objects.exists()


def test_incoming_requests_list_newest_first(private_user):
    first = FollowRequestFactory(target=private_user)
    second = FollowRequestFactory(target=private_user)
    FollowRequestFactory()  # someone else's inbox
    page = selectors.follow_request_list_incoming(user=private_user)
    assert [u.request_id for u in page.items] == [second.pk, first.pk]
    assert [u.pk for u in page.items] == [second.requester_id, first.requester_id]
    assert selectors.follow_request_count_incoming(user=private_user) == 2
    # the badge counts only active people's requests, and nobody's when there are none
    first.requester.is_active = False
    first.requester.save(update_fields=["is_active"])
    assert selectors.follow_request_count_incoming(user=private_user) == 1
    assert selectors.follow_request_count_incoming(user=first.requester) == 0


# --- blocks -----------------------------------------------------------------------------


def test_block_removes_follows_requests_and_invites_both_ways(user, other_user):
    FollowFactory(follower=user, following=other_user)
    FollowFactory(follower=other_user, following=user)
    FollowRequestFactory(requester=user, target=other_user)
    circle = CircleFactory(owner=other_user)
    CircleInviteFactory(circle=circle, invitee=user, invited_by=other_user)
    services.block_create(blocker=user, target=other_user)
    services.block_create(blocker=user, target=other_user)  # repeatable
    assert Block.objects.filter(blocker=user, blocked=other_user).count() == 1
    assert not Follow.objects.exists()
    assert not FollowRequest.objects.exists()
    assert not circle.invites.exists()


def test_block_removes_invites_the_blocker_sent_too(user, other_user):
    mine = services.circle_create(owner=user, name="Mine")
    theirs = services.circle_create(owner=other_user, name="Theirs")
    services.circle_invite(actor=user, circle=mine, invitee=other_user)
    services.circle_invite(actor=other_user, circle=theirs, invitee=user)
    services.block_create(blocker=user, target=other_user)
    assert not CircleInvite.objects.exists()


def test_unblocking_restores_nothing(user, other_user):
    FollowFactory(follower=other_user, following=user)
    services.block_create(blocker=user, target=other_user)
    services.block_delete(blocker=user, target=other_user)
    services.block_delete(blocker=user, target=other_user)
    assert not Block.objects.exists()
    assert not Follow.objects.exists()


def test_you_cannot_block_yourself(user):
    with pytest.raises(ValidationError):
        services.block_create(blocker=user, target=user)


def test_a_blocked_person_cannot_find_or_follow_the_blocker(user, other_user):
    BlockFactory(blocker=other_user, blocked=user)
    with pytest.raises(Http404):
        selectors.user_get_visible(username="bob", viewer=user)
    with pytest.raises(Http404):
        services.follow_create(follower=user, target=other_user)
    assert not Follow.objects.exists() and not FollowRequest.objects.exists()


def test_the_blocker_sees_the_profile_but_must_unblock_to_follow(user, other_user):
    BlockFactory(blocker=user, blocked=other_user)
    seen = profile(other_user, user)
    assert selectors.user_relationship(seen).blocking is True
    with pytest.raises(PermissionDenied):
        services.follow_create(follower=user, target=other_user)


# --- the visibility rule ----------------------------------------------------------------


def test_content_visibility_rule(user, other_user, outsider):
    private = UserFactory(username="carol", is_private=True)
    FollowFactory(follower=user, following=private)
    see = selectors.user_content_visible
    # public: everyone, anonymous included
    assert see(viewer=outsider, owner=other_user) and see(viewer=None, owner=other_user)
    # private: yourself and approved followers only
    assert see(viewer=private, owner=private)
    assert see(viewer=user, owner=private)
    assert not see(viewer=outsider, owner=private) and not see(viewer=None, owner=private)
    # a pending request is not enough
    FollowRequestFactory(requester=outsider, target=private)
    assert not see(viewer=outsider, owner=private)
    # blocks hide both ways, whoever blocked
    BlockFactory(blocker=other_user, blocked=outsider)
    assert not see(viewer=outsider, owner=other_user)
    assert not see(viewer=other_user, owner=outsider)
    # banned people's content is gone
    private.is_active = False
    private.save()
    assert not see(viewer=user, owner=private)


def test_queryset_form_of_the_rule_agrees(user, other_user, outsider):
    private = UserFactory(username="carol", is_private=True)
    FollowFactory(follower=user, following=private)
    BlockFactory(blocker=outsider, blocked=user)
    visible = set(User.objects.content_visible_to(user).values_list("username", flat=True))
    assert visible == {"alice", "bob", "carol"}


def test_unknown_and_banned_usernames_are_not_found(user, other_user):
    with pytest.raises(Http404):
        selectors.user_get_visible(username="nobody", viewer=user)
    other_user.is_active = False
    other_user.save()
    with pytest.raises(Http404):
        selectors.user_get_profile(username="bob", viewer=user)
    assert selectors.user_get_visible(username="ALICE", viewer=user) == user


def test_relationship_flags(user, other_user):
    FollowFactory(follower=user, following=other_user)
    FollowFactory(follower=other_user, following=user)
    private = UserFactory(username="carol", is_private=True)
    FollowRequestFactory(requester=user, target=private)
    relations = selectors.user_relationship_map(
        viewer=user, user_ids=[user.pk, other_user.pk, private.pk]
    )
    assert relations[user.pk] is None  # yourself: no relationship
    assert relations[other_user.pk] == selectors.Relationship(
        following=True, followed_by=True, requested=False, blocking=False
    )
    assert relations[private.pk] == selectors.Relationship(
        following=False, followed_by=False, requested=True, blocking=False
    )


# --- lists ------------------------------------------------------------------------------


def test_follower_lists_page_newest_first(user):
    followers = [FollowFactory(following=user).follower for _ in range(5)]
    page = selectors.user_list_followers(user=user, viewer=user, limit=2)
    assert [u.pk for u in page.items] == [followers[4].pk, followers[3].pk]
    seen = [u.pk for u in page.items]
    while page.next_cursor:
        page = selectors.user_list_followers(
            user=user, viewer=user, cursor=page.next_cursor, limit=2
        )
        seen += [u.pk for u in page.items]
    assert seen == [f.pk for f in reversed(followers)]


def test_following_list_and_counts_on_items(user, other_user, outsider):
    FollowFactory(follower=user, following=other_user)
    FollowFactory(follower=user, following=outsider)
    FollowFactory(follower=outsider, following=other_user)
    page = selectors.user_list_following(user=user, viewer=user)
    assert [u.username for u in page.items] == ["mallory", "bob"]
    assert [u.followers_count for u in page.items] == [1, 2]
    assert page.items[1].rel_following is True


def test_private_lists_are_for_followers(user, other_user, outsider):
    private = UserFactory(username="carol", is_private=True)
    FollowFactory(follower=user, following=private)
    assert len(selectors.user_list_followers(user=private, viewer=user).items) == 1
    assert len(selectors.user_list_following(user=private, viewer=private).items) == 0
    with pytest.raises(PermissionDenied):
        selectors.user_list_followers(user=private, viewer=outsider)
    with pytest.raises(PermissionDenied):
        selectors.user_list_following(user=private, viewer=outsider)


def test_lists_hide_people_who_blocked_the_viewer(user, other_user, outsider):
    FollowFactory(follower=outsider, following=other_user)
    FollowFactory(follower=user, following=other_user)
    BlockFactory(blocker=outsider, blocked=user)
    page = selectors.user_list_followers(user=other_user, viewer=user)
    assert [u.username for u in page.items] == ["alice"]


def test_block_list(user, other_user, outsider):
    services.block_create(blocker=user, target=other_user)
    services.block_create(blocker=user, target=outsider)
    page = selectors.block_list_for_user(user=user)
    assert [u.username for u in page.items] == ["mallory", "bob"]
    assert all(u.rel_blocking for u in page.items)
