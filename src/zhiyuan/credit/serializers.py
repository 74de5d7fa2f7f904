"""Read and write shapes of the credit API (/api/credit/…).

Read shapes render what the selectors return; `report_data` turns a `selectors.CreditReport` into
plain JSON (Decimals and dates as strings), so a report reads the same whatever renders it. Write
shapes only check the form of the input (types, unknown keys); every rule of the domain — who may
do it, ranges, dates, the purpose list, the bank being a bank — is the services'
(zhiyuan.credit.services), which name the offending field in the one error body.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from zhiyuan.core.api import StrictSerializer
from zhiyuan.credit.models import Consent, FeedLoad, FinancingOffer, LoanProduct, Objection, ReportAccess, ScoreModel
from zhiyuan.credit.selectors import CreditReport, Match, psi_series
from zhiyuan.credit.services import consent_is_live
from zhiyuan.servicedesk.models import ServiceRequest


def plain(value: Any) -> Any:
    """A value as JSON can carry it: Decimals and dates as strings, containers recursively."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


# -- small shapes ------------------------------------------------------------------------------------


class CreditNamedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="__str__")


class CreditEnterpriseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    uscc = serializers.CharField()


# -- the report --------------------------------------------------------------------------------------


class KnockoutSerializer(serializers.Serializer):
    """The knock-out rule that capped the grade, whatever the points."""

    code = serializers.CharField()
    text = serializers.CharField()


class ReasonCodeSerializer(serializers.Serializer):
    """A reason code (stable) in words; `points_lost` is null for a knock-out."""

    code = serializers.CharField()
    feature = serializers.CharField(allow_blank=True)
    text = serializers.CharField()
    points_lost = serializers.FloatField(allow_null=True)


class TrendPointSerializer(serializers.Serializer):
    as_of = serializers.CharField()
    points = serializers.FloatField()
    grade = serializers.CharField()
    pd = serializers.FloatField()


class FeatureValueSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    value = serializers.FloatField(allow_null=True)


class FeedFreshnessSerializer(serializers.Serializer):
    """What one feed holds on the firm and how fresh it is."""

    feed = serializers.CharField()
    label = serializers.CharField()
    records = serializers.IntegerField()
    latest_period = serializers.CharField(allow_null=True, help_text=gettext_lazy("Year, or date of the period."))
    loaded_at = serializers.CharField(allow_null=True)
    sources = serializers.ListField(child=serializers.CharField())


class ReportRecordSerializer(serializers.Serializer):
    """One feed record in the report; `disputed` while an objection to it is open."""

    id = serializers.IntegerField()
    label = serializers.CharField()
    period = serializers.CharField(allow_null=True)
    details = serializers.DictField(child=serializers.JSONField())
    adverse = serializers.BooleanField()
    disputed = serializers.BooleanField()
    source = serializers.CharField(allow_blank=True)
    loaded_at = serializers.CharField(allow_null=True)


class ReportConsentSerializer(serializers.Serializer):
    """The consent a bank reads the report under."""

    id = serializers.IntegerField()
    purpose = serializers.CharField()
    purpose_display = serializers.CharField()
    valid_until = serializers.CharField()


class CreditReportSerializer(serializers.Serializer):
    """A firm's credit report. Score fields are null (grade empty) while the firm has not been scored."""

    uscc = serializers.CharField()
    name = serializers.CharField()
    grade = serializers.CharField(allow_blank=True)
    points = serializers.FloatField(allow_null=True)
    pd = serializers.FloatField(allow_null=True, help_text=gettext_lazy("Probability of default within 12 months."))
    pd_band = serializers.ListField(
        child=serializers.FloatField(),
        allow_null=True,
        help_text=gettext_lazy("The PD interval of the grade on the master scale: [lower, upper]."),
    )
    as_of = serializers.CharField(allow_null=True)
    model_version = serializers.IntegerField(allow_null=True)
    synthetic = serializers.BooleanField(help_text=gettext_lazy("True when the model was trained on synthetic data."))
    knockout = KnockoutSerializer(allow_null=True)
    reasons = ReasonCodeSerializer(many=True)
    trend = TrendPointSerializer(many=True)
    features = FeatureValueSerializer(many=True)
    freshness = FeedFreshnessSerializer(many=True)
    records = serializers.DictField(
        child=ReportRecordSerializer(many=True), help_text=gettext_lazy("The records per feed.")
    )
    disputed_count = serializers.IntegerField()
    consent = ReportConsentSerializer(
        allow_null=True, help_text=gettext_lazy("For a bank: the consent it reads under.")
    )


