"""The investment-project pipeline (项目库): one record per project from lead to production."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhiyuan.enterprises.models import Chain

MONEY = {"max_digits": 14, "decimal_places": 2}


class Stage(models.TextChoices):
    """Where a project is in its life; the order of the members is the order of the stages."""

    LEAD = "lead", _("Lead")
    NEGOTIATING = "negotiating", _("Negotiating")
    SIGNED = "signed", _("Signed")
    PREPARING = "preparing", _("Preliminary work")
    UNDER_CONSTRUCTION = "under_construction", _("Under construction")
    COMPLETED = "completed", _("Completed")
    IN_PRODUCTION = "in_production", _("In production")


class Pool(models.TextChoices):
    """The pools the district drives projects by (招商项目促落地、储备项目促前期、在建项目促竣工)."""

    ATTRACTION = "attraction", _("Attraction pool")
    RESERVE = "reserve", _("Reserve pool")
    CONSTRUCTION = "construction", _("Construction pool")
    PRODUCTION = "production", _("Completed or in production")


POOL_OF_STAGE = {
    Stage.LEAD: Pool.ATTRACTION,
    Stage.NEGOTIATING: Pool.ATTRACTION,
    Stage.SIGNED: Pool.RESERVE,
    Stage.PREPARING: Pool.RESERVE,
    Stage.UNDER_CONSTRUCTION: Pool.CONSTRUCTION,
    Stage.COMPLETED: Pool.PRODUCTION,
    Stage.IN_PRODUCTION: Pool.PRODUCTION,
}


class Status(models.TextChoices):
    """Whether the project is moving; 停/缓/撤 decisions change it (调 keeps it active)."""

    ACTIVE = "active", _("Active")
    STOPPED = "stopped", _("Stopped")
    POSTPONED = "postponed", _("Postponed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Project(models.Model):
    """An investment project. Its pool derives from its stage; stage and status change only
    through the transition and decision services, each audited."""

    name = models.CharField(_("project name"), max_length=200, db_index=True)
    code = models.CharField(
        _("investment project code"),
        max_length=24,
        unique=True,
        null=True,
        blank=True,
        help_text=_("GB/T 40058-2021, e.g. 2019-430202-34-03-012345"),
    )
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices, default=Stage.LEAD, db_index=True)
    pool = models.CharField(_("pool"), max_length=20, choices=Pool.choices, default=Pool.ATTRACTION, db_index=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    # Lead
    source = models.CharField(_("lead source"), max_length=100, blank=True)
    investor_name = models.CharField(_("investor"), max_length=200, blank=True)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("investor enterprise"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="projects",
    )
    chain = models.CharField(_("leading chain"), max_length=20, choices=Chain.choices, default=Chain.OTHER)
    industry = models.ForeignKey(
        "enterprises.Industry",
        verbose_name=_("industry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    description = models.TextField(_("construction content"), blank=True)
    estimated_investment = models.DecimalField(_("estimated investment (10k yuan)"), null=True, blank=True, **MONEY)
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    # Signing
    contract_date = models.DateField(_("contract date"), null=True, blank=True)
    total_investment = models.DecimalField(_("total investment (10k yuan)"), null=True, blank=True, **MONEY)
    land_area_mu = models.DecimalField(_("land need (mu)"), max_digits=10, decimal_places=2, null=True, blank=True)
    # Construction and production
    planned_start = models.DateField(_("planned start"), null=True, blank=True)
    actual_start = models.DateField(_("actual start"), null=True, blank=True)
    planned_completion = models.DateField(_("planned completion"), null=True, blank=True)
    actual_completion = models.DateField(_("actual completion"), null=True, blank=True)
    production_date = models.DateField(_("production date"), null=True, blank=True)
    first_year_output = models.DecimalField(_("first-year output (10k yuan)"), null=True, blank=True, **MONEY)
    # People
    investment_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("investment officer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    project_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("project officer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resume_on = models.DateField(_("resume on"), null=True, blank=True)
    is_demo = models.BooleanField(_("demo data"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("investment project")
        verbose_name_plural = _("investment projects")
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.name


class StageChange(models.Model):
    """One move of a project from one stage to the next, with the date it happened."""

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.CharField(_("from"), max_length=20, choices=Stage.choices)
    to_stage = models.CharField(_("to"), max_length=20, choices=Stage.choices)
    on = models.DateField(_("date"))
    note = models.TextField(_("note"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["on", "id"]

    def __str__(self) -> str:
        return f"{self.project} {self.from_stage} → {self.to_stage} {self.on}"


class FollowUp(models.Model):
    """A negotiation follow-up (洽谈记录) logged by the investment officer."""

    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="follow_ups")
    on = models.DateField(_("date"))
    note = models.TextField(_("note"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["-on", "-id"]

    def __str__(self) -> str:
        return f"{self.project} {self.on}"


class DecisionKind(models.TextChoices):
    STOP = "stop", _("Stop")
    POSTPONE = "postpone", _("Postpone")
    ADJUST = "adjust", _("Adjust")
    WITHDRAW = "withdraw", _("Withdraw")
    RESUME = "resume", _("Resume")


class Decision(models.Model):
    """A leader's 停/缓/调/撤 decision (or the resumption of a stopped or postponed project)."""

    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="decisions")
    kind = models.CharField(_("decision"), max_length=10, choices=DecisionKind.choices)
    reason = models.TextField(_("reason"))
    decided_on = models.DateField(_("decided on"))
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("approver"), on_delete=models.PROTECT, related_name="+"
    )
    resume_on = models.DateField(_("resume on"), null=True, blank=True)
    # For 调: the adjusted fields' values before and after, {field: [old, new]}.
    adjustments = models.JSONField(_("adjustments"), default=dict, blank=True)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["-decided_on", "-id"]

    def __str__(self) -> str:
        return f"{self.project} {self.get_kind_display()} {self.decided_on}"


