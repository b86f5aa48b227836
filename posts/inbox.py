"""Per-person feed candidates in Redis, filled on write: a cache of who wrote what.

A person's list, `feed:inbox:<id>`, is a sorted set of the newest INBOX_SIZE posts
written by them or by the people they follow (score: created_at in microseconds, member:
that time and the post id), read instead of posts.selectors.feed._feed_candidates' LATERAL
query: 0.7–1 ms against 2.6–3 ms on the bench VM (bench/cases/feed.py). It says nothing
about who may see a post: every page still asks Post.objects.visible_to, so a stale list
can show a post late or not at all, never to someone it is hidden from.

Kept right by:
- a new post is added to its author's and their followers' lists (post_added, after the
  commit), only to lists that were built (empty ones too), so a list is never partial;
- a deleted post is taken out of them (post_removed); the page query skips it anyway;
- who a person follows is fingerprinted (count and a sum of hashes of the people followed,
  from the follow table's index) and stored with the list: a follow, unfollow, approval or
  block changes the fingerprint, and the next read rebuilds the list from PostgreSQL — no
  call from accounts' services needed;
- a rebuild stores its list only if no post was added to that person's list meanwhile
  (a version counter), so it cannot overwrite a newer post with an older snapshot.

Without Redis, on SQLite, or when a page goes past a list's end, the LATERAL query
answers. A list expires a day after it was built.
"""

import logging
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from circles import cache as soft
from circles import metrics
from circles.cache import ERRORS

logger = logging.getLogger(__name__)

INBOX_SIZE = 500
INBOX_SECONDS = 24 * 3600
_EXTRA = 8  # read past the cursor's score, for posts created in the same microsecond
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CHUNK = 500  # lists per script call when a post fans out

# KEYS: list, meta, version; ARGV: version read before the rebuild, fingerprint, complete,
# seconds, then score, member pairs. Stores only if nothing was added since.
_STORE = """
if (redis.call('get', KEYS[3]) or '0') ~= ARGV[1] then return 0 end
redis.call('del', KEYS[1])
for i = 5, #ARGV, 2 do redis.call('zadd', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('hset', KEYS[2], 'fingerprint', ARGV[2], 'complete', ARGV[3])
redis.call('expire', KEYS[1], ARGV[4])
redis.call('expire', KEYS[2], ARGV[4])
return 1
"""
# KEYS: list, meta, version for each person; ARGV: score, member, size, seconds. A built
# list is known by its meta: an empty list is no key at all in Redis.
_ADD = """
for i = 1, #KEYS, 3 do
  redis.call('incr', KEYS[i + 2])
  redis.call('expire', KEYS[i + 2], ARGV[4])
  if redis.call('exists', KEYS[i + 1]) == 1 then
    redis.call('zadd', KEYS[i], ARGV[1], ARGV[2])
    if redis.call('ttl', KEYS[i]) < 0 then redis.call('expire', KEYS[i], ARGV[4]) end
    if redis.call('zcard', KEYS[i]) > tonumber(ARGV[3]) then
      redis.call('zremrangebyrank', KEYS[i], 0, -tonumber(ARGV[3]) - 1)
      redis.call('hset', KEYS[i + 1], 'complete', '0')
    end
  end
end
return 1
"""


def _keys(person_id) -> tuple[str, str, str]:
    return (f"feed:inbox:{person_id}", f"feed:inbox-meta:{person_id}", f"feed:inbox-v:{person_id}")


def _client():
    """The process's Redis client, or None when lists are off (no Redis, not PostgreSQL)."""
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        return None
    if not soft.available():
        return None
    return cache._cache.get_client(write=True)


