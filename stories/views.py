"""Story pages: the picker, the full-screen viewer and the author's viewer list. The tray
itself is on the home page (posts' view asks stories for it through posts.hooks).

Everything works without JavaScript (links to the previous and next story, forms that
post); static/js/stories.js adds the auto-advancing viewer and the picker's preview and
progress on top of the same markup.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.exceptions import Ratelimited

from accounts.selectors import circle_list_for_user
from circles.errors import ApiError
from circles.ratelimits import enforce
from stories import hooks, selectors, services
from stories.forms import StoryCreateForm

CIRCLES_IN_SELECT = 50
REFUSALS = (ValidationError, PermissionDenied, Ratelimited, ApiError)


def _refusal(exc) -> tuple[int, str, dict]:
    if isinstance(exc, Ratelimited):
        retry_after = str(getattr(exc, "retry_after", 60))
        return (
            429,
            "You're posting stories too often. Try again later.",
            {"Retry-After": retry_after},
        )
    if isinstance(exc, ApiError):
        return exc.status, exc.message, exc.headers
    if isinstance(exc, ValidationError):
        return 400, exc.messages[0], {}
    return 403, str(exc) or "You can't do that.", {}


@login_required
@require_http_methods(["GET", "POST"])
def story_create(request):
    """The picker: one photo, followers or one circle; then back to the home page, where
    your story leads the tray."""
    circles = circle_list_for_user(user=request.user, limit=CIRCLES_IN_SELECT).items
    if request.method == "GET":
        form = StoryCreateForm(circles=circles)
        return render(request, "stories/create.html", {"form": form})
    form, status, headers = StoryCreateForm(request.POST, request.FILES, circles=circles), 400, {}
    if form.is_valid():
        try:
            kwargs = form.service_kwargs()
            if not services.story_for_idempotency_key(
                author=request.user, key=kwargs["idempotency_key"]
            ):
                enforce(request, "story", key=f"user:{request.user.pk}")
            services.story_create(author=request.user, **kwargs)
            messages.success(request, "Your story is up. Others see it once it's processed.")
            return redirect("home")
        except REFUSALS as exc:
            status, message, headers = _refusal(exc)
            form.add_refusal(exc, message)
    response = render(request, "stories/create.html", {"form": form}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


@login_required
@require_GET
def story_detail(request, story_id):
    """The viewer, opened at one story, going on through the tray's order. Opening it
    records your view (once)."""
    story = selectors.story_get_visible(viewer=request.user, story_id=story_id)
    tray = selectors.story_list_for_tray(viewer=request.user)  # its order before this view
    services.story_view_record(viewer=request.user, story=story)
    context = selectors.story_viewer_context(
        viewer=request.user, story=story, tray=tray, replies=hooks.replies_registered()
    )
    return render(request, "stories/viewer.html", context)


@login_required
@require_GET
def story_viewers(request, story_id):
    """Who viewed your story, newest first (403 on anyone else's story)."""
    story = selectors.story_get_own(viewer=request.user, story_id=story_id)
    page = selectors.story_viewer_list(story=story, cursor=request.GET.get("cursor"), limit=50)
    return render(request, "stories/viewers.html", {"story": story, "page": page})


@login_required
@require_POST
def story_delete(request, story_id):
    story = selectors.story_get_visible(viewer=request.user, story_id=story_id)
    services.story_delete(story=story, actor=request.user)
    messages.success(request, "Your story was deleted.")
    return redirect("home")
