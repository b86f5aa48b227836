"""Django admin for accounts: every model listed and searchable; ban is one action."""

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import AccountDeletion, ApiToken
from circles.realtime import user_group
from tests.factories import (
    BlockFactory,
    CircleFactory,
    CircleInviteFactory,
    CircleMembershipFactory,
    FollowFactory,
    FollowRequestFactory,
    UserFactory,
)
from tests.subscriptions import Subscription

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


# --- stopping an account in the admin ends its tokens, sessions and sockets --------------


def change_form_data(user, **changes) -> dict:
    data = {
        "username": user.username,
        "email": user.email,
        "display_name": user.display_name,
        "bio": user.bio,
        "avatar": "",
        "is_active": "on",
        "last_login_0": "",
        "last_login_1": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def socket_told(user, act) -> bool:
    """Run act() with a channel subscribed to user's group; whether it heard session.ended."""
    subscription = Subscription(user_group(user.pk))
    act()
    return subscription.receive() == {"type": "session.ended"}


def test_unticking_active_in_the_admin_is_a_ban(
    admin_client, user, client_for, django_capture_on_commit_callbacks
):
    services.api_token_create(user=user)
    browser = client_for(user)
    url = reverse("admin:accounts_user_change", args=[user.pk])

    def deactivate():
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(url, change_form_data(user, is_active=None))
        assert response.status_code == 302, response.content

    assert socket_told(user, deactivate)
    user.refresh_from_db()
    assert user.is_active is False
    assert not ApiToken.objects.filter(user=user).exists()
    assert browser.get("/api/v1/auth/me").status_code == 401


def test_saving_other_changes_in_the_admin_ends_nothing(admin_client, user, client_for):
    services.api_token_create(user=user)
    browser = client_for(user)
    url = reverse("admin:accounts_user_change", args=[user.pk])
    response = admin_client.post(url, change_form_data(user, display_name="Alice A."))
    assert response.status_code == 302, response.content
    assert ApiToken.objects.filter(user=user).exists()
    assert browser.get("/api/v1/auth/me").status_code == 200


def assert_deleted_by_the_task(user):
    """The admin starts the owner's own deletion: stopped now, gone once its task ran."""
    user.refresh_from_db()
    assert not user.is_active and AccountDeletion.objects.filter(user=user).exists()
    assert services.account_delete_run(user_id=user.pk)
    assert not type(user).objects.filter(pk=user.pk).exists()


def test_deleting_in_the_admin_closes_the_sockets(
    admin_client, user, django_capture_on_commit_callbacks
):
    url = reverse("admin:accounts_user_delete", args=[user.pk])

    def delete():
        with django_capture_on_commit_callbacks(execute=True):
            assert admin_client.post(url, {"post": "yes"}).status_code == 302

    assert socket_told(user, delete)
    assert_deleted_by_the_task(user)


def test_bulk_delete_in_the_admin_closes_the_sockets(
    admin_client, user, django_capture_on_commit_callbacks
):
    def delete():
        with django_capture_on_commit_callbacks(execute=True):
            admin_client.post(
                reverse("admin:accounts_user_changelist"),
                {"action": "delete_selected", "_selected_action": [str(user.pk)], "post": "yes"},
            )

    assert socket_told(user, delete)
    assert_deleted_by_the_task(user)


def test_a_password_set_in_the_admin_revokes_tokens_and_sessions(
    admin_client, user, client_for, django_capture_on_commit_callbacks
):
    _, raw = services.api_token_create(user=user)
    browser = client_for(user)
    url = reverse("admin:auth_user_password_change", args=[user.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            url, {"password1": "set by the admin 42", "password2": "set by the admin 42"}
        )
    assert response.status_code == 302, response.content
    assert not ApiToken.objects.filter(user=user).exists()
    assert browser.get("/api/v1/auth/me").status_code == 401
    assert admin_client.get(reverse("admin:index")).status_code == 200  # the admin stays in
