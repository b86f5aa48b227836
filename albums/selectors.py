"""Every read of albums that carries a rule: visibility (Album.objects.visible_to), the
photos a viewer sees in one, what a viewer may do with it, and the image rule media asks."""

from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from accounts.models import CircleMembership, CircleRole
from accounts.selectors import circle_get_for_member
from albums.models import Album, AlbumItem, AlbumKind, AlbumLike
from circles.ids import uuid_or_404
from circles.links import reverse_with_id
from circles.pagination import DEFAULT_LIMIT, PageResult, paginate
from media.links import media_url_for_id
from media.models import ImageState
from notifications.registry import Target as NotificationTarget
from posts.models import Post, PostImage, PostStatus


def items_visible_to(items: QuerySet, viewer) -> QuerySet:
    """The photos of an album (one viewer may see) that viewer sees: its uploads, and the
    photos picked from posts only while the post's own rule lets viewer see the post, so
    an album never widens who sees a post's photo (a member who joined later, a block)."""
    return items.filter(Q(post__isnull=True) | Q(post__in=Post.objects.visible_to(viewer)))


def _count_of(queryset: QuerySet):
    counted = (
        queryset.filter(album=OuterRef("pk")).order_by().values("album").annotate(n=Count("*"))
    )
    return Coalesce(Subquery(counted.values("n"), output_field=IntegerField()), 0)


def albums_with_details(albums: QuerySet, *, viewer) -> QuerySet:
    """Everything an album card shows, in the one query: owner, circle, the cover's photo
    (and cover_visible), photo_count (the photos viewer sees), like_count and liked."""
    ready = AlbumItem.objects.filter(image__state=ImageState.READY)
    return albums.select_related("owner", "circle", "cover_item__image").annotate(
        photo_count=_count_of(items_visible_to(ready, viewer)),
        like_count=_count_of(AlbumLike.objects.all()),
        liked=Exists(AlbumLike.objects.filter(album=OuterRef("pk"), user=viewer)),
        # a cover picked from a post shows only to those who may see the post
        cover_visible=Exists(
            items_visible_to(AlbumItem.objects.filter(pk=OuterRef("cover_item_id")), viewer)
        ),
        # the first photo viewer sees, for a card without a cover
        preview_image_id=Subquery(
            items_visible_to(ready.filter(album=OuterRef("pk")), viewer)
            .order_by("position")
            .values("image_id")[:1]
        ),
        viewer_role=Subquery(
            CircleMembership.objects.of(user=viewer, circle=OuterRef("circle")).values("role")[:1]
        ),
    )


def album_get_visible(*, viewer, album_id) -> Album:
    """An album viewer may see, with its details; Http404 for anything else."""
    albums = Album.objects.visible_to(viewer).filter(pk=uuid_or_404(album_id))
    album = albums_with_details(albums, viewer=viewer).first()
    if album is None:
        raise Http404
    return album


def album_items(*, album: Album, viewer) -> list[AlbumItem]:
    """The photos of album (one viewer may see) that viewer sees, in album order, with
    their image and adder: one query however many."""
    items = items_visible_to(AlbumItem.objects.filter(album=album), viewer)
    return list(items.select_related("image", "added_by").order_by("position"))


def album_list(
    *, viewer, circle_id=None, circle=None, cursor=None, limit=DEFAULT_LIMIT
) -> PageResult:
    """Albums viewer may see, newest first: one circle's (by id: Http404 unless viewer is
    in it; or a circle the caller found viewer in), or without a circle the ones viewer
    owns and those of viewer's circles."""
    albums = Album.objects.visible_to(viewer)
    if circle_id is not None:
        circle = circle_get_for_member(circle_id=circle_id, viewer=viewer)
    if circle is not None:
        albums = albums.filter(circle=circle)
    elif viewer.is_authenticated:
        mine = CircleMembership.objects.filter(user=viewer).values("circle")
        albums = albums.filter(Q(owner=viewer) | Q(circle__in=mine))
    return paginate(albums_with_details(albums, viewer=viewer), cursor=cursor, limit=limit)


def album_abilities(album: Album, *, user) -> dict:
    """What user may do with an album they see (needs albums_with_details' viewer_role).

    Personal: the owner does everything. Circle-owned: every member adds photos, moves
    them and sets the cover; a member removes their own photos; the album's creator and
    the circle's owner and admins remove any photo, rename and delete.
    """
    owner = album.owner_id == user.pk
    if album.kind == AlbumKind.PERSONAL:
        return dict.fromkeys(("add", "arrange", "manage", "remove_any"), owner)
    role = getattr(album, "viewer_role", None)
    member = role is not None
    manager = member and (owner or role in (CircleRole.OWNER, CircleRole.ADMIN))
    return {"add": member, "arrange": member, "manage": manager, "remove_any": manager}


def album_image_visible(viewer, image) -> bool:
    """Media's rule for an album upload: viewer may see an album that holds it."""
    albums = Album.objects.visible_to(viewer)
    return AlbumItem.objects.filter(image=image, album__in=albums).exists()


def album_count_for_circle(*, circle, viewer) -> int:
    return Album.objects.visible_to(viewer).filter(circle=circle).count()


def post_list_pickable(*, user, limit: int = 30) -> list[Post]:
    """user's own published posts with their photos, newest first: what they may pick
    photos from into an album (the service still checks each album's audience)."""
    return list(
        Post.objects.filter(author=user, status=PostStatus.PUBLISHED)
        .select_related("circle")
        .prefetch_related(
            Prefetch(
                "post_images",
                queryset=PostImage.objects.select_related("image").order_by("position"),
            )
        )
        .order_by("-created_at", "-id")[:limit]
    )


def album_notification_targets(viewer, ids) -> dict:
    """What a notification shows of these albums (one query): the album's title, its page,
    the thumbnail its card shows the recipient (the cover when they may see it, else the
    first photo they see: albums_with_details). Visibility was asked before
    (Album.objects.visible_to)."""
    rows = albums_with_details(Album.objects.filter(pk__in=ids), viewer=viewer)
    found = {}
    for album in rows:
        cover = album.cover_item.image_id if album.cover_item and album.cover_visible else None
        thumb = cover or album.preview_image_id
        found[album.pk] = NotificationTarget(
            label=album.title,
            url=reverse_with_id("albums:detail", "album_id", album.pk),
            thumbnail=media_url_for_id(thumb, "thumbnail", "jpeg") if thumb else None,
        )
    return found


def albums_export_section(*, user, archive) -> dict:
    """albums' part of "Download your data": the albums the person owns or added photos
    to that they may still see, each with the photos they added."""
    albums = (
        Album.objects.visible_to(user)
        .filter(Q(owner=user) | Q(items__added_by=user))
        .distinct()
        .select_related("circle")
        .order_by("created_at")
    )
    mine = Prefetch(
        "items",
        queryset=AlbumItem.objects.filter(added_by=user)
        .select_related("image")
        .order_by("position"),
        to_attr="added",
    )
    items = [
        {
            "kind": "album",
            "id": str(album.pk),
            "title": album.title,
            "description": album.description,
            "yours": album.owner_id == user.pk,
            "circle": album.circle.name if album.circle_id else None,
            "created_at": album.created_at.isoformat(),
            "photos": [archive.photo(item.image, folder="photos/albums") for item in album.added],
        }
        for album in albums.prefetch_related(mine)
    ]
    return {"title": "Albums", "items": items}
