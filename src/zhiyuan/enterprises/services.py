"""Enterprise registry writes: create and update firms, with validation, size class and audit."""

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import ric, uscc

from zhiyuan.accounts.models import Role, User
from zhiyuan.accounts.permissions import can_edit_registry
from zhiyuan.core.errors import ConflictError, PermissionDeniedError, ValidationFailed
from zhiyuan.core.services import audit_record, diff, snapshot
from zhiyuan.enterprises.models import Enterprise, Industry, ParkZone, Tag
from zhiyuan.enterprises.sizeclass import classify

# Every field staff may set on a firm, in form order.
EDITABLE_FIELDS = [
    "uscc", "name", "short_name", "legal_representative", "established_on", "registered_capital",
    "industry", "staff", "revenue", "total_assets", "chain", "zone", "tags", "status", "specialist",
    "address", "business_scope", "contact_name", "contact_phone", "contact_id_number",
]
# The fields a firm user may change on its own profile.
FIRM_EDITABLE_FIELDS = [
    "short_name", "address", "business_scope", "contact_name", "contact_phone", "contact_id_number",
    "staff", "revenue", "total_assets",
]
REQUIRED_FIELDS = ["uscc", "name", "industry"]
NON_NEGATIVE_FIELDS = ["staff", "revenue", "total_assets", "registered_capital"]
AUDITED_FIELDS = [*EDITABLE_FIELDS, "size_class"]
PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{4,19}$")


def normalize_uscc(value: str) -> str:
    """The canonical form of a USCC: no spaces or dashes, upper case."""
    return uscc.compact(value or "").upper()


def uscc_error(value: str) -> str | None:
    """Why `value` is not a valid USCC (GB 32100-2015), or None when it is valid."""
    try:
        uscc.validate(normalize_uscc(value))
    except uscc.InvalidLength:
        return _("A unified social credit code has 18 characters.")
    except uscc.InvalidFormat:
        return _("The unified social credit code contains characters that are not allowed.")
    except uscc.InvalidChecksum:
        return _("The check character of the unified social credit code is wrong.")
    except uscc.ValidationError:
        return _("This is not a valid unified social credit code.")
    return None


def resolve_industry(value: Any) -> Industry | None:
    """Accept an Industry or a GB/T 4754-2017 code; None when the code is unknown or too coarse (门类)."""
    if isinstance(value, Industry):
        return value if value.level >= 2 else None
    code = str(value or "").strip()
    return Industry.objects.filter(code=code, level__gte=2).first()


