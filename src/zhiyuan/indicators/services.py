"""Indicator writes: definitions, values (one at a time or a statistics-bureau sheet) and yearly
targets. Only statistics officers and administrators write; every write is checked in full before
anything is stored, runs in one transaction and is audited.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from zhiyuan.accounts.models import User
from zhiyuan.core.errors import PermissionDeniedError, ValidationFailed
from zhiyuan.core.excel import read_header_table
from zhiyuan.core.services import audit_record, diff, snapshot
from zhiyuan.indicators.models import (
    PERIODS_PER_YEAR,
    Group,
    Indicator,
    IndicatorValue,
    PeriodType,
    Target,
    period_end,
)
from zhiyuan.indicators.selectors import may_edit

FIRST_YEAR = 2000
LAST_YEAR = 2100
MAX_ABS_VALUE = Decimal("1e13")
INDICATOR_FIELDS = [
    "code", "name", "aliases", "unit", "period_type", "cumulative", "higher_is_better", "growth_from_source",
    "decimals", "group", "on_cockpit", "sequence", "is_active", "description",
]
VALUE_FIELDS = ["value", "period_value", "source_growth", "source", "note"]
TARGET_FIELDS = ["value", "growth", "note"]
# Words that are pages or API actions under /indicators/ and /api/indicators/, so never codes.
RESERVED_CODES = frozenset({"new", "import", "targets", "report", "cockpit", "values"})


def _require_editor(actor: User | None) -> None:
    if not may_edit(actor):
        raise PermissionDeniedError(_("Only statistics officers and administrators change indicators."))


def _creator(actor: User | None) -> User | None:
    return actor if getattr(actor, "pk", None) else None


def name_key(text: Any) -> str:
    """Compare indicator names without spaces, brackets' width or case: 地区生产总值（GDP） = 地区生产总值(gdp)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text or ""))).lower()


