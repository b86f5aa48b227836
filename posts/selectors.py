"""Reads about images and posts that carry a rule or feed a page. Every post read goes
through Post.objects.visible_to(viewer); hidden things raise Http404."""

import functools
import uuid
from datetime import timedelta

from django.contrib.postgres.lookups import TrigramWordSimilar
from django.contrib.postgres.search import TrigramWordSimilarity
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
    prefetch_related_objects,
)
from django.db.models.functions import Greatest, RowNumber
from django.http import Http404
from django.utils import timezone

from accounts.models import Block, Follow, User
from accounts.selectors import (
    block_exists_between,
    circle_get_for_member,
    count_of,
    user_annotate_profile,
    user_content_visible,
    user_get_visible,
)
from circles.compiled import CompiledQuery
from circles.errors import ApiError
from circles.links import reverse_with_id
from circles.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    PageResult,
    decode_cursor,
    encode_cursor,
    paginate,
)
from media.schemas import media_url_for_id
from notifications.registry import Target as NotificationTarget
from posts import inbox
from posts.models import (
    Bookmark,
    Comment,
    CommentLike,
    Hashtag,
    Like,
    Mention,
    Post,
    PostHashtag,
    PostImage,
    PostStatus,
    Visibility,
)


def _uuid(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise Http404 from exc


def detail_prefetches() -> list[Prefetch]:
    """A post card's photos (in order) and mentions, for prefetching."""
    return [
        Prefetch(
            "post_images",
            queryset=PostImage.objects.select_related("image").order_by("position"),
        ),
        Prefetch("mentions", queryset=Mention.objects.select_related("user")),
    ]


def posts_with_details(queryset: QuerySet, *, viewer) -> QuerySet:
    """Everything a post card shows, in a constant number of queries for any page size:
    posts_with_summary plus the photos and mentions."""
    return posts_with_summary(queryset, viewer=viewer).prefetch_related(*detail_prefetches())


def post_get_visible(*, viewer, post_id) -> Post:
    post = posts_with_details(Post.objects.visible_to(viewer), viewer=viewer).filter(
        pk=_uuid(post_id)
    )
    found = post.first()
    if found is None:
        raise Http404
    return found


def post_get_deletable(*, actor, post_id) -> Post:
    """A post actor may delete: one they can see, or any post for staff (moderation)."""
    if actor.is_staff:
        found = Post.objects.filter(pk=_uuid(post_id)).first()
        if found is None:
            raise Http404
        return found
    return post_get_visible(viewer=actor, post_id=post_id)


def post_list_for_author(*, viewer, author: User, cursor=None, limit=20) -> PageResult:
    posts = Post.objects.visible_to(viewer).filter(author=author)
    return paginate(posts_with_details(posts, viewer=viewer), cursor=cursor, limit=limit)


def comment_get_visible(*, viewer, comment_id) -> Comment:
    comment = (
        Comment.objects.visible_to(viewer)
        .select_related("post", "author")
        .filter(pk=_uuid(comment_id))
        .first()
    )
    if comment is None:
        raise Http404
    return comment


def comment_list_for_post(*, viewer, post: Post, parent_id=None, cursor=None, limit=20):
    """The comments (or one comment's replies) on a post the caller checked viewer may see."""
    comments = Comment.objects.by_people_visible_to(viewer).filter(post=post)
    comments = comments.select_related("author")
    if parent_id:
        comments = comments.filter(parent_id=_uuid(parent_id))
    else:
        comments = comments.filter(parent__isnull=True)
    if viewer is not None and viewer.is_authenticated:
        comments = comments.annotate(
            liked=Exists(CommentLike.objects.filter(comment=OuterRef("pk"), user=viewer))
        )
    return paginate(comments, cursor=cursor, limit=limit)


def post_image_visible(viewer, image) -> bool:
    """May viewer see a post photo? Exactly when they may see its post (the media purpose
    rule of post photos)."""
    return Post.objects.visible_to(viewer).filter(post_images__image=image).exists()


def post_list_for_circle(
    *, viewer, circle_id, cursor=None, limit=DEFAULT_LIMIT, details: bool = True
) -> tuple:
    """(the circle, a page of the posts shared to it, newest first) for its members;
    Http404 for anyone else (outsiders, pending invitees, unknown or malformed ids)."""
    circle = circle_get_for_member(circle_id=circle_id, viewer=viewer)
    posts = Post.objects.visible_to(viewer).filter(circle=circle, visibility=Visibility.CIRCLE)
    loaded = (posts_with_details if details else posts_with_summary)(posts, viewer=viewer)
    return circle, paginate(loaded, cursor=cursor, limit=limit)


def post_list_for_hashtag(*, viewer, name: str, cursor=None, limit=30) -> PageResult:
    posts = Post.objects.visible_to(viewer).filter(post_hashtags__hashtag__name=name.lower())
    return paginate(posts_with_details(posts, viewer=viewer), cursor=cursor, limit=limit)


# --- feed and discovery ---------------------------------------------------------------
# (issue 5) The home feed, explore, saved posts, search and follow suggestions. Lists are
# pages of posts loaded by posts_with_details, in a constant number of queries whatever
# the page size; every post passes Post.objects.visible_to(viewer).

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


def posts_with_summary(queryset: QuerySet, *, viewer) -> QuerySet:
    """posts_with_details without the photos and mentions (posts.cards keeps those in
    Redis): author, circle, and liked/bookmarked for a signed-in viewer, in the one query."""
    queryset = queryset.select_related("author", "circle")
    if viewer is None or not viewer.is_authenticated:
        return queryset
    return queryset.annotate(
        liked=Exists(Like.objects.filter(post=OuterRef("pk"), user=viewer)),
        bookmarked=Exists(Bookmark.objects.filter(post=OuterRef("pk"), user=viewer)),
    )


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


def post_list_saved(
    *, viewer, cursor: str | None = None, limit: int = DEFAULT_LIMIT, details: bool = True
):
    """The posts viewer saved and may still see, most recently saved first. details as
    for post_list_for_feed."""
    posts = (
        Post.objects.visible_to(viewer)
        .filter(bookmarks__user=viewer)
        .annotate(saved_at=F("bookmarks__created_at"))
    )
    posts = (posts_with_details if details else posts_with_summary)(posts, viewer=viewer)
    return paginate(posts, cursor=cursor, limit=limit, time_field="saved_at")


def post_list_for_profile(*, viewer, username: str, cursor=None, limit=DEFAULT_LIMIT):
    """A person's posts for GET /users/{username}/posts: Http404 when they are unknown,
    banned, or a block stands between you either way; PermissionDenied ("This account is
    private.") when the profile is visible but its posts are not (a private account you
    don't follow); else post_list_for_author."""
    author = user_get_visible(username=username, viewer=viewer)
    signed_in = viewer is not None and viewer.is_authenticated
    if signed_in and block_exists_between(user=viewer, other=author):
        raise Http404
    if not user_content_visible(viewer=viewer, owner=author):
        raise PermissionDenied("This account is private.")
    return post_list_for_author(viewer=viewer, author=author, cursor=cursor, limit=limit)


# --- explore ----------------------------------------------------------------------------

EXPLORE_WINDOW = timedelta(days=7)
EXPLORE_SIZE = 600  # posts in one ranking
EXPLORE_FRESH_SECONDS = 60  # a new ranking at most this often
EXPLORE_KEEP_SECONDS = 30 * 60  # how long a ranking serves the cursors that walk it
_EXPLORE_SALT = "posts.explore"


def _explore_rank() -> list[str]:
    """Ids of the public posts of the last 7 days, most liked first. All their likes are
    from the last 7 days, so like_count is the count of likes in the window."""
    posts = Post.objects.filter(
        status=PostStatus.PUBLISHED,
        visibility=Visibility.PUBLIC,
        author__is_active=True,
        author__is_private=False,
        created_at__gte=timezone.now() - EXPLORE_WINDOW,
    ).order_by("-like_count", "-created_at", "-pk")
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


# --- search and suggestions -------------------------------------------------------------

SEARCH_MAX_LENGTH = 100
SEARCH_USERS = 20
SEARCH_HASHTAGS = 10
HASHTAG_COUNT_SECONDS = 300
SUGGESTION_POOL = 300  # the most followed people, from which suggestions are picked
SUGGESTION_POOL_SECONDS = 600


def _search_term(q: str | None, sigil: str) -> str:
    return (q or "").strip().lstrip(sigil).strip().lower()[:SEARCH_MAX_LENGTH]


def _others_viewer_blocked(viewer):
    """People viewer blocked: search leaves them out too (User.objects.visible_to keeps
    them visible so they can be unblocked from their profile)."""
    return Block.objects.filter(blocker=viewer).values("blocked")


def user_list_for_search(
    *, viewer, q: str | None, limit: int = SEARCH_USERS, annotate: bool = False
) -> list[User]:
    """People whose username or display name starts like q or resembles it (trigram word
    similarity), usernames that start with q first, then the closest. Never people who
    blocked viewer or whom viewer blocked, nor banned accounts. annotate=True adds
    accounts' profile annotations (counts, relationship) for follow buttons.

    PostgreSQL serves it from GIN trigram indexes (migration posts 0002); elsewhere a
    plain startswith/icontains stands in."""
    term = _search_term(q, "@")
    if not term:
        return []
    users = User.objects.visible_to(viewer)
    if viewer is not None and viewer.is_authenticated:
        users = users.exclude(pk__in=_others_viewer_blocked(viewer))
    if annotate:
        users = user_annotate_profile(users, viewer=viewer)
    if connection.vendor != "postgresql":
        matches = users.filter(
            Q(username__startswith=term) | Q(display_name__icontains=term)
        ).annotate(prefix=Case(When(username__startswith=term, then=1), default=0))
        return list(matches.order_by("-prefix", "username")[:limit])
    matches = users.filter(
        Q(username__startswith=term)
        | TrigramWordSimilar(F("username"), Value(term))
        | TrigramWordSimilar(F("display_name"), Value(term))
    ).annotate(
        prefix=Case(When(username__startswith=term, then=1), default=0),
        closeness=Greatest(
            TrigramWordSimilarity(term, "username"), TrigramWordSimilarity(term, "display_name")
        ),
    )
    return list(matches.order_by("-prefix", "-closeness", "username")[:limit])


def hashtag_list_for_search(*, q: str | None, limit: int = SEARCH_HASHTAGS) -> list[dict]:
    """Hashtags starting with q: [{name, post_count}], most used first. post_count counts
    the posts anyone may see (published, public, by an active public account), recounted
    at most every 5 minutes."""
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
            PostHashtag.objects.filter(
                hashtag_id__in=missing,
                post__status=PostStatus.PUBLISHED,
                post__visibility=Visibility.PUBLIC,
                post__author__is_active=True,
                post__author__is_private=False,
            )
            .values("hashtag_id")
            .annotate(n=Count("*"))
            .values_list("hashtag_id", "n")
        )
        fresh.update(rows)
        counts.update(fresh)
        cache.set_many({keys[pk]: n for pk, n in fresh.items()}, HASHTAG_COUNT_SECONDS)
    ranked = sorted(tags, key=lambda tag: (-counts[tag[0]], tag[1]))
    return [{"name": name, "post_count": counts[pk]} for pk, name in ranked[:limit]]


