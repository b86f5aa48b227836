"""/metrics: closed to anyone not allowed, and the application metrics move with the
actions they count — in this process, and from other processes through Redis."""

import subprocess
import sys

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from circles import metrics
from media.services import image_process
from posts.models import Post
from tests.accounts.conftest import Api, media_storage
from tests.factories import UserFactory
from tests.messaging.conftest import open_socket
from tests.posts.conftest import jpeg_upload, make_post
from tests.servers import ROOT, process_env

__all__ = ["media_storage"]

TOKEN = "a-long-random-metrics-token"


def scrape(**headers) -> dict:
    """{(sample name, sorted labels): value} of /metrics, read as Prometheus reads it."""
    response = Client(**headers).get("/metrics")
    assert response.status_code == 200
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def open_metrics(settings):
    settings.METRICS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.METRICS_TOKEN = ""


# --- who may read it ---------------------------------------------------------------------


def test_closed_without_a_token_or_an_allowed_network(settings):
    settings.METRICS_ALLOWED_NETWORKS = []
    settings.METRICS_TOKEN = TOKEN
    assert Client().get("/metrics").status_code == 404
    assert Client(HTTP_AUTHORIZATION="Bearer wrong").get("/metrics").status_code == 404
    assert Client(HTTP_AUTHORIZATION=TOKEN).get("/metrics").status_code == 404  # no scheme
    settings.METRICS_TOKEN = ""  # no token configured: an empty bearer opens nothing
    assert Client(HTTP_AUTHORIZATION="Bearer ").get("/metrics").status_code == 404


def test_open_with_the_token(settings):
    settings.METRICS_ALLOWED_NETWORKS = []
    settings.METRICS_TOKEN = TOKEN
    samples = scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert ("circles_sockets_open", ()) in samples


def test_open_to_an_allowed_network_only(settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="192.168.1.9").get("/metrics").status_code == 404
    # a forged X-Forwarded-For from an untrusted peer changes nothing
    forged = Client(REMOTE_ADDR="192.168.1.9", HTTP_X_FORWARDED_FOR="10.1.2.3")
    assert forged.get("/metrics").status_code == 404


def test_production_defaults_close_it():
    code = "from django.conf import settings; print(settings.METRICS_ALLOWED_NETWORKS)"
    env = process_env(DEBUG="false", METRICS_TOKEN="")
    env.pop("METRICS_ALLOWED_NETWORKS", None)
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "circles.settings"},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == "[]"


# --- they move ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_processing_an_upload_counts_by_format_and_outcome(open_metrics, media_storage):
    before = scrape()
    make_post(UserFactory(), files=[jpeg_upload()])
    after = scrape()
    ready = {"format": "jpeg", "outcome": "ready"}
    assert value(after, "circles_images_processed_total", **ready) == (
        value(before, "circles_images_processed_total", **ready) + 1
    )
    assert value(after, "circles_image_processing_seconds_count", **ready) == (
        value(before, "circles_image_processing_seconds_count", **ready) + 1
    )
    assert value(after, "circles_image_processing_seconds_sum", **ready) > value(
        before, "circles_image_processing_seconds_sum", **ready
    )


@pytest.mark.django_db
def test_a_corrupt_upload_counts_as_failed(open_metrics, media_storage):
    post = make_post(UserFactory(), process=False)
    image = post.images.get()
    media_storage.joinpath(image.original_key).write_bytes(b"\xff\xd8\xff" + b"\0" * 100)
    before = scrape()
    image_process(image_id=image.pk)
    failed = {"format": "jpeg", "outcome": "failed"}
    assert value(scrape(), "circles_images_processed_total", **failed) == (
        value(before, "circles_images_processed_total", **failed) + 1
    )


@pytest.mark.django_db
def test_a_like_counts_its_notification(
    open_metrics, media_storage, django_capture_on_commit_callbacks
):
    post = make_post(UserFactory())
    liker = UserFactory()
    before = scrape()
    with django_capture_on_commit_callbacks(execute=True):
        assert Api(liker).post(f"/posts/{post.pk}/like").status_code == 200
    labels = {"kind": "post_like", "outcome": "notified"}
    assert value(scrape(), "circles_notifications_total", **labels) == (
        value(before, "circles_notifications_total", **labels) + 1
    )


@pytest.mark.django_db
def test_a_429_counts_under_its_limit(open_metrics, settings, monkeypatch, media_storage):
    from circles import ratelimits

    settings.RATELIMIT_ENABLE = True
    monkeypatch.setitem(ratelimits.RATES, "like", "1/h")
    posts = [make_post(UserFactory()), make_post(UserFactory())]
    api = Api(UserFactory())
    before = scrape()
    assert api.post(f"/posts/{posts[0].pk}/like").status_code == 200
    assert api.post(f"/posts/{posts[1].pk}/like").status_code == 429
    after = scrape()
    assert value(after, "circles_ratelimit_rejections_total", limit="like") == (
        value(before, "circles_ratelimit_rejections_total", limit="like") + 1
    )
    assert value(after, "circles_ratelimit_rejections_total", limit="feed") == value(
        before, "circles_ratelimit_rejections_total", limit="feed"
    )


