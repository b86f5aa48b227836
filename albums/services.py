"""Every write about albums: create, edit, delete; photos in (uploads through media's one
path, or picked from your posts), out, and in order; the cover; likes.

Writes that depend on who may do them lock the album row and read the actor's role again
inside the transaction, so a removal from the circle, a concurrent move or a deletion is
never acted on from a stale read. Moves write one row (the midpoint of the new
neighbours' positions); two members moving at once queue on the album's lock, so each
move sees the other's result and the order stays one total order.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.http import Http404

from accounts.models import Circle, CircleMembership, User
from accounts.selectors import circle_get_for_member
from albums.models import (
    ASPECT_RATIOS,
    DESCRIPTION_MAX,
    GAP,
    IMAGE_PURPOSE,
    MAX_UPLOADS,
    TITLE_MAX,
    Album,
    AlbumItem,
    AlbumKind,
    AlbumLike,
    Aspect,
    Audience,
)
from albums.selectors import album_abilities, albums_with_details
from circles.errors import ApiError
from circles.ids import uuid_or_404
from media.models import Image, ImageState
from media.services import images_accept, images_delete, images_purge
from notifications.services import notification_create_on_commit, notification_remove
from posts.models import Post, PostStatus, Visibility

# A crop box's aspect may be off its aspect's ratio by this much (rounding to pixels).
ASPECT_TOLERANCE = 0.02


# --- notifications: where each event will be told (the notifications app is landing) ----


def _notify_circle(*, album: Album, actor: User, kind: str) -> None:
    """Tell the circle's other members about their circle's album (circle albums only)."""
    if album.kind != AlbumKind.CIRCLE or album.circle_id is None:
        return
    others = User.objects.filter(circle_memberships__circle_id=album.circle_id).exclude(pk=actor.pk)
    for member in others:
        notification_create_on_commit(actor=actor, recipient=member, kind=kind, target_id=album.pk)


def notify_album_created(*, album: Album) -> None:
    """ "ana made the album Summer in your circle", to its other members."""
    _notify_circle(album=album, actor=album.owner, kind="album_created")


def notify_photos_added(*, album: Album, actor: User, items: list[AlbumItem]) -> None:
    """ "ana and ben added photos to Summer": grouped per album (BY_TARGET), deduplicated
    within the notifications' one-hour window however many batches."""
    _notify_circle(album=album, actor=actor, kind="album_photos")


def notify_album_liked(*, album: Album, actor: User) -> None:
    """ "ana liked your album Summer", to its owner (never for their own like)."""
    notification_create_on_commit(
        actor=actor, recipient=album.owner, kind="album_like", target_id=album.pk
    )


# --- albums -------------------------------------------------------------------------------


def _clean_text(*, title: str | None, description: str | None) -> dict:
    errors, fields = {}, {}
    if title is not None:
        title = title.strip()
        if not title:
            errors["title"] = ["Give the album a title."]
        elif len(title) > TITLE_MAX:
            errors["title"] = [f"At most {TITLE_MAX} characters."]
        fields["title"] = title
    if description is not None:
        description = description.strip()
        if len(description) > DESCRIPTION_MAX:
            errors["description"] = [f"At most {DESCRIPTION_MAX} characters."]
        fields["description"] = description
    if errors:
        raise ValidationError(errors)
    return fields


def album_create(
    *, owner: User, title: str, description: str = "", circle_id=None, kind: str | None = None
) -> Album:
    """A personal album (followers, or shown to one circle with kind "personal") or,
    with a circle and no kind, the circle's own album. Http404 for a circle owner is not in."""
    fields = _clean_text(title=title, description=description)
    kind = kind or (AlbumKind.CIRCLE if circle_id else AlbumKind.PERSONAL)
    if kind not in AlbumKind.values:
        raise ValidationError({"kind": ["Choose personal or circle."]})
    circle = None
    if circle_id:
        circle = circle_get_for_member(circle_id=circle_id, viewer=owner)
    elif kind == AlbumKind.CIRCLE:
        raise ValidationError({"circle_id": ["A circle's album needs its circle."]})
    audience = Audience.CIRCLE if circle else Audience.FOLLOWERS
    album = Album(kind=kind, owner=owner, circle=circle, audience=audience, **fields)
    album.full_clean()
    album.save()
    if kind == AlbumKind.CIRCLE:
        notify_album_created(album=album)
    return album


def _locked(album: Album, actor: User) -> Album:
    """The album row locked for this transaction, with the actor's role now."""
    locked = albums_with_details(Album.objects.select_for_update(of=("self",)), viewer=actor)
    found = locked.filter(pk=album.pk).first()
    if found is None:
        raise Http404
    return found