def _most_followed_ids() -> list:
    pool = cache.get("suggestions:most-followed")
    if pool is None:
        pool = list(
            Follow.objects.filter(following__is_active=True, following__is_private=False)
            .values("following")
            .annotate(n=Count("*"))
            .order_by("-n")
            .values_list("following", flat=True)[:SUGGESTION_POOL]
        )
        cache.set("suggestions:most-followed", pool, SUGGESTION_POOL_SECONDS)
    return pool


def user_list_suggestions(*, viewer, limit: int = 6) -> list[User]:
    """People to follow: public, active accounts viewer doesn't follow yet, with no block
    either way, most followed first (from the few hundred most followed; the pool is
    recomputed every 10 minutes)."""
    pool = _most_followed_ids()
    if not pool:
        return []
    users = User.objects.content_visible_to(viewer).filter(pk__in=pool, is_private=False)
    if viewer is not None and viewer.is_authenticated:
        users = users.exclude(pk=viewer.pk).exclude(
            pk__in=Follow.objects.filter(follower=viewer).values("following")
        )
    users = user_annotate_profile(users, viewer=viewer)  # for their follow buttons
    rank = {pk: index for index, pk in enumerate(pool)}
    return sorted(users, key=lambda user: rank[user.pk])[:limit]


def user_posts_count(*, viewer):
    """posts_count of a user, as an annotation: their published posts viewer may see (so
    the count never reveals how many followers-only or circle posts someone has).
    Registered as a profile count (accounts.hooks.profile_counts)."""
    return count_of(Post.objects.visible_to(viewer).filter(status=PostStatus.PUBLISHED), "author")


