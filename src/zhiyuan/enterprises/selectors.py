"""Enterprise registry reads: what each user may see, search, and masking of personal data."""

import re

from django.db.models import Q, QuerySet

from zhiyuan.accounts.models import Role, User
from zhiyuan.accounts.permissions import is_district_staff, sees_personal_data
from zhiyuan.core.errors import NotFoundError
from zhiyuan.core.models import AuditEntry
from zhiyuan.core.selectors import audit_history
from zhiyuan.enterprises.models import Enterprise, Industry

_CJK_RUN = re.compile(r"^[\u4e00-\u9fff]{2,6}$")


def enterprises_visible_to(user: User) -> QuerySet[Enterprise]:
    """The one scoping function for enterprises: district staff see all, a firm user its own firm,
    everyone else (banks until a firm consents, the city client) none."""
    base = Enterprise.objects.select_related("industry", "zone", "specialist")
    if is_district_staff(user):
        return base
    if user and user.is_authenticated and user.role == Role.ENTERPRISE and user.enterprise_id:
        return base.filter(pk=user.enterprise_id)
    return base.none()


def enterprise_get_for(user: User, pk) -> Enterprise:
    """One firm the user may see; NotFoundError otherwise, exactly as for a firm that does not exist."""
    try:
        return enterprises_visible_to(user).prefetch_related("tags").get(pk=pk)
    except (Enterprise.DoesNotExist, ValueError, TypeError):
        raise NotFoundError() from None


def search_enterprises(queryset: QuerySet[Enterprise], text: str) -> QuerySet[Enterprise]:
    """Narrow `queryset` to firms matching every word of `text`.

    A word matches the name, short name or USCC as a substring. A short run of Chinese characters
    also matches as an abbreviation — its characters in order within the name (株硬 → 株洲硬质合金…),
    the way firms are commonly called.
    """
    for word in text.split():
        condition = Q(name__icontains=word) | Q(short_name__icontains=word) | Q(uscc__icontains=word)
        if _CJK_RUN.match(word):
            condition |= Q(name__regex="^.*" + ".*".join(re.escape(ch) for ch in word))
        queryset = queryset.filter(condition)
    return queryset


def industry_divisions() -> QuerySet[Industry]:
    """The 97 大类 (two-digit divisions), for filters."""
    return Industry.objects.filter(level=2)


def industry_sections() -> QuerySet[Industry]:
    """The 20 门类 (sections A–T), for filters."""
    return Industry.objects.filter(level=1)


def mask_phone(value: str) -> str:
    """138****1234: keep the first three and last four digits."""
    if not value:
        return value
    digits = value.replace(" ", "").replace("-", "")
    if len(digits) < 8:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_id_number(value: str) -> str:
    """430202********1234: keep the region prefix and the last four characters."""
    if not value:
        return value
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def _sees_personal_data_of(user: User, enterprise: Enterprise) -> bool:
    return sees_personal_data(user) or (user.role == Role.ENTERPRISE and user.enterprise_id == enterprise.pk)


def personal_data_for(user: User, enterprise: Enterprise) -> dict[str, str]:
    """The firm's contact phone and ID number as this user may see them (masked unless needed)."""
    if _sees_personal_data_of(user, enterprise):
        return {"contact_phone": enterprise.contact_phone, "contact_id_number": enterprise.contact_id_number}
    return {
        "contact_phone": mask_phone(enterprise.contact_phone),
        "contact_id_number": mask_id_number(enterprise.contact_id_number),
    }


def enterprise_history_for(user: User, enterprise: Enterprise, *, limit: int = 200) -> list[AuditEntry]:
    """The firm's audit history (newest first) as this user may see it: phone and ID numbers in the
    recorded changes are masked exactly as on the firm's page. The entries are for display only."""
    entries = list(audit_history(enterprise)[:limit])
    if not _sees_personal_data_of(user, enterprise):
        masks = {"contact_phone": mask_phone, "contact_id_number": mask_id_number}
        for entry in entries:
            for field, mask in masks.items():
                if isinstance(entry.changes.get(field), list):
                    entry.changes[field] = [mask(v) if isinstance(v, str) else v for v in entry.changes[field]]
    return entries


def registry_summary() -> dict[str, int]:
    """Headline counts of the registry for district staff (home page)."""
    from django.db.models import Count

    counts = dict(Enterprise.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return {
        "enterprises": sum(counts.values()),
        "operating": counts.get("operating", 0),
        "unassigned": Enterprise.objects.filter(status="operating", specialist__isnull=True).count(),
    }
