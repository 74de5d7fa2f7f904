from django.contrib import admin

from zhiyuan.core.models import AuditEntry, CalendarOverride, WorkCalendarYear


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
