"""The credit feed importers: one per feed, all through `feed_import`, from a file or from the API.

A feed arrives either as an uploaded file — an Excel .xlsx workbook (first sheet) or a CSV text
file (UTF-8 with or without BOM, else GB18030) whose first row holds the headers — or as the API's
list of rows (dicts keyed by the English keys below). A file's headers may be the Chinese headers
(the sources' own layout, so data, not interface text) or the English keys; case, spaces and
full-width brackets do not matter, a unit in brackets may be left out, and other columns are
ignored. A missing required column refuses the file, naming the column.

Columns per feed (English key — Chinese header; * required value, ¹ at least one of these):

- tax: uscc* 统一社会信用代码, year* 年度 (1990 … this year), grade¹ 纳税信用等级 (A/B/M/C/D),
  tax_paid¹ 纳税额(万元). Keyed on (firm, year). A blank grade or amount keeps the stored one.
- headcount: uscc* 统一社会信用代码, month* 月份, headcount* 社保缴纳人数. Keyed on (firm, month).
- utilities: uscc* 统一社会信用代码, month* 月份, water_m3¹ 用水量(立方米), electricity_kwh¹
  用电量(千瓦时). Keyed on (firm, month); only the amounts a row gives are updated.
- loans: uscc* 统一社会信用代码, lender* 贷款机构, contract_no* 合同编号, amount* 贷款金额(万元),
  start_on* 放款日期, end_on* 到期日期, settled_on 结清日期. Keyed on (lender, contract number).
- repayments: lender* 贷款机构, contract_no* 合同编号, due_on* 应还日期, paid_on 实还日期,
  amount* 应还金额(万元), overdue_days 逾期天数, uscc 统一社会信用代码 (checked against the loan's
  firm when given). The loan must have been loaded. Keyed on (loan, due date). Blank days overdue
  are computed: max(0, paid − due) for a paid instalment, 0 for an unpaid one.
- court: uscc* 统一社会信用代码, kind* 案件类型 (judgment 判决 / enforcement 被执行 / dishonest
  失信被执行人), case_no* 案号, court 法院, filed_on* 立案日期, amount 涉案金额(万元), listed_on
  列入日期, delisted_on 移出日期, closed_on 结案日期. Keyed on (firm, kind, case number).
- penalties: uscc* 统一社会信用代码, authority* 处罚机关, decision_no* 处罚决定书文号, severity*
  严重程度 (minor 轻微 / ordinary 一般 / serious 严重), decided_on* 处罚日期, amount 罚款金额(万元),
  reason 处罚事由, disclosed_until 公示截止日期 (default: from the severity, see retention.py).
  Keyed on (authority, decision number).
- honours: uscc* 统一社会信用代码, kind* 荣誉类型 (high_tech 高新技术企业 / specialised 专精特新 /
  little_giant 专精特新小巨人 / award 奖项), name* 荣誉名称, granted_on* 认定日期, expires_on 有效期至.
  Keyed on (firm, kind, name, date granted).
- outcomes: uscc* 统一社会信用代码, observed_on* 观察日期, defaulted* 是否违约 (是/否, 1/0,
  true/false). Keyed on (firm, observation date).

A month may be written 2025-03, 2025/3, 2025年3月, 202503 or as a date (its month is taken). Choices
accept the stored value, the label in any site language or the Chinese term. Dates that record
something that happened (payments, filings, decisions, grants, months of data) may not lie in the
future; no amount or count may be negative; later dates may not come before earlier ones.

Every row is checked and every problem reported as (row, column, reason) — the row as Excel shows
it (the header is row 1) or the API row counted from 1. When any row is bad, or on a dry run,
nothing is written. Otherwise one transaction creates one FeedLoad and creates or updates every
record in bulk, each pointing at that load (its source and load date), with its retention date
computed by retention.py, and records one audit entry for the load. The registry and the existing
records are read in a few chunked queries, never one per row.

Uploads for the page flow ("check first, then confirm") are kept as `FeedUpload`s: see
`feed_upload_create`, `feed_upload_check`, `feed_upload_confirm` and `feed_upload_discard`.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from itertools import islice
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from stdnum.cn import uscc as uscc_module

from zhiyuan.accounts.models import User
from zhiyuan.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from zhiyuan.core.services import audit_record
from zhiyuan.credit.models import (
    CourtKind,
    CourtRecord,
    Feed,
    FeedLoad,
    FeedUpload,
    HeadcountRecord,
    HonourKind,
    HonourRecord,
    LoanRecord,
    Outcome,
    PenaltyRecord,
    PenaltySeverity,
    RepaymentRecord,
    TaxGrade,
    TaxRecord,
    UtilityRecord,
)
from zhiyuan.credit.permissions import can_manage_credit
from zhiyuan.credit.retention import court_retain_until, penalty_disclosed_until, repayment_retain_until
from zhiyuan.enterprises.imports import RowError, check_workbook, read_upload
from zhiyuan.enterprises.models import Enterprise
from zhiyuan.enterprises.resources import AmountWidget, CellError, DateCellWidget, normalize_header
from zhiyuan.enterprises.services import normalize_uscc, uscc_error

LOAD_ACTION = "credit.feed.loaded"
CHANNELS = ("file", "api")
SOURCE_MAX_LENGTH = 100
PREVIEW_ROWS = 20
LOOKUP_CHUNK = 900  # ids per IN clause (SQLite's historic limit is 999 parameters)
WRITE_BATCH = 2000
FIRST_YEAR = 1990
COUNT_LIMIT = 2_147_483_647

__all__ = [
    "COLUMNS",
    "Column",
    "FeedReport",
    "PreviewRow",
    "RowError",
    "feed_columns",
    "feed_import",
    "feed_template",
    "feed_upload_check",
    "feed_upload_confirm",
    "feed_upload_create",
    "feed_upload_discard",
    "feed_upload_get_for",
]


# -- the sources' layouts (data, not interface text) ------------------------------------------------

USCC = "统一社会信用代码"
YEAR = "年度"
TAX_GRADE = "纳税信用等级"
TAX_PAID = "纳税额(万元)"
MONTH = "月份"
HEADCOUNT = "社保缴纳人数"
WATER = "用水量(立方米)"
ELECTRICITY = "用电量(千瓦时)"
LENDER = "贷款机构"
CONTRACT_NO = "合同编号"
LOAN_AMOUNT = "贷款金额(万元)"
START_ON = "放款日期"
END_ON = "到期日期"
SETTLED_ON = "结清日期"
DUE_ON = "应还日期"
PAID_ON = "实还日期"
DUE_AMOUNT = "应还金额(万元)"
OVERDUE_DAYS = "逾期天数"
COURT_KIND = "案件类型"
CASE_NO = "案号"
COURT = "法院"
FILED_ON = "立案日期"
CASE_AMOUNT = "涉案金额(万元)"
LISTED_ON = "列入日期"
DELISTED_ON = "移出日期"
CLOSED_ON = "结案日期"
AUTHORITY = "处罚机关"
DECISION_NO = "处罚决定书文号"
SEVERITY = "严重程度"
DECIDED_ON = "处罚日期"
FINE = "罚款金额(万元)"
REASON = "处罚事由"
DISCLOSED_UNTIL = "公示截止日期"
HONOUR_KIND = "荣誉类型"
HONOUR_NAME = "荣誉名称"
GRANTED_ON = "认定日期"
EXPIRES_ON = "有效期至"
OBSERVED_ON = "观察日期"
DEFAULTED = "是否违约"

# The Chinese terms the sources use for the stored choices (besides the values and the labels).
COURT_KIND_TERMS = {
    "判决": CourtKind.JUDGMENT,
    "判决书": CourtKind.JUDGMENT,
    "民事判决": CourtKind.JUDGMENT,
    "败诉判决": CourtKind.JUDGMENT,
    "被执行": CourtKind.ENFORCEMENT,
    "被执行人": CourtKind.ENFORCEMENT,
    "强制执行": CourtKind.ENFORCEMENT,
    "执行": CourtKind.ENFORCEMENT,
    "失信被执行人": CourtKind.DISHONEST,
    "失信": CourtKind.DISHONEST,
    "失信被执行": CourtKind.DISHONEST,
    "失信名单": CourtKind.DISHONEST,
}
SEVERITY_TERMS = {
    "轻微": PenaltySeverity.MINOR,
    "简易": PenaltySeverity.MINOR,
    "一般": PenaltySeverity.ORDINARY,
    "严重": PenaltySeverity.SERIOUS,
    "重大": PenaltySeverity.SERIOUS,
}
HONOUR_KIND_TERMS = {
    "高新技术企业": HonourKind.HIGH_TECH,
    "高新": HonourKind.HIGH_TECH,
    "国家高新技术企业": HonourKind.HIGH_TECH,
    "专精特新": HonourKind.SPECIALISED,
    "专精特新企业": HonourKind.SPECIALISED,
    "专精特新中小企业": HonourKind.SPECIALISED,
    "专精特新小巨人": HonourKind.LITTLE_GIANT,
    "专精特新小巨人企业": HonourKind.LITTLE_GIANT,
    "小巨人": HonourKind.LITTLE_GIANT,
    "奖项": HonourKind.AWARD,
    "获奖": HonourKind.AWARD,
    "奖励": HonourKind.AWARD,
}
TRUE_TERMS = {"是", "1", "true", "yes", "y", "违约", "t"}
FALSE_TERMS = {"否", "0", "false", "no", "n", "未违约", "正常", "f"}


@dataclass(frozen=True)
class Column:
    """One column of a feed: the API key (the model field, or `uscc`), the Chinese header, whether
    the column must be present, and other headers it is known by."""

    key: str
    header: str
    required: bool = True
    aliases: tuple[str, ...] = ()


_USCC_COLUMN = Column("uscc", USCC, aliases=("社会信用代码", "信用代码"))

COLUMNS: dict[str, list[Column]] = {
    Feed.TAX: [
        _USCC_COLUMN,
        Column("year", YEAR, aliases=("年份", "纳税年度")),
        Column("grade", TAX_GRADE, required=False, aliases=("信用等级",)),
        Column("tax_paid", TAX_PAID, required=False, aliases=("纳税金额(万元)",)),
    ],
    Feed.HEADCOUNT: [
        _USCC_COLUMN,
        Column("month", MONTH, aliases=("所属月份", "年月")),
        Column("headcount", HEADCOUNT, aliases=("参保人数", "社保人数")),
    ],
    Feed.UTILITIES: [
        _USCC_COLUMN,
        Column("month", MONTH, aliases=("所属月份", "年月")),
        Column("water_m3", WATER, required=False, aliases=("用水量(吨)",)),
        Column("electricity_kwh", ELECTRICITY, required=False, aliases=("用电量(度)",)),
    ],
    Feed.LOANS: [
        _USCC_COLUMN,
        Column("lender", LENDER, aliases=("贷款银行", "金融机构")),
        Column("contract_no", CONTRACT_NO, aliases=("借款合同编号", "贷款合同编号")),
        Column("amount", LOAN_AMOUNT, aliases=("贷款金额",)),
        Column("start_on", START_ON, aliases=("贷款发放日", "起始日期")),
        Column("end_on", END_ON, aliases=("贷款到期日",)),
        Column("settled_on", SETTLED_ON, required=False),
    ],
    Feed.REPAYMENTS: [
        Column("uscc", USCC, required=False, aliases=("社会信用代码", "信用代码")),
        Column("lender", LENDER, aliases=("贷款银行", "金融机构")),
        Column("contract_no", CONTRACT_NO, aliases=("借款合同编号", "贷款合同编号")),
        Column("due_on", DUE_ON, aliases=("应还款日期",)),
        Column("paid_on", PAID_ON, aliases=("实际还款日期",)),
        Column("amount", DUE_AMOUNT, aliases=("还款金额",)),
        Column("overdue_days", OVERDUE_DAYS, required=False),
    ],
    Feed.COURT: [
        _USCC_COLUMN,
        Column("kind", COURT_KIND, aliases=("类型",)),
        Column("case_no", CASE_NO),
        Column("court", COURT, required=False, aliases=("审理法院", "执行法院")),
        Column("filed_on", FILED_ON, aliases=("日期",)),
        Column("amount", CASE_AMOUNT, required=False, aliases=("执行标的", "金额")),
        Column("listed_on", LISTED_ON, required=False, aliases=("发布日期",)),
        Column("delisted_on", DELISTED_ON, required=False, aliases=("移除日期", "屏蔽日期")),
        Column("closed_on", CLOSED_ON, required=False),
    ],
    Feed.PENALTIES: [
        _USCC_COLUMN,
        Column("authority", AUTHORITY, aliases=("处罚机构", "处罚部门")),
        Column("decision_no", DECISION_NO, aliases=("决定书文号", "行政处罚决定书文号")),
        Column("severity", SEVERITY, aliases=("处罚类别", "严重性")),
        Column("decided_on", DECIDED_ON, aliases=("处罚决定日期", "决定日期")),
        Column("amount", FINE, required=False, aliases=("罚款金额", "罚没金额")),
        Column("reason", REASON, required=False, aliases=("违法事由", "处罚事由及依据")),
        Column("disclosed_until", DISCLOSED_UNTIL, required=False, aliases=("公示截止期",)),
    ],
    Feed.HONOURS: [
        _USCC_COLUMN,
        Column("kind", HONOUR_KIND, aliases=("类型",)),
        Column("name", HONOUR_NAME, aliases=("名称",)),
        Column("granted_on", GRANTED_ON, aliases=("授予日期", "获得日期")),
        Column("expires_on", EXPIRES_ON, required=False, aliases=("到期日期", "有效期截止")),
    ],
    Feed.OUTCOMES: [
        _USCC_COLUMN,
        Column("observed_on", OBSERVED_ON),
        Column("defaulted", DEFAULTED, aliases=("违约",)),
    ],
}
# Columns of which a file must hold at least one (and each row give at least one value).
ONE_OF: dict[str, tuple[str, ...]] = {
    Feed.TAX: ("grade", "tax_paid"),
    Feed.UTILITIES: ("water_m3", "electricity_kwh"),
}


def feed_columns(feed: str) -> list[Column]:
    """The columns of a feed, in template order."""
    return list(COLUMNS[_check_feed(feed)])


# -- results -------------------------------------------------------------------------------------


@dataclass
class PreviewRow:
    """One good row as it will be written: its row number, "create" or "update", the cleaned values
    shown in column order (as text)."""

    row: int
    action: str
    values: list[str]

    @property
    def action_label(self) -> str:
        return _("New") if self.action == "create" else _("Update")


@dataclass
class FeedReport:
    """What an import found (dry run) or did.

    `total` rows were read; `to_create` / `to_update` of the good ones create or update a record;
    `errors` lists every problem as RowError(row, column, message); `columns` and `preview` show the
    first rows as they will be written; `load` is the FeedLoad written (None on a dry run or when any
    row is bad)."""

    feed: str
    dry_run: bool
    total: int = 0
    to_create: int = 0
    to_update: int = 0
    errors: list[RowError] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    preview: list[PreviewRow] = field(default_factory=list)
    load: FeedLoad | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def written(self) -> bool:
        return self.load is not None

    @property
    def bad_rows(self) -> list[int]:
        """The rows that have at least one error."""
        return sorted({error.row for error in self.errors})

    @property
    def feed_label(self) -> str:
        return str(Feed(self.feed).label)

    def as_dict(self) -> dict[str, Any]:
        """The report as plain JSON-ready data (for the API)."""
        load = self.load
        return {
            "feed": self.feed,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "written": self.written,
            "total": self.total,
            "to_create": self.to_create,
            "to_update": self.to_update,
            "errors": [{"row": e.row, "column": e.column, "message": e.message} for e in self.errors],
            "columns": list(self.columns),
            "preview": [{"row": p.row, "action": p.action, "values": list(p.values)} for p in self.preview],
            "load": None
            if load is None
            else {
                "id": load.pk,
                "feed": load.feed,
                "source": load.source,
                "channel": load.channel,
                "file_name": load.file_name,
                "rows": load.rows,
                "loaded_at": load.loaded_at.isoformat() if load.loaded_at else None,
            },
        }


# -- checks on the call ---------------------------------------------------------------------------


def _check_permission(actor: User | None) -> None:
    if actor is not None and not can_manage_credit(actor):
        raise PermissionDeniedError()


def _check_feed(feed: Any) -> str:
    if feed not in Feed.values:
        raise ValidationFailed(
            _("Unknown feed “%(feed)s”: use one of %(allowed)s.") % {"feed": feed, "allowed": ", ".join(Feed.values)},
            field="feed",
        )
    return str(feed)


def _check_source(source: Any) -> str:
    text = str(source or "").strip()
    if not text:
        raise ValidationFailed(_("Say who supplied the data (the source)."), field="source")
    if len(text) > SOURCE_MAX_LENGTH:
        raise ValidationFailed(
            _("The source may have at most %(count)d characters.") % {"count": SOURCE_MAX_LENGTH}, field="source"
        )
    return text


def _file_error(message: str) -> ValidationFailed:
    return ValidationFailed(message, field="file")


# -- reading -------------------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _unit_free(header: str) -> str:
    return re.sub(r"\([^()]*\)$", "", header)


def _header_map(feed: str) -> dict[str, str]:
    """{normalized header: column key}: the Chinese header with or without its unit (but not with
    another unit: 纳税额(元) is not 纳税额(万元)), the English key and the known aliases."""
    mapping: dict[str, str] = {}
    for column in COLUMNS[feed]:
        for name in (column.header, column.key, *column.aliases):
            key = normalize_header(name)
            mapping.setdefault(key, column.key)
            mapping.setdefault(_unit_free(key), column.key)
    return mapping


def _match_headers(feed: str, headers: list[Any]) -> dict[str, int]:
    """{column key: position} for the feed's columns found in the header row; ValidationFailed when a
    required column is missing (naming it) or a column is given twice. Other columns are ignored."""
    mapping = _header_map(feed)
    positions: dict[str, int] = {}
    repeated = []
    for index, header in enumerate(headers):
        if _blank(header):
            continue
        key = mapping.get(normalize_header(header))
        if key is None:
            continue
        if key in positions:
            repeated.append(str(header).strip())
        else:
            positions[key] = index
    columns = COLUMNS[feed]
    missing = [column.header for column in columns if column.required and column.key not in positions]
    one_of = ONE_OF.get(feed)
    if one_of and not any(key in positions for key in one_of):
        by_key = {column.key: column.header for column in columns}
        missing.append(_(" or ").join(by_key[key] for key in one_of))
    if missing:
        raise _file_error(
            _("The first row lacks the column(s) %(missing)s. Expected headers: %(expected)s.")
            % {"missing": "、".join(missing), "expected": "、".join(column.header for column in columns)}
        )
    if repeated:
        raise _file_error(_("The first row repeats the column(s) %(headers)s.") % {"headers": "、".join(repeated)})
    return positions


def _is_xlsx(content: bytes, name: str) -> bool:
    lower = name.lower()
    if lower.endswith(".csv") or lower.endswith(".txt"):
        return False
    return lower.endswith((".xlsx", ".xlsm", ".xls")) or content[:2] == b"PK"


def _decode_csv(content: bytes) -> str:
    """UTF-8 (with or without BOM) first, then GB18030 (what Excel in China saves as CSV)."""
    with suppress(UnicodeDecodeError):
        return content.decode("utf-8-sig")
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError:
        raise _file_error(_("The CSV file could not be read: save it as UTF-8 (or GB18030) text.")) from None


def _xlsx_table(content: bytes) -> Iterator[tuple]:
    check_workbook(content)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors on a damaged workbook
        raise _file_error(_("The workbook is damaged and could not be read. Save it again in Excel.")) from None
    try:
        sheet = workbook.active
        if sheet is None:
            raise _file_error(_("The workbook has no sheet."))
        yield from sheet.iter_rows(values_only=True)
    finally:
        workbook.close()


def _csv_table(content: bytes) -> Iterator[tuple]:
    text = _decode_csv(content)
    try:
        for record in csv.reader(io.StringIO(text, newline="")):
            yield tuple(record)
    except csv.Error:
        raise _file_error(_("The CSV file is malformed and could not be read.")) from None


def _file_table(content: bytes, name: str) -> Iterator[tuple]:
    """The file's rows as tuples, the header row first."""
    if name.lower().endswith(".xls"):
        raise _file_error(
            _("This is an old Excel .xls file. Save the sheet as “Excel Workbook (*.xlsx)” or CSV and upload it again.")
        )
    if _is_xlsx(content, name):
        return _xlsx_table(content)
    return _csv_table(content)


