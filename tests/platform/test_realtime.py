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
    subscription.close()


def test_publish_on_commit_waits_for_commit_and_skips_rollback():
    subscription = subscribe(user_group("u2"))
    with pytest.raises(RuntimeError), transaction.atomic():
        publish_on_commit(user_group("u2"), {"type": "x.rolled_back"})
        raise RuntimeError
    with transaction.atomic():
        publish_on_commit(user_group("u2"), {"type": "x.committed"})
    assert subscription.receive() == {"type": "x.committed"}
    subscription.close()


# both layers circles/settings.py can be set to (CHANNEL_LAYER)
LAYERS = ["channels_redis.core.RedisChannelLayer", "circles.channel_layer.PubSubChannelLayer"]


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


def test_a_publish_does_not_wait_for_the_layers_subscription_lock():
    """channels_redis's pub/sub shard publishes under the lock it subscribes under, so one
    slow round trip held every other publish of the process; ours publishes beside it."""
    import asyncio

    subscription = subscribe(user_group("u5"))
    layer = subscription.layer

    async def publish_while_the_lock_is_held():
        shard = layer._get_layer()._shards[0]
        async with shard._lock:  # as a subscribe waiting on a slow Redis would hold it
            await asyncio.wait_for(
                layer.group_send(user_group("u5"), {"type": "x.through"}), timeout=2
            )

    subscription.loop.run_until_complete(publish_while_the_lock_is_held())
    assert subscription.receive() == {"type": "x.through"}
    subscription.close()


def test_publishes_run_at_once_and_all_arrive():
    import asyncio

    subscription = subscribe(user_group("u6"))
    layer = subscription.layer

    async def many():
        await asyncio.gather(
            *(layer.group_send(user_group("u6"), {"type": "x.n", "n": n}) for n in range(50))
        )

    subscription.loop.run_until_complete(many())
    received = [subscription.receive() for _ in range(50)]
    assert sorted(event["n"] for event in received) == list(range(50))
    subscription.close()