def parse_number(raw: Any, *, label: str, field_name: str, percent: bool = False) -> Decimal | None:
    """A number from a form, the API or a cell: blank → None; "1,234.5", full-width digits and, for
    growth rates, a trailing % are accepted; anything else is a ValidationFailed naming the field."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ValidationFailed(field=field_name, message=_("%(field)s must be a number.") % {"field": label})
    if isinstance(raw, (int, Decimal)):
        number = Decimal(raw)
    elif isinstance(raw, float):
        number = Decimal(repr(raw))
    else:
        text = unicodedata.normalize("NFKC", str(raw)).strip().replace(",", "")
        if text in ("", "-", "—", "/"):
            return None
        if percent and text.endswith("%"):
            text = text[:-1].strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValidationFailed(
                field=field_name,
                message=_("%(field)s must be a number, not “%(value)s”.") % {"field": label, "value": str(raw)[:40]},
            ) from None
    if not number.is_finite() or abs(number) >= MAX_ABS_VALUE:
        raise ValidationFailed(field=field_name, message=_("%(field)s is out of range.") % {"field": label})
    return number


def _whole(raw: Any, *, field_name: str) -> int:
    """A whole number from a form, the API or a cell (12, "12", 12.0); anything else names the field."""
    if isinstance(raw, bool):
        raw = None
    try:
        number = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite() or number != number.to_integral_value():
        raise ValidationFailed(_("This must be a whole number."), field=field_name)
    return int(number)


def check_period(indicator: Indicator, year: Any, period: Any, *, today: dt.date) -> tuple[int, int]:
    """(year, period) as integers after checking that the indicator has such a period and that it
    has ended by `today`; ValidationFailed naming `year` or `period` otherwise."""
    year, period = _whole(year, field_name="year"), _whole(period, field_name="period")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationFailed(
            _("The year must be between %(first)d and %(last)d.") % {"first": FIRST_YEAR, "last": LAST_YEAR},
            field="year",
        )
    periods = PERIODS_PER_YEAR[PeriodType(indicator.period_type)]
    if not 1 <= period <= periods:
        raise ValidationFailed(
            _("%(indicator)s is reported %(kind)s: the period must be between 1 and %(count)d.")
            % {"indicator": indicator.name, "kind": indicator.get_period_type_display(), "count": periods},
            field="period",
        )
    if period_end(indicator.period_type, year, period) >= today:
        raise ValidationFailed(
            _("This period has not ended yet (it ends on %(date)s); its figures cannot be known.")
            % {"date": period_end(indicator.period_type, year, period).isoformat()},
            field="period",
        )
    return year, period


def check_growth(growth: Decimal | None, *, field_name: str) -> None:
    if growth is not None and growth <= -100:
        raise ValidationFailed(_("A growth rate must be above −100%."), field=field_name)


# -- definitions ---------------------------------------------------------------------------------------


def _clean_indicator(data: dict[str, Any], *, instance: Indicator | None) -> dict[str, Any]:
    cleaned = {name: data[name] for name in INDICATOR_FIELDS if name in data}
    errors: dict[str, list[str]] = {}
    for name in ("code", "name", "unit"):
        if name in cleaned or instance is None:
            cleaned[name] = " ".join(str(cleaned.get(name) or "").split())
            if not cleaned[name]:
                errors[name] = [_("This field is required.")]
    if cleaned.get("code") and not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", cleaned["code"]):
        errors["code"] = [_("Use lower-case letters, digits, - and _ (at most 40).")]
    elif cleaned.get("code") in RESERVED_CODES:
        errors["code"] = [_("“%(code)s” names a page of its own; choose another code.") % {"code": cleaned["code"]}]
    if "period_type" in cleaned and cleaned["period_type"] not in PeriodType.values:
        errors["period_type"] = [_("Choose monthly, quarterly or yearly.")]
    if "group" in cleaned and cleaned["group"] not in Group.values:
        errors["group"] = [_("Choose one of the groups.")]
    others = Indicator.objects.exclude(pk=instance.pk) if instance else Indicator.objects.all()
    if cleaned.get("code") and others.filter(code=cleaned["code"]).exists():
        errors["code"] = [_("Another indicator has this code.")]
    names = [cleaned["name"]] if cleaned.get("name") else []
    aliases = cleaned.get("aliases", instance.aliases if instance else "")
    cleaned_aliases = [line.strip() for line in str(aliases or "").splitlines() if line.strip()]
    if "aliases" in cleaned:
        cleaned["aliases"] = "\n".join(cleaned_aliases)
    taken = {}
    for other in others:
        for known in [other.name, *other.alias_list()]:
            taken[name_key(known)] = other.name
    for name in [*names, *cleaned_aliases]:
        if name_key(name) in taken:
            field_name = "name" if name in names else "aliases"
            errors.setdefault(field_name, []).append(
                _("“%(name)s” already names %(other)s.") % {"name": name, "other": taken[name_key(name)]}
            )
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


def indicator_create(*, actor: User | None, data: dict[str, Any], is_demo: bool = False) -> Indicator:
    """Define an indicator (code, name, unit, period, cumulative or level, direction, group …)."""
    _require_editor(actor)
    cleaned = _clean_indicator(data, instance=None)
    with transaction.atomic():
        indicator = Indicator.objects.create(is_demo=is_demo, **cleaned)
        audit_record(actor=actor, action="indicators.indicator.created", obj=indicator,
                     changes=diff({}, snapshot(indicator, INDICATOR_FIELDS)))
    return indicator


def indicator_update(*, actor: User | None, indicator: Indicator, data: dict[str, Any]) -> Indicator:
    """Change a definition. The period type cannot change once values exist (they would mean
    something else)."""
    _require_editor(actor)
    cleaned = _clean_indicator(data, instance=indicator)
    if (
        cleaned.get("period_type", indicator.period_type) != indicator.period_type
        and indicator.values.exists()
    ):
        raise ValidationFailed(
            _("The period cannot change once values have been entered."), field="period_type"
        )
    with transaction.atomic():
        locked = Indicator.objects.select_for_update().get(pk=indicator.pk)
        before = snapshot(locked, INDICATOR_FIELDS)
        for name, value in cleaned.items():
            setattr(locked, name, value)
        locked.save()
        changes = diff(before, snapshot(locked, INDICATOR_FIELDS))
        if changes:
            audit_record(actor=actor, action="indicators.indicator.updated", obj=locked, changes=changes)
    return locked


# -- values --------------------------------------------------------------------------------------------


def _clean_value_numbers(indicator: Indicator, data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    labels = {"value": _("Value"), "period_value": _("This period"), "source_growth": _("Published growth (%)")}
    for name, label in labels.items():
        try:
            cleaned[name] = parse_number(data.get(name), label=str(label), field_name=name,
                                         percent=name == "source_growth")
        except ValidationFailed as error:
            errors.update(error.fields)
    if "value" not in errors and cleaned["value"] is None:
        errors["value"] = [_("This field is required.")]
    if "source_growth" not in errors:
        try:
            check_growth(cleaned["source_growth"], field_name="source_growth")
        except ValidationFailed as error:
            errors.update(error.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    cleaned["source"] = str(data.get("source") or "")[:200]
    cleaned["note"] = str(data.get("note") or "")[:200]
    return cleaned


def value_record(
    *,
    actor: User | None,
    indicator: Indicator,
    year: Any,
    period: Any,
    data: dict[str, Any],
    today: dt.date | None = None,
    is_demo: bool = False,
) -> IndicatorValue:
    """Enter (or correct) one period's figure: `data` has value (累计 for a cumulative indicator,
    the level otherwise), optional period_value (本月), source_growth (同比 % as published), source
    and note. The period must exist for the indicator and have ended."""
    _require_editor(actor)
    today = today or timezone.localdate()
    year, period = check_period(indicator, year, period, today=today)
    cleaned = _clean_value_numbers(indicator, data)
    with transaction.atomic():
        existing = IndicatorValue.objects.select_for_update().filter(indicator=indicator, year=year, period=period)
        row = existing.first()
        before = snapshot(row, VALUE_FIELDS) if row else {}
        if row is None:
            row = IndicatorValue(indicator=indicator, year=year, period=period, is_demo=is_demo)
        for name, value in cleaned.items():
            setattr(row, name, value)
        row.entered_by = _creator(actor)
        row.save()
        row.refresh_from_db()  # the stored figures (4 decimal places), as `before` was read
        changes = diff(before, snapshot(row, VALUE_FIELDS))
        if changes:
            action = "indicators.value.updated" if before else "indicators.value.recorded"
            audit_record(actor=actor, action=action, obj=row, changes=changes)
    return row


def value_delete(*, actor: User | None, value: IndicatorValue) -> None:
    """Remove a figure entered by mistake (audited with what it was)."""
    _require_editor(actor)
    with transaction.atomic():
        audit_record(actor=actor, action="indicators.value.deleted", obj=value,
                     changes={name: [old, None] for name, old in snapshot(value, VALUE_FIELDS).items()})
        value.delete()


# -- targets -------------------------------------------------------------------------------------------


def target_set(
    *, actor: User | None, indicator: Indicator, year: Any, data: dict[str, Any], is_demo: bool = False
) -> Target:
    """Set (or change) an indicator's target for a year: a value, a growth rate in per cent, or
    both; the growth must be above −100%."""
    _require_editor(actor)
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ValidationFailed(_("The year must be a whole number."), field="year") from None
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationFailed(
            _("The year must be between %(first)d and %(last)d.") % {"first": FIRST_YEAR, "last": LAST_YEAR},
            field="year",
        )
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name, label, percent in (("value", _("Target value"), False), ("growth", _("Target growth (%)"), True)):
        try:
            cleaned[name] = parse_number(data.get(name), label=str(label), field_name=name, percent=percent)
        except ValidationFailed as error:
            errors.update(error.fields)
    if "growth" not in errors:
        try:
            check_growth(cleaned["growth"], field_name="growth")
        except ValidationFailed as error:
            errors.update(error.fields)
    if not errors and cleaned["value"] is None and cleaned["growth"] is None:
        errors["value"] = [_("Give a target value, a target growth rate, or both.")]
    if errors:
        raise ValidationFailed(fields=errors)
    cleaned["note"] = str(data.get("note") or "")[:200]
    with transaction.atomic():
        target = Target.objects.select_for_update().filter(indicator=indicator, year=year).first()
        before = snapshot(target, TARGET_FIELDS) if target else {}
        if target is None:
            target = Target(indicator=indicator, year=year, is_demo=is_demo)
        for name, value in cleaned.items():
            setattr(target, name, value)
        target.set_by = _creator(actor)
        target.save()
        target.refresh_from_db()  # the stored figures, as `before` was read
        changes = diff(before, snapshot(target, TARGET_FIELDS))
        if changes:
            audit_record(actor=actor, action="indicators.target.set", obj=target, changes=changes)
    return target


def target_delete(*, actor: User | None, target: Target) -> None:
    """Remove a year's target (audited with what it was)."""
    _require_editor(actor)
    with transaction.atomic():
        audit_record(actor=actor, action="indicators.target.deleted", obj=target,
                     changes={name: [old, None] for name, old in snapshot(target, TARGET_FIELDS).items()})
        target.delete()