def _read_file(feed: str, file, name: str) -> list[tuple[int, dict[str, Any]]]:
    """[(row number as Excel shows it, {column key: raw value})] for the rows that are not blank."""
    content = read_upload(file)
    table = iter(_file_table(content, name))
    headers = next(table, None)
    if not headers or all(_blank(value) for value in headers):
        raise _file_error(_("The file is empty: the first row must hold the headers."))
    positions = list(_match_headers(feed, list(headers)).items())
    rows = []
    for number, cells in enumerate(table, start=2):
        width = len(cells)
        values = {key: cells[index] for key, index in positions if index < width}
        if all(_blank(value) for value in values.values()):
            continue
        rows.append((number, values))
    if not rows:
        raise _file_error(_("The file has headers but no rows to import."))
    return rows


def _api_rows(feed: str, rows: Any) -> tuple[list[tuple[int, dict[str, Any]]], list[RowError]]:
    """The API's rows keyed by column key (Chinese headers are accepted as keys too), numbered from 1;
    a row that is not an object is an error."""
    if not isinstance(rows, (list, tuple)):
        raise ValidationFailed(_("The rows must be a list of objects."), field="rows")
    if not rows:
        raise ValidationFailed(_("There are no rows to import."), field="rows")
    mapping = _header_map(feed)
    result, errors = [], []
    for number, item in enumerate(rows, start=1):
        if not isinstance(item, dict):
            errors.append(RowError(number, "-", _("Each row must be an object of column names and values.")))
            continue
        values: dict[str, Any] = {}
        for name, value in item.items():
            key = mapping.get(normalize_header(name))
            if key is not None and key not in values:
                values[key] = value
        result.append((number, values))
    return result, errors


