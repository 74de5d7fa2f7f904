"""Approval-desk reads: scoping, the window's queue by time left, the firm's next step, and the
links from projects."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from zhiyuan.accounts.models import Role, User
from zhiyuan.accounts.permissions import is_district_staff
from zhiyuan.core.errors import NotFoundError
from zhiyuan.core.workdays import CalendarNotCovered, WorkCalendar

from .models import Application, ApplicationEvent, ApplicationStatus, ApprovalItem, Decision
from .services import CLERK_ROLES, WITH_THE_CITY, material_round, missing_materials

S = ApplicationStatus
CONSTRUCTION_PERMIT = "construction_permit"
# What the window still has to do with an application in each of these states.
WINDOW_WORK = frozenset({S.SUBMITTED, S.RETURNED, S.GRANTED, S.DENIED})


def items_active() -> QuerySet[ApprovalItem]:
    """The catalogue as applicants see it, with each item's materials."""
    return ApprovalItem.objects.filter(is_active=True).prefetch_related("materials")


def applications_visible_to(user: User) -> QuerySet[Application]:
    """The one scoping function for applications: district staff see all, a firm user its own
    firm's, banks and the city none."""
    base = Application.objects.select_related("item", "project", "enterprise")
    if is_district_staff(user):
        return base
    if user and user.is_authenticated and user.role == Role.ENTERPRISE and user.enterprise_id:
        return base.filter(enterprise_id=user.enterprise_id)
    return base.none()


def application_get_for(user: User, pk) -> Application:
    """One application the user may see; NotFoundError otherwise (as for one that does not exist)."""
    try:
        return applications_visible_to(user).get(pk=pk)
    except (Application.DoesNotExist, ValueError, TypeError):
        raise NotFoundError() from None


def application_timeline(application: Application) -> QuerySet[ApplicationEvent]:
    return application.events.select_related("actor").order_by("at", "id")


@dataclass
class Clock:
    """Which deadline an application is running against, and how many working days are left
    (negative when overdue; None when the calendar does not cover the deadline yet)."""

    label: str
    due: dt.date | None
    days_left: int | None
    # Past the due date (also on a weekend right after a Friday deadline, when days_left is still 0).
    overdue: bool = False


def application_clock(application: Application, *, today: dt.date | None = None,
                      calendar: WorkCalendar | None = None) -> Clock | None:
    """The deadline that matters now: the window's (§32) while submitted, the city's while it reviews."""
    today = today or timezone.localdate()
    if application.status == S.SUBMITTED:
        label, due = _("Window decision due"), application.accept_due
    elif application.status in (S.CITY_RECEIVED, S.IN_REVIEW):
        label, due = _("City decision due"), application.city_due
    else:
        return None
    if due is None:
        return Clock(label, None, None)
    try:
        days_left = (calendar or WorkCalendar()).between(today, due)
    except CalendarNotCovered:
        days_left = None
    return Clock(label, due, days_left, overdue=due < today)


def window_queue(*, today: dt.date | None = None) -> list[tuple[Application, Clock | None]]:
    """What the window must act on, most urgent first: applications to check (by the §32 deadline),
    supplements to forward, and decisions to hand out."""
    today = today or timezone.localdate()
    calendar = WorkCalendar()
    rows = [
        (application, application_clock(application, today=today, calendar=calendar))
        for application in Application.objects.filter(status__in=WINDOW_WORK).select_related(
            "item", "project", "enterprise"
        )
    ]

    def urgency(row):
        application, clock = row
        if clock and clock.days_left is not None:
            return (0, clock.days_left, application.pk)
        if clock:  # a deadline the calendar cannot count yet: show right after the counted ones
            return (1, 0, application.pk)
        return (2, 0, application.pk)

    return sorted(rows, key=urgency)


def application_next_step(application: Application, user: User) -> str:
    """In one sentence, what happens next and who must act — shown on top of the application page."""
    firm = user.role == Role.ENTERPRISE
    status = application.status
    if status == S.DRAFT:
        missing = missing_materials(application)
        if missing:
            return _("Upload the missing materials (%(names)s), then submit.") % {
                "names": "、".join(r.name for r in missing)
            }
        return _("All required materials are there: submit the application to the window.")
    if status == S.SUBMITTED:
        return (
            _("The window is checking your application; it decides by %(due)s.")
            if firm
            else _("Check the materials, then accept, reject, or ask for corrections (once) by %(due)s.")
        ) % {"due": application.accept_due or _("(date not yet computable)")}
    if status == S.CORRECTION:
        return _("Upload corrected files for every listed material, then resubmit.")
    if status == S.ACCEPTED:
        return _("Accepted; being forwarded to the city. Nothing to do.")
    if status in (S.CITY_RECEIVED, S.IN_REVIEW):
        return _("The city (%(department)s) is reviewing case %(case)s; decision due by %(due)s.") % {
            "department": application.item.department,
            "case": application.city_case_number or "—",
            "due": application.city_due or _("(date not yet computable)"),
        }
    if status == S.RETURNED:
        if application.supplement_forwarded_at:
            return _("The supplementary material has been forwarded; waiting for the city.")
        if firm:
            return _("The city asked for more material: upload it here; the window forwards it.")
        has_new = application.materials.filter(round=material_round(application)).exists()
        return (
            _("The firm has uploaded supplementary material: forward it to the city.")
            if has_new
            else _("Waiting for the firm's supplementary material.")
        )
    if status in (S.GRANTED, S.DENIED):
        return (
            _("The decision is ready: collect it at the window.")
            if firm
            else _("Hand the decision to the firm and record the collection (出件).")
        )
    return _("Closed. Nothing more to do.")


def window_counts(*, today: dt.date | None = None) -> dict[str, int]:
    """The figures on top of the window's page and on the cockpit: the open work now, and what was
    accepted, forwarded (received by the city), decided and decided in time from 1 January to `today`."""
    today = today or timezone.localdate()
    this_year = (dt.date(today.year, 1, 1), today)
    figures = Application.objects.aggregate(
        to_check=Count("pk", filter=Q(status=S.SUBMITTED)),
        overdue_window=Count("pk", filter=Q(status=S.SUBMITTED, accept_due__lt=today)),
        with_city=Count("pk", filter=Q(status__in=WITH_THE_CITY)),
        overdue_city=Count("pk", filter=Q(status__in=[S.CITY_RECEIVED, S.IN_REVIEW], city_due__lt=today)),
        to_collect=Count("pk", filter=Q(status__in=[S.GRANTED, S.DENIED])),
        accepted_this_year=Count("pk", filter=Q(accepted_on__range=this_year)),
        forwarded_this_year=Count("pk", filter=Q(city_received_on__range=this_year)),
        decided_this_year=Count("pk", filter=Q(decided_on__range=this_year)),
        decided_on_time=Count("pk", filter=Q(decided_on__range=this_year, decided_on__lte=F("city_due"))),
    )
    return figures


def project_applications(project, user: User) -> QuerySet[Application]:
    """The applications of one project, as the user may see them (for the project page)."""
    return applications_visible_to(user).filter(project=project).order_by("-created_at")


def project_has_permit(project, item_code: str = CONSTRUCTION_PERMIT) -> bool:
    """Whether the city granted the project this item (by default the 建筑工程施工许可证)."""
    return Application.objects.filter(
        project=project, item__code=item_code, decision=Decision.GRANTED
    ).exists()


def is_window_staff(user: User) -> bool:
    return bool(user and user.is_authenticated and user.role in CLERK_ROLES)
