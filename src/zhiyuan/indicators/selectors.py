"""Indicator reads: who may see and edit, the indicator cards (latest figure, 同比, progress against
the year's target), series for the trend charts, and the cockpit — the indicator cards beside the
live figures of the other apps, each with the link to the list behind it.

Everything is computed as of a day (`as_of`): the live cockpit asks as of today, the monthly report
as of the month's last day, so the two agree for the same month.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from zhiyuan.accounts.models import Role, User
from zhiyuan.accounts.permissions import is_authenticated, is_district_staff
from zhiyuan.approvals import selectors as approvals
from zhiyuan.chains import selectors as chains
from zhiyuan.core.errors import NotFoundError, PermissionDeniedError
from zhiyuan.credit import selectors as credit
from zhiyuan.indicators import figures
from zhiyuan.indicators.models import PERIODS_PER_YEAR, Indicator, IndicatorValue, PeriodType, Target, period_end
from zhiyuan.investments import selectors as projects
from zhiyuan.servicedesk import selectors as desk

EDITOR_ROLES = frozenset({Role.ADMIN, Role.STATISTICS})


def may_view(user: User | None) -> bool:
    """District staff read indicators and the cockpit; firms, banks and the city do not."""
    return is_district_staff(user)


def may_edit(user: User | None) -> bool:
    """Statistics officers and administrators define indicators and enter values and targets."""
    return is_authenticated(user) and user.role in EDITOR_ROLES


def require_view(user: User | None) -> None:
    if not may_view(user):
        raise PermissionDeniedError()


def indicators_list(*, active_only: bool = False) -> QuerySet[Indicator]:
    queryset = Indicator.objects.all()
    return queryset.filter(is_active=True) if active_only else queryset


def indicator_get(code: str) -> Indicator:
    """One indicator by its code; NotFoundError when there is none."""
    try:
        return Indicator.objects.get(code=code)
    except Indicator.DoesNotExist:
        raise NotFoundError() from None


def period_label(indicator: Indicator, year: int, period: int) -> str:
    """How a period reads: 2019年1—6月 for a year-to-date figure, 2019年6月 for a month's level."""
    kind = PeriodType(indicator.period_type)
    if kind == PeriodType.YEAR:
        return _("%(year)d") % {"year": year}
    if kind == PeriodType.QUARTER:
        if indicator.cumulative and period > 1:
            return _("%(year)d, quarters 1–%(quarter)d") % {"year": year, "quarter": period}
        return _("%(year)d, quarter %(quarter)d") % {"year": year, "quarter": period}
    if indicator.cumulative and period > 1:
        return _("%(year)d, months 1–%(month)d") % {"year": year, "month": period}
    return _("%(year)d-%(month)02d") % {"year": year, "month": period}


def last_period(period_type: str, as_of: dt.date) -> tuple[int, int]:
    """The last (year, period) of a kind that has ended by `as_of` — its figures can be known."""
    kind = PeriodType(period_type)
    year = as_of.year
    for period in range(PERIODS_PER_YEAR[kind], 0, -1):
        if period_end(kind, year, period) <= as_of:
            return year, period
    return year - 1, PERIODS_PER_YEAR[kind]


@dataclass
class Card:
    """One indicator's figure for a period with its growth and its progress against the year's
    target; `value` is None when nothing has been reported yet."""

    indicator: Indicator
    year: int
    period: int
    value: IndicatorValue | None
    prior: Decimal | None  # the same period last year
    growth: Decimal | None
    growth_basis: str | None
    target: Target | None
    progress: figures.Progress

    @property
    def label(self) -> str:
        return period_label(self.indicator, self.year, self.period)

    @property
    def status_label(self) -> str:
        return figures.Status(self.progress.status).label


