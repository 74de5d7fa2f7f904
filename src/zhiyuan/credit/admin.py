"""Admin for the credit system: read-only. Credit data changes only through its services (feed
imports, objections, consents, model activation), which audit every write and keep the reports,
flags and access logs consistent; the admin lets the administrator look, search and filter."""

from django.contrib import admin

from zhiyuan.accounts.models import Role
from zhiyuan.credit.models import (
    Consent,
    CourtRecord,
    CreditScore,
    FeedLoad,
    FinancingOffer,
    HeadcountRecord,
    HonourRecord,
    LoanProduct,
    LoanRecord,
    Objection,
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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown to the administrator role only, never editable here."""

    list_per_page = 50

    def has_view_permission(self, request, obj=None):
        user = request.user
        return bool(user.is_authenticated and user.is_active and user.role == Role.ADMIN)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


FEED_RECORDS = {
    TaxRecord: ["enterprise", "year", "grade", "tax_paid", "load"],
    HeadcountRecord: ["enterprise", "month", "headcount", "load"],
    UtilityRecord: ["enterprise", "month", "water_m3", "electricity_kwh", "load"],
    LoanRecord: ["enterprise", "lender", "contract_no", "amount", "start_on", "end_on", "load"],
    RepaymentRecord: ["enterprise", "loan", "due_on", "paid_on", "overdue_days", "retain_until"],
    CourtRecord: ["enterprise", "kind", "case_no", "filed_on", "listed_on", "delisted_on", "retain_until"],
    PenaltyRecord: ["enterprise", "authority", "decision_no", "severity", "decided_on", "disclosed_until"],
    HonourRecord: ["enterprise", "kind", "name", "granted_on", "expires_on"],
    Outcome: ["enterprise", "observed_on", "defaulted", "load"],
}

for model, columns in FEED_RECORDS.items():
    admin.site.register(
        model,
        type(
            f"{model.__name__}Admin",
            (ReadOnlyAdmin,),
            {
                "list_display": columns,
                "search_fields": ["enterprise__name", "enterprise__uscc"],
                "list_select_related": ["enterprise"],
                "raw_id_fields": ["enterprise"],
            },
        ),
    )


@admin.register(FeedLoad)
class FeedLoadAdmin(ReadOnlyAdmin):
    list_display = ["feed", "source", "channel", "rows", "loaded_by", "loaded_at", "is_synthetic"]
    list_filter = ["feed", "channel", "is_synthetic"]


@admin.register(ScoreModel)
class ScoreModelAdmin(ReadOnlyAdmin):
    list_display = ["version", "trained_at", "sample_size", "bad_count", "auc", "ks", "is_active", "is_synthetic"]


@admin.register(ScoringRun)
class ScoringRunAdmin(ReadOnlyAdmin):
    list_display = ["model", "as_of", "firms", "psi_score", "drift_alert", "finished_at"]


@admin.register(CreditScore)
class CreditScoreAdmin(ReadOnlyAdmin):
    list_display = ["enterprise", "as_of", "points", "grade", "knockout"]
    list_filter = ["grade"]
    search_fields = ["enterprise__name", "enterprise__uscc"]
    list_select_related = ["enterprise"]


@admin.register(Objection)
class ObjectionAdmin(ReadOnlyAdmin):
    list_display = ["enterprise", "record_label", "status", "raised_at", "due_on", "answered_at"]
    list_filter = ["status", "feed"]


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ["enterprise", "bank", "purpose", "valid_from", "valid_until", "revoked_at"]
    list_filter = ["purpose", "bank"]


@admin.register(ReportAccess)
class ReportAccessAdmin(ReadOnlyAdmin):
    list_display = ["at", "bank", "user", "enterprise", "purpose", "granted", "channel"]
    list_filter = ["granted", "bank"]


@admin.register(LoanProduct)
class LoanProductAdmin(ReadOnlyAdmin):
    list_display = ["name", "bank", "amount_min", "amount_max", "rate_min", "rate_max", "min_grade", "is_active"]


@admin.register(FinancingOffer)
class FinancingOfferAdmin(ReadOnlyAdmin):
    list_display = ["need", "bank", "amount", "rate", "status", "granted_amount", "granted_on"]
    list_filter = ["status", "bank"]


@admin.register(PurgeLog)
class PurgeLogAdmin(ReadOnlyAdmin):
    list_display = ["ran_at", "cutoff", "total"]
