"""Discovery: explore (the week's most liked public posts) and hashtag search. Explore's
pages still pass Post.objects.visible_to(viewer) as things are now."""

import uuid
from datetime import timedelta

from django.core import signing
from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone

from circles.errors import ApiError
from circles.pagination import DEFAULT_LIMIT, MAX_LIMIT, PageResult
from posts.models import Hashtag, Post, Visibility
from posts.selectors.feed import FEED_ROUNDS, FEED_SLACK
from posts.selectors.posts import posts_with_details, posts_with_summary

EXPLORE_WINDOW = timedelta(days=7)
EXPLORE_SIZE = 600  # posts in one ranking
EXPLORE_FRESH_SECONDS = 60  # a new ranking at most this often
EXPLORE_KEEP_SECONDS = 30 * 60  # how long a ranking serves the cursors that walk it
_EXPLORE_SALT = "posts.explore"


def _explore_rank() -> list[str]:
    """Ids of the public posts of the last 7 days, most liked first. All their likes are
    from the last 7 days, so like_count is the count of likes in the window."""
    posts = Post.objects.public().filter(created_at__gte=timezone.now() - EXPLORE_WINDOW)
    posts = posts.order_by("-like_count", "-created_at", "-pk")
    return [str(pk) for pk in posts.values_list("pk", flat=True)[:EXPLORE_SIZE]]


def _explore_ranking(snapshot: str | None) -> tuple[str, list[str]]:
    """(snapshot id, ranked post ids). A ranking is computed at most once a minute and
    kept for half an hour in Redis, so a cursor walks the ranking it started on (no
    repeats, no gaps while likes come in). Without Redis, or once a ranking has expired,
    it is computed again: a cursor then goes on from its position in the new one."""
    if snapshot is None:
        snapshot = cache.get("explore:current")
    if snapshot is not None:
        ranking = cache.get(f"explore:ranking:{snapshot}")
        if ranking is not None:
            return snapshot, ranking
    snapshot, ranking = uuid.uuid4().hex[:12], _explore_rank()
    cache.set(f"explore:ranking:{snapshot}", ranking, EXPLORE_KEEP_SECONDS)
    cache.set("explore:current", snapshot, EXPLORE_FRESH_SECONDS)
    return snapshot, ranking


def post_list_for_explore(
    *, viewer, cursor: str | None = None, limit: int = DEFAULT_LIMIT, details: bool = True
):
    """Explore: recent public posts ranked by likes in the last 7 days. Never posts of
    private accounts, of people blocked either way, for followers or for a circle: the
    ranking holds public posts of public accounts only, and each page checks them again
    (with Post.objects.visible_to) as they are now."""
    limit = max(1, min(limit, MAX_LIMIT))
    snapshot, offset = None, 0
    if cursor:
        try:
            snapshot, offset = signing.loads(cursor, salt=_EXPLORE_SALT)
            offset = int(offset)
        except (signing.BadSignature, ValueError, TypeError) as exc:
            raise ApiError(400, "invalid_cursor", "The cursor is not valid.") from exc
    snapshot, ranking = _explore_ranking(snapshot)
    found: list[Post] = []
    position = offset
    for _ in range(FEED_ROUNDS):
        chunk = ranking[position : position + limit + 1 + FEED_SLACK]
        if not chunk:
            break
        posts = Post.objects.visible_to(viewer).filter(
            pk__in=chunk, visibility=Visibility.PUBLIC, author__is_private=False
        )
        load = posts_with_details if details else posts_with_summary
        visible = {str(post.pk): post for post in load(posts, viewer=viewer)}
        for index, pk in enumerate(chunk):
            if pk not in visible:
                continue
            if len(found) == limit:  # one more than the page: the next page starts here
                cursor = signing.dumps([snapshot, position + index], salt=_EXPLORE_SALT)
                return PageResult(items=found, next_cursor=cursor)
            found.append(visible[pk])
        position += len(chunk)
    more = position < len(ranking)
    cursor = signing.dumps([snapshot, position], salt=_EXPLORE_SALT) if more else None
    return PageResult(items=found, next_cursor=cursor)


SEARCH_MAX_LENGTH = 100
SEARCH_HASHTAGS = 10
HASHTAG_COUNT_SECONDS = 300


def _search_term(q: str | None, sigil: str) -> str:
    return (q or "").strip().lstrip(sigil).strip().lower()[:SEARCH_MAX_LENGTH]


def hashtag_list_for_search(*, q: str | None, limit: int = SEARCH_HASHTAGS) -> list[dict]:
    """Hashtags starting with q: [{name, post_count}], most used first. post_count counts
    the posts anyone may see (Post.objects.public()), recounted at most every 5 minutes."""
    term = _search_term(q, "#")
    if not term:
        return []
    tags = list(
        Hashtag.objects.filter(name__startswith=term)
        .order_by("name")
        .values_list("pk", "name")[:200]
    )
    keys = {pk: f"hashtag:count:{pk}" for pk, _ in tags}
    cached = cache.get_many(list(keys.values()))
    counts = {pk: cached[key] for pk, key in keys.items() if key in cached}
    missing = [pk for pk, _ in tags if pk not in counts]
    if missing:
        fresh = dict.fromkeys(missing, 0)
        rows = (
            Post.objects.public()
            .filter(post_hashtags__hashtag_id__in=missing)
            .values("post_hashtags__hashtag_id")
            .annotate(n=Count("*"))
            .values_list("post_hashtags__hashtag_id", "n")
        )
        fresh.update(rows)
        counts.update(fresh)
        cache.set_many({keys[pk]: n for pk, n in fresh.items()}, HASHTAG_COUNT_SECONDS)
    ranked = sorted(tags, key=lambda tag: (-counts[tag[0]], tag[1]))
    return [{"name": name, "post_count": counts[pk]} for pk, name in ranked[:limit]]
