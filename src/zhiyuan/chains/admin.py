"""Admin for the chain maps: the administrator maintains the chains, their segments and nodes and the
nodes' mapping rules (keywords, industry codes, the weak threshold); every save and delete is audited.
Firms at nodes and targets change through the pages' services (which keep decisions and leads
consistent) and are shown here read-only; the administrator may delete a target entered by mistake."""

from django.contrib import admin

from zhiyuan.accounts.models import Role
from zhiyuan.chains.models import IndustryChain, Node, NodeFirm, Segment, Target
from zhiyuan.core.admin import AuditHistoryAdminMixin
from zhiyuan.core.services import audit_record, diff, snapshot


def _is_admin(request) -> bool:
    user = request.user
    return bool(user.is_authenticated and user.is_active and user.role == Role.ADMIN)


class AuditedAdmin(AuditHistoryAdminMixin, admin.ModelAdmin):
    """Reference data the administrator edits; each save records the changed fields, each delete the row."""

    def has_add_permission(self, request):
        return _is_admin(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return _is_admin(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _is_admin(request) and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        fields = [field.name for field in obj._meta.concrete_fields if field.name != "id"]
        names = [name for name in form.changed_data if name in fields] if change else fields
        before = snapshot(type(obj).objects.get(pk=obj.pk), names) if change else {}
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action=f"chains.{obj._meta.model_name}.{'updated' if change else 'created'}",
            obj=obj,
            changes=diff(before, snapshot(obj, names)),
        )

    def delete_model(self, request, obj):
        audit_record(actor=request.user, action=f"chains.{obj._meta.model_name}.deleted", obj=obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            audit_record(actor=request.user, action=f"chains.{obj._meta.model_name}.deleted", obj=obj)
        super().delete_queryset(request, queryset)


class SegmentInline(admin.TabularInline):
    model = Segment
    fields = ["order", "name"]
    extra = 0
    show_change_link = True


class NodeInline(admin.TabularInline):
    model = Node
    fields = ["order", "name", "position", "keywords", "industry_codes", "weak_below"]
    extra = 0
    show_change_link = True


@admin.register(IndustryChain)
class IndustryChainAdmin(AuditedAdmin):
    list_display = ["order", "name", "code"]
    list_display_links = ["name"]
    search_fields = ["name", "code"]
    inlines = [SegmentInline]


@admin.register(Segment)
class SegmentAdmin(AuditedAdmin):
    list_display = ["chain", "order", "name"]
    list_display_links = ["name"]
    list_filter = ["chain"]
    search_fields = ["name"]
    inlines = [NodeInline]


@admin.register(Node)
class NodeAdmin(AuditedAdmin):
    list_display = ["name", "segment", "position", "order", "weak_below", "industry_codes"]
    list_filter = ["segment__chain", "position"]
    search_fields = ["name", "keywords", "industry_codes", "segment__name"]
    list_select_related = ["segment__chain"]
    fields = ["segment", "name", "position", "order", "keywords", "industry_codes", "weak_below", "description"]


class ReadOnlyAdmin(AuditHistoryAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(NodeFirm)
class NodeFirmAdmin(ReadOnlyAdmin):
    list_display = ["node", "enterprise", "status", "is_key", "matched_by", "decided_by", "decided_at"]
    list_filter = ["status", "is_key", "node__segment__chain"]
    search_fields = ["enterprise__name", "node__name"]
    list_select_related = ["node", "enterprise", "decided_by"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Target)
class TargetAdmin(ReadOnlyAdmin):
    list_display = ["name", "node", "location", "status", "project", "created_by", "created_at", "is_demo"]
    list_filter = ["status", "node__segment__chain", "is_demo"]
    search_fields = ["name", "main_products", "location"]
    list_select_related = ["node", "project", "created_by"]

    def has_delete_permission(self, request, obj=None):
        return _is_admin(request) and super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        audit_record(actor=request.user, action="chains.target.deleted", obj=obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            audit_record(actor=request.user, action="chains.target.deleted", obj=obj)
        super().delete_queryset(request, queryset)
