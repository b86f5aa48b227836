"""posts' part of "Download your data": the person's posts with their photos, and their
comments, likes and bookmarks on posts they may still see (Post.objects.visible_to)."""

from django.db.models import Prefetch

from posts.models import Bookmark, Comment, Like, Post, PostImage


def _stamp(value) -> str | None:
    return value.isoformat() if value else None


def posts_export_section(*, user, archive) -> dict:
    ordered = Prefetch(
        "post_images", queryset=PostImage.objects.select_related("image").order_by("position")
    )
    items = []
    for post in (
        Post.objects.filter(author=user)
        .select_related("circle")
        .prefetch_related(ordered)
        .order_by("created_at")
        .iterator(chunk_size=200)
    ):
        items.append(
            {
                "kind": "post",
                "id": str(post.pk),
                "created_at": _stamp(post.created_at),
                "caption": post.caption,
                "location": post.location,
                "visibility": post.visibility,
                "circle": post.circle.name if post.circle_id else None,
                "status": post.status,
                "alt_texts": [pi.image.alt for pi in post.post_images.all() if pi.image.alt],
                "photos": [
                    archive.photo(pi.image, folder="photos/posts") for pi in post.post_images.all()
                ],
            }
        )
    visible = Post.objects.visible_to(user)
    for comment in (
        Comment.objects.filter(author=user, post__in=visible)
        .select_related("post__author")
        .order_by("created_at")
    ):
        items.append(
            {
                "kind": "comment",
                "id": str(comment.pk),
                "created_at": _stamp(comment.created_at),
                "text": comment.content,
                "on_post": str(comment.post_id),
                "post_author": comment.post.author.username,
            }
        )
    for like in Like.objects.filter(user=user, post__in=visible).select_related("post__author"):
        items.append(
            {
                "kind": "like",
                "created_at": _stamp(like.created_at),
                "post": str(like.post_id),
                "post_author": like.post.author.username,
            }
        )
    for mark in Bookmark.objects.filter(user=user, post__in=visible).select_related("post__author"):
        items.append(
            {
                "kind": "bookmark",
                "created_at": _stamp(mark.created_at),
                "post": str(mark.post_id),
                "post_author": mark.post.author.username,
            }
        )
    return {"title": "Posts, comments, likes and bookmarks", "items": items}
