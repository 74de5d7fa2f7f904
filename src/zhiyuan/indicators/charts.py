"""Plotly charts of the indicator pages and the cockpit, rendered like the other dashboards
(plotly.js served locally by zhiyuan.investments.charts.PlotlyJsFinder; each figure is an HTML
fragment without the library).

The trend chart compares a year with the one before, period by period: for a cumulative indicator
the year-to-date totals (two rising lines), for a level the period's values; the 同比 growth shown
on the cards is drawn on a second axis.
"""

from __future__ import annotations

import plotly.graph_objects as go
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from zhiyuan.indicators.models import Indicator, PeriodType
from zhiyuan.indicators.selectors import Point
from zhiyuan.investments.charts import LAYOUT, _render

THIS_YEAR = "#0d6efd"
LAST_YEAR = "#adb5bd"
GROWTH = "#fd7e14"
DARK = {"paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)", "font_color": "#dee2e6"}


def period_names(indicator: Indicator) -> list[str]:
    """The x-axis: 1月…12月, Q1…Q4, or the year."""
    kind = PeriodType(indicator.period_type)
    if kind == PeriodType.MONTH:
        return [_("M%(month)d") % {"month": month} for month in range(1, 13)]
    if kind == PeriodType.QUARTER:
        return [_("Q%(quarter)d") % {"quarter": quarter} for quarter in range(1, 5)]
    return [_("Year")]


def _values(points: list[Point], count: int) -> list[float | None]:
    by_period = {point.period: point for point in points}
    return [float(by_period[p].value) if p in by_period else None for p in range(1, count + 1)]


def _growths(points: list[Point], count: int) -> list[float | None]:
    by_period = {point.period: point for point in points}
    return [
        float(by_period[p].growth) if p in by_period and by_period[p].growth is not None else None
        for p in range(1, count + 1)
    ]


def _hover(decimals: int, unit: str) -> str:
    return f"%{{x}}: %{{y:,.{decimals}f}} {unit}<extra>%{{fullData.name}}</extra>"


def year_on_year_chart(
    indicator: Indicator,
    series: dict[int, list[Point]],
    *,
    year: int,
    element_id: str,
    dark: bool = False,
    compact: bool = False,
) -> SafeString | None:
    """`year` against the year before, by period, from `selectors.series` ({year: [Point]}), with
    the growth shown on the cards on a right-hand axis; None when neither year has a value."""
    this_year, last_year = series.get(year, []), series.get(year - 1, [])
    if not this_year and not last_year:
        return None
    names = period_names(indicator)
    count = len(names)
    decimals = min(int(indicator.decimals), 4)
    unit = indicator.unit
    figure = go.Figure()
    bar = indicator.period_type == PeriodType.YEAR
    for points, name, colour, width in (
        (last_year, str(year - 1), LAST_YEAR, 2),
        (this_year, str(year), THIS_YEAR, 3),
    ):
        if not points:
            continue
        if bar:
            figure.add_bar(x=[f"{name}"], y=_values(points, count), name=name, marker_color=colour,
                           hovertemplate=_hover(decimals, unit))
        else:
            figure.add_scatter(
                x=names, y=_values(points, count), name=name, mode="lines+markers", connectgaps=False,
                line={"color": colour, "width": width}, marker={"size": 6 if compact else 7},
                hovertemplate=_hover(decimals, unit),
            )
    growths = _growths(this_year, count)
    shown = [value for value in growths if value is not None]
    growth_axis = {"overlaying": "y", "side": "right", "showgrid": False, "ticksuffix": "%", "zeroline": False,
                   "tickformat": ".0f"}
    if shown and not bar:
        figure.add_bar(
            x=names, y=growths, name=_("YoY growth (%)"), yaxis="y2", marker_color=GROWTH, opacity=0.3,
            hovertemplate="%{x}: %{y:+.1f}%<extra>%{fullData.name}</extra>",
        )
        # The growth bars keep to the lower part of the chart, under the lines of the values.
        low, high = min(0.0, *shown), max(0.0, *shown)
        span = (high - low) or 1.0
        growth_axis["range"] = [low - span * 0.05, low + span * 2.6]
        growth_axis["nticks"] = 4
    grid = "rgba(255,255,255,0.12)" if dark else "#eee"
    layout = {
        **LAYOUT,
        "height": 240 if compact else 340,
        "margin": {"l": 55, "r": 45, "t": 10, "b": 30},
        "legend": {"orientation": "h", "y": 1.12, "x": 0},
        "yaxis": {"title": unit if not compact else None, "gridcolor": grid,
                  "rangemode": "tozero" if indicator.cumulative else "normal"},
        "yaxis2": growth_axis,
        "xaxis": {"gridcolor": grid, "type": "category"},
        "bargap": 0.5,
        "hovermode": "x unified",
    }
    if dark:
        layout.update(DARK)
        layout["font"] = {**LAYOUT["font"], "color": "#dee2e6", "size": 14}
    figure.update_layout(**layout)
    return _render(figure, element_id)
