"""People to find: search by username or display name, and follow suggestions. Never
people with a block either way with the viewer, nor banned accounts."""

from django.contrib.postgres.lookups import TrigramWordSimilar
from django.contrib.postgres.search import TrigramWordSimilarity
from django.core.cache import cache
from django.db import connection
from django.db.models import Case, Count, F, Q, Value, When
from django.db.models.functions import Greatest

from accounts.models import Block, Follow, User
from accounts.selectors import user_annotate_profile
from posts.selectors.discovery import _search_term

SEARCH_USERS = 20
SUGGESTION_POOL = 300  # the most followed people, from which suggestions are picked
SUGGESTION_POOL_SECONDS = 600


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
