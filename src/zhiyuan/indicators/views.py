"""Indicator pages and the leader cockpit (领导驾驶舱): thin views that parse input, call one service
or selector, and render.

District staff read every page; statistics officers and administrators define indicators, enter
values and targets and import a month's sheet. Firms, banks and the city get 403. Each action posts
to its own URL and redirects; bad input re-renders the page with the submitted form and its errors
(status 400) and changes nothing.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhiyuan.core import uploads
from zhiyuan.core.errors import DomainError, NotFoundError, ValidationFailed
from zhiyuan.core.uploads import PendingUploads
from zhiyuan.indicators import charts, figures, selectors, services
from zhiyuan.indicators.forms import (
    INDICATOR_INITIAL,
    XLSX_TYPE,
    ImportForm,
    IndicatorForm,
    IndicatorTargetForm,
    TargetForm,
    ValueForm,
    this_year,
    year_or_none,
)
from zhiyuan.indicators.models import Group

SESSION_KEY = "indicators_values_import"
UPLOAD_DIR = "imports/indicators"
MONTH_PARAM = re.compile(r"^(\d{4})-(\d{1,2})$")
COCKPIT_CHARTS = 4
WALL_REFRESH_SECONDS = 300
STATUS_COLOURS = {"good": "success", "watch": "warning", "bad": "danger", "none": "secondary"}


def _viewer(user) -> None:
    if not selectors.may_view(user):
        raise PermissionDenied


def _editor(user) -> None:
    _viewer(user)
    if not selectors.may_edit(user):
        raise PermissionDenied


def _indicator_or_404(code: str):
    try:
        return selectors.indicator_get(code)
    except NotFoundError:
        raise Http404 from None


# -- the cockpit -----------------------------------------------------------------------------------------


def _as_of(request, today: dt.date) -> tuple[dt.date, str | None]:
    """The day the cockpit shows: the end of `?month=YYYY-MM` (today for this month), or today with
    a message when the month is malformed or still to come."""
    raw = (request.GET.get("month") or "").strip()
    if not raw:
        return today, None
    found = MONTH_PARAM.match(raw)
    if not found or not (1 <= int(found.group(2)) <= 12) or int(found.group(1)) < services.FIRST_YEAR:
        return today, _("“%(month)s” is not a month (use YYYY-MM); showing today's figures.") % {"month": raw[:20]}
    year, month = int(found.group(1)), int(found.group(2))
    if (year, month) > (today.year, today.month):
        return today, _("%(year)d-%(month)02d has not come yet; showing today's figures.") % {
            "year": year,
            "month": month,
        }
    if (year, month) == (today.year, today.month):
        return today, None
    return dt.date(year, month, calendar.monthrange(year, month)[1]), None


@login_required
@require_GET
def cockpit(request):
    """The leader cockpit: indicator cards, trend charts and the live panels of the other apps, as
    of today or the end of a past month; `?wall=1` is the wall-screen variant."""
    _viewer(request.user)
    today = timezone.localdate()
    as_of, month_error = _as_of(request, today)
    data = selectors.cockpit(user=request.user, as_of=as_of)
    wall = request.GET.get("wall") == "1"
    charted = [card for card in data["cards"] if card.value is not None][:COCKPIT_CHARTS]
    trend = [
        (
            card,
            charts.year_on_year_chart(
                card.indicator,
                selectors.series(card.indicator, years=range(card.year - 1, card.year + 1)),
                year=card.year,
                element_id=f"trend-{card.indicator.code}",
                dark=wall,
                compact=True,
            ),
        )
        for card in charted
    ]
    report_month = as_of if as_of < today else _last_month_end(today)
    key_plan = data["projects"]["key_plan"]
    key_share = data["projects"]["key_done"] / key_plan if key_plan else None
    context = {
        **data,
        "cards": [_card_view(card) for card in data["cards"]],
        "panels": _panels(data),
        "project_figures": {figure.key: _figure_view(figure) for figure in data["projects"]["figures"]},
        "base_template": "indicators/wall_base.html" if wall else "base.html",
        "pools": [
            (_figure_view(figure), _money(investment))
            for figure, (_label, investment) in zip(
                data["projects"]["pools"], data["projects"]["pool_investment"], strict=True
            )
        ],
        "behind": [
            {"listing": listing, "progress": progress, "done_pct": _percent(progress.share),
             "elapsed_pct": _percent(progress.elapsed)}
            for listing, progress in data["projects"]["behind"]
        ],
        "key_money": {
            "done": _money(data["projects"]["key_done"], scale_from=key_plan)[0],
            "plan": _money(key_plan)[0],
            "unit": _money(key_plan)[1],
        },
        "key_pct": _percent(key_share),
        "key_bar": _bar(key_share),
        "elapsed_pct": _percent(data["elapsed"]),
        "trend": trend,
        "wall": wall,
        "month_error": month_error,
        "month_value": f"{as_of.year:04d}-{as_of.month:02d}",
        "max_month": f"{today.year:04d}-{today.month:02d}",
        "is_today": as_of == today,
        "report_year": report_month.year,
        "report_month": report_month.month,
        "refresh_seconds": WALL_REFRESH_SECONDS,
        "can_edit": selectors.may_edit(request.user),
    }
    return render(request, "indicators/cockpit.html", context)


def _last_month_end(today: dt.date) -> dt.date:
    return today.replace(day=1) - dt.timedelta(days=1)


# How the cards and panel figures read: numbers formatted here, so that the templates only lay out.


def _percent(share: Decimal | None) -> float | None:
    """A share (0.4235) as per cent (42.35); None stays None."""
    return None if share is None else float(share * 100)


def _bar(share: Decimal | None) -> float:
    """A progress bar's width in per cent, kept within the bar."""
    return 0.0 if share is None else max(0.0, min(100.0, float(share * 100)))