def _require(album: Album, actor: User, ability: str, message: str) -> dict:
    abilities = album_abilities(album, user=actor)
    if album.kind == AlbumKind.CIRCLE and getattr(album, "viewer_role", None) is None:
        raise Http404  # no longer in the circle: the album is gone for them
    if not abilities[ability]:
        raise PermissionDenied(message)
    return abilities


def album_update(*, actor: User, album: Album, title=None, description=None) -> Album:
    fields = _clean_text(title=title, description=description)
    with transaction.atomic():
        locked = _locked(album, actor)
        _require(locked, actor, "manage", "Only the album's owner or the circle's admins edit it.")
        if fields:
            Album.objects.filter(pk=album.pk).update(**fields)
    return album


def album_delete(*, actor: User, album: Album) -> None:
    """Delete an album, its likes and its uploaded photos (their files by a task); photos
    picked from posts stay with their posts."""
    with transaction.atomic():
        locked = _locked(album, actor)
        _require(
            locked, actor, "manage", "Only the album's owner or the circle's admins delete it."
        )
        _albums_delete(Album.objects.filter(pk=album.pk))


def _albums_delete(albums) -> None:
    uploads = Image.objects.filter(purpose=IMAGE_PURPOSE, album_items__album__in=albums)
    images_delete(images_to_delete=list(uploads))
    albums.delete()


def albums_circle_deleting(*, circle: Circle) -> None:
    """accounts.hooks.circle_deleting: the circle's albums go with it, photos and files."""
    _albums_delete(Album.objects.filter(circle=circle))


def album_uploads_rehome(*, circle: Circle) -> None:
    """accounts.hooks.circle_members_changed: photos that someone who left uploaded into
    the circle's albums stay there (the circle owns them) and pass to the circle's owner,
    so the one who left loses their media URLs too (media always lets an image's owner
    see it)."""
    members = CircleMembership.objects.filter(circle=circle).values("user")
    Image.objects.filter(
        purpose=IMAGE_PURPOSE,
        album_items__album__circle=circle,
        album_items__album__kind=AlbumKind.CIRCLE,
    ).exclude(owner__in=members).update(owner=circle.owner_id)


# --- photos in ------------------------------------------------------------------------------


def _next_position(album: Album) -> int:
    last = AlbumItem.objects.filter(album=album).aggregate(m=Max("position"))["m"]
    return (last or 0) + GAP


def album_images_add(*, actor: User, album: Album, uploads: list, alts=()) -> list[AlbumItem]:
    """Upload 1–20 photos into an album, at its end, through media's one upload path."""
    if not uploads:
        raise ValidationError({"images": ["Choose at least one photo."]})
    if len(uploads) > MAX_UPLOADS:
        raise ValidationError({"images": [f"At most {MAX_UPLOADS} photos at a time."]})
    with transaction.atomic():
        locked = _locked(album, actor)
        _require(locked, actor, "add", "Only the album's owner adds photos to it.")
        with images_accept(
            owner=actor, uploads=uploads, purpose=IMAGE_PURPOSE, alts=alts
        ) as images:
            position = _next_position(album)
            items = [
                AlbumItem(album=album, image=image, added_by=actor, position=position + i * GAP)
                for i, image in enumerate(images)
            ]
            AlbumItem.objects.bulk_create(items)
        notify_photos_added(album=locked, actor=actor, items=items)
    return items


def _audience_refusal(*, post: Post, album: Album) -> str | None:
    """Why post's photos may not go into album (its audience would see more than the
    post's own rule shows them), or None when every one of them may see the post."""
    if album.audience == Audience.FOLLOWERS:
        if post.visibility in (Visibility.PUBLIC, Visibility.FOLLOWERS):
            return None  # the owner's own post: their followers may see it
        return "This photo is shared with one circle only; this album is shown to your followers."
    if post.visibility == Visibility.CIRCLE and post.circle_id == album.circle_id:
        return None
    members = User.objects.filter(circle_memberships__circle_id=album.circle_id).order_by("pk")
    left_out = [
        member.username
        for member in members
        if not Post.objects.visible_to(member).filter(pk=post.pk).exists()
    ]
    if not left_out:
        return None
    shown = {
        Visibility.FOLLOWERS: "your followers only",
        Visibility.CIRCLE: "another circle",
        Visibility.PUBLIC: "your followers only (your account is private)",
    }[post.visibility]
    people = ", ".join(f"@{name}" for name in left_out[:5]) + ("…" if len(left_out) > 5 else "")
    return (
        f"This photo is shared with {shown}, and {len(left_out)} of the people who see this "
        f"album can't see it ({people}). Adding it would show it to them."
    )


