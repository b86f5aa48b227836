"""The home feed: its candidates, its compiled page query, and the first comments its cards
show. Lists are pages of posts loaded in a constant number of queries whatever the page
size; every post passes Post.objects.visible_to(viewer)."""

import functools
import uuid

from django.core.cache import cache
from django.db import connection
from django.db.models import F, Q, Window, prefetch_related_objects
from django.db.models.functions import RowNumber

from accounts.models import Follow, User
from circles import metrics
from circles.compiled import CompiledQuery
from circles.pagination import DEFAULT_LIMIT, MAX_LIMIT, PageResult, decode_cursor, encode_cursor
from posts import inbox
from posts.models import Comment, Post
from posts.selectors.posts import detail_prefetches, posts_with_summary

FEED_ROUNDS = 4  # candidate batches looked at for one page, at most
FEED_SLACK = 10  # extra candidates per batch, for posts the viewer may not see


def _feed_candidates(*, viewer, before, count: int) -> list[tuple]:
    """(created_at, id) of the newest `count` posts written by viewer or by people viewer
    follows, older than `before` ((created_at, id) or None), newest first.

    Who wrote them only: the caller applies the visibility rule. On PostgreSQL one
    LATERAL query walks each author's (author, created_at, id) index for at most `count`
    rows and merges them: ~2 ms for 150 follows, and it stays fast for people who follow
    few (a plain `author IN (...) ORDER BY created_at` walks the newest posts of everyone
    until it finds enough: ~270 ms for someone following two people in 200k posts).
    """
    if connection.vendor != "postgresql":
        authors = Follow.objects.filter(follower=viewer).values("following")
        posts = Post.objects.filter(Q(author=viewer) | Q(author__in=authors))
        if before:
            posts = posts.filter(
                Q(created_at__lt=before[0]) | Q(created_at=before[0], pk__lt=before[1])
            )
        return list(posts.order_by("-created_at", "-pk").values_list("created_at", "pk")[:count])
    quote = connection.ops.quote_name
    post, follow = quote(Post._meta.db_table), quote(Follow._meta.db_table)
    keyset = "AND (p.created_at, p.id) < (%s, %s)" if before else ""
    sql = f"""
        SELECT c.created_at, c.id
        FROM (SELECT following_id AS author_id FROM {follow} WHERE follower_id = %s
              UNION ALL SELECT %s) AS a
        CROSS JOIN LATERAL (
            SELECT p.created_at, p.id FROM {post} AS p
            WHERE p.author_id = a.author_id {keyset}
            ORDER BY p.created_at DESC, p.id DESC LIMIT %s
        ) AS c
        ORDER BY c.created_at DESC, c.id DESC LIMIT %s
    """  # noqa: S608 - table names from model metadata; values are parameters
    params = [viewer.pk, viewer.pk, *([before[0], uuid.UUID(str(before[1]))] if before else [])]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, count, count])
        return cursor.fetchall()


# What a feed card shows (API and page): a third of the columns posts_with_summary reads,
# and the rows' timestamps were a good part of parsing them.
_FEED_FIELDS = (
    *("caption", "location", "visibility", "status", "like_count", "comment_count"),
    *("created_at", "updated_at", "author__username", "author__display_name"),
    *("author__avatar_id", "circle__name"),
)


@functools.lru_cache(maxsize=256)
def _feed_page_query(batch: int, limit: int) -> CompiledQuery:
    """The page query for `batch` candidate ids, the first `limit` viewer may see, with
    posts_with_summary: compiled once per process (circles/compiled.py), as building and
    compiling the visibility rule cost more than running it."""

    def build(viewer, ids):
        posts = Post.objects.visible_to(User(pk=viewer)).filter(pk__in=ids)
        posts = posts_with_summary(posts, viewer=User(pk=viewer)).only(*_FEED_FIELDS)
        return posts.order_by("-created_at", "-pk")[:limit]

    return CompiledQuery(build, viewer="uuid", ids=("uuid", batch))


