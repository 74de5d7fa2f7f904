"""Approval-desk pages (综合受理窗口): the window's queue, the application list, the new-application
form, the application page with its actions, material downloads and the item catalogue.

Thin views: each action posts to its own URL and calls exactly one service; on success it redirects
back to the application page, on a refusal it shows the error on top and renders the page again
with the submitted form and its field errors (status 400). Banks and the city system get 404 on
every page, as for an application that does not exist.
"""

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from zhiyuan.accounts.models import Role
from zhiyuan.accounts.permissions import is_district_staff
from zhiyuan.approvals import selectors, services
from zhiyuan.approvals.filters import ApplicationFilter
from zhiyuan.approvals.forms import ApplicationForm, CollectForm, CorrectionForm, MaterialForm, NoteForm, ReasonForm
from zhiyuan.approvals.models import Application, ApplicationStatus, EventKind
from zhiyuan.approvals.services import CITY_STATUS_TO_APPLICATION
from zhiyuan.approvals.tables import ApplicationTable
from zhiyuan.core.errors import DomainError, NotFoundError
from zhiyuan.core.filters import link_filters
from zhiyuan.datalink.selectors import can_view as can_view_datalink
from zhiyuan.datalink.selectors import outbox_pks_by_message_id
from zhiyuan.investments.selectors import project_get_for, projects_visible_to

S = ApplicationStatus
WITHDRAWABLE = frozenset({S.DRAFT, S.SUBMITTED, S.CORRECTION})
# Statuses in which the application page shows the city's panel.
CITY_STATUSES = frozenset({S.ACCEPTED, S.CITY_RECEIVED, S.IN_REVIEW, S.RETURNED, S.GRANTED, S.DENIED, S.COLLECTED})
# Timeline events written by the data link on the city's behalf (no user acted).
CITY_EVENTS = frozenset({EventKind.CITY_RECEIVED, EventKind.CITY_STATUS, EventKind.STALE_UPDATE})

# Filters set by the cockpit's links (a year's accepted, forwarded, decided applications), shown as
# removable badges rather than inputs of the filter bar.
LINK_ONLY_FILTERS = ["accepted_year", "forwarded_year", "decided_year", "decided_on_time", "until"]


def _today() -> dt.date:
    return timezone.localdate()


def _is_firm(user) -> bool:
    return user.role == Role.ENTERPRISE and bool(user.enterprise_id)


def _viewer(user) -> None:
    """District staff and firm users use the desk (firms only for their own applications); to anyone
    else the pages do not exist."""
    if not (is_district_staff(user) or _is_firm(user)):
        raise Http404


def _application_or_404(user, pk) -> Application:
    _viewer(user)
    try:
        return selectors.application_get_for(user, pk)
    except NotFoundError:
        raise Http404 from None


def _error_text(error: DomainError) -> str:
    """The error's message followed by its field messages, for the message on top of the page."""
    parts = [str(error.message)]
    for value in error.fields.values():
        for message in value if isinstance(value, (list, tuple)) else [value]:
            if str(message) not in parts:
                parts.append(str(message))
    return " ".join(parts)


# ---------------------------------------------------------------- entry, lists


@login_required
@require_GET
def index(request):
    """/approvals/: the window's queue for clerks; everyone else starts at the list."""
    user = request.user
    _viewer(user)
    if not selectors.is_window_staff(user):
        return redirect("approvals:list")
    today = _today()
    rows = []
    for application, clock in selectors.window_queue(today=today):
        overdue = bool(clock and clock.due is not None and clock.due < today)
        soon = bool(clock and not overdue and clock.days_left is not None and clock.days_left <= 1)
        rows.append(
            {
                "app": application,
                "clock": clock,
                "next_step": selectors.application_next_step(application, user),
                "row_class": "table-danger" if overdue else "table-warning" if soon else "",
            }
        )
    return render(
        request,
        "approvals/queue.html",
        {"rows": rows, "counts": selectors.window_counts(today=today), "today": today, "can_create": True},
    )


@login_required
@require_GET
def application_list(request):
    user = request.user
    _viewer(user)
    firm = _is_firm(user)
    filterset = ApplicationFilter(request.GET or None, queryset=selectors.applications_visible_to(user))
    table = ApplicationTable(filterset.qs, today=_today(), firm_view=firm)
    RequestConfig(request, paginate={"per_page": 25}).configure(table)
    context = {
        "filter": filterset,
        "bar_fields": [field for field in filterset.form if field.name not in LINK_ONLY_FILTERS],
        "link_filters": link_filters(request, filterset, LINK_ONLY_FILTERS, flags=("decided_on_time",)),
        "table": table,
        "total": table.paginator.count,
        "firm": firm,
        "can_create": firm or services.is_clerk(user),
        "is_window": selectors.is_window_staff(user),
    }
    template = "approvals/_table.html" if request.htmx else "approvals/list.html"
    return render(request, template, context)


