"""Plotly charts of the credit pages, rendered like the other dashboards (plotly.js served locally by
zhiyuan.investments.charts.PlotlyJsFinder; each figure is an HTML fragment without the library)."""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from zhiyuan.credit.scorecard import GRADES
from zhiyuan.investments.charts import LAYOUT, _render

# Master-scale grades from green (AAA) to red (C).
GRADE_COLOURS = {
    "AAA": "#146c43",
    "AA": "#198754",
    "A": "#20c997",
    "BBB": "#0dcaf0",
    "BB": "#0d6efd",
    "B": "#ffc107",
    "CCC": "#fd7e14",
    "CC": "#dc3545",
    "C": "#842029",
}
AXES = {"gridcolor": "#eee"}


def score_trend_chart(trend: list[dict[str, Any]]) -> SafeString | None:
    """The firm's points over its last scoring runs, each point labelled with its grade."""
    if not trend:
        return None
    # The runs' own dates on a category axis: a date axis would put a month-end run under the next month's tick.
    dates = [row["as_of"].isoformat() for row in trend]
    points = [row["points"] for row in trend]
    grades = [row["grade"] for row in trend]
    figure = go.Figure()
    figure.add_scatter(
        x=dates,
        y=points,
        mode="lines+markers+text",
        text=grades,
        textposition="top center",
        name=_("Points"),
        line={"color": "#0d6efd", "width": 2},
        marker={"size": 9, "color": [GRADE_COLOURS.get(grade, "#6c757d") for grade in grades]},
        customdata=[[grade, row["pd"] * 100] for grade, row in zip(grades, trend, strict=True)],
        hovertemplate="%{x}: %{y:.0f} · %{customdata[0]} · PD %{customdata[1]:.2f}%<extra></extra>",
    )
    low, high = min(points), max(points)
    figure.update_layout(
        **{**LAYOUT, "height": 260},
        showlegend=False,
        yaxis_title=_("Points"),
        xaxis={**AXES, "type": "category"},
        yaxis={**AXES, "range": [low - 30, high + 40]},
    )
    return _render(figure, "score-trend-chart")


def grade_distribution_chart(distribution: list[tuple[str, int]]) -> SafeString | None:
    """Firms per grade on the master scale (bars, AAA to C)."""
    if not any(count for _grade, count in distribution):
        return None
    top = max(count for _grade, count in distribution)
    figure = go.Figure()
    figure.add_bar(
        x=[grade for grade, _count in distribution],
        y=[count for _grade, count in distribution],
        marker_color=[GRADE_COLOURS.get(grade, "#6c757d") for grade, _count in distribution],
        text=[count for _grade, count in distribution],
        textposition="outside",
        hovertemplate="%{x}: %{y}<extra></extra>",
    )
    figure.update_layout(
        **LAYOUT,
        showlegend=False,
        xaxis={"categoryorder": "array", "categoryarray": GRADES, "title": _("Grade")},
        yaxis={
            **AXES,
            "range": [0, top * 1.15],
            "tickformat": "d",
            "dtick": max(1, math.ceil(top / 5)),
            "title": _("Firms"),
        },
        bargap=0.25,
    )
    return _render(figure, "grade-chart")


def psi_chart(series: dict[str, Any], threshold: float) -> SafeString | None:
    """PSI of the score (bold) and of each variable per scoring run, with the alert threshold."""
    dates = series.get("dates") or []
    if not dates:
        return None
    figure = go.Figure()
    exempt = set(series.get("exempt", []))
    for name, values in series.get("variables", {}).items():
        label = series.get("labels", {}).get(name, name)
        if name in exempt:
            label = _("%(variable)s (drifts with time, no alert)") % {"variable": label}
        figure.add_scatter(
            x=dates,
            y=values,
            mode="lines+markers",
            name=label,
            line={"width": 1, "dash": "dot" if name in exempt else "solid"},
            marker={"size": 5},
            opacity=0.7,
            hovertemplate="%{x}: %{y:.3f}<extra>%{fullData.name}</extra>",
        )
    figure.add_scatter(
        x=dates,
        y=series.get("score") or [],
        mode="lines+markers",
        name=_("Score"),
        line={"width": 3, "color": "#212529"},
        marker={"size": 8},
        hovertemplate="%{x}: %{y:.3f}<extra>%{fullData.name}</extra>",
    )
    figure.add_hline(
        y=threshold,
        line={"color": "#dc3545", "dash": "dash", "width": 2},
        annotation_text=_("alert threshold %(value)s") % {"value": f"{threshold:g}"},
        annotation_position="top left",
        annotation_font_color="#dc3545",
    )
    values = [value for value in series.get("score") or [] if value is not None]
    for column in series.get("variables", {}).values():
        values.extend(value for value in column if value is not None)
    top = max([threshold * 1.3, *values]) if values else threshold * 1.3
    figure.update_layout(
        **{**LAYOUT, "height": 380, "legend": {"orientation": "h", "y": -0.25}},
        yaxis_title=_("PSI"),
        xaxis={**AXES, "type": "category"},
        yaxis={**AXES, "range": [0, top * 1.05]},
    )
    return _render(figure, "psi-chart")
