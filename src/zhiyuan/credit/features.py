"""From the feeds to one row of numbers per firm: the scorecard's variables, the knock-out rules and
the reason codes that put a firm's points into words.

`build_features(as_of)` reads each feed once for all the firms (a handful of queries whatever their
number) and computes, as of a date, only from records that still count on that date (adverse
records past their retention or disclosure period are ignored even before the purge removes them):

| variable | what | default rate expected to |
|---|---|---|
| age_years | years since establishment | fall as it grows |
| tax_grade | latest 纳税信用等级 as A=5 … D=1 | fall |
| tax_growth | tax paid in the latest year vs the year before, % | fall |
| headcount | insured staff in the latest month of the last three | fall |
| headcount_change | insured staff now vs 12 months earlier, % | fall |
| electricity_change | electricity of the last 3 months vs the same months a year earlier, % | fall |
| overdue_events | late instalments due in the last 24 months | rise |
| max_overdue_days | the longest of them, days | rise |
| court_cases | judgments and enforcement cases filed in the last 36 months | rise |
| penalties | ordinary or serious penalties still disclosed | rise |
| honours | honours valid on the date | fall |

Reason codes are stable identifiers (stored with the score); their wording is produced when shown,
in the reader's language (`reason_text`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _

from zhiyuan.credit.models import (
    CourtKind,
    CourtRecord,
    HeadcountRecord,
    HonourRecord,
    PenaltyRecord,
    PenaltySeverity,
    RepaymentRecord,
    TaxRecord,
    UtilityRecord,
)
from zhiyuan.credit.scorecard import GRADES, Variable
from zhiyuan.enterprises.models import Enterprise

TAX_GRADE_VALUE = {"A": 5, "B": 4, "M": 3, "C": 2, "D": 1}
TAX_VALUE_GRADE = {value: grade for grade, value in TAX_GRADE_VALUE.items()}


@dataclass(frozen=True)
class Feature:
    """A scorecard variable: its name, trend and reason code. `drifts_by_design` marks a variable
    whose distribution moves on its own as time passes (a fixed set of firms grows older): its PSI
    is shown but does not raise the drift alert."""

    name: str
    trend: str  # default rate "ascending" or "descending" as the value grows
    code: str
    drifts_by_design: bool = False

    def variable(self) -> Variable:
        return Variable(self.name, "numerical", self.trend)


FEATURES: list[Feature] = [
    Feature("age_years", "descending", "AGE", drifts_by_design=True),
    Feature("tax_grade", "descending", "TAX_GRADE"),
    Feature("tax_growth", "descending", "TAX_GROWTH"),
    Feature("headcount", "descending", "HEADCOUNT"),
    Feature("headcount_change", "descending", "HEADCOUNT_CHANGE"),
    Feature("electricity_change", "descending", "ELECTRICITY_CHANGE"),
    Feature("overdue_events", "ascending", "OVERDUE"),
    Feature("max_overdue_days", "ascending", "OVERDUE_DAYS"),
    Feature("court_cases", "ascending", "COURT"),
    Feature("penalties", "ascending", "PENALTY"),
    Feature("honours", "descending", "HONOURS"),
]
FEATURE_BY_NAME = {feature.name: feature for feature in FEATURES}


@dataclass(frozen=True)
class Knockout:
    """A rule that caps the grade whatever the points: its code and the best grade it allows."""

    code: str
    cap: str


# In order of severity: when several apply, the first one is the one reported.
KNOCKOUTS: list[Knockout] = [
    Knockout("KO_DISHONEST", "C"),
    Knockout("KO_OVERDUE_90", "CC"),
    Knockout("KO_TAX_D", "CC"),
    Knockout("KO_SERIOUS_PENALTY", "CCC"),
]
KNOCKOUT_BY_CODE = {rule.code: rule for rule in KNOCKOUTS}
KNOCKOUT_FLAGS = {
    "KO_DISHONEST": "dishonest_listed",
    "KO_OVERDUE_90": "overdue_90_open",
    "KO_TAX_D": "tax_grade_d",
    "KO_SERIOUS_PENALTY": "serious_penalty",
}


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month `months` away from `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _pct_change(now: float | None, before: float | None) -> float | None:
    if now is None or before is None or before <= 0:
        return None
    return round((now - before) / before * 100, 1)


def _chunks(ids: list[int], size: int = 900) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _rows(
    queryset, fields: tuple[str, ...], enterprise_ids: list[int] | None, field: str = "enterprise_id"
) -> Iterable[tuple]:
    if enterprise_ids is None:
        yield from queryset.values_list(*fields).iterator(chunk_size=20000)
        return
    for chunk in _chunks(enterprise_ids):
        yield from queryset.filter(**{f"{field}__in": chunk}).values_list(*fields)


def build_features(as_of: dt.date, enterprise_ids: list[int] | None = None) -> pd.DataFrame:
    """One row per firm (index: enterprise id) with every variable and the knock-out flags, as of
    `as_of`. Firms: the given ids, or every firm in the registry."""
    if enterprise_ids is None:
        ids = list(Enterprise.objects.order_by("pk").values_list("pk", flat=True))
    else:
        ids = sorted(set(enterprise_ids))
    columns: dict[str, dict[int, Any]] = defaultdict(dict)

    # Registry: age.
    for pk, established in _rows(Enterprise.objects.all(), ("pk", "established_on"), enterprise_ids, "pk"):
        if established and established <= as_of:
            columns["age_years"][pk] = round((as_of - established).days / 365.25, 2)

    # Tax: the latest year before the current one carries the grade; growth against the year before it.
    tax: dict[int, dict[int, tuple[str, float | None]]] = defaultdict(dict)
    for pk, year, grade, paid in _rows(
        TaxRecord.objects.filter(year__lt=as_of.year), ("enterprise_id", "year", "grade", "tax_paid"), enterprise_ids
    ):
        tax[pk][year] = (grade, float(paid) if paid is not None else None)
    for pk, years in tax.items():
        latest = max(years)
        grade, paid = years[latest]
        if grade:
            columns["tax_grade"][pk] = TAX_GRADE_VALUE[grade]
            if grade == "D":
                columns["tax_grade_d"][pk] = 1
        before = years.get(latest - 1)
        growth = _pct_change(paid, before[1] if before else None)
        if growth is not None:
            columns["tax_growth"][pk] = growth

    # Social-insurance headcount: the latest month of the last three, against 12 months before it.
    this_month = month_start(as_of)
    earliest = add_months(this_month, -14)
    headcounts: dict[int, dict[dt.date, int]] = defaultdict(dict)
    for pk, month, headcount in _rows(
        HeadcountRecord.objects.filter(month__gte=earliest, month__lte=this_month),
        ("enterprise_id", "month", "headcount"),
        enterprise_ids,
    ):
        headcounts[pk][month] = headcount
    recent_floor = add_months(this_month, -2)
    for pk, months in headcounts.items():
        recent = [month for month in months if month >= recent_floor]
        if not recent:
            continue
        latest = max(recent)
        columns["headcount"][pk] = months[latest]
        change = _pct_change(months[latest], months.get(add_months(latest, -12)))
        if change is not None:
            columns["headcount_change"][pk] = change

    # Electricity: the last three complete months against the same three a year earlier.
    last = add_months(this_month, -1)
    window = [add_months(last, -k) for k in range(3)]
    year_before = [add_months(month, -12) for month in window]
    electricity: dict[int, dict[dt.date, float]] = defaultdict(dict)
    for pk, month, kwh in _rows(
        UtilityRecord.objects.filter(month__in=window + year_before, electricity_kwh__isnull=False),
        ("enterprise_id", "month", "electricity_kwh"),
        enterprise_ids,
    ):
        electricity[pk][month] = float(kwh)
    for pk, months in electricity.items():
        if all(month in months for month in window + year_before):
            change = _pct_change(sum(months[m] for m in window), sum(months[m] for m in year_before))
            if change is not None:
                columns["electricity_change"][pk] = change

    # Repayments: late instalments due in the last 24 months; an instalment more than 90 days past due
    # and still unpaid on the date is a knock-out.
    since = add_months(this_month, -24)
    late = Q(overdue_days__gt=0) | Q(paid_on__isnull=True) | Q(paid_on__gt=as_of)
    counting = Q(retain_until__isnull=True) | Q(retain_until__gte=as_of)
    for pk, due, paid, overdue in _rows(
        RepaymentRecord.objects.filter(late, counting, due_on__gt=since, due_on__lte=as_of),
        ("enterprise_id", "due_on", "paid_on", "overdue_days"),
        enterprise_ids,
    ):
        open_days = (as_of - due).days if paid is None or paid > as_of else 0
        days = max(overdue if paid is not None and paid <= as_of else 0, open_days)
        if days <= 0:
            continue
        columns["overdue_events"][pk] = columns["overdue_events"].get(pk, 0) + 1
        columns["max_overdue_days"][pk] = max(columns["max_overdue_days"].get(pk, 0), days)
        if open_days > 90:
            columns["overdue_90_open"][pk] = 1

    # Court records: judgments and enforcement cases of the last 36 months; a live 失信 listing.
    court_since = add_months(this_month, -36)
    for pk, kind, filed, listed, delisted in _rows(
        CourtRecord.objects.filter(Q(retain_until__isnull=True) | Q(retain_until__gte=as_of), filed_on__lte=as_of),
        ("enterprise_id", "kind", "filed_on", "listed_on", "delisted_on"),
        enterprise_ids,
    ):
        if kind == CourtKind.DISHONEST:
            start = listed or filed
            if start <= as_of and (delisted is None or delisted > as_of):
                columns["dishonest_listed"][pk] = 1
        elif filed > court_since:
            columns["court_cases"][pk] = columns["court_cases"].get(pk, 0) + 1

    # Penalties still disclosed on the date (minor ones are not disclosed and do not count).
    for pk, severity in _rows(
        PenaltyRecord.objects.filter(decided_on__lte=as_of, disclosed_until__gte=as_of).exclude(
            severity=PenaltySeverity.MINOR
        ),
        ("enterprise_id", "severity"),
        enterprise_ids,
    ):
        columns["penalties"][pk] = columns["penalties"].get(pk, 0) + 1
        if severity == PenaltySeverity.SERIOUS:
            columns["serious_penalty"][pk] = 1

    # Honours valid on the date.
    for (pk,) in _rows(
        HonourRecord.objects.filter(Q(expires_on__isnull=True) | Q(expires_on__gte=as_of), granted_on__lte=as_of),
        ("enterprise_id",),
        enterprise_ids,
    ):
        columns["honours"][pk] = columns["honours"].get(pk, 0) + 1

    frame = pd.DataFrame(index=pd.Index(ids, name="enterprise_id"))
    for feature in FEATURES:
        values = columns.get(feature.name, {})
        frame[feature.name] = pd.Series(values, dtype=float).reindex(frame.index)
    # Counts are zero, not unknown, when a feed holds no record for the firm.
    for name in ("overdue_events", "max_overdue_days", "court_cases", "penalties", "honours"):
        frame[name] = frame[name].fillna(0.0)
    for flag in KNOCKOUT_FLAGS.values():
        frame[flag] = pd.Series(columns.get(flag, {}), dtype=float).reindex(frame.index).fillna(0).astype(bool)
    return frame


def knockout_of(flags: dict[str, Any]) -> Knockout | None:
    """The most severe knock-out rule a firm's flags trigger, if any."""
    for rule in KNOCKOUTS:
        if flags.get(KNOCKOUT_FLAGS[rule.code]):
            return rule
    return None


