from django.contrib import admin

from notifications.models import Notification, NotificationActor


class NotificationActorInline(admin.TabularInline):
    model = NotificationActor
    extra = 0
    raw_id_fields = ["actor"]
    readonly_fields = ["created_at"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["kind", "recipient", "actor", "actor_count", "updated_at", "read_at"]
    list_filter = ["kind", "target_type"]
    search_fields = ["recipient__username", "actor__username"]
    raw_id_fields = ["recipient", "actor"]
    list_select_related = ["recipient", "actor"]
    date_hierarchy = "updated_at"
    inlines = [NotificationActorInline]


@admin.register(NotificationActor)
class NotificationActorAdmin(admin.ModelAdmin):
    list_display = ["actor", "notification", "target_id", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["actor__username", "=notification__id"]
    raw_id_fields = ["notification", "actor"]
    list_select_related = ["actor", "notification"]
