"""What the stats page and GET /api/v1/admin/stats show: counts from the database, the
Celery queue from the broker, open sockets from presence. One function, two edges."""

import json
import logging
import time
from datetime import UTC, date, datetime, timedelta

import redis
from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Circle, User
from albums.models import Album, AlbumItem
from circles.celery import app as celery_app
from media.models import Image, ImageState
from messaging import presence
from messaging.models import Conversation, Message
from notifications.models import Notification
from posts.models import Comment, Post, PostImage
from stories.models import Story

logger = logging.getLogger(__name__)

ACTIVE_WINDOWS = (1, 7, 30)
CHART_DAYS = 30
FAILURE_REASONS_SHOWN = 10
# kombu's Redis transport keeps priorities 3, 6, 9 in sibling lists named with this separator
_PRIORITY_SEP = "\x06\x16"
_PRIORITY_STEPS = ("", "3", "6", "9")


def _active_since(cutoff) -> Q:
    """Signed in, posted, commented, sent a message or a story since cutoff."""
    acted = [
        Exists(Post.objects.filter(author=OuterRef("pk"), created_at__gte=cutoff)),
        Exists(Comment.objects.filter(author=OuterRef("pk"), created_at__gte=cutoff)),
        Exists(Message.objects.filter(sender=OuterRef("pk"), created_at__gte=cutoff)),
        Exists(Story.objects.filter(author=OuterRef("pk"), created_at__gte=cutoff)),
    ]
    condition = Q(last_login__gte=cutoff)
    for exists in acted:
        condition |= Q(exists)
    return condition


def people_stats(now) -> dict:
    windows = {
        f"active_{days}d": Count("pk", filter=_active_since(now - timedelta(days=days)))
        for days in ACTIVE_WINDOWS
    }
    return User.objects.aggregate(
        total=Count("pk"),
        banned=Count("pk", filter=Q(is_active=False)),
        new_this_week=Count("pk", filter=Q(date_joined__gte=now - timedelta(days=7))),
        **windows,
    )


def content_stats(now) -> dict:
    return {
        "posts": Post.objects.count(),
        "photos": PostImage.objects.count(),
        "stories": Story.objects.count(),
        "stories_live": Story.objects.active(now=now).count(),
        "messages": Message.objects.count(),
        "conversations": Conversation.objects.count(),
        "circles": Circle.objects.count(),
        "albums": Album.objects.count(),
        "album_photos": AlbumItem.objects.count(),
        "notifications": Notification.objects.count(),
    }


def image_stats(now) -> dict:
    by_state = dict.fromkeys(ImageState.values, 0)
    for row in Image.objects.values("state").annotate(n=Count("pk")).order_by():
        by_state[row["state"]] = row["n"]
    failed = Image.objects.filter(state=ImageState.FAILED, updated_at__gte=now - timedelta(days=1))
    reasons = (failed.values("error").annotate(count=Count("pk")).order_by("-count", "error"))[
        :FAILURE_REASONS_SHOWN
    ]
    return {
        "by_state": by_state,
        "failed_last_day": failed.count(),
        "failure_reasons": [
            {"reason": r["error"] or "(none)", "count": r["count"]} for r in reasons
        ],
    }


def storage_stats() -> dict:
    sums = Image.objects.aggregate(
        originals=Sum("original_bytes"),
        renditions=Sum("renditions_bytes"),
        unmeasured=Count("pk", filter=Q(original_bytes__isnull=True)),
    )
    return {
        "originals_bytes": sums["originals"] or 0,
        "renditions_bytes": sums["renditions"] or 0,
        # stored before sizes were recorded: not counted above
        "images_unmeasured": sums["unmeasured"],
    }


def queue_stats() -> dict:
    """Tasks waiting in the broker and how long the oldest has waited. With the embedded
    defaults tasks run in-process: there is no queue to read."""
    broker = settings.CELERY_BROKER_URL or ""
    if not broker.startswith(("redis://", "rediss://")):
        return {"available": False, "depth": None, "oldest_waiting_seconds": None}
    queue = celery_app.conf.task_default_queue or "celery"
    keys = [queue + (f"{_PRIORITY_SEP}{step}" if step else "") for step in _PRIORITY_STEPS]
    try:
        client = redis.Redis.from_url(broker, socket_connect_timeout=1, socket_timeout=2)
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.llen(key)
            pipe.lindex(key, -1)  # workers pop from the right: the oldest waits there
        replies = pipe.execute()
    except (redis.RedisError, OSError):
        logger.warning("queue stats unavailable", exc_info=True)
        return {"available": False, "depth": None, "oldest_waiting_seconds": None}
    depth = sum(replies[0::2])
    sent = [_sent_at(raw) for raw in replies[1::2] if raw]
    sent = [t for t in sent if t is not None]
    oldest = round(max(0.0, time.time() - min(sent)), 1) if sent else None
    return {"available": True, "depth": depth, "oldest_waiting_seconds": oldest}


def _sent_at(raw: bytes) -> float | None:
    """The publish time circles.celery stamps on every task (header sent_at)."""
    try:
        return float(json.loads(raw)["headers"]["sent_at"])
    except (ValueError, KeyError, TypeError):
        return None


def _daily(queryset, field: str, since) -> dict[date, int]:
    rows = (
        queryset.filter(**{f"{field}__gte": since})
        .annotate(day=TruncDate(field, tzinfo=UTC))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["day"]: row["n"] for row in rows}


def chart_series(now) -> dict:
    """Per day, the last CHART_DAYS days (UTC), oldest first."""
    today = now.astimezone(UTC).date()
    days = [today - timedelta(days=back) for back in range(CHART_DAYS - 1, -1, -1)]
    since = datetime.combine(days[0], datetime.min.time(), tzinfo=UTC)
    sources = {
        "new_people": (User.objects.all(), "date_joined"),
        "posts": (Post.objects.all(), "created_at"),
        "messages": (Message.objects.all(), "created_at"),
        "stories": (Story.objects.all(), "created_at"),
    }
    series = {}
    for name, (queryset, field) in sources.items():
        counts = _daily(queryset, field, since)
        series[name] = [{"day": day.isoformat(), "count": counts.get(day, 0)} for day in days]
    return series


def stats_collect(*, now=None) -> dict:
    """Every figure the operators' stats page shows."""
    now = now or timezone.now()
    return {
        "generated_at": now.isoformat(),
        "people": people_stats(now),
        "content": content_stats(now),
        "images": image_stats(now),
        "storage": storage_stats(),
        "queue": queue_stats(),
        "sockets": {"open": presence.socket_count()},
        "daily": chart_series(now),
    }


# --- charts: inline SVG, drawn on the server (the site's CSP allows no inline script) ---

CHART_WIDTH, CHART_HEIGHT, BAR_GAP = 300, 60, 2


def chart_bars(points: list[dict]) -> dict:
    """Bar geometry for one daily series, for templates/staff/_chart.html."""
    peak = max((p["count"] for p in points), default=0)
    step = CHART_WIDTH / max(len(points), 1)
    bars = []
    for index, point in enumerate(points):
        height = round(point["count"] / peak * CHART_HEIGHT, 1) if peak else 0
        bars.append(
            {
                "x": round(index * step, 1),
                "y": round(CHART_HEIGHT - height, 1),
                "width": round(step - BAR_GAP, 1),
                "height": height,
                "label": f"{point['day']}: {point['count']}",
            }
        )
    total = sum(p["count"] for p in points)
    return {
        "bars": bars,
        "peak": peak,
        "total": total,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
    }
