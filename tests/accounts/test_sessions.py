"""Ending sessions: logout everywhere, password change, ban — and the sockets they close."""

import asyncio
import json
from importlib import import_module

import pytest
import websockets
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client

from accounts import services
from accounts.models import ApiToken
from circles.realtime import user_group
from tests.accounts.conftest import API
from tests.subscriptions import Subscription

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """A channel layer object of its own per test: channels_redis keeps receive state on
    it, bound to the event loop of the test that used it."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def signed_in(client) -> bool:
    return client.get(f"{API}/auth/me").status_code == 200


def subscribe(user) -> Subscription:
    return Subscription(user_group(user.pk))


def received(subscription: Subscription, timeout=1.0):
    return subscription.receive(timeout)


def test_sessions_end_everywhere_and_sockets_are_told(
    user, other_user, django_capture_on_commit_callbacks
):
    laptop, phone, bystander = logged_in(user), logged_in(user), logged_in(other_user)
    mine, theirs = subscribe(user), subscribe(other_user)
    with django_capture_on_commit_callbacks(execute=True):
        services.user_sessions_end(user=user)
    assert not signed_in(laptop) and not signed_in(phone)
    assert signed_in(bystander)
    assert received(mine) == {"type": "session.ended"}
    assert received(theirs, timeout=0.3) is None  # only that person's sockets


def test_the_session_that_acts_is_kept(user):
    current, other = logged_in(user), logged_in(user)
    engine = import_module(settings.SESSION_ENGINE)
    session = engine.SessionStore(current.session.session_key)
    old_key = session.session_key
    services.user_sessions_end(user=user, keep_session=session)
    session.save()
    assert session.session_key != old_key  # a fresh key for the kept session
    current.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    assert signed_in(current)
    assert not signed_in(other)


def test_password_change_ends_other_sessions(user, django_capture_on_commit_callbacks):
    current, other = logged_in(user), logged_in(user)
    engine = import_module(settings.SESSION_ENGINE)
    session = engine.SessionStore(current.session.session_key)
    subscription = subscribe(user)
    with django_capture_on_commit_callbacks(execute=True):
        services.user_password_set(
            user=user, password="a brand new passphrase", keep_session=session
        )
    session.save()
    current.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    assert signed_in(current) and not signed_in(other)
    user.refresh_from_db()
    assert user.check_password("a brand new passphrase")
    assert received(subscription) == {"type": "session.ended"}


def test_password_reset_without_a_session_ends_all(user):
    other = logged_in(user)
    services.user_password_set(user=user, password="another good passphrase")
    assert not signed_in(other)


def test_weak_new_password_is_refused_and_changes_nothing(user, password):
    other = logged_in(user)
    with pytest.raises(ValidationError) as caught:
        services.user_password_set(user=user, password="123")
    assert "password" in caught.value.message_dict
    user.refresh_from_db()
    assert user.check_password(password)
    assert signed_in(other)


def test_ban_deactivates_ends_sessions_and_deletes_tokens(
    user, other_user, django_capture_on_commit_callbacks
):
    browser = logged_in(user)
    services.api_token_create(user=user)
    _, raw = services.api_token_create(user=user)
    services.api_token_create(user=other_user)
    subscription = subscribe(user)
    with django_capture_on_commit_callbacks(execute=True):
        services.user_ban(user=user)
    user.refresh_from_db()
    assert user.is_active is False
    assert not signed_in(browser)
    assert not ApiToken.objects.filter(user=user).exists()
    assert ApiToken.objects.filter(user=other_user).count() == 1
    assert Client().get(f"{API}/auth/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    assert received(subscription) == {"type": "session.ended"}


def test_plain_logout_closes_the_persons_sockets(
    session_api, user, django_capture_on_commit_callbacks
):
    api = session_api(user)
    subscription = subscribe(user)
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/auth/logout").status_code == 204
    assert received(subscription) == {"type": "session.ended"}


# --- through a real server: the open socket really closes -------------------------------


def in_own_connection(function, *args):
    """Run function in this worker thread's own connection, closed afterwards (so the test
    database can be dropped at the end of the session)."""
    try:
        return function(*args)
    finally:
        connection.close()


def ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://") + "/ws/"


async def assert_action_ends_the_socket(live_server_url, phone: Client, action) -> None:
    """Open a socket with phone's session, run action (sync, in its own connection; it
    must answer 204) and check the open socket is closed with 4401 and a new one with the
    same session is refused too."""
    cookie = f"{settings.SESSION_COOKIE_NAME}={phone.cookies[settings.SESSION_COOKIE_NAME].value}"
    headers = {"Cookie": cookie}
    async with websockets.connect(
        ws_url(live_server_url), origin=live_server_url, additional_headers=headers
    ) as ws:
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "pong"}
        response = await asyncio.to_thread(in_own_connection, action)
        assert response.status_code == 204
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd.code == 4401
    async with websockets.connect(
        ws_url(live_server_url), origin=live_server_url, additional_headers=headers
    ) as again:
        with pytest.raises(websockets.ConnectionClosed) as refused:
            await asyncio.wait_for(again.recv(), 5)
        assert refused.value.rcvd.code == 4401


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
async def test_logout_everywhere_closes_open_sockets_and_they_cannot_return(live_server_url, user):
    phone = await asyncio.to_thread(in_own_connection, logged_in, user)

    def logout_everywhere_from_laptop():
        laptop = Client(enforce_csrf_checks=True)
        laptop.force_login(user)
        token = laptop.get(f"{API}/auth/csrf").json()["csrf_token"]
        return laptop.post(f"{API}/auth/logout?everywhere=true", HTTP_X_CSRFTOKEN=token)

    await assert_action_ends_the_socket(live_server_url, phone, logout_everywhere_from_laptop)


# --- every way an account stops or changes its password ends its API tokens too ---------


def bearer_works(raw: str) -> bool:
    return Client().get(f"{API}/auth/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200


def test_password_change_page_revokes_tokens_keeps_this_session_and_says_so(
    user, password, other_user, django_capture_on_commit_callbacks
):
    _, stolen = services.api_token_create(user=user, name="attacker's")
    _, bystanders = services.api_token_create(user=other_user)
    browser, other_browser = logged_in(user), logged_in(user)
    subscription = subscribe(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            "/accounts/password/",
            {
                "old_password": password,
                "new_password1": "a brand new passphrase",
                "new_password2": "a brand new passphrase",
            },
            follow=True,
        )
    assert response.status_code == 200
    assert not bearer_works(stolen)
    assert bearer_works(bystanders)
    assert signed_in(browser) and not signed_in(other_browser)
    assert b"your 1 API token was revoked" in response.content
    assert received(subscription) == {"type": "session.ended"}


def test_password_reset_revokes_tokens(user):
    _, raw = services.api_token_create(user=user)
    assert services.user_password_set(user=user, password="another good passphrase") == 1
    assert not bearer_works(raw)


def test_a_refused_new_password_keeps_the_tokens(user):
    _, raw = services.api_token_create(user=user)
    with pytest.raises(ValidationError):
        services.user_password_set(user=user, password="123")
    assert bearer_works(raw)


def test_deleting_an_account_closes_its_sockets(user, django_capture_on_commit_callbacks):
    browser = logged_in(user)
    subscription = subscribe(user)
    with django_capture_on_commit_callbacks(execute=True):
        services.account_delete_start(user=user)
    assert not signed_in(browser)
    assert received(subscription) == {"type": "session.ended"}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
async def test_deactivating_in_the_admin_closes_open_sockets(live_server_url, user):
    """Unticking "active" on the admin's change page (as an operator does) closes the
    person's open socket at once, and it cannot come back."""
    from django.urls import reverse

    from tests.accounts.test_admin import change_form_data
    from tests.factories import UserFactory

    phone = await asyncio.to_thread(in_own_connection, logged_in, user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={phone.cookies[settings.SESSION_COOKIE_NAME].value}"
    headers = {"Cookie": cookie}
    async with websockets.connect(
        ws_url(live_server_url), origin=live_server_url, additional_headers=headers
    ) as ws:
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "pong"}

        def deactivate_in_admin():
            admin = Client()
            admin.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
            url = reverse("admin:accounts_user_change", args=[user.pk])
            return admin.post(url, change_form_data(user, is_active=None))

        response = await asyncio.to_thread(in_own_connection, deactivate_in_admin)
        assert response.status_code == 302
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd.code == 4401
    async with websockets.connect(
        ws_url(live_server_url), origin=live_server_url, additional_headers=headers
    ) as again:
        with pytest.raises(websockets.ConnectionClosed) as refused:
            await asyncio.wait_for(again.recv(), 5)
        assert refused.value.rcvd.code == 4401