# -- the statistics bureau's sheet ---------------------------------------------------------------------

NAME = "指标"
UNIT = "单位"
CURRENT = "本月"
CUMULATIVE = "累计"
GROWTH = "同比增长(%)"
CURRENT_GROWTH = "本月同比(%)"
CUMULATIVE_GROWTH = "累计同比(%)"
SHEET_HEADERS = [NAME, UNIT, CURRENT, CUMULATIVE, GROWTH]
HEADER_ALIASES = {
    NAME: ["指标", "指标名称", "项目", "指标名"],
    UNIT: ["单位", "计量单位"],
    CURRENT: ["本月", "当月", "本月数", "本季", "本期", "本月完成"],
    CUMULATIVE: ["累计", "本月止累计", "本年累计", "累计数", "累计完成", "1-本月累计", "本季止累计"],
    GROWTH: ["同比增长(%)", "同比增长", "同比(%)", "同比", "增长(%)", "同比增减(%)", "增速(%)", "比上年同期增长(%)"],
    CURRENT_GROWTH: ["本月同比(%)", "本月同比", "当月同比(%)", "当月增长(%)", "本月增长(%)"],
    CUMULATIVE_GROWTH: ["累计同比(%)", "累计同比", "累计增长(%)", "累计增速(%)"],
}
_HEADER_LOOKUP = {name_key(alias): header for header, aliases in HEADER_ALIASES.items() for alias in aliases}
TITLE_MONTH = re.compile(r"(20\d\d)\s*年\s*(?:1\s*[-—–~至到]\s*)?(\d{1,2})\s*月")