def album_posts_add(*, actor: User, album: Album, post_id, image_ids=None) -> list[AlbumItem]:
    """Put photos of one of actor's own published posts into an album (the same image
    rows: media keeps asking the post's rule). Refused when the album's audience is wider
    than the post's, or when a photo is in the album already; nothing is added then."""
    post = Post.objects.filter(
        pk=uuid_or_404(post_id), author=actor, status=PostStatus.PUBLISHED
    ).first()
    if post is None:
        raise Http404
    images = list(post.images.filter(state=ImageState.READY).order_by("post_image__position"))
    if image_ids:
        wanted = {str(i) for i in image_ids}
        images = [image for image in images if str(image.pk) in wanted]
        if len(images) != len(wanted):
            raise ValidationError({"image_ids": ["Pick photos of that post."]})
    if not images:
        raise ValidationError({"post_id": ["That post has no photos to add."]})
    with transaction.atomic():
        locked = _locked(album, actor)
        _require(locked, actor, "add", "Only the album's owner adds photos to it.")
        reason = _audience_refusal(post=post, album=locked)
        if reason:
            raise ApiError(400, "audience_wider", reason, fields={"post_id": [reason]})
        if AlbumItem.objects.filter(album=album, image__in=images).exists():
            raise ApiError(409, "conflict", "That photo is in this album already.")
        position = _next_position(album)
        items = [
            AlbumItem(
                album=album, image=image, post=post, added_by=actor, position=position + i * GAP
            )
            for i, image in enumerate(images)
        ]
        AlbumItem.objects.bulk_create(items)
        notify_photos_added(album=locked, actor=actor, items=items)
    return items


# --- photos out, order, cover -------------------------------------------------------------------


def _item_in(album: Album, item_id, *, field: str | None = None) -> AlbumItem:
    """An item of album; Http404 (or, for a field of the body, a 400) otherwise."""
    try:
        item_uuid = uuid_or_404(item_id)
        return AlbumItem.objects.select_related("image").get(album=album, pk=item_uuid)
    except (Http404, AlbumItem.DoesNotExist) as exc:
        if field:
            raise ValidationError({field: ["That photo is not in this album."]}) from exc
        raise Http404 from exc


def album_item_remove(*, actor: User, album: Album, item_id) -> None:
    """Take a photo out: your own, or any as the album's manager. An uploaded photo is
    deleted with its files; a post's photo stays with its post."""
    with transaction.atomic():
        locked = _locked(album, actor)
        abilities = _require(locked, actor, "add", "Only the album's owner removes its photos.")
        item = _item_in(album, item_id)
        if item.added_by_id != actor.pk and not abilities["remove_any"]:
            raise PermissionDenied("You can remove the photos you added; admins remove any.")
        if locked.cover_item_id == item.pk:
            Album.objects.filter(pk=album.pk).update(cover_aspect="", cover_crop={})
        item.delete()
        if item.image.purpose == IMAGE_PURPOSE:
            images_delete(images_to_delete=[item.image])


def albums_rebalance(album: Album) -> None:
    """Renumber an album's positions GAP apart in their order (when a move found no room).
    Call with the album locked."""
    ids = list(AlbumItem.objects.filter(album=album).order_by("position").values_list("pk"))
    # through negative positions first, so no step collides with a row not yet moved
    for index, (pk,) in enumerate(ids, start=1):
        AlbumItem.objects.filter(pk=pk).update(position=-index)
    for index, (pk,) in enumerate(ids, start=1):
        AlbumItem.objects.filter(pk=pk).update(position=index * GAP)


def album_item_move(*, actor: User, album: Album, item_id, after_id=None) -> int:
    """Put an item right after another (after_id) or first (None); one row written, unless
    the neighbours left no room and the album is renumbered first. Returns its position."""
    with transaction.atomic():
        locked = _locked(album, actor)
        _require(locked, actor, "arrange", "Only the album's owner arranges it.")
        item = _item_in(album, item_id)
        others = AlbumItem.objects.filter(album=album).exclude(pk=item.pk).order_by("position")
        for _attempt in range(2):
            if after_id:
                after = _item_in(album, after_id, field="after_id")
                if after.pk == item.pk:
                    raise ValidationError({"after_id": ["A photo can't go after itself."]})
                low = after.position
                following = others.filter(position__gt=low).first()
                high = following.position if following else low + 2 * GAP
            else:
                first = others.first()
                high = first.position if first else 2 * GAP
                low = high - 2 * GAP
            if high - low >= 2:
                position = (low + high) // 2
                AlbumItem.objects.filter(pk=item.pk).update(position=position)
                return position
            albums_rebalance(album)
    raise ApiError(409, "conflict", "The album's order changed; try again.")  # pragma: no cover