def report_data(report: CreditReport, consent: Consent | None = None) -> dict[str, Any]:
    """The report as plain JSON in the shape of CreditReportSerializer."""
    score = report.score
    knockout = None
    if score is not None and score.knockout:
        knockout = {"code": score.knockout, "text": report.knockout}
    data = {
        "uscc": report.enterprise.uscc,
        "name": report.enterprise.name,
        "grade": report.grade,
        "points": score.points if score else None,
        "pd": score.pd if score else None,
        "pd_band": list(report.pd_band) if report.pd_band else None,
        "as_of": score.as_of if score else None,
        "model_version": report.model.version if report.model else None,
        "synthetic": report.synthetic,
        "knockout": knockout,
        "reasons": [
            {
                "code": reason["code"],
                "feature": reason.get("feature") or "",
                "text": str(reason["text"]),
                "points_lost": reason.get("points_lost"),
            }
            for reason in report.reasons
        ],
        "trend": [
            {"as_of": row["as_of"], "points": row["points"], "grade": row["grade"], "pd": row["pd"]}
            for row in report.trend
        ],
        "features": [
            {"name": row["name"], "label": str(row["label"]), "value": row["value"]} for row in report.features
        ],
        "freshness": [
            {
                "feed": str(row.feed),
                "label": row.label,
                "records": row.records,
                "latest_period": None if row.latest_period is None else str(plain(row.latest_period)),
                "loaded_at": row.loaded_at,
                "sources": list(row.sources),
            }
            for row in report.freshness
        ],
        "records": {
            str(feed): [
                {
                    "id": record.id,
                    "label": record.label,
                    "period": None if record.period is None else str(plain(record.period)),
                    "details": record.details,
                    "adverse": record.adverse,
                    "disputed": record.disputed,
                    "source": record.source,
                    "loaded_at": record.loaded_at,
                }
                for record in rows
            ]
            for feed, rows in report.records.items()
        },
        "disputed_count": report.disputed_count,
        "consent": None,
    }
    if consent is not None:
        data["consent"] = {
            "id": consent.pk,
            "purpose": consent.purpose,
            "purpose_display": str(consent.get_purpose_display()),
            "valid_until": consent.valid_until,
        }
    return plain(data)


# -- consents and the access log ----------------------------------------------------------------------


class ConsentSerializer(serializers.ModelSerializer):
    """A consent; `live` says whether it opens the report today (not revoked, within its period)."""

    enterprise = CreditEnterpriseSerializer(read_only=True)
    bank = CreditNamedSerializer(read_only=True)
    purpose = serializers.CharField(read_only=True)
    purpose_display = serializers.CharField(source="get_purpose_display", read_only=True)
    granted_by = CreditNamedSerializer(read_only=True)
    revoked_by = CreditNamedSerializer(read_only=True, allow_null=True)
    live = serializers.SerializerMethodField()

    class Meta:
        model = Consent
        fields = [
            "id",
            "enterprise",
            "bank",
            "purpose",
            "purpose_display",
            "valid_from",
            "valid_until",
            "granted_by",
            "granted_at",
            "revoked_at",
            "revoked_by",
            "live",
        ]
        read_only_fields = fields

    def get_live(self, consent: Consent) -> bool:
        return consent_is_live(consent)


class ConsentGrantSerializer(StrictSerializer):
    """A consent to give: the bank (its organisation id), the purpose, and the period (from today
    unless `valid_from` says otherwise; `valid_until` is required)."""

    bank = serializers.IntegerField(
        required=False, allow_null=True, help_text=gettext_lazy("The bank's organisation id.")
    )
    purpose = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text=gettext_lazy("loan_approval, credit_line or post_loan."),
    )
    valid_from = serializers.DateField(required=False, allow_null=True, default=None)
    valid_until = serializers.DateField(required=False, allow_null=True, default=None)


class ReportAccessSerializer(serializers.ModelSerializer):
    """One bank request for a report, granted or refused."""

    enterprise = CreditEnterpriseSerializer(read_only=True)
    bank = CreditNamedSerializer(read_only=True)
    user = CreditNamedSerializer(read_only=True)
    purpose = serializers.CharField(read_only=True)
    consent = serializers.IntegerField(source="consent_id", read_only=True, allow_null=True)

    class Meta:
        model = ReportAccess
        fields = ["id", "enterprise", "bank", "user", "purpose", "consent", "granted", "channel", "at"]
        read_only_fields = fields


# -- objections ----------------------------------------------------------------------------------------


