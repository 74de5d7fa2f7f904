"""The key-project table (重点项目表) in and out of Excel.

Import reads the table in the form the district offices keep it — one row per project with 序号,
项目名称, 建设单位, 建设内容, 总投资(万元), 年度计划投资(万元), 责任单位, 联点领导, 计划开工时间,
计划竣工时间 and, optionally, 项目代码 and 所属产业链 — onto one year's key-project list. The header
row may sit below a title row; extra columns are ignored; headers match with or without the (万元)
unit and with full- or half-width brackets. These headers are the district's own sheet layout, so
they are data (Chinese constants), not interface text; every message about them is translated.

A row whose project code, or else exact name, matches an existing project updates that project's
listing for the year (and fills in its code when it had none). Any other row creates the project
at stage 签约 (signed) with a stage change noting the import, then lists it. Every row is checked
first and every problem reported as (Excel row, column header, reason); nothing is written while
any row is bad, and the write is one transaction, audited in bulk.

Export writes the monthly 重点项目推进表: one row per key project with the year's plan, the month's
and the cumulative completed investment, the share of the plan, the stage, the open problems, the
liaison leader and the responsible unit.

The upload checks (size limit, a real .xlsx and not a zip bomb) and the cell parsers (numbers,
dates, choices) are the enterprise import's, from `zhiyuan.enterprises.imports` and
`zhiyuan.enterprises.resources`, so both imports refuse files and read cells the same way. The
header row is found here, since this table may carry a title above it.
"""

import datetime as dt
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, BinaryIO

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from zhiyuan.accounts.models import Organisation, OrganisationKind, Role, User
from zhiyuan.accounts.permissions import is_district_staff
from zhiyuan.core.errors import ConflictError, PermissionDeniedError, ValidationFailed
from zhiyuan.core.excel import read_header_table
from zhiyuan.core.services import audit_record_many, snapshot
from zhiyuan.enterprises.models import Chain, Enterprise
from zhiyuan.enterprises.resources import AmountWidget, CellError, ChoiceWidget, DateCellWidget
from zhiyuan.enterprises.services import normalize_uscc, uscc_error
from zhiyuan.investments import services
from zhiyuan.investments.codes import normalize_project_code, project_code_error
from zhiyuan.investments.models import (
    POOL_OF_STAGE,
    Blocker,
    BlockerStatus,
    KeyProject,
    MonthlyInvestment,
    Project,
    Stage,
    StageChange,
    Status,
)
from zhiyuan.investments.selectors import key_projects

# -- the district's sheet layout (data, not interface text) -----------------------------------------

SEQUENCE = "序号"
NAME = "项目名称"
BUILDER = "建设单位"
CONTENT = "建设内容"
TOTAL = "总投资(万元)"
ANNUAL = "年度计划投资(万元)"
UNIT = "责任单位"
LEADER = "联点领导"
START = "计划开工时间"
COMPLETION = "计划竣工时间"
CODE = "项目代码"
CHAIN = "所属产业链"

HEADERS = [SEQUENCE, NAME, BUILDER, CONTENT, TOTAL, ANNUAL, UNIT, LEADER, START, COMPLETION, CODE, CHAIN]
REQUIRED_HEADERS = [SEQUENCE, NAME, BUILDER, CONTENT, TOTAL, ANNUAL, UNIT, LEADER, START, COMPLETION]
# Other spellings the offices use for the same columns.
HEADER_ALIASES = {
    "总投资": TOTAL,
    "年度计划投资": ANNUAL,
    "年度计划": ANNUAL,
    "投资项目代码": CODE,
    "项目编码": CODE,
    "产业链": CHAIN,
    "建设规模及内容": CONTENT,
    "建设内容及规模": CONTENT,
    "主要建设内容": CONTENT,
    "联点区领导": LEADER,
    "开工时间": START,
    "竣工时间": COMPLETION,
}
# Rows the offices put between projects: totals and section headings (一、在建项目 …).
SKIPPED_SEQUENCE_TEXT = re.compile(r"^(合计|总计|小计|[一二三四五六七八九十]+[、.．])")

