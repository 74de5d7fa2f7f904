"""The monthly economic report (经济运行月报): the figures of a month that has ended, gathered from the
indicators and the live panels of the other apps (the same selectors as the leader cockpit, asked as
of the month's last day), a summary paragraph written from them, charts drawn with matplotlib, and the
whole rendered as a Word document and an Excel workbook.

The charts need a font with Chinese characters. `find_cjk_font` takes ZHIYUAN_REPORT_FONT when it is
set, otherwise the first installed font of a known CJK family that has the characters; without one the
report is refused with `ReportFontMissing` rather than drawn with boxes for every character.
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import get_language, gettext_lazy, ngettext, pgettext
from django.utils.translation import gettext as _

from zhiyuan.accounts.models import Role, User
from zhiyuan.core.errors import DomainError, NotFoundError, ValidationFailed
from zhiyuan.indicators import selectors
from zhiyuan.indicators.figures import GrowthBasis, Status
from zhiyuan.indicators.models import Indicator, IndicatorValue, PeriodType, period_end
from zhiyuan.investments import selectors as investments

HUNDRED = Decimal(100)
DPI = 150
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {"docx": DOCX_TYPE, "xlsx": XLSX_TYPE}
FIRST_YEAR = 2000
LAST_YEAR = 2100
TREND_CHARTS = 4  # indicators on the year-on-year trend chart
SUMMARY_INDICATORS = 8  # indicators named in the summary paragraph (the table has them all)

# Characters a font must have to be used for the charts.
CJK_SAMPLE = "经济运行月报荷塘区"
# Installed families tried first, best first; any other installed font with the characters comes after.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Serif CJK SC",
    "Noto Serif SC",
    "Source Han Serif SC",
    "Source Han Serif CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "AR PL UKai CN",
    "SimSun",
    "Noto Sans CJK",
    "Noto Serif CJK",
    "Source Han Sans",
    "Source Han Serif",
)
SIMPLIFIED_MARKS = (" SC", " CN", "GB", "Hans", "YaHei", "SimHei", "SimSun", "WenQuanYi")

STATUS_COLOURS = {
    Status.GOOD: "#2e7d32",
    Status.WATCH: "#f9a825",
    Status.BAD: "#c62828",
    Status.NONE: "#90a4ae",
}
THIS_YEAR_COLOUR = "#1565c0"
LAST_YEAR_COLOUR = "#9e9e9e"


class ReportFontMissing(DomainError):
    """No font with Chinese characters for the report's charts (the server needs one installed)."""

    code = "report_font_missing"
    status = 503
    default_message = gettext_lazy(
        "The monthly report cannot be drawn: no font with Chinese characters is installed. Ask the "
        "administrator to install one (apt-get install fonts-noto-cjk) or to set ZHIYUAN_REPORT_FONT "
        "to a .ttf, .otf or .ttc file with Chinese characters."
    )


# -- the font ------------------------------------------------------------------------------------------


def system_fonts() -> list[tuple[str, Path]]:
    """(family, file) of the fonts installed on this machine: matplotlib's font list, then the fonts
    fontconfig knows for Chinese (which may have been installed after matplotlib built its list)."""
    from matplotlib import font_manager

    found = [(entry.name, Path(entry.fname)) for entry in font_manager.fontManager.ttflist]
    fc_list = shutil.which("fc-list")
    if fc_list:
        try:
            listing = subprocess.run(
                [fc_list, ":lang=zh", "file", "family"], capture_output=True, text=True, timeout=20, check=False
            ).stdout
        except (OSError, subprocess.SubprocessError):
            listing = ""
        for line in listing.splitlines():
            path, _sep, families = line.partition(":")
            if path.strip():
                found.append((families.split(",")[0].strip(), Path(path.strip())))
    return found


def _cjk_face(path: Path) -> int | None:
    """The index of the face in a font file that has every character of CJK_SAMPLE (a simplified
    Chinese face first, in a collection such as NotoSansCJK-Regular.ttc); None when none has them."""
    from matplotlib import ft2font

    try:
        first = ft2font.FT2Font(str(path))
    except (OSError, RuntimeError, ValueError):
        return None
    fallback = None
    for index in range(max(1, getattr(first, "num_faces", 1))):
        if index == 0:
            font = first
        else:
            try:
                font = ft2font.FT2Font(str(path), face_index=index)
            except (OSError, RuntimeError, ValueError, TypeError):
                break
        if not all(font.get_char_index(ord(char)) for char in CJK_SAMPLE):
            continue
        if any(mark in (font.family_name or "") for mark in SIMPLIFIED_MARKS):
            return index
        if fallback is None:
            fallback = index
    return fallback


