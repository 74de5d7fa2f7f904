"""Admin for the service desk: the administrator maintains the per-category rules (routing and SLA
limits); requests and visits are shown read-only — they change only through the services, which
keep the timeline and the audit trail."""

from django.contrib import admin

from zhiyuan.core.admin import AuditHistoryAdminMixin
from zhiyuan.servicedesk.models import CategoryRule, RequestEvent, ServiceRequest, Visit


@admin.register(CategoryRule)
class CategoryRuleAdmin(AuditHistoryAdminMixin, admin.ModelAdmin):
    list_display = ["category", "department", "sign_for_days", "reply_days", "resolve_days", "resolve_days_complex"]
    list_editable = ["sign_for_days", "reply_days", "resolve_days", "resolve_days_complex"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "department":
            from zhiyuan.accounts.models import Organisation, OrganisationKind

            kwargs["queryset"] = Organisation.objects.filter(kind=OrganisationKind.DISTRICT)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadOnlyAdmin(AuditHistoryAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RequestEventInline(admin.TabularInline):
    model = RequestEvent
    fields = ["on", "kind", "from_status", "to_status", "actor", "note", "visible_to_firm"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ServiceRequest)
class ServiceRequestAdmin(ReadOnlyAdmin):
    list_display = ["id", "title", "enterprise", "category", "status", "assignee", "received_on", "resolve_due"]
    list_filter = ["status", "category", "channel", "escalation_level"]
    search_fields = ["title", "enterprise__name"]
    date_hierarchy = "received_on"
    list_select_related = ["enterprise", "assignee"]
    inlines = [RequestEventInline]


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdmin):
    list_display = ["visited_on", "enterprise", "visitor", "organisation"]
    search_fields = ["enterprise__name", "findings"]
    date_hierarchy = "visited_on"
    list_select_related = ["enterprise", "visitor", "organisation"]
