"""The admin site: Django's, with every ModelAdmin audited and the stats page added.

StaffAdminSite wraps each ModelAdmin registered on it (wherever it is declared) in
AuditedAdmin, so apps below this floor write plain ModelAdmins and every add, change,
delete and action an operator makes in the admin still leaves an audit row with the
address it came from.
"""

from django.contrib import admin
from django.urls import path

from staff import services, views


class AuditedAdmin:
    """Mixed in front of every registered ModelAdmin: Django's admin log hooks, plus one
    audit row per add, change, delete and bulk action."""

    def _audit(self, request, action: str, obj=None, **detail):
        meta = self.model._meta
        services.audit_record(
            actor=request.user,
            ip=services.request_ip(request),
            action=action,
            target_type=meta.label_lower,
            target_id=getattr(obj, "pk", "") or "",
            target_repr=str(obj) if obj is not None else meta.verbose_name_plural,
            detail=detail,
        )

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        self._audit(request, "admin.add", obj)
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        changed = sorted(
            {name for item in message or [] for name in item.get("changed", {}).get("fields", [])}
        )
        self._audit(request, "admin.change", obj, fields=changed)
        return entry

    def log_deletions(self, request, queryset):
        entries = super().log_deletions(request, queryset)
        for obj in queryset:
            self._audit(request, "admin.delete", obj)
        return entries

    def response_action(self, request, queryset):
        """A bulk action (ban, unban, remove, delete…): one row naming it and its rows."""
        name = request.POST.get("action", "")
        selected = request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME)
        response = super().response_action(request, queryset)
        if name and selected and name != "delete_selected":  # deletions log themselves
            self._audit(request, f"admin.action.{name}", ids=selected[:100], count=len(selected))
        return response


class StaffAdminSite(admin.AdminSite):
    site_header = "Circles administration"
    site_title = "Circles admin"
    index_template = "admin/circles_index.html"

    def register(self, model_or_iterable, admin_class=None, **options):
        base = admin_class or admin.ModelAdmin
        audited = type(base.__name__, (AuditedAdmin, base), {"__module__": base.__module__})
        super().register(model_or_iterable, audited, **options)

    def get_urls(self):
        stats = path("stats/", self.admin_view(views.stats_page), name="stats")
        return [stats, *super().get_urls()]
