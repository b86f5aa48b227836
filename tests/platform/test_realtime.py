"""The one publisher: delivers through the channel layer, and never raises."""

import pytest
from django.db import transaction

from circles.realtime import publish, publish_on_commit, user_group
from tests.subscriptions import Subscription

pytestmark = pytest.mark.django_db(transaction=True)


def subscribe(group) -> Subscription:
    return Subscription(group)


def test_publish_reaches_group_members():
    subscription = subscribe(user_group("u1"))
    assert publish(user_group("u1"), {"type": "session.ended"})
    assert subscription.receive() == {"type": "session.ended"}


def test_publish_on_commit_waits_for_commit_and_skips_rollback():
    subscription = subscribe(user_group("u2"))
    with pytest.raises(RuntimeError), transaction.atomic():
        publish_on_commit(user_group("u2"), {"type": "x.rolled_back"})
        raise RuntimeError
    with transaction.atomic():
        publish_on_commit(user_group("u2"), {"type": "x.committed"})
    assert subscription.receive() == {"type": "x.committed"}


# both layers circles/settings.py can be set to (CHANNEL_LAYER)
LAYERS = ["channels_redis.core.RedisChannelLayer", "channels_redis.pubsub.RedisPubSubChannelLayer"]


@pytest.mark.parametrize("backend", LAYERS)
def test_publish_failure_is_logged_not_raised(settings, caplog, backend):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": backend,
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    try:
        assert publish(user_group("u3"), {"type": "x.lost"}) is False
    finally:
        channel_layers.backends.clear()
    assert "realtime publish to user.u3 failed" in caplog.text


@pytest.mark.parametrize("backend", LAYERS)
def test_publish_to_a_redis_that_never_answers_gives_up_quickly(settings, caplog, backend):
    import socket
    import time

    silent = socket.socket()  # accepts connections (the kernel's backlog) and never replies
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    port = silent.getsockname()[1]
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": backend,
            "CONFIG": {"hosts": [{"address": f"redis://127.0.0.1:{port}/0"}]},
        }
    }
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    started = time.monotonic()
    try:
        assert publish(user_group("u4"), {"type": "x.lost"}) is False
    finally:
        channel_layers.backends.clear()
        silent.close()
    assert time.monotonic() - started < 5
    assert "realtime publish to user.u4 failed" in caplog.text
