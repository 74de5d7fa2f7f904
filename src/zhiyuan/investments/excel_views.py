"""Key-project table pages: upload → preview (or the bad rows) → confirm → result, the empty
template, and the monthly 重点项目推进表 export. Thin views over `zhiyuan.investments.imports`.

Between the preview and the confirmation the upload is kept under MEDIA_ROOT/imports/projects/
with a random name; the session maps the random token to it, so only the uploader can preview or
confirm it. The file is deleted once imported, when the uploader starts another import, or, for
abandoned uploads, on a later upload after a day.
"""


from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhiyuan.accounts.permissions import is_district_staff
from zhiyuan.core import uploads
from zhiyuan.core.errors import ValidationFailed
from zhiyuan.core.forms import BootstrapFormMixin
from zhiyuan.core.uploads import PendingUploads
from zhiyuan.investments import imports

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SESSION_KEY = "investments_key_import"
UPLOAD_DIR = "imports/projects"


def _year_field(**kwargs) -> forms.IntegerField:
    return forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100, **kwargs)


class KeyProjectUploadForm(BootstrapFormMixin, forms.Form):
    """The key-project table and the year whose list it is."""

    year = _year_field(help_text=gettext_lazy("The rows go onto this year's key-project list."))
    file = forms.FileField(
        label=gettext_lazy("Excel file (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx," + XLSX_TYPE}),
    )


class ProgressReportForm(BootstrapFormMixin, forms.Form):
    """Which month's 推进表."""

    year = _year_field()
    month = forms.TypedChoiceField(label=gettext_lazy("Month"), coerce=int, choices=[(m, str(m)) for m in range(1, 13)])


def _importer(user) -> None:
    if not imports.may_import(user):
        raise PermissionDenied


def _uploads(request) -> PendingUploads:
    return PendingUploads(request, session_key=SESSION_KEY, directory=UPLOAD_DIR)


@login_required
@require_http_methods(["GET", "POST"])
def key_import(request):
    """Upload the table; a readable file goes on to its preview, any other comes back with the reason."""
    _importer(request.user)
    form = KeyProjectUploadForm(
        request.POST or None, request.FILES or None, initial={"year": timezone.localdate().year}
    )
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        year = form.cleaned_data["year"]
        try:
            imports.read_table(uploaded)
        except ValidationFailed as error:
            form.add_service_errors(error)
        else:
            token = _uploads(request).store(uploaded, year=year)
            return redirect("project_excel:preview", token=token)
    status = 400 if request.method == "POST" else 200
    return render(request, "investments/excel/import.html", {"form": form, "headers": imports.HEADERS}, status=status)


def _run(request, entry: dict, *, dry_run: bool) -> imports.ImportReport:
    with _uploads(request).open(entry) as handle:
        return imports.key_projects_import(actor=request.user, source=handle, year=entry["year"], dry_run=dry_run)


def _render_preview(request, token: str, entry: dict, report=None, error=None, status=200):
    return render(
        request,
        "investments/excel/preview.html",
        {"token": token, "entry": entry, "report": report, "file_error": error},
        status=status,
    )


@login_required
@require_GET
def key_import_preview(request, token):
    """The dry run: what each row would do, or every bad row with its column and reason."""
    _importer(request.user)
    return uploads.import_preview(request, token, uploads=_uploads(request), run=_run, render=_render_preview)


@login_required
@require_POST
def key_import_confirm(request, token):
    """Import for real; should rows have gone bad since the preview, nothing is written and they are shown."""
    _importer(request.user)
    outcome = uploads.import_confirm(request, token, uploads=_uploads(request), run=_run, render=_render_preview)
    if isinstance(outcome, HttpResponse):
        return outcome
    report, entry = outcome
    request.session[f"{SESSION_KEY}_result"] = {
        "token": token,
        "name": entry["name"],
        "year": report.year,
        "created": report.created,
        "updated": report.updated,
    }
    return redirect("project_excel:result", token=token)


@login_required
@require_GET
def key_import_result(request, token):
    _importer(request.user)
    result = request.session.get(f"{SESSION_KEY}_result")
    if not result or result.get("token") != token:
        raise Http404
    return render(request, "investments/excel/result.html", {"result": result})


@login_required
@require_GET
def key_import_template(request):
    """The empty table with its headers and an example row."""
    _importer(request.user)
    return _xlsx(imports.template_workbook(), _("key-projects-template.xlsx"))


@login_required
@require_GET
def progress_report(request):
    """The 推进表 for ?year=&month=; without them (or with bad ones) the form to choose them."""
    if not is_district_staff(request.user):
        raise PermissionDenied
    today = timezone.localdate()
    if "year" in request.GET or "month" in request.GET:
        form = ProgressReportForm(request.GET)
        if form.is_valid():
            year, month = form.cleaned_data["year"], form.cleaned_data["month"]
            try:
                content = imports.progress_report_workbook(user=request.user, year=year, month=month)
            except ValidationFailed as error:
                for name, messages in error.fields.items():
                    for message in messages:
                        form.add_error(name if name in form.fields else None, str(message))
            else:
                filename = _("key-projects-progress-%(year)d-%(month)02d.xlsx") % {"year": year, "month": month}
                return _xlsx(content, filename)
        return render(request, "investments/excel/export.html", {"form": form}, status=400)
    form = ProgressReportForm(initial={"year": today.year, "month": today.month})
    return render(request, "investments/excel/export.html", {"form": form})


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_TYPE)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response
