"""Chain-map pages: thin views that parse input, call one service or selector, and render.

District staff read every page; the investment office, the project office and administrators map
firms; the investment office and administrators enter and import targets and turn them into leads.
Firms, banks and the city get 403. Each action posts to its own URL and redirects back to the node
(or re-renders it with the submitted form and its errors).
"""


from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhiyuan.chains import selectors, services
from zhiyuan.chains.forms import (
    XLSX_TYPE,
    GapFilterForm,
    NodeFirmAddForm,
    TargetEditForm,
    TargetForm,
    TargetImportForm,
)
from zhiyuan.chains.models import Position
from zhiyuan.core import uploads
from zhiyuan.core.errors import DomainError, NotFoundError, ValidationFailed
from zhiyuan.core.uploads import PendingUploads
from zhiyuan.enterprises.models import Enterprise
from zhiyuan.enterprises.models import Status as EnterpriseStatus
from zhiyuan.enterprises.selectors import search_enterprises

SESSION_KEY = "chains_target_import"
UPLOAD_DIR = "imports/chains"
FIRM_ACTIONS = {"confirm", "reject", "key", "unkey"}


def _viewer(user) -> None:
    if not selectors.may_view(user):
        raise PermissionDenied


def _mapper(user) -> None:
    _viewer(user)
    if not services.may_map(user):
        raise PermissionDenied


def _targeter(user) -> None:
    _viewer(user)
    if not services.may_target(user):
        raise PermissionDenied


def _abilities(user) -> dict[str, bool]:
    return {"map": services.may_map(user), "target": services.may_target(user)}


def _node_url(node_id: int, anchor: str = "") -> str:
    url = reverse("chains:node", args=[node_id])
    return f"{url}#{anchor}" if anchor else url


# -- overview, map, gaps -------------------------------------------------------------------------------


@login_required
@require_GET
def index(request):
    """The four chains as cards: coverage, gaps, local firms and the targets' conversion funnel."""
    _viewer(request.user)
    chains = selectors.chain_trees()
    firms = selectors.chain_firm_counts()
    cards = [{"view": view, "firms": firms.get(view.chain.pk, 0)} for view in chains]
    context = {"cards": cards, "legend": list(selectors.Strength), "can": _abilities(request.user)}
    return render(request, "chains/index.html", context)


@login_required
@require_GET
def chain_map(request, code):
    """The map: segments as rows, nodes from upstream to downstream, coloured by local strength."""
    _viewer(request.user)
    try:
        view = selectors.chain_tree(code)
    except NotFoundError:
        raise Http404 from None
    context = {
        "view": view,
        "positions": list(Position),
        "firms": selectors.chain_firm_counts().get(view.chain.pk, 0),
        "legend": list(selectors.Strength),
        "can": _abilities(request.user),
    }
    return render(request, "chains/map.html", context)


@login_required
@require_GET
def gap_list(request):
    """Every gap (nodes with no or weak local supply) with its targets, filtered by chain."""
    _viewer(request.user)
    chains = selectors.chain_choices()
    form = GapFilterForm(request.GET or None, chains=chains)
    chain = form.cleaned_data.get("chain") if form.is_valid() else None
    gaps = selectors.gaps(chain=chain or None)
    return render(
        request,
        "chains/gaps.html",
        {"gaps": gaps, "form": form, "chain": chain, "can": _abilities(request.user)},
    )


@login_required
@require_POST
def map_refresh(request):
    """Apply every node's rules again (new products, changed rules); people's decisions stay."""
    _mapper(request.user)
    changed = services.nodes_map_suggest(actor=request.user)
    messages.success(request, _("The rules were applied again: %(count)d suggestions changed.") % {"count": changed})
    target = request.POST.get("next") or ""
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False)
    return redirect(target if target and safe else reverse("chains:index"))


# -- a node --------------------------------------------------------------------------------------------


def _node_or_404(pk):
    try:
        return selectors.node_get(pk)
    except NotFoundError:
        raise Http404 from None


def _render_node(request, pk, *, bound: dict | None = None, status: int = 200):
    try:
        detail = selectors.node_detail(pk)
    except NotFoundError:
        raise Http404 from None
    can = _abilities(request.user)
    forms = {}
    if can["map"]:
        forms["firm"] = NodeFirmAddForm()
    if can["target"]:
        forms["target"] = TargetForm()
    forms.update(bound or {})
    firms = [(firm, selectors.matched_by_display(firm.matched_by)) for firm in detail.firms]
    context = {
        "detail": detail,
        "node": detail.node,
        "firms": firms,
        "forms": forms,
        "can": can,
        "signed_stages": selectors.SIGNED_STAGES,
    }
    return render(request, "chains/node.html", context, status=status)


@login_required
@require_GET
def node_detail(request, pk):
    """A node: its local firms (confirm, reject, key) with their matched products, and its targets."""
    _viewer(request.user)
    return _render_node(request, pk)


