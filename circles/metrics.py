"""Application metrics: every one defined here, counted anywhere, served at /metrics.

Circles runs many processes — uvicorn workers and Celery pool processes, on one host or
several — and prometheus_client keeps its values per process, so a scrape of one web
worker would see a fraction of the sockets and none of the images (the worker renders
them). prometheus_client's multiprocess mode shares values through files in one
directory, which only works on one host; the architecture lets processes share only
PostgreSQL, Redis and the object store. So the application metrics are counted in Redis:

- each process adds to its counters in memory (no round trip on a request's path) and
  a daemon thread adds them to Redis every FLUSH_SECONDS (and a Celery task's after the
  task), with HINCRBYFLOAT into one hash: totals of the whole deployment;
- a *live* gauge (open sockets) is each process's own value, written under the process
  with a time; a process not heard from for LIVE_SECONDS (killed) no longer counts;
- a *shared* gauge (storage bytes) is one value written by whoever measured it last;
- values read at scrape time (queue depth) are read then, by a collector;
- without Redis (`make run`: one process, tasks in-process) the process's own values
  are the totals.

A process that dies loses at most FLUSH_SECONDS of counts. django-prometheus's generic
request and process metrics stay per process (whichever web worker answers the scrape).
"""

import ipaddress
import json
import logging
import os
import secrets
import socket
import threading
import time
from collections import defaultdict

from django.conf import settings
from django.core.cache import cache
from django.http import Http404
from django.views.decorators.cache import never_cache
from prometheus_client import REGISTRY
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.utils import floatToGoString

from circles import cache as soft

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 2.0
LIVE_SECONDS = 15.0
_COUNTERS_KEY = "circles:metrics:counters"
_SHARED_KEY = "circles:metrics:shared"
_LIVE_INDEX_KEY = "circles:metrics:processes"
_LIVE_KEY = "circles:metrics:live:"


class _Metric:
    kind = ""

    def __init__(self, name: str, documentation: str, labels: tuple[str, ...] = ()):
        self.name, self.documentation, self.labels = name, documentation, tuple(labels)
        _METRICS.append(self)

    def _values(self, labels: dict) -> tuple[str, ...]:
        if set(labels) != set(self.labels):
            raise ValueError(f"{self.name} takes labels {self.labels}, not {tuple(labels)}")
        return tuple(str(labels[name]) for name in self.labels)


_METRICS: list[_Metric] = []


class Counter(_Metric):
    """Only goes up; Prometheus' rate() turns it into per second."""

    kind = "counter"

    def inc(self, amount: float = 1, **labels) -> None:
        _store.add(self.name, self._values(labels), "", amount)


class Histogram(_Metric):
    """Observations in fixed buckets, with their sum and count."""

    kind = "histogram"

    def __init__(self, name, documentation, labels=(), *, buckets: tuple[float, ...]):
        super().__init__(name, documentation, labels)
        # as Prometheus writes them: 1 -> "1.0", the last "+Inf"
        self.bounds = tuple(floatToGoString(b) for b in sorted(map(float, buckets)))
        self.buckets = tuple(sorted(map(float, buckets)))

    def observe(self, value: float, **labels) -> None:
        values = self._values(labels)
        slot = next((floatToGoString(b) for b in self.buckets if value <= b), "+Inf")
        _store.add(self.name, values, f"le={slot}", 1)
        _store.add(self.name, values, "sum", value)


class LiveGauge(_Metric):
    """A value each process holds for itself (its open sockets); the deployment's value is
    the sum over the processes alive."""

    kind = "live"

    def inc(self, amount: float = 1, **labels) -> None:
        _store.live_add(self.name, self._values(labels), amount)

    def dec(self, amount: float = 1, **labels) -> None:
        _store.live_add(self.name, self._values(labels), -amount)


class SharedGauge(_Metric):
    """One value for the deployment, set by whoever measured it last (storage bytes)."""

    kind = "shared"

    def set(self, value: float, **labels) -> None:
        _store.shared_set(self.name, self._values(labels), value)


# --- the metrics ------------------------------------------------------------------------

IMAGE_PROCESSING_SECONDS = Histogram(
    "circles_image_processing_seconds",
    "Time to render one image's renditions, by uploaded format and outcome.",
    ("format", "outcome"),
    buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64),
)
IMAGES_PROCESSED = Counter(
    "circles_images_processed",
    "Images processed, by uploaded format and outcome (ready, failed, retry).",
    ("format", "outcome"),
)
TASK_RETRIES = Counter("circles_task_retries", "Celery task retries, by task.", ("task",))
TASK_FAILURES = Counter(
    "circles_task_failures", "Celery tasks that failed for good, by task.", ("task",)
)
SOCKETS_OPEN = LiveGauge("circles_sockets_open", "WebSockets open now (signed-in people).")
SOCKETS_OPENED = Counter("circles_sockets_opened", "WebSockets accepted for a signed-in person.")
MESSAGES_SENT = Counter("circles_messages_sent", "Chat messages sent (API and sockets).")
CACHE_LOOKUPS = Counter(
    "circles_cache_lookups",
    "Lookups in the feed's and cards' Redis caches, by cache and result (hit, miss).",
    ("cache", "result"),
)
NOTIFICATIONS = Counter(
    "circles_notifications",
    "Notifications fanned out, by kind and outcome (notified, skipped, failed).",
    ("kind", "outcome"),
)
RATELIMIT_REJECTIONS = Counter(
    "circles_ratelimit_rejections", "Requests refused by a rate limit, by limit.", ("limit",)
)
STORAGE_BYTES = SharedGauge(
    "circles_storage_bytes",
    "Bytes in media storage, by kind (originals, renditions), as last measured.",
    ("kind",),
)
STORAGE_OBJECTS = SharedGauge(
    "circles_storage_objects", "Files in media storage, by kind, as last measured.", ("kind",)
)


