"""A ban through the admin API closes the person's open socket at once, through a real
server, and the socket cannot come back."""

import asyncio

import pytest
from django.test import Client

from tests.accounts.conftest import API
from tests.accounts.test_sessions import (
    assert_action_ends_the_socket,
    in_own_connection,
    logged_in,
)
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
async def test_banning_closes_the_open_socket_and_it_cannot_return(live_server_url):
    def people():
        target = UserFactory(username="troll")
        operator = UserFactory(username="operator", is_staff=True)
        return logged_in(target), operator

    phone, operator = await asyncio.to_thread(in_own_connection, people)

    def ban():
        client = Client(enforce_csrf_checks=True)
        client.force_login(operator)
        token = client.get(f"{API}/auth/csrf").json()["csrf_token"]
        return client.delete(f"{API}/admin/users/troll", HTTP_X_CSRFTOKEN=token)

    await assert_action_ends_the_socket(live_server_url, phone, ban)