# --- notifications' target types (registered in PostsConfig) ---------------------------


def _first_image_of(post_ref: str) -> Subquery:
    return Subquery(
        PostImage.objects.filter(post_id=OuterRef(post_ref), position=0).values("image_id")[:1]
    )


def post_notification_targets(viewer, ids) -> dict:
    """What a notification shows of these posts (one query): "photo", its page, its first
    photo's thumbnail. Visibility was asked before (Post.objects.visible_to)."""
    rows = Post.objects.filter(pk__in=ids).annotate(thumb=_first_image_of("pk"))
    return {
        post_id: NotificationTarget(
            label="photo",
            url=reverse_with_id("posts:detail", "post_id", post_id),
            thumbnail=media_url_for_id(thumb, "thumbnail", "jpeg") if thumb else None,
        )
        for post_id, thumb in rows.values_list("pk", "thumb")
    }


def comment_notification_targets(viewer, ids) -> dict:
    """What a notification shows of these comments (one query): "comment", its post's page
    at the comment, the post's thumbnail."""
    rows = Comment.objects.filter(pk__in=ids).annotate(thumb=_first_image_of("post_id"))
    return {
        comment_id: NotificationTarget(
            label="comment",
            url=reverse_with_id("posts:detail", "post_id", post_id) + f"#comment-{comment_id}",
            thumbnail=media_url_for_id(thumb, "thumbnail", "jpeg") if thumb else None,
        )
        for comment_id, post_id, thumb in rows.values_list("pk", "post_id", "thumb")
    }
