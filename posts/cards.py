"""Post objects of the API (PostOut, API.md "post") for lists, built fast.

Serialising a page of posts through PostOut costs more than finding them: pydantic
validation plus 8 URL reversals per photo, ~25 ms for 20 posts on the bench machine.
Most of a post object never changes once the post is published — its photos
(ImageOut, with their URLs) and its caption_html — so that part, the *card*, is kept in
Redis per post, under a key made of the post's id, updated_at and status: a post that
changes gets a new key, and old keys expire by themselves (CARD_SECONDS). Everything else
comes fresh from the page's one query: author, visibility, circle, counts, liked and
bookmarked. A card is kept as JSON text and spliced into the page as it is
(orjson.Fragment): unpickling cards as dicts took a tenth of a request. Posts not yet
published are never cached. Misses are loaded in two queries (photos, mentions) for the
whole page and shaped by the schemas themselves, so a card is exactly what PostOut would
produce (tests/feed/test_api.py compares them).
"""

import hashlib

import orjson
from django.core.cache import cache
from django.db.models import prefetch_related_objects
from django.http import HttpResponse
from django.template.defaultfilters import date
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime

from circles import metrics
from circles.api_json import json_time
from posts import selectors
from posts.models import Post, PostStatus
from posts.text import caption_html

CARD_SECONDS = 6 * 3600
CARD_VERSION = 4  # bump when the card's shape changes


def _card_key(post: Post, kind: str = "card") -> str:
    return f"post:{kind}:{CARD_VERSION}:{post.pk}:{post.updated_at.timestamp():.6f}"


def _prefetch_media(posts: list[Post]) -> None:
    prefetch_related_objects(posts, *selectors.detail_prefetches())


def _card(post: Post) -> tuple[bytes, bytes]:
    """(caption_html, images) as JSON, ready to be spliced into a page (orjson.Fragment):
    unpickling the cards as dicts was a tenth of a page's CPU."""
    # imported here and in post_object: posts.views imports this module for the pages'
    # fragments, and so does every process at start (posts.apps), the Celery worker too,
    # which builds no API answer and does without pydantic
    from posts.schemas import ImageOut, PostOut

    images = PostOut.resolve_images(post)
    return (
        orjson.dumps(str(PostOut.resolve_caption_html(post))),
        orjson.dumps([ImageOut.from_orm(image).model_dump(mode="json") for image in images]),
    )


def post_cards(posts: list[Post]) -> dict:
    """{post id: card} for posts loaded with posts_with_summary."""
    keys = {post.pk: _card_key(post) for post in posts if post.status == PostStatus.PUBLISHED}
    cached = cache.get_many(list(keys.values()))
    cards = {pk: cached[key] for pk, key in keys.items() if key in cached}
    missing = [post for post in posts if post.pk not in cards]
    metrics.cache_lookups("post_card", hits=len(cards), misses=len(keys) - len(cards))
    if missing:
        _prefetch_media(missing)
        fresh = {post.pk: _card(post) for post in missing}
        cards.update(fresh)
        cache.set_many({keys[pk]: card for pk, card in fresh.items() if pk in keys}, CARD_SECONDS)
    return cards


def post_object(post: Post, card: tuple[bytes, bytes]) -> dict:
    """The API's post object: the cached card plus the parts that change (PostOut's
    fields, in its order)."""
    from posts.schemas import CircleRefOut, PostOut, UserSummaryOut

    author, circle = post.author, post.circle
    circle_ref = (
        None if circle is None else {"id": CircleRefOut.resolve_id(circle), "name": circle.name}
    )
    return {
        "id": str(post.pk),
        "author": {
            "id": str(author.pk),
            "username": author.username,
            "display_name": author.display_name,
            "avatar": UserSummaryOut.resolve_avatar(author),
        },
        "caption": post.caption,
        "caption_html": orjson.Fragment(card[0]),
        "location": post.location,
        "visibility": post.visibility,
        "circle": circle_ref,
        "status": post.status,
        "created_at": json_time(post.created_at),
        "like_count": post.like_count,
        "comment_count": post.comments_shown,
        "liked": PostOut.resolve_liked(post),
        "bookmarked": PostOut.resolve_bookmarked(post),
        "images": orjson.Fragment(card[1]),
    }


