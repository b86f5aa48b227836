"""Posts endpoints of the API contract: thin handlers over posts.services/selectors."""

from typing import Literal

from ninja import File, Form, Query, Router, Status, UploadedFile

from circles.errors import ApiError
from circles.openapi import errors
from circles.ratelimits import enforce
from circles.schemas import Page, PageParams
from posts import cards, selectors, services
from posts.schemas import CommentIn, CommentOut, LikeOut, PostOut, SearchOut

router = Router(tags=["posts"])
comments_router = Router(tags=["posts"])

IDEMPOTENCY_KEY_MAX = 100


@router.post("", response={202: PostOut}, openapi_extra=errors(429))
def post_create(
    request,
    images: File[list[UploadedFile]],
    caption: Form[str] = "",
    location: Form[str] = "",
    visibility: Form[Literal["public", "followers", "circle"]] = "public",
    circle_id: Form[str] = "",
    alt: Form[list[str]] = None,
):
    key = request.headers.get("Idempotency-Key") or None
    if key and len(key) > IDEMPOTENCY_KEY_MAX:
        raise ApiError(400, "invalid", "Idempotency-Key is at most 100 characters.")
    if not services.post_for_idempotency_key(author=request.auth, key=key):
        enforce(request, "post", key=f"user:{request.auth.pk}")  # replays are free
    post, _ = services.post_create(
        author=request.auth,
        files=images,
        caption=caption,
        location=location,
        visibility=visibility,
        circle_id=circle_id or None,
        alts=alt or [],
        idempotency_key=key,
    )
    return Status(202, selectors.post_get_visible(viewer=request.auth, post_id=post.pk))


@router.get("/{post_id}", response=PostOut)
def post_detail(request, post_id: str):
    return selectors.post_get_visible(viewer=request.auth, post_id=post_id)


@router.delete("/{post_id}", response={204: None})
def post_delete(request, post_id: str):
    post = selectors.post_get_deletable(actor=request.auth, post_id=post_id)
    services.post_delete(post=post, actor=request.auth)
    return Status(204, None)


@router.post("/{post_id}/like", response=LikeOut, openapi_extra=errors(429))
def post_like(request, post_id: str):
    enforce(request, "like", key=f"user:{request.auth.pk}")
    post = selectors.post_get_for_action(viewer=request.auth, post_id=post_id)
    liked, like_count = services.post_like(user=request.auth, post=post)
    return {"liked": liked, "like_count": like_count}


@router.delete("/{post_id}/like", response=LikeOut)
def post_unlike(request, post_id: str):
    post = selectors.post_get_for_action(viewer=request.auth, post_id=post_id)
    liked, like_count = services.post_unlike(user=request.auth, post=post)
    return {"liked": liked, "like_count": like_count}


@router.post("/{post_id}/bookmark", response={204: None})
def bookmark_create(request, post_id: str):
    post = selectors.post_get_for_action(viewer=request.auth, post_id=post_id)
    services.bookmark_create(user=request.auth, post=post)
    return Status(204, None)


@router.delete("/{post_id}/bookmark", response={204: None})
def bookmark_delete(request, post_id: str):
    post = selectors.post_get_for_action(viewer=request.auth, post_id=post_id)
    services.bookmark_delete(user=request.auth, post=post)
    return Status(204, None)