def _clean_crop(crop, *, aspect: str, image: Image) -> dict:
    errors = {}
    if aspect not in Aspect.values:
        errors["aspect"] = ["Choose 1:1, 2:3 or 16:9."]
    box = {}
    if not isinstance(crop, dict):
        errors["crop"] = ["Give x, y, width and height as fractions of the photo (0 to 1)."]
    else:
        for name in ("x", "y", "width", "height"):
            value = crop.get(name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                errors[f"crop.{name}"] = ["A number from 0 to 1."]
                continue
            box[name] = float(value)
        if len(box) == 4:
            if not (0 <= box["x"] < 1 and 0 <= box["y"] < 1):
                errors["crop"] = ["The box must start inside the photo."]
            elif not (box["width"] > 0 and box["height"] > 0):
                errors["crop"] = ["The box must have a width and a height."]
            elif box["x"] + box["width"] > 1.0001 or box["y"] + box["height"] > 1.0001:
                errors["crop"] = ["The box must stay inside the photo."]
            elif not errors and image.width and image.height:
                ratio = (box["width"] * image.width) / (box["height"] * image.height)
                wanted = ASPECT_RATIOS[aspect]
                if abs(ratio - wanted) / wanted > ASPECT_TOLERANCE:
                    errors["crop"] = [f"The box is not {aspect}."]
    if errors:
        raise ValidationError(errors)
    return {name: round(value, 6) for name, value in box.items()}


def album_cover_set(*, actor: User, album: Album, item_id, aspect: str, crop) -> None:
    """Choose the cover: one of the album's ready photos, an aspect and the crop box the
    browser drew (fractions of the photo's width and height)."""
    with transaction.atomic():
        locked = _locked(album, actor)
        _require(locked, actor, "arrange", "Only the album's owner sets its cover.")
        item = _item_in(album, item_id, field="item_id")
        if item.image.state != ImageState.READY:
            raise ValidationError({"item_id": ["That photo is still processing."]})
        box = _clean_crop(crop, aspect=aspect, image=item.image)
        Album.objects.filter(pk=album.pk).update(
            cover_item=item, cover_aspect=aspect, cover_crop=box
        )


def album_cover_clear(*, actor: User, album: Album) -> None:
    with transaction.atomic():
        locked = _locked(album, actor)
        _require(locked, actor, "arrange", "Only the album's owner sets its cover.")
        Album.objects.filter(pk=album.pk).update(cover_item=None, cover_aspect="", cover_crop={})


# --- likes ----------------------------------------------------------------------------------


def album_like(*, user: User, album: Album) -> tuple[bool, int]:
    """Like an album viewer sees; safe to repeat."""
    _, created = AlbumLike.objects.get_or_create(user=user, album=album)
    if created and album.owner_id != user.pk:
        notify_album_liked(album=album, actor=user)
    return True, AlbumLike.objects.filter(album=album).count()


def album_unlike(*, user: User, album: Album) -> tuple[bool, int]:
    deleted, _ = AlbumLike.objects.filter(user=user, album=album).delete()
    if deleted:
        notification_remove(actor=user, kind="album_like", target_id=album.pk)
    return False, AlbumLike.objects.filter(album=album).count()


def album_item_for_cover(*, album: Album, item_id) -> AlbumItem:
    return _item_in(album, item_id, field="item_id")


def cover_crop_centered(*, image: Image, aspect: str) -> dict:
    """The largest centred box of aspect in image (fractions), for a cover chosen
    without the browser's crop step."""
    ratio = ASPECT_RATIOS.get(aspect)
    if ratio is None or not image.width or not image.height:
        return {"x": 0, "y": 0, "width": 1, "height": 1}
    image_ratio = image.width / image.height
    if image_ratio > ratio:  # wider than the aspect: full height
        width = ratio / image_ratio
        return {"x": (1 - width) / 2, "y": 0, "width": width, "height": 1}
    height = image_ratio / ratio
    return {"x": 0, "y": (1 - height) / 2, "width": 1, "height": height}


def albums_account_deleting(*, user: User) -> None:
    """accounts.hooks.account_deleting: the photos the person uploaded into any album go
    (now: a circle would otherwise keep them when they leave it), their personal albums
    go, and a circle's albums they made pass to the circle's owner — or go, when the
    circle had nobody else. Safe to run again."""
    going = Album.objects.filter(
        Q(kind=AlbumKind.PERSONAL) | Q(circle__owner=user), owner=user
    ).values("pk")
    uploads = Image.objects.filter(purpose=IMAGE_PURPOSE).filter(
        Q(owner=user) | Q(album_items__album__in=going)
    )
    images_purge(images_to_purge=uploads.distinct())
    Album.objects.filter(pk__in=going).delete()
    for album in Album.objects.filter(owner=user).select_related("circle"):
        Album.objects.filter(pk=album.pk).update(owner=album.circle.owner_id)
