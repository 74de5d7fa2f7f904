"""What each role may do. Services ask these; views and the API only render their answer."""

from rest_framework.permissions import BasePermission

from zhiyuan.accounts.models import Role

# Roles that maintain the enterprise registry (create firms, edit every field).
REGISTRY_EDITORS = frozenset({Role.ADMIN, Role.INVESTMENT, Role.PROJECT, Role.SERVICE_STAFF, Role.SPECIALIST})

# Roles whose work needs firms' phone numbers and ID numbers in clear.
UNMASKED_ROLES = frozenset(
    {Role.ADMIN, Role.INVESTMENT, Role.PROJECT, Role.SERVICE_STAFF, Role.SPECIALIST, Role.WINDOW_CLERK}
)


def is_authenticated(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def is_district_staff(user) -> bool:
    """Any district role (read access to the registry and the dashboards)."""
    return is_authenticated(user) and user.is_district


def can_edit_registry(user) -> bool:
    """May create enterprises and edit every registry field."""
    return is_authenticated(user) and user.role in REGISTRY_EDITORS


def can_import_registry(user) -> bool:
    """May import the registry from Excel (same roles as full editing)."""
    return can_edit_registry(user)


def sees_personal_data(user) -> bool:
    """Sees phone and ID numbers unmasked (own firm's always; others' only for roles that need them)."""
    return is_authenticated(user) and user.role in UNMASKED_ROLES


def can_use_admin(user) -> bool:
    return is_authenticated(user) and user.role == Role.ADMIN


class IsDistrictStaff(BasePermission):
    """DRF permission: district staff only (API schema and docs)."""

    def has_permission(self, request, view) -> bool:
        return is_district_staff(request.user)