# -- cell parsers: each returns the value or raises CellError --------------------------------------

_MISSING = object()
_amount_widget = AmountWidget()
_date_widget = DateCellWidget()
_MONTH_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})(?:\s*[-/.月]\s*(\d{1,2})\s*日?)?\s*月?(?:[ T].*)?$")
_MONTH_DIGITS = re.compile(r"^(\d{4})(\d{2})$")


def _text_of(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"\s+", " ", str(value)).strip()


@cache
def _parse_text(max_length: int) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = _text_of(value)
        if len(text) > max_length:
            raise CellError(_("At most %(count)d characters.") % {"count": max_length})
        return text

    return parse


def _parse_date(value: Any) -> dt.date:
    if isinstance(value, bool):
        raise CellError(_("Enter a valid date, for example 2019-03-15."))
    if isinstance(value, (int, float)) and float(value).is_integer():
        value = str(int(value))
    try:
        return _date_widget.clean(value)
    except CellError:
        if isinstance(value, str):
            # A timestamp such as 2019-03-15T08:00 names its date too.
            with suppress(ValueError):
                return dt.datetime.fromisoformat(value.strip()).date()
        raise


def _parse_month(value: Any) -> dt.date:
    """The first of the month: from 2025-03, 2025/3, 2025年3月, 202503, or a date."""
    invalid = CellError(_("Enter a month, for example 2025-03."))
    if isinstance(value, bool):
        raise invalid
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.replace(day=1)
    text = _text_of(value)
    match = _MONTH_DIGITS.match(text) or _MONTH_TEXT.match(text)
    if match is None:
        raise invalid
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise invalid
    if match.re is _MONTH_TEXT and match.group(3):
        try:
            dt.date(year, month, int(match.group(3)))
        except ValueError:
            raise invalid from None
    return dt.date(year, month, 1)


