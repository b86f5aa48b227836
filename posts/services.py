"""Every write about posts: creating them (their photos through media), likes, comments,
bookmarks."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from accounts.models import CircleMembership, User
from circles.ids import uuid_or_none
from media.models import ALT_MAX, ImageState
from media.services import images_accept, images_delete
from notifications.services import (
    notification_create_on_commit,
    notification_remove,
    notifications_remove_for_sources,
)
from posts import inbox
from posts.models import (
    CAPTION_MAX,
    COMMENT_MAX,
    IMAGE_PURPOSE,
    LOCATION_MAX,
    MAX_IMAGES_PER_POST,
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
from posts.text import hashtags_in, mentions_in

# --- posts ----------------------------------------------------------------------------


def _post_fields_check(*, files, caption, location, visibility, alts) -> None:
    errors: dict[str, list[str]] = {}
    if not files:
        errors["images"] = ["Add at least one photo."]
    elif len(files) > MAX_IMAGES_PER_POST:
        errors["images"] = [f"A post has at most {MAX_IMAGES_PER_POST} photos."]
    if len(caption) > CAPTION_MAX:
        errors["caption"] = [f"Keep the caption under {CAPTION_MAX} characters."]
    if len(location) > LOCATION_MAX:
        errors["location"] = [f"Keep the location under {LOCATION_MAX} characters."]
    if visibility not in Visibility.values:
        errors["visibility"] = ["Choose public, followers or circle."]
    if len(alts) > len(files or []):
        errors["alt"] = ["Give at most one alt text per photo."]
    elif any(len(alt) > ALT_MAX for alt in alts):
        errors["alt"] = [f"Keep alt text under {ALT_MAX} characters."]
    if errors:
        raise ValidationError(errors)


def _post_circle(*, author: User, visibility: str, circle_id):
    if visibility != Visibility.CIRCLE:
        if circle_id:
            raise ValidationError({"circle_id": ["Only circle posts name a circle."]})
        return None
    membership = (
        CircleMembership.objects.of(user=author, circle=uuid_or_none(circle_id))
        .select_related("circle")
        .first()
    )
    if membership is None:
        raise ValidationError({"circle_id": ["Choose one of your circles."]})
    return membership.circle


def _normalise_text(text: str) -> str:
    # Browsers send line breaks as CRLF; count and store them as one character.
    return (text or "").replace("\r\n", "\n").strip()


def post_for_idempotency_key(*, author: User, key: str | None) -> Post | None:
    """The post an earlier request with this Idempotency-Key created, if any."""
    if not key:
        return None
    return Post.objects.filter(author=author, idempotency_key=key).first()


def post_create(
    *,
    author: User,
    files: list,
    caption: str = "",
    location: str = "",
    visibility: str = Visibility.PUBLIC,
    circle_id=None,
    alts: list[str] | None = None,
    idempotency_key: str | None = None,
) -> tuple[Post, bool]:
    """Store the originals, create the post in `processing` and queue one task per image.

    Returns (post, created). A repeated Idempotency-Key returns the first post.
    Nothing is stored when any file or field is refused.
    """
    alts = [a.strip() for a in (alts or [])]
    caption, location = _normalise_text(caption), location.strip()
    if idempotency_key:
        existing = post_for_idempotency_key(author=author, key=idempotency_key)
        if existing:
            return existing, False
    _post_fields_check(
        files=files, caption=caption, location=location, visibility=visibility, alts=alts
    )
    circle = _post_circle(author=author, visibility=visibility, circle_id=circle_id)
    try:
        with images_accept(owner=author, uploads=files, purpose=IMAGE_PURPOSE, alts=alts) as stored:
            post = Post.objects.create(
                author=author,
                caption=caption,
                location=location,
                visibility=visibility,
                circle=circle,
                idempotency_key=idempotency_key or None,
            )
            PostImage.objects.bulk_create(
                PostImage(post=post, image=image, position=i) for i, image in enumerate(stored)
            )
            _post_link_tags(post)
            inbox.post_added(post)
    except IntegrityError:
        # the same Idempotency-Key raced us: keep the first post (these files are gone)
        existing = Post.objects.filter(author=author, idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing, False
    return post, True


def _post_link_tags(post: Post) -> None:
    names = hashtags_in(post.caption)
    if names:
        Hashtag.objects.bulk_create([Hashtag(name=n) for n in names], ignore_conflicts=True)
        PostHashtag.objects.bulk_create(
            [PostHashtag(post=post, hashtag=h) for h in Hashtag.objects.filter(name__in=names)],
            ignore_conflicts=True,
        )
    usernames = mentions_in(post.caption)
    if usernames:
        mentioned = User.objects.filter(username__in=usernames, is_active=True)
        Mention.objects.bulk_create(
            [Mention(post=post, user=user) for user in mentioned], ignore_conflicts=True
        )


def post_image_settled(image) -> None:
    """A post photo turned ready or failed (the media purpose hook): publish the post once
    all its photos are ready; fail it when one failed. A published post stays published."""
    link = PostImage.objects.filter(image_id=image.pk).first()
    if link is None:
        return
    # Locked so that two workers settling the post's last two images one moment apart
    # cannot each see the other's image unfinished (and leave the post processing).
    post = Post.objects.select_for_update().filter(pk=link.post_id).first()
    states = set(
        PostImage.objects.filter(post_id=link.post_id).values_list("image__state", flat=True)
    )
    if ImageState.FAILED in states:
        status = PostStatus.FAILED
    elif states == {ImageState.READY}:
        status = PostStatus.PUBLISHED
    else:
        return
    # a failed post whose photo was processed again may still be published
    changed = Post.objects.filter(
        pk=link.post_id, status__in=[PostStatus.PROCESSING, PostStatus.FAILED]
    ).update(status=status)
    if changed and status == PostStatus.PUBLISHED:
        _mentions_notify(post)


def _mentions_notify(post: Post) -> None:
    """The people a caption mentions learn of it once the post is published (before, they
    could not see it)."""
    for mention in Mention.objects.filter(post=post).select_related("user"):
        notification_create_on_commit(
            actor=post.author, recipient=mention.user, kind="post_mention", target_id=post.pk
        )


def post_delete(*, post: Post, actor: User) -> None:
    """Delete a post (its author or staff); its files are removed by a task after commit."""
    if post.author_id != actor.pk and not actor.is_staff:
        raise PermissionDenied("Only the author can delete this post.")
    with transaction.atomic():
        images_delete(images_to_delete=post.images.all())
        inbox.post_removed(post)
        post.delete()


# --- likes, bookmarks -----------------------------------------------------------------


def post_like(*, user: User, post: Post) -> tuple[bool, int]:
    with transaction.atomic():
        _, created = Like.objects.get_or_create(user=user, post=post)
        if created:
            Post.objects.filter(pk=post.pk).update(like_count=F("like_count") + 1)
            notification_create_on_commit(
                actor=user, recipient=post.author, kind="post_like", target_id=post.pk
            )
    return True, Post.objects.values_list("like_count", flat=True).get(pk=post.pk)


def post_unlike(*, user: User, post: Post) -> tuple[bool, int]:
    with transaction.atomic():
        deleted, _ = Like.objects.filter(user=user, post=post).delete()
        if deleted:
            Post.objects.filter(pk=post.pk).update(like_count=F("like_count") - 1)
            notification_remove(actor=user, kind="post_like", target_id=post.pk)
    return False, Post.objects.values_list("like_count", flat=True).get(pk=post.pk)


def bookmark_create(*, user: User, post: Post) -> None:
    Bookmark.objects.get_or_create(user=user, post=post)


def bookmark_delete(*, user: User, post: Post) -> None:
    Bookmark.objects.filter(user=user, post=post).delete()


# --- comments -------------------------------------------------------------------------


def comment_create(*, author: User, post: Post, content: str, parent_id=None) -> Comment:
    """Comment on a post the author may see; a reply to a reply joins its thread."""
    content = _normalise_text(content)
    if post.status != PostStatus.PUBLISHED:
        raise ValidationError({"content": ["Comments open once the post is published."]})
    if not content:
        raise ValidationError({"content": ["Write something first."]})
    if len(content) > COMMENT_MAX:
        raise ValidationError({"content": [f"Keep comments under {COMMENT_MAX} characters."]})
    parent = None
    if parent_id:
        parent = Comment.objects.filter(pk=uuid_or_none(parent_id), post=post).first()
        if parent is None:
            raise ValidationError({"parent_id": ["That comment is not on this post."]})
        parent = parent.parent or parent  # one level of replies
    with transaction.atomic():
        comment = Comment.objects.create(post=post, author=author, parent=parent, content=content)
        Post.objects.filter(pk=post.pk).update(comment_count=F("comment_count") + 1)
        if parent:
            Comment.objects.filter(pk=parent.pk).update(reply_count=F("reply_count") + 1)
        _comment_notify(comment, parent=parent)
    return comment


def _comment_notify(comment: Comment, *, parent: Comment | None) -> None:
    """A reply tells the comment's author; a comment tells the post's author (unless that
    is who was replied to); @mentions tell the people named who heard nothing else."""
    author, told = comment.author, set()
    if parent is not None:
        told.add(parent.author_id)
        notification_create_on_commit(
            actor=author,
            recipient=parent.author,
            kind="comment_reply",
            target_id=parent.pk,
            source_id=comment.pk,
        )
    if comment.post.author_id not in told:
        told.add(comment.post.author_id)
        notification_create_on_commit(
            actor=author,
            recipient=comment.post.author,
            kind="post_comment",
            target_id=comment.post_id,
            source_id=comment.pk,
        )
    usernames = mentions_in(comment.content)
    if usernames:
        named = User.objects.filter(username__in=usernames, is_active=True).exclude(pk__in=told)
        for person in named:
            notification_create_on_commit(
                actor=author,
                recipient=person,
                kind="comment_mention",
                target_id=comment.pk,
                source_id=comment.pk,
            )


def comment_delete(*, comment: Comment, actor: User) -> None:
    """Delete a comment (its author, the post's author, or staff) with its replies."""
    if actor.pk not in (comment.author_id, comment.post.author_id) and not actor.is_staff:
        raise PermissionDenied("You can delete your own comments and comments on your posts.")
    with transaction.atomic():
        gone = [comment.pk, *comment.replies.values_list("pk", flat=True)]
        removed = len(gone)
        notifications_remove_for_sources(source_ids=gone)
        if comment.parent_id:
            Comment.objects.filter(pk=comment.parent_id).update(reply_count=F("reply_count") - 1)
        comment.delete()
        Post.objects.filter(pk=comment.post_id).update(comment_count=F("comment_count") - removed)


def interactions_remove(*, author: User, other: User) -> None:
    """What a block takes off author's posts: other's likes, and their comments with the
    replies under them, counts kept right. accounts' block_create calls it both ways
    (accounts.hooks.block_created), so a post's author can always see, and delete, every
    comment on it. As on Instagram, unblocking brings none of it back."""
    with transaction.atomic():
        # the rows counted are the rows deleted, locked between: an unlike or a like
        # racing this one cannot make a count drift
        likes = Like.objects.filter(user=other, post__author=author).select_for_update(of=("self",))
        liked = dict(likes.values_list("pk", "post_id"))
        Like.objects.filter(pk__in=liked).delete()
        Post.objects.filter(pk__in=liked.values()).update(like_count=F("like_count") - 1)
        theirs = Comment.objects.filter(author=other, post__author=author).select_related("post")
        # threads first: a reply of theirs under their own comment goes with it
        for comment in theirs.filter(parent__isnull=True):
            comment_delete(comment=comment, actor=author)
        for comment in theirs.filter(parent__isnull=False):
            comment_delete(comment=comment, actor=author)


def comment_like(*, user: User, comment: Comment) -> tuple[bool, int]:
    with transaction.atomic():
        _, created = CommentLike.objects.get_or_create(user=user, comment=comment)
        if created:
            Comment.objects.filter(pk=comment.pk).update(like_count=F("like_count") + 1)
            notification_create_on_commit(
                actor=user, recipient=comment.author, kind="comment_like", target_id=comment.pk
            )
    return True, Comment.objects.values_list("like_count", flat=True).get(pk=comment.pk)


def comment_unlike(*, user: User, comment: Comment) -> tuple[bool, int]:
    with transaction.atomic():
        deleted, _ = CommentLike.objects.filter(user=user, comment=comment).delete()
        if deleted:
            Comment.objects.filter(pk=comment.pk).update(like_count=F("like_count") - 1)
            notification_remove(actor=user, kind="comment_like", target_id=comment.pk)
    return False, Comment.objects.values_list("like_count", flat=True).get(pk=comment.pk)


# --- account deletion -----------------------------------------------------------------


def posts_account_deleting(*, user: User) -> None:
    """accounts.hooks.account_deleting: the person's posts go (their photos go with every
    other image of theirs, files first, in accounts' last steps), and their likes,
    comments (with the replies under them), comment likes and bookmarks on others' posts
    go with every count kept right. Safe to run again."""
    for post in Post.objects.filter(author=user):
        inbox.post_removed(post)
        post.delete()
    likes = Like.objects.filter(user=user).select_for_update(of=("self",))
    liked = list(likes.values_list("pk", "post_id"))
    Like.objects.filter(pk__in=[pk for pk, _ in liked]).delete()
    for _, post_id in liked:
        Post.objects.filter(pk=post_id).update(like_count=F("like_count") - 1)
    comment_likes = CommentLike.objects.filter(user=user).select_for_update(of=("self",))
    liked_comments = list(comment_likes.values_list("pk", "comment_id"))
    CommentLike.objects.filter(pk__in=[pk for pk, _ in liked_comments]).delete()
    for _, comment_id in liked_comments:
        Comment.objects.filter(pk=comment_id).update(like_count=F("like_count") - 1)
    theirs = Comment.objects.filter(author=user).select_related("post")
    for comment in theirs.filter(parent__isnull=True):  # threads first, replies with them
        comment_delete(comment=comment, actor=user)
    for comment in theirs.filter(parent__isnull=False):
        comment_delete(comment=comment, actor=user)
    Bookmark.objects.filter(user=user).delete()