@router.get("/{post_id}/comments", response=Page[CommentOut])
def comment_list(request, post_id: str, page: Query[PageParams], parent_id: str | None = None):
    post = selectors.post_get_visible(viewer=request.auth, post_id=post_id)
    page = selectors.comment_list_for_post(
        viewer=request.auth, post=post, parent_id=parent_id, **page.dict()
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/{post_id}/comments", response={201: CommentOut}, openapi_extra=errors(429))
def comment_create(request, post_id: str, payload: CommentIn):
    enforce(request, "comment", key=f"user:{request.auth.pk}")
    post = selectors.post_get_visible(viewer=request.auth, post_id=post_id)
    comment = services.comment_create(
        author=request.auth, post=post, content=payload.content, parent_id=payload.parent_id
    )
    return Status(201, comment)


@comments_router.delete("/{comment_id}", response={204: None})
def comment_delete(request, comment_id: str):
    comment = selectors.comment_get_visible(viewer=request.auth, comment_id=comment_id)
    services.comment_delete(comment=comment, actor=request.auth)
    return Status(204, None)


@comments_router.post("/{comment_id}/like", response=LikeOut, openapi_extra=errors(429))
def comment_like(request, comment_id: str):
    enforce(request, "like", key=f"user:{request.auth.pk}")
    comment = selectors.comment_get_visible(viewer=request.auth, comment_id=comment_id)
    liked, like_count = services.comment_like(user=request.auth, comment=comment)
    return {"liked": liked, "like_count": like_count}


@comments_router.delete("/{comment_id}/like", response=LikeOut)
def comment_unlike(request, comment_id: str):
    comment = selectors.comment_get_visible(viewer=request.auth, comment_id=comment_id)
    liked, like_count = services.comment_unlike(user=request.auth, comment=comment)
    return {"liked": liked, "like_count": like_count}


# --- feed and discovery (issue 5) -----------------------------------------------------
# Mounted at the API root: /feed, /explore, /bookmarks, /search, /hashtags/{name}/posts
# and /users/{username}/posts. Lists take ?cursor=&limit= (1..50, default 20).

discovery_router = Router(tags=["feed and discovery"])


def _page(page):
    """A page of posts as the list answer, through posts.cards (the same JSON as
    Page[PostOut], built without pydantic, photos and captions cached per post)."""
    return cards.page_response(page)


@discovery_router.get("/feed", response=Page[PostOut], openapi_extra=errors(429))
def feed(request, page: Query[PageParams]):
    """Posts you may see by the people you follow and by you, newest first. 60 a minute."""
    enforce(request, "feed", key=f"user:{request.auth.pk}")
    return _page(selectors.post_list_for_feed(viewer=request.auth, details=False, **page.dict()))


@discovery_router.get("/users/{username}/posts", response=Page[PostOut])
def user_posts(request, username: str, page: Query[PageParams]):
    """A person's posts, newest first. 404 when the person is unknown or a block stands
    between you (either way); 403 for a private account you don't follow (its profile,
    GET /users/{username}, stays visible, as for its followers lists)."""
    return _page(
        selectors.post_list_for_profile(viewer=request.auth, username=username, **page.dict())
    )


@discovery_router.get("/explore", response=Page[PostOut])
def explore(request, page: Query[PageParams]):
    """Recent public posts, most liked in the last 7 days first; never posts of private
    accounts, of people blocked either way, for followers or for a circle."""
    return _page(selectors.post_list_for_explore(viewer=request.auth, details=False, **page.dict()))


@discovery_router.get("/bookmarks", response=Page[PostOut])
def bookmarks(request, page: Query[PageParams]):
    """Your saved posts that you may still see, most recently saved first."""
    return _page(selectors.post_list_saved(viewer=request.auth, details=False, **page.dict()))


@discovery_router.get("/search", response=SearchOut)
def search(request, q: str = ""):
    """People by username or display name (prefix and similarity) and hashtags by prefix
    (`#` and `@` in front are ignored). Never people blocked either way."""
    return {
        "users": selectors.user_list_for_search(viewer=request.auth, q=q),
        "hashtags": selectors.hashtag_list_for_search(q=q),
    }


@discovery_router.get("/circles/{circle_id}/posts", response=Page[PostOut])
def circle_posts(request, circle_id: str, page: Query[PageParams]):
    """The posts shared to a circle you are a member of, newest first (404 otherwise)."""
    _, posts = selectors.post_list_for_circle(
        viewer=request.auth, circle_id=circle_id, details=False, **page.dict()
    )
    return _page(posts)


@discovery_router.get("/hashtags/{name}/posts", response=Page[PostOut])
def hashtag_posts(request, name: str, page: Query[PageParams]):
    """Posts you may see with #name, newest first (an unused name: an empty list)."""
    return _page(
        selectors.post_list_for_hashtag(viewer=request.auth, name=name.lstrip("#"), **page.dict())
    )
