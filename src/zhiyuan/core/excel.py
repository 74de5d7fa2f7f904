"""Reading uploaded Excel sheets for the imports: size and format checks before anything is parsed,
and a table reader that finds the header row below any title rows. Each import maps the headers it
knows (in any accepted spelling) to its own canonical names and checks the rows itself.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from zhiyuan.core.errors import ValidationFailed

# Uncompressed size allowed per byte of upload (or per MB for small files): real sheets compress
# 5–15x; a zip bomb far more.
MAX_EXPANSION = 100
HEADER_SEARCH_ROWS = 10
MAX_ROWS = 5000


def file_error(message: str) -> ValidationFailed:
    return ValidationFailed(message, field="file")


def read_upload(file) -> bytes:
    """The bytes of an uploaded file, refusing it when larger than ZHIYUAN_IMPORT_MAX_BYTES."""
    limit = settings.ZHIYUAN_IMPORT_MAX_BYTES
    size = getattr(file, "size", None)
    if size is None or size <= limit:
        if hasattr(file, "seek"):
            file.seek(0)
        content = file.read(limit + 1)
        size = len(content)
    if size > limit:
        raise file_error(
            _("The file is %(size)s; the largest spreadsheet accepted is %(limit)s. Split it into smaller files.")
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)}
        )
    return content


def check_workbook(content: bytes) -> None:
    """Refuse anything that is not an .xlsx workbook (a .xls, a CSV, a renamed file, a zip bomb)."""
    not_xlsx = file_error(
        _("This file is not an Excel .xlsx workbook. Save the sheet as “Excel Workbook (*.xlsx)” and upload it again.")
    )
    if not zipfile.is_zipfile(io.BytesIO(content)):
        raise not_xlsx
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise not_xlsx from None
    if not any(entry.filename == "xl/workbook.xml" for entry in entries):
        raise not_xlsx
    if sum(entry.file_size for entry in entries) > MAX_EXPANSION * max(len(content), 1024 * 1024):
        raise file_error(_("This workbook expands to an implausible size and was not opened."))


@dataclass
class HeaderTable:
    """The first sheet read below its header row: {canonical header: column}, the non-blank rows as
    (Excel row number, cells), and the rows above the header (titles that may name the period)."""

    columns: dict[str, int]
    body: list[tuple[int, list[Any]]]
    header_row: int
    above: list[list[Any]]


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_header_table(
    source: bytes | Any,
    *,
    canonical: Callable[[Any], str | None],
    key_header: str,
    required: Iterable[str] = (),
    search_rows: int = HEADER_SEARCH_ROWS,
    max_rows: int = MAX_ROWS,
) -> HeaderTable:
    """Open the workbook's active (first) sheet and find the header row: the first of the top
    `search_rows` rows where `canonical` recognises `key_header`. `canonical` maps a cell to a
    header name or None. ValidationFailed on the `file` field when the file is too big, is not an
    .xlsx workbook, is damaged, has no header row, lacks a `required` column, has no rows or more
    than `max_rows`."""
    content = bytes(source) if isinstance(source, (bytes, bytearray)) else read_upload(source)
    if isinstance(source, (bytes, bytearray)) and len(content) > settings.ZHIYUAN_IMPORT_MAX_BYTES:
        content = read_upload(io.BytesIO(content))
    check_workbook(content)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors on a damaged workbook
        raise file_error(_("The workbook is damaged and could not be read. Save it again in Excel.")) from None
    try:
        sheet = workbook.active
        if sheet is None:
            raise file_error(_("The workbook has no sheet."))
        rows = sheet.iter_rows(values_only=True)
        columns: dict[str, int] = {}
        header_row = 0
        above: list[list[Any]] = []
        for number, cells in enumerate(rows, start=1):
            found: dict[str, int] = {}
            for index, cell in enumerate(cells):
                header = canonical(cell) if cell is not None else None
                if header and header not in found:
                    found[header] = index
            if key_header in found:
                columns, header_row = found, number
                break
            above.append(list(cells))
            if number >= search_rows:
                break
        if not columns:
            raise file_error(
                _("No header row with “%(name)s” was found in the first %(count)d rows of the first sheet.")
                % {"name": key_header, "count": search_rows}
            )
        missing = [header for header in required if header not in columns]
        if missing:
            raise file_error(
                _("Columns missing from the header row (row %(row)d): %(columns)s.")
                % {"row": header_row, "columns": "、".join(missing)}
            )
        body = []
        for number, cells in enumerate(rows, start=header_row + 1):
            values = list(cells)
            if all(is_blank(value) for value in values):
                continue
            body.append((number, values))
            if len(body) > max_rows:
                raise file_error(
                    _("The sheet has more than %(count)d rows; split it into smaller files.") % {"count": max_rows}
                )
        if not body:
            raise file_error(_("The sheet has headers but no rows to import."))
        return HeaderTable(columns=columns, body=body, header_row=header_row, above=above)
    finally:
        workbook.close()