REPORT_HEADERS = [
    "序号",
    "项目名称",
    "建设单位",
    "年度计划投资(万元)",
    "本月完成(万元)",
    "累计完成(万元)",
    "完成比例",
    "阶段",
    "存在问题",
    "联点领导",
    "责任单位",
]
REPORT_WIDTHS = [6, 36, 30, 14, 12, 14, 10, 14, 48, 12, 20]

IMPORT_ROLES = services.EDIT_ROLES
MAX_ROWS = 5000
KNOWN_NAMES_SHOWN = 5
MONTH_FORMATS = ("%Y年%m月", "%Y-%m", "%Y/%m", "%Y.%m")
MONEY_FORMAT = "#,##0.00"
SHARE_FORMAT = "0.0%"

_amount = AmountWidget()
_date = DateCellWidget()
_chain = ChoiceWidget(Chain, Chain.OTHER)


# -- results -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem in the sheet: the Excel row number (as Excel shows it), the column header and why."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return _("Row %(row)d, %(column)s: %(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


@dataclass
class PlannedRow:
    """What one good row will do: create a project, or update an existing project's listing."""

    row: int
    sequence: int
    name: str
    project: Project | None  # the existing project; for a new one None until it is written
    planned_investment: Decimal
    responsible_unit: Organisation | None
    liaison_leader: User | None
    new_project: dict[str, Any] = field(default_factory=dict)
    set_code: str | None = None  # a code to give an existing project that had none
    creates: bool = False  # the row creates its project (which `project` holds once written)


