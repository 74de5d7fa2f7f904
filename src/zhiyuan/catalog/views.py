"""Catalog pages: the product search (facets that narrow without a reload, highlighted matches,
"suppliers of X" grouping), a product's page, adding / editing / deleting products through the
services, "who here can supply X?", the Excel import (check → confirm / discard) and export, and the
Products tab of an enterprise's page (its products and its supply needs with suggested suppliers).

Thin views: parse input, call one service or selector, render. Everyone signed in uses the catalog
except the city's machine client (403). A product or firm the user may not see is a 404; a write
the user's role may not make is a 403 (a firm user is told "not found" for another firm's products,
by the services).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from zhiyuan.catalog import imports, selectors, services
from zhiyuan.catalog.forms import ImportUploadForm, ProductForm, SupplyNeedForm, search_params
from zhiyuan.catalog.indexing import ensure_index
from zhiyuan.catalog.models import ProductUpload
from zhiyuan.catalog.search.base import FACETS
from zhiyuan.catalog.search.service import search_products, supplier_suggestions, suppliers_for
from zhiyuan.catalog.tables import ProductTable, UploadTable
from zhiyuan.core.errors import DomainError, NotFoundError, PermissionDeniedError, ValidationFailed
from zhiyuan.enterprises.selectors import enterprise_get_for

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PER_PAGE = 20
SUPPLIERS_SHOWN = 20
FACET_LABELS = {
    "chain": gettext_lazy("Leading chain"),
    "division": gettext_lazy("Industry (大类)"),
    "zone": gettext_lazy("Park zone"),
    "certification": gettext_lazy("Certification"),
    "size": gettext_lazy("Firm size"),
}


# ---------------------------------------------------------------- helpers


def _catalog_user(user) -> None:
    if not selectors.uses_catalog(user):
        raise PermissionDenied


def _found(call, *args, **kwargs):
    """Call a selector; its NotFoundError is a 404."""
    try:
        return call(*args, **kwargs)
    except NotFoundError:
        raise Http404 from None


def _refused(error: DomainError) -> None:
    """404 and 403 from a service as such."""
    if isinstance(error, NotFoundError):
        raise Http404
    if isinstance(error, PermissionDeniedError):
        raise PermissionDenied


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _index_notice() -> str | None:
    """Make sure the index can be searched: a missing or corrupt index is rebuilt, and said so."""
    message = ensure_index()
    return str(message) if message else None


def _facet_groups(result, filters: dict[str, list[str]]) -> list[dict[str, Any]]:
    """The sidebar: per facet its values with counts; a selected value the results no longer hold
    (or an unknown one from the address) stays listed with 0 so it can be unticked."""
    groups = []
    for facet in FACETS:
        options = [
            {"value": str(value), "label": str(label), "count": count, "selected": bool(selected)}
            for value, label, count, selected in (result.facets or {}).get(facet, [])
        ]
        listed = {option["value"] for option in options}
        for value in filters.get(facet, []):
            if value not in listed:
                options.append({"value": value, "label": value, "count": 0, "selected": True})
        groups.append({"key": facet, "label": FACET_LABELS[facet], "options": options})
    return groups


def _query_string(params: dict[str, Any], **changes: Any) -> str:
    """The search's address parameters, with `changes` applied (None removes a parameter)."""
    pairs: list[tuple[str, Any]] = []
    values = {"q": params["query"], "group": "1" if params["group_by_firm"] else None, "page": params["page"]}
    values.update(changes)
    for key in ("q", "group"):
        if values.get(key):
            pairs.append((key, values[key]))
    for facet, selected in params["filters"].items():
        pairs.extend((facet, value) for value in selected)
    if values.get("page") and values["page"] != 1:
        pairs.append(("page", values["page"]))
    return urlencode(pairs)