def page_response(page) -> HttpResponse:
    """A list answer ({items, next_cursor}) for a page of posts loaded with
    posts_with_summary, as JSON, without going through pydantic again."""
    cards = post_cards(page.items)
    body = {
        "items": [post_object(post, cards[post.pk]) for post in page.items],
        "next_cursor": page.next_cursor,
    }
    # orjson: a page is ~40 kB of JSON, and the json module took ~1.4 ms of a request's ~15
    return HttpResponse(orjson.dumps(body), content_type="application/json; charset=utf-8")


# --- the same idea for pages -------------------------------------------------------------


def _fragment_key(post: Post) -> str:
    # the header shows the author, and the carousel's alt texts name them when a photo has
    # none: a new name, username or avatar makes a new key (they do not touch the post)
    author = post.author
    shown = f"{author.username}\n{author.name}\n{author.avatar_id}"
    return f"{_card_key(post, 'html')}:{hashlib.blake2b(shown.encode(), digest_size=8).hexdigest()}"


def _fragments(post: Post) -> dict:
    photos = [link.image for link in post.post_images.all()]
    known = {mention.user.username for mention in post.mentions.all()}
    carousel = ""
    if post.status == PostStatus.PUBLISHED:
        carousel = render_to_string("posts/_carousel.html", {"post": post, "photos": photos})
    return {
        "head": render_to_string("posts/_post_card_head.html", {"post": post}),
        "carousel": carousel,
        "caption": str(caption_html(post.caption, known_usernames=known)),
        "created": _created(post),
    }


def _created(post: Post) -> tuple[str, str]:
    # the footer's <time> (datetime, title), as Django's date filter writes them: the same
    # for the post's whole life, and formatting them was ~15 % of rendering a feed page
    at = template_localtime(post.created_at)
    return date(at, "c"), date(at, "DATETIME_FORMAT")


def post_attach_fragments(posts: list[Post]) -> list[Post]:
    """Set `card_head` (posts/_post_card_head.html), `carousel_html` (posts/_carousel.html)
    and `caption_rendered`, all rendered, and the footer's `created_iso` and
    `created_title`, on posts loaded with posts_with_summary: from Redis, or rendered for
    the misses after loading their photos and mentions in two queries for the page. Same
    keys and rules as the API's cards: a published post's fragments change only with the
    post or with how its author is shown (name, username, avatar), so they are cached
    under a key that says so."""
    keys = {post.pk: _fragment_key(post) for post in posts if post.status == PostStatus.PUBLISHED}
    cached = cache.get_many(list(keys.values()))
    fragments = {pk: cached[key] for pk, key in keys.items() if key in cached}
    missing = [post for post in posts if post.pk not in fragments]
    metrics.cache_lookups("post_html", hits=len(fragments), misses=len(keys) - len(fragments))
    if missing:
        _prefetch_media(missing)
        fresh = {post.pk: _fragments(post) for post in missing}
        fragments.update(fresh)
        cache.set_many({keys[pk]: value for pk, value in fresh.items() if pk in keys}, CARD_SECONDS)
    for post in posts:
        post.card_head = mark_safe(fragments[post.pk]["head"])  # noqa: S308 - rendered by a template
        post.carousel_html = mark_safe(fragments[post.pk]["carousel"])  # noqa: S308 - rendered by a template
        post.caption_rendered = mark_safe(fragments[post.pk]["caption"])  # noqa: S308 - caption_html escapes
        post.created_iso, post.created_title = fragments[post.pk]["created"]
    return posts