@dataclass
class ImportReport:
    """The outcome of an import or of its dry run."""

    year: int
    rows: list[PlannedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def created(self) -> int:
        return sum(1 for r in self.rows if r.creates)

    @property
    def updated(self) -> int:
        return sum(1 for r in self.rows if not r.creates)


# -- reading the file --------------------------------------------------------------------------------


def may_import(user) -> bool:
    """Who may import the key-project table: the investment and project offices and administrators."""
    return bool(user and user.is_authenticated and user.role in IMPORT_ROLES)


def _header_key(text: Any) -> str:
    value = str(text or "").strip().replace("（", "(").replace("）", ")")
    return re.sub(r"\s+", "", value)


_HEADER_LOOKUP = {
    **{_header_key(h): h for h in HEADERS},
    **{_header_key(re.sub(r"\(万元\)$", "", h)): h for h in HEADERS},
    **{_header_key(alias): h for alias, h in HEADER_ALIASES.items()},
}


def _canonical_header(text: Any) -> str | None:
    key = _header_key(text)
    return _HEADER_LOOKUP.get(key) or _HEADER_LOOKUP.get(re.sub(r"\(万元\)$", "", key))


def read_table(source: bytes | BinaryIO) -> tuple[dict[str, int], list[tuple[int, list[Any]]]]:
    """Open the workbook's active (first) sheet, find the header row and return ({header: column index},
    [(Excel row number, cells)]) for the rows below it that are not blank.

    Raises ValidationFailed on the `file` field when the file is too big, is not an .xlsx workbook,
    or lacks required columns.
    """
    table = read_header_table(
        source, canonical=_canonical_header, key_header=NAME, required=REQUIRED_HEADERS, max_rows=MAX_ROWS
    )
    return table.columns, table.body


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    if _blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return re.sub(r"\s+", " ", str(value)).strip()


def _norm(value: Any) -> str:
    return re.sub(r"\s+", "", str(value or "")).casefold()


def _some(names: list[str]) -> str:
    if not names:
        return _("(none defined yet)")
    shown = "、".join(names[:KNOWN_NAMES_SHOWN])
    if len(names) > KNOWN_NAMES_SHOWN:
        shown += _(" … and %(count)d more") % {"count": len(names) - KNOWN_NAMES_SHOWN}
    return shown


def parse_date(value: Any) -> dt.date | None:
    """A date cell or text such as 2019-03-15, 2019/3/15, 2019年3月15日; a month alone (2019年3月,
    2019-03) means its first day."""
    try:
        return _date.clean(value)
    except CellError:
        text = str(value).strip()
        for fmt in MONTH_FORMATS:
            try:
                return dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        raise


def _amount_of(value: Any) -> Decimal | None:
    number = _amount.clean(value)
    if number is not None and number < 0:
        raise CellError(_("This value cannot be negative."))
    return number


def _sequence_of(value: Any, default: int) -> int:
    if _blank(value):
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    raise CellError(_("Enter a whole number."))


# -- reference data, read once per import ------------------------------------------------------------


@dataclass
class _Lookups:
    units: dict[str, Organisation]
    unit_names: list[str]
    leaders_by_username: dict[str, User]
    leaders_by_name: dict[str, list[User]]
    leader_names: list[str]
    enterprises_by_name: dict[str, Enterprise]
    enterprises_by_uscc: dict[str, Enterprise]
    projects_by_code: dict[str, Project]
    projects_by_name: dict[str, list[Project]]

    @classmethod
    def load(cls, *, names: set[str], codes: set[str], builders: set[str]) -> "_Lookups":
        units = list(Organisation.objects.filter(kind=OrganisationKind.DISTRICT).order_by("name"))
        leaders = list(User.objects.filter(role=Role.LEADER, is_active=True).order_by("username"))
        by_name: dict[str, list[User]] = defaultdict(list)
        for leader in leaders:
            if leader.get_full_name():
                by_name[_norm(leader.get_full_name())].append(leader)
        usccs = {normalize_uscc(b) for b in builders if b and not uscc_error(b)}
        enterprises = Enterprise.objects.filter(name__in=builders) | Enterprise.objects.filter(uscc__in=usccs)
        projects_by_name: dict[str, list[Project]] = defaultdict(list)
        for project in Project.objects.filter(name__in=names).order_by("pk"):
            projects_by_name[project.name].append(project)
        return cls(
            units={_norm(u.name): u for u in units},
            unit_names=[u.name for u in units],
            leaders_by_username={u.username.casefold(): u for u in leaders},
            leaders_by_name=by_name,
            leader_names=[u.get_full_name() or u.username for u in leaders],
            enterprises_by_name={e.name: e for e in enterprises},
            enterprises_by_uscc={e.uscc: e for e in enterprises},
            projects_by_code={p.code: p for p in Project.objects.filter(code__in=codes)},
            projects_by_name=projects_by_name,
        )


# -- checking the rows -------------------------------------------------------------------------------


class _Row:
    """One data row of the sheet while it is checked: its cells by header and its errors."""

    def __init__(self, number: int, values: list[Any], columns: dict[str, int]):
        self.number = number
        self.values = values
        self.columns = columns
        self.errors: list[RowError] = []

    def cell(self, header: str) -> Any:
        index = self.columns.get(header)
        return self.values[index] if index is not None and index < len(self.values) else None

    def text(self, header: str, limit: int | None = None) -> str:
        value = _text(self.cell(header))
        if limit is not None and len(value) > limit:
            self.fail(
                header,
                _("At most %(limit)d characters are allowed (this has %(count)d).")
                % {"limit": limit, "count": len(value)},
            )
        return value

    def fail(self, header: str, message: str) -> None:
        self.errors.append(RowError(self.number, header, str(message)))

    def failed(self, *headers: str) -> bool:
        return any(e.column in headers for e in self.errors)

    def parse(self, header: str, parser) -> Any:
        try:
            return parser(self.cell(header))
        except CellError as error:
            self.fail(header, error.message)
            return None


class _Checker:
    """Checks the rows one by one, remembering codes and projects already seen in the file."""

    def __init__(self, columns: dict[str, int], lookups: _Lookups):
        self.columns = columns
        self.lookups = lookups
        self.seen_codes: dict[str, int] = {}
        self.seen_projects: dict[Any, int] = {}

    def unit(self, row: _Row) -> Organisation | None:
        text = row.text(UNIT)
        if not text:
            return None
        unit = self.lookups.units.get(_norm(text))
        if unit is None:
            row.fail(
                UNIT,
                _("Unknown responsible unit “%(value)s”: it must be a district department such as %(known)s.")
                % {"value": text, "known": _some(self.lookups.unit_names)},
            )
        return unit

    def leader(self, row: _Row) -> User | None:
        text = row.text(LEADER)
        if not text:
            return None
        leader = self.lookups.leaders_by_username.get(text.casefold())
        if leader is not None:
            return leader
        same_name = self.lookups.leaders_by_name.get(_norm(text), [])
        if len(same_name) == 1:
            return same_name[0]
        if same_name:
            row.fail(LEADER, _("Several leaders are called “%(value)s”: enter the username instead.") % {"value": text})
        else:
            row.fail(
                LEADER,
                _("Unknown liaison leader “%(value)s”: it must be a district leader such as %(known)s.")
                % {"value": text, "known": _some(self.lookups.leader_names)},
            )
        return None

    def code(self, row: _Row) -> str | None:
        text = row.text(CODE) if CODE in self.columns else ""
        if not text:
            return None
        code = normalize_project_code(text)
        message = project_code_error(code)
        if message:
            row.fail(CODE, message)
            return None
        if code in self.seen_codes:
            row.fail(
                CODE,
                _("The project code %(code)s is also used in row %(row)d.")
                % {"code": code, "row": self.seen_codes[code]},
            )
            return None
        self.seen_codes[code] = row.number
        return code

    def target(self, row: _Row, name: str, code: str | None) -> tuple[Project | None, str | None]:
        """The existing project the row is about (None for a new one), and a code to give it."""
        project, set_code = None, None
        by_code = self.lookups.projects_by_code.get(code) if code else None
        same_name = self.lookups.projects_by_name.get(name, [])
        if by_code is not None:
            if by_code.name != name:
                row.fail(
                    CODE,
                    _("The project code %(code)s already belongs to the project “%(name)s”.")
                    % {"code": code, "name": by_code.name},
                )
            project = by_code
        elif len(same_name) > 1:
            row.fail(
                NAME, _("Several projects are called “%(name)s”: add the project code to say which.") % {"name": name}
            )
        elif same_name:
            project = same_name[0]
            if code and project.code:
                row.fail(
                    CODE,
                    _("The project “%(name)s” already has the project code %(code)s.")
                    % {"name": name, "code": project.code},
                )
            elif code:
                set_code = code
        if project is not None and project.status == Status.WITHDRAWN:
            row.fail(
                NAME,
                _("The project “%(name)s” has been withdrawn; it cannot go on the key-project list.") % {"name": name},
            )
        identity = project.pk if project is not None else ("new", name)
        if identity in self.seen_projects:
            row.fail(NAME, _("This project is already listed in row %(row)d.") % {"row": self.seen_projects[identity]})
        else:
            self.seen_projects[identity] = row.number
        return project, set_code

    def check(self, row: _Row, position: int) -> PlannedRow | None:
        sequence = row.parse(SEQUENCE, lambda value: _sequence_of(value, position))
        name = row.text(NAME, limit=200)
        if not name:
            row.fail(NAME, _("This field is required."))
        builder = row.text(BUILDER, limit=200)
        content = row.text(CONTENT)
        total = row.parse(TOTAL, _amount_of)
        annual = row.parse(ANNUAL, _amount_of)
        if annual is None and not row.failed(ANNUAL):
            row.fail(ANNUAL, _("This field is required."))
        start = row.parse(START, parse_date)
        completion = row.parse(COMPLETION, parse_date)
        if start and completion and completion < start:
            row.fail(COMPLETION, _("The planned completion is before the planned start."))
        chain = row.parse(CHAIN, _chain.clean) if CHAIN in self.columns else Chain.OTHER
        unit = self.unit(row)
        leader = self.leader(row)
        code = self.code(row)
        project, set_code = None, None
        if name and not row.failed(NAME, CODE):
            project, set_code = self.target(row, name, code)
        if project is None and total is None and not row.failed(TOTAL):
            row.fail(TOTAL, _("This field is required for a new project."))
        if row.errors:
            return None
        new_project = {}
        if project is None:
            enterprise = self.lookups.enterprises_by_name.get(builder)
            if enterprise is None and builder and not uscc_error(builder):
                enterprise = self.lookups.enterprises_by_uscc.get(normalize_uscc(builder))
            new_project = {
                "name": name,
                "code": code,
                "investor_name": enterprise.name if enterprise else builder,
                "enterprise": enterprise,
                "description": content,
                "total_investment": total,
                "planned_start": start,
                "planned_completion": completion,
                "chain": chain,
            }
        return PlannedRow(
            row=row.number,
            sequence=sequence,
            name=name,
            project=project,
            planned_investment=annual,
            responsible_unit=unit,
            liaison_leader=leader,
            new_project=new_project,
            set_code=set_code,
            creates=project is None,
        )


def _validate(
    columns: dict[str, int], body: list[tuple[int, list[Any]]], lookups: _Lookups
) -> tuple[list[PlannedRow], list[RowError]]:
    checker = _Checker(columns, lookups)
    planned: list[PlannedRow] = []
    errors: list[RowError] = []
    position = 0
    for number, values in body:
        row = _Row(number, values, columns)
        sequence_cell = row.cell(SEQUENCE)
        if (
            _blank(row.cell(NAME))
            and isinstance(sequence_cell, str)
            and SKIPPED_SEQUENCE_TEXT.match(sequence_cell.strip())
        ):
            continue  # a total or a section heading between projects
        position += 1
        result = checker.check(row, position)
        if result is None:
            errors.extend(row.errors)
        else:
            planned.append(result)
    return planned, errors


# -- the import --------------------------------------------------------------------------------------


def _check_year(year: Any) -> int:
    try:
        value = int(year)
    except (TypeError, ValueError):
        raise ValidationFailed(_("Enter a year such as 2019."), field="year") from None
    if not 2000 <= value <= timezone.localdate().year + 1:
        raise ValidationFailed(_("Enter a plausible year."), field="year")
    return value


def key_projects_import(
    *, actor: User | None, source: bytes | BinaryIO, year: Any, dry_run: bool = True
) -> ImportReport:
    """Check (and unless `dry_run`, import) the key-project table for `year`.

    Returns the report: the planned rows and every bad row as (row, column, reason). Nothing is
    written when `dry_run` is set or any row is bad. File-level problems (too big, not a workbook,
    missing columns) and a bad year raise ValidationFailed naming `file` or `year`. `actor` None is
    the system (the management command).
    """
    if actor is not None and not may_import(actor):
        raise PermissionDeniedError()
    year = _check_year(year)
    columns, body = read_table(source)

    def build() -> ImportReport:
        names = {_text(values[columns[NAME]]) for _row, values in body if columns[NAME] < len(values)}
        codes = set()
        if CODE in columns:
            for _row, values in body:
                if columns[CODE] < len(values) and not _blank(values[columns[CODE]]):
                    codes.add(normalize_project_code(_text(values[columns[CODE]])))
        builders = {_text(values[columns[BUILDER]]) for _row, values in body if columns[BUILDER] < len(values)}
        lookups = _Lookups.load(names=names - {""}, codes=codes, builders=builders - {""})
        planned, errors = _validate(columns, body, lookups)
        return ImportReport(year=year, rows=planned, errors=errors)

    if dry_run:
        return build()
    with transaction.atomic():
        report = build()
        if report.ok:
            try:
                with transaction.atomic():
                    _write(actor=actor, report=report)
            except IntegrityError:
                raise ConflictError(
                    _("Another project took one of these project codes while the file was being imported."),
                    field="file",
                ) from None
            report.written = True
    return report


def _write(*, actor: User | None, report: ImportReport) -> None:
    today = timezone.localdate()
    year = report.year
    role = getattr(actor, "role", None)
    new_rows = [r for r in report.rows if r.creates]
    projects = []
    for planned in new_rows:
        project = Project(
            **planned.new_project,
            stage=Stage.SIGNED,
            pool=POOL_OF_STAGE[Stage.SIGNED],
            investment_officer=actor if role == Role.INVESTMENT else None,
            project_officer=actor if role == Role.PROJECT else None,
        )
        projects.append(project)
    Project.objects.bulk_create(projects, batch_size=500)
    for planned, project in zip(new_rows, projects, strict=True):
        planned.project = project
    note = _("Imported from the %(year)d key-project table.") % {"year": year}
    StageChange.objects.bulk_create(
        [
            StageChange(project=p, from_stage=Stage.LEAD, to_stage=Stage.SIGNED, on=today, note=note, actor=actor)
            for p in projects
        ],
        batch_size=500,
    )
    audit_record_many(
        actor=actor,
        action="investments.project.imported",
        objs=projects,
        changes_for=lambda p: {
            name: [None, value]
            for name, value in snapshot(p, services.AUDITED_FIELDS).items()
            if value not in (None, "", [])
        },
    )

    coded = [r for r in report.rows if r.set_code]
    for planned in coded:
        planned.project.code = planned.set_code
    Project.objects.bulk_update([r.project for r in coded], ["code"], batch_size=500)
    audit_record_many(
        actor=actor,
        action="investments.project.updated",
        objs=[r.project for r in coded],
        changes_for=lambda p: {"code": [None, p.code]},
    )

    existing = {
        k.project_id: k
        for k in KeyProject.objects.filter(year=year, project__in=[r.project for r in report.rows if not r.creates])
    }
    to_create, to_update, old_plans = [], [], {}
    for planned in report.rows:
        listing = existing.get(planned.project.pk)
        if listing is None:
            listing = KeyProject(project=planned.project, year=year)
            to_create.append(listing)
        else:
            old_plans[planned.project.pk] = str(listing.planned_investment)
            to_update.append(listing)
        listing.sequence = planned.sequence
        listing.planned_investment = planned.planned_investment
        listing.liaison_leader = planned.liaison_leader
        listing.responsible_unit = planned.responsible_unit
    KeyProject.objects.bulk_create(to_create, batch_size=500)
    KeyProject.objects.bulk_update(
        to_update, ["sequence", "planned_investment", "liaison_leader", "responsible_unit"], batch_size=500
    )
    plans = {r.project.pk: str(r.planned_investment) for r in report.rows}
    audit_record_many(
        actor=actor,
        action="investments.project.key_listed",
        objs=[r.project for r in report.rows],
        changes_for=lambda p: {f"key project {year}": [old_plans.get(p.pk), plans[p.pk]]},
    )


# -- workbooks ---------------------------------------------------------------------------------------

_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def _save(workbook: Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def template_workbook() -> bytes:
    """An empty key-project table with the expected headers and one example row to overwrite."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Key projects")
    sheet.append(HEADERS)
    unit = Organisation.objects.filter(kind=OrganisationKind.DISTRICT).order_by("name").first()
    leader = User.objects.filter(role=Role.LEADER, is_active=True).order_by("username").first()
    sheet.append(
        [
            1,
            _("Example intelligent manufacturing base, phase I"),
            _("Example Co., Ltd."),
            _("Plant, production lines and supporting facilities"),
            50000,
            12000,
            unit.name if unit else "",
            (leader.get_full_name() or leader.username) if leader else "",
            dt.date(timezone.localdate().year, 3, 1),
            dt.date(timezone.localdate().year + 1, 12, 31),
            "",
            str(Chain.NEW_MATERIALS.label),
        ]
    )
    for index, header in enumerate(HEADERS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        sheet.column_dimensions[get_column_letter(index)].width = max(12, len(header) * 2 + 4)
    for column in (5, 6):
        sheet.cell(row=2, column=column).number_format = MONEY_FORMAT
    for column in (9, 10):
        sheet.cell(row=2, column=column).number_format = "yyyy-mm-dd"
    sheet.column_dimensions["B"].width = 36
    sheet.column_dimensions["C"].width = 30
    sheet.freeze_panes = "A2"
    return _save(workbook)


@dataclass(frozen=True)
class ReportRow:
    """One line of the 推进表."""

    sequence: int
    name: str
    builder: str
    plan: Decimal | None
    month: Decimal
    cumulative: Decimal
    share: Decimal | None
    stage: str
    problems: str
    leader: str
    unit: str


def _check_month(year: Any, month: Any) -> tuple[int, int]:
    year = _check_year(year)
    try:
        month = int(month)
    except (TypeError, ValueError):
        raise ValidationFailed(_("Enter a month from 1 to 12."), field="month") from None
    if not 1 <= month <= 12:
        raise ValidationFailed(_("Enter a month from 1 to 12."), field="month")
    return year, month


def progress_report_rows(*, user: User, year: Any, month: Any) -> list[ReportRow]:
    """The 推进表 figures for `year` up to the end of `month`, one row per key project visible to
    `user`, in list order. District staff only."""
    if not is_district_staff(user):
        raise PermissionDeniedError()
    year, month = _check_month(year, month)
    first = dt.date(year, month, 1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    listed = key_projects(year, user=user, today=last)
    ids = [k.project_id for k, _p in listed]
    this_month = dict(
        MonthlyInvestment.objects.filter(project_id__in=ids, month=first).values_list("project_id", "amount")
    )
    problems: dict[int, list[str]] = defaultdict(list)
    for blocker in Blocker.objects.filter(project_id__in=ids, status=BlockerStatus.OPEN).order_by("due_on", "pk"):
        problems[blocker.project_id].append(blocker.description)
    rows = []
    for listing, progress in listed:
        project = listing.project
        stage = str(project.get_stage_display())
        if project.status != Status.ACTIVE:
            stage = f"{stage}（{project.get_status_display()}）"
        leader = listing.liaison_leader
        rows.append(
            ReportRow(
                sequence=listing.sequence,
                name=project.name,
                builder=project.enterprise.name if project.enterprise_id else project.investor_name,
                plan=progress.plan,
                month=this_month.get(project.pk, Decimal(0)),
                cumulative=progress.done,
                share=progress.share,
                stage=stage,
                problems="；".join(problems.get(project.pk, [])),
                leader=(leader.get_full_name() or leader.username) if leader else "",
                unit=listing.responsible_unit.name if listing.responsible_unit_id else "",
            )
        )
    return rows


def progress_report_workbook(*, user: User, year: Any, month: Any) -> bytes:
    """The monthly 重点项目推进表 as an .xlsx workbook: a title row, the unit, the header row, one row
    per key project and a total row."""
    rows = progress_report_rows(user=user, year=year, month=month)
    year, month = int(year), int(month)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = f"{year}-{month:02d}"
    width = len(REPORT_HEADERS)
    title = _("%(district)s key projects progress, %(year)d-%(month)02d") % {
        "district": settings.ZHIYUAN_DISTRICT_NAME,
        "year": year,
        "month": month,
    }
    sheet.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    sheet.cell(row=1, column=1).alignment = Alignment(horizontal="center", vertical="center")
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.row_dimensions[1].height = 28
    sheet.cell(row=2, column=width, value=_("Unit: 10k yuan")).alignment = Alignment(horizontal="right")
    for index, header in enumerate(REPORT_HEADERS, start=1):
        cell = sheet.cell(row=3, column=index, value=header)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for offset, row in enumerate(rows):
        number = 4 + offset
        values = [
            row.sequence,
            row.name,
            row.builder,
            row.plan,
            row.month,
            row.cumulative,
            row.share,
            row.stage,
            row.problems,
            row.leader,
            row.unit,
        ]
        for index, value in enumerate(values, start=1):
            cell = sheet.cell(row=number, column=index, value=value)
            cell.border = _BORDER
            cell.alignment = Alignment(vertical="center", wrap_text=index in (2, 3, 9))
        for index in (4, 5, 6):
            sheet.cell(row=number, column=index).number_format = MONEY_FORMAT
        sheet.cell(row=number, column=7).number_format = SHARE_FORMAT
    total_row = 4 + len(rows)
    plan = sum((r.plan or Decimal(0) for r in rows), Decimal(0))
    cumulative = sum((r.cumulative for r in rows), Decimal(0))
    totals = {
        2: _("Total"),
        4: plan,
        5: sum((r.month for r in rows), Decimal(0)),
        6: cumulative,
        7: (cumulative / plan) if plan else None,
    }
    for index in range(1, width + 1):
        cell = sheet.cell(row=total_row, column=index, value=totals.get(index))
        cell.font = Font(bold=True)
        cell.border = _BORDER
    for index in (4, 5, 6):
        sheet.cell(row=total_row, column=index).number_format = MONEY_FORMAT
    sheet.cell(row=total_row, column=7).number_format = SHARE_FORMAT
    for index, column_width in enumerate(REPORT_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column_width
    sheet.freeze_panes = "C4"
    sheet.print_title_rows = "3:3"
    sheet.page_setup.orientation = "landscape"
    return _save(workbook)