def cache_lookups(cache_name: str, *, hits: int, misses: int) -> None:
    """Count a batch lookup of a cache (get_many of a page's cards)."""
    if hits:
        CACHE_LOOKUPS.inc(hits, cache=cache_name, result="hit")
    if misses:
        CACHE_LOOKUPS.inc(misses, cache=cache_name, result="miss")


# --- where values are kept --------------------------------------------------------------


def _redis():
    """The process's Redis client, or None (no Redis configured, or backing off)."""
    if not settings.REDIS_URL or not soft.available():
        return None
    return cache._cache.get_client(write=True)


def _field(name: str, values: tuple[str, ...], part: str) -> str:
    return json.dumps([name, list(values), part], separators=(",", ":"))


class _Store:
    def __init__(self):
        self.lock = threading.Lock()
        self.pending: dict[str, float] = defaultdict(float)  # field -> amount not yet in Redis
        self.live: dict[str, float] = defaultdict(float)  # field -> this process's value
        self.shared: dict[str, float] = {}
        self.pid = 0
        self.process_id = ""
        self.failing = False  # log an outage once, not every flush

    def _started(self) -> None:
        """Start this process's flusher (once per process: Celery forks its pool)."""
        if self.pid == os.getpid():
            return
        with self.lock:
            if self.pid == os.getpid():
                return
            if self.pid:  # a forked child: the parent's counts are the parent's to send
                self.pending.clear()
                self.live.clear()
            self.pid = os.getpid()
            self.process_id = f"{socket.gethostname()}:{self.pid}:{secrets.token_hex(3)}"
        if settings.REDIS_URL:
            threading.Thread(target=self._flush_forever, name="metrics", daemon=True).start()

    def add(self, name, values, part, amount) -> None:
        self._started()
        with self.lock:
            self.pending[_field(name, values, part)] += amount

    def live_add(self, name, values, amount) -> None:
        self._started()
        with self.lock:
            self.live[_field(name, values, "")] += amount

    def shared_set(self, name, values, value) -> None:
        self._started()
        with self.lock:
            self.shared[_field(name, values, "")] = value
        self.flush()

    def _flush_forever(self) -> None:
        while True:
            time.sleep(FLUSH_SECONDS)
            self.flush()

    def flush(self) -> None:
        """Add this process's counts to Redis; kept for the next try if Redis fails."""
        client = _redis()
        if client is None:
            return
        with self.lock:
            pending, self.pending = self.pending, defaultdict(float)
            live, shared = dict(self.live), dict(self.shared)
            self.shared.clear()
        if not (pending or live or shared):
            return
        try:
            pipe = client.pipeline(transaction=False)
            for field, amount in pending.items():
                pipe.hincrbyfloat(_COUNTERS_KEY, field, amount)
            if shared:
                pipe.hset(_SHARED_KEY, mapping=shared)
            if live:
                key = _LIVE_KEY + self.process_id
                pipe.delete(key)
                pipe.hset(key, mapping=live)
                pipe.expire(key, int(LIVE_SECONDS * 2))
                pipe.zadd(_LIVE_INDEX_KEY, {self.process_id: time.time()})
            pipe.execute()
            self.failing = False
        except soft.ERRORS as exc:
            # not soft.mark_down(): counting must never make the cache back off. One line
            # an outage, no traceback: Redis being away is not a fault of this code.
            if not self.failing:
                logger.warning(
                    "metrics: could not write to Redis (%s: %s); keeping them",
                    type(exc).__name__,
                    exc,
                )
            self.failing = True
            with self.lock:
                for field, amount in pending.items():
                    self.pending[field] += amount
                for field, value in shared.items():
                    self.shared.setdefault(field, value)

    def totals(self) -> tuple[dict, dict, dict]:
        """(counters, live gauges, shared gauges) of the deployment: field -> value."""
        self.flush()
        client = _redis()
        if client is None:
            with self.lock:
                return dict(self.pending), dict(self.live), dict(self.shared)
        try:
            cutoff = time.time() - LIVE_SECONDS
            client.zremrangebyscore(_LIVE_INDEX_KEY, "-inf", cutoff)
            processes = [p.decode() for p in client.zrange(_LIVE_INDEX_KEY, 0, -1)]
            pipe = client.pipeline(transaction=False)
            pipe.hgetall(_COUNTERS_KEY)
            pipe.hgetall(_SHARED_KEY)
            for process_id in processes:
                pipe.hgetall(_LIVE_KEY + process_id)
            counters, shared, *lives = pipe.execute()
        except soft.ERRORS:
            logger.warning("metrics: could not read Redis", exc_info=True)
            return {}, {}, {}
        live: dict[str, float] = defaultdict(float)
        for values in lives:
            for field, value in values.items():
                live[field.decode()] += float(value)
        with self.lock:  # this process's own, even if its last write has not landed
            if self.process_id not in processes:
                for field, value in self.live.items():
                    live[field] += value

        def decoded(raw):
            return {field.decode(): float(value) for field, value in raw.items()}

        return decoded(counters), dict(live), decoded(shared)


