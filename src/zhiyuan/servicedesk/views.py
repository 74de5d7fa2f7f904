"""Service-desk pages: thin views that parse input, call one service or selector, and render.

Each action on the request page posts to its own URL; on success it redirects back to the page, on a
refusal it renders the page again with the submitted form and its errors (status 400).
"""

import calendar
import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from zhiyuan.accounts.models import Role
from zhiyuan.accounts.permissions import is_district_staff
from zhiyuan.core.errors import DomainError, NotFoundError
from zhiyuan.core.selectors import audit_history
from zhiyuan.enterprises.selectors import enterprise_get_for
from zhiyuan.servicedesk import charts, selectors, services
from zhiyuan.servicedesk.filters import RequestFilter
from zhiyuan.servicedesk.forms import (
    AddInformationForm,
    AttachmentForm,
    NoteForm,
    RateForm,
    ReopenForm,
    RequestForm,
    ResolveForm,
    TransferForm,
    VisitForm,
)
from zhiyuan.servicedesk.models import RequestStatus
from zhiyuan.servicedesk.tables import FinancingNeedTable, QueueTable, RequestTable

# Roles whose entry page is the queue (they act on requests); other district staff start at the list.
DESK_ROLES = frozenset({Role.SPECIALIST, Role.SERVICE_STAFF, Role.ADMIN})
# Roles that register requests on a firm's behalf and log visits.
INTAKE_ROLES = services.INTAKE_ROLES
EVENT_LABELS = {
    "submitted": gettext_lazy("Submitted"),
    "sign_for": gettext_lazy("Signed for"),
    "reply": gettext_lazy("Reply"),
    "ask_firm": gettext_lazy("More information asked for"),
    "add_information": gettext_lazy("Information added by the firm"),
    "transfer": gettext_lazy("Transferred"),
    "resolve": gettext_lazy("Resolved"),
    "rate": gettext_lazy("Rated"),
    "reopen": gettext_lazy("Not solved: reopened"),
    "close_unrated": gettext_lazy("Closed without a rating"),
    "escalate": gettext_lazy("Escalated"),
}
# Filters that the dashboard's links set but the filter bar does not show as inputs.
LINK_ONLY_FILTERS = [
    # The API's filters, not shown in the page's filter bar.
    "enterprise",
    "overdue",
    "received_after",
    "received_before",
    "year",
    "month",
    "resolved_year",
    "resolved",
    "replied_on_time",
    "on_time",
    "reopened",
    "rated",
    "skill",
    "shared",
]
OPEN = {
    RequestStatus.SUBMITTED,
    RequestStatus.SIGNED_FOR,
    RequestStatus.IN_PROGRESS,
    RequestStatus.WAITING_FOR_FIRM,
    RequestStatus.REOPENED,
}


def _is_firm(user) -> bool:
    return user.role == Role.ENTERPRISE and bool(user.enterprise_id)


def _staff(user) -> None:
    if not is_district_staff(user):
        raise PermissionDenied


def _firm(user) -> None:
    if not _is_firm(user):
        raise PermissionDenied


def _viewer(user) -> None:
    """District staff and firm users see requests (firms only their own); banks and the city none."""
    if not (is_district_staff(user) or _is_firm(user)):
        raise PermissionDenied


def _request_or_404(user, pk):
    _viewer(user)
    try:
        return selectors.request_get_for(user, pk)
    except NotFoundError:
        raise Http404 from None


def _abilities(user, req) -> dict[str, bool]:
    """Which action forms the user gets on this request (the services check again on submit)."""
    status = req.status
    firm = _is_firm(user) and req.enterprise_id == user.enterprise_id
    desk = selectors.can_handle(user, req)
    working = status in {RequestStatus.SIGNED_FOR, RequestStatus.IN_PROGRESS, RequestStatus.REOPENED}
    return {
        "internal": is_district_staff(user),
        "firm": firm,
        "desk": desk,
        "sign_for": desk and status == RequestStatus.SUBMITTED,
        "reply": desk and working,
        "ask_firm": desk and working,
        "transfer": desk and status in OPEN and status != RequestStatus.WAITING_FOR_FIRM,
        "resolve": desk and working,
        "add_information": firm and status == RequestStatus.WAITING_FOR_FIRM,
        "rate": firm and status == RequestStatus.RESOLVED,
        "reopen": firm and status == RequestStatus.RESOLVED,
        "attach": (firm or desk) and status in OPEN,
    }


FORM_CLASSES = {
    "reply": NoteForm,
    "ask_firm": NoteForm,
    "transfer": TransferForm,
    "resolve": ResolveForm,
    "add_information": AddInformationForm,
    "rate": RateForm,
    "reopen": ReopenForm,
    "attach": AttachmentForm,
}