def _number(value, decimals: int) -> str:
    return floatformat(value, f"{decimals}g")


TEN_THOUSAND = Decimal(10000)


def _money(value: Decimal | int | None, *, scale_from: Decimal | int | None = None) -> tuple[str, str]:
    """An amount kept in 万元 as shown: in 亿元 with two decimals from 1亿元 up (judged on `scale_from`
    when given, so a figure and its total share a unit), in 万元 below."""
    value = Decimal(value or 0)
    if abs(Decimal(scale_from if scale_from is not None else value)) >= TEN_THOUSAND:
        return _number(value / TEN_THOUSAND, 2), _("100 million yuan")
    return _number(value, 2 if value != value.to_integral_value() else 0), _("10k yuan")


def _figure_view(figure: selectors.Figure) -> dict:
    """A panel figure with its value as text: rates as per cent, money in 万元 or 亿元."""
    value, unit = figure.value, figure.unit
    if value is None:
        text = "—"
    elif unit == _("10k yuan"):
        text, unit = _money(value)
    elif unit == "%":
        text = _number(Decimal(value) * 100, 1)
    elif isinstance(value, Decimal):
        text = _number(value, 2 if value != value.to_integral_value() or unit == _("10k yuan") else 0)
    elif isinstance(value, int):
        text = _number(value, 0)
    else:
        text = str(value)
    return {"key": figure.key, "label": figure.label, "text": text, "unit": unit, "link": figure.link,
            "empty": value is None}


def _panels(data: dict) -> dict[str, list[dict]]:
    return {
        name: [_figure_view(figure) for figure in data[name]["figures"]]
        for name in ("projects", "approvals", "services", "financing", "chains")
    }


def _growth_text(card: selectors.Card) -> str:
    number = _number(card.growth, 2 if card.indicator.is_rate else 1)
    if card.indicator.is_rate:
        return _("%(change)s percentage points") % {"change": number}
    return f"{number}%"


def _card_view(card: selectors.Card) -> dict:
    """One indicator card as shown: value, 同比 with its direction, progress against the target."""
    indicator = card.indicator
    decimals = int(indicator.decimals)
    growth = card.growth
    direction = 0 if growth is None or growth == 0 else (1 if growth > 0 else -1)
    favourable = direction == 0 or (direction > 0) == indicator.higher_is_better
    progress = card.progress
    # A cumulative figure is measured against the share of the year elapsed; a level against the target itself.
    marker = progress.elapsed if indicator.cumulative else Decimal(1)
    return {
        "card": card,
        "indicator": indicator,
        "value": _number(card.value.value, decimals) if card.value else None,
        "period_value": (
            _number(card.value.period_value, decimals) if card.value and card.value.period_value is not None else None
        ),
        "growth": _number(growth, 1) if growth is not None else None,
        # "+8.0%", or for a rate "+0.1 个百分点"; the sign is drawn by the template
        "growth_text": _growth_text(card) if growth is not None else None,
        "direction": direction,
        "favourable": favourable,
        "published": card.growth_basis == figures.GrowthBasis.SOURCE,
        "basis_label": figures.GrowthBasis(card.growth_basis).label if card.growth_basis else "",
        "prior": _number(card.prior, decimals) if card.prior is not None else None,
        "elapsed": _number(progress.elapsed * 100, 0),
        "target": _number(progress.target, decimals) if progress.target is not None else None,
        "target_growth": _number(card.target.growth, 1) if card.target and card.target.growth is not None else None,
        "reached": _number(progress.reached * 100, 1) if progress.reached is not None else None,
        "reached_bar": _bar(progress.reached),
        "marker": _bar(marker),
        "marker_text": _number(marker * 100, 0),
        "cumulative": indicator.cumulative,
        "status": progress.status,
        "colour": STATUS_COLOURS.get(progress.status, "secondary"),
        "status_label": card.status_label,
        "link": reverse("indicators:detail", args=[indicator.code]),
    }


