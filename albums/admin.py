from django.contrib import admin
from django.db.models import Count

from albums.models import Album, AlbumItem, AlbumLike


@admin.register(Album)
class AlbumAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "kind", "audience", "circle", "photos", "created_at")
    list_filter = ("kind", "audience", "created_at")
    search_fields = ("title", "owner__username", "circle__name")
    raw_id_fields = ("owner", "circle", "cover_item")
    readonly_fields = ("created_at", "updated_at")
    list_select_related = ("owner", "circle")
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(photo_total=Count("items"))

    @admin.display(description="photos", ordering="photo_total")
    def photos(self, obj) -> int:
        return obj.photo_total


@admin.register(AlbumItem)
class AlbumItemAdmin(admin.ModelAdmin):
    list_display = ("id", "album", "added_by", "image_id", "post_id", "position", "added_at")
    search_fields = ("album__title", "added_by__username", "=album__id")
    raw_id_fields = ("album", "image", "post", "added_by")
    list_select_related = ("album", "added_by")
    readonly_fields = ("added_at",)


@admin.register(AlbumLike)
class AlbumLikeAdmin(admin.ModelAdmin):
    list_display = ("user", "album", "created_at")
    search_fields = ("user__username", "album__title")
    raw_id_fields = ("user", "album")
    list_select_related = ("user", "album")