def _locate_font() -> tuple[Path, int]:
    configured = settings.ZHIYUAN_REPORT_FONT
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise ReportFontMissing(
                _(
                    "ZHIYUAN_REPORT_FONT is set to %(path)s, which does not exist. Point it to a font file "
                    "with Chinese characters, or unset it to use an installed font (apt-get install "
                    "fonts-noto-cjk)."
                )
                % {"path": configured}
            )
        face = _cjk_face(path)
        if face is None:
            raise ReportFontMissing(
                _(
                    "The font %(path)s (ZHIYUAN_REPORT_FONT) has no Chinese characters. Point the setting to "
                    "a font that has them, such as NotoSansCJK-Regular.ttc from fonts-noto-cjk."
                )
                % {"path": configured}
            )
        return path, face
    installed = system_fonts()
    rank = {family.casefold(): position for position, family in enumerate(CJK_FAMILIES)}

    def preference(entry: tuple[str, Path]) -> int:
        name = entry[0].casefold()
        matches = [position for family, position in rank.items() if name == family or name.startswith(family)]
        return min(matches, default=len(CJK_FAMILIES))

    tried: set[Path] = set()
    for _family, path in sorted(installed, key=preference):
        if path in tried:
            continue
        tried.add(path)
        face = _cjk_face(path)
        if face is not None:
            return path, face
    raise ReportFontMissing()


def find_cjk_font() -> Path:
    """The font file the charts are drawn with: ZHIYUAN_REPORT_FONT when set (it must exist and have
    Chinese characters), otherwise the best installed font with Chinese characters. ReportFontMissing
    when there is none, with what to install."""
    return _locate_font()[0]


def _font_properties(path: Path, face: int, *, size: float | None = None, weight: str | None = None) -> Any:
    from matplotlib import font_manager

    font_path = getattr(font_manager, "FontPath", None)
    fname = font_path(str(path), face) if font_path and face else str(path)
    return font_manager.FontProperties(fname=fname, size=size, weight=weight)


# -- the figures ---------------------------------------------------------------------------------------


@dataclass
class IndicatorRow:
    """One line of the indicator table: the indicator's latest figure reported by the month's end.
    Percentages (growth, reached, elapsed) are in per cent."""

    indicator: Indicator
    label: str  # the period, e.g. 2019年1—6月
    current: bool  # the period ends with the report's month
    period_value: Decimal | None  # 本月 / 本季
    value: Decimal | None  # 累计 (cumulative) or the level
    growth: Decimal | None
    growth_basis: str | None
    target: Decimal | None
    target_growth: Decimal | None
    reached: Decimal | None
    elapsed: Decimal | None  # cumulative indicators only
    status: str

    @property
    def name(self) -> str:
        if self.current:
            return self.indicator.name
        return _("%(name)s (%(period)s)") % {"name": self.indicator.name, "period": self.label}

    @property
    def status_label(self) -> str:
        if self.value is None:
            return _("Not reported")
        return str(Status(self.status).label)


@dataclass
class ProjectRow:
    """One key project of the year: plan, completed investment (10k yuan) and share, in per cent."""

    sequence: int
    name: str
    enterprise: str
    plan: Decimal | None
    done: Decimal
    share: Decimal | None
    behind: bool


@dataclass
class Trend:
    """A cumulative indicator's year-to-date values this year (up to the month) and last year."""

    indicator: Indicator
    this_year: list[tuple[int, Decimal]]  # (month, value)
    last_year: list[tuple[int, Decimal]]


@dataclass
class Chart:
    key: str
    title: str
    png: bytes


@dataclass
class MonthlyReport:
    """Everything the report shows for one month, in the language active when it was gathered."""

    year: int
    month: int
    as_of: dt.date
    generated_on: dt.date
    language: str
    district: str
    title: str
    month_label: str
    summary: str
    rows: list[IndicatorRow]
    projects: list[ProjectRow]
    sections: list[tuple[str, list[selectors.Figure]]]
    cockpit: dict[str, Any]
    trends: list[Trend]
    font: Path
    charts: list[Chart] = field(default_factory=list)


def check_month(year: int, month: int, *, today: dt.date | None = None) -> dt.date:
    """The last day of a month that has ended; ValidationFailed (field "month") otherwise."""
    today = today or timezone.localdate()
    if not 1 <= month <= 12 or not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationFailed(
            _("Not a month: %(year)s-%(month)s. Give a year from %(first)d to %(last)d and a month from 1 to 12.")
            % {"year": year, "month": month, "first": FIRST_YEAR, "last": LAST_YEAR},
            field="month",
        )
    as_of = dt.date(year, month, calendar.monthrange(year, month)[1])
    if as_of >= today:
        raise ValidationFailed(
            _("%(year)d-%(month)02d has not ended yet: the report for a month can be made from the day after it ends.")
            % {"year": year, "month": month},
            field="month",
        )
    return as_of