def _today() -> dt.date:
    return timezone.localdate()


def _render_detail(request, req, *, bound: dict | None = None, status: int = 200):
    """The request page; `bound` replaces default forms by submitted ones (to show their errors)."""
    user = request.user
    can = _abilities(user, req)
    forms = {name: form_class() for name, form_class in FORM_CLASSES.items() if can[name]}
    forms.update(bound or {})
    context = {
        "req": req,
        "can": can,
        "forms": forms,
        "today": _today(),
        "events": _labelled(selectors.request_timeline(req, user)),
        "attachments": req.attachments.select_related("uploaded_by"),
        "is_open": req.status in OPEN,
        "stars": "★" * (req.rating or 0),
        # Events whose label already names the status they lead to.
        "status_kinds": ["submitted", "sign_for", "resolve", "reopen"],
    }
    if can["internal"]:
        context["history"] = audit_history(req).select_related("content_type")[:200]
    return render(request, "servicedesk/detail.html", context, status=status)


def _labelled(events) -> list:
    events = list(events)
    for event in events:
        event.label = EVENT_LABELS.get(event.kind, event.kind)
    return events


def _done(request, req, message: str):
    messages.success(request, message)
    return redirect("servicedesk:detail", pk=req.pk)


# ---------------------------------------------------------------- entry, lists


@login_required
def index(request):
    """/servicedesk/: the firm's requests, the desk's queue, the bank's financing needs."""
    user = request.user
    if _is_firm(user):
        return redirect("servicedesk:mine")
    if user.role == Role.BANK:
        return redirect("credit:needs")
    if user.role == Role.LEADER:
        return redirect("servicedesk:dashboard")
    _staff(user)
    return redirect("servicedesk:queue" if user.role in DESK_ROLES else "servicedesk:list")


@login_required
def my_requests(request):
    _firm(request.user)
    table = RequestTable(selectors.requests_visible_to(request.user), today=_today(), firm_view=True)
    RequestConfig(request, paginate={"per_page": 25}).configure(table)
    return render(request, "servicedesk/mine.html", {"table": table})


@login_required
def queue(request):
    _staff(request.user)
    rows = selectors.queue_for(request.user)
    table = QueueTable(rows, today=_today())
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    return render(
        request,
        "servicedesk/queue.html",
        {"table": table, "total": table.paginator.count, "can_desk": request.user.role in INTAKE_ROLES},
    )


@login_required
def request_list(request):
    _staff(request.user)
    filterset = RequestFilter(request.GET or None, queryset=selectors.requests_visible_to(request.user))
    table = RequestTable(filterset.qs, today=_today())
    RequestConfig(request, paginate={"per_page": 25}).configure(table)
    context = {
        "filter": filterset,
        "table": table,
        "total": table.paginator.count,
        "bar_fields": [field for field in filterset.form if field.name not in LINK_ONLY_FILTERS],
        "link_filters": _link_filters(request, filterset),
        "can_desk": request.user.role in INTAKE_ROLES,
    }
    template = "servicedesk/_table.html" if request.htmx else "servicedesk/list.html"
    return render(request, template, context)


def _link_filters(request, filterset) -> list[dict]:
    """The dashboard-only filters in force, each with the URL that drops it."""
    active = []
    for name in LINK_ONLY_FILTERS:
        value = request.GET.get(name)
        if not value:
            continue
        rest = request.GET.copy()
        rest.pop(name)
        rest.pop("page", None)
        active.append(
            {"name": name, "label": filterset.form[name].label, "value": value, "remove_url": f"?{rest.urlencode()}"}
        )
    return active


@login_required
def financing_needs(request):
    """Financing needs the firms chose to publish to the banks: the bank's only view of the desk."""
    if request.user.role != Role.BANK and not is_district_staff(request.user):
        raise PermissionDenied
    table = FinancingNeedTable(selectors.financing_needs_for_bank(request.user))
    RequestConfig(request, paginate={"per_page": 25}).configure(table)
    return render(
        request,
        "servicedesk/financing.html",
        {"table": table, "total": table.paginator.count, "can_desk": request.user.role in INTAKE_ROLES},
    )


# ---------------------------------------------------------------- dashboard


def _year_param(request, default: int) -> int:
    try:
        year = int(request.GET.get("year", default))
    except (TypeError, ValueError):
        return default
    return year if 2000 <= year <= 2100 else default


