"""Project pages: thin views that parse input, call one service or selector, and render.

Each action on the project page posts to its own URL; on success it redirects back to the page's
tab, on a refusal it renders the page again with the submitted form and its errors.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from zhiyuan.accounts.models import Role
from zhiyuan.accounts.permissions import is_district_staff
from zhiyuan.approvals.selectors import project_applications
from zhiyuan.approvals.services import acts_for
from zhiyuan.core.errors import DomainError, NotFoundError
from zhiyuan.core.filters import link_filters
from zhiyuan.core.selectors import audit_history
from zhiyuan.enterprises.selectors import enterprises_visible_to, search_enterprises
from zhiyuan.investments import charts, selectors, services
from zhiyuan.investments.filters import ProjectFilter
from zhiyuan.investments.forms import (
    AttachmentForm,
    BlockerForm,
    BlockerResolveForm,
    DecisionForm,
    FollowUpForm,
    KeyListingForm,
    LandProgressForm,
    LandTargetForm,
    MilestoneForm,
    MilestoneReachedForm,
    MonthlyInvestmentForm,
    ProjectForm,
    TransitionForm,
)
from zhiyuan.investments.imports import may_import as may_import_key_projects
from zhiyuan.investments.models import DecisionKind, Pool, Project, Stage, Status
from zhiyuan.investments.tables import ProjectTable

# Filters that the dashboard's links set but the filter bar does not show as inputs.
LINK_ONLY_FILTERS = [
    "contract_year",
    "start_year",
    "completion_year",
    "production_year",
    "min_total_investment",
    "behind_plan",
    "until",
    "exclude_withdrawn",
]
INTERNAL_TABS = ["blockers", "decisions", "follow-ups", "attachments", "history"]
FIRM_TABS = ["overview", "milestones", "investment", "approvals"]


def _viewer(user) -> None:
    """District staff and firm users see projects (firms only their own); banks and the city none."""
    if not (is_district_staff(user) or (user.role == Role.ENTERPRISE and user.enterprise_id)):
        raise PermissionDenied


def _staff(user) -> None:
    if not is_district_staff(user):
        raise PermissionDenied


def _project_or_404(user, pk):
    _viewer(user)
    try:
        return selectors.project_get_for(user, pk)
    except NotFoundError:
        raise Http404 from None


def _this_year() -> int:
    return timezone.localdate().year


def _abilities(user, project) -> dict[str, bool]:
    """Which action forms the user gets on this project (the services check again on submit)."""
    role = user.role
    open_ = project.status != Status.WITHDRAWN
    target = services.NEXT_STAGE.get(Stage(project.stage))
    return {
        "internal": is_district_staff(user),
        "edit": open_ and role in services.EDIT_ROLES,
        "transition": bool(
            target and project.status == Status.ACTIVE and role in services.TRANSITION_ROLES.get(target, ())
        ),
        "follow_up": open_ and role in services.FOLLOW_UP_ROLES,
        "milestone": open_ and role in services.EDIT_ROLES,
        "investment": open_ and role in services.DELIVERY_ROLES,
        "blocker_raise": open_ and role in services.BLOCKER_RAISE_ROLES,
        "blocker_resolve": role in services.BLOCKER_RESOLVE_ROLES,
        "decide": bool(_decision_kinds(project)) and role in services.DECISION_ROLES,
        "attach": open_ and role in services.EDIT_ROLES,
        "key_list": open_ and role in services.KEY_LIST_ROLES,
    }


def _decision_kinds(project) -> list[DecisionKind]:
    return [kind for kind in DecisionKind if project.status in services.DECISION_ALLOWED_FROM[kind]]


def _transition_form(request, project, target, data=None):
    return TransitionForm(data, project=project, target=target, user=request.user)


def _default_forms(request, project, can: dict, *, year: int, listing) -> dict:
    target = services.NEXT_STAGE.get(Stage(project.stage))
    forms = {}
    if can["transition"]:
        forms["transition"] = _transition_form(request, project, target)
    if can["follow_up"]:
        forms["follow_up"] = FollowUpForm()
    if can["milestone"]:
        forms["milestone"] = MilestoneForm()
    if can["investment"] and project.actual_start:
        forms["investment"] = MonthlyInvestmentForm()
    if can["blocker_raise"]:
        forms["blocker"] = BlockerForm()
    if can["decide"]:
        forms["decision"] = DecisionForm(project=project, kinds=_decision_kinds(project))
    if can["attach"]:
        forms["attachment"] = AttachmentForm()
    if can["key_list"]:
        initial = {"year": year}
        if listing:
            initial.update(
                sequence=listing.sequence,
                planned_investment=listing.planned_investment,
                liaison_leader=listing.liaison_leader_id,
                responsible_unit=listing.responsible_unit_id,
            )
        forms["key_listing"] = KeyListingForm(initial=initial)
    return forms


def _render_detail(request, project, *, tab: str | None = None, bound: dict | None = None, status: int = 200):
    """The project page; `bound` replaces default forms by submitted ones (to show their errors)."""
    user = request.user
    can = _abilities(user, project)
    tabs = [*FIRM_TABS, *INTERNAL_TABS] if can["internal"] else FIRM_TABS
    tab = tab or request.GET.get("tab") or "overview"
    if tab not in tabs:
        tab = "overview"
    year = _this_year()
    today = timezone.localdate()
    listing = project.key_listings.filter(year=year).select_related("liaison_leader", "responsible_unit").first()
    forms = _default_forms(request, project, can, year=year, listing=listing)
    forms.update(bound or {})
    progress = selectors.progress_of(project, year=year, today=today)
    series = selectors.monthly_series(project)
    stage_changes = list(project.stage_changes.select_related("actor"))
    reached = {change.to_stage: change for change in stage_changes}
    stage_index = services.STAGE_ORDER.index(Stage(project.stage))
    timeline = [
        {
            "stage": stage,
            "change": reached.get(stage.value),
            "state": "done" if i < stage_index else ("current" if i == stage_index else "todo"),
        }
        for i, stage in enumerate(services.STAGE_ORDER)
    ]
    context = {
        "project": project,
        "can": can,
        "tab": tab,
        "tabs": tabs,
        "forms": forms,
        "year": year,
        "today": today,
        "listing": listing,
        "progress": progress,
        "series": list(reversed(series)),
        "chart": charts.investment_chart(series, year=year, plan=progress.plan),
        "timeline": timeline,
        "stage_changes": stage_changes,
        "next_stage": services.NEXT_STAGE.get(Stage(project.stage)),
        "milestones": project.milestones.all(),
        "reached_form": (bound or {}).get("reached"),
        "resolve_form": (bound or {}).get("resolve"),
        **_approvals_context(user, project),
    }
    if can["internal"]:
        context.update(
            decisions=[
                (decision, [(_field_label(name), *pair) for name, pair in decision.adjustments.items()])
                for decision in project.decisions.select_related("approver")
            ],
            blockers=project.blockers.select_related("unit", "raised_by"),
            follow_ups=project.follow_ups.select_related("actor"),
            attachments=project.attachments.select_related("uploaded_by"),
            history=audit_history(project).select_related("content_type")[:200],
        )
    return render(request, "investments/detail.html", context, status=status)


def _approvals_context(user, project) -> dict:
    """The project's approval applications (as the user may see them) and where to start a new one."""
    may_apply = bool(project.enterprise_id) and project.status != Status.WITHDRAWN and acts_for(
        user, project.enterprise_id
    )
    return {
        "applications": project_applications(project, user).select_related("item"),
        "new_application_url": f"{reverse('approvals:create')}?project={project.pk}" if may_apply else "",
    }


