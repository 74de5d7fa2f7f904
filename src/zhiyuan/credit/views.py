"""Credit pages (中小微企业征信): the firm's own report with its consents, access log and objections;
the report page (staff: any firm; a firm: its own; a bank: only under a live consent, every read
logged); the bank's page; financing needs, offers and loan products; and for district staff the
overview, objections, models, feeds and the retention purge log.

Thin views: parse input, call one service or selector, render. Each action posts to its own URL; on
success it redirects, on a refusal it shows the error on top and, for forms, renders the page again
with the submitted form and its field errors (status 400). NotFoundError is a 404 (a bank without
consent learns nothing: the same answer as for a firm that does not exist), PermissionDeniedError a 403.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from zhiyuan.accounts.permissions import is_district_staff
from zhiyuan.core.errors import DomainError, NotFoundError, PermissionDeniedError, ValidationFailed
from zhiyuan.credit import charts, feeds, scoring, selectors, services
from zhiyuan.credit.features import KNOCKOUT_BY_CODE, TAX_VALUE_GRADE, dropped_text, feature_label
from zhiyuan.credit.forms import (
    ConsentForm,
    FeedUploadForm,
    ObjectionAnswerForm,
    ObjectionForm,
    OfferForm,
    OutcomeForm,
    ProductForm,
)
from zhiyuan.credit.models import Feed, FeedUpload, LoanProduct, ObjectionStatus, OfferStatus
from zhiyuan.credit.permissions import can_manage_credit, is_bank_user, is_firm_user
from zhiyuan.credit.scorecard import GRADES
from zhiyuan.credit.tables import AccessTable, FeedLoadTable, NeedTable, ObjectionTable, ProductTable

# Column headings of the report's record tables (keys of ReportRecord.details).
DETAIL_LABELS = {
    "grade": gettext_lazy("Tax credit grade"),
    "tax_paid": gettext_lazy("Tax paid (10k yuan)"),
    "headcount": gettext_lazy("Insured staff"),
    "water_m3": gettext_lazy("Water (m³)"),
    "electricity_kwh": gettext_lazy("Electricity (kWh)"),
    "lender": gettext_lazy("Lender"),
    "amount": gettext_lazy("Amount (10k yuan)"),
    "start_on": gettext_lazy("Start date"),
    "end_on": gettext_lazy("Maturity date"),
    "settled_on": gettext_lazy("Settled on"),
    "due_on": gettext_lazy("Due date"),
    "paid_on": gettext_lazy("Paid on"),
    "overdue_days": gettext_lazy("Days overdue"),
    "kind": gettext_lazy("Kind"),
    "court": gettext_lazy("Court"),
    "listed_on": gettext_lazy("Listed on"),
    "delisted_on": gettext_lazy("Delisted on"),
    "retain_until": gettext_lazy("Counts until"),
    "severity": gettext_lazy("Severity"),
    "reason": gettext_lazy("Reason"),
    "disclosed_until": gettext_lazy("Disclosed until"),
    "expires_on": gettext_lazy("Expires on"),
}
PERIOD_LABELS = {
    Feed.TAX: gettext_lazy("Year"),
    Feed.HEADCOUNT: gettext_lazy("Month"),
    Feed.UTILITIES: gettext_lazy("Month"),
    Feed.LOANS: gettext_lazy("Start date"),
    Feed.REPAYMENTS: gettext_lazy("Due date"),
    Feed.COURT: gettext_lazy("Date"),
    Feed.PENALTIES: gettext_lazy("Decided on"),
    Feed.HONOURS: gettext_lazy("Granted on"),
}
MONTHLY_FEEDS = {Feed.HEADCOUNT, Feed.UTILITIES}
# How the default rate moves across a variable's bins (its declared monotonic trend), in words.
TREND_WORDS = {
    "ascending": gettext_lazy("default rate rises as the value grows"),
    "descending": gettext_lazy("default rate falls as the value grows"),
}
# Feeds whose record label adds something the detail columns do not show (lender and contract, case …).
LABELLED_FEEDS = {Feed.LOANS, Feed.REPAYMENTS, Feed.COURT, Feed.PENALTIES, Feed.HONOURS}


def _today() -> dt.date:
    return timezone.localdate()


def _staff(user) -> None:
    if not is_district_staff(user):
        raise PermissionDenied


def _firm(user) -> None:
    if not is_firm_user(user):
        raise PermissionDenied


def _bank(user) -> None:
    if not is_bank_user(user):
        raise PermissionDenied


def _manager(user) -> None:
    if not can_manage_credit(user):
        raise PermissionDenied


def _found(call, *args, **kwargs):
    """Call a selector; its NotFoundError is a 404."""
    try:
        return call(*args, **kwargs)
    except NotFoundError:
        raise Http404 from None


def _error_text(error: DomainError) -> str:
    """The error's message followed by its field messages, for the message on top of the page."""
    parts = [str(error.message)]
    for value in error.fields.values():
        for message in value if isinstance(value, (list, tuple)) else [value]:
            if str(message) not in parts:
                parts.append(str(message))
    return " ".join(parts)