def _parse_year(value: Any) -> int:
    invalid = CellError(_("Enter a year, for example 2024."))
    if isinstance(value, bool):
        raise invalid
    if isinstance(value, float):
        if not value.is_integer():
            raise invalid
        value = int(value)
    if isinstance(value, int):
        year = value
    else:
        text = _text_of(value).removesuffix("年").strip()
        if not text.isdigit():
            raise invalid
        year = int(text)
    return year


def _parse_amount(value: Any) -> Decimal:
    number = _amount_widget.clean(value)
    if number < 0:
        raise CellError(_("This value cannot be negative."))
    return number


def _parse_count(value: Any) -> int:
    invalid = CellError(_("Enter a whole number."))
    if isinstance(value, bool):
        raise invalid
    if isinstance(value, float):
        if not value.is_integer():
            raise invalid
        value = int(value)
    if isinstance(value, Decimal):
        if value != value.to_integral_value():
            raise invalid
        value = int(value)
    if isinstance(value, int):
        number = value
    else:
        text = _text_of(value).replace(",", "")
        if not re.fullmatch(r"[-+]?\d+(\.0+)?", text):
            raise invalid
        number = int(float(text)) if "." in text else int(text)
    if number < 0:
        raise CellError(_("This value cannot be negative."))
    if number > COUNT_LIMIT:
        raise CellError(_("The number is too large."))
    return number


def _choice_key(value: Any) -> str:
    text = normalize_header(value)
    return re.sub(r"[“”\"'‘’「」《》]", "", text)


