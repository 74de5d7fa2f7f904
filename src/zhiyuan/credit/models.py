"""The SME credit system (中小微企业征信): the feeds the district holds on each firm, the scorecard
models trained on them, the scores, and the consent that alone lets a bank read a firm's report.

Every feed record points at the `FeedLoad` that brought it (which source, when, by whom), so a report
can say what it rests on and how fresh it is. Adverse records (late repayments, court records,
penalties) carry the date after which they stop counting; the purge task deletes them then.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Feed(models.TextChoices):
    TAX = "tax", _("Tax credit grade and tax paid")
    HEADCOUNT = "headcount", _("Social-insurance headcount")
    UTILITIES = "utilities", _("Water and electricity use")
    LOANS = "loans", _("Loans")
    REPAYMENTS = "repayments", _("Repayment events")
    COURT = "court", _("Court records")
    PENALTIES = "penalties", _("Administrative penalties")
    HONOURS = "honours", _("Honours")
    OUTCOMES = "outcomes", _("Default outcomes")


class FeedLoad(models.Model):
    """One delivery of one feed: a file upload or an API call. Every record it brought points here."""

    feed = models.CharField(_("feed"), max_length=20, choices=Feed.choices)
    source = models.CharField(_("source"), max_length=100, help_text=_("Who supplied the data, e.g. 区税务局."))
    channel = models.CharField(
        _("channel"), max_length=10, choices=[("file", _("File")), ("api", _("API")), ("synth", _("Synthetic"))]
    )
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("loaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    loaded_at = models.DateTimeField(_("loaded at"), auto_now_add=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    is_synthetic = models.BooleanField(_("synthetic"), default=False)

    class Meta:
        verbose_name = _("feed load")
        verbose_name_plural = _("feed loads")
        ordering = ["-loaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_feed_display()} {self.loaded_at:%Y-%m-%d}"


class _FeedRecord(models.Model):
    """What every feed record has: the firm, and the load that brought it (source and load date)."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise", verbose_name=_("enterprise"), on_delete=models.CASCADE, related_name="+"
    )
    load = models.ForeignKey(FeedLoad, verbose_name=_("load"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True


class TaxGrade(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    M = "M", "M"
    C = "C", "C"
    D = "D", "D"


class TaxRecord(_FeedRecord):
    """纳税信用等级 and tax paid for one firm and year (from the tax bureau)."""

    year = models.PositiveSmallIntegerField(_("year"))
    grade = models.CharField(_("tax credit grade"), max_length=1, choices=TaxGrade.choices, blank=True)
    tax_paid = models.DecimalField(_("tax paid (10k yuan)"), max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("tax record")
        verbose_name_plural = _("tax records")
        ordering = ["enterprise", "-year"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "year"], name="credit_tax_unique_year")]

    def __str__(self) -> str:
        return f"{self.year} {self.grade or '-'} {self.tax_paid if self.tax_paid is not None else ''}".strip()


class HeadcountRecord(_FeedRecord):
    """Social-insurance headcount (社保缴纳人数) for one firm and month (the first of the month)."""

    month = models.DateField(_("month"))
    headcount = models.PositiveIntegerField(_("insured staff"))

    class Meta:
        verbose_name = _("social-insurance headcount")
        verbose_name_plural = _("social-insurance headcounts")
        ordering = ["enterprise", "-month"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "month"], name="credit_headcount_unique_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.headcount}"


class UtilityRecord(_FeedRecord):
    """Water (m³) and electricity (kWh) use for one firm and month (the first of the month)."""

    month = models.DateField(_("month"))
    water_m3 = models.DecimalField(_("water (m³)"), max_digits=14, decimal_places=2, null=True, blank=True)
    electricity_kwh = models.DecimalField(
        _("electricity (kWh)"), max_digits=16, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("utility use")
        verbose_name_plural = _("utility use")
        ordering = ["enterprise", "-month"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "month"], name="credit_utility_unique_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.water_m3 or '-'} m³ {self.electricity_kwh or '-'} kWh"


class LoanRecord(_FeedRecord):
    """A loan the firm took (from the lenders' feed), keyed by lender and contract number."""

    lender = models.CharField(_("lender"), max_length=100)
    contract_no = models.CharField(_("contract number"), max_length=60)
    amount = models.DecimalField(_("amount (10k yuan)"), max_digits=14, decimal_places=2)
    start_on = models.DateField(_("start date"))
    end_on = models.DateField(_("maturity date"))
    settled_on = models.DateField(_("settled on"), null=True, blank=True)

    class Meta:
        verbose_name = _("loan")
        verbose_name_plural = _("loans")
        ordering = ["enterprise", "-start_on"]
        constraints = [models.UniqueConstraint(fields=["lender", "contract_no"], name="credit_loan_unique_contract")]

    def __str__(self) -> str:
        return f"{self.lender} {self.contract_no}"


class RepaymentRecord(_FeedRecord):
    """One instalment of a loan: due date, when it was paid, how many days late (0 = on time).

    An overdue instalment is adverse information: it stops counting `retain_until` (five years after
    it was settled, 征信业管理条例 §16) and is then purged."""

    loan = models.ForeignKey(LoanRecord, verbose_name=_("loan"), on_delete=models.CASCADE, related_name="repayments")
    due_on = models.DateField(_("due date"))
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    amount = models.DecimalField(_("amount (10k yuan)"), max_digits=14, decimal_places=2)
    overdue_days = models.PositiveIntegerField(_("days overdue"), default=0)
    retain_until = models.DateField(_("counts until"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("repayment")
        verbose_name_plural = _("repayments")
        ordering = ["loan", "due_on"]
        constraints = [models.UniqueConstraint(fields=["loan", "due_on"], name="credit_repayment_unique_due")]

    def __str__(self) -> str:
        return f"{self.loan} {self.due_on} +{self.overdue_days}"


class CourtKind(models.TextChoices):
    JUDGMENT = "judgment", _("Judgment against the firm")
    ENFORCEMENT = "enforcement", _("Enforcement (被执行)")
    DISHONEST = "dishonest", _("Dishonest judgment debtor (失信被执行人)")


class CourtRecord(_FeedRecord):
    """A court record naming the firm as the losing or enforced party.

    A 失信被执行人 listing counts while it lasts (`listed_on` … `delisted_on`); after delisting the court
    removes it (最高法《关于公布失信被执行人名单信息的若干规定》§10), so it is kept only as configured."""

    kind = models.CharField(_("kind"), max_length=20, choices=CourtKind.choices)
    case_no = models.CharField(_("case number"), max_length=80)
    court = models.CharField(_("court"), max_length=100, blank=True)
    filed_on = models.DateField(_("date"))
    amount = models.DecimalField(_("amount (10k yuan)"), max_digits=14, decimal_places=2, null=True, blank=True)
    listed_on = models.DateField(_("listed on"), null=True, blank=True)
    delisted_on = models.DateField(_("delisted on"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    retain_until = models.DateField(_("counts until"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("court record")
        verbose_name_plural = _("court records")
        ordering = ["enterprise", "-filed_on"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "kind", "case_no"], name="credit_court_unique_case")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.case_no}"


class PenaltySeverity(models.TextChoices):
    MINOR = "minor", _("Minor (not disclosed)")
    ORDINARY = "ordinary", _("Ordinary")
    SERIOUS = "serious", _("Serious")


class PenaltyRecord(_FeedRecord):
    """An administrative penalty (行政处罚). It counts during its disclosure period (公示期), after
    which it is purged."""

    authority = models.CharField(_("authority"), max_length=100)
    decision_no = models.CharField(_("decision number"), max_length=80)
    severity = models.CharField(_("severity"), max_length=10, choices=PenaltySeverity.choices)
    decided_on = models.DateField(_("decided on"))
    amount = models.DecimalField(_("fine (10k yuan)"), max_digits=14, decimal_places=2, null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    disclosed_until = models.DateField(_("disclosed until"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("administrative penalty")
        verbose_name_plural = _("administrative penalties")
        ordering = ["enterprise", "-decided_on"]
        constraints = [
            models.UniqueConstraint(fields=["authority", "decision_no"], name="credit_penalty_unique_decision")
        ]

    def __str__(self) -> str:
        return f"{self.authority} {self.decision_no}"


class HonourKind(models.TextChoices):
    HIGH_TECH = "high_tech", _("High-tech enterprise (高新技术企业)")
    SPECIALISED = "specialised", _("Specialised and sophisticated SME (专精特新)")
    LITTLE_GIANT = "little_giant", _("Little giant (专精特新小巨人)")
    AWARD = "award", _("Award")


class HonourRecord(_FeedRecord):
    """An honour or qualification held by the firm, valid from `granted_on` to `expires_on`."""

    kind = models.CharField(_("kind"), max_length=20, choices=HonourKind.choices)
    name = models.CharField(_("name"), max_length=200)
    granted_on = models.DateField(_("granted on"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)

    class Meta:
        verbose_name = _("honour")
        verbose_name_plural = _("honours")
        ordering = ["enterprise", "-granted_on"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "kind", "name", "granted_on"], name="credit_honour_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"


class Outcome(_FeedRecord):
    """A known outcome for training: did the firm default (90+ days overdue, written off, or listed
    as 失信) within the 12 months after `observed_on`? One row per firm and observation date."""

    observed_on = models.DateField(_("observation date"))
    defaulted = models.BooleanField(_("defaulted"))

    class Meta:
        verbose_name = _("default outcome")
        verbose_name_plural = _("default outcomes")
        ordering = ["-observed_on", "enterprise"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "observed_on"], name="credit_outcome_unique")]

    def __str__(self) -> str:
        return f"{self.observed_on} {'1' if self.defaulted else '0'}"


class PurgeLog(models.Model):
    """One run of the retention purge that removed something: the records it deleted (feed, id,
    firm, reference) so the removal can be accounted for after the data is gone."""

    ran_at = models.DateTimeField(_("ran at"), auto_now_add=True)
    cutoff = models.DateField(_("records expired before"))
    removed = models.JSONField(_("records removed"), default=dict)
    total = models.PositiveIntegerField(_("records removed"), default=0)

    class Meta:
        verbose_name = _("retention purge")
        verbose_name_plural = _("retention purges")
        ordering = ["-ran_at", "-id"]

    def __str__(self) -> str:
        return f"{self.cutoff}: {self.total}"


class FeedUpload(models.Model):
    """An uploaded feed file between its check (dry run) and the confirmed import.

    The file is stored with a random name (the original name is kept here); it is deleted once the
    upload is imported or discarded, and `load` then points at the FeedLoad the import created."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        IMPORTED = "imported", _("Imported")
        DISCARDED = "discarded", _("Discarded")

    feed = models.CharField(_("feed"), max_length=20, choices=Feed.choices)
    source = models.CharField(_("source"), max_length=100)
    file = models.FileField(_("file"), upload_to="credit/uploads/%Y/%m/", blank=True)
    original_name = models.CharField(_("file name"), max_length=255)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.CASCADE, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    load = models.ForeignKey(
        FeedLoad, verbose_name=_("load"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("feed upload")
        verbose_name_plural = _("feed uploads")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_feed_display()} {self.original_name} ({self.get_state_display()})"


# -- models and scores ----------------------------------------------------------------------------


class ScoreModel(models.Model):
    """A trained scorecard, versioned. `spec` is plain JSON (never pickle): the features with their
    bins and points, the logistic-regression coefficients, the points scaling, the grade scale,
    the metrics (AUC, KS, Gini, cross-validated mean and std, bad rate per grade) and the training
    sample's distributions that PSI monitoring compares against. Exactly one model is active."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    spec = models.JSONField(_("specification"))
    trained_at = models.DateTimeField(_("trained at"), auto_now_add=True)
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("trained by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    sample_size = models.PositiveIntegerField(_("training sample"))
    bad_count = models.PositiveIntegerField(_("defaults in the sample"))
    auc = models.FloatField(_("AUC"))
    ks = models.FloatField(_("KS"))
    is_active = models.BooleanField(_("active"), default=False)
    is_synthetic = models.BooleanField(_("trained on synthetic data"), default=False)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("scorecard model")
        verbose_name_plural = _("scorecard models")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="credit_one_active_model"
            )
        ]

    def __str__(self) -> str:
        return f"v{self.version}"


class ScoringRun(models.Model):
    """One scoring of all firms with one model as of one date, with the drift it measured: PSI of
    the score and of every variable against the model's training sample."""

    model = models.ForeignKey(ScoreModel, verbose_name=_("model"), on_delete=models.PROTECT, related_name="runs")
    as_of = models.DateField(_("as of"))
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    firms = models.PositiveIntegerField(_("firms scored"), default=0)
    psi_score = models.FloatField(_("PSI of the score"), null=True, blank=True)
    psi_features = models.JSONField(_("PSI per variable"), default=dict)
    grade_counts = models.JSONField(_("firms per grade"), default=dict)
    drift_alert = models.BooleanField(_("drift alert"), default=False)

    class Meta:
        verbose_name = _("scoring run")
        verbose_name_plural = _("scoring runs")
        ordering = ["-as_of", "-id"]

    def __str__(self) -> str:
        return f"{self.model} {self.as_of}"


class Grade(models.TextChoices):
    AAA = "AAA", "AAA"
    AA = "AA", "AA"
    A = "A", "A"
    BBB = "BBB", "BBB"
    BB = "BB", "BB"
    B = "B", "B"
    CCC = "CCC", "CCC"
    CC = "CC", "CC"
    C = "C", "C"


class CreditScore(models.Model):
    """A firm's score from one run: points, PD, grade, the knock-out rule that capped it (if any),
    the reason codes (stable codes with their parameters; worded at display time) and the feature
    values it used. The latest run's row is the firm's current score; earlier ones make the trend."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise", verbose_name=_("enterprise"), on_delete=models.CASCADE, related_name="+"
    )
    run = models.ForeignKey(ScoringRun, verbose_name=_("run"), on_delete=models.CASCADE, related_name="scores")
    as_of = models.DateField(_("as of"))
    points = models.FloatField(_("points"))
    pd = models.FloatField(_("probability of default"))
    grade = models.CharField(_("grade"), max_length=3, choices=Grade.choices)
    knockout = models.CharField(_("knock-out rule"), max_length=20, blank=True)
    reasons = models.JSONField(_("reason codes"), default=list)
    features = models.JSONField(_("feature values"), default=dict)

    class Meta:
        verbose_name = _("credit score")
        verbose_name_plural = _("credit scores")
        ordering = ["-as_of", "-id"]
        indexes = [models.Index(fields=["enterprise", "-as_of"])]
        constraints = [models.UniqueConstraint(fields=["enterprise", "run"], name="credit_score_unique_run")]

    def __str__(self) -> str:
        return f"{self.as_of} {self.grade}"


# -- objections, consent, access ----------------------------------------------------------------


class ObjectionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    UPHELD = "upheld", _("Upheld: record corrected")
    REJECTED = "rejected", _("Rejected: record stands")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Objection(models.Model):
    """A firm's objection (异议) to one feed record. While open, the record is flagged in every
    report; staff must answer by `due_on` (working days). Upheld removes the record."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise", verbose_name=_("enterprise"), on_delete=models.CASCADE, related_name="+"
    )
    feed = models.CharField(_("feed"), max_length=20, choices=Feed.choices)
    record_id = models.PositiveBigIntegerField(_("record"))
    record_label = models.CharField(_("record"), max_length=300)
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=10, choices=ObjectionStatus.choices, default=ObjectionStatus.OPEN)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("raised by"), on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField(_("raised at"), auto_now_add=True)
    due_on = models.DateField(_("answer due"), null=True, blank=True)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    reminded = models.BooleanField(_("overdue notice sent"), default=False)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["-raised_at", "-id"]
        indexes = [models.Index(fields=["feed", "record_id", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["feed", "record_id"],
                condition=models.Q(status="open"),
                name="credit_one_open_objection_per_record",
            )
        ]

    def __str__(self) -> str:
        return self.record_label


class Purpose(models.TextChoices):
    LOAN_APPROVAL = "loan_approval", _("Loan approval (贷款审批)")
    CREDIT_LINE = "credit_line", _("Credit line review (授信审查)")
    POST_LOAN = "post_loan", _("Post-loan management (贷后管理)")


class Consent(models.Model):
    """A firm's authorisation (授权) for one bank to read its credit report for one purpose during
    a period. Revocable at any time; a revoked or expired consent opens nothing."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise", verbose_name=_("enterprise"), on_delete=models.CASCADE, related_name="+"
    )
    bank = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("bank"), on_delete=models.PROTECT, related_name="+"
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("granted by"), on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-granted_at", "-id"]
        indexes = [models.Index(fields=["bank", "enterprise"])]

    def __str__(self) -> str:
        return f"{self.bank} {self.get_purpose_display()} {self.valid_from}–{self.valid_until}"


class ReportAccess(models.Model):
    """Every bank request for a firm's report, granted or refused: who, when, for what purpose,
    under which consent. The firm sees this log."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise", verbose_name=_("enterprise"), on_delete=models.CASCADE, related_name="+"
    )
    bank = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("bank"), on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="+"
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices, blank=True)
    consent = models.ForeignKey(
        Consent, verbose_name=_("consent"), null=True, blank=True, on_delete=models.SET_NULL, related_name="accesses"
    )
    granted = models.BooleanField(_("granted"))
    channel = models.CharField(_("channel"), max_length=10, default="web")
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("report access")
        verbose_name_plural = _("report accesses")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["enterprise", "-at"])]

    def __str__(self) -> str:
        return f"{self.bank} {self.at:%Y-%m-%d %H:%M}"


# -- financing ----------------------------------------------------------------------------------


class LoanProduct(models.Model):
    """A bank's loan product as published on the platform, with what it lends to: amount range,
    term, rate band, the grades and industries it accepts (empty = any)."""

    bank = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("bank"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    amount_min = models.DecimalField(_("minimum amount (10k yuan)"), max_digits=14, decimal_places=2)
    amount_max = models.DecimalField(_("maximum amount (10k yuan)"), max_digits=14, decimal_places=2)
    term_min_months = models.PositiveSmallIntegerField(_("minimum term (months)"))
    term_max_months = models.PositiveSmallIntegerField(_("maximum term (months)"))
    rate_min = models.DecimalField(_("lowest rate (%/year)"), max_digits=5, decimal_places=2)
    rate_max = models.DecimalField(_("highest rate (%/year)"), max_digits=5, decimal_places=2)
    min_grade = models.CharField(_("lowest eligible grade"), max_length=3, choices=Grade.choices, blank=True)
    industry_sections = models.JSONField(_("eligible industry sections (门类)"), default=list, blank=True)
    collateral_required = models.BooleanField(_("collateral required"), default=False)
    is_active = models.BooleanField(_("published"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    is_demo = models.BooleanField(_("demo data"), default=False)

    class Meta:
        verbose_name = _("loan product")
        verbose_name_plural = _("loan products")
        ordering = ["bank", "name"]

    def __str__(self) -> str:
        return self.name


class OfferStatus(models.TextChoices):
    OFFERED = "offered", _("Offered")
    ACCEPTED = "accepted", _("Accepted by the firm")
    DECLINED = "declined", _("Declined by the firm")
    WITHDRAWN = "withdrawn", _("Withdrawn by the bank")
    GRANTED = "granted", _("Loan granted")
    NOT_GRANTED = "not_granted", _("Not granted")


class FinancingOffer(models.Model):
    """A bank's response to a published financing need (a servicedesk 融资 request), and what came
    of it: the firm accepts or declines; the bank records the loan granted (amount, date), which is
    the platform's 'financing facilitated'."""

    need = models.ForeignKey(
        "servicedesk.ServiceRequest", verbose_name=_("financing need"), on_delete=models.CASCADE, related_name="offers"
    )
    bank = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("bank"), on_delete=models.PROTECT, related_name="+"
    )
    product = models.ForeignKey(
        LoanProduct, verbose_name=_("product"), null=True, blank=True, on_delete=models.SET_NULL, related_name="offers"
    )
    amount = models.DecimalField(_("amount offered (10k yuan)"), max_digits=14, decimal_places=2)
    term_months = models.PositiveSmallIntegerField(_("term (months)"))
    rate = models.DecimalField(_("rate (%/year)"), max_digits=5, decimal_places=2)
    message = models.TextField(_("message"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=OfferStatus.choices, default=OfferStatus.OFFERED)
    granted_amount = models.DecimalField(
        _("amount granted (10k yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    granted_on = models.DateField(_("granted on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("offered by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("offered at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    is_demo = models.BooleanField(_("demo data"), default=False)

    class Meta:
        verbose_name = _("financing offer")
        verbose_name_plural = _("financing offers")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["need", "bank"], condition=~models.Q(status="withdrawn"), name="credit_one_live_offer_per_bank"
            )
        ]

    def __str__(self) -> str:
        return f"{self.bank} {self.amount}"
