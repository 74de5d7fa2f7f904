"""Reads of the product database: what each user may see, and the firm-level lists the pages show.

Products are the park's shop window: every signed-in person (district staff, firm users, banks)
sees the listed products of every firm, so "who here can supply X?" has an answer for all of them.
A product taken off the list (`is_active=False`) is seen only by those who may edit the firm's
products — its own users and the registry's editors — and by district staff. The city's machine
client sees nothing. Writes are the services' business (`services.may_edit_products_of`).
"""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from zhiyuan.accounts.models import Role, User
from zhiyuan.accounts.permissions import can_edit_registry, is_authenticated, is_district_staff
from zhiyuan.catalog.models import Certification, Product, ProductUpload, SupplyNeed
from zhiyuan.catalog.services import may_edit_products_of
from zhiyuan.core.errors import NotFoundError, PermissionDeniedError
from zhiyuan.enterprises.models import Enterprise
from zhiyuan.enterprises.selectors import enterprise_get_for, enterprises_visible_to


def uses_catalog(user: User | None) -> bool:
    """Everyone signed in except the city's machine client."""
    return is_authenticated(user) and user.role != Role.CITY


def _with_relations(queryset: QuerySet[Product]) -> QuerySet[Product]:
    return queryset.select_related("enterprise", "enterprise__zone", "enterprise__industry").prefetch_related(
        Prefetch("certifications", queryset=Certification.objects.order_by("order", "name"))
    )


def products_visible_to(user: User | None) -> QuerySet[Product]:
    """The one scoping function for products: listed products for everyone who uses the catalog,
    unlisted ones too for district staff and for the firm's own users."""
    if not uses_catalog(user):
        return Product.objects.none()
    base = _with_relations(Product.objects.all())
    if is_district_staff(user):
        return base
    if user.enterprise_id:
        return base.filter(Q(is_active=True) | Q(enterprise_id=user.enterprise_id))
    return base.filter(is_active=True)


def product_get_for(user: User | None, pk) -> Product:
    """One product the user may see; NotFoundError otherwise, exactly as for one that does not exist."""
    try:
        return products_visible_to(user).get(pk=pk)
    except (Product.DoesNotExist, ValueError, TypeError):
        raise NotFoundError() from None


def products_of(enterprise: Enterprise, *, listed_only: bool = False) -> QuerySet[Product]:
    """A firm's products (all of them, or the listed ones only), by name."""
    queryset = _with_relations(Product.objects.filter(enterprise=enterprise)).order_by("name", "model_numbers", "pk")
    return queryset.filter(is_active=True) if listed_only else queryset


def products_of_for(user: User | None, enterprise: Enterprise) -> QuerySet[Product]:
    """A firm's products as `user` sees them: unlisted ones only for those who see them anywhere."""
    return products_visible_to(user).filter(enterprise=enterprise).order_by("name", "model_numbers", "pk")


def may_edit_product(user: User | None, product: Product) -> bool:
    """May `user` change or delete this product (the firm itself, or the registry's editors)?"""
    return user is not None and may_edit_products_of(user, product.enterprise)


def may_edit_firm_products(user: User | None, enterprise: Enterprise) -> bool:
    """May `user` add products to (and edit the products and supply needs of) this firm?"""
    return user is not None and may_edit_products_of(user, enterprise)


def may_import(user: User | None) -> bool:
    """Who may import products from Excel: a firm user (its own rows only) and the registry's editors."""
    if not is_authenticated(user):
        return False
    return bool(user.enterprise_id) or can_edit_registry(user)


def sees_enterprise(user: User | None, enterprise_id: int) -> bool:
    """May `user` open the firm's page (district staff, the firm's own users)?"""
    return enterprises_visible_to(user).filter(pk=enterprise_id).exists()


def firms_visible_among(user: User | None, ids: set[int]) -> set[int]:
    """Which of the given firms' pages the user may open (for links from products to firms)."""
    if not ids:
        return set()
    return set(enterprises_visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))


def enterprise_for_new_product(user: User | None, pk) -> Enterprise:
    """The firm a user adds a product to: a firm user only its own (another firm is "not found"),
    registry editors any firm; others may not add products (PermissionDeniedError)."""
    if not uses_catalog(user):
        raise PermissionDeniedError()
    if user.enterprise_id:
        if str(user.enterprise_id) != str(pk).strip():
            raise NotFoundError()
        return enterprise_get_for(user, user.enterprise_id)
    if not is_district_staff(user):
        raise PermissionDeniedError()
    enterprise = enterprise_get_for(user, pk)
    if not may_edit_products_of(user, enterprise):
        raise PermissionDeniedError()
    return enterprise


def enterprises_for_product_form(user: User | None) -> QuerySet[Enterprise]:
    """The firms a user may add products to, for a picker (a firm user: its own)."""
    if not uses_catalog(user):
        return Enterprise.objects.none()
    if user.enterprise_id:
        return Enterprise.objects.filter(pk=user.enterprise_id)
    if not can_edit_registry(user):
        return Enterprise.objects.none()
    return Enterprise.objects.all()


def certifications() -> QuerySet[Certification]:
    """Every certification, in the administrator's order."""
    return Certification.objects.order_by("order", "name")


def supply_needs_of(enterprise: Enterprise) -> QuerySet[SupplyNeed]:
    """The materials and parts a firm buys, by item."""
    return SupplyNeed.objects.filter(enterprise=enterprise).select_related("created_by").order_by("item", "pk")


def supply_need_get_for(user: User | None, pk) -> SupplyNeed:
    """One supply need of a firm whose page the user may open; NotFoundError otherwise."""
    visible = enterprises_visible_to(user).values("pk") if uses_catalog(user) else Enterprise.objects.none()
    try:
        return SupplyNeed.objects.select_related("enterprise").get(pk=pk, enterprise__in=visible)
    except (SupplyNeed.DoesNotExist, ValueError, TypeError):
        raise NotFoundError() from None


def upload_get_for(user: User | None, pk) -> ProductUpload:
    """A product upload of its uploader; NotFoundError for anyone else, exactly as for a missing one."""
    if not is_authenticated(user):
        raise NotFoundError()
    try:
        return ProductUpload.objects.get(pk=pk, uploaded_by=user)
    except (ProductUpload.DoesNotExist, ValueError, TypeError):
        raise NotFoundError() from None


def uploads_of(user: User) -> QuerySet[ProductUpload]:
    """A user's recent product uploads, newest first."""
    return ProductUpload.objects.filter(uploaded_by=user).order_by("-uploaded_at", "-pk")