def _refused(request, error: DomainError) -> None:
    """A service said no: 404 and 403 as such, anything else as a message on top of the page."""
    if isinstance(error, NotFoundError):
        raise Http404
    if isinstance(error, PermissionDeniedError):
        raise PermissionDenied
    messages.error(request, _error_text(error))


def _page(request, table, per_page: int = 25):
    RequestConfig(request, paginate={"per_page": per_page}).configure(table)
    return table


# ---------------------------------------------------------------- presentation helpers


def _percent(value: float) -> str:
    """A share as a percentage with one or two decimals: 0.005 → 0.5, 0.0025 → 0.25, 0.01 → 1.0."""
    text = f"{value * 100:.2f}"
    return text[:-1] if text.endswith("0") else text


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(value) else str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return str(value)


def _feature_value(name: str, value: Any) -> str:
    if value is None:
        return "—"
    if name == "tax_grade":
        return TAX_VALUE_GRADE.get(int(value), "?")
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def _record_sections(report) -> list[dict]:
    """The report's records per feed as tables: headings and formatted cells."""
    sections = []
    for feed in selectors.REPORT_FEEDS:
        records = report.records.get(feed) or []
        if not records:
            continue
        keys = list(records[0].details)
        rows = []
        for record in records:
            period = record.period
            if feed in MONTHLY_FEEDS and isinstance(period, dt.date):
                period = period.strftime("%Y-%m")
            rows.append(
                {
                    "record": record,
                    "period": _cell(period),
                    "cells": [_cell(record.details.get(key)) for key in keys],
                }
            )
        sections.append(
            {
                "feed": feed,
                "label": Feed(feed).label,
                "period_label": PERIOD_LABELS.get(feed, _("Date")),
                "labelled": feed in LABELLED_FEEDS,
                "columns": [DETAIL_LABELS.get(key, key) for key in keys],
                "rows": rows,
                "disputed": sum(1 for record in records if record.disputed),
            }
        )
    return sections


def _report_context(report, *, can_object: bool) -> dict:
    """What the report template shows, formatted: grade, PD band, reasons (knock-out first), chart."""
    reasons = [{**reason, "is_knockout": reason["code"] in KNOCKOUT_BY_CODE} for reason in report.reasons]
    reasons.sort(key=lambda reason: not reason["is_knockout"])
    score = report.score
    return {
        "report": report,
        "score": score,
        "pd_band": f"{_percent(report.pd_band[0])}%–{_percent(report.pd_band[1])}%" if report.pd_band else "",
        "pd_text": f"{score.pd * 100:.2f}%" if score else "",
        "reasons": reasons,
        "features": [
            {**feature, "display": _feature_value(feature["name"], feature["value"])} for feature in report.features
        ],
        "sections": _record_sections(report),
        "trend_chart": charts.score_trend_chart(report.trend),
        "can_object": can_object,
        "objection_form": ObjectionForm() if can_object else None,
        "objection_days": settings.ZHIYUAN_CREDIT_OBJECTION_WORKDAYS,
    }


