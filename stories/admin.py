from django.contrib import admin, messages

from stories import services
from stories.models import Story, StoryView


@admin.register(Story)
class StoryAdmin(admin.ModelAdmin):
    list_display = ("id", "author", "audience", "circle", "created_at", "expires_at")
    list_filter = ("audience", "created_at")
    search_fields = ("author__username",)
    raw_id_fields = ("author", "circle", "image")
    readonly_fields = ("created_at", "expires_at")
    list_select_related = ("author", "circle")
    date_hierarchy = "created_at"
    actions = ["remove_stories"]

    @admin.action(description="Remove selected stories and their files")
    def remove_stories(self, request, queryset):
        count = 0
        for story in queryset.select_related("image"):
            services.story_delete(story=story, actor=request.user)
            count += 1
        self.message_user(request, f"Removed {count} stories.", messages.SUCCESS)

    def delete_model(self, request, obj):
        # deleting from the admin removes the files too, like every other path
        services.story_delete(story=obj, actor=request.user)


@admin.register(StoryView)
class StoryViewAdmin(admin.ModelAdmin):
    list_display = ("story", "viewer", "viewed_at")
    search_fields = ("viewer__username", "=story__id")
    raw_id_fields = ("story", "viewer")
    list_select_related = ("story", "viewer")
