"""Writes on the product database. Every product write appends a `ProductChange` in the same
transaction, so the search index (which follows the change log) can never miss a committed change
and never sees a rolled-back one; the index worker (`zhiyuan catalog worker`, started by
`zhiyuan serve`) applies the log within a second or two.

Who may write: a firm user its own firm's products only; district staff who edit the registry any
firm's. A product of another firm is "not found".
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from zhiyuan.accounts.models import User
from zhiyuan.accounts.permissions import can_edit_registry, is_authenticated
from zhiyuan.catalog.models import Certification, Product, ProductChange, SupplyNeed
from zhiyuan.core.errors import NotFoundError, PermissionDeniedError, ValidationFailed
from zhiyuan.core.services import audit_record, snapshot
from zhiyuan.enterprises.models import Enterprise

TEXT_FIELDS = {
    "name": 200,
    "category": 100,
    "model_numbers": 300,
    "specifications": 4000,
    "materials": 300,
    "capacity_unit": 20,
    "description": 8000,
    "keywords": 300,
}
# Product.capacity holds 16 digits, 2 of them decimals.
MAX_CAPACITY = Decimal("1e14")
AUDITED = [*TEXT_FIELDS, "capacity", "is_active", "image"]


def may_edit_products_of(user: User | None, enterprise: Enterprise) -> bool:
    """A firm's own users, or district staff who edit the registry (None = the system)."""
    if user is None:
        return True
    if not is_authenticated(user):
        return False
    if user.enterprise_id is not None:
        return user.enterprise_id == enterprise.pk
    return can_edit_registry(user)


def _check(actor: User | None, enterprise: Enterprise) -> None:
    if may_edit_products_of(actor, enterprise):
        return
    if actor is not None and actor.enterprise_id is not None:
        raise NotFoundError()  # another firm's products do not exist for this firm
    raise PermissionDeniedError(_("Only the firm itself or the registry's editors may change its products."))


def clean_product_data(data: dict[str, Any], *, partial: bool) -> tuple[dict[str, Any], list[Certification] | None]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name, limit in TEXT_FIELDS.items():
        if name not in data:
            continue
        value = (
            " ".join(str(data.get(name) or "").split())
            if name not in ("specifications", "description")
            else str(data.get(name) or "").strip()
        )
        if len(value) > limit:
            errors[name] = [_("At most %(limit)s characters.") % {"limit": limit}]
        cleaned[name] = value
    if not partial and not cleaned.get("name"):
        errors["name"] = [_("Give the product a name.")]
    if partial and "name" in cleaned and not cleaned["name"]:
        errors["name"] = [_("Give the product a name.")]
    if "capacity" in data:
        raw = data.get("capacity")
        if raw in (None, ""):
            cleaned["capacity"] = None
        else:
            try:
                capacity = Decimal(str(raw).strip())
                if not capacity.is_finite() or capacity < 0:
                    raise InvalidOperation
                if capacity >= MAX_CAPACITY:
                    errors["capacity"] = [_("The capacity is too large.")]
                cleaned["capacity"] = capacity
            except (InvalidOperation, ValueError):
                errors["capacity"] = [_("Enter a number of zero or more.")]
    if "is_active" in data:
        cleaned["is_active"] = bool(data["is_active"])
    if "image" in data:
        # An uploaded image (the form's ImageField has checked it is one), or None / "" to remove it.
        cleaned["image"] = data.get("image") or ""
    certifications = None
    if "certifications" in data:
        wanted = data.get("certifications") or []
        names = [str(item).strip() for item in wanted if not isinstance(item, Certification)]
        found = {c.name: c for c in Certification.objects.filter(name__in=names)}
        unknown = [name for name in names if name not in found]
        if unknown:
            errors["certifications"] = [_("Unknown certifications: %(names)s") % {"names": ", ".join(unknown)}]
        certifications = [item for item in wanted if isinstance(item, Certification)] + list(found.values())
    if errors:
        raise ValidationFailed(_("The product was not saved: correct the fields marked."), fields=errors)
    return cleaned, certifications


def _log_change(product_id: int, op: str) -> None:
    """Append to the change log inside the caller's transaction; the index worker polls it."""
    ProductChange.objects.create(product_id=product_id, op=op)


def products_changed_for_enterprise(enterprise_id: int) -> int:
    """Log an upsert for every product of a firm whose indexed fields changed (name, chain, zone,
    size, industry), in the caller's transaction; returns how many."""
    ids = list(Product.objects.filter(enterprise_id=enterprise_id).values_list("pk", flat=True))
    ProductChange.objects.bulk_create([ProductChange(product_id=pk, op=ProductChange.Op.UPSERT) for pk in ids])
    return len(ids)


def product_create(
    *, actor: User | None, enterprise: Enterprise, data: dict[str, Any], is_demo: bool = False
) -> Product:
    """Add a product to a firm's catalogue."""
    _check(actor, enterprise)
    cleaned, certifications = clean_product_data(data, partial=False)
    with transaction.atomic():
        product = Product.objects.create(enterprise=enterprise, is_demo=is_demo, **cleaned)
        if certifications:
            product.certifications.set(certifications)
        audit_record(actor=actor, action="catalog.product.created", obj=product)
        _log_change(product.pk, ProductChange.Op.UPSERT)
    return product


def product_update(*, actor: User | None, product: Product, data: dict[str, Any]) -> Product:
    """Change a product (only the fields given)."""
    _check(actor, product.enterprise)
    cleaned, certifications = clean_product_data(data, partial=True)
    with transaction.atomic():
        before = snapshot(product, AUDITED)
        for name, value in cleaned.items():
            setattr(product, name, value)
        product.save()
        if certifications is not None:
            product.certifications.set(certifications)
        after = snapshot(product, AUDITED)
        changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
        audit_record(actor=actor, action="catalog.product.updated", obj=product, changes=changes)
        _log_change(product.pk, ProductChange.Op.UPSERT)
    return product


def product_delete(*, actor: User | None, product: Product) -> None:
    """Remove a product from the catalogue (and, through the change log, from the index)."""
    _check(actor, product.enterprise)
    with transaction.atomic():
        audit_record(actor=actor, action="catalog.product.deleted", obj=product, changes={"name": [product.name, None]})
        product_id = product.pk
        product.delete()
        _log_change(product_id, ProductChange.Op.DELETE)


def supply_need_add(*, actor: User | None, enterprise: Enterprise, item: str, note: str = "") -> SupplyNeed:
    """Record a material or part the firm buys (for supplier suggestions)."""
    _check(actor, enterprise)
    item = " ".join((item or "").split())
    if not item:
        raise ValidationFailed(_("Name the material or part."), field="item")
    if len(item) > 200:
        raise ValidationFailed(_("At most %(limit)s characters.") % {"limit": 200}, field="item")
    with transaction.atomic():
        need = SupplyNeed.objects.create(
            enterprise=enterprise, item=item, note=(note or "").strip()[:300], created_by=actor
        )
        audit_record(actor=actor, action="catalog.supply_need.added", obj=need)
    return need


def supply_need_remove(*, actor: User | None, need: SupplyNeed) -> None:
    _check(actor, need.enterprise)
    with transaction.atomic():
        audit_record(actor=actor, action="catalog.supply_need.removed", obj=need, changes={"item": [need.item, None]})
        need.delete()