def _pages(result, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Links for a window of pages around the current one."""
    current, last = result.page, result.pages
    if last <= 1:
        return []
    numbers = sorted({1, last, *range(max(1, current - 2), min(last, current + 2) + 1)})
    links, previous = [], 0
    for number in numbers:
        if number - previous > 1:
            links.append({"gap": True})
        links.append({"number": number, "current": number == current, "query": _query_string(params, page=number)})
        previous = number
    return links


# ---------------------------------------------------------------- search


@login_required
@require_GET
def search(request):
    """The search page; an HTMX request (a ticked facet, a new query, another page) gets the results
    and the facets only."""
    _catalog_user(request.user)
    params = search_params(request.GET)
    notice = _index_notice()
    result = search_products(
        user=request.user,
        query=params["query"],
        filters=params["filters"],
        page=params["page"],
        per_page=PER_PAGE,
        group_by_firm=params["group_by_firm"],
    )
    context = {
        "params": params,
        "result": result,
        "facets": _facet_groups(result, params["filters"]),
        "page_links": _pages(result, params),
        "previous_query": _query_string(params, page=result.page - 1) if result.page > 1 else None,
        "next_query": _query_string(params, page=result.page + 1) if result.page < result.pages else None,
        "rebuilt_notice": notice or result.notice or None,
        "visible_firms": _visible_firm_ids(request.user, result),
        "may_import": selectors.may_import(request.user),
        "has_filters": bool(params["filters"]),
    }
    if request.htmx:
        return render(request, "catalog/_results.html", context)
    return render(request, "catalog/search.html", context)


def _visible_firm_ids(user, result) -> set[int]:
    """The firms among the results whose page the user may open (for links)."""
    ids = {hit.product.enterprise_id for hit in result.hits}
    ids.update(enterprise.pk for enterprise, _hits in (result.groups or []))
    return selectors.firms_visible_among(user, ids)


@login_required
@require_GET
def suppliers(request):
    """Who here can supply X? — the firms whose products match, each with its matching products."""
    _catalog_user(request.user)
    item = str(request.GET.get("item") or "")[:200]
    notice = _index_notice()
    groups = suppliers_for(user=request.user, item=item, limit=SUPPLIERS_SHOWN) if item.strip() else []
    visible = selectors.firms_visible_among(request.user, {enterprise.pk for enterprise, _hits in groups})
    context = {"item": item, "groups": groups, "rebuilt_notice": notice, "visible_firms": visible}
    return render(request, "catalog/suppliers.html", context)


# ---------------------------------------------------------------- products


@login_required
@require_GET
def product_detail(request, pk: int):
    _catalog_user(request.user)
    product = _found(selectors.product_get_for, request.user, pk)
    context = {
        "product": product,
        "can_edit": selectors.may_edit_product(request.user, product),
        "firm_visible": selectors.sees_enterprise(request.user, product.enterprise_id),
    }
    return render(request, "catalog/product_detail.html", context)


IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}


@login_required
@require_GET
def product_image(request, pk: int):
    """A product's image, to whoever may see the product (uploads are not served from a public folder)."""
    _catalog_user(request.user)
    product = _found(selectors.product_get_for, request.user, pk)
    image = product.image
    if not image or not image.storage.exists(image.name):
        raise Http404
    extension = ("." + image.name.rsplit(".", 1)[-1].lower()) if "." in image.name else ""
    response = FileResponse(image.open("rb"), content_type=IMAGE_TYPES.get(extension, "application/octet-stream"))
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _firm_products_url(enterprise_id: int) -> str:
    return reverse("enterprises:detail", args=[enterprise_id]) + "?tab=products"


@login_required
@require_http_methods(["GET", "POST"])
def product_create(request):
    """Add a product to a firm (?enterprise=<id>); a firm user only to its own."""
    _catalog_user(request.user)
    enterprise_id = request.GET.get("enterprise") or request.user.enterprise_id
    if not enterprise_id:
        messages.info(request, _("Open the enterprise's page and add the product on its Products tab."))
        return redirect("enterprises:list")
    try:
        enterprise = selectors.enterprise_for_new_product(request.user, enterprise_id)
    except DomainError as error:
        _refused(error)
        raise
    form = ProductForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(actor=request.user, enterprise=enterprise, data=form.service_data())
        except ValidationFailed as error:
            form.add_service_errors(error)
        except DomainError as error:
            _refused(error)
            form.add_service_errors(error)
        else:
            messages.success(request, _("Product %(name)s added.") % {"name": product.name})
            return redirect("catalog:product_detail", pk=product.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "catalog/product_form.html", {"form": form, "enterprise": enterprise, "creating": True}, status=status
    )


def _editable_product(request, pk: int):
    product = _found(selectors.product_get_for, request.user, pk)
    if not selectors.may_edit_product(request.user, product):
        if request.user.enterprise_id:
            raise Http404  # another firm's product: not found, as the services say
        raise PermissionDenied
    return product


@login_required
@require_http_methods(["GET", "POST"])
def product_edit(request, pk: int):
    _catalog_user(request.user)
    product = _editable_product(request, pk)
    form = ProductForm(request.POST or None, request.FILES or None, product=product)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if not data:
            messages.info(request, _("Nothing was changed."))
            return redirect("catalog:product_detail", pk=product.pk)
        try:
            services.product_update(actor=request.user, product=product, data=data)
        except ValidationFailed as error:
            form.add_service_errors(error)
        except DomainError as error:
            _refused(error)
            form.add_service_errors(error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("catalog:product_detail", pk=product.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "enterprise": product.enterprise, "product": product, "creating": False}
    return render(request, "catalog/product_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def product_delete(request, pk: int):
    """GET asks for confirmation; POST deletes."""
    _catalog_user(request.user)
    product = _editable_product(request, pk)
    if request.method == "POST":
        enterprise_id, name = product.enterprise_id, product.name
        try:
            services.product_delete(actor=request.user, product=product)
        except DomainError as error:
            _refused(error)
            messages.error(request, str(error.message))
            return redirect("catalog:product_detail", pk=pk)
        messages.success(request, _("Product %(name)s deleted.") % {"name": name})
        if selectors.sees_enterprise(request.user, enterprise_id):
            return redirect(_firm_products_url(enterprise_id))
        return redirect("catalog:search")
    return render(request, "catalog/product_confirm_delete.html", {"product": product})


# ---------------------------------------------------------------- a firm's products and needs


@login_required
@require_GET
def enterprise_products(request, pk: int):
    """The Products tab of an enterprise's page (loaded into it): the firm's products, and its supply
    needs with suggested local suppliers."""
    _catalog_user(request.user)
    enterprise = _found(enterprise_get_for, request.user, pk)
    can_edit = selectors.may_edit_firm_products(request.user, enterprise)
    products = selectors.products_of_for(request.user, enterprise)
    table = ProductTable(products, can_edit=can_edit, orderable=False)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    context = {
        "enterprise": enterprise,
        "table": table,
        "product_count": products.count(),
        "can_edit": can_edit,
        "suggestions": supplier_suggestions(user=request.user, enterprise=enterprise),
        "needs": selectors.supply_needs_of(enterprise),
        "need_form": SupplyNeedForm(),
        "may_import": can_edit and selectors.may_import(request.user),
    }
    return render(request, "catalog/_enterprise_products.html", context)


@login_required
@require_POST
def supply_need_add(request, pk: int):
    _catalog_user(request.user)
    enterprise = _found(enterprise_get_for, request.user, pk)
    form = SupplyNeedForm(request.POST)
    if form.is_valid():
        try:
            services.supply_need_add(
                actor=request.user,
                enterprise=enterprise,
                item=form.cleaned_data["item"],
                note=form.cleaned_data.get("note") or "",
            )
        except DomainError as error:
            _refused(error)
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("Supply need recorded."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(_firm_products_url(enterprise.pk))


@login_required
@require_POST
def supply_need_remove(request, pk: int):
    _catalog_user(request.user)
    need = _found(selectors.supply_need_get_for, request.user, pk)
    enterprise_id = need.enterprise_id
    try:
        services.supply_need_remove(actor=request.user, need=need)
    except DomainError as error:
        _refused(error)
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Supply need removed."))
    return redirect(_firm_products_url(enterprise_id))


# ---------------------------------------------------------------- Excel


def _importer(user) -> None:
    _catalog_user(user)
    if not selectors.may_import(user):
        raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request):
    """Upload a sheet; it is checked (a dry run) on the next page before anything is written."""
    _importer(request.user)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                upload = imports.upload_create(actor=request.user, file=form.cleaned_data["file"])
            except ValidationFailed as error:
                form.add_error("file", error.message)
            except DomainError as error:
                _refused(error)
                form.add_error(None, error.message)
            else:
                return redirect("catalog:import_detail", pk=upload.pk)
    context = {
        "form": form,
        "columns": imports.COLUMNS,
        "uploads": UploadTable(selectors.uploads_of(request.user)[:10]),
        "firm_user": bool(request.user.enterprise_id),
    }
    return render(request, "catalog/import.html", context, status=status)


def _render_upload(request, upload: ProductUpload, *, report=None, status: int = 200):
    error = None
    if report is None and upload.state == ProductUpload.State.PENDING:
        try:
            report = imports.upload_check(actor=request.user, upload=upload)
        except DomainError as problem:
            _refused(problem)
            error = str(problem.message)
            status = 400
    return render(
        request, "catalog/import_detail.html", {"upload": upload, "report": report, "error": error}, status=status
    )


@login_required
@require_GET
def import_detail(request, pk: int):
    """The dry run of an uploaded sheet: every bad row, or what the import will do."""
    _importer(request.user)
    return _render_upload(request, _found(selectors.upload_get_for, request.user, pk))


@login_required
@require_POST
def import_confirm(request, pk: int):
    _importer(request.user)
    upload = _found(selectors.upload_get_for, request.user, pk)
    try:
        report = imports.upload_confirm(actor=request.user, upload=upload)
    except DomainError as error:
        _refused(error)
        messages.error(request, str(error.message))
        return redirect("catalog:import_detail", pk=upload.pk)
    if not report.written:
        messages.error(request, _("Nothing was imported: the sheet has errors. Correct them and upload it again."))
        return _render_upload(request, upload, report=report, status=400)
    messages.success(
        request,
        _("Import finished: %(new)d new and %(updated)d updated products.")
        % {"new": report.to_create, "updated": report.to_update},
    )
    return redirect("catalog:import_detail", pk=upload.pk)


@login_required
@require_POST
def import_discard(request, pk: int):
    _importer(request.user)
    upload = _found(selectors.upload_get_for, request.user, pk)
    try:
        imports.upload_discard(actor=request.user, upload=upload)
    except DomainError as error:
        _refused(error)
        messages.error(request, str(error.message))
        return redirect("catalog:import_detail", pk=upload.pk)
    messages.info(request, _("The upload was discarded; nothing was imported."))
    return redirect("catalog:import")


@login_required
@require_GET
def import_template(request):
    _importer(request.user)
    enterprise = None
    if request.user.enterprise_id:
        enterprise = _found(enterprise_get_for, request.user, request.user.enterprise_id)
    return _xlsx(imports.template_workbook(enterprise), "product-import-template.xlsx")


@login_required
@require_GET
def export(request):
    """The products the user sees (of one firm with ?enterprise=<id>) as .xlsx, in the import's layout."""
    _catalog_user(request.user)
    enterprise_id = None
    raw = str(request.GET.get("enterprise") or "").strip()
    if raw:
        if not raw.isdigit():
            raise Http404
        enterprise_id = int(raw)
    content = imports.export_workbook(request.user, enterprise_id=enterprise_id)
    return _xlsx(content, f"products-{timezone.localtime():%Y%m%d-%H%M}.xlsx")