@login_required
@require_GET
def item_list(request):
    """The item catalogue (事项清单): what the window accepts, for whom, within how long, with which materials."""
    user = request.user
    _viewer(user)
    return render(
        request,
        "approvals/items.html",
        {
            "items": selectors.items_active(),
            "can_create": _is_firm(user) or services.is_clerk(user),
            "firm": _is_firm(user),
            "is_window": selectors.is_window_staff(user),
        },
    )


# ---------------------------------------------------------------- create


@login_required
@require_http_methods(["GET", "POST"])
def application_create(request):
    user = request.user
    _viewer(user)
    if not (_is_firm(user) or services.is_clerk(user)):
        raise PermissionDenied
    projects = projects_visible_to(user).filter(enterprise__isnull=False).order_by("name")
    initial = {"item": request.GET.get("item", "")}
    enterprise = user.organisation.enterprise if _is_firm(user) else None
    if request.GET.get("project"):
        try:
            project = project_get_for(user, request.GET["project"])
        except NotFoundError:
            raise Http404 from None
        initial["project"] = project.pk
        enterprise = project.enterprise or enterprise
    if enterprise is not None:
        initial.update(contact_name=enterprise.contact_name, contact_phone=enterprise.contact_phone)
    form = ApplicationForm(request.POST or None, projects=projects, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            application = services.application_create(
                actor=user,
                item=data["item"],
                project=data["project"],
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                description=data["description"],
            )
        except NotFoundError:
            raise Http404 from None
        except DomainError as error:
            form.add_service_errors(error)
        else:
            messages.success(
                request,
                _("Application %(number)s started: upload the materials, then submit it.")
                % {"number": application.number},
            )
            return redirect("approvals:detail", pk=application.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "approvals/form.html",
        {"form": form, "accept_days": settings.ZHIYUAN_APPROVALS_ACCEPT_WORKDAYS},
        status=status,
    )


# ---------------------------------------------------------------- the application page


def _abilities(user, application: Application) -> dict[str, bool]:
    """Which forms the user gets on this application (the services check again on submit)."""
    status = application.status
    clerk = services.is_clerk(user)
    applicant = services.acts_for(user, application.enterprise_id)
    return {
        "internal": is_district_staff(user),
        "clerk": clerk,
        "applicant": applicant,
        "upload": applicant and status in services.EDITABLE_MATERIALS,
        "submit": applicant and status in (S.DRAFT, S.CORRECTION),
        "withdraw": applicant and status in WITHDRAWABLE,
        "accept": clerk and status == S.SUBMITTED,
        "reject": clerk and status == S.SUBMITTED,
        "correction": clerk and status == S.SUBMITTED and not application.corrections_requested,
        "supplement": clerk and status == S.RETURNED,
        "collect": clerk and status in (S.GRANTED, S.DENIED),
    }


def _action_form(name: str, application: Application, data=None):
    """The form of one action, unbound or bound to `data`; each has its own prefix so the ids differ."""
    if name == "correction":
        return CorrectionForm(data, application=application, prefix=name)
    if name == "collect":
        return CollectForm(data, initial={"collected_by": application.contact_name}, prefix=name)
    form_class = {"withdraw": ReasonForm, "reject": ReasonForm, "accept": NoteForm, "supplement": NoteForm}[name]
    return form_class(data, prefix=name)


ACTION_FORMS = ("accept", "correction", "reject", "supplement", "collect", "withdraw")


def _material_rows(application: Application, can: dict, bound_uploads: dict) -> tuple[list[dict], dict]:
    """The checklist: one row per required material with its files and upload form; and the files
    not tied to a material (supplements the city asked for)."""
    files = list(application.materials.select_related("uploaded_by").order_by("round", "uploaded_at", "id"))
    current_round = services.material_round(application)
    for material in files:
        material.removable = can["upload"] and material.round == current_round
    problems = {}
    if application.status == S.CORRECTION:
        problems = {
            entry.get("requirement"): entry.get("problem")
            for entry in application.correction_items
            if entry.get("requirement")
        }
    rows = []
    for requirement in application.item.materials.all():
        mine = [m for m in files if m.requirement_id == requirement.pk]
        form = None
        if can["upload"]:
            form = bound_uploads.get(requirement.pk)
            if form is None:
                form = MaterialForm(requirement=requirement)
        current = [m for m in mine if m.is_current]
        rows.append(
            {
                "requirement": requirement,
                "current": current,
                "earlier": [m for m in mine if not m.is_current],
                "missing": requirement.required and not current,
                "problem": problems.get(requirement.pk, ""),
                "corrected": any(m.round == 1 for m in current),
                "form": form,
            }
        )
    other_form = None
    if can["upload"] and application.status == S.RETURNED:
        other_form = bound_uploads.get(None)
        if other_form is None:
            other_form = MaterialForm()
    other = {"files": [m for m in files if m.requirement_id is None], "form": other_form}
    return rows, other


def _short(value, length: int = 12) -> str:
    return str(value)[:length]


def _event_details(event) -> list[tuple[str, str]]:
    """The parts of an event's data worth showing, as (label, value)."""
    data = event.data or {}
    details: list[tuple[str, str]] = []
    if data.get("status"):
        target = CITY_STATUS_TO_APPLICATION.get(data["status"])
        details.append((_("Status"), str(S(target).label) if target else str(data["status"])))
    if data.get("version") not in (None, ""):
        details.append((_("Version"), str(data["version"])))
    if data.get("applied_version") not in (None, ""):
        details.append((_("Version applied"), str(data["applied_version"])))
    if data.get("case_number"):
        details.append((_("City case number"), str(data["case_number"])))
    if data.get("certificate_number"):
        details.append((_("Certificate number"), str(data["certificate_number"])))
    if data.get("accept_due"):
        details.append((_("Window decision due"), str(data["accept_due"])))
    if data.get("city_due"):
        details.append((_("City decision due"), str(data["city_due"])))
    if data.get("department"):
        details.append((_("City department"), str(data["department"])))
    if data.get("material"):
        details.append((_("Material"), str(data["material"])))
    if data.get("sha256"):
        details.append(("SHA-256", _short(data["sha256"])))
    if data.get("files"):
        details.append((_("Files"), str(data["files"])))
    return details


def _timeline(application: Application, user) -> list:
    """The timeline with labels, who acted, the details, and links to the outgoing messages for staff."""
    events = list(selectors.application_timeline(application))
    outbox: dict[str, int] = {}
    if can_view_datalink(user):
        outbox = outbox_pks_by_message_id(event.message_id for event in events if event.message_id)
    for event in events:
        event.label = event.get_kind_display()
        if event.actor is not None:
            event.by = str(event.actor)
        else:
            event.by = _("City system") if event.kind in CITY_EVENTS else _("System")
        event.details = _event_details(event)
        event.corrections = (event.data or {}).get("items") or []
        pk = outbox.get(event.message_id)
        event.message_url = reverse("datalink:message", args=[pk]) if pk else ""
    return events


def _render_detail(request, application: Application, *, bound: dict | None = None, status: int = 200):
    """The application page; `bound` replaces default forms by submitted ones (to show their errors):
    action names, or ("upload", requirement id or None) for the upload forms."""
    user = request.user
    bound = bound or {}
    can = _abilities(user, application)
    forms = {
        name: bound[name] if name in bound else _action_form(name, application) for name in ACTION_FORMS if can[name]
    }
    uploads = {key[1]: form for key, form in bound.items() if isinstance(key, tuple)}
    rows, other = _material_rows(application, can, uploads)
    today = _today()
    clock = selectors.application_clock(application, today=today)
    context = {
        "app": application,
        "can": can,
        "forms": forms,
        "rows": rows,
        "other": other,
        "clock": clock,
        "today": today,
        "accept_days": settings.ZHIYUAN_APPROVALS_ACCEPT_WORKDAYS,
        "overdue": bool(clock and clock.due is not None and clock.due < today),
        "next_step": selectors.application_next_step(application, user),
        "events": _timeline(application, user),
        "show_city": application.status in CITY_STATUSES,
        "max_mb": settings.ZHIYUAN_APPROVALS_MATERIAL_MAX_BYTES // (1024 * 1024),
        "missing": services.missing_materials(application) if application.status == S.DRAFT else [],
    }
    return render(request, "approvals/detail.html", context, status=status)


@login_required
@require_GET
def application_detail(request, pk: int):
    return _render_detail(request, _application_or_404(request.user, pk))


def _action(request, pk, ability: str) -> Application:
    application = _application_or_404(request.user, pk)
    if not _abilities(request.user, application)[ability]:
        raise PermissionDenied
    return application


def _done(request, application: Application, message: str):
    messages.success(request, message % {"number": application.number})
    return redirect("approvals:detail", pk=application.pk)


def _refused(request, application: Application, error: DomainError):
    messages.error(request, _error_text(error))
    return redirect("approvals:detail", pk=application.pk)


def _form_action(request, pk, ability: str, call, message: str):
    """Bind the action's form, call its service, and redirect, or show the errors on the form."""
    application = _action(request, pk, ability)
    form = _action_form(ability, application, request.POST)
    if form.is_valid():
        try:
            call(application, form)
        except DomainError as error:
            messages.error(request, _error_text(error))
            form.add_service_errors(error)
        else:
            return _done(request, application, message)
    return _render_detail(request, application, bound={ability: form}, status=400)


# ---------------------------------------------------------------- materials


@login_required
@require_POST
def material_add(request, pk: int, requirement_pk: int | None = None):
    application = _action(request, pk, "upload")
    requirement = None
    if requirement_pk is not None:
        requirement = application.item.materials.filter(pk=requirement_pk).first()
        if requirement is None:
            raise Http404
    form = MaterialForm(request.POST, request.FILES, requirement=requirement)
    if form.is_valid():
        try:
            services.material_add(
                actor=request.user, application=application, requirement=requirement,
                uploaded_file=form.cleaned_data["file"],
            )
        except DomainError as error:
            messages.error(request, _error_text(error))
            form.add_service_errors(error)
        else:
            messages.success(request, _("File “%(name)s” uploaded.") % {"name": form.cleaned_data["file"].name})
            return redirect(reverse("approvals:detail", args=[application.pk]) + "#materials")
    return _render_detail(request, application, bound={("upload", requirement_pk): form}, status=400)


@login_required
@require_POST
def material_remove(request, pk: int, material_pk: int):
    application = _action(request, pk, "upload")
    material = application.materials.filter(pk=material_pk).first()
    if material is None:
        raise Http404
    name = material.original_name
    try:
        services.material_remove(actor=request.user, material=material)
    except DomainError as error:
        return _refused(request, application, error)
    messages.success(request, _("File “%(name)s” removed.") % {"name": name})
    return redirect(reverse("approvals:detail", args=[application.pk]) + "#materials")


@login_required
@require_GET
def material_download(request, pk: int, material_pk: int):
    application = _application_or_404(request.user, pk)
    material = application.materials.filter(pk=material_pk).first()
    if material is None or not material.file or not material.file.storage.exists(material.file.name):
        raise Http404
    return FileResponse(material.file.open("rb"), as_attachment=True, filename=material.original_name)


# ---------------------------------------------------------------- the applicant's steps


@login_required
@require_POST
def submit(request, pk: int):
    application = _action(request, pk, "submit")
    resubmit = application.status == S.CORRECTION
    try:
        services.application_submit(actor=request.user, application=application)
    except DomainError as error:
        return _refused(request, application, error)
    if resubmit:
        message = _("Application %(number)s resubmitted to the window.") % {"number": application.number}
    else:
        message = _("Application %(number)s submitted; the window decides within %(days)s working days.") % {
            "number": application.number,
            "days": settings.ZHIYUAN_APPROVALS_ACCEPT_WORKDAYS,
        }
    messages.success(request, message)
    return redirect("approvals:detail", pk=application.pk)


@login_required
@require_POST
def withdraw(request, pk: int):
    return _form_action(
        request,
        pk,
        "withdraw",
        lambda app, form: services.application_withdraw(
            actor=request.user, application=app, reason=form.cleaned_data["reason"]
        ),
        _("Application %(number)s withdrawn."),
    )


# ---------------------------------------------------------------- the window's steps


@login_required
@require_POST
def accept(request, pk: int):
    return _form_action(
        request,
        pk,
        "accept",
        lambda app, form: services.application_accept(
            actor=request.user, application=app, note=form.cleaned_data["note"]
        ),
        _("Application %(number)s accepted (受理); it is being forwarded to the city."),
    )


@login_required
@require_POST
def reject(request, pk: int):
    return _form_action(
        request,
        pk,
        "reject",
        lambda app, form: services.application_reject(
            actor=request.user, application=app, reason=form.cleaned_data["reason"]
        ),
        _("Application %(number)s not accepted; the firm has been told why."),
    )


@login_required
@require_POST
def request_correction(request, pk: int):
    return _form_action(
        request,
        pk,
        "correction",
        lambda app, form: services.application_request_correction(
            actor=request.user, application=app, items=form.items(), note=form.cleaned_data["note"]
        ),
        _("Corrections requested for %(number)s; the firm has been told what to correct."),
    )


@login_required
@require_POST
def supplement_forward(request, pk: int):
    return _form_action(
        request,
        pk,
        "supplement",
        lambda app, form: services.application_supplement_forward(
            actor=request.user, application=app, note=form.cleaned_data["note"]
        ),
        _("Supplementary material of %(number)s forwarded to the city."),
    )


@login_required
@require_POST
def collect(request, pk: int):
    return _form_action(
        request,
        pk,
        "collect",
        lambda app, form: services.application_collect(
            actor=request.user, application=app, collected_by=form.cleaned_data["collected_by"]
        ),
        _("Collection of the decision on %(number)s recorded (出件)."),
    )
