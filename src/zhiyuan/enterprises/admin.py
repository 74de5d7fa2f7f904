from django.contrib import admin

from zhiyuan.core.admin import AuditHistoryAdminMixin
from zhiyuan.enterprises.models import Enterprise, Industry, ParkZone, Tag


@admin.register(Industry)
class IndustryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "section"]
    list_filter = ["level", "section"]
    search_fields = ["code", "name"]


@admin.register(ParkZone)
class ParkZoneAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Enterprise)
class EnterpriseAdmin(AuditHistoryAdminMixin, admin.ModelAdmin):
    """Read-only in the admin: registry changes go through the pages so they are validated and audited."""

    list_display = ["name", "uscc", "industry", "size_class", "chain", "status", "is_demo"]
    list_filter = ["size_class", "chain", "status", "is_demo"]
    search_fields = ["name", "short_name", "uscc"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