def cap_grade(grade: str, rule: Knockout | None) -> str:
    """The worse of the points grade and the knock-out cap."""
    if rule is None:
        return grade
    return GRADES[max(GRADES.index(grade), GRADES.index(rule.cap))]


def clean_value(value: Any) -> float | None:
    """A feature value as stored in JSON: a number, or None for missing."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


# -- wording ------------------------------------------------------------------------------------


def _fmt(value: float) -> str:
    return f"{value:g}" if abs(value) >= 10 or value == int(value) else f"{value:.1f}"


def reason_text(code: str, value: float | None) -> str:
    """The reason code in words, in the active language (e.g. HEADCOUNT_CHANGE, -38 → 近12个月社保缴纳人数下降38%)."""
    if code in KNOCKOUT_BY_CODE:
        return {
            "KO_DISHONEST": _("Listed as a dishonest judgment debtor (失信被执行人)"),
            "KO_OVERDUE_90": _("A repayment is more than 90 days overdue and still unpaid"),
            "KO_TAX_D": _("Tax credit grade D"),
            "KO_SERIOUS_PENALTY": _("A serious administrative penalty is still disclosed"),
        }[code]
    if value is None:
        return {
            "AGE": _("Date of establishment unknown"),
            "TAX_GRADE": _("No tax credit grade on record"),
            "TAX_GROWTH": _("No tax paid on record for the last two years"),
            "HEADCOUNT": _("No social-insurance record for the last three months"),
            "HEADCOUNT_CHANGE": _("No social-insurance record from 12 months ago to compare with"),
            "ELECTRICITY_CHANGE": _("No electricity record for the last 15 months to compare"),
        }.get(code, _("No data"))
    amount = _fmt(abs(value))
    if code == "AGE":
        return _("In business for %(years)s years") % {"years": int(value)}
    if code == "TAX_GRADE":
        return _("Tax credit grade %(grade)s") % {"grade": TAX_VALUE_GRADE.get(int(value), "?")}
    if code == "TAX_GROWTH":
        if value < 0:
            return _("Tax paid fell %(pct)s%% on the year before") % {"pct": amount}
        if value == 0:
            return _("Tax paid did not grow on the year before")
        return _("Tax paid grew only %(pct)s%% on the year before") % {"pct": amount}
    if code == "HEADCOUNT":
        return _("Only %(count)s staff covered by social insurance") % {"count": int(value)}
    if code == "HEADCOUNT_CHANGE":
        if value < 0:
            return _("Social-insurance headcount fell %(pct)s%% in the last 12 months") % {"pct": amount}
        if value == 0:
            return _("Social-insurance headcount did not grow in the last 12 months")
        return _("Social-insurance headcount grew only %(pct)s%% in the last 12 months") % {"pct": amount}
    if code == "ELECTRICITY_CHANGE":
        if value < 0:
            return _("Electricity use fell %(pct)s%% on the same months last year") % {"pct": amount}
        if value == 0:
            return _("Electricity use did not grow on the same months last year")
        return _("Electricity use grew only %(pct)s%% on the same months last year") % {"pct": amount}
    if code == "OVERDUE":
        return _("%(count)s late repayments in the last 24 months") % {"count": int(value)}
    if code == "OVERDUE_DAYS":
        return _("A repayment up to %(days)s days late in the last 24 months") % {"days": int(value)}
    if code == "COURT":
        return _("%(count)s court judgments or enforcement cases in the last 36 months") % {"count": int(value)}
    if code == "PENALTY":
        return _("%(count)s administrative penalties still disclosed") % {"count": int(value)}
    if code == "HONOURS":
        if value == 0:
            return _("No current honours (high-tech enterprise, 专精特新 …)")
        return _("%(count)s current honours only") % {"count": int(value)}
    return code


def dropped_text(row: dict[str, Any]) -> str:
    """Why training left a candidate variable out of the model, in the active language."""
    code, value = row.get("code"), row.get("value")
    if code == "no_values":
        return _("no value in the training sample")
    if code == "single_bin":
        return _("all values fall in one bin")
    if code == "weak":
        return _("too little information (IV %(iv).3f)") % {"iv": value}
    if code == "wrong_sign":
        return _("its coefficient (%(coef)+.3f) would make a better bin cost points") % {"coef": value}
    return str(row.get("reason", ""))


def feature_label(name: str) -> str:
    """The variable's name for people, in the active language."""
    return {
        "age_years": _("Years in business"),
        "tax_grade": _("Tax credit grade"),
        "tax_growth": _("Tax paid, change on the year before (%)"),
        "headcount": _("Staff covered by social insurance"),
        "headcount_change": _("Social-insurance headcount, 12-month change (%)"),
        "electricity_change": _("Electricity use, change on a year earlier (%)"),
        "overdue_events": _("Late repayments, last 24 months"),
        "max_overdue_days": _("Longest delay, last 24 months (days)"),
        "court_cases": _("Judgments and enforcement cases, last 36 months"),
        "penalties": _("Administrative penalties still disclosed"),
        "honours": _("Current honours"),
    }.get(name, name)


def retention_defaults() -> dict[str, int]:
    """Days each kind of adverse record counts for (settings; see config/settings.py)."""
    return {
        "overdue": settings.ZHIYUAN_CREDIT_RETAIN_OVERDUE_DAYS,
        "court": settings.ZHIYUAN_CREDIT_RETAIN_COURT_DAYS,
        "dishonest": settings.ZHIYUAN_CREDIT_RETAIN_DISHONEST_DAYS,
        "ordinary_penalty": settings.ZHIYUAN_CREDIT_DISCLOSE_ORDINARY_PENALTY_DAYS,
        "serious_penalty": settings.ZHIYUAN_CREDIT_DISCLOSE_SERIOUS_PENALTY_DAYS,
    }