class ObjectionSerializer(serializers.ModelSerializer):
    enterprise = CreditEnterpriseSerializer(read_only=True)
    feed = serializers.CharField(read_only=True)
    feed_display = serializers.CharField(source="get_feed_display", read_only=True)
    status = serializers.CharField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    raised_by = CreditNamedSerializer(read_only=True)
    answered_by = CreditNamedSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Objection
        fields = [
            "id",
            "enterprise",
            "feed",
            "feed_display",
            "record_id",
            "record_label",
            "reason",
            "status",
            "status_display",
            "raised_by",
            "raised_at",
            "due_on",
            "answer",
            "answered_by",
            "answered_at",
        ]
        read_only_fields = fields


class ObjectionRaiseSerializer(StrictSerializer):
    """An objection to one of the firm's own feed records (the feed and the record's id, as in the report)."""

    feed = serializers.CharField()
    record_id = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(allow_blank=True, required=False, default="")


class ObjectionAnswerSerializer(StrictSerializer):
    upheld = serializers.BooleanField(help_text=gettext_lazy("True removes the record; false lets it stand."))
    answer = serializers.CharField(allow_blank=True)


# -- loan products ---------------------------------------------------------------------------------------

PRODUCT_FIELDS = [
    "id",
    "bank",
    "name",
    "description",
    "amount_min",
    "amount_max",
    "term_min_months",
    "term_max_months",
    "rate_min",
    "rate_max",
    "min_grade",
    "industry_sections",
    "collateral_required",
    "is_active",
    "created_at",
    "updated_at",
]


class LoanProductSerializer(serializers.ModelSerializer):
    """A bank's loan product: amounts in 10k yuan, terms in months, rates in % a year."""

    bank = CreditNamedSerializer(read_only=True)
    min_grade = serializers.CharField(read_only=True)
    industry_sections = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = LoanProduct
        fields = PRODUCT_FIELDS
        read_only_fields = fields


class LoanProductRefSerializer(serializers.ModelSerializer):
    bank = CreditNamedSerializer(read_only=True)

    class Meta:
        model = LoanProduct
        fields = ["id", "name", "bank"]
        read_only_fields = fields


class LoanProductWriteSerializer(StrictSerializer):
    """A product to publish, or the fields to change (PATCH sends only those). The ranges, the rate
    ceiling, grades and industry sections are checked by the service."""

    name = serializers.CharField(required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    amount_min = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)
    amount_max = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)
    term_min_months = serializers.IntegerField(required=False, allow_null=True)
    term_max_months = serializers.IntegerField(required=False, allow_null=True)
    rate_min = serializers.DecimalField(max_digits=5, decimal_places=2, required=False, allow_null=True)
    rate_max = serializers.DecimalField(max_digits=5, decimal_places=2, required=False, allow_null=True)
    min_grade = serializers.CharField(required=False, allow_blank=True)
    industry_sections = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text=gettext_lazy('Industry sections (门类) the product lends to, e.g. ["C"]; empty = any.'),
    )
    collateral_required = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False, help_text=gettext_lazy("False unpublishes the product."))


# -- financing needs and offers ---------------------------------------------------------------------------


class FinancingOfferSerializer(serializers.ModelSerializer):
    """A bank's offer on a financing need, and what came of it."""

    enterprise = CreditEnterpriseSerializer(source="need.enterprise", read_only=True)
    bank = CreditNamedSerializer(read_only=True)
    product = LoanProductRefSerializer(read_only=True, allow_null=True)
    status = serializers.CharField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = FinancingOffer
        fields = [
            "id",
            "need",
            "enterprise",
            "bank",
            "product",
            "amount",
            "term_months",
            "rate",
            "message",
            "status",
            "status_display",
            "granted_amount",
            "granted_on",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class OfferCreateSerializer(StrictSerializer):
    """An offer on a need: amount (10k yuan), term (months), rate (% a year), optionally one of the
    bank's own published products and a message."""

    product = serializers.IntegerField(required=False, allow_null=True, default=None)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True, default=None)
    term_months = serializers.IntegerField(required=False, allow_null=True, default=None)
    rate = serializers.DecimalField(max_digits=5, decimal_places=2, required=False, allow_null=True, default=None)
    message = serializers.CharField(required=False, allow_blank=True, default="")


class OfferOutcomeSerializer(StrictSerializer):
    """What came of an accepted offer: granted (amount in 10k yuan, date; today if left out) or not."""

    granted = serializers.BooleanField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True, default=None)
    granted_on = serializers.DateField(required=False, allow_null=True, default=None)


NEED_FIELDS = [
    "id",
    "enterprise",
    "received_on",
    "status",
    "status_display",
    "financing_amount",
    "financing_term_months",
    "financing_purpose",
    "financing_collateral",
    "financing_share_with_banks",
]