class Milestone(models.Model):
    """A node of the project's schedule (节点) with planned and actual dates."""

    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="milestones")
    name = models.CharField(_("milestone"), max_length=200)
    planned_on = models.DateField(_("planned date"))
    actual_on = models.DateField(_("actual date"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["planned_on", "id"]
        indexes = [models.Index(fields=["actual_on", "planned_on"])]

    def __str__(self) -> str:
        return self.name


class MonthlyInvestment(models.Model):
    """Investment completed in one month (本月完成投资, 万元); `month` is the first day of the month."""

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="monthly_investments"
    )
    month = models.DateField(_("month"))
    amount = models.DecimalField(_("completed this month (10k yuan)"), **MONEY)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("monthly investment")
        verbose_name_plural = _("monthly investments")
        ordering = ["month"]
        constraints = [models.UniqueConstraint(fields=["project", "month"], name="one_investment_entry_per_month")]

    def __str__(self) -> str:
        return f"{self.project} {self.month:%Y-%m} {self.amount}"


class KeyProject(models.Model):
    """A project's place on a year's key-project list (重点项目), with its plan and who answers for it."""

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="key_listings"
    )
    year = models.PositiveIntegerField(_("year"), db_index=True)
    sequence = models.PositiveIntegerField(_("no."), default=0)
    planned_investment = models.DecimalField(_("annual planned investment (10k yuan)"), **MONEY)
    liaison_leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("liaison leader"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    responsible_unit = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("responsible unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("key project")
        verbose_name_plural = _("key projects")
        ordering = ["year", "sequence", "id"]
        constraints = [models.UniqueConstraint(fields=["project", "year"], name="one_key_listing_per_year")]

    def __str__(self) -> str:
        return f"{self.year} {self.project}"


class BlockerStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


class Blocker(models.Model):
    """A problem holding a project up (问题), assigned to a unit with a due date; escalated if late."""

    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="blockers")
    description = models.TextField(_("problem"))
    unit = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("assigned unit"), on_delete=models.PROTECT, related_name="+"
    )
    due_on = models.DateField(_("due date"))
    status = models.CharField(_("status"), max_length=10, choices=BlockerStatus.choices, default=BlockerStatus.OPEN)
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("raised by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("raised at"), auto_now_add=True)

    class Meta:
        verbose_name = _("blocker")
        verbose_name_plural = _("blockers")
        ordering = ["status", "due_on"]

    def __str__(self) -> str:
        return f"{self.project}: {self.description[:40]}"


class Attachment(models.Model):
    """A document or photo attached to a project, with its SHA-256."""

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to="projects/%Y/%m/")
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.caption or self.file.name


class LandTarget(models.Model):
    """The year's land-acquisition targets (征拆): collective land in 亩 and state-owned housing in m²."""

    year = models.PositiveIntegerField(_("year"), unique=True)
    collective_land_mu = models.DecimalField(_("collective land target (mu)"), max_digits=12, decimal_places=2)
    state_housing_m2 = models.DecimalField(_("state-owned housing target (m²)"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("land acquisition target")
        verbose_name_plural = _("land acquisition targets")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)


class LandProgress(models.Model):
    """Land acquired in one month, optionally for one project."""

    month = models.DateField(_("month"))
    project = models.ForeignKey(
        Project,
        verbose_name=_("project"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="land_progress",
    )
    collective_land_mu = models.DecimalField(_("collective land (mu)"), max_digits=12, decimal_places=2, default=0)
    state_housing_m2 = models.DecimalField(_("state-owned housing (m²)"), max_digits=12, decimal_places=2, default=0)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("land acquisition progress")
        verbose_name_plural = _("land acquisition progress")
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"
