from django.contrib import admin, messages

from media import services
from media.models import Image


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "purpose", "state", "width", "height", "attempts", "created_at")
    list_filter = ("state", "purpose")
    search_fields = ("owner__username", "id", "error")
    raw_id_fields = ("owner",)
    readonly_fields = ("original_key", "renditions", "blurhash", "claimed_at", "attempts")
    actions = ["reprocess"]

    @admin.action(description="Process again from the original")
    def reprocess(self, request, queryset):
        count = services.image_reprocess(image_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Queued {count} images for processing.", messages.SUCCESS)