def monthly_figures(*, user: User, year: int, month: int, today: dt.date | None = None) -> MonthlyReport:
    """The figures of the monthly report for a month that has ended (as of its last day), with the
    summary paragraph and the charts; district staff only. ValidationFailed (field "month") for a
    month that has not ended, ReportFontMissing when no font can draw the charts."""
    selectors.require_view(user)
    as_of = check_month(year, month, today=today)
    font_path, face = _locate_font()
    cockpit = selectors.cockpit(user=user, as_of=as_of)
    cards = selectors.cards(as_of=as_of, cockpit_only=False)
    rows = _indicator_rows(cards, as_of)
    behind = {listing.pk for listing, _progress in cockpit["projects"]["behind"]}
    projects = [
        ProjectRow(
            sequence=listing.sequence,
            name=listing.project.name,
            enterprise=listing.project.enterprise.name if listing.project.enterprise_id else "",
            plan=progress.plan,
            done=progress.done,
            share=progress.share * HUNDRED if progress.share is not None else None,
            behind=listing.pk in behind,
        )
        for listing, progress in investments.key_projects(year, user=user, today=as_of)
    ]
    district = settings.ZHIYUAN_DISTRICT_NAME
    month_label = _("%(year)d-%(month)02d") % {"year": year, "month": month}
    report = MonthlyReport(
        year=year,
        month=month,
        as_of=as_of,
        generated_on=timezone.localdate(),
        language=translation.get_language() or settings.LANGUAGE_CODE,
        district=district,
        title=_("%(district)s monthly economic report (%(month)s)") % {"district": district, "month": month_label},
        month_label=month_label,
        summary=_summary(rows, cockpit, projects, as_of),
        rows=rows,
        projects=projects,
        sections=[
            (_("Investment projects"), cockpit["projects"]["figures"]),
            (_("Approvals"), cockpit["approvals"]["figures"]),
            (_("Enterprise services"), cockpit["services"]["figures"]),
            (_("Financing"), cockpit["financing"]["figures"]),
            (_("Industry chains"), cockpit["chains"]["figures"]),
        ],
        cockpit=cockpit,
        trends=_trends(rows, as_of),
        font=font_path,
    )
    report.charts = draw_charts(report, face=face)
    return report


def _indicator_rows(cards: list[selectors.Card], as_of: dt.date) -> list[IndicatorRow]:
    # The period before each card's, for the month's own figure of a cumulative indicator where the
    # source gave only the year-to-date total: one query.
    wanted = {(card.indicator.pk, card.year, card.period - 1) for card in cards if card.period > 1}
    earlier = {
        (row.indicator_id, row.year, row.period): row.value
        for row in IndicatorValue.objects.filter(
            indicator__in=[card.indicator for card in cards], year__in={card.year for card in cards}
        ).only("indicator_id", "year", "period", "value")
        if (row.indicator_id, row.year, row.period) in wanted
    }
    rows = []
    for card in cards:
        indicator = card.indicator
        value = card.value.value if card.value else None
        period_value = card.value.period_value if card.value else None
        if period_value is None and value is not None and indicator.cumulative:
            if card.period == 1:
                period_value = value
            elif (indicator.pk, card.year, card.period - 1) in earlier:
                period_value = value - earlier[(indicator.pk, card.year, card.period - 1)]
        progress = card.progress
        rows.append(
            IndicatorRow(
                indicator=indicator,
                label=card.label,
                current=period_end(indicator.period_type, card.year, card.period) == as_of,
                period_value=period_value,
                value=value,
                growth=card.growth,
                growth_basis=card.growth_basis,
                target=progress.target,
                target_growth=card.target.growth if card.target else None,
                reached=progress.reached * HUNDRED if progress.reached is not None else None,
                elapsed=progress.elapsed * HUNDRED if indicator.cumulative else None,
                status=progress.status,
            )
        )
    return rows


def _by_month(indicator: Indicator, points: list[selectors.Point], as_of: dt.date) -> list[tuple[int, Decimal]]:
    """(month the period ends in, value) of the points reported by `as_of`."""
    step = 12 // indicator.periods_per_year
    return [
        (point.period * step, point.value)
        for point in points
        if period_end(indicator.period_type, point.year, point.period) <= as_of
    ]


def _trends(rows: list[IndicatorRow], as_of: dt.date) -> list[Trend]:
    candidates = [
        row.indicator
        for row in rows
        if row.value is not None and row.current and row.indicator.cumulative
        and row.indicator.period_type != PeriodType.YEAR
    ]
    ordered = [i for i in candidates if i.on_cockpit] + [i for i in candidates if not i.on_cockpit]
    trends = []
    for indicator in ordered:
        series = selectors.series(indicator, years=range(as_of.year - 1, as_of.year + 1))
        trend = Trend(
            indicator=indicator,
            this_year=_by_month(indicator, series.get(as_of.year, []), as_of),
            last_year=_by_month(indicator, series.get(as_of.year - 1, []), as_of),
        )
        if trend.last_year:  # a trend without last year's values compares nothing
            trends.append(trend)
        if len(trends) == TREND_CHARTS:
            break
    return trends


# -- the summary paragraph -----------------------------------------------------------------------------


def _number(value: Any, decimals: int = 2) -> str:
    """Thousands separated, rounded half up (四舍五入) as statistics are."""
    if value is None:
        return "—"
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return f"{rounded:,.{decimals}f}"


def _amount(value: Any, *, scale_from: Any = None) -> str:
    """An amount kept in 万元 as the summary writes it, with its unit: in 亿元 from 1亿元 up (judged on
    `scale_from` when given, so a part and its whole share a unit), in 万元 below."""
    value = Decimal(value or 0)
    if abs(Decimal(scale_from if scale_from is not None else value)) >= 10000:
        return _("%(number)s 100 million yuan") % {"number": _number(value / 10000)}
    return _("%(number)s 10k yuan") % {"number": _number(value)}


def _percent(value: Decimal | None) -> str:
    return _number(value, 1)


