"""Reads on credit data: who sees what, and the credit report itself.

Scoping, as everywhere: a firm sees its own report, consents, access log and objections; a bank sees
the consents given to it and — only through `services.report_access_for_bank` — the reports they
open; district staff see everything. Objects outside a user's scope are "not found".

Matching financing needs with loan products compares amount, term and industry; the grade is
compared only where the bank may know it (for the firm itself, for staff, or for a bank under a
live consent), so a bank cannot learn an unconsented firm's grade from which needs match.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, IntegerField, Max, Q, QuerySet, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from zhiyuan.accounts.models import User
from zhiyuan.accounts.permissions import is_district_staff
from zhiyuan.core.errors import NotFoundError
from zhiyuan.credit.features import FEATURE_BY_NAME, KNOCKOUT_BY_CODE, feature_label, reason_text
from zhiyuan.credit.models import (
    Consent,
    CourtRecord,
    CreditScore,
    Feed,
    FeedLoad,
    FeedUpload,
    FinancingOffer,
    HeadcountRecord,
    HonourRecord,
    LoanProduct,
    LoanRecord,
    Objection,
    ObjectionStatus,
    OfferStatus,
    Outcome,
    PenaltyRecord,
    PurgeLog,
    RepaymentRecord,
    ReportAccess,
    ScoreModel,
    ScoringRun,
    TaxRecord,
    UtilityRecord,
)
from zhiyuan.credit.permissions import is_bank_user, is_firm_user
from zhiyuan.credit.scorecard import GRADE_SCALE, GRADES
from zhiyuan.enterprises.models import Enterprise
from zhiyuan.servicedesk.models import ServiceRequest

FEED_MODELS = {
    Feed.TAX: TaxRecord,
    Feed.HEADCOUNT: HeadcountRecord,
    Feed.UTILITIES: UtilityRecord,
    Feed.LOANS: LoanRecord,
    Feed.REPAYMENTS: RepaymentRecord,
    Feed.COURT: CourtRecord,
    Feed.PENALTIES: PenaltyRecord,
    Feed.HONOURS: HonourRecord,
    Feed.OUTCOMES: Outcome,
}
# The period each feed's records describe, for "how fresh" (the latest one on record).
FEED_PERIOD_FIELD = {
    Feed.TAX: "year",
    Feed.HEADCOUNT: "month",
    Feed.UTILITIES: "month",
    Feed.LOANS: "start_on",
    Feed.REPAYMENTS: "due_on",
    Feed.COURT: "filed_on",
    Feed.PENALTIES: "decided_on",
    Feed.HONOURS: "granted_on",
}
REPORT_FEEDS = list(FEED_PERIOD_FIELD)
TREND_POINTS = 12


def feed_record_get(feed: str, record_id: int):
    """One feed record by feed and id (None if gone)."""
    model = FEED_MODELS.get(feed)
    if model is None:
        return None
    return model.objects.filter(pk=record_id).first()


def _firm_scope(queryset: QuerySet, user: User) -> QuerySet:
    if is_district_staff(user):
        return queryset
    if is_firm_user(user):
        return queryset.filter(enterprise_id=user.enterprise_id)
    return queryset.none()


# -- consents and access ---------------------------------------------------------------------------


def consents_visible_to(user: User) -> QuerySet[Consent]:
    """The firm's own consents; the consents given to a bank; all for district staff."""
    queryset = Consent.objects.select_related("enterprise", "bank", "granted_by", "revoked_by")
    if is_bank_user(user):
        return queryset.filter(bank=user.organisation)
    return _firm_scope(queryset, user)