_store = _Store()


def flush() -> None:
    """Send this process's counts now (after a Celery task, before a process ends)."""
    _store.flush()


# --- the collector /metrics reads -------------------------------------------------------


def _queue_depths():
    """Jobs waiting in the Celery broker's lists, read at scrape time."""
    client = _redis()
    if client is None:
        return None
    # kombu's Redis transport keeps a queue as a list named after it, plus one list per
    # priority step ("celery\x06\x163"...); jobs taken but not acknowledged sit in a hash
    queues = {settings.CELERY_TASK_DEFAULT_QUEUE}
    names = {queue: [queue, *(f"{queue}\x06\x16{step}" for step in (3, 6, 9))] for queue in queues}
    pipe = client.pipeline(transaction=False)
    for lists in names.values():
        for name in lists:
            pipe.llen(name)
    pipe.hlen("unacked")
    answers = pipe.execute()
    depths, at = {}, 0
    for queue, lists in names.items():
        depths[queue] = sum(answers[at : at + len(lists)])
        at += len(lists)
    return depths, answers[-1]


class Collector:
    """Turns the totals into Prometheus families at scrape time."""

    def collect(self):
        counters, live, shared = _store.totals()
        by_name: dict[str, dict] = defaultdict(dict)
        for source in (counters, live, shared):
            for field, value in source.items():
                name, values, part = json.loads(field)
                by_name[name][(tuple(values), part)] = value
        for metric in _METRICS:
            found = by_name.get(metric.name, {})
            if metric.kind == "counter":
                family = CounterMetricFamily(
                    metric.name, metric.documentation, labels=metric.labels
                )
                for (values, _), value in sorted(found.items()):
                    family.add_metric(list(values), value)
            elif metric.kind == "histogram":
                family = HistogramMetricFamily(
                    metric.name, metric.documentation, labels=metric.labels
                )
                for values in sorted({values for values, _ in found}):
                    buckets, total = [], 0.0
                    for bound in [*metric.bounds, "+Inf"]:
                        total += found.get((values, f"le={bound}"), 0.0)
                        buckets.append((bound, total))
                    family.add_metric(list(values), buckets, found.get((values, "sum"), 0.0))
            else:
                family = GaugeMetricFamily(metric.name, metric.documentation, labels=metric.labels)
                for (values, _), value in sorted(found.items()):
                    family.add_metric(list(values), value)
                if not metric.labels and not found and metric.kind == "live":
                    family.add_metric([], 0.0)
            yield family
        yield from self._queue()

    def _queue(self):
        try:
            read = _queue_depths()
        except soft.ERRORS:
            logger.warning("metrics: could not read the queue depth", exc_info=True)
            return
        if read is None:
            return
        depths, unacked = read
        family = GaugeMetricFamily(
            "circles_queue_depth", "Celery jobs waiting in the broker, by queue.", labels=["queue"]
        )
        for queue, depth in sorted(depths.items()):
            family.add_metric([queue], depth)
        yield family
        yield GaugeMetricFamily(
            "circles_queue_unacked",
            "Celery jobs taken by a worker and not yet acknowledged (running or prefetched).",
            value=unacked,
        )


_registered = False


def register() -> None:
    """Add the application metrics to the registry /metrics exports (once)."""
    global _registered
    if not _registered:
        REGISTRY.register(Collector())
        _registered = True


# --- who may read /metrics --------------------------------------------------------------


def _networks() -> list:
    return [ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOWED_NETWORKS]


def may_read(request) -> bool:
    """The bearer token, when one is configured, or an address in the allowed networks."""
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    offered = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    if token and offered and secrets.compare_digest(offered, token):
        return True
    address = getattr(request, "client_ip", None) or request.META.get("REMOTE_ADDR", "")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks())


@never_cache
def metrics_view(request):
    """/metrics for Prometheus, or 404 for anyone not allowed (it is not there for them)."""
    from django_prometheus.exports import ExportToDjangoView

    if not may_read(request):
        raise Http404
    register()
    return ExportToDjangoView(request)