def _score(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(microseconds=1)


def _member(at: datetime, pk) -> str:
    # the time rides in the member too, so reads need no scores (half the reply to parse);
    # equal scores sort by member, as PostgreSQL sorts equal times by id
    return f"{_score(at)}:{pk}"


def _entry(member: bytes) -> tuple[datetime, uuid.UUID]:
    micros, _, pk = member.decode().partition(":")
    return _EPOCH + timedelta(microseconds=int(micros)), uuid.UUID(pk)


def _fingerprint(person_id) -> str:
    """Whom person follows, as a short string that changes with any follow or unfollow."""
    from accounts.models import Follow

    table = connection.ops.quote_name(Follow._meta.db_table)
    # a table name from model metadata; the value is a parameter
    sql = f"SELECT count(*), coalesce(sum(hashtextextended(following_id::text, 0)), 0) FROM {table} WHERE follower_id = %s"  # noqa: S608, E501
    with connection.cursor() as cursor:
        cursor.execute(sql, [person_id])
        count, total = cursor.fetchone()
    return f"{count}:{total}"


def candidates(*, viewer, before, count: int, rebuild) -> list[tuple] | None:
    """(created_at, id) of the newest `count` candidates older than `before`, from
    viewer's list, or None when the list can't answer (the caller asks PostgreSQL).
    `rebuild(count)` gives the newest `count` candidates from PostgreSQL."""
    client = _client()
    if client is None:
        return None
    limit = (before[0], uuid.UUID(str(before[1]))) if before else None
    key, meta, version = _keys(viewer.pk)
    try:
        fingerprint = _fingerprint(viewer.pk)
        pipe = client.pipeline(transaction=False)
        pipe.hmget(meta, "fingerprint", "complete")
        top = _score(limit[0]) if limit else "+inf"
        pipe.zrevrangebyscore(key, top, "-inf", start=0, num=count + _EXTRA)
        pipe.get(version)
        (stored, complete), rows, seen = pipe.execute()
        fresh = stored is not None and stored.decode() == fingerprint
        metrics.cache_lookups("feed_inbox", hits=int(fresh), misses=int(not fresh))
        if not fresh:
            return _rebuilt(
                client, viewer, fingerprint, (seen or b"0").decode(), rebuild, limit, count
            )
    except ERRORS:
        soft.mark_down()
        logger.warning("feed lists unavailable; asking PostgreSQL", exc_info=True)
        return None
    entries = [_entry(member) for member in rows]
    if limit:
        entries = [entry for entry in entries if entry < limit]
    if len(entries) >= count:
        return entries[:count]
    if complete == b"1" and len(rows) < count + _EXTRA:
        return entries  # the list holds every candidate: this is the end of the feed
    return None


def _rebuilt(client, viewer, fingerprint: str, seen: str, rebuild, limit, count: int):
    fresh = [(at, uuid.UUID(str(pk))) for at, pk in rebuild(INBOX_SIZE)]
    complete = len(fresh) < INBOX_SIZE
    pairs = [value for at, pk in fresh for value in (_score(at), _member(at, pk))]
    args = [seen, fingerprint, "1" if complete else "0", INBOX_SECONDS, *pairs]
    client.eval(_STORE, 3, *_keys(viewer.pk), *args)
    entries = [entry for entry in fresh if entry < limit] if limit else fresh
    if len(entries) >= count or complete:
        return entries[:count]
    return None


def post_added(post) -> None:
    """Put a new post into its author's and followers' lists, after the commit."""
    at = post.created_at
    author_id, member, score = post.author_id, _member(at, post.pk), _score(at)
    transaction.on_commit(lambda: _fan_out(author_id, member, score))


def post_removed(post) -> None:
    """Take a deleted post out of the lists, after the commit."""
    author_id, member = post.author_id, _member(post.created_at, post.pk)  # delete() clears pk
    transaction.on_commit(lambda: _remove(author_id, member))


def _audience(author_id) -> list:
    from accounts.models import Follow

    return [
        author_id,
        *Follow.objects.filter(following_id=author_id).values_list("follower_id", flat=True),
    ]


def _fan_out(author_id, member: str, score: int) -> None:
    client = _client()
    if client is None:
        return
    try:
        people = _audience(author_id)
        for start in range(0, len(people), _CHUNK):
            keys = [k for person in people[start : start + _CHUNK] for k in _keys(person)]
            client.eval(_ADD, len(keys), *keys, score, member, INBOX_SIZE, INBOX_SECONDS)
    except ERRORS:
        soft.mark_down()
        logger.warning("feed lists: a new post was not added", exc_info=True)


def _remove(author_id, member: str) -> None:
    client = _client()
    if client is None:
        return
    try:
        pipe = client.pipeline(transaction=False)
        for person in _audience(author_id):
            pipe.zrem(_keys(person)[0], member)
        pipe.execute()
    except ERRORS:
        soft.mark_down()
        logger.warning("feed lists: a deleted post was not removed", exc_info=True)


def forget_all() -> None:
    """Drop every list (after posts were written around post_added, as seed_posts does)."""
    client = _client()
    if client is None:
        return
    try:
        keys = list(client.scan_iter("feed:inbox*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    except ERRORS:
        soft.mark_down()
        logger.warning("feed lists: could not be dropped", exc_info=True)