def _figure_text(figure: selectors.Figure) -> str:
    """A cockpit figure as the report prints it: rates (unit %) in per cent, money with two decimals."""
    value = figure.value
    if value is None:
        return "—"
    if figure.unit == "%":
        return _percent(Decimal(value) * HUNDRED)
    if isinstance(value, Decimal):
        return _number(value, 2)
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _figure_map(panel: dict[str, Any]) -> dict[str, selectors.Figure]:
    return {figure.key: figure for figure in panel["figures"]}


def _join(clauses: Iterable[str]) -> str:
    return pgettext("report summary: between the clauses of a sentence", ", ").join(clauses)


def _sentence(clauses: list[str]) -> str:
    return _("%(clauses)s.") % {"clauses": _join(clauses)}


def _indicator_clauses(row: IndicatorRow, *, with_period: bool) -> list[str]:
    indicator = row.indicator
    figures = {
        "name": indicator.name,
        "period": row.label,
        "value": _number(row.value, indicator.decimals),
        "unit": indicator.unit,
    }
    if indicator.cumulative:
        head = _("in %(period)s, %(name)s reached %(value)s %(unit)s") if with_period else _(
            "%(name)s reached %(value)s %(unit)s"
        )
    else:
        head = _("in %(period)s, %(name)s stood at %(value)s %(unit)s") if with_period else _(
            "%(name)s stood at %(value)s %(unit)s"
        )
    clauses = [head % figures]
    if row.growth is not None:
        if indicator.is_rate and row.growth:
            change = f"{abs(row.growth):.2f}"
            up = _("up %(change)s percentage points year on year")
            down = _("down %(change)s percentage points year on year")
            clauses.append((up if row.growth > 0 else down) % {"change": change})
        elif row.growth > 0:
            clauses.append(_("up %(growth)s%% year on year") % {"growth": _percent(row.growth)})
        elif row.growth < 0:
            clauses.append(_("down %(growth)s%% year on year") % {"growth": _percent(-row.growth)})
        else:
            clauses.append(_("level with last year"))
    if row.reached is not None and indicator.cumulative:
        clauses.append(
            _("%(reached)s%% of the annual target (%(elapsed)s%% of the year elapsed)")
            % {"reached": _percent(row.reached), "elapsed": _percent(row.elapsed)}
        )
    elif row.target is not None:
        clauses.append(
            _("against a target of %(target)s %(unit)s")
            % {"target": _number(row.target, indicator.decimals), "unit": indicator.unit}
        )
    elif row.target_growth is not None:
        clauses.append(_("against a growth target of %(growth)s%%") % {"growth": _percent(row.target_growth)})
    return clauses


def _summary(rows: list[IndicatorRow], cockpit: dict[str, Any], projects: list[ProjectRow], as_of: dt.date) -> str:
    """The report's opening paragraph: one sentence for each group of figures that exists."""
    sentences = []
    reported = [row for row in rows if row.value is not None]
    chosen = ([row for row in reported if row.indicator.on_cockpit] or reported)[:SUMMARY_INDICATORS]
    parts, previous = [], None
    for row in chosen:
        parts.append(_join(_indicator_clauses(row, with_period=row.label != previous)))
        previous = row.label
    if parts:
        text = pgettext("report summary: between the indicators", "; ").join(parts)
        text = _("%(clauses)s.") % {"clauses": text}
        sentences.append(text[:1].upper() + text[1:])

    if projects:
        plan = sum((row.plan or 0 for row in projects), Decimal(0))
        done = sum((row.done for row in projects), Decimal(0))
        behind = sum(1 for row in projects if row.behind)
        figures = {
            "count": len(projects),
            "done": _amount(done, scale_from=plan),
            "plan": _amount(plan),
            "share": _percent(done / plan * HUNDRED) if plan else "—",
            "behind": behind,
        }
        sentences.append(
            _sentence(
                [
                    ngettext(
                        "%(count)d key project completed %(done)s of the %(plan)s planned for the year "
                        "(%(share)s%%)",
                        "%(count)d key projects completed %(done)s of the %(plan)s planned for the year "
                        "(%(share)s%%)",
                        len(projects),
                    )
                    % figures,
                    ngettext("%(behind)d of them is behind plan", "%(behind)d of them are behind plan", behind)
                    % figures,
                ]
            )
        )
    p = _figure_map(cockpit["projects"])
    if p["signed"].value or p["started"].value or p["completed"].value or p["in_production"].value:
        sentences.append(
            _(
                "This year %(signed)d projects were signed with %(investment)s of investment; "
                "%(started)d started, %(completed)d were completed and %(production)d went into production."
            )
            % {
                "signed": p["signed"].value or 0,
                "investment": _amount(p["signed_investment"].value or 0),
                "started": p["started"].value,
                "completed": p["completed"].value,
                "production": p["in_production"].value,
            }
        )
    a = _figure_map(cockpit["approvals"])
    if a["accepted"].value or a["decided"].value:
        clauses = [
            _("%(accepted)d applications were accepted and %(decided)d decided")
            % {"accepted": a["accepted"].value, "decided": a["decided"].value}
        ]
        if a["on_time_rate"].value is not None:
            clauses.append(_("%(rate)s%% of them in time") % {"rate": _figure_text(a["on_time_rate"])})
        sentences.append(_sentence(clauses))
    s = _figure_map(cockpit["services"])
    if s["received"].value:
        clauses = [_("%(count)d enterprise requests were received") % {"count": s["received"].value}]
        if s["reply_rate"].value is not None:
            clauses.append(_("%(rate)s%% replied to in time") % {"rate": _figure_text(s["reply_rate"])})
        if s["on_time_rate"].value is not None:
            clauses.append(_("%(rate)s%% resolved in time") % {"rate": _figure_text(s["on_time_rate"])})
        if s["average_rating"].value is not None:
            clauses.append(_("an average rating of %(rating)s out of 5") % {"rating": s["average_rating"].value})
        sentences.append(_sentence(clauses))
    f = _figure_map(cockpit["financing"])
    if f["loans"].value:
        clauses = [
            _("%(count)d loans totalling %(amount)s were granted through the platform")
            % {"count": f["loans"].value, "amount": _amount(f["amount"].value)}
        ]
        if f["average_grade"].value:
            clauses.append(_("the average credit grade is %(grade)s") % {"grade": f["average_grade"].value})
        sentences.append(_sentence(clauses))
    c = _figure_map(cockpit["chains"])
    if cockpit["chains"]["chains"] and not c["targets"].value:
        sentences.append(_("The industry chains show %(gaps)d gaps.") % {"gaps": c["gaps"].value})
    elif cockpit["chains"]["chains"]:
        sentences.append(
            _(
                "The industry chains show %(gaps)d gaps; %(targets)d target firms have been found, %(leads)d "
                "turned into investment leads and %(signed)d signed."
            )
            % {
                "gaps": c["gaps"].value,
                "targets": c["targets"].value,
                "leads": c["leads"].value,
                "signed": c["signed"].value,
            }
        )
    if not sentences:
        return _("No figures have been reported for %(year)d-%(month)02d.") % {"year": as_of.year, "month": as_of.month}
    # Chinese runs sentences on after their 。; languages written with spaces put one between them.
    separator = "" if (get_language() or "").startswith("zh") else " "
    return separator.join(sentences)