@pytest.mark.django_db
def test_reading_the_feed_twice_hits_the_card_cache(open_metrics, media_storage):
    author = UserFactory()
    make_post(author)
    assert Post.objects.count() == 1
    api = Api(author)
    before = scrape()
    api.get("/feed")
    middle = scrape()
    api.get("/feed")
    after = scrape()

    def card(samples, result):
        return value(samples, "circles_cache_lookups_total", cache="post_card", result=result)

    assert card(middle, "miss") == card(before, "miss") + 1
    assert card(after, "hit") == card(middle, "hit") + 1
    assert card(after, "miss") == card(middle, "miss")


@pytest.mark.django_db(transaction=True)
async def test_an_open_socket_is_counted_until_it_closes(open_metrics):
    from channels.db import database_sync_to_async

    user = await database_sync_to_async(UserFactory)()
    read = database_sync_to_async(scrape)
    before = await read()
    socket = await open_socket(user)
    during = await read()
    await socket.disconnect()
    after = await read()
    assert value(during, "circles_sockets_open") == value(before, "circles_sockets_open") + 1
    assert value(during, "circles_sockets_opened_total") == (
        value(before, "circles_sockets_opened_total") + 1
    )
    assert value(after, "circles_sockets_open") == value(before, "circles_sockets_open")


def test_a_waiting_task_shows_in_the_queue_depth(open_metrics):
    from circles.tasks import heartbeat_task

    before = value(scrape(), "circles_queue_depth", queue="celery")
    heartbeat_task.apply_async(args=["metrics-test"])  # no worker consumes this Redis db
    assert value(scrape(), "circles_queue_depth", queue="celery") == before + 1


def test_a_failing_task_is_counted(open_metrics):
    from media.tasks import image_process_task

    before = scrape()
    image_process_task.apply(args=["not-an-id"])  # runs here; fails for good
    name = "circles_task_failures_total"
    assert value(scrape(), name, task="media.image_process") == (
        value(before, name, task="media.image_process") + 1
    )


def test_counts_of_other_processes_add_up_through_redis(open_metrics):
    """Another process (a Celery pool process, another web worker) counts into Redis;
    this one's scrape reads the deployment's total."""
    before = value(scrape(), "circles_messages_sent_total")
    code = (
        "import django; django.setup(); from circles import metrics; "
        "[metrics.MESSAGES_SENT.inc() for _ in range(3)]; metrics.SOCKETS_OPEN.inc(); "
        "metrics.flush()"
    )
    subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT,
        env={**process_env(), "DJANGO_SETTINGS_MODULE": "circles.settings"}, check=True,
    )  # fmt: skip
    samples = scrape()
    assert value(samples, "circles_messages_sent_total") == before + 3
    # the other process has ended without closing its socket count: it is counted until
    # it is not heard from for LIVE_SECONDS
    assert value(samples, "circles_sockets_open") >= 1


def test_storage_is_measured_by_kind(open_metrics, media_storage, db):
    from media.services import storage_measure

    make_post(UserFactory())
    totals = storage_measure()
    samples = scrape()
    assert totals["originals"]["files"] == 1 and totals["renditions"]["files"] == 8
    assert value(samples, "circles_storage_bytes", kind="originals") == totals["originals"]["bytes"]
    assert value(samples, "circles_storage_objects", kind="renditions") == 8


def test_a_histogram_is_cumulative_by_bucket(open_metrics):
    metrics.IMAGE_PROCESSING_SECONDS.observe(0.2, format="test", outcome="ready")
    metrics.IMAGE_PROCESSING_SECONDS.observe(3, format="test", outcome="ready")
    samples = scrape()
    labels = {"format": "test", "outcome": "ready"}
    bucket = "circles_image_processing_seconds_bucket"
    assert value(samples, bucket, le="0.1", **labels) == 0
    assert value(samples, bucket, le="0.25", **labels) == 1
    assert value(samples, bucket, le="4.0", **labels) == 2
    assert value(samples, bucket, le="+Inf", **labels) == 2


def test_counts_wait_out_a_redis_outage(open_metrics):
    from django.test import override_settings

    from circles import cache as soft
    from tests.conftest import DEAD_REDIS

    dead = {
        "default": {
            "BACKEND": "circles.cache.FailSoftRedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    before = value(scrape(), "circles_messages_sent_total")
    with override_settings(CACHES=dead):
        metrics.MESSAGES_SENT.inc(2)
        assert Client().get("/metrics").status_code == 200  # answers, without the totals
        assert soft.available()  # counting never makes the cache back off
    assert value(scrape(), "circles_messages_sent_total") == before + 2


def test_a_retried_task_is_counted(open_metrics, settings):
    """A storage outage makes the delete task retry (run here, eagerly: each retry at
    once, up to its max_retries), then fail for good."""
    from media.tasks import files_delete_task
    from tests.media.conftest import s3_storages

    settings.STORAGES = s3_storages("http://127.0.0.1:1", "nowhere", read_timeout=0.5)
    before = scrape()
    files_delete_task.apply(args=[["originals/ab/gone.jpg"]])
    after = scrape()
    retries = value(after, "circles_task_retries_total", task="media.files_delete") - value(
        before, "circles_task_retries_total", task="media.files_delete"
    )
    assert retries == files_delete_task.max_retries
    assert value(after, "circles_task_failures_total", task="media.files_delete") == (
        value(before, "circles_task_failures_total", task="media.files_delete") + 1
    )
