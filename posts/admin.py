from django.contrib import admin, messages
from django.db.models import Count

from posts import services
from posts.models import (
    Bookmark,
    Comment,
    CommentLike,
    Hashtag,
    Like,
    Mention,
    Post,
    PostHashtag,
    PostImage,
)


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
    list_select_related = ("author",)
    date_hierarchy = "created_at"
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
    list_display = ("id", "author", "post", "parent", "like_count", "created_at")
    list_filter = ("created_at",)
    search_fields = ("author__username", "content")
    raw_id_fields = ("author", "post", "parent")
    list_select_related = ("author", "post", "parent")


@admin.register(Like)
class LikeAdmin(admin.ModelAdmin):
    list_display = ("user", "post", "created_at")
    search_fields = ("user__username", "=post__id")
    raw_id_fields = ("user", "post")
    list_select_related = ("user", "post")


@admin.register(Bookmark)
class BookmarkAdmin(admin.ModelAdmin):
    list_display = ("user", "post", "created_at")
    search_fields = ("user__username", "=post__id")
    raw_id_fields = ("user", "post")
    list_select_related = ("user", "post")


@admin.register(Hashtag)
class HashtagAdmin(admin.ModelAdmin):
    list_display = ("name", "posts")
    search_fields = ("name",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(post_total=Count("post_hashtags"))

    @admin.display(description="posts", ordering="post_total")
    def posts(self, obj) -> int:
        return obj.post_total


@admin.register(PostHashtag)
class PostHashtagAdmin(admin.ModelAdmin):
    list_display = ("hashtag", "post")
    search_fields = ("hashtag__name", "=post__id")
    raw_id_fields = ("post", "hashtag")
    list_select_related = ("hashtag", "post")


@admin.register(Mention)
class MentionAdmin(admin.ModelAdmin):
    list_display = ("user", "post")
    search_fields = ("user__username", "=post__id")
    raw_id_fields = ("post", "user")
    list_select_related = ("user", "post")


@admin.register(CommentLike)
class CommentLikeAdmin(admin.ModelAdmin):
    list_display = ("user", "comment", "created_at")
    search_fields = ("user__username", "=comment__id")
    raw_id_fields = ("user", "comment")
    list_select_related = ("user", "comment")


@admin.register(PostImage)
class PostImageAdmin(admin.ModelAdmin):
    list_display = ("post", "image", "position")
    search_fields = ("=post__id", "=image__id")
    raw_id_fields = ("post", "image")
    list_select_related = ("post", "image")