@dataclass(frozen=True)
class RowError:
    """One problem in the sheet: the Excel row, the column and why."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return _("Row %(row)d, %(column)s: %(message)s") % {"row": self.row, "column": self.column,
                                                            "message": self.message}


@dataclass
class PlannedValue:
    """What one good row writes: the indicator's value for the period, and what it replaces."""

    row: int
    indicator: Indicator
    year: int
    period: int
    data: dict[str, Any]
    previous: Decimal | None


@dataclass
class ValueImportReport:
    """The outcome of an import or its dry run: the month read, the values that would be (or were)
    written, the heading rows skipped, every problem, the unknown names, and whether anything was written."""

    dry_run: bool
    year: int = 0
    month: int = 0
    rows: list[PlannedValue] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    unknown_names: list[str] = field(default_factory=list)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def created(self) -> int:
        return sum(1 for row in self.rows if row.previous is None)

    @property
    def updated(self) -> int:
        return len(self.rows) - self.created


def _month_from_title(above: list[list[Any]]) -> tuple[int, int] | None:
    for cells in above:
        for cell in cells:
            found = TITLE_MONTH.search(unicodedata.normalize("NFKC", str(cell or "")))
            if found:
                return int(found.group(1)), int(found.group(2))
    return None


def _sheet_period(indicator: Indicator, year: int, month: int) -> int | None:
    """The indicator's period that a month's sheet reports: the month, the quarter it closes, or the
    year when it is December; None when the month closes no period of the indicator."""
    kind = PeriodType(indicator.period_type)
    if kind == PeriodType.MONTH:
        return month
    if kind == PeriodType.QUARTER:
        return month // 3 if month % 3 == 0 else None
    return 1 if month == 12 else None