def _percent(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _figure_row(label, figures: dict, query: str) -> dict:
    """One line of a dashboard table: the figures, their display and the list URL they link to."""
    return {
        "label": label,
        "f": figures,
        "query": query,
        "reply_rate": _percent(figures["reply_rate"]),
        "on_time_rate": _percent(figures["on_time_rate"]),
        "reopen_rate": _percent(figures["reopen_rate"]),
        "median_days": "—" if figures["median_days"] is None else f"{figures['median_days']:g}",
        "average_rating": "—" if figures["average_rating"] is None else f"{figures['average_rating']:.2f}",
    }


@login_required
def dashboard(request):
    _staff(request.user)
    current = _today().year
    year = _year_param(request, current)
    figures = selectors.service_dashboard(user=request.user, year=year)
    base = f"year={year}"
    context = {
        "d": figures,
        "year": year,
        "years": sorted({*range(min(year, current - 5), current + 1)}, reverse=True),
        "volume_chart": charts.volume_chart(figures["months"], figures["volume"]),
        "overall": _figure_row(_("All requests"), figures["overall"], base),
        "by_category": [
            _figure_row(category.label, f, f"{base}&category={category.value}")
            for category, f in figures["by_category"]
        ],
        "by_specialist": [
            _figure_row(str(person), f, f"{base}&assignee={person.pk}") for person, f in figures["by_specialist"]
        ],
        "by_department": [
            _figure_row(department.name, f, f"{base}&department={department.pk}")
            for department, f in figures["by_department"]
        ],
        "month_rows": list(zip(figures["months"], figures["volume_total"], strict=True)),
        "escalated": selectors.requests_visible_to(request.user)
        .filter(status__in=OPEN, escalation_level__gt=0)
        .order_by("-escalation_level", "resolve_due")[:50],
        "can_desk": request.user.role in INTAKE_ROLES,
    }
    return render(request, "servicedesk/dashboard.html", context)


# ---------------------------------------------------------------- create, page


@login_required
@require_http_methods(["GET", "POST"])
def request_create(request):
    user = request.user
    if not (_is_firm(user) or user.role in INTAKE_ROLES):
        raise PermissionDenied
    enterprise = None
    if request.GET.get("enterprise") and not _is_firm(user):
        try:
            enterprise = enterprise_get_for(user, request.GET["enterprise"])
        except NotFoundError:
            raise Http404 from None
    form = RequestForm(
        request.POST or None,
        request.FILES or None,
        user=user,
        enterprise=enterprise,
        initial={"category": request.GET.get("category", "")},
    )
    if request.method == "POST" and form.is_valid():
        kwargs = form.service_kwargs()
        if _is_firm(user):
            kwargs["enterprise"] = user.organisation.enterprise
        try:
            req = services.request_submit(actor=user, **kwargs)
        except DomainError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Request “%(title)s” submitted.") % {"title": req.title})
            return redirect("servicedesk:detail", pk=req.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "servicedesk/form.html", {"form": form}, status=status)


@login_required
def request_detail(request, pk):
    req = _request_or_404(request.user, pk)
    return _render_detail(request, req)


def _action(request, pk, ability: str):
    req = _request_or_404(request.user, pk)
    if not _abilities(request.user, req)[ability]:
        raise PermissionDenied
    return req


def _form_action(request, pk, ability: str, call, message: str):
    """Bind the ability's form, call the service with its data, and redirect or show the errors."""
    req = _action(request, pk, ability)
    form = FORM_CLASSES[ability](request.POST, request.FILES)
    if form.is_valid():
        try:
            call(req, form.cleaned_data)
        except DomainError as error:
            form.add_service_errors(error)
        else:
            return _done(request, req, message)
    return _render_detail(request, req, bound={ability: form}, status=400)


@login_required
@require_POST
def sign_for(request, pk):
    req = _action(request, pk, "sign_for")
    try:
        services.request_sign_for(actor=request.user, request=req)
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("servicedesk:detail", pk=req.pk)
    return _done(request, req, _("Request signed for."))


@login_required
@require_POST
def reply(request, pk):
    return _form_action(
        request,
        pk,
        "reply",
        lambda req, data: services.request_reply(actor=request.user, request=req, note=data["note"]),
        _("Reply sent to the firm."),
    )


@login_required
@require_POST
def ask_firm(request, pk):
    return _form_action(
        request,
        pk,
        "ask_firm",
        lambda req, data: services.request_ask_firm(actor=request.user, request=req, note=data["note"]),
        _("The firm was asked for more information; the clock is paused."),
    )


@login_required
@require_POST
def add_information(request, pk):
    return _form_action(
        request,
        pk,
        "add_information",
        lambda req, data: services.request_add_information(
            actor=request.user,
            request=req,
            note=data["note"],
            attachments=[data["attachment"]] if data.get("attachment") else [],
        ),
        _("Information added; the request is back with the service desk."),
    )


@login_required
@require_POST
def transfer(request, pk):
    return _form_action(
        request,
        pk,
        "transfer",
        lambda req, data: services.request_transfer(
            actor=request.user, request=req, department=data["department"], note=data["note"]
        ),
        _("Request transferred."),
    )


@login_required
@require_POST
def resolve(request, pk):
    return _form_action(
        request,
        pk,
        "resolve",
        lambda req, data: services.request_resolve(actor=request.user, request=req, resolution=data["resolution"]),
        _("Request marked as resolved; the firm is asked to rate it."),
    )


@login_required
@require_POST
def rate(request, pk):
    return _form_action(
        request,
        pk,
        "rate",
        lambda req, data: services.request_rate(
            actor=request.user, request=req, rating=data["rating"], comment=data["comment"]
        ),
        _("Thank you for your rating."),
    )


@login_required
@require_POST
def reopen(request, pk):
    return _form_action(
        request,
        pk,
        "reopen",
        lambda req, data: services.request_reopen(actor=request.user, request=req, reason=data["reason"]),
        _("Request reopened; the service desk will take it up again."),
    )


@login_required
@require_POST
def attachment_add(request, pk):
    return _form_action(
        request,
        pk,
        "attach",
        lambda req, data: services.request_attachment_add(
            actor=request.user, request=req, uploaded_file=data["attachment"]
        ),
        _("File attached."),
    )


@login_required
@require_GET
def attachment_download(request, pk, attachment_pk):
    req = _request_or_404(request.user, pk)
    attachment = req.attachments.filter(pk=attachment_pk).first()
    if attachment is None or not attachment.file.storage.exists(attachment.file.name):
        raise Http404
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)