def consent_get_for(user: User, pk: Any) -> Consent:
    consent = consents_visible_to(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if consent is None:
        raise NotFoundError()
    return consent


def live_consents_of_bank(user: User, today: dt.date | None = None) -> QuerySet[Consent]:
    """The consents a bank can use today: one row per consent, newest first."""
    today = today or timezone.localdate()
    if not is_bank_user(user):
        return Consent.objects.none()
    return (
        Consent.objects.filter(
            bank=user.organisation, revoked_at__isnull=True, valid_from__lte=today, valid_until__gte=today
        )
        .select_related("enterprise")
        .order_by("enterprise__name", "-valid_until")
    )


def accesses_visible_to(user: User) -> QuerySet[ReportAccess]:
    """The access log: the firm sees every bank request on its report; a bank its own requests."""
    queryset = ReportAccess.objects.select_related("enterprise", "bank", "user", "consent")
    if is_bank_user(user):
        return queryset.filter(bank=user.organisation)
    return _firm_scope(queryset, user)


# -- objections ------------------------------------------------------------------------------------


def objections_visible_to(user: User) -> QuerySet[Objection]:
    return _firm_scope(Objection.objects.select_related("enterprise", "raised_by", "answered_by"), user)


def objection_get_for(user: User, pk: Any) -> Objection:
    objection = objections_visible_to(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if objection is None:
        raise NotFoundError()
    return objection


def open_objection_keys(enterprise: Enterprise) -> set[tuple[str, int]]:
    """(feed, record id) of every record of the firm under an open objection."""
    return set(
        Objection.objects.filter(enterprise=enterprise, status=ObjectionStatus.OPEN).values_list("feed", "record_id")
    )


# -- the report --------------------------------------------------------------------------------------


@dataclass
class ReportRecord:
    """One feed record as shown in a report, with its dispute flag."""

    feed: str
    id: int
    label: str
    period: Any
    details: dict[str, Any]
    adverse: bool = False
    disputed: bool = False
    source: str = ""
    loaded_at: Any = None


@dataclass
class FeedFreshness:
    feed: str
    label: str
    records: int
    latest_period: Any
    loaded_at: Any
    sources: list[str]


@dataclass
class CreditReport:
    """Everything one firm's credit report shows (built by `report_build`)."""

    enterprise: Enterprise
    score: CreditScore | None
    model: ScoreModel | None
    pd_band: tuple[float, float] | None
    reasons: list[dict[str, Any]]
    knockout: str
    trend: list[dict[str, Any]]
    features: list[dict[str, Any]]
    freshness: list[FeedFreshness]
    records: dict[str, list[ReportRecord]] = field(default_factory=dict)
    disputed_count: int = 0
    synthetic: bool = False

    @property
    def grade(self) -> str:
        return self.score.grade if self.score else ""


def pd_band_of(grade: str) -> tuple[float, float]:
    """The PD interval of a grade on the master scale (lower, upper]."""
    bounds = [0.0] + [bound for _grade, bound in GRADE_SCALE] + [1.0]
    index = GRADES.index(grade)
    return bounds[index], bounds[index + 1]


def latest_score(enterprise: Enterprise) -> CreditScore | None:
    return (
        CreditScore.objects.filter(enterprise=enterprise)
        .select_related("run__model")
        .order_by("-as_of", "-run_id")
        .first()
    )


def _record_rows(enterprise: Enterprise, disputed: set[tuple[str, int]]) -> dict[str, list[ReportRecord]]:
    today = timezone.localdate()
    rows: dict[str, list[ReportRecord]] = defaultdict(list)

    def add(feed: str, record, period, details: dict[str, Any], adverse: bool = False) -> None:
        rows[feed].append(
            ReportRecord(
                feed=feed,
                id=record.pk,
                label=str(record),
                period=period,
                details=details,
                adverse=adverse,
                disputed=(feed, record.pk) in disputed,
                source=record.load.source,
                loaded_at=record.load.loaded_at,
            )
        )

    for record in TaxRecord.objects.filter(enterprise=enterprise).select_related("load").order_by("-year")[:5]:
        add(
            Feed.TAX,
            record,
            record.year,
            {"grade": record.grade, "tax_paid": record.tax_paid},
            record.grade in ("C", "D"),
        )
    for record in HeadcountRecord.objects.filter(enterprise=enterprise).select_related("load").order_by("-month")[:13]:
        add(Feed.HEADCOUNT, record, record.month, {"headcount": record.headcount})
    for record in UtilityRecord.objects.filter(enterprise=enterprise).select_related("load").order_by("-month")[:13]:
        add(
            Feed.UTILITIES,
            record,
            record.month,
            {"water_m3": record.water_m3, "electricity_kwh": record.electricity_kwh},
        )
    for record in LoanRecord.objects.filter(enterprise=enterprise).select_related("load").order_by("-start_on")[:20]:
        details = {
            "lender": record.lender,
            "amount": record.amount,
            "start_on": record.start_on,
            "end_on": record.end_on,
            "settled_on": record.settled_on,
        }
        add(Feed.LOANS, record, record.start_on, details)
    late = RepaymentRecord.objects.filter(Q(overdue_days__gt=0) | Q(paid_on__isnull=True, due_on__lt=today))
    for record in late.filter(enterprise=enterprise).select_related("load", "loan").order_by("-due_on")[:30]:
        details = {"due_on": record.due_on, "paid_on": record.paid_on, "overdue_days": record.overdue_days}
        add(Feed.REPAYMENTS, record, record.due_on, details, True)
    for record in CourtRecord.objects.filter(enterprise=enterprise).select_related("load").order_by("-filed_on"):
        details = {
            "kind": record.get_kind_display(),
            "court": record.court,
            "amount": record.amount,
            "listed_on": record.listed_on,
            "delisted_on": record.delisted_on,
            "retain_until": record.retain_until,
        }
        add(Feed.COURT, record, record.filed_on, details, True)
    for record in PenaltyRecord.objects.filter(enterprise=enterprise).select_related("load").order_by("-decided_on"):
        details = {
            "severity": record.get_severity_display(),
            "amount": record.amount,
            "reason": record.reason,
            "disclosed_until": record.disclosed_until,
        }
        add(Feed.PENALTIES, record, record.decided_on, details, True)
    for record in HonourRecord.objects.filter(enterprise=enterprise).select_related("load").order_by("-granted_on"):
        add(
            Feed.HONOURS,
            record,
            record.granted_on,
            {"kind": record.get_kind_display(), "expires_on": record.expires_on},
        )
    return dict(rows)


def _freshness(enterprise: Enterprise) -> list[FeedFreshness]:
    result = []
    for feed in REPORT_FEEDS:
        model = FEED_MODELS[feed]
        scope = Q(enterprise=enterprise)
        period = FEED_PERIOD_FIELD[feed]
        stats = model.objects.filter(scope).aggregate(
            records=Count("pk"), latest=Max(period), loaded=Max("load__loaded_at")
        )
        sources = sorted(set(model.objects.filter(scope).values_list("load__source", flat=True).distinct()[:5]))
        result.append(
            FeedFreshness(
                feed=feed,
                label=str(Feed(feed).label),
                records=stats["records"],
                latest_period=stats["latest"],
                loaded_at=stats["loaded"],
                sources=sources,
            )
        )
    return result


def report_build(enterprise: Enterprise) -> CreditReport:
    """The firm's credit report: latest score (points, grade, PD band), reasons in words, trend over
    the last scoring runs, the variables' values, what data it rests on and how fresh, and the
    records themselves with open objections flagged. Callers check who may see it."""
    score = latest_score(enterprise)
    disputed = open_objection_keys(enterprise)
    reasons = []
    knockout = ""
    features = []
    if score is not None:
        for reason in score.reasons:
            reasons.append({**reason, "text": reason_text(reason["code"], reason.get("value"))})
        if score.knockout in KNOCKOUT_BY_CODE:
            knockout = reason_text(score.knockout, None)
        # In the scorecard's order, not the JSON column's (PostgreSQL's jsonb does not keep key order).
        order = {name: index for index, name in enumerate(FEATURE_BY_NAME)}
        features = [
            {"name": name, "label": feature_label(name), "value": score.features[name]}
            for name in sorted(score.features, key=lambda name: order.get(name, len(order)))
        ]
    trend_rows = (
        CreditScore.objects.filter(enterprise=enterprise)
        .order_by("-as_of", "-run_id")
        .values("as_of", "points", "grade", "pd")[:TREND_POINTS]
    )
    trend = list(reversed(list(trend_rows)))
    model = score.run.model if score else None
    return CreditReport(
        enterprise=enterprise,
        score=score,
        model=model,
        pd_band=pd_band_of(score.grade) if score else None,
        reasons=reasons,
        knockout=knockout,
        trend=trend,
        features=features,
        freshness=_freshness(enterprise),
        records=_record_rows(enterprise, disputed),
        disputed_count=len(disputed),
        synthetic=bool(model and model.is_synthetic),
    )


def report_enterprise_for(user: User, uscc: str) -> Enterprise:
    """The firm whose report a firm user or district staff asks for (banks go through
    `services.report_access_for_bank`, which checks consent and logs)."""
    enterprise = Enterprise.objects.filter(uscc=str(uscc).strip().upper()).first()
    if enterprise is None:
        raise NotFoundError()
    if is_district_staff(user) or (is_firm_user(user) and user.enterprise_id == enterprise.pk):
        return enterprise
    raise NotFoundError()


# -- models and monitoring -------------------------------------------------------------------------


def models_list() -> QuerySet[ScoreModel]:
    return ScoreModel.objects.select_related("trained_by").order_by("-version")


def runs_list(model: ScoreModel | None = None) -> QuerySet[ScoringRun]:
    queryset = ScoringRun.objects.select_related("model").order_by("as_of", "id")
    return queryset.filter(model=model) if model else queryset


def psi_series(model: ScoreModel) -> dict[str, Any]:
    """PSI of the score and of each variable per scoring run of `model`, oldest first (for the chart)."""
    runs = list(runs_list(model).filter(finished_at__isnull=False))
    variables = [variable["name"] for variable in model.spec.get("variables", [])]
    return {
        "dates": [run.as_of.isoformat() for run in runs],
        "score": [run.psi_score for run in runs],
        "variables": {name: [run.psi_features.get(name) for run in runs] for name in variables},
        "labels": {name: feature_label(name) for name in variables},
        # Variables whose PSI moves by design as time passes (firms age): shown, but never alerting.
        "exempt": [name for name in variables if name in FEATURE_BY_NAME and FEATURE_BY_NAME[name].drifts_by_design],
    }


def grade_distribution(run: ScoringRun | None = None) -> list[tuple[str, int]]:
    """Firms per grade in a run (the latest finished one by default), in master-scale order."""
    run = run or ScoringRun.objects.filter(finished_at__isnull=False).order_by("-as_of", "-id").first()
    counts = run.grade_counts if run else {}
    return [(grade, int(counts.get(grade, 0))) for grade in GRADES]


def feed_loads() -> QuerySet[FeedLoad]:
    return FeedLoad.objects.select_related("loaded_by").order_by("-loaded_at", "-id")


# -- financing -------------------------------------------------------------------------------------


def products_visible_to(user: User) -> QuerySet[LoanProduct]:
    """A bank sees all its own products (published or not); everyone signed in sees published ones."""
    queryset = LoanProduct.objects.select_related("bank")
    if is_bank_user(user):
        return queryset.filter(Q(bank=user.organisation) | Q(is_active=True))
    return queryset.filter(is_active=True)


def product_get_for(user: User, pk: Any) -> LoanProduct:
    product = products_visible_to(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if product is None:
        raise NotFoundError()
    return product


def needs_visible_to(user: User) -> QuerySet[ServiceRequest]:
    """Financing needs: banks and staff see the published open ones; a firm sees its own."""
    from zhiyuan.servicedesk.models import Category
    from zhiyuan.servicedesk.selectors import financing_needs_for_bank

    if is_firm_user(user):
        return ServiceRequest.objects.filter(enterprise_id=user.enterprise_id, category=Category.FINANCING).order_by(
            "-received_on", "-id"
        )
    return financing_needs_for_bank(user)


def need_get_for(user: User, pk: Any) -> ServiceRequest:
    need = needs_visible_to(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if need is None:
        raise NotFoundError()
    return need


def offers_visible_to(user: User) -> QuerySet[FinancingOffer]:
    queryset = FinancingOffer.objects.select_related("need__enterprise", "bank", "product")
    if is_bank_user(user):
        return queryset.filter(bank=user.organisation)
    if is_firm_user(user):
        return queryset.filter(need__enterprise_id=user.enterprise_id)
    return queryset if is_district_staff(user) else queryset.none()


def offer_get_for(user: User, pk: Any) -> FinancingOffer:
    offer = offers_visible_to(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if offer is None:
        raise NotFoundError()
    return offer


@dataclass
class Match:
    """A product that fits a need, and why (or what is not known)."""

    product: LoanProduct
    need: ServiceRequest
    grade_checked: bool
    notes: list[str]


def _grade_ok(grade: str, minimum: str) -> bool:
    return GRADES.index(grade) <= GRADES.index(minimum)


def _fits(product: LoanProduct, need: ServiceRequest, grade: str | None) -> tuple[bool, bool, list[str]]:
    """(fits, grade compared, notes). Amount, term and industry must fit; the grade only when known."""
    notes: list[str] = []
    amount = need.financing_amount
    if amount is not None and not (product.amount_min <= amount <= product.amount_max):
        return False, False, notes
    term = need.financing_term_months
    if term is not None and not (product.term_min_months <= term <= product.term_max_months):
        return False, False, notes
    section = need.enterprise.industry.section if need.enterprise.industry_id else None
    if product.industry_sections and section not in product.industry_sections:
        return False, False, notes
    if product.collateral_required and not need.financing_collateral:
        notes.append(_("Collateral required; the need offers none."))
    if not product.min_grade:
        return True, False, notes
    if grade is None:
        notes.append(_("Eligible from grade %(grade)s; the firm's grade is not shown.") % {"grade": product.min_grade})
        return True, False, notes
    return _grade_ok(grade, product.min_grade), True, notes


def _current_grades(enterprise_ids: list[int]) -> dict[int, str]:
    """The current grade of each firm: that of its latest score, ordered as `latest_score` orders
    (as-of date, then run), so a back-dated run made later does not count as the newest."""
    rows = (
        CreditScore.objects.filter(enterprise_id__in=enterprise_ids)
        .order_by("enterprise_id", "as_of", "run_id")
        .values_list("enterprise_id", "grade")
    )
    return dict(rows)  # later rows overwrite earlier ones: the latest wins


def matches_for_need(user: User, need: ServiceRequest) -> list[Match]:
    """Published products that fit a need. The grade is compared for the firm itself, for staff, and
    for a bank the firm gave a live consent."""
    grade = None
    if not is_bank_user(user) or live_consents_of_bank(user).filter(enterprise_id=need.enterprise_id).exists():
        grade = _current_grades([need.enterprise_id]).get(need.enterprise_id)
    result = []
    for product in LoanProduct.objects.filter(is_active=True).select_related("bank"):
        fits, checked, notes = _fits(product, need, grade)
        if fits:
            result.append(Match(product=product, need=need, grade_checked=checked, notes=notes))
    return result


def matches_for_bank(user: User) -> list[Match]:
    """For a bank: each published open need that fits one of its published products. The grade is
    compared only for firms that gave the bank a live consent."""
    if not is_bank_user(user):
        return []
    needs = list(needs_visible_to(user).select_related("enterprise__industry"))
    consented = set(live_consents_of_bank(user).values_list("enterprise_id", flat=True))
    grades = _current_grades([need.enterprise_id for need in needs if need.enterprise_id in consented])
    result = []
    for product in LoanProduct.objects.filter(bank=user.organisation, is_active=True):
        for need in needs:
            grade = grades.get(need.enterprise_id) if need.enterprise_id in consented else None
            fits, checked, notes = _fits(product, need, grade)
            if fits:
                result.append(Match(product=product, need=need, grade_checked=checked, notes=notes))
    return result


def financing_facilitated(*, year: int | None = None, until: dt.date | None = None) -> dict[str, Any]:
    """Loans granted through the platform: count and amount (10k yuan), optionally in one year and
    up to a day (the cockpit and the monthly report count as of a day)."""
    queryset = FinancingOffer.objects.filter(status=OfferStatus.GRANTED)
    if year:
        queryset = queryset.filter(granted_on__year=year)
    if until:
        queryset = queryset.filter(granted_on__lte=until)
    totals = queryset.aggregate(count=Count("pk"), amount=Sum("granted_amount"))
    return {"count": totals["count"], "amount": totals["amount"] or Decimal("0")}


def average_grade(*, as_of: dt.date | None = None) -> str | None:
    """The grade at the mean grade rank of the latest finished run (as of a day, if given)."""
    run = None
    if as_of is not None:
        run = (
            ScoringRun.objects.filter(finished_at__isnull=False, as_of__lte=as_of).order_by("-as_of", "-id").first()
        )
        if run is None:
            return None
    distribution = grade_distribution(run)
    total = sum(count for _grade, count in distribution)
    if not total:
        return None
    mean_rank = sum(GRADES.index(grade) * count for grade, count in distribution) / total
    return GRADES[round(mean_rank)]


# -- pages (added for the web pages; reads only) ------------------------------------------------------


def latest_run() -> ScoringRun | None:
    """The latest finished scoring run (what the overview shows)."""
    return (
        ScoringRun.objects.filter(finished_at__isnull=False).select_related("model").order_by("-as_of", "-id").first()
    )


def model_get(version: Any) -> ScoreModel:
    """One model version; NotFoundError when there is none."""
    model = ScoreModel.objects.filter(version=version).first() if str(version).isdigit() else None
    if model is None:
        raise NotFoundError()
    return model


def feed_load_summary() -> list[dict[str, Any]]:
    """Per feed: how many loads, rows in all, and the latest load (when, source, channel)."""
    totals = {
        row["feed"]: row
        for row in FeedLoad.objects.values("feed").annotate(loads=Count("pk"), rows=Sum("rows"), last=Max("loaded_at"))
    }
    latest = {feed: FeedLoad.objects.filter(feed=feed).order_by("-loaded_at", "-id").first() for feed in totals}
    return [
        {
            "feed": feed,
            "label": str(label),
            "loads": totals.get(feed, {}).get("loads", 0),
            "rows": totals.get(feed, {}).get("rows") or 0,
            "latest": latest.get(feed),
        }
        for feed, label in Feed.choices
    ]


def objections_queue_for(user: User) -> QuerySet[Objection]:
    """The objections a user sees, open ones first (earliest deadline first), then the newest closed."""
    return objections_visible_to(user).order_by(
        Case(When(status=ObjectionStatus.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()),
        "due_on",
        "-raised_at",
        "-id",
    )


def open_objections_count() -> int:
    return Objection.objects.filter(status=ObjectionStatus.OPEN).count()


def purge_logs() -> QuerySet[PurgeLog]:
    """The retention purge log, newest first."""
    return PurgeLog.objects.order_by("-ran_at", "-id")


def firms_search_for(user: User, text: str, limit: int = 20) -> list[Enterprise]:
    """Firms whose report the user may open, matching `text` (name, short name, USCC) — for the
    overview's search box. Staff only; anyone else finds nothing."""
    from zhiyuan.enterprises.selectors import enterprises_visible_to, search_enterprises

    text = (text or "").strip()
    if not text or not is_district_staff(user):
        return []
    return list(search_enterprises(enterprises_visible_to(user), text).order_by("name")[:limit])


def feed_uploads_pending() -> QuerySet[FeedUpload]:
    """Uploaded feed files checked but neither imported nor discarded yet."""
    return FeedUpload.objects.filter(state=FeedUpload.State.PENDING).select_related("uploaded_by")


def enterprise_names(ids: set[int] | list[int]) -> dict[int, str]:
    """Firm names by id (for logs that keep only the id, such as the purge log)."""
    wanted = [pk for pk in ids if isinstance(pk, int)]
    return dict(Enterprise.objects.filter(pk__in=wanted).values_list("pk", "name")) if wanted else {}


def granted_offers(*, year: int | None, until: dt.date | None = None) -> QuerySet[FinancingOffer]:
    """Loans granted through the platform (the list behind 'financing facilitated'), newest first;
    only those granted in `year` and up to `until` when given. For district staff pages."""
    queryset = FinancingOffer.objects.filter(status=OfferStatus.GRANTED).select_related(
        "need__enterprise", "bank", "product"
    )
    if year:
        queryset = queryset.filter(granted_on__year=year)
    if until:
        queryset = queryset.filter(granted_on__lte=until)
    return queryset.order_by("-granted_on", "-id")