def _field_label(name: str) -> str:
    try:
        return str(Project._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def _action_done(request, project, tab: str, message: str):
    messages.success(request, message)
    return redirect(f"{reverse('investments:detail', args=[project.pk])}?tab={tab}")


def _submit(request, project, form, call, *, tab: str, bound: str, message):
    """The shape of every action on the project page: validate `form`, hand its cleaned data to the
    service `call`; on success redirect to `tab` with `message` (a string, or a function of the
    service's result); otherwise show the tab again with the form's (and the service's) errors."""
    if form.is_valid():
        try:
            result = call(form.cleaned_data)
        except DomainError as error:
            form.add_service_errors(error)
        else:
            return _action_done(request, project, tab, message(result) if callable(message) else message)
    return _render_detail(request, project, tab=tab, bound={bound: form}, status=400)


# ---------------------------------------------------------------- list, dashboard, key list


@login_required
def project_list(request):
    _viewer(request.user)
    year, today = _this_year(), timezone.localdate()
    visible = selectors.projects_visible_to(request.user)
    filterset = ProjectFilter(request.GET or None, queryset=visible, request=request)
    until = filterset.form.cleaned_data.get("until") if filterset.is_valid() else None
    if until and until < today:  # the cockpit as of a past day: each row's plan and progress as of then
        year, today = until.year, until
    table = ProjectTable(selectors.project_list_rows(filterset.qs, year=year, today=today), year=year, today=today)
    RequestConfig(request, paginate={"per_page": 25}).configure(table)
    context = {
        "filter": filterset,
        "table": table,
        "year": year,
        "total": table.paginator.count,
        "can_create": request.user.role in services.ATTRACTION_ROLES,
        "can_import": may_import_key_projects(request.user),
        "pool_tabs": _pool_tabs(request),
        "bar_fields": [field for field in filterset.form if field.name not in LINK_ONLY_FILTERS],
        "link_filters": link_filters(request, filterset, LINK_ONLY_FILTERS, flags=("exclude_withdrawn",)),
    }
    template = "investments/_table.html" if request.htmx else "investments/list.html"
    return render(request, template, context)


def _pool_tabs(request) -> list[dict]:
    counts = selectors.pool_counts(request.user)
    current = request.GET.get("pool", "")

    def url(value):
        rest = request.GET.copy()
        rest.pop("page", None)
        rest.pop("pool", None)
        if value:
            rest["pool"] = value
        return f"?{rest.urlencode()}"

    tabs = [{"label": _("All pools"), "count": sum(counts.values()), "active": current == "", "url": url("")}]
    tabs += [
        {
            "label": pool.label,
            "count": counts.get(pool.value, 0),
            "active": current == pool.value,
            "url": url(pool.value),
        }
        for pool in Pool
    ]
    return tabs


def _year_param(request, default: int) -> int:
    try:
        year = int(request.GET.get("year", default))
    except (TypeError, ValueError):
        return default
    return year if 2000 <= year <= 2100 else default


@login_required
def dashboard(request, *, bound: dict | None = None, status: int = 200):
    _staff(request.user)
    year = _year_param(request, _this_year())
    figures = selectors.dashboard(user=request.user, year=year)
    role = request.user.role
    forms = {}
    if role in services.DELIVERY_ROLES:
        forms["land_progress"] = LandProgressForm()
    if role in services.LAND_TARGET_ROLES:
        target = figures["land_target"]
        forms["land_target"] = LandTargetForm(
            initial={
                "year": year,
                "collective_land_mu": target.collective_land_mu if target else "",
                "state_housing_m2": target.state_housing_m2 if target else "",
            }
        )
    forms.update(bound or {})
    target, done = figures["land_target"], figures["land_done"]
    land = []
    if target is not None:
        land = [
            (_("Collective land (mu)"), done["land"], target.collective_land_mu, "land"),
            (_("State-owned housing (m²)"), done["housing"], target.state_housing_m2, "housing"),
        ]
    current = _this_year()
    context = {
        "d": figures,
        "year": year,
        "years": sorted({*range(min(year, current - 8), current + 2)}, reverse=True),
        "forms": forms,
        "land": [
            {"label": label, "done": d, "target": t, "key": key, "share": (d / t) if t else None}
            for label, d, t, key in land
        ],
        "pool_chart": charts.breakdown_chart(figures["pools"], element_id="pool-chart"),
        "stage_chart": charts.breakdown_chart(figures["stages"], element_id="stage-chart"),
    }
    return render(request, "investments/dashboard.html", context, status=status)


@login_required
def key_list(request, year: int | None = None):
    _staff(request.user)
    year = year or _this_year()
    rows = selectors.key_projects(year, user=request.user)
    current = _this_year()
    return render(
        request,
        "investments/key_list.html",
        {
            "rows": rows,
            "year": year,
            "years": sorted({*range(min(year, current - 8), current + 2)}, reverse=True),
            "elapsed": selectors.year_elapsed_share(year, timezone.localdate()),
            "plan_total": sum((p.plan or 0 for _k, p in rows), 0),
            "done_total": sum((p.done for _k, p in rows), 0),
            "behind_count": sum(1 for k, p in rows if p.behind and k.project.status == Status.ACTIVE),
        },
    )


# ---------------------------------------------------------------- create, page, edit


@login_required
@require_http_methods(["GET", "POST"])
def lead_create(request):
    if request.user.role not in services.ATTRACTION_ROLES:
        raise PermissionDenied
    form = ProjectForm(request.POST or None, creating=True)
    if request.method == "POST" and form.is_valid():
        try:
            project = services.lead_create(actor=request.user, data=form.data_for_service())
        except DomainError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Lead %(name)s recorded.") % {"name": project.name})
            return redirect("investments:detail", pk=project.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "investments/form.html", {"form": form, "creating": True}, status=status)


@login_required
def project_detail(request, pk):
    project = _project_or_404(request.user, pk)
    return _render_detail(request, project)


@login_required
@require_http_methods(["GET", "POST"])
def project_edit(request, pk):
    project = _project_or_404(request.user, pk)
    if not _abilities(request.user, project)["edit"]:
        raise PermissionDenied
    form = ProjectForm(request.POST or None, instance=project)
    if request.method == "POST" and form.is_valid():
        try:
            services.project_update(actor=request.user, project=project, data=form.data_for_service())
        except DomainError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("investments:detail", pk=project.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "investments/form.html", {"form": form, "project": project, "creating": False}, status=status
    )


# ---------------------------------------------------------------- actions on a project


def _action(request, pk, ability: str):
    project = _project_or_404(request.user, pk)
    if not _abilities(request.user, project)[ability]:
        raise PermissionDenied
    return project


@login_required
@require_POST
def transition(request, pk):
    project = _action(request, pk, "transition")
    try:
        target = Stage(request.POST.get("to_stage", ""))
    except ValueError:
        target = services.NEXT_STAGE[Stage(project.stage)]
    if target not in services.TRANSITION_FIELDS:
        target = services.NEXT_STAGE[Stage(project.stage)]
    form = _transition_form(request, project, target, request.POST)
    return _submit(
        request,
        project,
        form,
        lambda data: services.project_transition(actor=request.user, project=project, **form.service_kwargs()),
        tab="overview",
        bound="transition",
        message=_("The project moved to “%(stage)s”.") % {"stage": target.label},
    )


@login_required
@require_POST
def follow_up(request, pk):
    project = _action(request, pk, "follow_up")
    return _submit(
        request,
        project,
        FollowUpForm(request.POST),
        lambda data: services.follow_up_add(actor=request.user, project=project, **data),
        tab="follow-ups",
        bound="follow_up",
        message=_("Follow-up logged."),
    )


@login_required
@require_POST
def milestone_add(request, pk):
    project = _action(request, pk, "milestone")
    return _submit(
        request,
        project,
        MilestoneForm(request.POST),
        lambda data: services.milestone_add(actor=request.user, project=project, **data),
        tab="milestones",
        bound="milestone",
        message=_("Milestone added."),
    )


@login_required
@require_POST
def milestone_reached(request, pk, milestone_pk):
    project = _action(request, pk, "milestone")
    milestone = project.milestones.filter(pk=milestone_pk).first()
    if milestone is None:
        raise Http404
    form = MilestoneReachedForm(request.POST)
    form.milestone_pk = milestone.pk
    return _submit(
        request,
        project,
        form,
        lambda data: services.milestone_complete(actor=request.user, milestone=milestone, **data),
        tab="milestones",
        bound="reached",
        message=_("Milestone marked as reached."),
    )


@login_required
@require_POST
def investment(request, pk):
    project = _action(request, pk, "investment")
    return _submit(
        request,
        project,
        MonthlyInvestmentForm(request.POST),
        lambda data: services.monthly_investment_record(actor=request.user, project=project, **data),
        tab="investment",
        bound="investment",
        message=_("Monthly investment recorded."),
    )


@login_required
@require_POST
def blocker_raise(request, pk):
    project = _action(request, pk, "blocker_raise")
    return _submit(
        request,
        project,
        BlockerForm(request.POST),
        lambda data: services.blocker_raise(actor=request.user, project=project, **data),
        tab="blockers",
        bound="blocker",
        message=_("Problem raised."),
    )


@login_required
@require_POST
def blocker_resolve(request, pk, blocker_pk):
    project = _action(request, pk, "blocker_resolve")
    blocker = project.blockers.filter(pk=blocker_pk).first()
    if blocker is None:
        raise Http404
    form = BlockerResolveForm(request.POST)
    form.blocker_pk = blocker.pk
    return _submit(
        request,
        project,
        form,
        lambda data: services.blocker_resolve(actor=request.user, blocker=blocker, **data),
        tab="blockers",
        bound="resolve",
        message=_("Problem resolved."),
    )


@login_required
@require_POST
def decision(request, pk):
    project = _action(request, pk, "decide")
    form = DecisionForm(request.POST, project=project, kinds=_decision_kinds(project))
    return _submit(
        request,
        project,
        form,
        lambda data: services.decision_record(actor=request.user, project=project, **form.service_kwargs()),
        tab="decisions",
        bound="decision",
        message=lambda record: _("Decision recorded: %(kind)s.") % {"kind": record.get_kind_display()},
    )


@login_required
@require_POST
def attachment_add(request, pk):
    project = _action(request, pk, "attach")
    return _submit(
        request,
        project,
        AttachmentForm(request.POST, request.FILES),
        lambda data: services.attachment_add(
            actor=request.user, project=project, uploaded_file=data["file"], caption=data["caption"]
        ),
        tab="attachments",
        bound="attachment",
        message=_("File attached."),
    )


@login_required
@require_GET
def attachment_download(request, pk, attachment_pk):
    project = _project_or_404(request.user, pk)
    if not is_district_staff(request.user):
        raise Http404
    attachment = project.attachments.filter(pk=attachment_pk).first()
    if attachment is None or not attachment.file.storage.exists(attachment.file.name):
        raise Http404
    name = attachment.file.name.rsplit("/", 1)[-1]
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=name)