# ---------------------------------------------------------------- entry


@login_required
@require_GET
def index(request):
    """/credit/: the firm's own report, the bank's page, the staff overview."""
    user = request.user
    if is_firm_user(user):
        return redirect("credit:my")
    if is_bank_user(user):
        return redirect("credit:bank")
    _staff(user)
    return redirect("credit:overview")


# ---------------------------------------------------------------- the firm


def _render_my(request, *, consent_form: ConsentForm | None = None, status: int = 200):
    user = request.user
    enterprise = user.organisation.enterprise
    report = selectors.report_build(enterprise)
    today = _today()
    consents = list(selectors.consents_visible_to(user))
    for consent in consents:
        consent.live = services.consent_is_live(consent, today)
    accesses = _page(request, AccessTable(selectors.accesses_visible_to(user), exclude=["enterprise"], prefix="log-"))
    objections = ObjectionTable(
        selectors.objections_queue_for(user), today=today, firm_view=True, prefix="obj-", orderable=False
    )
    _page(request, objections)
    context = {
        **_report_context(report, can_object=True),
        "enterprise": enterprise,
        "consents": consents,
        "consent_form": consent_form or ConsentForm(),
        "access_table": accesses,
        "objection_table": objections,
        "consent_max_days": settings.ZHIYUAN_CREDIT_CONSENT_MAX_DAYS,
    }
    return render(request, "credit/my.html", context, status=status)


@login_required
@require_GET
def my_credit(request):
    """The firm's own report with its consents, access log and objections."""
    _firm(request.user)
    return _render_my(request)


@login_required
@require_POST
def consent_grant(request):
    _firm(request.user)
    form = ConsentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            consent = services.consent_grant(
                actor=request.user, bank=data["bank"], purpose=data["purpose"], valid_until=data["valid_until"]
            )
        except DomainError as error:
            _refused(request, error)
            form.add_service_errors(error)
        else:
            messages.success(
                request,
                _("%(bank)s may read your credit report for %(purpose)s until %(end)s.")
                % {"bank": consent.bank.name, "purpose": consent.get_purpose_display(), "end": consent.valid_until},
            )
            return redirect(reverse("credit:my") + "#consents")
    return _render_my(request, consent_form=form, status=400)


@login_required
@require_POST
def consent_revoke(request, pk: int):
    _firm(request.user)
    consent = _found(selectors.consent_get_for, request.user, pk)
    try:
        services.consent_revoke(actor=request.user, consent=consent)
    except DomainError as error:
        _refused(request, error)
    else:
        messages.success(
            request, _("Consent for %(bank)s revoked: its next request is refused.") % {"bank": consent.bank.name}
        )
    return redirect(reverse("credit:my") + "#consents")


@login_required
@require_POST
def objection_raise(request, feed: str, record_id: int):
    """The firm disputes one of its records (from its report)."""
    _firm(request.user)
    form = ObjectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say what is wrong with the record."))
        return redirect(reverse("credit:my") + "#records")
    try:
        objection = services.objection_raise(
            actor=request.user, feed=feed, record_id=record_id, reason=form.cleaned_data["reason"]
        )
    except DomainError as error:
        _refused(request, error)
        return redirect(reverse("credit:my") + "#records")
    due = objection.due_on.isoformat() if objection.due_on else _("as soon as the calendar allows")
    messages.success(
        request,
        _("Objection recorded: the record is flagged as disputed until the credit office answers (by %(due)s).")
        % {"due": due},
    )
    return redirect("credit:objection_detail", pk=objection.pk)


# ---------------------------------------------------------------- the report