# ---------------------------------------------------------------- visits


@login_required
@require_http_methods(["GET", "POST"])
def visit_create(request):
    """Log a visit and, in the same step, the requests raised from its findings."""
    user = request.user
    if user.role not in services.VISIT_ROLES:
        raise PermissionDenied
    enterprise = None
    if request.GET.get("enterprise"):
        try:
            enterprise = enterprise_get_for(user, request.GET["enterprise"])
        except NotFoundError:
            raise Http404 from None
    form = VisitForm(request.POST or None, user=user, enterprise=enterprise)
    if request.method == "POST" and form.is_valid():
        data, items = form.cleaned_data, form.items()
        try:
            with transaction.atomic():
                visit = services.visit_log(
                    actor=user,
                    enterprise=data["enterprise"],
                    visited_on=data["visited_on"],
                    people_met=data["people_met"],
                    findings=data["findings"],
                )
                created = services.visit_create_requests(actor=user, visit=visit, items=items) if items else []
        except DomainError as error:
            form.add_item_errors(error)
        else:
            messages.success(
                request,
                _("Visit to %(firm)s logged; %(count)s request(s) created from its findings.")
                % {"firm": visit.enterprise.name, "count": len(created)},
            )
            month = visit.visited_on
            return redirect(f"{reverse('servicedesk:visits')}?month={month:%Y-%m}")
    status = 400 if request.method == "POST" else 200
    return render(request, "servicedesk/visit_form.html", {"form": form}, status=status)


def _month_param(request) -> dt.date:
    today = _today()
    try:
        year, month = (int(part) for part in request.GET.get("month", "").split("-"))
        return dt.date(year, month, 1)
    except (TypeError, ValueError):
        return today.replace(day=1)


@login_required
def visit_calendar(request):
    """A month grid of visits: who visited whom when."""
    _staff(request.user)
    first = _month_param(request)
    visits = selectors.visit_calendar(first.year, first.month, request.user)
    by_day: dict[dt.date, list] = {}
    for visit in visits:
        by_day.setdefault(visit.visited_on, []).append(visit)
    weeks = [
        [{"day": day, "in_month": day.month == first.month, "visits": by_day.get(day, [])} for day in week]
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    ]
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    context = {
        "first": first,
        "weeks": weeks,
        "count": len(visits),
        "previous": previous,
        "following": following,
        "today": _today(),
        "can_desk": request.user.role in INTAKE_ROLES,
        "weekdays": [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")],
    }
    return render(request, "servicedesk/visits.html", context)


@login_required
@require_GET
def enterprise_timeline(request, pk):
    """HTMX fragment for the firm page: every visit and request by every office, newest first."""
    _staff(request.user)
    try:
        enterprise = enterprise_get_for(request.user, pk)
    except NotFoundError:
        raise Http404 from None
    return render(
        request,
        "servicedesk/_enterprise_timeline.html",
        {
            "enterprise": enterprise,
            "entries": selectors.enterprise_timeline(enterprise),
            "can_act": request.user.role in INTAKE_ROLES,
            "today": _today(),
        },
    )
