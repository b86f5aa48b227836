"""What a notification shows of a post or a comment: notifications' target types, which
PostsConfig registers (visibility is asked before, by the registered rule)."""

from django.db.models import OuterRef, Subquery

from circles.links import reverse_with_id
from media.schemas import media_url_for_id
from notifications.registry import Target as NotificationTarget
from posts.models import Comment, Post, PostImage


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
