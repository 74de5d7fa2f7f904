"""Registry Excel pages: upload → dry-run preview → confirm → result, the template, and the export.

Thin views: each parses input, calls one service or selector from `imports` / `resources` /
`selectors`, and renders. The uploaded sheet is kept between the steps as an `ImportBatch` owned
by the uploader.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from import_export.formats.base_formats import XLSX

from zhiyuan.accounts.permissions import can_import_registry, is_district_staff, sees_personal_data
from zhiyuan.core.errors import ConflictError, DomainError, NotFoundError, ValidationFailed
from zhiyuan.core.forms import BootstrapFormMixin
from zhiyuan.enterprises import imports
from zhiyuan.enterprises.filters import EnterpriseFilter
from zhiyuan.enterprises.models import ImportBatch
from zhiyuan.enterprises.resources import EnterpriseResource, export_workbook, template_workbook
from zhiyuan.enterprises.selectors import enterprises_visible_to

ERRORS_SHOWN = 1000
XLSX_TYPE = XLSX.CONTENT_TYPE


class ImportUploadForm(BootstrapFormMixin, forms.Form):
    """The upload step: one .xlsx file."""

    file = forms.FileField(
        label=gettext_lazy("Spreadsheet (.xlsx)"),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )


def _xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _importer_only(user) -> None:
    if not can_import_registry(user):
        raise PermissionDenied


def _batch_or_404(user, pk) -> ImportBatch:
    try:
        return imports.import_batch_get_for(user, pk)
    except NotFoundError:
        raise Http404 from None


def _too_large(request) -> bool:
    """Refuse an oversize upload from its Content-Length, without opening the uploaded file (Django
    streams large uploads to a temporary file, so memory is not at risk either way)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > settings.ZHIYUAN_IMPORT_MAX_BYTES + 64 * 1024  # room for the multipart envelope


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request):
    _importer_only(request.user)
    form = ImportUploadForm()
    if request.method == "POST":
        if _too_large(request):
            form.add_error(
                "file",
                _("The file is larger than %(limit)s, the largest spreadsheet accepted. Split it into smaller files.")
                % {"limit": filesizeformat(settings.ZHIYUAN_IMPORT_MAX_BYTES)},
            )
        else:
            form = ImportUploadForm(request.POST, request.FILES)
            if form.is_valid():
                try:
                    batch = imports.import_batch_create(actor=request.user, file=form.cleaned_data["file"])
                except ValidationFailed as error:
                    form.add_error("file", error.message)
                except DomainError as error:
                    form.add_error(None, error.message)
                else:
                    return redirect("enterprises:import_preview", pk=batch.pk)
    return render(
        request,
        "enterprises/import.html",
        {
            "form": form,
            "max_size": settings.ZHIYUAN_IMPORT_MAX_BYTES,
            "headers": EnterpriseResource.import_headers(),
        },
    )


def _render_preview(request, batch: ImportBatch, report=None, file_error=None, status=200):
    return render(
        request,
        "enterprises/import_preview.html",
        {
            "batch": batch,
            "report": report,
            "file_error": file_error,
            "errors": report.errors[:ERRORS_SHOWN] if report else [],
            "errors_hidden": max(len(report.errors) - ERRORS_SHOWN, 0) if report else 0,
        },
        status=status,
    )


@login_required
@require_GET
def import_preview(request, pk):
    _importer_only(request.user)
    batch = _batch_or_404(request.user, pk)
    if batch.state == ImportBatch.State.IMPORTED:
        return redirect("enterprises:import_result", pk=batch.pk)
    try:
        report = imports.import_batch_preview(actor=request.user, batch=batch)
    except DomainError as error:
        return _render_preview(request, batch, file_error=error.message)
    return _render_preview(request, batch, report)


@login_required
@require_POST
def import_confirm(request, pk):
    _importer_only(request.user)
    batch = _batch_or_404(request.user, pk)
    try:
        report = imports.import_batch_confirm(actor=request.user, batch=batch)
    except ConflictError as error:
        batch.refresh_from_db()
        if batch.state == ImportBatch.State.IMPORTED:
            return redirect("enterprises:import_result", pk=batch.pk)
        return _render_preview(request, batch, file_error=error.message, status=409)
    except DomainError as error:
        return _render_preview(request, batch, file_error=error.message, status=400)
    if not report.written:
        messages.error(request, _("Nothing was imported: some rows are not valid (any longer)."))
        return _render_preview(request, batch, report, status=400)
    messages.success(
        request,
        _("Import finished: %(new)d new and %(updated)d updated enterprises.")
        % {"new": report.new, "updated": report.updated},
    )
    return redirect("enterprises:import_result", pk=batch.pk)


@login_required
@require_POST
def import_discard(request, pk):
    _importer_only(request.user)
    batch = _batch_or_404(request.user, pk)
    imports.import_batch_discard(actor=request.user, batch=batch)
    messages.info(request, _("The upload was discarded; nothing was imported."))
    return redirect("enterprises:import")


@login_required
@require_GET
def import_result(request, pk):
    _importer_only(request.user)
    batch = _batch_or_404(request.user, pk)
    if batch.state != ImportBatch.State.IMPORTED:
        return redirect("enterprises:import_preview", pk=batch.pk)
    return render(request, "enterprises/import_result.html", {"batch": batch})


@login_required
@require_GET
def import_errors(request, pk):
    """Every error of a pending upload as a spreadsheet (the page shows the first ones)."""
    _importer_only(request.user)
    batch = _batch_or_404(request.user, pk)
    try:
        report = imports.import_batch_preview(actor=request.user, batch=batch)
    except DomainError:
        return redirect("enterprises:import_preview", pk=batch.pk)
    return _xlsx_response(imports.errors_workbook(report), "import-errors.xlsx")


@login_required
@require_GET
def import_template(request):
    _importer_only(request.user)
    return _xlsx_response(template_workbook(), "enterprise-import-template.xlsx")


@login_required
@require_GET
def enterprise_export(request):
    """The list page's firms, with its filters, as .xlsx; personal data masked for roles that need it so."""
    if not is_district_staff(request.user):
        raise PermissionDenied
    filterset = EnterpriseFilter(request.GET or None, queryset=enterprises_visible_to(request.user))
    content = export_workbook(filterset.qs, mask_personal_data=not sees_personal_data(request.user))
    return _xlsx_response(content, f"enterprises-{timezone.localtime():%Y%m%d-%H%M}.xlsx")
