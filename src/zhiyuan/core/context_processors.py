"""Template context shared by every page: the navigation for the user's role and the site name."""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhiyuan.accounts.models import Role
from zhiyuan.accounts.permissions import can_use_admin, is_district_staff
from zhiyuan.core.selectors import unread_notification_count
from zhiyuan.core.workdays import calendar_warning
from zhiyuan.datalink.selectors import can_view as can_view_datalink


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    items = []
    unread = 0
    warning = None
    if user is not None and user.is_authenticated:
        unread = unread_notification_count(user)
        if can_use_admin(user):
            warning = calendar_warning(timezone.localdate())
        cockpit = {"label": _("Cockpit"), "url": reverse("cockpit"), "key": "cockpit"}
        if is_district_staff(user) and user.role == Role.LEADER:
            items.append(cockpit)
        items.append({"label": _("Home"), "url": reverse("core:home"), "key": "home"})
        if is_district_staff(user):
            if user.role != Role.LEADER:
                items.append(cockpit)
            items.append({"label": _("Enterprises"), "url": reverse("enterprises:list"), "key": "enterprises"})
            items.append({"label": _("Projects"), "url": reverse("investments:list"), "key": "investments"})
            items.append({"label": _("Service desk"), "url": reverse("servicedesk:index"), "key": "servicedesk"})
            items.append({"label": _("Approvals"), "url": reverse("approvals:index"), "key": "approvals"})
            items.append({"label": _("Credit"), "url": reverse("credit:index"), "key": "credit"})
            items.append({"label": _("Industry chains"), "url": reverse("chains:index"), "key": "chains"})
            items.append({"label": _("Indicators"), "url": reverse("indicators:list"), "key": "indicators"})
        elif user.role == Role.ENTERPRISE and user.enterprise_id:
            items.append(
                {
                    "label": _("My enterprise"),
                    "url": reverse("enterprises:detail", args=[user.enterprise_id]),
                    "key": "enterprises",
                }
            )
            items.append({"label": _("My projects"), "url": reverse("investments:list"), "key": "investments"})
            items.append({"label": _("My requests"), "url": reverse("servicedesk:mine"), "key": "servicedesk"})
            items.append({"label": _("My applications"), "url": reverse("approvals:index"), "key": "approvals"})
            items.append({"label": _("My credit"), "url": reverse("credit:my"), "key": "credit"})
        elif user.role == Role.BANK:
            items.append({"label": _("Credit reports"), "url": reverse("credit:bank"), "key": "credit"})
            items.append({"label": _("Financing needs"), "url": reverse("credit:needs"), "key": "credit-needs"})
        if user.role != Role.CITY:
            items.append({"label": _("Products"), "url": reverse("catalog:search"), "key": "catalog"})
        if can_view_datalink(user):
            items.append({"label": _("Data link"), "url": reverse("datalink:index"), "key": "datalink"})
        if can_use_admin(user):
            items.append({"label": _("Administration"), "url": reverse("admin:index"), "key": "admin"})
    return {
        "nav_items": items,
        "district_name": settings.ZHIYUAN_DISTRICT_NAME,
        "unread_notifications": unread,
        "calendar_warning": warning,
    }
