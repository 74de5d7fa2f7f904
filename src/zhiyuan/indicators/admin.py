"""Admin for indicators: read-only. Definitions, values and targets change through the pages and the
API, whose services check periods, numbers and growth rates and audit every write."""

from django.contrib import admin

from zhiyuan.core.admin import AuditHistoryAdminMixin
from zhiyuan.indicators.models import Indicator, IndicatorValue, Target


class ReadOnlyAdmin(AuditHistoryAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Indicator)
class IndicatorAdmin(ReadOnlyAdmin):
    list_display = ["sequence", "name", "code", "unit", "period_type", "cumulative", "higher_is_better", "is_active"]
    list_display_links = ["name"]
    list_filter = ["group", "period_type", "is_active", "on_cockpit", "is_demo"]
    search_fields = ["name", "code", "aliases"]


@admin.register(IndicatorValue)
class IndicatorValueAdmin(ReadOnlyAdmin):
    list_display = ["indicator", "year", "period", "value", "period_value", "source_growth", "entered_by", "entered_at"]
    list_filter = ["indicator", "year", "is_demo"]
    list_select_related = ["indicator", "entered_by"]


@admin.register(Target)
class TargetAdmin(ReadOnlyAdmin):
    list_display = ["indicator", "year", "value", "growth", "set_by", "set_at"]
    list_filter = ["year", "is_demo"]
    list_select_related = ["indicator", "set_by"]