# -- the list, one indicator -----------------------------------------------------------------------------


@login_required
@require_GET
def indicator_list(request):
    """Every active indicator's latest card, grouped by group."""
    _viewer(request.user)
    cards = [_card_view(card) for card in selectors.cards(cockpit_only=False)]
    groups = [(group, [card for card in cards if card["indicator"].group == group.value]) for group in Group]
    context = {
        "groups": [(group, rows) for group, rows in groups if rows],
        "count": len(cards),
        "can_edit": selectors.may_edit(request.user),
    }
    return render(request, "indicators/list.html", context)


def _render_detail(request, indicator, *, value_form=None, target_form=None, status=200):
    rows = [_card_view(card) for card in selectors.value_rows(indicator)]
    can_edit = selectors.may_edit(request.user)
    latest = rows[0] if rows else None
    chart_years = range(latest["card"].year - 1, latest["card"].year + 1) if latest else None
    if can_edit:
        year = latest["card"].year if latest else this_year()
        value_form = value_form or ValueForm(initial={"year": year})
        target_form = target_form or TargetForm(initial={"year": year})
    context = {
        "indicator": indicator,
        "rows": rows,
        "latest": latest,
        "chart": (
            charts.year_on_year_chart(
                indicator,
                selectors.series(indicator, years=chart_years),
                year=chart_years.stop - 1,
                element_id="trend",
            )
            if chart_years
            else None
        ),
        "can_edit": can_edit,
        "value_form": value_form,
        "target_form": target_form,
    }
    return render(request, "indicators/detail.html", context, status=status)


@login_required
@require_GET
def indicator_detail(request, code):
    """An indicator: its definition, trend, every value with its growth and progress; editors enter
    values and set the year's target here."""
    _viewer(request.user)
    return _render_detail(request, _indicator_or_404(code))


@login_required
@require_POST
def value_record(request, code):
    _editor(request.user)
    indicator = _indicator_or_404(code)
    form = ValueForm(request.POST)
    if form.is_valid():
        try:
            row = services.value_record(
                actor=request.user,
                indicator=indicator,
                year=form.cleaned_data["year"],
                period=form.cleaned_data["period"],
                data=form.data_for_service(),
            )
        except DomainError as error:
            form.add_service_errors(error)
        else:
            label = selectors.period_label(indicator, row.year, row.period)
            messages.success(request, _("%(indicator)s for %(period)s saved.") % {"indicator": indicator.name,
                                                                                  "period": label})
            return redirect(f"{reverse('indicators:detail', args=[indicator.code])}#values")
    return _render_detail(request, indicator, value_form=form, status=400)


@login_required
@require_POST
def target_set(request, code):
    _editor(request.user)
    indicator = _indicator_or_404(code)
    form = TargetForm(request.POST)
    if form.is_valid():
        try:
            target = services.target_set(
                actor=request.user, indicator=indicator, year=form.cleaned_data["year"],
                data=form.data_for_service(),
            )
        except DomainError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("The %(year)d target of %(indicator)s saved.") % {
                "year": target.year, "indicator": indicator.name})
            return redirect(f"{reverse('indicators:detail', args=[indicator.code])}#target")
    return _render_detail(request, indicator, target_form=form, status=400)


# -- definitions -----------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def indicator_create(request):
    _editor(request.user)
    form = IndicatorForm(request.POST or None, initial=INDICATOR_INITIAL)
    if request.method == "POST" and form.is_valid():
        try:
            indicator = services.indicator_create(actor=request.user, data=form.data_for_service())
        except DomainError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Indicator %(name)s defined.") % {"name": indicator.name})
            return redirect("indicators:detail", code=indicator.code)
    status = 400 if request.method == "POST" else 200
    return render(request, "indicators/indicator_form.html", {"form": form, "indicator": None}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def indicator_edit(request, code):
    _editor(request.user)
    indicator = _indicator_or_404(code)
    initial = {name: getattr(indicator, name) for name in services.INDICATOR_FIELDS}
    form = IndicatorForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            indicator = services.indicator_update(actor=request.user, indicator=indicator,
                                                  data=form.data_for_service())
        except DomainError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("indicators:detail", code=indicator.code)
    status = 400 if request.method == "POST" else 200
    return render(request, "indicators/indicator_form.html", {"form": form, "indicator": indicator}, status=status)


# -- targets ---------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def targets(request):
    """A year's targets with the progress of each indicator's latest figure; editors set targets."""
    _viewer(request.user)
    year = year_or_none(request.GET.get("year")) or this_year()
    can_edit = selectors.may_edit(request.user)
    indicators = list(selectors.indicators_list(active_only=True))
    form = None
    status = 200
    if request.method == "POST":
        _editor(request.user)
        form = IndicatorTargetForm(request.POST, indicators=indicators)
        if form.is_valid():
            try:
                target = services.target_set(
                    actor=request.user,
                    indicator=selectors.indicator_get(form.cleaned_data["indicator"]),
                    year=form.cleaned_data["year"],
                    data=form.data_for_service(),
                )
            except DomainError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, _("The %(year)d target of %(indicator)s saved.") % {
                    "year": target.year, "indicator": target.indicator.name})
                return redirect(f"{reverse('indicators:targets')}?year={target.year}")
        status = 400
    elif can_edit:
        form = IndicatorTargetForm(initial={"year": year}, indicators=indicators)
    as_of = min(timezone.localdate(), dt.date(year, 12, 31))
    cards = {card.indicator.pk: _card_view(card) for card in selectors.cards(as_of=as_of, cockpit_only=False)}
    rows = [
        {
            "target": target,
            "value": _number(target.value, int(target.indicator.decimals)) if target.value is not None else None,
            "card": card if card and card["card"].year == year else None,
        }
        for target in selectors.targets_list(year=year)
        for card in [cards.get(target.indicator_id)]
    ]
    context = {
        "year": year,
        "years": [year - 1, year, year + 1],
        "rows": rows,
        "form": form,
        "can_edit": can_edit,
    }
    return render(request, "indicators/targets.html", context, status=status)


