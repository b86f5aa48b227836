"""Post pages and their htmx actions.

Actions answer a fragment to htmx (`HX-Request`) and redirect otherwise; a refusal by the
services becomes its status and message: ValidationError 400, PermissionDenied 403,
Ratelimited 429, ApiError its own status.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_ratelimit.exceptions import Ratelimited

from accounts.selectors import circle_list_for_user, user_content_visible, user_get_profile
from accounts.views.edges import refusals_as_pages
from circles import errors
from circles.errors import ApiError
from circles.ratelimits import enforce
from posts import cards, hooks, selectors, services
from posts.forms import CommentForm, PostCreateForm
from posts.models import PostStatus
from posts.text import caption_html

CIRCLES_IN_SELECT = 50  # the pagination maximum; people are in a handful of circles
REFUSALS = errors.PAGE_REFUSALS


def _htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _refusal(exc) -> tuple[int, str, dict]:
    """(status, message, headers) for an exception in REFUSALS: circles.errors.refusal,
    with post pages' words for a rate limit."""
    refused = errors.refusal(exc, too_often="You're doing that too often. Try again later.")
    return refused.status, refused.message, refused.headers


def _render(request, template, context, *, status=200, headers=None):
    response = render(request, template, context, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _refused(request, exc, post_id=None):
    status, message, headers = _refusal(exc)
    template = "posts/_refused.html" if _htmx(request) else "posts/refused.html"
    back = reverse("posts:detail", args=[post_id]) if post_id else reverse("home")
    context = {"message": message, "back": back}
    return _render(request, template, context, status=status, headers=headers)


def page_action(view):
    """A signed-in POST from a post page; refusals answer with their status and message."""

    @wraps(view)
    @require_POST
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            if _htmx(request):  # send the whole page to log in, not the button
                return HttpResponse(headers={"HX-Redirect": reverse("accounts:login")})
            return redirect_to_login(request.get_full_path())
        try:
            return view(request, *args, **kwargs)
        except REFUSALS as exc:
            return _refused(request, exc, kwargs.get("post_id"))

    return wrapped


def _fragment_or_post(request, template, context, post_id):
    if _htmx(request):
        return render(request, template, context)
    return redirect("posts:detail", post_id=post_id)


# --- pages ----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def post_create(request):
    circles = circle_list_for_user(user=request.user, limit=CIRCLES_IN_SELECT).items
    if request.method == "GET":
        # ?circle=<id> (the circle page's "Share a post" link) preselects that circle
        circle = request.GET.get("circle", "")
        initial = {"visibility": "circle", "circle_id": circle} if circle else None
        form = PostCreateForm(circles=circles, initial=initial)
        return render(request, "posts/create.html", {"form": form})
    form, status, headers = PostCreateForm(request.POST, request.FILES, circles=circles), 400, {}
    if form.is_valid():
        try:
            enforce(request, "post", key=f"user:{request.user.pk}")
            post, _ = services.post_create(author=request.user, **form.service_kwargs())
            return redirect("posts:detail", post_id=post.pk)
        except REFUSALS as exc:
            status, message, headers = _refusal(exc)
            form.add_refusal(exc, message)
    return _render(request, "posts/create.html", {"form": form}, status=status, headers=headers)


@require_GET
def post_detail(request, post_id):
    post = selectors.post_get_visible(viewer=request.user, post_id=post_id)
    return _detail(request, post, CommentForm())


def _detail(request, post, comment_form, status=200):
    known = {mention.user.username for mention in post.mentions.all()}
    context = {
        "post": post,
        "photos": [link.image for link in post.post_images.all()],
        "caption": caption_html(post.caption, known_usernames=known),
        "comments": selectors.comment_list_for_post(viewer=request.user, post=post),
        "comment_form": comment_form,
    }
    return render(request, "posts/detail.html", context, status=status)


@never_cache
@require_GET
def post_status(request, post_id):
    """Polled by the author's page while processing; once settled, htmx reloads it."""
    post = selectors.post_get_visible(viewer=request.user, post_id=post_id)
    if post.status != PostStatus.PROCESSING:
        return HttpResponse(headers={"HX-Refresh": "true"})
    photos = [link.image for link in post.post_images.all()]
    return render(request, "posts/_status.html", {"post": post, "photos": photos})


@require_GET
def comment_list(request, post_id):
    """A page of comments (or of one comment's replies with ?parent=): the next items for
    htmx, a page of their own without JS."""
    post = selectors.post_get_visible(viewer=request.user, post_id=post_id)
    parent_id, cursor = request.GET.get("parent") or None, request.GET.get("cursor")
    try:
        page = selectors.comment_list_for_post(
            viewer=request.user, post=post, parent_id=parent_id, cursor=cursor
        )
    except ApiError as exc:  # a bad cursor
        return _refused(request, exc, post.pk)
    template = "posts/_comment_items.html" if _htmx(request) else "posts/comments.html"
    context = {"post": post, "page": page, "parent_id": parent_id}
    return render(request, template, context)


# --- actions --------------------------------------------------------------------------


@page_action
def post_delete(request, post_id):
    post = selectors.post_get_deletable(actor=request.user, post_id=post_id)
    services.post_delete(post=post, actor=request.user)
    messages.success(request, "Your post was deleted.")
    if _htmx(request):
        return HttpResponse(headers={"HX-Redirect": reverse("home")})
    return redirect("home")


@page_action
def post_like(request, post_id):
    enforce(request, "like", key=f"user:{request.user.pk}")
    post = selectors.post_get_visible(viewer=request.user, post_id=post_id)
    post.liked, post.like_count = services.post_like(user=request.user, post=post)
    return _fragment_or_post(request, "posts/_like_button.html", {"post": post}, post.pk)


@page_action
def post_unlike(request, post_id):
    post = selectors.post_get_visible(viewer=request.user, post_id=post_id)
    post.liked, post.like_count = services.post_unlike(user=request.user, post=post)
    return _fragment_or_post(request, "posts/_like_button.html", {"post": post}, post.pk)


@page_action
def bookmark_create(request, post_id):
    post = selectors.post_get_visible(viewer=request.user, post_id=post_id)
    services.bookmark_create(user=request.user, post=post)
    post.bookmarked = True
    return _fragment_or_post(request, "posts/_bookmark_button.html", {"post": post}, post.pk)


@page_action
def bookmark_delete(request, post_id):
    post = selectors.post_get_visible(viewer=request.user, post_id=post_id)
    services.bookmark_delete(user=request.user, post=post)
    post.bookmarked = False
    return _fragment_or_post(request, "posts/_bookmark_button.html", {"post": post}, post.pk)


@page_action
def comment_create(request, post_id):
    enforce(request, "comment", key=f"user:{request.user.pk}")
    post = selectors.post_get_visible(viewer=request.user, post_id=post_id)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            comment = services.comment_create(author=request.user, post=post, **form.cleaned_data)
        except ValidationError as exc:
            form.add_refusal(exc, exc.messages[0])
    if form.errors:
        if _htmx(request):
            return _refused(request, ValidationError(form.first_error()), post.pk)
        return _detail(request, post, form, status=400)
    if _htmx(request):
        post.refresh_from_db(fields=["comment_count"])  # the heading's count, swapped out of band
        return render(request, "posts/_comment_created.html", {"post": post, "comment": comment})
    if comment.parent_id:  # the thread's own page shows the new reply
        return redirect(f"{reverse('posts:comments', args=[post.pk])}?parent={comment.parent_id}")
    return redirect(reverse("posts:detail", args=[post.pk]) + f"#comment-{comment.pk}")


def _comment_on(request, post_id, comment_id):
    comment = selectors.comment_get_visible(viewer=request.user, comment_id=comment_id)
    if comment.post_id != post_id:
        raise Http404
    return comment


@page_action
def comment_delete(request, post_id, comment_id):
    comment = _comment_on(request, post_id, comment_id)
    services.comment_delete(comment=comment, actor=request.user)
    if _htmx(request):
        return HttpResponse("")  # the comment's element is removed (hx-swap="delete")
    return redirect("posts:detail", post_id=post_id)


@page_action
def comment_like(request, post_id, comment_id):
    enforce(request, "like", key=f"user:{request.user.pk}")
    comment = _comment_on(request, post_id, comment_id)
    comment.liked, comment.like_count = services.comment_like(user=request.user, comment=comment)
    return _fragment_or_post(request, "posts/_comment_like.html", {"comment": comment}, post_id)


@page_action
def comment_unlike(request, post_id, comment_id):
    comment = _comment_on(request, post_id, comment_id)
    comment.liked, comment.like_count = services.comment_unlike(user=request.user, comment=comment)
    return _fragment_or_post(request, "posts/_comment_like.html", {"comment": comment}, post_id)


# --- feed and discovery (issue 5) -------------------------------------------------------

GRID_PAGE = 24  # a multiple of 3: pages appended by infinite scroll leave no gaps
FEED_PAGE = 10  # cards per feed page (each is a screen or so)


def _feed_cards(posts: list, *, viewer) -> list:
    """What a feed card shows beyond the post (loaded with posts_with_summary): its
    carousel and caption, rendered once per post and kept in Redis (posts.cards), and its
    first comments (one query for the page)."""
    cards.post_attach_fragments(posts)
    return selectors.comments_attach_first(posts, viewer=viewer)


@require_GET
@vary_on_headers("HX-Request")
@refusals_as_pages
def profile(request, username):
    """Someone's profile: their posts grid for people who may see their content; to htmx,
    the grid's next page. (A page of posts, so it lives here, above accounts.)"""
    person = user_get_profile(username=username, viewer=request.user)
    page = None
    if user_content_visible(viewer=request.user, owner=person):
        page = selectors.post_list_for_author(
            viewer=request.user, author=person, cursor=request.GET.get("cursor"), limit=GRID_PAGE
        )
    template = "accounts/_profile_posts.html" if _htmx(request) else "accounts/profile.html"
    return render(request, template, {"person": person, "page": page})


def home(request):
    """Signed in: the feed. Anonymous: the landing page."""
    if request.user.is_authenticated:
        return feed(request)
    return render(request, "landing.html")


@require_GET
@vary_on_headers("HX-Request")
def feed(request):
    """The home page of a signed-in person (home sends them here): the
    feed, newest first; to htmx (the sentinel at the end of a page), the next cards."""
    try:
        enforce(request, "feed", key=f"user:{request.user.pk}")
        page = selectors.post_list_for_feed(
            viewer=request.user, cursor=request.GET.get("cursor"), limit=FEED_PAGE, details=False
        )
    except (Ratelimited, ApiError) as exc:
        return _refused(request, exc)
    context = {"page": page, "posts": _feed_cards(page.items, viewer=request.user)}
    if _htmx(request):
        return render(request, "posts/_feed_items.html", context)
    if not page.items and not request.GET.get("cursor"):
        context["suggestions"] = selectors.user_list_suggestions(viewer=request.user)
    for section in hooks.home_sections:  # the stories tray (stories/apps.py)
        context.update(section(viewer=request.user))
    return render(request, "home.html", context)


def _grid_page(request, template, page, **context):
    context = {"page": page, **context}
    return render(request, "posts/_grid_page.html" if _htmx(request) else template, context)


@require_GET
@vary_on_headers("HX-Request")
def explore(request):
    """Popular public posts of the last 7 days, as a grid that grows as you scroll."""
    try:
        page = selectors.post_list_for_explore(
            viewer=request.user, cursor=request.GET.get("cursor"), limit=GRID_PAGE
        )
    except ApiError as exc:
        return _refused(request, exc)
    return _grid_page(request, "posts/explore.html", page, more_url=reverse("posts:explore"))


@require_GET
@vary_on_headers("HX-Request")
def hashtag(request, name):
    """The posts under #name the viewer may see, newest first, as explore's grid."""
    try:
        page = selectors.post_list_for_hashtag(
            viewer=request.user, name=name, cursor=request.GET.get("cursor"), limit=GRID_PAGE
        )
    except ApiError as exc:
        return _refused(request, exc)
    more_url = reverse("posts:hashtag", args=[name])
    return _grid_page(request, "posts/hashtag.html", page, tag=name.lower(), more_url=more_url)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def circle_posts(request, circle_id):
    """The posts shared to a circle, for its members (404 for anyone else), as a grid."""
    try:
        circle, page = selectors.post_list_for_circle(
            viewer=request.user, circle_id=circle_id, cursor=request.GET.get("cursor"),
            limit=GRID_PAGE,
        )  # fmt: skip
    except ApiError as exc:
        return _refused(request, exc)
    more_url = reverse("posts:circle_posts", args=[circle_id])
    return _grid_page(request, "posts/circle_posts.html", page, circle=circle, more_url=more_url)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def saved(request):
    """Your saved posts, most recently saved first."""
    try:
        page = selectors.post_list_saved(
            viewer=request.user, cursor=request.GET.get("cursor"), limit=GRID_PAGE
        )
    except ApiError as exc:
        return _refused(request, exc)
    return _grid_page(request, "posts/saved.html", page, more_url=reverse("posts:saved"))


@require_GET
def search(request):
    """People and hashtags for ?q=; the form works without JS, htmx updates the results
    as you type."""
    q = request.GET.get("q", "").strip()[: selectors.SEARCH_MAX_LENGTH]
    people = selectors.user_list_for_search(viewer=request.user, q=q, annotate=True)
    context = {"q": q, "people": people, "hashtags": selectors.hashtag_list_for_search(q=q)}
    template = "posts/_search_results.html" if _htmx(request) else "posts/search.html"
    return render(request, template, context)


CIRCLE_SECTION_POSTS = 9


def circle_posts_section(*, circle, viewer) -> dict:
    """The circle page's posts section (accounts.hooks.circle_sections): the newest posts
    shared to it as a grid that loads more as you scroll (the circle posts page's)."""
    page = selectors.post_list_for_circle_grid(
        viewer=viewer, circle=circle, limit=CIRCLE_SECTION_POSTS
    )
    return {
        "template": "posts/_circle_section.html",
        "title": "Posts",
        "page": page,
        "more_url": reverse("posts:circle_posts", args=[circle.pk]),
    }