def post_list_for_feed(
    *, viewer, cursor: str | None = None, limit: int = DEFAULT_LIMIT, details: bool = True
):
    """The home feed: posts viewer may see by the people they follow and by themselves,
    newest first, keyset-paginated on (created_at, id) — new posts arriving while someone
    pages never repeat or shift a page.

    Candidates come newest first from `_feed_candidates` (who wrote them), then one
    query keeps those Post.objects.visible_to(viewer) allows, with everything a card
    shows. A batch with too few visible posts (circle posts viewer is not in, posts still
    processing) is followed by a bigger one, FEED_ROUNDS times at most: when even that is
    not enough the page is short and its cursor continues after the last post looked at.

    details=False loads posts_with_summary instead of posts_with_details (for posts.cards).

    The design, chosen by measurement (bench/cases/feed.py, "model/…" rows; 10k people,
    200k posts, 150 follows each; 2-core AMD EPYC, in process, 300 people):

    - pull, as here: candidates from PostgreSQL 1.4–1.6 ms p50 / 2.2–2.7 ms p95; the
      whole page (candidates + the visible_to page query) 9.5–9.8 ms p50 / 11–12 ms p95.
    - fan-out-on-write lists: candidates from a Redis sorted set 0.2–0.3 ms p50, the
      whole page 7.5–7.8 ms p50 / 10 ms p95 (visibility still has to be checked on read,
      so the page query stays); writing one post into 150 followers' lists 2.4–2.7 ms;
      65 KiB of Redis per 500-post list (~635 MiB for 10k people); and every change of
      who sees what (publish, follow, approve, unfollow, block, circle membership) would
      need a hook in accounts' and posts' services plus a backfill on follow.
    - a per-person page cache: 0.12 ms per hit, but with a TTL of ≤ 5 s (the freshness
      promise) it almost never hits — at 100 requests/s over 1,000 people one person
      asks every ~10 s.
    So the ~2 ms fan-out would save does not pay for its hooks, memory and staleness.
    What did pay: the per-post cards in Redis (posts.cards). Loading photos and mentions
    and serialising through PostOut (pydantic, 8 URL reversals a photo) made a page cost
    29–31 ms of CPU, 10.5 ms with the cards; rendering the carousels made the home page
    45 ms of CPU a request, 18.5 ms with them. Cached under keys that carry the post's
    updated_at and status, cards need no invalidation. Which posts a page holds is decided
    on every request, so new posts, follows, unfollows, blocks, deletions and visibility
    changes show at once (0 s, not 5), with no call from any service; with Redis down the
    cards are simply rebuilt. Two plans were rejected on the way: `author IN (follows)
    ORDER BY created_at` (17 ms p50, 270 ms for someone following two people) and
    visible_to as first written (690 ms p50: a hashed subplan over every user plus a JIT
    compile; see models.py).
    Later (slower VM, 2026-12-01): the page query is compiled once per process and only
    run per request (_feed_page_query, circles/compiled.py), and PostgreSQL keeps its plan
    (server-side binding): the feed API went from 31–39 to 14–19 ms a request in process,
    alternating old and new code. A bound on the candidates (each author's newest post
    first, then only posts newer than the 31st of those) left the candidates query's time
    unchanged (2–3 ms): its cost is the ~150 index probes, not the rows read. With the
    page query that cheap, the candidates were a third of the selector, and fan-out paid:
    candidates now come from per-person lists in Redis filled on write (posts/inbox.py,
    0.7–1 ms against 2.6–3 ms, and no PostgreSQL probes), with the LATERAL query as the
    fallback (no Redis, SQLite, past a list's end) and to build a list. The freshness
    promise holds without hooks in accounts: a list carries a fingerprint of whom its
    owner follows and is rebuilt when that changes.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    before = decode_cursor(cursor) if cursor else None
    want, batch = limit + 1, limit + 1 + FEED_SLACK
    found: list[Post] = []
    exhausted = False
    for _ in range(FEED_ROUNDS):
        candidates = inbox.candidates(
            viewer=viewer,
            before=before,
            count=batch,
            rebuild=lambda count: _feed_candidates(viewer=viewer, before=None, count=count),
        )
        if candidates is None:
            candidates = _feed_candidates(viewer=viewer, before=before, count=batch)
        if candidates:
            ids = [pk for _, pk in candidates]  # padded to the batch: one query per size
            found += _feed_page_query(batch, want - len(found)).run(viewer=viewer.pk, ids=ids)
            before = candidates[-1]
        if len(candidates) < batch:
            exhausted = True
            break
        if len(found) >= want:
            break
        batch *= 2
    if details:
        prefetch_related_objects(found, *detail_prefetches())
    items = found[:limit]
    if len(found) > limit:
        next_cursor = encode_cursor(items[-1].created_at, items[-1].pk)
    elif exhausted:
        next_cursor = None
    else:  # looked at FEED_ROUNDS batches: go on after the last candidate seen
        next_cursor = encode_cursor(before[0], before[1])
    return PageResult(items=items, next_cursor=next_cursor)


@functools.lru_cache(maxsize=16)
def _comments_shown_query(size: int) -> CompiledQuery:
    """Which of `size` comment ids Comment.objects.by_people_visible_to(viewer) allows,
    compiled once per process (circles/compiled.py); every feed page asks it."""
    return CompiledQuery(
        lambda viewer, ids: (
            Comment.objects.by_people_visible_to(User(pk=viewer))
            .filter(pk__in=ids)
            .values_list("pk")
        ),
        viewer="uuid",
        ids=("uuid", size),
    )


@functools.lru_cache(maxsize=16)
def _comments_shown_to_anyone_query(size: int) -> CompiledQuery:
    return CompiledQuery(
        lambda ids: Comment.objects.by_people_visible_to(None).filter(pk__in=ids).values_list("pk"),
        ids=("uuid", size),
    )


FIRST_COMMENTS_KEPT = 5  # per post in Redis: enough for two after a block hides some
FIRST_COMMENTS_SECONDS = 6 * 3600


def comments_attach_first(posts: list[Post], *, viewer, per_post: int = 2) -> list[Post]:
    """Set `first_comments` on each post: its oldest `per_post` top-level comments viewer
    may see, as {id, author: {username}, content}.

    The oldest FIRST_COMMENTS_KEPT of each post are kept in Redis under a key carrying the
    post's comment_count (a new or deleted comment makes a new key); misses are loaded in
    one query for the page. Whose comments viewer sees is then asked of the one rule,
    Comment.objects.by_people_visible_to, in one query over the kept ids — so a block or
    a ban shows on the next page, cached or not."""
    keys = {
        post.pk: f"post:first-comments:{post.pk}:{post.comment_count}"
        for post in posts
        if post.comment_count
    }
    cached = cache.get_many(list(keys.values()))
    kept = {pk: cached[key] for pk, key in keys.items() if key in cached}
    missing = [pk for pk in keys if pk not in kept]
    metrics.cache_lookups("first_comments", hits=len(kept), misses=len(missing))
    if missing:
        rank = Window(RowNumber(), partition_by=F("post_id"), order_by=[F("created_at"), F("pk")])
        comments = (
            Comment.objects.filter(post_id__in=missing, parent__isnull=True)
            .select_related("author")
            .annotate(rank=rank)
            .filter(rank__lte=FIRST_COMMENTS_KEPT)
            .order_by("post_id", "rank")
        )
        fresh: dict = {pk: [] for pk in missing}
        for comment in comments:
            fresh[comment.post_id].append(
                {
                    "id": str(comment.pk),
                    "author": {"username": comment.author.username},
                    "content": comment.content,
                }
            )
        kept.update(fresh)
        cache.set_many({keys[pk]: value for pk, value in fresh.items()}, FIRST_COMMENTS_SECONDS)
    kept_ids = [uuid.UUID(comment["id"]) for comments in kept.values() for comment in comments]
    visible = set()
    if kept_ids:
        # compiled for a few list sizes (8, 16, 32…); run() pads kept_ids to it
        size = 1 << max(3, (len(kept_ids) - 1).bit_length())
        if viewer is not None and viewer.is_authenticated:
            rows = _comments_shown_query(size).run(viewer=viewer.pk, ids=kept_ids)
        else:
            rows = _comments_shown_to_anyone_query(size).run(ids=kept_ids)
        visible = {str(pk) for (pk,) in rows}
    for post in posts:
        shown = [comment for comment in kept.get(post.pk, ()) if comment["id"] in visible]
        post.first_comments = shown[:per_post]
    return posts
