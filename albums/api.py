"""Albums endpoints (shared/API.md "Circles and albums", and the additions in the README):
thin handlers over albums.services and albums.selectors."""

from ninja import File, Form, Query, Router, Status, UploadedFile

from albums import selectors, services
from albums.schemas import (
    AlbumDetailOut,
    AlbumIn,
    AlbumItemsOut,
    AlbumMoveIn,
    AlbumOut,
    AlbumPatchIn,
    AlbumPostPickIn,
    CoverIn,
    MoveOut,
)
from circles.openapi import errors
from circles.ratelimits import enforce
from circles.schemas import Page, PageParams
from posts.schemas import LikeOut

router = Router(tags=["albums"])


def _detail(request, album_id):
    album = selectors.album_get_visible(viewer=request.auth, album_id=album_id)
    album.items_list = selectors.album_items(album=album, viewer=request.auth)
    return album


@router.get("", response=Page[AlbumOut])
def album_list(request, page: Query[PageParams], circle_id: str | None = None):
    """One circle's albums (404 unless you are in it), or yours and your circles'."""
    found = selectors.album_list(viewer=request.auth, circle_id=circle_id, **page.dict())
    return {"items": found.items, "next_cursor": found.next_cursor}


@router.post("", response={201: AlbumOut})
def album_create(request, payload: AlbumIn):
    album = services.album_create(owner=request.auth, **payload.dict())
    return Status(201, selectors.album_get_visible(viewer=request.auth, album_id=album.pk))


@router.get("/{album_id}", response=AlbumDetailOut)
def album_detail(request, album_id: str):
    return _detail(request, album_id)


@router.patch("/{album_id}", response=AlbumOut)
def album_update(request, album_id: str, payload: AlbumPatchIn):
    """Rename or describe (the album's owner, or the circle's owner and admins)."""
    album = selectors.album_get_visible(viewer=request.auth, album_id=album_id)
    services.album_update(actor=request.auth, album=album, **payload.dict())
    return selectors.album_get_visible(viewer=request.auth, album_id=album_id)


@router.delete("/{album_id}", response={204: None})
def album_delete(request, album_id: str):
    album = selectors.album_get_visible(viewer=request.auth, album_id=album_id)
    services.album_delete(actor=request.auth, album=album)
    return Status(204, None)


@router.post("/{album_id}/images", response={202: AlbumItemsOut}, openapi_extra=errors(429))
def album_images_add(
    request, album_id: str, images: File[list[UploadedFile]], alt: Form[list[str]] = None
):
    """Upload 1–20 photos (multipart `images`, optional `alt` per photo); each is
    processed like any photo (status processing, then ready or failed)."""
    enforce(request, "album_photos", key=f"user:{request.auth.pk}")
    album = selectors.album_get_visible(viewer=request.auth, album_id=album_id)
    items = services.album_images_add(
        actor=request.auth, album=album, uploads=images, alts=alt or []
    )
    return Status(202, {"items": items})


@router.post("/{album_id}/posts", response={201: AlbumItemsOut}, openapi_extra=errors(409))
def album_posts_add(request, album_id: str, payload: AlbumPostPickIn):
    """Put photos of one of your posts into the album (all, or image_ids). 400
    audience_wider when the album would show them to someone the post doesn't."""
    album = selectors.album_get_visible(viewer=request.auth, album_id=album_id)
    items = services.album_posts_add(actor=request.auth, album=album, **payload.dict())
    return Status(201, {"items": items})


@router.delete("/{album_id}/items/{item_id}", response={204: None})
def album_item_remove(request, album_id: str, item_id: str):
    album = selectors.album_get_visible(viewer=request.auth, album_id=album_id)
    services.album_item_remove(actor=request.auth, album=album, item_id=item_id)
    return Status(204, None)


@router.post("/{album_id}/items/{item_id}/move", response=MoveOut, openapi_extra=errors(409))
def album_item_move(request, album_id: str, item_id: str, payload: AlbumMoveIn):
    album = selectors.album_get_visible(viewer=request.auth, album_id=album_id)
    position = services.album_item_move(
        actor=request.auth, album=album, item_id=item_id, after_id=payload.after_id
    )
    return {"position": position}


@router.put("/{album_id}/cover", response=AlbumOut)
def album_cover_set(request, album_id: str, payload: CoverIn):
    """The cover: one of its photos, aspect 1:1, 2:3 or 16:9, and the crop box
    {x, y, width, height} in fractions (0..1) of the photo's width and height."""
    album = selectors.album_get_visible(viewer=request.auth, album_id=album_id)
    services.album_cover_set(actor=request.auth, album=album, **payload.dict())
    return selectors.album_get_visible(viewer=request.auth, album_id=album_id)


@router.delete("/{album_id}/cover", response={204: None})
def album_cover_clear(request, album_id: str):
    album = selectors.album_get_visible(viewer=request.auth, album_id=album_id)
    services.album_cover_clear(actor=request.auth, album=album)
    return Status(204, None)


@router.post("/{album_id}/like", response=LikeOut, openapi_extra=errors(429))
def album_like(request, album_id: str):
    enforce(request, "like", key=f"user:{request.auth.pk}")
    album = selectors.album_get_visible(viewer=request.auth, album_id=album_id)
    liked, like_count = services.album_like(user=request.auth, album=album)
    return {"liked": liked, "like_count": like_count}


@router.delete("/{album_id}/like", response=LikeOut)
def album_unlike(request, album_id: str):
    album = selectors.album_get_visible(viewer=request.auth, album_id=album_id)
    liked, like_count = services.album_unlike(user=request.auth, album=album)
    return {"liked": liked, "like_count": like_count}
