"""The operators' lists: everyone and every post, whatever their visibility or state,
newest first with keyset cursors. Staff moderation sees posts and profiles; it never
reads private messages (messaging has no staff path at all)."""

from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from accounts.models import User
from circles.pagination import DEFAULT_LIMIT, PageResult, paginate
from posts.models import Post, PostImage

SEARCH_MAX = 100


def _term(q: str | None) -> str:
    return (q or "").strip()[:SEARCH_MAX]


def user_list_for_staff(
    *, q: str | None = None, banned: bool | None = None, cursor=None, limit=DEFAULT_LIMIT
) -> PageResult:
    """People by sign-up, newest first; q matches username, email or display name."""
    posts = Post.objects.filter(author=OuterRef("pk")).order_by().values("author")
    users = User.objects.select_related("avatar").annotate(
        posts_count=Coalesce(Subquery(posts.annotate(n=Count("pk")).values("n")), 0)
    )
    if term := _term(q):
        users = users.filter(
            Q(username__icontains=term) | Q(email__icontains=term) | Q(display_name__icontains=term)
        )
    if banned is not None:
        users = users.filter(is_active=not banned)
    return paginate(users, cursor=cursor, limit=limit, time_field="date_joined")


def post_list_for_staff(
    *, q: str | None = None, author: str | None = None, cursor=None, limit=DEFAULT_LIMIT
) -> PageResult:
    """Every post (any audience, any state, banned authors too), newest first; q matches
    the caption or location, author the author's username."""
    images = PostImage.objects.filter(post=OuterRef("pk")).order_by().values("post")
    posts = Post.objects.select_related("author__avatar", "circle").annotate(
        image_count=Coalesce(Subquery(images.annotate(n=Count("pk")).values("n")), 0)
    )
    if term := _term(q):
        posts = posts.filter(Q(caption__icontains=term) | Q(location__icontains=term))
    if author:
        posts = posts.filter(author__username=_term(author).lower())
    return paginate(posts, cursor=cursor, limit=limit)