# -- the charts ----------------------------------------------------------------------------------------


def _png(figure: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _trend_chart(report: MonthlyReport, font: Any, title_font: Any) -> Chart:
    from matplotlib.figure import Figure

    count = len(report.trends)
    columns = 1 if count == 1 else 2
    lines = (count + columns - 1) // columns
    figure = Figure(figsize=(7.0, 0.6 + 2.6 * lines), layout="constrained")
    axes = figure.subplots(lines, columns, squeeze=False)
    for ax, trend in zip(axes.flat, report.trends, strict=False):
        for year, points, colour, style in (
            (report.year - 1, trend.last_year, LAST_YEAR_COLOUR, "--"),
            (report.year, trend.this_year, THIS_YEAR_COLOUR, "-"),
        ):
            if points:
                ax.plot(
                    [month for month, _value in points],
                    [float(value) for _month, value in points],
                    style,
                    marker="o",
                    markersize=3,
                    color=colour,
                    label=_("%(year)d") % {"year": year},
                )
        ax.set_title(
            _("%(name)s (%(unit)s)") % {"name": trend.indicator.name, "unit": trend.indicator.unit}, fontproperties=font
        )
        ax.set_xlim(0.5, 12.5)
        ax.set_xticks(range(1, 13))
        ax.set_xlabel(_("Month"), fontproperties=font)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(prop=font, loc="upper left")
    for ax in list(axes.flat)[count:]:
        ax.set_visible(False)
    title = _("Year to date: %(year)d against %(last)d") % {"year": report.year, "last": report.year - 1}
    figure.suptitle(title, fontproperties=title_font)
    return Chart("trends", title, _png(figure))


def _target_chart(report: MonthlyReport, rows: list[IndicatorRow], font: Any, title_font: Any) -> Chart:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.0, 1.6 + 0.38 * len(rows)), layout="constrained")
    ax = figure.add_subplot()
    positions = list(range(len(rows)))
    shares = [float(row.reached) for row in rows]
    elapsed = float(Decimal(report.month) / 12 * HUNDRED)
    # An indicator whose latest period closes another share of the year (a quarter's figure in a month
    # that ends no quarter, last year's figure of a yearly one) gets its own mark beside its bar.
    own = {
        position: float(row.elapsed)
        for position, row in zip(positions, rows, strict=True)
        if row.elapsed is not None and abs(float(row.elapsed) - elapsed) > 0.05
    }
    ax.barh(positions, shares, color=[STATUS_COLOURS[Status(row.status)] for row in rows], height=0.6)
    for position, share in zip(positions, shares, strict=True):
        ax.annotate(
            f"{share:.1f}%",
            (max(share, own.get(position, 0)), position),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
            bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"},
            zorder=5,
        )
    ax.set_yticks(positions, labels=[row.indicator.name for row in rows], fontproperties=font)
    ax.invert_yaxis()
    ax.axvline(
        elapsed,
        color="#37474f",
        linestyle="--",
        linewidth=1.2,
        label=_("Share of the year elapsed (%(share)s%%)") % {"share": f"{elapsed:.1f}"},
    )
    if own:
        ax.plot(list(own.values()), list(own.keys()), "|", color="#37474f", markersize=16, markeredgewidth=1.6,
                label=_("Share of the year its latest period closes"))
    ax.axvline(100, color="#b0bec5", linewidth=0.8)
    ax.set_xlim(0, max([110.0, *(share * 1.15 for share in shares)]))
    ax.set_xlabel(_("Share of the annual target reached (%)"), fontproperties=font)
    ax.grid(axis="x", alpha=0.3)
    figure.legend(prop=font, loc="outside lower center")
    title = _("Target progress, %(month)s") % {"month": report.month_label}
    ax.set_title(title, fontproperties=title_font)
    return Chart("targets", title, _png(figure))


