"""Plotly charts of the service dashboard, rendered like the project charts (plotly.js served locally
by zhiyuan.investments.charts.PlotlyJsFinder; the figure is an HTML fragment without the library)."""

import datetime as dt

import plotly.graph_objects as go
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from zhiyuan.investments.charts import LAYOUT, _render
from zhiyuan.servicedesk.models import Category

CATEGORY_COLOURS = {
    Category.FINANCING: "#0d6efd",
    Category.LABOUR: "#198754",
    Category.LAND: "#6f42c1",
    Category.APPROVAL: "#fd7e14",
    Category.UTILITIES: "#20c997",
    Category.POLICY: "#0dcaf0",
    Category.DISPUTE: "#dc3545",
    Category.OTHER: "#6c757d",
}


def volume_chart(months: list[dt.date], counts: dict[str, list[int]]) -> SafeString | None:
    """Requests received per month, stacked by category (`counts`: category value → one count per month)."""
    if not any(sum(values) for values in counts.values()):
        return None
    figure = go.Figure()
    for category in Category:
        values = counts.get(category.value)
        if not values or not sum(values):
            continue
        figure.add_bar(
            x=months,
            y=values,
            name=str(category.label),
            marker_color=CATEGORY_COLOURS[category],
            hovertemplate="%{x|%Y-%m} " + str(category.label) + ": %{y}<extra></extra>",
        )
    figure.update_layout(
        **LAYOUT,
        barmode="stack",
        yaxis_title=_("Requests received"),
        xaxis={"tickformat": "%Y-%m", "dtick": "M1", "gridcolor": "#eee"},
        yaxis={"gridcolor": "#eee", "rangemode": "tozero", "tickformat": "d"},
        bargap=0.3,
    )
    return _render(figure, "volume-chart")