# -- a month's sheet -------------------------------------------------------------------------------------


def _uploads(request) -> PendingUploads:
    return PendingUploads(request, session_key=SESSION_KEY, directory=UPLOAD_DIR)


def _run(request, entry: dict, *, dry_run: bool) -> services.ValueImportReport:
    with _uploads(request).open(entry) as handle:
        return services.values_import(
            actor=request.user, file=handle, year=entry.get("year"), month=entry.get("month"), dry_run=dry_run,
            source=_("Excel import: %(name)s") % {"name": entry["name"]},
        )


@login_required
@require_http_methods(["GET", "POST"])
def values_import(request):
    """Upload a month's sheet; it is checked (dry run) and shown before anything is written."""
    _editor(request.user)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        year, month = form.cleaned_data.get("year"), form.cleaned_data.get("month")
        try:
            services.values_import(actor=request.user, file=uploaded, year=year, month=month, dry_run=True)
        except ValidationFailed as error:
            form.add_service_errors(error)
        else:
            token = _uploads(request).store(uploaded, year=year, month=month)
            return redirect("indicators:import_preview", token=token)
    status = 400 if request.method == "POST" else 200
    return render(request, "indicators/import.html", {"form": form, "headers": services.SHEET_HEADERS}, status=status)


def _preview_row(planned: services.PlannedValue) -> dict:
    indicator = planned.indicator
    decimals = int(indicator.decimals)

    def shown(value):
        return None if value is None else _number(value, decimals)

    growth = planned.data.get("source_growth")
    return {
        "row": planned.row,
        "indicator": indicator,
        "label": selectors.period_label(indicator, planned.year, planned.period),
        "value": shown(planned.data["value"]),
        "period_value": shown(planned.data.get("period_value")),
        "growth": None if growth is None else _number(growth, 2),
        "previous": shown(planned.previous),
        "changed": planned.previous is not None and planned.previous != planned.data["value"],
    }


def _render_preview(request, token, entry, *, report=None, error=None, status=200):
    context = {
        "token": token,
        "entry": entry,
        "report": report,
        "preview_rows": [_preview_row(row) for row in report.rows] if report else [],
        "file_error": error,
    }
    return render(request, "indicators/import_preview.html", context, status=status)


@login_required
@require_GET
def import_preview(request, token):
    _editor(request.user)
    return uploads.import_preview(request, token, uploads=_uploads(request), run=_run, render=_render_preview)


@login_required
@require_POST
def import_confirm(request, token):
    """Import for real; should rows have gone bad since the check, nothing is written and they are shown."""
    _editor(request.user)
    outcome = uploads.import_confirm(request, token, uploads=_uploads(request), run=_run, render=_render_preview)
    if isinstance(outcome, HttpResponse):
        return outcome
    report, _entry = outcome
    messages.success(request, _("%(count)d values of %(year)d-%(month)02d imported.") % {
        "count": len(report.rows), "year": report.year, "month": report.month})
    return redirect("indicators:list")


@login_required
@require_POST
def import_discard(request, token):
    _editor(request.user)
    _uploads(request).get(token)
    _uploads(request).forget(token)
    messages.info(request, _("The uploaded file was discarded; nothing was imported."))
    return redirect("indicators:import")


@login_required
@require_GET
def import_template(request):
    _editor(request.user)
    response = HttpResponse(services.sheet_template_workbook(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=_("indicators-template.xlsx")
    )
    return response