@login_required
@require_POST
def key_listing(request, pk):
    project = _action(request, pk, "key_list")
    form = KeyListingForm(request.POST)
    return _submit(
        request,
        project,
        form,
        lambda data: services.key_project_set(
            actor=request.user,
            project=project,
            year=data["year"],
            planned_investment=data["planned_investment"],
            liaison_leader=data["liaison_leader"],
            responsible_unit=data["responsible_unit"],
            sequence=data["sequence"] or 0,
        ),
        tab="overview",
        bound="key_listing",
        message=lambda listing: _("Listed as a key project of %(year)s.") % {"year": listing.year},
    )


@login_required
@require_GET
def enterprise_options(request):
    """HTMX: <option>s of registered enterprises matching what is typed in the signing form."""
    if request.user.role not in services.ATTRACTION_ROLES:
        raise PermissionDenied
    text = (request.GET.get("enterprise_ref") or "").strip()
    found = search_enterprises(enterprises_visible_to(request.user), text)[:10] if len(text) >= 2 else []
    return render(request, "investments/_enterprise_options.html", {"enterprises": found})


# ---------------------------------------------------------------- land acquisition (dashboard)


def _dashboard_url(year) -> str:
    return f"{reverse('investments:dashboard')}?year={year}"


@login_required
@require_POST
def land_progress(request):
    if request.user.role not in services.DELIVERY_ROLES:
        raise PermissionDenied
    form = LandProgressForm(request.POST)
    if form.is_valid():
        try:
            progress = services.land_progress_record(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Land acquisition recorded."))
            return redirect(_dashboard_url(progress.month.year))
    return dashboard(request, bound={"land_progress": form}, status=400)


@login_required
@require_POST
def land_target(request):
    if request.user.role not in services.LAND_TARGET_ROLES:
        raise PermissionDenied
    form = LandTargetForm(request.POST)
    if form.is_valid():
        try:
            target = services.land_target_set(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Land acquisition targets saved."))
            return redirect(_dashboard_url(target.year))
    return dashboard(request, bound={"land_target": form}, status=400)