@login_required
@require_GET
def report(request, uscc: str):
    """A firm's credit report. Staff: any firm; a firm: its own; a bank: only under a live consent
    (the service logs every request, granted or refused)."""
    user = request.user
    purpose = request.GET.get("purpose", "")
    if is_bank_user(user):
        try:
            enterprise, consent = services.report_access_for_bank(actor=user, uscc=uscc, purpose=purpose, channel="web")
        except ValidationFailed as error:
            messages.error(request, _error_text(error))
            return redirect("credit:bank")
        except DomainError as error:
            _refused(request, error)
            raise Http404 from None
    else:
        enterprise = _found(selectors.report_enterprise_for, user, uscc)
        consent = None
    own = is_firm_user(user) and user.enterprise_id == enterprise.pk
    context = {
        **_report_context(selectors.report_build(enterprise), can_object=own),
        "enterprise": enterprise,
        "consent": consent,
        "is_staff": is_district_staff(user),
        "own": own,
    }
    return render(request, "credit/report.html", context)


# ---------------------------------------------------------------- the bank


@login_required
@require_GET
def bank(request):
    """The bank's page: the consents it can use today and its recent report requests."""
    _bank(request.user)
    consents = selectors.live_consents_of_bank(request.user)
    accesses = _page(request, AccessTable(selectors.accesses_visible_to(request.user), exclude=["bank"]))
    return render(request, "credit/bank.html", {"consents": consents, "access_table": accesses})


# ---------------------------------------------------------------- financing needs and offers


def _needs_viewer(user) -> None:
    if not (is_district_staff(user) or is_bank_user(user) or is_firm_user(user)):
        raise PermissionDenied


@login_required
@require_GET
def needs(request):
    """Banks and staff: the published open financing needs (banks: with the ones fitting their
    products); a firm: its own financing needs with the offers received."""
    user = request.user
    _needs_viewer(user)
    firm = is_firm_user(user)
    table = _page(request, NeedTable(selectors.needs_visible_to(user), exclude=["enterprise"] if firm else []))
    context = {"table": table, "firm": firm, "is_bank": is_bank_user(user), "can_manage": can_manage_credit(user)}
    if firm:
        offers: dict[int, list] = {}
        for offer in selectors.offers_visible_to(user).order_by("-created_at"):
            offers.setdefault(offer.need_id, []).append(offer)
        context["offers_by_need"] = [
            (need, offers.get(need.pk, [])) for need in selectors.needs_visible_to(user) if need.pk in offers
        ]
    if is_bank_user(user):
        context["matches"] = selectors.matches_for_bank(user)
    return render(request, "credit/needs.html", context)


def _own_products(user):
    """The bank's own published products, to offer one of them."""
    return selectors.products_visible_to(user).filter(bank=user.organisation, is_active=True)


def _render_need(request, need, *, bound: dict | None = None, status: int = 200):
    user = request.user
    is_bank = is_bank_user(user)
    offers = list(selectors.offers_visible_to(user).filter(need=need).order_by("-created_at"))
    forms: dict[str, Any] = {}
    if is_bank:
        if not any(offer.status != OfferStatus.WITHDRAWN for offer in offers):
            forms["offer"] = OfferForm(products=_own_products(user))
        for offer in offers:
            if offer.status == OfferStatus.ACCEPTED:
                offer.outcome_form = OutcomeForm(prefix=f"outcome-{offer.pk}")
    for key, form in (bound or {}).items():
        if key == "offer":
            forms["offer"] = form
        else:
            for offer in offers:
                if offer.pk == key:
                    offer.outcome_form = form
    context = {
        "need": need,
        "offers": offers,
        "matches": selectors.matches_for_need(user, need),
        "forms": forms,
        "is_bank": is_bank,
        "firm": is_firm_user(user) and need.enterprise_id == user.enterprise_id,
        "is_staff": is_district_staff(user),
    }
    return render(request, "credit/need_detail.html", context, status=status)


@login_required
@require_GET
def need_detail(request, pk: int):
    _needs_viewer(request.user)
    return _render_need(request, _found(selectors.need_get_for, request.user, pk))