def _project_chart(report: MonthlyReport, font: Any, title_font: Any) -> Chart:
    from matplotlib.figure import Figure

    panel = report.cockpit["projects"]
    figure = Figure(figsize=(7.0, 3.2), layout="constrained")
    left, right = figure.subplots(1, 2)
    pools = panel["pools"]
    investment = dict(panel["pool_investment"])
    positions = list(range(len(pools)))
    counts = [pool.value or 0 for pool in pools]
    bars = left.barh(positions, counts, color=THIS_YEAR_COLOUR, height=0.6)
    # Beside each pool its count and investment in 亿元 (the panel gives 万元).
    amounts = [_("%(amount)s 100m yuan") % {"amount": f"{float(investment.get(pool.label) or 0) / 1e4:.1f}"}
               for pool in pools]
    left.bar_label(bars, labels=[f"{n} ({amount})" for n, amount in zip(counts, amounts, strict=True)],
                   fontproperties=font, fontsize=7.5, padding=2)
    left.set_yticks(positions, labels=[pool.label for pool in pools], fontproperties=font, fontsize=8)
    left.invert_yaxis()
    left.set_xlim(0, max([1, *counts]) * 1.6)
    left.set_xlabel(_("projects"), fontproperties=font)
    left.set_title(_("Projects by pool"), fontproperties=font)
    left.grid(axis="x", alpha=0.3)
    left.xaxis.get_major_locator().set_params(integer=True)
    year_figures = [f for f in panel["figures"] if f.key in ("signed", "started", "completed", "in_production")]
    positions = list(range(len(year_figures)))
    counts = [f.value or 0 for f in year_figures]
    bars = right.barh(positions, counts, color=STATUS_COLOURS[Status.GOOD], height=0.6)
    right.bar_label(bars, fontsize=8, padding=2)
    right.set_yticks(positions, labels=[f.label for f in year_figures], fontproperties=font, fontsize=8)
    right.invert_yaxis()
    right.set_xlim(0, max([1, *counts]) * 1.2)
    right.xaxis.get_major_locator().set_params(integer=True)
    right.grid(axis="x", alpha=0.3)
    right.set_title(_("This year up to %(date)s") % {"date": report.as_of.isoformat()}, fontproperties=font)
    title = _("Investment projects, %(year)d") % {"year": report.year}
    figure.suptitle(title, fontproperties=title_font)
    return Chart("projects", title, _png(figure))


def draw_charts(report: MonthlyReport, *, face: int = 0) -> list[Chart]:
    """The report's charts as PNG (150 dpi), titled in the active language, for the figures that
    exist: the year-to-date trends against last year, target progress against the year elapsed, and
    the project pipeline."""
    font = _font_properties(report.font, face, size=9)
    title_font = _font_properties(report.font, face, size=12)
    charts = []
    if report.trends:
        charts.append(_trend_chart(report, font, title_font))
    with_target = [row for row in report.rows if row.reached is not None]
    if with_target:
        charts.append(_target_chart(report, with_target, font, title_font))
    panel = report.cockpit["projects"]
    if any(f.value for f in panel["pools"]) or any(
        f.value for f in panel["figures"] if f.key in ("signed", "started", "completed", "in_production")
    ):
        charts.append(_project_chart(report, font, title_font))
    return charts


# -- the tables, shared by Word and Excel --------------------------------------------------------------


def indicator_headers() -> list[str]:
    """The indicator table's headings: 指标, 单位, 本月, 累计/本期, 同比%, 年度目标, 完成目标%, 时间进度%, 状态."""
    return [
        _("Indicator"),
        _("Unit"),
        _("This month"),
        _("Year to date / period"),
        _("Year on year %"),
        _("Annual target"),
        _("Target reached %"),
        _("Year elapsed %"),
        _("Status"),
    ]


def project_headers() -> list[str]:
    """The key-project table's column headings."""
    return [
        _("No."),
        _("Project"),
        _("Enterprise"),
        _("Planned this year (10k yuan)"),
        _("Completed (10k yuan)"),
        _("Share of plan %"),
        _("Behind plan"),
    ]


def figure_headers() -> list[str]:
    """The headings of the table of the other apps' figures."""
    return [_("Area"), _("Figure"), _("Value"), _("Unit")]


def _target_text(row: IndicatorRow) -> str:
    if row.target is not None:
        return _number(row.target, row.indicator.decimals)
    if row.target_growth is not None:
        return _("growth %(growth)s%%") % {"growth": f"{row.target_growth:+.1f}"}
    return "—"