@login_required
@require_POST
def firm_decide(request, pk, firm_pk, action):
    _mapper(request.user)
    if action not in FIRM_ACTIONS:
        raise Http404
    node = _node_or_404(pk)
    try:
        firm = selectors.node_firm_get(node, firm_pk)
    except NotFoundError:
        raise Http404 from None
    try:
        if action == "confirm":
            services.node_firm_confirm(actor=request.user, node_firm=firm)
            messages.success(request, _("%(firm)s confirmed at this node.") % {"firm": firm.enterprise})
        elif action == "reject":
            services.node_firm_reject(actor=request.user, node_firm=firm)
            messages.success(request, _("%(firm)s rejected at this node.") % {"firm": firm.enterprise})
        else:
            services.node_firm_set_key(actor=request.user, node_firm=firm, is_key=action == "key")
            messages.success(request, _("Key firms updated."))
    except DomainError as error:
        messages.error(request, str(error.message))
    return redirect(_node_url(node.pk, "firms"))


@login_required
@require_POST
def firm_add(request, pk):
    _mapper(request.user)
    node = _node_or_404(pk)
    form = NodeFirmAddForm(request.POST)
    if form.is_valid():
        try:
            data = form.cleaned_data
            firm = services.node_firm_add(
                actor=request.user, node=node, enterprise=data["enterprise"], is_key=data["is_key"]
            )
        except DomainError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("%(firm)s added at this node.") % {"firm": firm.enterprise})
            return redirect(_node_url(node.pk, "firms"))
    return _render_node(request, node.pk, bound={"firm": form}, status=400)


@login_required
@require_POST
def target_add(request, pk):
    _targeter(request.user)
    node = _node_or_404(pk)
    form = TargetForm(request.POST)
    if form.is_valid():
        try:
            target = services.target_create(actor=request.user, node=node, data=form.data_for_service())
        except DomainError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Target %(name)s added.") % {"name": target.name})
            return redirect(_node_url(node.pk, "targets"))
    return _render_node(request, node.pk, bound={"target": form}, status=400)


@login_required
@require_GET
def enterprise_options(request):
    """HTMX: <option>s of operating firms matching what is typed in the add-a-firm form."""
    _mapper(request.user)
    text = (request.GET.get("enterprise") or "").strip()
    found = []
    if len(text) >= 2:
        found = search_enterprises(Enterprise.objects.filter(status=EnterpriseStatus.OPERATING), text)[:10]
    return render(request, "chains/_enterprise_options.html", {"enterprises": found})


# -- targets -------------------------------------------------------------------------------------------


def _target_or_404(pk):
    try:
        return selectors.target_get(pk)
    except NotFoundError:
        raise Http404 from None


@login_required
@require_http_methods(["GET", "POST"])
def target_edit(request, pk):
    _targeter(request.user)
    target = _target_or_404(pk)
    initial = {name: getattr(target, name) for name in [*services.TARGET_FIELDS, "status"]}
    form = TargetEditForm(request.POST or None, initial=initial, target=target)
    if request.method == "POST" and form.is_valid():
        try:
            services.target_update(actor=request.user, target=target, data=form.data_for_service())
        except DomainError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect(_node_url(target.node_id, "targets"))
    status = 400 if request.method == "POST" else 200
    return render(request, "chains/target_form.html", {"form": form, "target": target}, status=status)


@login_required
@require_POST
def target_to_lead(request, pk):
    """Turn the target into an investment lead, then open the lead."""
    _targeter(request.user)
    target = _target_or_404(pk)
    try:
        project = services.target_to_lead(actor=request.user, target=target)
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect(_node_url(target.node_id, "targets"))
    messages.success(request, _("Lead %(name)s recorded in the project pipeline.") % {"name": project.name})
    return redirect("investments:detail", pk=project.pk)


# -- target import ---------------------------------------------------------------------------------------


def _uploads(request) -> PendingUploads:
    return PendingUploads(request, session_key=SESSION_KEY, directory=UPLOAD_DIR)


def _run(request, entry: dict, *, dry_run: bool) -> services.TargetImportReport:
    with _uploads(request).open(entry) as handle:
        return services.target_import(actor=request.user, file=handle, dry_run=dry_run)


@login_required
@require_http_methods(["GET", "POST"])
def target_import(request):
    """Upload the sheet; it is checked (dry run) and shown before anything is written."""
    _targeter(request.user)
    form = TargetImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        try:
            services.target_import(actor=request.user, file=uploaded, dry_run=True)
        except ValidationFailed as error:
            form.add_service_errors(error)
        else:
            return redirect("chains:import_preview", token=_uploads(request).store(uploaded))
    status = 400 if request.method == "POST" else 200
    return render(request, "chains/import.html", {"form": form, "headers": services.IMPORT_HEADERS}, status=status)


def _render_preview(request, token, entry, *, report=None, error=None, status=200):
    context = {"token": token, "entry": entry, "report": report, "file_error": error}
    return render(request, "chains/import_preview.html", context, status=status)


@login_required
@require_GET
def import_preview(request, token):
    _targeter(request.user)
    return uploads.import_preview(request, token, uploads=_uploads(request), run=_run, render=_render_preview)


@login_required
@require_POST
def import_confirm(request, token):
    """Import for real; should rows have gone bad since the check, nothing is written and they are shown."""
    _targeter(request.user)
    outcome = uploads.import_confirm(request, token, uploads=_uploads(request), run=_run, render=_render_preview)
    if isinstance(outcome, HttpResponse):
        return outcome
    report, _entry = outcome
    messages.success(request, _("%(count)d targets imported.") % {"count": len(report.rows)})
    return redirect("chains:gaps")


@login_required
@require_GET
def import_template(request):
    _targeter(request.user)
    response = HttpResponse(services.target_template_workbook(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=_("chain-targets-template.xlsx")
    )
    return response