@login_required
@require_POST
def offer_create(request, pk: int):
    user = request.user
    _bank(user)
    need = _found(selectors.need_get_for, user, pk)
    form = OfferForm(request.POST, products=_own_products(user))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.offer_create(
                actor=user,
                need=need,
                product=data["product"],
                amount=data["amount"],
                term_months=data["term_months"],
                rate=data["rate"],
                message=data["message"],
            )
        except DomainError as error:
            _refused(request, error)
            form.add_service_errors(error)
        else:
            messages.success(request, _("Offer sent to %(firm)s.") % {"firm": need.enterprise.name})
            return redirect("credit:need_detail", pk=need.pk)
    return _render_need(request, need, bound={"offer": form}, status=400)


def _offer_step(request, pk: int, call, message: str):
    offer = _found(selectors.offer_get_for, request.user, pk)
    try:
        call(actor=request.user, offer=offer)
    except DomainError as error:
        _refused(request, error)
    else:
        messages.success(request, message)
    return redirect("credit:need_detail", pk=offer.need_id)


@login_required
@require_POST
def offer_accept(request, pk: int):
    _firm(request.user)
    return _offer_step(request, pk, services.offer_accept, _("Offer accepted; the bank will contact you."))


@login_required
@require_POST
def offer_decline(request, pk: int):
    _firm(request.user)
    return _offer_step(request, pk, services.offer_decline, _("Offer declined."))


@login_required
@require_POST
def offer_withdraw(request, pk: int):
    _bank(request.user)
    return _offer_step(request, pk, services.offer_withdraw, _("Offer withdrawn."))


@login_required
@require_POST
def offer_outcome(request, pk: int):
    """The bank records what came of an accepted offer."""
    user = request.user
    _bank(user)
    offer = _found(selectors.offer_get_for, user, pk)
    form = OutcomeForm(request.POST, prefix=f"outcome-{offer.pk}")
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.offer_record_outcome(
                actor=user,
                offer=offer,
                granted=data["granted"] == "yes",
                amount=data["granted_amount"],
                granted_on=data["granted_on"],
            )
        except DomainError as error:
            _refused(request, error)
            form.add_service_errors(error)
        else:
            messages.success(request, _("Outcome recorded."))
            return redirect("credit:need_detail", pk=offer.need_id)
    return _render_need(request, offer.need, bound={offer.pk: form}, status=400)


# ---------------------------------------------------------------- loan products


@login_required
@require_GET
def products(request):
    """Published loan products; a bank also sees (and edits) its own."""
    user = request.user
    visible = selectors.products_visible_to(user)
    context = {
        "table": _page(request, ProductTable(visible.filter(is_active=True), prefix="all-")),
        "can_manage": can_manage_credit(user),
    }
    if is_bank_user(user):
        own = ProductTable(visible.filter(bank=user.organisation), own=True, prefix="own-")
        context["own_table"] = _page(request, own)
    return render(request, "credit/products.html", context)