class _IndicatorLookup:
    def __init__(self) -> None:
        self.by_key: dict[str, Indicator] = {}
        for indicator in Indicator.objects.filter(is_active=True):
            for name in [indicator.name, indicator.code, *indicator.alias_list()]:
                self.by_key.setdefault(name_key(name), indicator)

    def get(self, text: str) -> Indicator | None:
        key = name_key(text)
        return self.by_key.get(key) or self.by_key.get(re.sub(r"^[一二三四五六七八九十]+、|^\d+[.、]", "", key))


def _plan(table, *, year: int, month: int) -> ValueImportReport:
    report = ValueImportReport(dry_run=True, year=year, month=month)
    lookup = _IndicatorLookup()
    columns = table.columns
    seen: dict[int, int] = {}
    labels = {CURRENT: CURRENT, CUMULATIVE: CUMULATIVE, GROWTH: GROWTH, CURRENT_GROWTH: CURRENT_GROWTH,
              CUMULATIVE_GROWTH: CUMULATIVE_GROWTH}

    def cell(values: list[Any], header: str) -> Any:
        index = columns.get(header)
        return values[index] if index is not None and index < len(values) else None

    planned: list[tuple[int, Indicator, int, dict[str, Any]]] = []
    for number, values in table.body:
        name = " ".join(str(cell(values, NAME) or "").split())
        numbers: dict[str, Decimal | None] = {}
        errors = []
        for header in labels:
            try:
                numbers[header] = parse_number(cell(values, header), label=header, field_name=header,
                                               percent=header in (GROWTH, CURRENT_GROWTH, CUMULATIVE_GROWTH))
            except ValidationFailed as error:
                numbers[header] = None
                errors.append(RowError(number, header, str(error.fields[header][0])))
        if not errors and all(value is None for value in numbers.values()):
            report.skipped.append(number)  # a heading such as 一、工业, or nothing reported this month
            continue
        if not name:
            report.errors.append(RowError(number, NAME, _("This field is required.")))
            continue
        indicator = lookup.get(name)
        if indicator is None:
            report.unknown_names.append(name)
            report.errors.append(RowError(number, NAME, _("No indicator has this name or code.")))
            continue
        report.errors.extend(errors)
        if errors:
            continue
        unit = " ".join(str(cell(values, UNIT) or "").split())
        if unit and name_key(unit) != name_key(indicator.unit):
            report.errors.append(RowError(
                number, UNIT,
                _("%(indicator)s is kept in %(unit)s, not %(given)s.")
                % {"indicator": indicator.name, "unit": indicator.unit, "given": unit},
            ))
            continue
        period = _sheet_period(indicator, year, month)
        if period is None:
            report.errors.append(RowError(
                number, NAME,
                _("%(indicator)s is reported %(kind)s; month %(month)d closes none of its periods.")
                % {"indicator": indicator.name, "kind": indicator.get_period_type_display(), "month": month},
            ))
            continue
        if indicator.pk in seen:
            repeated = _("Repeats row %(row)d of this file.") % {"row": seen[indicator.pk]}
            report.errors.append(RowError(number, NAME, repeated))
            continue
        seen[indicator.pk] = number
        growth_value = numbers[CUMULATIVE_GROWTH if indicator.cumulative else CURRENT_GROWTH]
        if growth_value is None:
            growth_value = numbers[GROWTH]
        if growth_value is not None and growth_value <= -100:
            report.errors.append(RowError(number, GROWTH, _("A growth rate must be above −100%.")))
            continue
        planned.append((number, indicator, period, {
            "current": numbers[CURRENT], "cumulative": numbers[CUMULATIVE], "source_growth": growth_value,
        }))

    existing = {
        (v.indicator_id, v.period): v
        for v in IndicatorValue.objects.filter(year=year, indicator__in=[p[1] for p in planned])
    }
    for number, indicator, period, numbers in planned:
        current, cumulative = numbers["current"], numbers["cumulative"]
        if indicator.cumulative:
            value = cumulative
            if value is None and current is not None:
                if period == 1:
                    value = current
                elif (indicator.pk, period - 1) in existing:
                    value = existing[(indicator.pk, period - 1)].value + current
            if value is None:
                report.errors.append(RowError(
                    number, CUMULATIVE,
                    _("%(indicator)s is cumulative: give the year-to-date figure (or enter last period's first).")
                    % {"indicator": indicator.name},
                ))
                continue
            period_value = current
        else:
            value = current if current is not None else cumulative
            period_value = None
            if value is None:
                report.errors.append(RowError(number, CURRENT, _("This field is required.")))
                continue
        previous = existing.get((indicator.pk, period))
        report.rows.append(PlannedValue(
            row=number, indicator=indicator, year=year, period=period,
            data={"value": value, "period_value": period_value, "source_growth": numbers["source_growth"]},
            previous=previous.value if previous else None,
        ))
    return report