@dataclass
class _Values:
    """The stored values of some indicators, looked up by (indicator id, year, period)."""

    rows: dict[tuple[int, int, int], IndicatorValue] = field(default_factory=dict)
    by_indicator: dict[int, list[IndicatorValue]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def load(cls, indicators: list[Indicator], years: range) -> _Values:
        values = cls()
        queryset = IndicatorValue.objects.filter(indicator__in=indicators, year__in=list(years)).order_by(
            "year", "period"
        )
        by_pk = {indicator.pk: indicator for indicator in indicators}
        for value in queryset:
            value.indicator = by_pk[value.indicator_id]
            values.rows[(value.indicator_id, value.year, value.period)] = value
            values.by_indicator[value.indicator_id].append(value)
        return values

    def get(self, indicator: Indicator, year: int, period: int) -> IndicatorValue | None:
        return self.rows.get((indicator.pk, year, period))


def _card(
    indicator: Indicator, year: int, period: int, values: _Values, targets: dict[tuple[int, int], Target]
) -> Card:
    value = values.get(indicator, year, period)
    prior_row = values.get(indicator, year - 1, period)
    prior = prior_row.value if prior_row else None
    computed = figures.change(value.value, prior, in_points=indicator.is_rate) if value else None
    shown, basis = figures.choose_growth(
        computed=computed,
        published=value.source_growth if value else None,
        prefer_published=indicator.growth_from_source,
    )
    target = targets.get((indicator.pk, year))
    last_year_end = values.get(indicator, year - 1, indicator.periods_per_year)
    target_value = (
        figures.implied_target(
            value=target.value, growth_rate=target.growth, last_year=last_year_end.value if last_year_end else None
        )
        if target
        else None
    )
    progress = figures.progress(
        value=value.value if value else None,
        cumulative=indicator.cumulative,
        higher_is_better=indicator.higher_is_better,
        target=target_value,
        target_growth=target.growth if target else None,
        growth_now=shown,
        elapsed=figures.elapsed_share(period, indicator.periods_per_year),
        watch_points=Decimal(settings.ZHIYUAN_INDICATOR_WATCH_POINTS),
    )
    return Card(
        indicator=indicator,
        year=year,
        period=period,
        value=value,
        prior=prior,
        growth=shown,
        growth_basis=basis,
        target=target,
        progress=progress,
    )


def cards(*, as_of: dt.date | None = None, cockpit_only: bool = True) -> list[Card]:
    """Each active indicator's card for its latest period reported by `as_of` (within the last two
    years; before any value, the last period that has ended, empty). Three queries."""
    as_of = as_of or timezone.localdate()
    indicators = list(indicators_list(active_only=True).filter(**({"on_cockpit": True} if cockpit_only else {})))
    years = range(as_of.year - 3, as_of.year + 1)
    values = _Values.load(indicators, years)
    targets = {(t.indicator_id, t.year): t for t in Target.objects.filter(indicator__in=indicators, year__in=years)}
    result = []
    for indicator in indicators:
        reported = [
            v for v in values.by_indicator[indicator.pk] if v.year >= as_of.year - 1 and v.period_end <= as_of
        ]
        if reported:
            year, period = reported[-1].year, reported[-1].period
        else:
            year, period = last_period(indicator.period_type, as_of)
        result.append(_card(indicator, year, period, values, targets))
    return result


def card_for(indicator: Indicator, year: int, period: int) -> Card:
    """One indicator's card for a given period."""
    values = _Values.load([indicator], range(year - 1, year + 1))
    targets = {(t.indicator_id, t.year): t for t in indicator.targets.filter(year=year)}
    return _card(indicator, year, period, values, targets)


@dataclass(frozen=True)
class Point:
    """One period of a series: its value and the growth shown for it."""

    year: int
    period: int
    value: Decimal
    growth: Decimal | None


def series(indicator: Indicator, *, years: range) -> dict[int, list[Point]]:
    """{year: [points in period order]} for the trend charts, growth computed as on the cards."""
    values = _Values.load([indicator], range(years.start - 1, years.stop))
    result: dict[int, list[Point]] = {}
    for year in years:
        points = []
        for value in (v for v in values.by_indicator[indicator.pk] if v.year == year):
            prior = values.get(indicator, year - 1, value.period)
            shown, _basis = figures.choose_growth(
                computed=figures.change(value.value, prior.value if prior else None, in_points=indicator.is_rate),
                published=value.source_growth,
                prefer_published=indicator.growth_from_source,
            )
            points.append(Point(year=year, period=value.period, value=value.value, growth=shown))
        result[year] = points
    return result


def value_rows(indicator: Indicator) -> list[Card]:
    """Every stored value of an indicator as a card (newest first), for its page and the API."""
    years = sorted(set(indicator.values.values_list("year", flat=True)))
    if not years:
        return []
    values = _Values.load([indicator], range(years[0] - 1, years[-1] + 1))
    targets = {(t.indicator_id, t.year): t for t in indicator.targets.all()}
    rows = [_card(indicator, v.year, v.period, values, targets) for v in values.by_indicator[indicator.pk]]
    return rows[::-1]


def value_get(indicator: Indicator, year: int, period: int) -> IndicatorValue:
    """One stored value; NotFoundError when there is none."""
    try:
        return IndicatorValue.objects.select_related("indicator").get(indicator=indicator, year=year, period=period)
    except IndicatorValue.DoesNotExist:
        raise NotFoundError() from None


def target_get(indicator: Indicator, year: int) -> Target:
    """One year's target; NotFoundError when there is none."""
    try:
        return Target.objects.select_related("indicator").get(indicator=indicator, year=year)
    except Target.DoesNotExist:
        raise NotFoundError() from None


def targets_list(*, year: int | None = None) -> QuerySet[Target]:
    queryset = Target.objects.select_related("indicator", "set_by").order_by("-year", "indicator__sequence")
    return queryset.filter(year=year) if year else queryset


# -- the cockpit ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One number of a cockpit panel with its label and the list behind it."""

    key: str
    label: str
    value: Any
    unit: str = ""
    link: str = ""


def _url(name: str, **params: Any) -> str:
    url = reverse(name)
    return f"{url}?{urlencode(params)}" if params else url


def _until(as_of: dt.date) -> dict[str, str]:
    """The list filter that bounds a year's list at `as_of`, for a cockpit shown as of a past day
    (today's lists need none: nothing has happened after today)."""
    return {} if as_of >= timezone.localdate() else {"until": as_of.isoformat()}


def _rate(numerator: int, denominator: int) -> Decimal | None:
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.0001")) if denominator else None


def project_panel(*, user: User, as_of: dt.date) -> dict[str, Any]:
    """Pipeline by pool (now), this year's signed/started/completed/in production and investment up
    to `as_of`, and the year's key projects behind plan."""
    year = as_of.year
    d = projects.dashboard(user=user, year=year, today=as_of)
    figures_ = d["year_figures"]
    live = {"exclude_withdrawn": "true"}
    bound = _until(as_of)
    return {
        "year": year,
        "pools": [
            Figure(pool.value, str(pool.label), n, _("projects"), _url("investments:list", pool=pool.value, **live))
            for pool, n, _investment in d["pools"]
        ],
        "pool_investment": [(str(pool.label), investment) for pool, _n, investment in d["pools"]],
        "figures": [
            Figure("signed", _("Projects signed"), figures_["signed"]["n"], _("projects"),
                   _url("investments:list", contract_year=year, **live, **bound)),
            Figure("signed_investment", _("Investment signed"), figures_["signed"]["investment"], _("10k yuan"),
                   _url("investments:list", contract_year=year, **live, **bound)),
            Figure("started", _("Projects started"), figures_["started"], _("projects"),
                   _url("investments:list", start_year=year, **live, **bound)),
            Figure("completed", _("Projects completed"), figures_["completed"], _("projects"),
                   _url("investments:list", completion_year=year, **live, **bound)),
            Figure("in_production", _("Projects in production"), figures_["in_production"], _("projects"),
                   _url("investments:list", production_year=year, **live, **bound)),
            Figure("key", _("Key projects"), d["key_count"], _("projects"), _url("investments:list", key_year=year)),
            Figure("key_done", _("Key projects' investment completed"), d["key_done"], _("10k yuan"),
                   reverse("investments:key_year", args=[year])),
            Figure("behind", _("Key projects behind plan"), len(d["behind"]), _("projects"),
                   _url("investments:list", behind_plan=year, **bound)),
        ],
        "key_plan": d["key_plan"],
        "key_done": d["key_done"],
        "elapsed": d["elapsed"],
        "behind": d["behind"],
    }


def approval_panel(*, as_of: dt.date) -> dict[str, Any]:
    """Applications accepted, forwarded to the city, decided and decided in time this year."""
    year = as_of.year
    c = approvals.window_counts(today=as_of)
    bound = _until(as_of)
    return {
        "figures": [
            Figure("accepted", _("Applications accepted"), c["accepted_this_year"], _("applications"),
                   _url("approvals:list", accepted_year=year, **bound)),
            Figure("forwarded", _("Received by the city"), c["forwarded_this_year"], _("applications"),
                   _url("approvals:list", forwarded_year=year, **bound)),
            Figure("decided", _("Applications decided"), c["decided_this_year"], _("applications"),
                   _url("approvals:list", decided_year=year, **bound)),
            Figure("on_time_rate", _("Decided in time"), _rate(c["decided_on_time"], c["decided_this_year"]), "%",
                   _url("approvals:list", decided_year=year, decided_on_time="true", **bound)),
            Figure("with_city", _("With the city now"), c["with_city"], _("applications"),
                   _url("approvals:list", state="with_city")),
            Figure("overdue_city", _("City decision overdue"), c["overdue_city"], _("applications"),
                   _url("approvals:list", state="overdue_city")),
        ],
    }


def service_panel(*, user: User, as_of: dt.date) -> dict[str, Any]:
    """Requests received this year, reply rate, on-time resolution rate and average rating."""
    year = as_of.year
    f = desk.service_figures(user=user, year=year, today=as_of)
    until = _until(as_of).get("until")
    bound = {"received_before": until} if until else {}
    return {
        "figures": [
            Figure("received", _("Requests received"), f["received"], _("requests"),
                   _url("servicedesk:list", year=year, **bound)),
            Figure("reply_rate", _("Replied in time"), f["reply_rate"], "%",
                   _url("servicedesk:list", year=year, replied_on_time="true", **bound)),
            Figure("on_time_rate", _("Resolved in time"), f["on_time_rate"], "%",
                   _url("servicedesk:list", year=year, on_time="true", **bound)),
            Figure("average_rating", _("Average rating"), f["average_rating"], _("of 5"),
                   _url("servicedesk:list", year=year, rated="true", **bound)),
            Figure("open", _("Open requests"), f["open"], _("requests"),
                   _url("servicedesk:list", year=year, state="open", **bound)),
        ],
    }


def financing_panel(*, as_of: dt.date) -> dict[str, Any]:
    """Loans granted through the platform this year (count, 万元) and the average credit grade."""
    year = as_of.year
    granted = credit.financing_facilitated(year=year, until=as_of)
    loans = _url("credit:granted", year=year, **_until(as_of))
    return {
        "figures": [
            Figure("loans", _("Loans granted"), granted["count"], _("loans"), loans),
            Figure("amount", _("Amount granted"), granted["amount"], _("10k yuan"), loans),
            Figure("average_grade", _("Average credit grade"), credit.average_grade(as_of=as_of), "",
                   reverse("credit:overview")),
        ],
    }


def chain_panel() -> dict[str, Any]:
    """Per chain: nodes, gaps, coverage and the targets → leads → signed funnel (current state)."""
    trees = chains.chain_trees()
    total = chains.Conversion()
    rows = []
    for view in trees:
        conversion = view.conversion
        total.add(conversion)
        rows.append(
            {
                "code": view.chain.code,
                "name": view.chain.name,
                "nodes": view.node_count,
                "gaps": view.gap_count,
                "coverage": view.coverage,
                "targets": conversion.targets,
                "leads": conversion.leads,
                "signed": conversion.signed,
                "link": reverse("chains:map", args=[view.chain.code]),
            }
        )
    return {
        "chains": rows,
        "figures": [
            Figure("gaps", _("Chain gaps"), sum(row["gaps"] for row in rows), _("nodes"), reverse("chains:gaps")),
            Figure("targets", _("Chain targets"), total.targets, _("firms"), reverse("chains:gaps")),
            Figure("leads", _("Targets turned into leads"), total.leads, _("firms"), reverse("chains:gaps")),
            Figure("signed", _("Targets signed"), total.signed, _("firms"), reverse("chains:gaps")),
        ],
    }


def cockpit(*, user: User, as_of: dt.date | None = None) -> dict[str, Any]:
    """Every panel of the leader cockpit as of a day (today by default); district staff only."""
    require_view(user)
    as_of = as_of or timezone.localdate()
    return {
        "as_of": as_of,
        "year": as_of.year,
        "elapsed": projects.year_elapsed_share(as_of.year, as_of),
        "cards": cards(as_of=as_of),
        "projects": project_panel(user=user, as_of=as_of),
        "approvals": approval_panel(as_of=as_of),
        "services": service_panel(user=user, as_of=as_of),
        "financing": financing_panel(as_of=as_of),
        "chains": chain_panel(),
    }
