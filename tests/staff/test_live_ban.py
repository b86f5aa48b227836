"""A ban through the admin API closes the person's open socket at once, through a real
server, and the socket cannot come back."""

import asyncio
import json

import pytest
import websockets
from django.conf import settings
from django.test import Client

from tests.accounts.conftest import API
from tests.accounts.test_sessions import in_own_connection, logged_in, ws_url
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
    cookie = f"{settings.SESSION_COOKIE_NAME}={phone.cookies[settings.SESSION_COOKIE_NAME].value}"
    headers = {"Cookie": cookie}
    async with websockets.connect(
        ws_url(live_server_url), origin=live_server_url, additional_headers=headers
    ) as ws:
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "pong"}

        def ban():
            client = Client(enforce_csrf_checks=True)
            client.force_login(operator)
            token = client.get(f"{API}/auth/csrf").json()["csrf_token"]
            return client.delete(f"{API}/admin/users/troll", HTTP_X_CSRFTOKEN=token)

        response = await asyncio.to_thread(in_own_connection, ban)
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
