"""Django admin for accounts: every model listed and searchable; ban is one action."""

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import ApiToken
from tests.factories import (
    BlockFactory,
    CircleFactory,
    CircleInviteFactory,
    CircleMembershipFactory,
    FollowFactory,
    FollowRequestFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client_for):
    return client_for(UserFactory(username="root_admin", is_staff=True, is_superuser=True))


@pytest.fixture
def graph(user, other_user, outsider):
    FollowFactory(follower=user, following=other_user)
    FollowRequestFactory(requester=outsider, target=UserFactory(username="carol", is_private=True))
    BlockFactory(blocker=other_user, blocked=outsider)
    circle = CircleFactory(owner=user, name="Close friends")
    CircleMembershipFactory(circle=circle, user=other_user)
    CircleInviteFactory(circle=circle, invitee=outsider)
    return circle


@pytest.mark.parametrize(
    "model", ["user", "apitoken", "follow", "followrequest", "block", "circle"]
)
def test_changelists_load_and_search(admin_client, graph, model):
    url = reverse(f"admin:accounts_{model}_changelist")
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": "alice"}).status_code == 200


def test_user_filters(admin_client, user):
    url = reverse("admin:accounts_user_changelist")
    for query in ({"is_private__exact": "1"}, {"is_staff__exact": "0"}, {"is_active__exact": "1"}):
        assert admin_client.get(url, query).status_code == 200
    found = admin_client.get(url, {"q": "alice@example.com"})
    assert b"alice" in found.content


def test_circle_page_shows_members_and_invites_inline(admin_client, graph):
    response = admin_client.get(reverse("admin:accounts_circle_change", args=[graph.pk]))
    assert response.status_code == 200
    assert b"memberships-TOTAL_FORMS" in response.content
    assert b"invites-TOTAL_FORMS" in response.content


def test_ban_action(admin_client, user, other_user):
    bystander = UserFactory(username="bystander")
    services.api_token_create(user=user)
    response = admin_client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "ban", "_selected_action": [str(user.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    user.refresh_from_db()
    other_user.refresh_from_db()
    bystander.refresh_from_db()
    assert user.is_active is False
    assert other_user.is_active and bystander.is_active
    assert not ApiToken.objects.filter(user=user).exists()
    assert b"Banned 1 account" in response.content


def test_admins_cannot_ban_themselves(admin_client):
    me = UserFactory(username="root_admin")
    admin_client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "ban", "_selected_action": [str(me.pk)]},
    )
    me.refresh_from_db()
    assert me.is_active
