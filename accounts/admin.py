"""Django admin for accounts: people (with a ban action), tokens, the graph, circles.

Every way the admin stops an account goes through the services, as the site does:
unticking "active" bans (sessions, tokens and sockets end), deleting starts the same
account deletion its owner can ask for (everything they own goes, files included, by a
task), and a password set here revokes tokens and ends sessions and sockets.
"""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm

from accounts.models import (
    ApiToken,
    Block,
    Circle,
    CircleInvite,
    CircleMembership,
    Follow,
    FollowRequest,
    Invitation,
    User,
)
from accounts.services import (
    account_delete_start,
    user_ban,
    user_ban_check,
    user_password_changed,
    user_unban,
)
from circles.errors import ApiError


class PasswordChangeForm(AdminPasswordChangeForm):
    """The admin's password form, ending the person's tokens, sessions and sockets."""

    def save(self, commit=True):
        user = super().save(commit=commit)
        if commit:
            # the admin's view then keeps its own session if it changed its own password
            user_password_changed(user=user)
        return user


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    change_password_form = PasswordChangeForm
    raw_id_fields = ("avatar",)
    ordering = ("username",)
    list_display = ("username", "email", "display_name", "is_private", "is_staff", "is_active")
    list_filter = ("is_private", "is_staff", "is_active")
    search_fields = ("username", "email", "display_name")
    readonly_fields = ("last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Profile", {"fields": ("email", "display_name", "bio", "avatar", "is_private")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"fields": ("username", "email", "password1", "password2")}),)
    actions = ["ban", "unban"]

    def save_model(self, request, obj, form, change):
        """Saved as Django does; unticking "active" is a ban (tokens, sessions, sockets),
        refused (the box stays ticked) for yourself or the last superuser."""
        banning = change and "is_active" in form.changed_data and not obj.is_active
        if banning:
            try:
                user_ban_check(user=obj, by=request.user)
            except ApiError as refused:
                obj.is_active, banning = True, False
                self.message_user(request, refused.message, messages.WARNING)
        super().save_model(request, obj, form, change)
        if banning:
            user_ban(user=obj)

    def delete_model(self, request, obj):
        account_delete_start(user=obj)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            account_delete_start(user=user)

    @admin.action(description="Ban: deactivate, end sessions, delete API tokens")
    def ban(self, request, queryset):
        banned = 0
        for user in queryset:
            try:
                user_ban(user=user, by=request.user)
            except ApiError as refused:  # yourself, a superuser, the last superuser
                self.message_user(request, f"{user.username}: {refused.message}", messages.WARNING)
                continue
            banned += 1
        self.message_user(request, f"Banned {banned} account(s).", messages.SUCCESS)

    @admin.action(description="Unban: let them sign in again")
    def unban(self, request, queryset):
        users = list(queryset.filter(is_active=False))
        for user in users:
            user_unban(user=user)
        self.message_user(request, f"Unbanned {len(users)} account(s).", messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "created_at", "last_used_at")
    search_fields = ("user__username", "name")
    readonly_fields = ("key_hash", "created_at", "last_used_at")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin):
    list_display = ("follower", "following", "created_at")
    search_fields = ("follower__username", "following__username")
    list_select_related = ("follower", "following")
    autocomplete_fields = ("follower", "following")
    date_hierarchy = "created_at"


@admin.register(FollowRequest)
class FollowRequestAdmin(admin.ModelAdmin):
    list_display = ("requester", "target", "created_at")
    search_fields = ("requester__username", "target__username")
    list_select_related = ("requester", "target")
    autocomplete_fields = ("requester", "target")


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin):
    list_display = ("blocker", "blocked", "created_at")
    search_fields = ("blocker__username", "blocked__username")
    list_select_related = ("blocker", "blocked")
    autocomplete_fields = ("blocker", "blocked")


class CircleMembershipInline(admin.TabularInline):
    model = CircleMembership
    extra = 0
    autocomplete_fields = ("user",)
    readonly_fields = ("created_at",)


class CircleInviteInline(admin.TabularInline):
    model = CircleInvite
    extra = 0
    autocomplete_fields = ("invitee", "invited_by")
    readonly_fields = ("created_at",)


@admin.register(Circle)
class CircleAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "created_at")
    search_fields = ("name", "owner__username")
    list_select_related = ("owner",)
    autocomplete_fields = ("owner",)
    inlines = [CircleMembershipInline, CircleInviteInline]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Read only: links are made on the settings page or by `manage.py invite_create`
    (the token is shown once and stored hashed), and withdrawn by the member who made
    them."""

    list_display = ("note", "created_by", "created_at", "expires_at", "used_by", "revoked_at")
    search_fields = ("note", "created_by__username", "used_by__username")
    list_select_related = ("created_by", "used_by")
    readonly_fields = [field.name for field in Invitation._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CircleMembership)
class CircleMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "circle", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "circle__name")
    list_select_related = ("user", "circle")
    autocomplete_fields = ("user",)
    raw_id_fields = ("circle",)


@admin.register(CircleInvite)
class CircleInviteAdmin(admin.ModelAdmin):
    list_display = ("invitee", "circle", "invited_by", "created_at")
    search_fields = ("invitee__username", "circle__name")
    list_select_related = ("invitee", "circle", "invited_by")
    autocomplete_fields = ("invitee", "invited_by")
    raw_id_fields = ("circle",)
