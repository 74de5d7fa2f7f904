"""Admin for the product database.

Products are read-only here: they change only through the services (the pages, the API, the Excel
import), which check who may write, audit each change and append to the change log the search
index follows — an edit here would bypass all three. The reference data is the administrator's:
certifications (a search facet), synonym groups (applied to queries at once) and the industry
vocabulary (kept whole by the segmenter; products already indexed are segmented anew at the next
`zhiyuan catalog reindex`)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from zhiyuan.accounts.models import Role
from zhiyuan.catalog.models import (
    Certification,
    IndexState,
    Product,
    ProductChange,
    ProductUpload,
    Synonym,
    VocabularyTerm,
)
from zhiyuan.core.admin import AuditHistoryAdminMixin


def _is_admin(request) -> bool:
    user = request.user
    return bool(user.is_authenticated and user.is_active and user.role == Role.ADMIN)


class AdminRoleOnly(admin.ModelAdmin):
    """Shown to, and edited by, the administrator role only."""

    def has_module_permission(self, request):
        return _is_admin(request)

    def has_view_permission(self, request, obj=None):
        return _is_admin(request)

    def has_add_permission(self, request):
        return _is_admin(request)

    def has_change_permission(self, request, obj=None):
        return _is_admin(request)

    def has_delete_permission(self, request, obj=None):
        return _is_admin(request)


class ReadOnly(AdminRoleOnly):
    """Looked at, never written, here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Certification)
class CertificationAdmin(AdminRoleOnly):
    list_display = ["name", "order", "product_count"]
    list_editable = ["order"]
    search_fields = ["name"]

    @admin.display(description=_("products"))
    def product_count(self, obj):
        return obj.products.count()

    def has_delete_permission(self, request, obj=None):
        # A certification products hold stays: removing it would silently change those products.
        if obj is not None and obj.products.exists():
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Synonym)
class SynonymAdmin(AdminRoleOnly):
    list_display = ["terms", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["terms"]


@admin.register(VocabularyTerm)
class VocabularyTermAdmin(AdminRoleOnly):
    list_display = ["word"]
    search_fields = ["word"]


@admin.register(Product)
class ProductAdmin(AuditHistoryAdminMixin, ReadOnly):
    list_display = ["name", "enterprise", "model_numbers", "category", "is_active", "is_demo", "updated_at"]
    list_filter = ["is_active", "is_demo", "certifications"]
    search_fields = ["name", "model_numbers", "enterprise__name", "enterprise__uscc"]
    list_select_related = ["enterprise"]
    raw_id_fields = ["enterprise"]
    list_per_page = 50


@admin.register(ProductChange)
class ProductChangeAdmin(ReadOnly):
    list_display = ["id", "product_id", "op", "at"]
    list_filter = ["op"]
    search_fields = ["product_id"]
    list_per_page = 100


@admin.register(IndexState)
class IndexStateAdmin(ReadOnly):
    list_display = ["backend", "applied_change_id", "documents", "rebuilt_at", "note"]


@admin.register(ProductUpload)
class ProductUploadAdmin(ReadOnly):
    list_display = ["original_name", "uploaded_by", "uploaded_at", "state", "created_count", "updated_count"]
    list_filter = ["state"]
    list_select_related = ["uploaded_by"]