def validate_enterprise_data(data: dict[str, Any], *, instance: Enterprise | None = None) -> dict[str, Any]:
    """Check a set of field values against the registry's rules; return them cleaned.

    Raises ValidationFailed listing every bad field with a translated reason. Used by the services
    and by the Excel import, so a firm is held to the same rules however it arrives.
    """
    errors: dict[str, list[str]] = {}
    cleaned = dict(data)

    def fail(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if instance is None:
        for field in REQUIRED_FIELDS:
            if cleaned.get(field) in (None, ""):
                fail(field, _("This field is required."))
    if "name" in cleaned and cleaned["name"] is not None:
        cleaned["name"] = str(cleaned["name"]).strip()
        if not cleaned["name"]:
            fail("name", _("This field is required."))
    if cleaned.get("uscc"):
        cleaned["uscc"] = normalize_uscc(cleaned["uscc"])
        message = uscc_error(cleaned["uscc"])
        if message:
            fail("uscc", message)
        else:
            clash = Enterprise.objects.filter(uscc=cleaned["uscc"])
            if instance is not None:
                clash = clash.exclude(pk=instance.pk)
            if clash.exists():
                fail("uscc", _("An enterprise with this unified social credit code is already registered."))
    if cleaned.get("industry") not in (None, ""):
        industry = resolve_industry(cleaned["industry"])
        if industry is None:
            fail(
                "industry",
                _("Unknown industry code %(code)s: use a GB/T 4754-2017 division, group or class code.")
                % {"code": getattr(cleaned["industry"], "code", cleaned["industry"])},
            )
        cleaned["industry"] = industry
    for field in NON_NEGATIVE_FIELDS:
        value = cleaned.get(field)
        if value is not None and value != "" and Decimal(value) < 0:
            fail(field, _("This value cannot be negative."))
    established = cleaned.get("established_on")
    if isinstance(established, dt.datetime):
        established = cleaned["established_on"] = established.date()
    if established and established > timezone.localdate():
        fail("established_on", _("The establishment date cannot be in the future."))
    phone = cleaned.get("contact_phone")
    if phone and not PHONE_RE.match(str(phone)):
        fail("contact_phone", _("Enter a valid phone number."))
    id_number = cleaned.get("contact_id_number")
    if id_number and not ric.is_valid(str(id_number)):
        fail("contact_id_number", _("Enter a valid resident identity card number."))
    specialist = cleaned.get("specialist")
    if specialist is not None and getattr(specialist, "role", None) != Role.SPECIALIST:
        fail("specialist", _("The assigned person must be a service specialist."))
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


def compute_size_class(enterprise: Enterprise) -> str:
    """The size class that the firm's industry, staff, revenue and assets give."""
    return classify(
        enterprise.industry_id,
        staff=enterprise.staff,
        revenue=enterprise.revenue,
        total_assets=enterprise.total_assets,
    )


def enterprise_create(*, actor: User | None, data: dict[str, Any], is_demo: bool = False) -> Enterprise:
    """Register a firm. Staff who maintain the registry (or the system, actor=None) may."""
    if actor is not None and not can_edit_registry(actor):
        raise PermissionDeniedError()
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(fields={name: [_("This field cannot be set.")] for name in sorted(unknown)})
    cleaned = validate_enterprise_data(data)
    tags = cleaned.pop("tags", None)
    enterprise = Enterprise(**cleaned, is_demo=is_demo)
    enterprise.size_class = compute_size_class(enterprise)
    try:
        with transaction.atomic():
            enterprise.save()
            if tags:
                enterprise.tags.set(tags)
            enterprise.refresh_from_db()  # audit the stored values (500000 → 500000.00), as updates compare them
            after = snapshot(enterprise, AUDITED_FIELDS)
            audit_record(
                actor=actor,
                action="enterprises.enterprise.created",
                obj=enterprise,
                changes={name: [None, value] for name, value in after.items() if value not in (None, "", [])},
            )
    except IntegrityError:
        raise ConflictError(
            _("An enterprise with this unified social credit code is already registered."), field="uscc"
        ) from None
    return enterprise


def editable_fields_for(actor: User, enterprise: Enterprise) -> list[str]:
    """The fields `actor` may change on `enterprise` (empty when none)."""
    if can_edit_registry(actor):
        return EDITABLE_FIELDS
    if actor.role == Role.ENTERPRISE and actor.enterprise_id == enterprise.pk:
        return FIRM_EDITABLE_FIELDS
    return []


# Firm fields the product search index holds (names are searched; the rest are facets).
SEARCHED_FIELDS = frozenset({"name", "short_name", "chain", "zone", "size_class", "industry"})


def enterprise_update(*, actor: User, enterprise: Enterprise, data: dict[str, Any]) -> Enterprise:
    """Change a firm's fields; staff may change every field, a firm user only its own firm's
    self-service fields. The size class is recomputed and every changed field is audited."""
    allowed = editable_fields_for(actor, enterprise)
    if not allowed:
        raise PermissionDeniedError()
    forbidden = set(data) - set(allowed)
    if forbidden:
        raise PermissionDeniedError(
            _("You may not change: %(fields)s.")
            % {"fields": ", ".join(str(Enterprise._meta.get_field(f).verbose_name) for f in sorted(forbidden))}
        )
    cleaned = validate_enterprise_data(data, instance=enterprise)
    tags = cleaned.pop("tags", None)
    with transaction.atomic():
        locked = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
        before = snapshot(locked, AUDITED_FIELDS)
        for name, value in cleaned.items():
            setattr(locked, name, value)
        locked.size_class = compute_size_class(locked)
        locked.save()
        if tags is not None:
            locked.tags.set(tags)
        # Compare stored values with stored values: 500000 handed in for a stored 500000.00 is no change.
        locked.refresh_from_db()
        changes = diff(before, snapshot(locked, AUDITED_FIELDS))
        if changes:
            audit_record(actor=actor, action="enterprises.enterprise.updated", obj=locked, changes=changes)
        if SEARCHED_FIELDS & set(changes):
            # The product index carries the firm's name, chain, zone, size and industry: re-index its products.
            from zhiyuan.catalog.services import products_changed_for_enterprise

            products_changed_for_enterprise(locked.pk)
    return locked


def _named_get_or_create(model, *, actor: User | None, name: str, action: str):
    if actor is not None and actor.role != Role.ADMIN:
        raise PermissionDeniedError()
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("This field is required."), field="name")
    existing = model.objects.filter(name=name).first()
    if existing is not None:
        return existing, False
    with transaction.atomic():
        created = model.objects.create(name=name)
        audit_record(actor=actor, action=action, obj=created, changes={"name": [None, name]})
    return created, True


def zone_get_or_create(*, actor: User | None, name: str) -> tuple[ParkZone, bool]:
    """The park zone called `name`, created (audited) when missing; reference data is the admin's."""
    return _named_get_or_create(ParkZone, actor=actor, name=name, action="enterprises.parkzone.created")


def tag_get_or_create(*, actor: User | None, name: str) -> tuple[Tag, bool]:
    """The tag called `name`, created (audited) when missing; reference data is the admin's."""
    return _named_get_or_create(Tag, actor=actor, name=name, action="enterprises.tag.created")