def _growth_text(row: IndicatorRow) -> str:
    """The growth column: per cent, or for a rate the change in percentage points; * when published."""
    if row.indicator.is_rate and row.growth is not None:
        text = _("%(change)s percentage points") % {"change": f"{row.growth:+.2f}"}
    else:
        text = _percent(row.growth)
    return f"{text}*" if row.growth is not None and row.growth_basis == GrowthBasis.SOURCE else text


def _yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


# -- Word ----------------------------------------------------------------------------------------------

# (style, Latin font, East Asian font): 宋体 for the body, 黑体 for the title and headings.
DOCX_FONTS = (
    ("Normal", "Times New Roman", "宋体"),
    ("Title", "Arial", "黑体"),
    ("Heading 1", "Arial", "黑体"),
    ("Heading 2", "Arial", "黑体"),
    ("Caption", "Times New Roman", "宋体"),
)


def _docx_styles(document: Any) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    for name, latin, east_asian in DOCX_FONTS:
        style = document.styles[name]
        style.font.name = latin
        fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            fonts.attrib.pop(qn(theme), None)
        fonts.set(qn("w:eastAsia"), east_asian)
        if name != "Normal":
            style.font.color.rgb = RGBColor(0x1F, 0x2D, 0x3D)
    document.styles["Normal"].font.size = Pt(10.5)
    document.styles["Title"].font.size = Pt(20)


def _docx_table(document: Any, headers: list[str], rows: list[list[str]], *, numeric: set[int], size: float) -> Any:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    header = table.rows[0]
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header._tr.get_or_add_trPr().append(repeat)
    for cell, text in zip(header.cells, headers, strict=True):
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.bold = True
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for values in rows:
        cells = table.add_row().cells
        for index, (cell, text) in enumerate(zip(cells, values, strict=True)):
            cell.text = text
            if index in numeric:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(size)
    return table


def indicator_table_rows(report: MonthlyReport) -> list[list[str]]:
    """The indicator table as text, as the Word document prints it."""
    return [
        [
            row.name,
            row.indicator.unit,
            _number(row.period_value, row.indicator.decimals),
            _number(row.value, row.indicator.decimals),
            _growth_text(row),
            _target_text(row),
            _percent(row.reached),
            _percent(row.elapsed),
            row.status_label,
        ]
        for row in report.rows
    ]


def render_docx(report: MonthlyReport) -> bytes:
    """The report as a Word document: title, date line, summary, indicator table, charts, key
    projects, and the projects/approvals/services/financing/chains figures."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm

    document = docx.Document()
    _docx_styles(document)
    for section in document.sections:
        section.left_margin = section.right_margin = Cm(2)
        section.top_margin = section.bottom_margin = Cm(2)
    document.core_properties.title = report.title
    document.core_properties.author = report.district
    document.core_properties.language = report.language

    title = document.add_heading(report.title, level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    dateline = document.add_paragraph(
        _("Figures as of %(as_of)s, generated on %(today)s from the live data of Zhiyuan.")
        % {"as_of": report.as_of.isoformat(), "today": report.generated_on.isoformat()}
    )
    dateline.alignment = WD_ALIGN_PARAGRAPH.CENTER

    document.add_heading(_("Summary"), level=1)
    document.add_paragraph(report.summary)

    document.add_heading(_("Economic indicators"), level=1)
    _docx_table(
        document, indicator_headers(), indicator_table_rows(report), numeric={2, 3, 4, 5, 6, 7}, size=8.5
    )
    if any(row.growth is not None and row.growth_basis == GrowthBasis.SOURCE for row in report.rows):
        document.add_paragraph(_("* Growth as published by the statistics bureau."), style="Caption")

    if report.charts:
        document.add_heading(_("Charts"), level=1)
        for chart in report.charts:
            document.add_picture(io.BytesIO(chart.png), width=Cm(16))
            document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            caption = document.add_paragraph(chart.title, style="Caption")
            caption.alignment = WD_ALIGN_PARAGRAPH.CENTER

    document.add_heading(_("Key projects"), level=1)
    if report.projects:
        _docx_table(
            document,
            project_headers(),
            [
                [
                    str(row.sequence or ""),
                    row.name,
                    row.enterprise,
                    _number(row.plan),
                    _number(row.done),
                    _percent(row.share),
                    _yes_no(row.behind),
                ]
                for row in report.projects
            ],
            numeric={0, 3, 4, 5},
            size=9,
        )
    else:
        document.add_paragraph(_("No key projects are listed for %(year)d.") % {"year": report.year})

    document.add_heading(_("Projects, approvals, services, financing and chains"), level=1)
    _docx_table(
        document,
        figure_headers(),
        [
            [area, figure.label, _figure_text(figure), figure.unit]
            for area, figures in report.sections
            for figure in figures
        ],
        numeric={2},
        size=9,
    )
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# -- Excel ---------------------------------------------------------------------------------------------


def _cell_number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _decimals_format(decimals: int) -> str:
    return "#,##0" if decimals <= 0 else "#,##0." + "0" * decimals


def _xlsx_sheet(workbook: Any, title: str, headers: list[str], widths: list[int]) -> Any:
    from openpyxl.styles import Alignment, Font, PatternFill

    sheet = workbook.create_sheet(title)
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE6F0")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = width
    sheet.freeze_panes = "A2"
    return sheet


def sheet_titles() -> dict[str, str]:
    """The workbook's sheet names (指标, 重点项目, 服务与审批, 图表) by key."""
    return {
        "indicators": _("Indicators"),
        "projects": _("Key projects"),
        "figures": _("Services and approvals"),
        "charts": _("Charts"),
    }