def values_import(
    *,
    actor: User | None,
    file,
    year: int | None = None,
    month: int | None = None,
    dry_run: bool,
    source: str = "",
    today: dt.date | None = None,
) -> ValueImportReport:
    """Import one month's sheet in the statistics bureau's layout (指标, 单位, 本月, 累计, 同比增长(%) …,
    title rows above the header allowed). The month is the one given, or the one the title names
    (2019年1-6月…). Rows without numbers (section headings) are skipped; a quarterly indicator is
    taken from the sheet of a quarter's last month. Every row is checked and every problem reported
    by row and column, unknown indicator names listed together; nothing is written while any row is
    bad (or on a dry run); otherwise every value is written in one transaction, each audited."""
    _require_editor(actor)
    today = today or timezone.localdate()
    table = read_header_table(file, canonical=lambda cell: _HEADER_LOOKUP.get(name_key(cell)), key_header=NAME)
    if not (CURRENT in table.columns or CUMULATIVE in table.columns):
        raise ValidationFailed(
            _("The header row needs a “%(current)s” or a “%(cumulative)s” column.")
            % {"current": CURRENT, "cumulative": CUMULATIVE},
            field="file",
        )
    if year is None or month is None:
        found = _month_from_title(table.above)
        if found is None:
            raise ValidationFailed(_("Give the month: the sheet's title does not name it."), field="month")
        year, month = year or found[0], month or found[1]
    try:
        year, month = int(year), int(month)
    except (TypeError, ValueError):
        raise ValidationFailed(_("The year and the month must be whole numbers."), field="month") from None
    if not (FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12):
        raise ValidationFailed(_("There is no such month."), field="month")
    if period_end(PeriodType.MONTH, year, month) >= today:
        raise ValidationFailed(
            _("%(year)d-%(month)02d has not ended yet; its figures cannot be known.") % {"year": year, "month": month},
            field="month",
        )
    report = _plan(table, year=year, month=month)
    if report.unknown_names:
        report.errors.insert(0, RowError(
            table.header_row, NAME,
            _("Unknown indicators: %(names)s. Define them first or add the names as other names of an indicator.")
            % {"names": "、".join(report.unknown_names)},
        ))
    report.dry_run = dry_run
    if dry_run or report.errors:
        return report
    with transaction.atomic():
        for planned in report.rows:
            value_record(
                actor=actor, indicator=planned.indicator, year=planned.year, period=planned.period,
                data={**planned.data, "source": source or _("Excel import")}, today=today,
            )
    report.written = True
    return report


def sheet_template_workbook() -> bytes:
    """An empty sheet in the bureau's layout listing every active indicator, for a month's figures."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "主要经济指标"
    sheet.append(["荷塘区 年 月主要经济指标"])
    sheet.append(SHEET_HEADERS)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for indicator in Indicator.objects.filter(is_active=True):
        sheet.append([indicator.name, indicator.unit, None, None, None])
    sheet.column_dimensions["A"].width = 28
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

