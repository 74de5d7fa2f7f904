from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse

from zhiyuan.core.models import AuditEntry, CalendarOverride, DailyRun, Notification, WorkCalendarYear
from zhiyuan.core.selectors import audit_history


class AuditHistoryAdminMixin:
    """Show an object's Zhiyuan audit trail as its admin "History" page."""

    def history_view(self, request, object_id, extra_context=None):
        obj = get_object_or_404(self.model, pk=object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": str(obj),
            "object": obj,
            "opts": self.model._meta,
            "history": audit_history(obj)[:500],
            **(extra_context or {}),
        }
        return TemplateResponse(request, "core/admin_history.html", context)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only view of the audit trail: entries can be searched but never added, changed or deleted."""

    list_display = ["at", "actor_repr", "action", "content_type", "object_repr"]
    list_filter = ["action", "content_type"]
    search_fields = ["actor_repr", "object_repr", "action", "object_id"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    list_display = ["date", "is_workday", "name"]
    list_filter = ["is_workday"]
    date_hierarchy = "date"


@admin.register(WorkCalendarYear)
class WorkCalendarYearAdmin(admin.ModelAdmin):
    list_display = ["year", "note"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "title", "read_at"]
    list_filter = ["read_at"]
    search_fields = ["title", "recipient__username"]


@admin.register(DailyRun)
class DailyRunAdmin(admin.ModelAdmin):
    list_display = ["day", "name", "enqueued_at"]