def _product_form_page(request, form, product: LoanProduct | None, status: int = 200):
    return render(request, "credit/product_form.html", {"form": form, "product": product}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def product_create(request):
    _bank(request.user)
    form = ProductForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                product = services.product_create(actor=request.user, data=form.cleaned_data)
            except DomainError as error:
                _refused(request, error)
                form.add_service_errors(error)
            else:
                messages.success(request, _("Product “%(name)s” published.") % {"name": product.name})
                return redirect("credit:products")
        return _product_form_page(request, form, None, status=400)
    return _product_form_page(request, form, None)


@login_required
@require_http_methods(["GET", "POST"])
def product_edit(request, pk: int):
    user = request.user
    _bank(user)
    product = _found(selectors.product_get_for, user, pk)
    if product.bank_id != user.organisation_id:
        raise Http404
    form = ProductForm(request.POST or None, initial=ProductForm.initial_for(product))
    if request.method == "POST":
        if form.is_valid():
            try:
                services.product_update(actor=user, product=product, data=form.cleaned_data)
            except DomainError as error:
                _refused(request, error)
                form.add_service_errors(error)
            else:
                messages.success(request, _("Product “%(name)s” saved.") % {"name": product.name})
                return redirect("credit:products")
        return _product_form_page(request, form, product, status=400)
    return _product_form_page(request, form, product)


# ---------------------------------------------------------------- staff: overview and search


@login_required
@require_GET
def overview(request):
    """The district's credit overview: grades of the latest run, drift, financing facilitated."""
    _staff(request.user)
    run = selectors.latest_run()
    distribution = selectors.grade_distribution(run)
    context = {
        "run": run,
        "distribution": distribution,
        "grade_chart": charts.grade_distribution_chart(distribution),
        "facilitated": selectors.financing_facilitated(),
        "facilitated_year": selectors.financing_facilitated(year=_today().year),
        "year": _today().year,
        "average_grade": selectors.average_grade(),
        "open_objections": selectors.open_objections_count(),
        "feed_summary": selectors.feed_load_summary(),
        "can_manage": can_manage_credit(request.user),
        "q": "",
    }
    return render(request, "credit/overview.html", context)


def _date_param(raw: str) -> dt.date | None:
    """A YYYY-MM-DD query parameter; anything else (or an impossible date) is ignored."""
    try:
        return parse_date(raw.strip())
    except ValueError:
        return None


@login_required
@require_GET
def granted(request):
    """The loans granted through the platform (the cockpit's financing figures link here), by year."""
    _staff(request.user)
    raw = request.GET.get("year", "").strip()
    year = int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else None
    until = _date_param(request.GET.get("until", "")) if year else None  # the cockpit as of a past month
    context = {
        "offers": selectors.granted_offers(year=year, until=until),
        "totals": selectors.financing_facilitated(year=year, until=until),
        "year": year,
        "until": until,
        "years": range(_today().year, _today().year - 5, -1),
    }
    return render(request, "credit/granted.html", context)


@login_required
@require_GET
def search(request):
    """Find a firm to open its report (HTMX: the results only). An exact USCC opens the report."""
    _staff(request.user)
    text = request.GET.get("q", "").strip()
    results = selectors.firms_search_for(request.user, text)
    if not request.htmx and len(results) == 1 and results[0].uscc == text.upper():
        return redirect("credit:report", uscc=results[0].uscc)
    template = "credit/_search_results.html" if request.htmx else "credit/search.html"
    return render(request, template, {"q": text, "results": results, "can_manage": can_manage_credit(request.user)})


# ---------------------------------------------------------------- objections


def _objection_viewer(user) -> None:
    if not (is_district_staff(user) or is_firm_user(user)):
        raise PermissionDenied


@login_required
@require_GET
def objections(request):
    """Staff: every objection, open ones first, overdue in red; a firm: its own."""
    user = request.user
    _objection_viewer(user)
    firm = is_firm_user(user)
    table = ObjectionTable(selectors.objections_queue_for(user), today=_today(), firm_view=firm)
    context = {"table": _page(request, table, per_page=50), "firm": firm, "can_manage": can_manage_credit(user)}
    return render(request, "credit/objections.html", context)


def _render_objection(request, objection, *, answer_form: ObjectionAnswerForm | None = None, status: int = 200):
    user = request.user
    open_ = objection.status == ObjectionStatus.OPEN
    context = {
        "objection": objection,
        "record": selectors.feed_record_get(objection.feed, objection.record_id),
        "is_open": open_,
        "overdue": open_ and objection.due_on is not None and objection.due_on < _today(),
        "answer_form": (answer_form or ObjectionAnswerForm()) if open_ and can_manage_credit(user) else None,
        "can_withdraw": open_ and is_firm_user(user) and objection.enterprise_id == user.enterprise_id,
        "is_staff": is_district_staff(user),
    }
    return render(request, "credit/objection_detail.html", context, status=status)


@login_required
@require_GET
def objection_detail(request, pk: int):
    _objection_viewer(request.user)
    return _render_objection(request, _found(selectors.objection_get_for, request.user, pk))


@login_required
@require_POST
def objection_answer(request, pk: int):
    user = request.user
    _manager(user)
    objection = _found(selectors.objection_get_for, user, pk)
    form = ObjectionAnswerForm(request.POST)
    if form.is_valid():
        try:
            objection = services.objection_answer(
                actor=user,
                objection=objection,
                upheld=form.cleaned_data["upheld"] == "yes",
                answer=form.cleaned_data["answer"],
            )
        except DomainError as error:
            _refused(request, error)
            form.add_service_errors(error)
        else:
            messages.success(request, _("Objection answered: %(status)s.") % {"status": objection.get_status_display()})
            return redirect("credit:objection_detail", pk=objection.pk)
    return _render_objection(request, objection, answer_form=form, status=400)


@login_required
@require_POST
def objection_withdraw(request, pk: int):
    _firm(request.user)
    objection = _found(selectors.objection_get_for, request.user, pk)
    try:
        services.objection_withdraw(actor=request.user, objection=objection)
    except DomainError as error:
        _refused(request, error)
    else:
        messages.success(request, _("Objection withdrawn."))
    return redirect("credit:objection_detail", pk=objection.pk)


# ---------------------------------------------------------------- models


@login_required
@require_GET
def models(request):
    """Model versions with their cross-validated quality; credit managers activate one."""
    _staff(request.user)
    return render(
        request,
        "credit/models.html",
        {"models": selectors.models_list(), "can_manage": can_manage_credit(request.user)},
    )


def _scorecard_rows(spec: dict) -> list[dict]:
    """Per model variable: its label, IV, coefficient and bins (the missing bin last)."""
    rows = []
    for variable in spec.get("variables", []):
        bins = [*variable.get("bins", [])]
        missing = variable.get("missing")
        if missing:
            bins.append({**missing, "label": _("Missing")})
        rows.append(
            {
                "name": variable["name"],
                "label": feature_label(variable["name"]),
                "iv": variable.get("iv"),
                "coef": variable.get("coef"),
                "max_points": variable.get("max_points"),
                "trend": TREND_WORDS.get(variable.get("monotonic_trend", ""), ""),
                "bins": bins,
            }
        )
    return rows


@login_required
@require_GET
def model_detail(request, version: int):
    _staff(request.user)
    model = _found(selectors.model_get, version)
    spec = model.spec
    metrics = spec.get("metrics", {})
    bad_rates = metrics.get("bad_rate_by_grade", {})
    context = {
        "model": model,
        "metrics": metrics,
        "cv": metrics.get("cv", {}),
        "scaling": spec.get("scaling", {}),
        "bad_rates": [
            (grade, {**row, "pct": f"{row['bad_rate'] * 100:.1f}%" if row["count"] else "—"})
            for grade, row in ((grade, bad_rates.get(grade, {"count": 0, "bad_rate": 0.0})) for grade in GRADES)
        ],
        "variables": _scorecard_rows(spec),
        "dropped": [
            {**row, "label": feature_label(row["name"]), "reason": dropped_text(row)} for row in spec.get("dropped", [])
        ],
        "psi_chart": charts.psi_chart(selectors.psi_series(model), settings.ZHIYUAN_CREDIT_PSI_ALERT),
        "runs": selectors.runs_list(model).order_by("-as_of", "-id")[:100],
        "threshold": settings.ZHIYUAN_CREDIT_PSI_ALERT,
        "can_manage": can_manage_credit(request.user),
    }
    return render(request, "credit/model_detail.html", context)


@login_required
@require_POST
def model_activate(request, version: int):
    _manager(request.user)
    model = _found(selectors.model_get, version)
    try:
        scoring.model_activate(actor=request.user, model=model)
    except DomainError as error:
        _refused(request, error)
    else:
        messages.success(request, _("Model v%(version)s is now the active scorecard.") % {"version": model.version})
    return redirect("credit:models")


# ---------------------------------------------------------------- feeds


def _render_feeds(request, *, form: FeedUploadForm | None = None, status: int = 200):
    context = {
        "table": _page(request, FeedLoadTable(selectors.feed_loads()), per_page=50),
        "form": form or FeedUploadForm(),
        "feeds": Feed.choices,
        "pending": selectors.feed_uploads_pending(),
        "can_manage": True,
    }
    return render(request, "credit/feeds.html", context, status=status)


@login_required
@require_GET
def feed_list(request):
    """Recent feed loads, the templates, and the upload: check first, then confirm."""
    _manager(request.user)
    return _render_feeds(request)


@login_required
@require_GET
def feed_template(request, feed: str):
    _manager(request.user)
    try:
        content = feeds.feed_template(feed)
    except ValidationFailed:
        raise Http404 from None
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="credit-{feed}-template.xlsx"'
    return response


@login_required
@require_POST
def feed_upload(request):
    _manager(request.user)
    form = FeedUploadForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            upload = feeds.feed_upload_create(
                actor=request.user, feed=data["feed"], source=data["source"], file=data["file"]
            )
        except DomainError as error:
            _refused(request, error)
            form.add_service_errors(error)
        else:
            return redirect("credit:feed_upload_detail", pk=upload.pk)
    return _render_feeds(request, form=form, status=400)


def _render_upload(request, upload: FeedUpload, *, report=None, status: int = 200):
    error = None
    if report is None and upload.state == FeedUpload.State.PENDING:
        try:
            report = feeds.feed_upload_check(actor=request.user, upload=upload)
        except DomainError as problem:
            if isinstance(problem, (NotFoundError, PermissionDeniedError)):
                _refused(request, problem)
            error = _error_text(problem)
    context = {"upload": upload, "report": report, "error": error}
    return render(request, "credit/feed_upload.html", context, status=status)


@login_required
@require_GET
def feed_upload_detail(request, pk: int):
    """The dry run of an uploaded file: every bad row, or what the import will do."""
    _manager(request.user)
    return _render_upload(request, _found(feeds.feed_upload_get_for, request.user, pk))


@login_required
@require_POST
def feed_upload_confirm(request, pk: int):
    _manager(request.user)
    upload = _found(feeds.feed_upload_get_for, request.user, pk)
    try:
        report = feeds.feed_upload_confirm(actor=request.user, upload=upload)
    except DomainError as error:
        _refused(request, error)
        return redirect("credit:feed_upload_detail", pk=upload.pk)
    if not report.written:
        messages.error(request, _("Nothing was imported: the file has errors. Correct them and upload it again."))
        return _render_upload(request, upload, report=report, status=400)
    messages.success(
        request,
        _("%(feed)s imported: %(created)s records created, %(updated)s updated.")
        % {"feed": report.feed_label, "created": report.to_create, "updated": report.to_update},
    )
    return redirect("credit:feeds")


@login_required
@require_POST
def feed_upload_discard(request, pk: int):
    _manager(request.user)
    upload = _found(feeds.feed_upload_get_for, request.user, pk)
    try:
        feeds.feed_upload_discard(actor=request.user, upload=upload)
    except DomainError as error:
        _refused(request, error)
        return redirect("credit:feed_upload_detail", pk=upload.pk)
    messages.success(request, _("Upload discarded; nothing was imported."))
    return redirect("credit:feeds")


# ---------------------------------------------------------------- retention purges


@login_required
@require_GET
def purges(request):
    """The retention purge log: when, the cutoff, how many records per feed, and which ones."""
    _staff(request.user)
    logs = list(selectors.purge_logs()[:200])
    names = selectors.enterprise_names(
        {row.get("enterprise_id") for log in logs for rows in (log.removed or {}).values() for row in rows}
    )
    entries = [
        {
            "log": log,
            "feeds": [
                {
                    "feed": feed,
                    "label": Feed(feed).label if feed in Feed.values else feed,
                    "rows": [{**row, "firm": names.get(row.get("enterprise_id"), "")} for row in rows],
                }
                for feed, rows in (log.removed or {}).items()
            ],
        }
        for log in logs
    ]
    context = {"logs": entries, "can_manage": can_manage_credit(request.user)}
    return render(request, "credit/purges.html", context)