def render_xlsx(report: MonthlyReport) -> bytes:
    """The report as an Excel workbook: the indicator table (numbers as numbers), the key projects,
    the projects/approvals/services/financing/chains figures, and the charts."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.drawing.image import Image

    titles = sheet_titles()
    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.title = report.title
    workbook.properties.creator = report.district

    sheet = _xlsx_sheet(workbook, titles["indicators"], indicator_headers(), [34, 10, 14, 16, 12, 14, 14, 14, 12])
    for row in report.rows:
        number_format = _decimals_format(row.indicator.decimals)
        target: Any = _cell_number(row.target)
        if target is None and row.target_growth is not None:
            target = _target_text(row)
        sheet.append(
            [
                row.name,
                row.indicator.unit,
                _cell_number(row.period_value),
                _cell_number(row.value),
                _cell_number(row.growth),
                target,
                _cell_number(row.reached),
                _cell_number(row.elapsed),
                row.status_label,
            ]
        )
        line = sheet.max_row
        for column in (3, 4, 6):
            sheet.cell(row=line, column=column).number_format = number_format
        for column in (5, 7, 8):
            sheet.cell(row=line, column=column).number_format = "0.0"
        if row.growth is not None and row.growth_basis == GrowthBasis.SOURCE:
            sheet.cell(row=line, column=5).comment = Comment(_("As published by the statistics bureau."), "Zhiyuan")

    sheet = _xlsx_sheet(workbook, titles["projects"], project_headers(), [6, 36, 30, 18, 16, 12, 10])
    for row in report.projects:
        sheet.append(
            [
                row.sequence or None,
                row.name,
                row.enterprise,
                _cell_number(row.plan),
                _cell_number(row.done),
                _cell_number(row.share),
                _yes_no(row.behind),
            ]
        )
        line = sheet.max_row
        for column in (4, 5):
            sheet.cell(row=line, column=column).number_format = "#,##0.00"
        sheet.cell(row=line, column=6).number_format = "0.0"

    sheet = _xlsx_sheet(workbook, titles["figures"], figure_headers(), [16, 30, 14, 12])
    for area, figures in report.sections:
        for figure in figures:
            value = figure.value
            if isinstance(value, Decimal):
                value = float(value)
            sheet.append([area, figure.label, value, figure.unit])
            cell = sheet.cell(row=sheet.max_row, column=3)
            if figure.unit == "%" and value is not None:
                cell.number_format = "0.0%"
            elif isinstance(value, float):
                cell.number_format = "#,##0.00"
            elif isinstance(value, int):
                cell.number_format = "#,##0"

    if report.charts:
        sheet = workbook.create_sheet(titles["charts"])
        line = 1
        for chart in report.charts:
            sheet.cell(row=line, column=1, value=chart.title)
            image = Image(io.BytesIO(chart.png))
            scale = 640 / image.width
            image.width, image.height = int(image.width * scale), int(image.height * scale)
            sheet.add_image(image, f"A{line + 1}")
            line += 3 + int(image.height / 20)

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# -- files ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFile:
    filename: str
    content_type: str
    content: bytes


def report_filename(year: int, month: int, fmt: str) -> str:
    """经济运行月报-2019-06.docx in Chinese, monthly-report-2019-06.docx otherwise."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    stem = "经济运行月报" if language.lower().startswith("zh") else "monthly-report"
    return f"{stem}-{year:04d}-{month:02d}.{fmt}"


def report_files(
    *, user: User, year: int, month: int, formats: Iterable[str], today: dt.date | None = None
) -> list[ReportFile]:
    """The month's report in each format asked for ("docx", "xlsx"), gathered once; the errors of
    `monthly_figures`, and ValidationFailed (field "format") for an unknown format."""
    formats = list(formats)
    unknown = [fmt for fmt in formats if fmt not in FORMATS]
    if unknown or not formats:
        raise ValidationFailed(
            _("Choose the format: %(formats)s.") % {"formats": ", ".join(FORMATS)}, field="format"
        )
    report = monthly_figures(user=user, year=year, month=month, today=today)
    renderers = {"docx": render_docx, "xlsx": render_xlsx}
    return [
        ReportFile(report_filename(year, month, fmt), FORMATS[fmt], renderers[fmt](report)) for fmt in formats
    ]


def report_user(username: str | None = None) -> User:
    """Who the command makes the report as: the named user, or the first active district leader
    (an administrator when there is no leader). NotFoundError when there is none."""
    users = User.objects.filter(is_active=True)
    if username:
        user = users.filter(username=username).first()
        if user is None:
            raise NotFoundError(_("No active user named %(name)s.") % {"name": username})
        return user
    for role in (Role.LEADER, Role.ADMIN):
        user = users.filter(role=role).order_by("pk").first()
        if user is not None:
            return user
    raise NotFoundError(_("There is no active district leader or administrator to make the report as; use --user."))
