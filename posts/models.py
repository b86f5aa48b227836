"""Posts and what hangs off them: their photos (media images), comments, likes, tags."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.functional import cached_property

from accounts.models import Block, CircleMembership, Follow
from circles.links import reverse_with_id
from media.models import Image

CAPTION_MAX = 2200
LOCATION_MAX = 255
COMMENT_MAX = 1000
MAX_IMAGES_PER_POST = 10
# The purpose of a post's photos in the media purpose table (registered in PostsConfig).
IMAGE_PURPOSE = "post"


class Visibility(models.TextChoices):
    PUBLIC = "public"
    FOLLOWERS = "followers"
    CIRCLE = "circle"


class PostStatus(models.TextChoices):
    PROCESSING = "processing"
    PUBLISHED = "published"
    FAILED = "failed"


class PostQuerySet(models.QuerySet):
    def public(self):
        """Posts anyone may see, signed in or not: published, public, by an active public
        account. What visible_to shows the anonymous; explore and hashtag counts use it."""
        return self.filter(
            status=PostStatus.PUBLISHED,
            author__is_active=True,
            visibility=Visibility.PUBLIC,
            author__is_private=False,
        )

    def visible_to(self, viewer):
        """THE rule for who may see a post; pages, API, feed, search and media use it.

        Your own posts in any state. Others' posts once published, and then: public ones
        when the author's content is visible to you (public account or you follow them,
        no block either way); followers-only ones when you follow the author; circle ones
        when you are a member of the circle — never across a block.

        The public branch is `User.objects.content_visible_to(viewer)` written per post row
        (active author — in `published` —, no block either way, public account or
        followed): as `author__in=<that queryset>` under an OR, PostgreSQL evaluates the
        whole user table once per query (a hashed subplan with a block probe per person:
        ~60 ms at 10k people, and a JIT compile of ~1 s on top), while per-row probes cost
        microseconds. tests/feed/test_visibility.py checks that both forms agree.
        """
        if viewer is None or not viewer.is_authenticated:
            return self.public()
        published = Q(status=PostStatus.PUBLISHED, author__is_active=True)
        blocked = Exists(Block.objects.between(OuterRef("author"), viewer))
        follows = Exists(Follow.objects.filter(follower=viewer, following=OuterRef("author")))
        member = Exists(CircleMembership.objects.of(user=viewer, circle=OuterRef("circle")))
        public = Q(visibility=Visibility.PUBLIC) & (Q(author__is_private=False) | follows)
        followers = Q(visibility=Visibility.FOLLOWERS) & follows
        circle = Q(visibility=Visibility.CIRCLE) & member
        return self.filter(
            Q(author=viewer) | (published & ~blocked & (public | followers | circle))
        )


class Post(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts"
    )
    caption = models.TextField(max_length=CAPTION_MAX, blank=True)
    location = models.CharField(max_length=LOCATION_MAX, blank=True)
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    circle = models.ForeignKey(
        "accounts.Circle", null=True, blank=True, on_delete=models.CASCADE, related_name="posts"
    )
    status = models.CharField(
        max_length=10, choices=PostStatus.choices, default=PostStatus.PROCESSING
    )
    images = models.ManyToManyField(Image, through="PostImage", related_name="posts")
    # A client's Idempotency-Key: a repeat with the same key returns this post.
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, editable=False)
    like_count = models.PositiveIntegerField(default=0)
    comment_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["author", "-created_at", "-id"], name="post_author_created_idx"),
            models.Index(fields=["-created_at", "-id"], name="post_created_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "idempotency_key"], name="post_author_idempotency_key"
            ),
            models.CheckConstraint(
                condition=(Q(visibility="circle") & Q(circle__isnull=False))
                | (~Q(visibility="circle") & Q(circle__isnull=True)),
                name="post_circle_matches_visibility",
            ),
        ]

    def __str__(self) -> str:
        return f"post {self.pk} by {self.author_id}"

    @property
    def comments_shown(self) -> int:
        """The comment count viewer is shown ("View all N comments"): comment_count less
        the comments Comment.objects.by_people_hidden_from(viewer) leaves out, which
        posts_with_summary annotates as `comments_hidden` for its viewer."""
        return max(0, self.comment_count - getattr(self, "comments_hidden", 0))

    @cached_property
    def links(self) -> dict[str, str]:
        """The post's page and action URLs, as templates use them (`post.links.like`)."""
        return {
            name: reverse_with_id(f"posts:{name}", "post_id", self.pk)
            for name in ("detail", "like", "unlike", "bookmark", "unbookmark")
        }


class PostImage(models.Model):
    """The ordered link of a post to its 1–10 images."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="post_images")
    image = models.OneToOneField(Image, on_delete=models.CASCADE, related_name="post_image")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["post", "position"], name="postimage_post_position")
        ]

    def __str__(self) -> str:
        return f"{self.post_id} #{self.position}"


class Like(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "post"], name="like_user_post")]
        indexes = [models.Index(fields=["post", "-created_at"], name="like_post_created_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} likes {self.post_id}"


class CommentQuerySet(models.QuerySet):
    def by_people_visible_to(self, viewer):
        """THE rule for whose comments a viewer sees (on a post they may see): everyone's
        but banned people's, and never across a block either way — a block hides the
        other's words on third people's posts too."""
        comments = self.filter(author__is_active=True)
        if viewer is None or not viewer.is_authenticated:
            return comments
        blocked = Exists(Block.objects.between(viewer, OuterRef("author")))
        return comments.filter(~blocked)

    def by_people_hidden_from(self, viewer):
        """by_people_visible_to's complement: what a post's comment count leaves out for
        viewer (banned people's comments; across a block either way)."""
        hidden = Q(author__is_active=False)
        if viewer is not None and viewer.is_authenticated:
            hidden |= Q(Exists(Block.objects.between(viewer, OuterRef("author"))))
        return self.filter(hidden)

    def visible_to(self, viewer):
        """Comments viewer may see: on a post Post.objects.visible_to(viewer) allows, by
        someone by_people_visible_to(viewer) allows."""
        return self.filter(post__in=Post.objects.visible_to(viewer)).by_people_visible_to(viewer)


class Comment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    content = models.TextField(max_length=COMMENT_MAX)
    like_count = models.PositiveIntegerField(default=0)
    reply_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CommentQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["post", "parent", "-created_at"], name="comment_post_created_idx")
        ]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.post_id}"

    @property
    def replies_shown(self) -> int:
        """The reply count viewer is shown ("View N replies"): reply_count less the
        replies Comment.objects.by_people_hidden_from(viewer) leaves out, which
        comment_list_for_post annotates as `replies_hidden`."""
        return max(0, self.reply_count - getattr(self, "replies_hidden", 0))


class CommentLike(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "comment"], name="commentlike_user_comment")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} likes {self.comment_id}"


class Bookmark(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bookmarks"
    )
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="bookmarks")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "post"], name="bookmark_user_post")]
        indexes = [models.Index(fields=["user", "-created_at"], name="bookmark_user_created_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} saved {self.post_id}"


class Hashtag(models.Model):
    name = models.CharField(max_length=100, unique=True)

    def __str__(self) -> str:
        return f"#{self.name}"


class PostHashtag(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="post_hashtags")
    hashtag = models.ForeignKey(Hashtag, on_delete=models.CASCADE, related_name="post_hashtags")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "hashtag"], name="posthashtag_unique")
        ]

    def __str__(self) -> str:
        return f"{self.post_id} #{self.hashtag_id}"


class Mention(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentions"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="mention_unique")]

    def __str__(self) -> str:
        return f"{self.post_id} @{self.user_id}"