def _choice_mapping(choices: type[models.Choices], terms: dict[str, str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            mapping.update({_choice_key(str(label)): value for value, label in choices.choices})
    mapping.update({_choice_key(value): value for value in choices.values})
    mapping.update({_choice_key(term): value for term, value in terms.items()})
    return mapping


def _parse_choice(choices: type[models.Choices], terms: dict[str, str]) -> Callable[[Any], str]:
    cache: dict[str, str] = {}

    def parse(value: Any) -> str:
        if not cache:
            cache.update(_choice_mapping(choices, terms))
        found = cache.get(_choice_key(value))
        if found is None:
            allowed = [*choices.values, *dict.fromkeys(term for term in terms)]
            raise CellError(
                _("Unknown value “%(value)s”: use one of %(allowed)s.")
                % {"value": _text_of(value), "allowed": "、".join(allowed)}
            )
        return found

    return parse


def _parse_grade(value: Any) -> str:
    text = _text_of(value).upper().removesuffix("级").strip()
    if text not in TaxGrade.values:
        raise CellError(
            _("Unknown tax credit grade “%(value)s”: use one of %(allowed)s.")
            % {"value": _text_of(value), "allowed": "/".join(TaxGrade.values)}
        )
    return text


def _parse_flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = _text_of(value).casefold()
    if text in TRUE_TERMS:
        return True
    if text in FALSE_TERMS:
        return False
    raise CellError(_("Enter 是 or 否 (yes or no, 1 or 0)."))


_parse_court_kind = _parse_choice(CourtKind, COURT_KIND_TERMS)
_parse_severity = _parse_choice(PenaltySeverity, SEVERITY_TERMS)
_parse_honour_kind = _parse_choice(HonourKind, HONOUR_KIND_TERMS)


# -- checking one row ------------------------------------------------------------------------------


class _Row:
    """One row being checked: its raw values by column key and the problems found so far."""

    __slots__ = ("number", "values", "check", "errors")

    def __init__(self, number: int, values: dict[str, Any], check: _Check):
        self.number = number
        self.values = values
        self.check = check
        self.errors: list[tuple[str, str]] = []

    def error(self, key: str, message: str) -> None:
        self.errors.append((key, message))

    def given(self, key: str) -> bool:
        return not _blank(self.values.get(key))

    def get(self, key: str, parse: Callable[[Any], Any], *, required: bool = False) -> Any:
        """The parsed value, or None when blank (an error when required) or bad (an error).

        Parsers are pure, and feeds repeat their values (the same month, the same lender on every
        row), so each distinct value is parsed once per import."""
        value = self.values.get(key)
        if _blank(value):
            if required:
                self.error(key, _("This field is required."))
            return None
        memo = self.check.memo
        try:
            token = (parse, value.__class__, value)
            result = memo.get(token, _MISSING)
        except TypeError:  # an unhashable value from the API (a list, a dict)
            token, result = None, _MISSING
        if result is _MISSING:
            try:
                result = parse(value)
            except CellError as error:
                result = error
            if token is not None:
                memo[token] = result
        if isinstance(result, CellError):
            self.error(key, result.message)
            return None
        return result

    def past_date(self, key: str, *, required: bool = False) -> dt.date | None:
        """A date that records something that happened: not after today."""
        day = self.get(key, _parse_date, required=required)
        if day is not None and day > self.check.today:
            self.error(key, _("This date is in the future."))
            return None
        return day

    def month(self, key: str = "month") -> dt.date | None:
        month = self.get(key, _parse_month, required=True)
        if month is None:
            return None
        if month > self.check.today.replace(day=1):
            self.error(key, _("This month is in the future."))
            return None
        if month.year < FIRST_YEAR:
            self.error(key, _("Enter a month from %(year)d on.") % {"year": FIRST_YEAR})
            return None
        return month

    def year(self, key: str = "year") -> int | None:
        year = self.get(key, _parse_year, required=True)
        if year is not None and not FIRST_YEAR <= year <= self.check.today.year:
            self.error(
                key,
                _("Enter a year between %(first)d and %(last)d.")
                % {"first": FIRST_YEAR, "last": self.check.today.year},
            )
            return None
        return year

    def text(self, key: str, max_length: int, *, required: bool = False) -> str:
        return self.get(key, _parse_text(max_length), required=required) or ""

    def enterprise(self, *, required: bool = True) -> int | None:
        """The registered firm's id for the row's USCC."""
        value = self.values.get("uscc")
        if _blank(value):
            if required:
                self.error("uscc", _("This field is required."))
            return None
        pk, message = self.check.firm_of(value)
        if message:
            self.error("uscc", message)
        return pk

    def not_before(self, key: str, later: dt.date | None, earlier: dt.date | None, message: str) -> None:
        if later is not None and earlier is not None and later < earlier:
            self.error(key, message)


# -- the feeds -------------------------------------------------------------------------------------

Cleaned = tuple[tuple, dict[str, Any]]  # (natural key, model field values)


def _clean_tax(row: _Row) -> Cleaned | None:
    firm = row.enterprise()
    year = row.year()
    grade = row.get("grade", _parse_grade)
    paid = row.get("tax_paid", _parse_amount)
    if not row.given("grade") and not row.given("tax_paid"):
        row.error("grade", _("Give the tax credit grade, the tax paid, or both."))
    if row.errors:
        return None
    values: dict[str, Any] = {"enterprise_id": firm, "year": year}
    if grade is not None:
        values["grade"] = grade
    if paid is not None:
        values["tax_paid"] = paid
    return (firm, year), values


def _clean_headcount(row: _Row) -> Cleaned | None:
    firm = row.enterprise()
    month = row.month()
    headcount = row.get("headcount", _parse_count, required=True)
    if row.errors:
        return None
    return (firm, month), {"enterprise_id": firm, "month": month, "headcount": headcount}


def _clean_utilities(row: _Row) -> Cleaned | None:
    firm = row.enterprise()
    month = row.month()
    water = row.get("water_m3", _parse_amount)
    electricity = row.get("electricity_kwh", _parse_amount)
    if not row.given("water_m3") and not row.given("electricity_kwh"):
        row.error("water_m3", _("Give the water use, the electricity use, or both."))
    if row.errors:
        return None
    values: dict[str, Any] = {"enterprise_id": firm, "month": month}
    if water is not None:
        values["water_m3"] = water
    if electricity is not None:
        values["electricity_kwh"] = electricity
    return (firm, month), values


def _clean_loans(row: _Row) -> Cleaned | None:
    firm = row.enterprise()
    lender = row.text("lender", 100, required=True)
    contract_no = row.text("contract_no", 60, required=True)
    amount = row.get("amount", _parse_amount, required=True)
    start_on = row.past_date("start_on", required=True)
    end_on = row.get("end_on", _parse_date, required=True)
    settled_on = row.past_date("settled_on")
    row.not_before("end_on", end_on, start_on, _("The maturity date is before the start date."))
    row.not_before("settled_on", settled_on, start_on, _("The loan is settled before it started."))
    if row.errors:
        return None
    values = {
        "enterprise_id": firm,
        "lender": lender,
        "contract_no": contract_no,
        "amount": amount,
        "start_on": start_on,
        "end_on": end_on,
        "settled_on": settled_on,
    }
    return (lender, contract_no), values


def _clean_repayments(row: _Row) -> Cleaned | None:
    firm = row.enterprise(required=False) if row.given("uscc") else None
    lender = row.text("lender", 100, required=True)
    contract_no = row.text("contract_no", 60, required=True)
    due_on = row.get("due_on", _parse_date, required=True)
    paid_on = row.past_date("paid_on")
    amount = row.get("amount", _parse_amount, required=True)
    overdue = row.get("overdue_days", _parse_count)
    loan = row.check.loans.get((lender, contract_no)) if lender and contract_no else None
    if lender and contract_no and loan is None:
        row.error("contract_no", _("No loan with this lender and contract number has been loaded."))
    if loan is not None:
        if firm is not None and firm != loan[1]:
            row.error("uscc", _("This loan belongs to another enterprise."))
        row.not_before("due_on", due_on, loan[2], _("The due date is before the loan started."))
    if loan is None or row.errors:
        return None
    loan_pk, loan_firm, _start = loan
    if overdue is None:
        overdue = max(0, (paid_on - due_on).days) if paid_on is not None else 0
    values = {
        "enterprise_id": loan_firm,
        "loan_id": loan_pk,
        "due_on": due_on,
        "paid_on": paid_on,
        "amount": amount,
        "overdue_days": overdue,
    }
    return (loan_pk, due_on), values


def _clean_court(row: _Row) -> Cleaned | None:
    firm = row.enterprise()
    kind = row.get("kind", _parse_court_kind, required=True)
    case_no = row.text("case_no", 80, required=True)
    court = row.text("court", 100)
    filed_on = row.past_date("filed_on", required=True)
    amount = row.get("amount", _parse_amount)
    listed_on = row.past_date("listed_on")
    delisted_on = row.get("delisted_on", _parse_date)
    closed_on = row.past_date("closed_on")
    row.not_before("delisted_on", delisted_on, listed_on or filed_on, _("The delisting date is before the listing."))
    row.not_before("closed_on", closed_on, filed_on, _("The case is closed before it was filed."))
    if row.errors:
        return None
    values = {
        "enterprise_id": firm,
        "kind": kind,
        "case_no": case_no,
        "court": court,
        "filed_on": filed_on,
        "amount": amount,
        "listed_on": listed_on,
        "delisted_on": delisted_on,
        "closed_on": closed_on,
    }
    return (firm, kind, case_no), values


def _clean_penalties(row: _Row) -> Cleaned | None:
    firm = row.enterprise()
    authority = row.text("authority", 100, required=True)
    decision_no = row.text("decision_no", 80, required=True)
    severity = row.get("severity", _parse_severity, required=True)
    decided_on = row.past_date("decided_on", required=True)
    amount = row.get("amount", _parse_amount)
    reason = row.text("reason", 200)
    disclosed_until = row.get("disclosed_until", _parse_date)
    row.not_before("disclosed_until", disclosed_until, decided_on, _("The disclosure period ends before the decision."))
    if row.errors:
        return None
    values = {
        "enterprise_id": firm,
        "authority": authority,
        "decision_no": decision_no,
        "severity": severity,
        "decided_on": decided_on,
        "amount": amount,
        "reason": reason,
    }
    if disclosed_until is not None:
        values["disclosed_until"] = disclosed_until
    return (authority, decision_no), values


def _clean_honours(row: _Row) -> Cleaned | None:
    firm = row.enterprise()
    kind = row.get("kind", _parse_honour_kind, required=True)
    name = row.text("name", 200, required=True)
    granted_on = row.past_date("granted_on", required=True)
    expires_on = row.get("expires_on", _parse_date)
    row.not_before("expires_on", expires_on, granted_on, _("The honour expires before it was granted."))
    if row.errors:
        return None
    values = {"enterprise_id": firm, "kind": kind, "name": name, "granted_on": granted_on, "expires_on": expires_on}
    return (firm, kind, name, granted_on), values


def _clean_outcomes(row: _Row) -> Cleaned | None:
    firm = row.enterprise()
    observed_on = row.past_date("observed_on", required=True)
    defaulted = row.get("defaulted", _parse_flag, required=True)
    if row.errors:
        return None
    return (firm, observed_on), {"enterprise_id": firm, "observed_on": observed_on, "defaulted": defaulted}


def _derive_repayment(record: RepaymentRecord, values: dict[str, Any]) -> None:
    record.retain_until = repayment_retain_until(overdue_days=record.overdue_days, paid_on=record.paid_on)


def _derive_court(record: CourtRecord, values: dict[str, Any]) -> None:
    record.retain_until = court_retain_until(
        kind=record.kind, filed_on=record.filed_on, closed_on=record.closed_on, delisted_on=record.delisted_on
    )


def _derive_penalty(record: PenaltyRecord, values: dict[str, Any]) -> None:
    if "disclosed_until" not in values:
        record.disclosed_until = penalty_disclosed_until(severity=record.severity, decided_on=record.decided_on)


@dataclass(frozen=True)
class _Spec:
    """How one feed is checked, keyed, looked up and written."""

    model: type[models.Model]
    clean: Callable[[_Row], Cleaned | None]
    key_of: Callable[[Any], tuple]  # the natural key of a stored record
    lookup: str  # the field the existing records are looked up by (chunked IN)
    lookup_value: Callable[[tuple], Any]  # its value from a natural key
    update_fields: tuple[str, ...]
    duplicate_column: str  # the column a duplicate row is reported on
    derive: Callable[[Any, dict[str, Any]], None] | None = None
    same_firm: bool = False  # keyed without the firm: a stored record of another firm is an error


SPECS: dict[str, _Spec] = {
    Feed.TAX: _Spec(
        TaxRecord,
        _clean_tax,
        lambda r: (r.enterprise_id, r.year),
        "enterprise_id",
        lambda key: key[0],
        ("grade", "tax_paid"),
        "year",
    ),
    Feed.HEADCOUNT: _Spec(
        HeadcountRecord,
        _clean_headcount,
        lambda r: (r.enterprise_id, r.month),
        "enterprise_id",
        lambda key: key[0],
        ("headcount",),
        "month",
    ),
    Feed.UTILITIES: _Spec(
        UtilityRecord,
        _clean_utilities,
        lambda r: (r.enterprise_id, r.month),
        "enterprise_id",
        lambda key: key[0],
        ("water_m3", "electricity_kwh"),
        "month",
    ),
    Feed.LOANS: _Spec(
        LoanRecord,
        _clean_loans,
        lambda r: (r.lender, r.contract_no),
        "contract_no",
        lambda key: key[1],
        ("amount", "start_on", "end_on", "settled_on"),
        "contract_no",
        same_firm=True,
    ),
    Feed.REPAYMENTS: _Spec(
        RepaymentRecord,
        _clean_repayments,
        lambda r: (r.loan_id, r.due_on),
        "loan_id",
        lambda key: key[0],
        ("paid_on", "amount", "overdue_days", "retain_until"),
        "due_on",
        derive=_derive_repayment,
    ),
    Feed.COURT: _Spec(
        CourtRecord,
        _clean_court,
        lambda r: (r.enterprise_id, r.kind, r.case_no),
        "enterprise_id",
        lambda key: key[0],
        ("court", "filed_on", "amount", "listed_on", "delisted_on", "closed_on", "retain_until"),
        "case_no",
        derive=_derive_court,
    ),
    Feed.PENALTIES: _Spec(
        PenaltyRecord,
        _clean_penalties,
        lambda r: (r.authority, r.decision_no),
        "decision_no",
        lambda key: key[1],
        ("severity", "decided_on", "amount", "reason", "disclosed_until"),
        "decision_no",
        derive=_derive_penalty,
        same_firm=True,
    ),
    Feed.HONOURS: _Spec(
        HonourRecord,
        _clean_honours,
        lambda r: (r.enterprise_id, r.kind, r.name, r.granted_on),
        "enterprise_id",
        lambda key: key[0],
        ("expires_on",),
        "name",
    ),
    Feed.OUTCOMES: _Spec(
        Outcome,
        _clean_outcomes,
        lambda r: (r.enterprise_id, r.observed_on),
        "enterprise_id",
        lambda key: key[0],
        ("defaulted",),
        "observed_on",
    ),
}


# -- the import ------------------------------------------------------------------------------------


def _batched(items: list, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


@contextmanager
def _cyclic_gc_paused():
    """Pause the cyclic garbage collector while checking and writing: an import holds many long-lived
    objects that every full collection would rescan; reference counting still frees them as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class _Staged:
    row: int
    key: tuple
    values: dict[str, Any]
    record: Any = None
    creates: bool = True


class _Check:
    """One run over a feed's rows: read the registry and the loans once, check every row, look up the
    stored records, then (unless told not to) write everything in one go."""

    def __init__(self, *, feed: str, rows: list[tuple[int, dict[str, Any]]], labels: dict[str, str], dry_run: bool):
        self.feed = feed
        self.spec = SPECS[feed]
        self.rows = rows
        self.labels = labels
        self.order = {column.key: index for index, column in enumerate(COLUMNS[feed])}
        self.today = timezone.localdate()
        self.report = FeedReport(feed=feed, dry_run=dry_run, total=len(rows))
        self.report.columns = [labels[column.key] for column in COLUMNS[feed]]
        self.staged: list[_Staged] = []
        self.firms: dict[str, int] = {}
        self.codes: dict[int, str] = {}
        self.memo: dict[Any, Any] = {}
        self.uscc_memo: dict[Any, tuple[str, str | None]] = {}
        self.loans: dict[tuple[str, str], tuple[int, int, dt.date]] = {}

    def add_errors(self, row: int, errors: list[tuple[str, str]]) -> None:
        errors.sort(key=lambda item: self.order.get(item[0], len(self.order)))
        self.report.errors.extend(RowError(row, self.labels.get(key, key), message) for key, message in errors)

    def run(self) -> None:
        self._load_firms()
        if self.feed == Feed.REPAYMENTS:
            self._load_loans()
        seen: dict[tuple, int] = {}
        for number, values in self.rows:
            row = _Row(number, values, self)
            cleaned = self.spec.clean(row)
            if cleaned is None:
                self.add_errors(number, row.errors)
                continue
            key, model_values = cleaned
            if key in seen:
                self.add_errors(
                    number,
                    [
                        (
                            self.spec.duplicate_column,
                            _("The same record is already on row %(row)d of this upload.") % {"row": seen[key]},
                        )
                    ],
                )
                continue
            seen[key] = number
            self.staged.append(_Staged(number, key, model_values))
        self._match_existing()
        self.report.errors.sort(key=lambda error: error.row)

    def _code(self, value: Any) -> tuple[str, str | None]:
        """(the normalized USCC, why it is invalid or None), once per distinct cell value."""
        found = self.uscc_memo.get(value)
        if found is None:
            code = normalize_uscc(_text_of(value))
            found = self.uscc_memo[value] = (code, uscc_error(code))
        return found

    def firm_of(self, value: Any) -> tuple[int | None, str | None]:
        """(the registered firm's id, None) for a USCC cell, or (None, why not)."""
        code, message = self._code(value)
        if message:
            return None, message
        pk = self.firms.get(code)
        if pk is None:
            return None, _("There is no enterprise with this USCC in the registry.")
        return pk, None

    def _load_firms(self) -> None:
        """{USCC: firm id} for the valid USCCs in the rows, in chunked queries."""
        codes = set()
        for _number, values in self.rows:
            value = values.get("uscc")
            if not _blank(value):
                code, message = self._code(value)
                if message is None:
                    codes.add(code)
        for chunk in _batched(sorted(codes), LOOKUP_CHUNK):
            for pk, code in Enterprise.objects.filter(uscc__in=chunk).values_list("pk", "uscc"):
                self.firms[code] = pk
                self.codes[pk] = code

    def _load_loans(self) -> None:
        """{(lender, contract number): (loan id, firm id, start date)} for the loans the rows name."""
        numbers = set()
        for _number, values in self.rows:
            value = values.get("contract_no")
            if not _blank(value):
                numbers.add(_text_of(value))
        for chunk in _batched(sorted(numbers), LOOKUP_CHUNK):
            query = LoanRecord.objects.filter(contract_no__in=chunk)
            for pk, lender, contract_no, firm, start in query.values_list(
                "pk", "lender", "contract_no", "enterprise_id", "start_on"
            ):
                self.loans[(lender, contract_no)] = (pk, firm, start)
        firms = sorted({firm for _pk, firm, _start in self.loans.values()} - set(self.codes))
        for chunk in _batched(firms, LOOKUP_CHUNK):
            for pk, code in Enterprise.objects.filter(pk__in=chunk).values_list("pk", "uscc"):
                self.codes[pk] = code

    def _existing(self) -> dict[tuple, Any]:
        spec = self.spec
        keys = {staged.key for staged in self.staged}
        values = sorted({spec.lookup_value(key) for key in keys})
        narrow: dict[str, Any] = {}
        if self.feed in (Feed.HEADCOUNT, Feed.UTILITIES):
            months = [key[1] for key in keys]
            narrow = {"month__gte": min(months), "month__lte": max(months)} if months else {}
        elif self.feed == Feed.TAX:
            narrow = {"year__in": sorted({key[1] for key in keys})}
        found: dict[tuple, Any] = {}
        for chunk in _batched(values, LOOKUP_CHUNK):
            for record in spec.model.objects.filter(**{f"{spec.lookup}__in": chunk}, **narrow):
                key = spec.key_of(record)
                if key in keys:
                    found[key] = record
        return found

    def _match_existing(self) -> None:
        """Decide create or update for every good row; build the records to write."""
        if not self.staged:
            return
        spec = self.spec
        existing = self._existing()
        good: list[_Staged] = []
        for staged in self.staged:
            record = existing.get(staged.key)
            if record is not None and spec.same_firm and record.enterprise_id != staged.values["enterprise_id"]:
                self.add_errors(
                    staged.row, [("uscc", _("This record is already loaded for another enterprise; it cannot move."))]
                )
                continue
            if record is None:
                record = spec.model(**staged.values)
                staged.creates = True
                self.report.to_create += 1
            else:
                for name, value in staged.values.items():
                    setattr(record, name, value)
                staged.creates = False
                self.report.to_update += 1
            if spec.derive is not None:
                spec.derive(record, staged.values)
            staged.record = record
            good.append(staged)
            if len(self.report.preview) < PREVIEW_ROWS:
                self.report.preview.append(self._preview(staged))
        self.staged = good

    def _preview(self, staged: _Staged) -> PreviewRow:
        shown = []
        record = staged.record
        for column in COLUMNS[self.feed]:
            if column.key == "uscc":
                value: Any = self.codes.get(staged.values.get("enterprise_id"), "")
            elif column.key in ("kind", "severity"):
                value = getattr(record, f"get_{column.key}_display")()
            else:
                value = getattr(record, column.key, None)
            shown.append(_display(value))
        return PreviewRow(staged.row, "create" if staged.creates else "update", shown)

    def write(self, *, actor: User | None, source: str, channel: str, file_name: str) -> FeedLoad:
        """Create the load and write every record; the caller holds the transaction."""
        spec = self.spec
        load = FeedLoad.objects.create(
            feed=self.feed,
            source=source,
            channel=channel,
            file_name=file_name[:255],
            loaded_by=actor if getattr(actor, "pk", None) else None,
            rows=len(self.staged),
            is_synthetic=False,
        )
        creates = [staged.record for staged in self.staged if staged.creates]
        updates = [staged.record for staged in self.staged if not staged.creates]
        for record in creates:
            record.load = load
        for record in updates:
            record.load = load
        for chunk in _batched(creates, WRITE_BATCH):
            spec.model.objects.bulk_create(chunk)
        _update_rows(spec.model, updates, [*spec.update_fields, "load"])
        audit_record(
            actor=actor,
            action=LOAD_ACTION,
            obj=load,
            changes={"created": [None, len(creates)], "updated": [None, len(updates)]},
        )
        return load


def _update_rows(model: type[models.Model], records: list, names: list[str]) -> None:
    """UPDATE the given fields of `records` by primary key, a few hundred rows per statement.

    Django's `bulk_update` builds the same CASE statements from expression objects, which costs
    about a millisecond of Python per row (over a minute for a large feed); one UPDATE per row
    (`executemany`) is slow on SQLite inside a savepoint, which opens a statement journal for each.
    So the statements are written here: `SET f = CASE pk WHEN … THEN … END` per field (one value
    when all rows share it, as the load does), with each field's own database conversion and the
    cast PostgreSQL needs."""
    if not records:
        return
    db = transaction.get_connection()
    quote = db.ops.quote_name
    fields = [model._meta.get_field(name) for name in names]
    pk = model._meta.pk
    per_row = 2 * len(fields) + 1
    size = max(1, min(WRITE_BATCH, ((db.features.max_query_params or 65535) - len(fields)) // per_row))
    cast = db.features.requires_casted_case_in_updates
    with db.cursor() as cursor:
        for chunk in _batched(records, size):
            ids = [pk.get_db_prep_save(record.pk, db) for record in chunk]
            assignments: list[str] = []
            params: list[Any] = []
            for f in fields:
                values = [f.get_db_prep_save(getattr(record, f.attname), db) for record in chunk]
                if len(set(values)) == 1:
                    assignments.append(f"{quote(f.column)} = %s")
                    params.append(values[0])
                    continue
                expression = f"CASE {quote(pk.column)} {' '.join(['WHEN %s THEN %s'] * len(chunk))} END"
                if cast:
                    expression = f"CAST({expression} AS {f.cast_db_type(db)})"
                assignments.append(f"{quote(f.column)} = {expression}")
                for pk_value, value in zip(ids, values, strict=True):
                    params += [pk_value, value]
            placeholders = ", ".join(["%s"] * len(ids))
            cursor.execute(
                f"UPDATE {quote(model._meta.db_table)} SET {', '.join(assignments)} "
                f"WHERE {quote(pk.column)} IN ({placeholders})",
                [*params, *ids],
            )


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def feed_import(
    *,
    actor: User | None,
    feed: str,
    source: str,
    rows: list[dict] | None = None,
    file=None,
    file_name: str = "",
    dry_run: bool,
    channel: str = "file",
) -> FeedReport:
    """Check one delivery of one feed — a file (.xlsx or .csv) or the API's rows — and, unless
    `dry_run` or any row is bad, write it: one FeedLoad, every record created or updated and pointed
    at it, one audit entry.

    `actor` must manage credit data (None is the system). A bad feed, source, channel or file (too
    large, unreadable, a required column missing) raises ValidationFailed on that field; row problems
    are returned in the report, every one of them, and then nothing is written.
    """
    return _import(
        actor=actor,
        feed=feed,
        source=source,
        rows=rows,
        file=file,
        file_name=file_name,
        dry_run=dry_run,
        channel=channel,
        claim=None,
    )


def _import(
    *,
    actor: User | None,
    feed: str,
    source: str,
    rows: list[dict] | None,
    file,
    file_name: str,
    dry_run: bool,
    channel: str,
    claim: Callable[[FeedLoad], None] | None,
) -> FeedReport:
    """`feed_import`; `claim(load)` runs in the write's transaction (a failure there undoes the write)."""
    _check_permission(actor)
    feed = _check_feed(feed)
    source = _check_source(source)
    if channel not in CHANNELS:
        raise ValidationFailed(
            _("Unknown channel “%(channel)s”: use one of %(allowed)s.")
            % {"channel": channel, "allowed": ", ".join(CHANNELS)},
            field="channel",
        )
    if (file is None) == (rows is None):
        raise ValidationFailed(_("Give either a file or the rows, not both or neither."), field="file")
    early_errors: list[RowError] = []
    if file is not None:
        file_name = str(file_name or getattr(file, "name", "") or "")
        parsed = _read_file(feed, file, file_name)
        labels = {column.key: column.header for column in COLUMNS[feed]}
    else:
        parsed, early_errors = _api_rows(feed, rows)
        labels = {column.key: column.key for column in COLUMNS[feed]}
    check = _Check(feed=feed, rows=parsed, labels=labels, dry_run=dry_run)
    with _cyclic_gc_paused():
        check.run()
        check.report.total += len(early_errors)
        if early_errors:
            check.report.errors = sorted([*early_errors, *check.report.errors], key=lambda error: error.row)
        if check.report.errors or dry_run:
            return check.report
        try:
            with transaction.atomic():
                load = check.write(actor=actor, source=source, channel=channel, file_name=file_name)
                if claim is not None:
                    claim(load)
                check.report.load = load
        except IntegrityError:
            raise ConflictError(
                _("The stored records changed while the feed was being imported; nothing was written. Try again.")
            ) from None
    return check.report


# -- the template ---------------------------------------------------------------------------------

_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def _example_uscc() -> str:
    body = "91430200MA4EXAMPL"
    return body + uscc_module.calc_check_digit(body)


def _example_row(feed: str) -> dict[str, Any]:
    today = timezone.localdate()
    last_year = today.year - 1
    month = dt.date(today.year, today.month, 1)
    previous = dt.date(month.year - 1, 12, 1) if month.month == 1 else dt.date(month.year, month.month - 1, 1)
    uscc = _example_uscc()
    return {
        Feed.TAX: {"uscc": uscc, "year": last_year, "grade": "A", "tax_paid": 125.5},
        Feed.HEADCOUNT: {"uscc": uscc, "month": previous.strftime("%Y-%m"), "headcount": 86},
        Feed.UTILITIES: {
            "uscc": uscc,
            "month": previous.strftime("%Y-%m"),
            "water_m3": 1520,
            "electricity_kwh": 86400,
        },
        Feed.LOANS: {
            "uscc": uscc,
            "lender": "株洲农商银行",
            "contract_no": "ZZNS-2024-0001",
            "amount": 300,
            "start_on": dt.date(last_year, 3, 15),
            "end_on": dt.date(last_year + 2, 3, 14),
            "settled_on": None,
        },
        Feed.REPAYMENTS: {
            "uscc": uscc,
            "lender": "株洲农商银行",
            "contract_no": "ZZNS-2024-0001",
            "due_on": dt.date(last_year, 6, 15),
            "paid_on": dt.date(last_year, 6, 20),
            "amount": 40,
            "overdue_days": 5,
        },
        Feed.COURT: {
            "uscc": uscc,
            "kind": "失信被执行人",
            "case_no": f"({last_year})湘0202执123号",
            "court": "株洲市荷塘区人民法院",
            "filed_on": dt.date(last_year, 4, 1),
            "amount": 12.5,
            "listed_on": dt.date(last_year, 5, 10),
            "delisted_on": None,
            "closed_on": None,
        },
        Feed.PENALTIES: {
            "uscc": uscc,
            "authority": "株洲市生态环境局",
            "decision_no": f"株环罚〔{last_year}〕15号",
            "severity": "一般",
            "decided_on": dt.date(last_year, 8, 8),
            "amount": 2,
            "reason": "未按规定贮存危险废物",
            "disclosed_until": None,
        },
        Feed.HONOURS: {
            "uscc": uscc,
            "kind": "高新技术企业",
            "name": "高新技术企业证书",
            "granted_on": dt.date(last_year, 11, 1),
            "expires_on": dt.date(last_year + 3, 10, 31),
        },
        Feed.OUTCOMES: {"uscc": uscc, "observed_on": dt.date(last_year, 1, 1), "defaulted": "否"},
    }[feed]


def feed_template(feed: str) -> bytes:
    """An .xlsx for staff to fill in: the feed's Chinese headers and one example row."""
    feed = _check_feed(feed)
    columns = COLUMNS[feed]
    example = _example_row(feed)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = feed
    sheet.append([column.header for column in columns])
    sheet.append([example.get(column.key) for column in columns])
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        sheet.column_dimensions[get_column_letter(index)].width = max(14, len(column.header) * 2 + 4)
        value = example.get(column.key)
        if isinstance(value, dt.date):
            sheet.cell(row=2, column=index).number_format = "yyyy-mm-dd"
        elif column.key in ("uscc", "month", "contract_no", "case_no", "decision_no"):
            sheet.cell(row=2, column=index).number_format = "@"
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# -- uploads: check first, then confirm ----------------------------------------------------------


def _upload_extension(name: str, content: bytes) -> str:
    lower = name.lower()
    if lower.endswith(".xls"):
        raise _file_error(
            _("This is an old Excel .xls file. Save the sheet as “Excel Workbook (*.xlsx)” or CSV and upload it again.")
        )
    return "xlsx" if _is_xlsx(content, name) else "csv"


def feed_upload_create(*, actor: User, feed: str, source: str, file) -> FeedUpload:
    """Keep an uploaded feed file for its check and confirmation, after checking the feed, the
    source, the size and the format (an .xlsx workbook or CSV text)."""
    if actor is None:
        raise PermissionDeniedError()
    _check_permission(actor)
    feed = _check_feed(feed)
    source = _check_source(source)
    if file is None:
        raise _file_error(_("Choose a file to upload."))
    name = str(getattr(file, "name", "") or "")
    content = read_upload(file)
    extension = _upload_extension(name, content)
    if extension == "xlsx":
        check_workbook(content)
    else:
        _decode_csv(content)
    upload = FeedUpload(
        feed=feed,
        source=source,
        original_name=(name.rsplit("/", 1)[-1] or f"upload.{extension}")[:255],
        uploaded_by=actor,
    )
    upload.file.save(f"{uuid.uuid4().hex}.{extension}", ContentFile(content), save=False)
    upload.save()
    return upload


def feed_upload_get_for(user: User, pk: Any) -> FeedUpload:
    """A feed upload for a credit manager; NotFoundError for anyone else, exactly as for a missing one."""
    if not can_manage_credit(user):
        raise NotFoundError()
    try:
        return FeedUpload.objects.select_related("uploaded_by", "load").get(pk=pk)
    except (FeedUpload.DoesNotExist, ValueError, TypeError):
        raise NotFoundError() from None


def _check_upload_actor(actor: User | None) -> None:
    if actor is None or not can_manage_credit(actor):
        raise PermissionDeniedError()


def _import_upload(
    *, actor: User, upload: FeedUpload, dry_run: bool, claim: Callable[[FeedLoad], None] | None = None
) -> FeedReport:
    try:
        handle = upload.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise _file_error(_("The uploaded file is no longer available. Upload it again.")) from None
    with handle:
        return _import(
            actor=actor,
            feed=upload.feed,
            source=upload.source,
            rows=None,
            file=handle,
            file_name=upload.original_name,
            dry_run=dry_run,
            channel="file",
            claim=claim,
        )


def _already_done() -> ConflictError:
    return ConflictError(_("This upload has already been imported or discarded."))


def _refresh_pending(upload: FeedUpload) -> None:
    try:
        upload.refresh_from_db()
    except FeedUpload.DoesNotExist:
        raise NotFoundError() from None
    if upload.state != FeedUpload.State.PENDING:
        raise _already_done()


def feed_upload_check(*, actor: User, upload: FeedUpload) -> FeedReport:
    """The dry run of a pending upload: what confirming it would do, or every bad row."""
    _check_upload_actor(actor)
    _refresh_pending(upload)
    return _import_upload(actor=actor, upload=upload, dry_run=True)


def feed_upload_confirm(*, actor: User, upload: FeedUpload) -> FeedReport:
    """Import a pending upload for real. The rows are checked again (the registry may have changed
    since the check); when any row is bad nothing is written and the upload stays pending.

    The file is read and checked outside any transaction; the upload is claimed (pending →
    imported) in the same transaction as the write, so two confirmations cannot both import it."""
    _check_upload_actor(actor)
    _refresh_pending(upload)

    def claim(load: FeedLoad) -> None:
        claimed = FeedUpload.objects.filter(pk=upload.pk, state=FeedUpload.State.PENDING).update(
            state=FeedUpload.State.IMPORTED, load=load
        )
        if not claimed:
            raise _already_done()
        _delete_file_on_commit(upload)

    report = _import_upload(actor=actor, upload=upload, dry_run=False, claim=claim)
    upload.refresh_from_db()
    return report


def feed_upload_discard(*, actor: User, upload: FeedUpload) -> None:
    """Drop a pending upload and delete its file."""
    _check_upload_actor(actor)
    with transaction.atomic():
        discarded = FeedUpload.objects.filter(pk=upload.pk, state=FeedUpload.State.PENDING).update(
            state=FeedUpload.State.DISCARDED
        )
        if not discarded:
            if not FeedUpload.objects.filter(pk=upload.pk).exists():
                raise NotFoundError()
            raise _already_done()
        _delete_file_on_commit(upload)
    upload.refresh_from_db()


def _delete_file_on_commit(upload: FeedUpload) -> None:
    """The uploaded file is no longer needed once the upload is done: delete it after the commit."""
    if not upload.file:
        return
    storage, name = upload.file.storage, upload.file.name
    transaction.on_commit(lambda: storage.delete(name))
