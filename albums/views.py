"""Album pages: an album (grid, viewer, upload, pick from posts, order, cover, likes),
the albums list, and the circle page's albums section. Forms post here and work
without JavaScript; albums.js does the same through the API without reloading."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from accounts.views.edges import page_action, refusals_as_pages
from albums import selectors, services
from albums.forms import AlbumForm, CoverForm
from albums.models import MAX_UPLOADS, Aspect


def _album_url(album) -> str:
    return reverse("albums:detail", args=[album.pk])


def circle_albums_section(*, circle, viewer) -> dict:
    """The circle page's albums section (accounts.hooks.circle_sections)."""
    page = selectors.album_list(viewer=viewer, circle=circle, limit=12)
    return {
        "template": "albums/_circle_section.html",
        "title": "Albums",
        "albums": page.items,
        "more": page.next_cursor,
        "form": AlbumForm(auto_id="album_%s"),
    }


@login_required
@require_GET
@refusals_as_pages
def album_list(request):
    page = selectors.album_list(viewer=request.user, cursor=request.GET.get("cursor"), limit=24)
    context = {"page": page, "form": AlbumForm(auto_id="album_%s")}
    return render(request, "albums/list.html", context)


@page_action
def album_create(request):
    form = AlbumForm(request.POST)
    if not form.is_valid():
        error = next(iter(form.errors.values()))[0]
        messages.error(request, error)
        return redirect(request.POST.get("next_url") or reverse("albums:list"))
    circle_id = request.POST.get("circle_id") or None
    album = services.album_create(
        owner=request.user, circle_id=circle_id, kind=request.POST.get("kind") or None,
        **form.cleaned_data,
    )  # fmt: skip
    messages.success(request, f"Album “{album.title}” created.")
    return redirect(_album_url(album))


@login_required
@require_GET
@refusals_as_pages
def album_detail(request, album_id):
    album = selectors.album_get_visible(viewer=request.user, album_id=album_id)
    items = selectors.album_items(album=album, viewer=request.user)
    can = selectors.album_abilities(album, user=request.user)
    for index, item in enumerate(items):  # the keyboard buttons' targets, without JS
        item.earlier = None if index == 0 else (items[index - 2].pk if index > 1 else "")
        item.later = items[index + 1].pk if index + 1 < len(items) else None
        item.removable = can["remove_any"] or (can["add"] and item.added_by_id == request.user.pk)
    context = {
        "album": album,
        "items": items,
        "can": can,
        "aspects": Aspect.choices,
        "max_uploads": MAX_UPLOADS,
        "pickable": selectors.post_list_pickable(user=request.user, limit=12) if can["add"] else [],
    }
    return render(request, "albums/detail.html", context)


def _album_action(request, album_id, act, done: str = ""):
    album = selectors.album_get_visible(viewer=request.user, album_id=album_id)
    act(album)
    if done:
        messages.success(request, done)
    return redirect(_album_url(album))


@page_action
def album_upload(request, album_id):
    uploads = request.FILES.getlist("images")
    return _album_action(
        request, album_id,
        lambda album: services.album_images_add(actor=request.user, album=album, uploads=uploads),
        f"{len(uploads)} photo{'s' if len(uploads) != 1 else ''} added; processing.",
    )  # fmt: skip


@page_action
def album_pick(request, album_id):
    post_id = request.POST.get("post_id", "")
    return _album_action(
        request, album_id,
        lambda album: services.album_posts_add(actor=request.user, album=album, post_id=post_id),
        "Added from your post.",
    )  # fmt: skip


@page_action
def album_item_move(request, album_id, item_id):
    after_id = request.POST.get("after_id") or None
    return _album_action(
        request, album_id,
        lambda album: services.album_item_move(
            actor=request.user, album=album, item_id=item_id, after_id=after_id
        ),
    )  # fmt: skip


@page_action
def album_item_remove(request, album_id, item_id):
    return _album_action(
        request, album_id,
        lambda album: services.album_item_remove(actor=request.user, album=album, item_id=item_id),
        "Photo removed.",
    )  # fmt: skip


@page_action
def album_cover(request, album_id):
    form = CoverForm(request.POST)

    def act(album):
        data = form.cleaned_data if form.is_valid() else QueryDict()
        crop = {k: data.get(k) for k in ("x", "y", "width", "height")}
        if not form.is_valid() or None in crop.values():
            item = services.album_item_for_cover(album=album, item_id=request.POST.get("item_id"))
            crop = services.cover_crop_centered(image=item.image, aspect=request.POST.get("aspect"))
        services.album_cover_set(
            actor=request.user, album=album, item_id=request.POST.get("item_id"),
            aspect=request.POST.get("aspect", ""), crop=crop,
        )  # fmt: skip

    return _album_action(request, album_id, act, "Cover saved.")


@page_action
def album_update(request, album_id):
    form = AlbumForm(request.POST)
    data = form.cleaned_data if form.is_valid() else {"title": request.POST.get("title", "")}
    return _album_action(
        request, album_id,
        lambda album: services.album_update(actor=request.user, album=album, **data),
        "Album saved.",
    )  # fmt: skip


@page_action
def album_delete(request, album_id):
    album = selectors.album_get_visible(viewer=request.user, album_id=album_id)
    services.album_delete(actor=request.user, album=album)
    messages.success(request, f"Album “{album.title}” deleted.")
    if album.circle_id:
        return redirect(reverse("circles:detail", args=[album.circle_id]) + "#space-albums")
    return redirect("albums:list")


@page_action
def album_like(request, album_id):
    return _album_action(
        request, album_id, lambda album: services.album_like(user=request.user, album=album)
    )


@page_action
def album_unlike(request, album_id):
    return _album_action(
        request, album_id, lambda album: services.album_unlike(user=request.user, album=album)
    )