class CreditNeedSerializer(serializers.ModelSerializer):
    """A financing need (a 融资 request of the service desk): the structured need, the offers the
    user may see on it and — for a bank — the ids of its own products that fit it (null for others)."""

    enterprise = CreditEnterpriseSerializer(read_only=True)
    status = serializers.CharField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    offers = serializers.SerializerMethodField()
    matching_products = serializers.SerializerMethodField()

    class Meta:
        model = ServiceRequest
        fields = [*NEED_FIELDS, "offers", "matching_products"]
        read_only_fields = fields

    @extend_schema_field(FinancingOfferSerializer(many=True))
    def get_offers(self, need: ServiceRequest) -> list:
        offers = self.context.get("offers", {}).get(need.pk, [])
        return FinancingOfferSerializer(offers, many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField(), allow_null=True))
    def get_matching_products(self, need: ServiceRequest) -> list[int] | None:
        matches = self.context.get("matching_products")
        if matches is None:
            return None
        return sorted(matches.get(need.pk, []))


class ProductMatchSerializer(serializers.Serializer):
    """A published product that fits the need; `grade_checked` says whether the firm's grade was compared."""

    product = LoanProductSerializer()
    grade_checked = serializers.BooleanField()
    notes = serializers.ListField(child=serializers.CharField())


class CreditNeedDetailSerializer(CreditNeedSerializer):
    matches = serializers.SerializerMethodField()

    class Meta(CreditNeedSerializer.Meta):
        fields = [*CreditNeedSerializer.Meta.fields, "matches"]
        read_only_fields = fields

    @extend_schema_field(ProductMatchSerializer(many=True))
    def get_matches(self, need: ServiceRequest) -> list:
        matches: list[Match] = self.context.get("matches", [])
        return ProductMatchSerializer(
            [
                {"product": m.product, "grade_checked": m.grade_checked, "notes": [str(n) for n in m.notes]}
                for m in matches
            ],
            many=True,
        ).data


# -- models and feeds ---------------------------------------------------------------------------------------


class ScoreModelSerializer(serializers.ModelSerializer):
    """A scorecard version with its metrics (AUC, KS, Gini, cross-validated mean and std, bad rate per grade)."""

    trained_by = CreditNamedSerializer(read_only=True, allow_null=True)
    gini = serializers.SerializerMethodField()
    metrics = serializers.SerializerMethodField()
    variables = serializers.SerializerMethodField()

    class Meta:
        model = ScoreModel
        fields = [
            "version",
            "trained_at",
            "trained_by",
            "sample_size",
            "bad_count",
            "auc",
            "ks",
            "gini",
            "is_active",
            "is_synthetic",
            "note",
            "variables",
            "metrics",
        ]
        read_only_fields = fields

    def get_gini(self, model: ScoreModel) -> float:
        return 2 * model.auc - 1

    @extend_schema_field(serializers.DictField(child=serializers.JSONField()))
    def get_metrics(self, model: ScoreModel) -> dict:
        return plain((model.spec or {}).get("metrics", {}))

    def get_variables(self, model: ScoreModel) -> list[str]:
        return [variable["name"] for variable in (model.spec or {}).get("variables", [])]


class FeedLoadSerializer(serializers.ModelSerializer):
    """One delivery of one feed: source, channel, who loaded it, when, how many rows."""

    feed = serializers.CharField(read_only=True)
    feed_display = serializers.CharField(source="get_feed_display", read_only=True)
    channel = serializers.CharField(read_only=True)
    loaded_by = CreditNamedSerializer(read_only=True, allow_null=True)

    class Meta:
        model = FeedLoad
        fields = [
            "id",
            "feed",
            "feed_display",
            "source",
            "channel",
            "file_name",
            "loaded_by",
            "loaded_at",
            "rows",
            "is_synthetic",
        ]
        read_only_fields = fields


class PsiSeriesSerializer(serializers.Serializer):
    """PSI of the score and of each variable per scoring run, oldest first."""

    dates = serializers.ListField(child=serializers.CharField())
    score = serializers.ListField(child=serializers.FloatField(allow_null=True))
    variables = serializers.DictField(child=serializers.ListField(child=serializers.FloatField(allow_null=True)))
    labels = serializers.DictField(child=serializers.CharField())


class ScoreModelDetailSerializer(ScoreModelSerializer):
    psi = serializers.SerializerMethodField()

    class Meta(ScoreModelSerializer.Meta):
        fields = [*ScoreModelSerializer.Meta.fields, "psi"]
        read_only_fields = fields

    @extend_schema_field(PsiSeriesSerializer)
    def get_psi(self, model: ScoreModel) -> dict:
        series = psi_series(model)
        return PsiSeriesSerializer({**series, "labels": {k: str(v) for k, v in series["labels"].items()}}).data
