from django.contrib import admin, messages

from posts import services
from posts.models import Bookmark, Comment, Hashtag, Like, Post, PostImage


class PostImageInline(admin.TabularInline):
    model = PostImage
    extra = 0
    raw_id_fields = ("image",)
    readonly_fields = ("position",)


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "author",
        "visibility",
        "status",
        "like_count",
        "comment_count",
        "created_at",
    )
    list_filter = ("status", "visibility", "created_at")
    search_fields = ("author__username", "caption", "location")
    raw_id_fields = ("author", "circle")
    readonly_fields = ("like_count", "comment_count", "created_at", "updated_at")
    inlines = [PostImageInline]
    actions = ["remove_posts"]

    @admin.action(description="Remove selected posts and their files")
    def remove_posts(self, request, queryset):
        for post in queryset:
            services.post_delete(post=post, actor=request.user)
        self.message_user(request, f"Removed {queryset.count()} posts.", messages.SUCCESS)

    def delete_model(self, request, obj):
        # deleting from the admin must remove the files too, like every other path
        services.post_delete(post=obj, actor=request.user)


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("id", "author", "post", "parent", "created_at")
    search_fields = ("author__username", "content")
    raw_id_fields = ("author", "post", "parent")


@admin.register(Like)
class LikeAdmin(admin.ModelAdmin):
    list_display = ("user", "post", "created_at")
    raw_id_fields = ("user", "post")


@admin.register(Bookmark)
class BookmarkAdmin(admin.ModelAdmin):
    list_display = ("user", "post", "created_at")
    raw_id_fields = ("user", "post")


@admin.register(Hashtag)
class HashtagAdmin(admin.ModelAdmin):
    search_fields = ("name",)
