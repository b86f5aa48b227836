"""What a notification shows of a post or a comment: notifications' target types, which
PostsConfig registers (visibility is asked before, by the registered rule). A page of
notifications asks these on every request, so each query is compiled once per process
(circles/compiled.py) for up to a page's ids."""

import functools

from django.db.models import OuterRef, Subquery

from circles.compiled import CompiledQuery
from circles.links import reverse_with_id
from circles.pagination import MAX_LIMIT
from media.links import media_url_for_id
from notifications.registry import Target as NotificationTarget
from posts.models import Comment, Post, PostImage


def _first_image_of(post_ref: str) -> Subquery:
    return Subquery(
        PostImage.objects.filter(post_id=OuterRef(post_ref), position=0).values("image_id")[:1]
    )


@functools.cache
def _posts_query() -> CompiledQuery:
    return CompiledQuery(
        lambda ids: (
            Post.objects.filter(pk__in=ids)
            .annotate(thumb=_first_image_of("pk"))
            .values_list("pk", "thumb")
        ),
        ids=("uuid", MAX_LIMIT),
    )


@functools.cache
def _comments_query() -> CompiledQuery:
    return CompiledQuery(
        lambda ids: (
            Comment.objects.filter(pk__in=ids)
            .annotate(thumb=_first_image_of("post_id"))
            .values_list("pk", "post_id", "thumb")
        ),
        ids=("uuid", MAX_LIMIT),
    )


def _rows(query: CompiledQuery, ids) -> list[tuple]:
    ids = list(dict.fromkeys(ids))
    return [
        row
        for at in range(0, len(ids), MAX_LIMIT)
        for row in query.run(ids=ids[at : at + MAX_LIMIT])
    ]


def post_notification_targets(viewer, ids) -> dict:
    """What a notification shows of these posts (one query): "photo", its page, its first
    photo's thumbnail. Visibility was asked before (Post.objects.visible_to)."""
    return {
        post_id: NotificationTarget(
            label="photo",
            url=reverse_with_id("posts:detail", "post_id", post_id),
            thumbnail=media_url_for_id(thumb, "thumbnail", "jpeg") if thumb else None,
        )
        for post_id, thumb in _rows(_posts_query(), ids)
    }


def comment_notification_targets(viewer, ids) -> dict:
    """What a notification shows of these comments (one query): "comment", its post's page
    at the comment, the post's thumbnail."""
    return {
        comment_id: NotificationTarget(
            label="comment",
            url=reverse_with_id("posts:detail", "post_id", post_id) + f"#comment-{comment_id}",
            thumbnail=media_url_for_id(thumb, "thumbnail", "jpeg") if thumb else None,
        )
        for comment_id, post_id, thumb in _rows(_comments_query(), ids)
    }
