"""The monthly report's download (the button on the cockpit): /indicators/report/2019-06.docx or .xlsx.

District staff only (403 otherwise); an unknown format is a 404; a month that has not ended is a 400
page with the reason, a server without a CJK font for the charts a 503 page saying what to install.
"""

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from zhiyuan.core.errors import DomainError
from zhiyuan.indicators import report, selectors


def _error_page(request, error: DomainError, *, status: int) -> HttpResponse:
    return render(request, "indicators/report_error.html", {"message": str(error.message)}, status=status)


def _disposition(filename: str, fallback: str) -> str:
    """attachment with an ASCII filename for old clients and the real one in RFC 5987 form."""
    return f"attachment; filename=\"{fallback}\"; filename*=utf-8''{quote(filename)}"


@login_required
@require_GET
def monthly_report(request, year: int, month: int, fmt: str):
    """The month's report as a Word or Excel download."""
    if not selectors.may_view(request.user):
        raise PermissionDenied
    if fmt not in report.FORMATS:
        raise Http404
    try:
        (file,) = report.report_files(user=request.user, year=year, month=month, formats=[fmt])
    except report.ReportFontMissing as error:
        return _error_page(request, error, status=503)
    except DomainError as error:
        return _error_page(request, error, status=error.status)
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = _disposition(file.filename, f"monthly-report-{year:04d}-{month:02d}.{fmt}")
    return response
