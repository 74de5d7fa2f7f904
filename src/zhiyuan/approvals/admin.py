"""Admin for the approval desk: the administrator maintains the item catalogue (事项清单) and its
materials; saving goes through approvals.services.item_save, so every change is audited.
Applications are shown read-only: they change only through the desk's services, which keep the
timeline, the audit trail and the messages to the city consistent."""

from django.contrib import admin

from zhiyuan.accounts.models import Role
from zhiyuan.approvals.models import (
    Application,
    ApplicationEvent,
    ApplicationMaterial,
    ApprovalItem,
    MaterialRequirement,
)
from zhiyuan.approvals.services import item_save
from zhiyuan.core.admin import AuditHistoryAdminMixin
from zhiyuan.core.services import audit_record


def _is_admin(request) -> bool:
    user = request.user
    return bool(user.is_authenticated and user.is_active and user.role == Role.ADMIN)


class MaterialRequirementInline(admin.TabularInline):
    model = MaterialRequirement
    fields = ["order", "name", "required", "file_types", "note"]
    extra = 1


@admin.register(ApprovalItem)
class ApprovalItemAdmin(AuditHistoryAdminMixin, admin.ModelAdmin):
    list_display = ["order", "name", "code", "department", "time_limit_workdays", "requires_project_code", "is_active"]
    list_display_links = ["name"]
    list_filter = ["is_active", "requires_project_code", "department"]
    search_fields = ["name", "code", "department"]
    inlines = [MaterialRequirementInline]

    # Only the administrator role edits the catalogue (item_save checks it again); items that
    # applications refer to are deactivated rather than deleted.
    def has_add_permission(self, request):
        return _is_admin(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return _is_admin(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        # The code is how the rest of the system (and the city) refers to an item: fixed once it exists.
        return ["code"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        item_save(actor=request.user, item=obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        changes = {}
        for formset in formsets:
            if formset.model is not MaterialRequirement:
                continue
            added = [str(m) for m in formset.new_objects]
            changed = [str(m) for m, _fields in formset.changed_objects]
            removed = [str(m) for m in formset.deleted_objects]
            if added:
                changes["materials_added"] = [None, added]
            if changed:
                changes["materials_changed"] = [None, changed]
            if removed:
                changes["materials_removed"] = [removed, None]
        if changes:
            audit_record(
                actor=request.user, action="approvals.item.materials_saved", obj=form.instance, changes=changes
            )


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ApplicationMaterialInline(ReadOnlyInline):
    model = ApplicationMaterial
    fields = ["requirement", "original_name", "size", "sha256", "round", "is_current", "uploaded_by", "uploaded_at"]
    readonly_fields = fields


class ApplicationEventInline(ReadOnlyInline):
    model = ApplicationEvent
    fields = ["at", "kind", "actor", "note", "message_id"]
    readonly_fields = fields


@admin.register(Application)
class ApplicationAdmin(AuditHistoryAdminMixin, admin.ModelAdmin):
    """Read-only: applications move only through the desk's pages, API and the city's messages."""

    list_display = ["number", "item", "enterprise", "project", "status", "received_on", "accept_due",
                    "city_case_number", "city_due", "decision", "certificate_number"]
    list_filter = ["status", "item", "decision", "accepted_automatically", "corrections_requested", "is_demo"]
    search_fields = ["number", "project_code", "city_case_number", "certificate_number", "enterprise__name",
                     "project__name"]
    date_hierarchy = "created_at"
    list_select_related = ["item", "enterprise", "project"]
    inlines = [ApplicationMaterialInline, ApplicationEventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
