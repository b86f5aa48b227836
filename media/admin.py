from django.contrib import admin, messages

from media import services
from media.models import Image


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    """Image rows: state, sizes and storage keys, never the picture itself (staff have
    no path to a photo they may not see; chat photos stay private from operators)."""

    list_display = (
        "id",
        "owner",
        "purpose",
        "state",
        "width",
        "height",
        "original_bytes",
        "renditions_bytes",
        "attempts",
        "created_at",
    )
    list_filter = ("state", "purpose", "created_at")
    search_fields = ("owner__username", "=id", "error")
    raw_id_fields = ("owner",)
    readonly_fields = (
        "original_key",
        "renditions",
        "blurhash",
        "claimed_at",
        "attempts",
        "original_bytes",
        "renditions_bytes",
    )
    list_select_related = ("owner",)
    date_hierarchy = "created_at"

    def get_exclude(self, request, obj=None):
        # a chat photo's alt text is part of a private message
        if obj is not None and obj.purpose == "message":
            return ("alt",)
        return super().get_exclude(request, obj)

    actions = ["reprocess"]

    @admin.action(description="Process again from the original")
    def reprocess(self, request, queryset):
        count = services.image_reprocess(image_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Queued {count} images for processing.", messages.SUCCESS)
