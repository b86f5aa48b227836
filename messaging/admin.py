"""Chat in the admin: metadata only. Private messages are private from operators too:
no page here shows, searches or exports a message's text, a chat photo or a group's
title — who talks with whom, how much and when is what an operator may see (to act on
abuse reports and capacity). Everything is read-only: chat changes go through the
messaging services, never a form."""

from django.contrib import admin
from django.db.models import Count, F, Prefetch
from django.db.models.functions import Length

from messaging.models import Conversation, Message, Participant, Reaction


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "people", "message_count", "circle", "created_at", "updated_at")
    list_filter = ("kind", "created_at")
    search_fields = ("=id", "participants__user__username")
    fields = (
        "id",
        "kind",
        "circle",
        "created_by",
        "people",
        "message_count",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    list_select_related = ("circle",)
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        participants = Participant.objects.select_related("user").only(
            "conversation_id", "user__username"
        )
        return (
            super()
            .get_queryset(request)
            .defer("title")
            .select_related("created_by")
            .annotate(message_total=Count("messages", distinct=True))
            .prefetch_related(Prefetch("participants", queryset=participants))
        )

    @admin.display(description="participants")
    def people(self, obj) -> str:
        return ", ".join(sorted(p.user.username for p in obj.participants.all()))

    @admin.display(description="messages", ordering="message_total")
    def message_count(self, obj) -> int:
        return obj.message_total


@admin.register(Participant)
class ParticipantAdmin(ReadOnlyAdmin):
    list_display = ("user", "conversation_id", "last_read_seq", "muted", "joined_at")
    list_filter = ("muted",)
    search_fields = ("user__username", "=conversation__id")
    fields = ("user", "conversation_id", "last_read_seq", "cleared_seq", "muted", "joined_at")
    readonly_fields = fields
    list_select_related = ("user",)


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    """When, who, where and how big; never what."""

    list_display = (
        "id",
        "sender",
        "conversation_id",
        "seq",
        "text_length",
        "photo_bytes",
        "story_reply",
        "created_at",
    )
    list_filter = ("story_reply", "created_at")
    search_fields = ("sender__username", "=conversation__id", "=id")
    fields = (
        "id",
        "sender",
        "conversation_id",
        "seq",
        "text_length",
        "photo_bytes",
        "story_reply",
        "created_at",
    )
    readonly_fields = fields
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        # the text is measured by the database and never loaded into this process
        return (
            super()
            .get_queryset(request)
            .defer("content", "client_id")
            .select_related("sender")
            .annotate(content_length=Length("content"), photo_size=F("image__original_bytes"))
        )

    @admin.display(description="text length", ordering="content_length")
    def text_length(self, obj) -> int:
        return obj.content_length or 0

    @admin.display(description="photo size (bytes)")
    def photo_bytes(self, obj) -> int | None:
        return obj.photo_size


@admin.register(Reaction)
class ReactionAdmin(ReadOnlyAdmin):
    list_display = ("user", "message_id", "created_at")
    search_fields = ("user__username", "=message__id")
    fields = ("user", "message_id", "created_at")
    readonly_fields = fields
    list_select_related = ("user",)
