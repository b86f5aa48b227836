"""Reads of posts, their comments and photos that carry a rule or feed a page. Every post
read goes through Post.objects.visible_to(viewer); hidden things raise Http404."""

import functools

from django.core.exceptions import PermissionDenied
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from accounts.models import User
from accounts.selectors import (
    block_exists_between,
    circle_get_for_member,
    count_of,
    user_content_visible,
    user_get_visible,
)
from circles.compiled import CompiledQuery
from circles.ids import uuid_or_404
from circles.pagination import DEFAULT_LIMIT, PageResult, paginate
from posts.models import (
    Bookmark,
    Comment,
    CommentLike,
    Like,
    Mention,
    Post,
    PostImage,
    PostStatus,
    Visibility,
)


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
        pk=uuid_or_404(post_id)
    )
    found = post.first()
    if found is None:
        raise Http404
    return found


@functools.cache
def _post_for_action_query() -> CompiledQuery:
    return CompiledQuery(
        lambda viewer, pk: (
            Post.objects.visible_to(User(pk=viewer)).select_related("author").filter(pk=pk)
        ),
        generic_plan=True,
        viewer="uuid",
        pk="uuid",
    )


def post_get_for_action(*, viewer, post_id) -> Post:
    """A post viewer may see, with its author and nothing a card shows: what a like, an
    unlike or a bookmark needs. Compiled once per process (circles/compiled.py): building
    the rule for each like cost more than the like itself. Http404 when viewer may not see
    it; viewer is signed in (the API's actions are)."""
    found = _post_for_action_query().run(viewer=viewer.pk, pk=uuid_or_404(post_id))
    if not found:
        raise Http404
    return found[0]


def post_get_deletable(*, actor, post_id) -> Post:
    """A post actor may delete: one they can see, or any post for staff (moderation)."""
    if actor.is_staff:
        found = Post.objects.filter(pk=uuid_or_404(post_id)).first()
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
        .filter(pk=uuid_or_404(comment_id))
        .first()
    )
    if comment is None:
        raise Http404
    return comment


def comment_list_for_post(*, viewer, post: Post, parent_id=None, cursor=None, limit=20):
    """The comments (or one comment's replies) on a post the caller checked viewer may see."""
    comments = Comment.objects.by_people_visible_to(viewer).filter(post=post)
    comments = comments.select_related("author").annotate(replies_hidden=_replies_hidden(viewer))
    if parent_id:
        comments = comments.filter(parent_id=uuid_or_404(parent_id))
    else:
        comments = comments.filter(parent__isnull=True)
    if viewer is not None and viewer.is_authenticated:
        comments = comments.annotate(
            liked=Exists(CommentLike.objects.filter(comment=OuterRef("pk"), user=viewer))
        )
    return paginate(comments, cursor=cursor, limit=limit)


def _replies_hidden(viewer):
    """An annotation: how many of a comment's replies viewer may not read (for
    Comment.replies_shown); nothing is asked of a comment without replies."""
    hidden = (
        Comment.objects.by_people_hidden_from(viewer)
        .filter(parent=OuterRef("pk"))
        .order_by()
        .values("parent")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Case(
        When(reply_count=0, then=Value(0)),
        default=Coalesce(Subquery(hidden, output_field=IntegerField()), Value(0)),
    )


def post_image_visible(viewer, image) -> bool:
    """May viewer see a post photo? Exactly when they may see its post (the media purpose
    rule of post photos)."""
    return Post.objects.visible_to(viewer).filter(post_images__image=image).exists()


def user_posts_count(*, viewer):
    """posts_count of a user, as an annotation: their published posts viewer may see (so
    the count never reveals how many followers-only or circle posts someone has).
    Registered as a profile count (accounts.hooks.profile_counts)."""
    return count_of(Post.objects.visible_to(viewer).filter(status=PostStatus.PUBLISHED), "author")


def post_list_for_circle(
    *, viewer, circle_id, cursor=None, limit=DEFAULT_LIMIT, details: bool = True
) -> tuple:
    """(the circle, a page of the posts shared to it, newest first) for its members;
    Http404 for anyone else (outsiders, pending invitees, unknown or malformed ids)."""
    circle = circle_get_for_member(circle_id=circle_id, viewer=viewer)
    posts = Post.objects.visible_to(viewer).filter(circle=circle, visibility=Visibility.CIRCLE)
    loaded = (posts_with_details if details else posts_with_summary)(posts, viewer=viewer)
    return circle, paginate(loaded, cursor=cursor, limit=limit)


def post_list_for_circle_grid(*, viewer, circle, limit=DEFAULT_LIMIT) -> PageResult:
    """The newest posts shared to a circle viewer is in (the caller checked), for a
    thumbnail grid: author and photos, two queries."""
    posts = Post.objects.visible_to(viewer).filter(circle=circle, visibility=Visibility.CIRCLE)
    photos = Prefetch(
        "post_images", queryset=PostImage.objects.select_related("image").order_by("position")
    )
    return paginate(
        posts.select_related("author").prefetch_related(photos), cursor=None, limit=limit
    )


def post_list_for_hashtag(*, viewer, name: str, cursor=None, limit=30) -> PageResult:
    posts = Post.objects.visible_to(viewer).filter(post_hashtags__hashtag__name=name.lower())
    return paginate(posts_with_details(posts, viewer=viewer), cursor=cursor, limit=limit)


def posts_with_summary(queryset: QuerySet, *, viewer) -> QuerySet:
    """posts_with_details without the photos and mentions (posts.cards keeps those in
    Redis): author, circle, the comments hidden from viewer (for `Post.comments_shown`),
    and liked/bookmarked for a signed-in viewer, in the one query."""
    queryset = queryset.select_related("author", "circle").annotate(
        comments_hidden=comments_hidden_from(viewer)
    )
    if viewer is None or not viewer.is_authenticated:
        return queryset
    return queryset.annotate(
        liked=Exists(Like.objects.filter(post=OuterRef("pk"), user=viewer)),
        bookmarked=Exists(Bookmark.objects.filter(post=OuterRef("pk"), user=viewer)),
    )


def comments_hidden_from(viewer):
    """An annotation: how many of a post's comments Comment.objects.by_people_hidden_from
    (viewer) leaves out (banned people's, across a block), so its count shows only what
    viewer may read. A post without comments asks nothing (the CASE's first branch)."""
    hidden = (
        Comment.objects.by_people_hidden_from(viewer)
        .filter(post=OuterRef("pk"))
        .order_by()
        .values("post")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Case(
        When(comment_count=0, then=Value(0)),
        default=Coalesce(Subquery(hidden, output_field=IntegerField()), Value(0)),
    )


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
