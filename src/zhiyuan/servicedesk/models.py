"""The enterprise service desk (企业诉求): requests with one owner and one working-day clock, and
specialists' visits (走访)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    FINANCING = "financing", _("Financing")
    LABOUR = "labour", _("Labour")
    LAND = "land", _("Land")
    APPROVAL = "approval", _("Approvals")
    UTILITIES = "utilities", _("Water, power and gas")
    POLICY = "policy", _("Policy")
    DISPUTE = "dispute", _("Dispute")
    OTHER = "other", _("Other")


class Channel(models.TextChoices):
    ONLINE = "online", _("Online (by the firm)")
    PHONE = "phone", _("Phone")
    VISIT = "visit", _("Visit")
    WECHAT = "wechat", _("WeChat")
    COUNTER = "counter", _("At the service centre")


class RequestStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    SIGNED_FOR = "signed_for", _("Signed for")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_FOR_FIRM = "waiting_for_firm", _("Waiting for the firm")
    RESOLVED = "resolved", _("Resolved")
    REOPENED = "reopened", _("Reopened")
    CLOSED = "closed", _("Closed")


class CategoryRule(models.Model):
    """Per-category routing and SLA, maintained by the admin: the department that owns the category
    (when not the firm's specialist) and the sign-for / first-reply / resolution limits in working days."""

    category = models.CharField(_("category"), max_length=20, choices=Category.choices, unique=True)
    department = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("responsible department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Leave empty to route to the firm's own service specialist."),
    )
    sign_for_days = models.PositiveSmallIntegerField(_("sign for within (working days)"), default=1)
    reply_days = models.PositiveSmallIntegerField(_("first reply within (working days)"), default=2)
    resolve_days = models.PositiveSmallIntegerField(_("resolve within (working days, simple)"), default=5)
    resolve_days_complex = models.PositiveSmallIntegerField(_("resolve within (working days, complex)"), default=15)

    class Meta:
        verbose_name = _("category rule")
        verbose_name_plural = _("category rules")
        ordering = ["category"]

    def __str__(self) -> str:
        return self.get_category_display()


class ServiceRequest(models.Model):
    """An enterprise request (诉求). Its owner is the firm's specialist or the category's department;
    its SLA deadlines are working days from receipt, pushed back by time spent waiting for the firm."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("enterprise"),
        on_delete=models.PROTECT,
        related_name="service_requests",
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, db_index=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.ONLINE)
    title = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"))
    is_complex = models.BooleanField(_("complex"), default=False)
    status = models.CharField(
        _("status"), max_length=20, choices=RequestStatus.choices, default=RequestStatus.SUBMITTED, db_index=True
    )
    # Owner: a person (the firm's specialist, or whoever signed for it) and/or a department.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_requests",
    )
    department = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    received_on = models.DateField(_("received on"), db_index=True)
    # SLA deadlines (working days from receipt; moved later by pauses while waiting for the firm).
    sign_for_due = models.DateField(_("sign for by"))
    reply_due = models.DateField(_("first reply by"))
    resolve_due = models.DateField(_("resolve by"), db_index=True)
    signed_for_on = models.DateField(_("signed for on"), null=True, blank=True)
    first_reply_on = models.DateField(_("first reply on"), null=True, blank=True)
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    waiting_since = models.DateField(_("waiting for the firm since"), null=True, blank=True)
    paused_workdays = models.PositiveIntegerField(_("working days paused"), default=0)
    resolution = models.TextField(_("resolution"), blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    rating_comment = models.TextField(_("rating comment"), blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    escalation_level = models.PositiveSmallIntegerField(
        _("escalation level"), default=0, help_text=_("0 none, 1 department head, 2 district leader")
    )
    project = models.ForeignKey(
        "investments.Project",
        verbose_name=_("investment project"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="service_requests",
    )
    visit = models.ForeignKey(
        "servicedesk.Visit",
        verbose_name=_("from visit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requests",
    )
    # Structured needs: 用工 (labour) and 融资 (financing). Matchable data, not free text.
    labour_positions = models.CharField(_("positions"), max_length=200, blank=True)
    labour_headcount = models.PositiveIntegerField(_("headcount"), null=True, blank=True)
    labour_skills = models.CharField(_("skills"), max_length=200, blank=True)
    labour_needed_by = models.DateField(_("needed by"), null=True, blank=True)
    financing_amount = models.DecimalField(
        _("amount (10k yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    financing_term_months = models.PositiveSmallIntegerField(_("term (months)"), null=True, blank=True)
    financing_purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    financing_collateral = models.CharField(_("collateral"), max_length=200, blank=True)
    financing_share_with_banks = models.BooleanField(_("publish to banks"), default=False)
    is_demo = models.BooleanField(_("demo data"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        ordering = ["resolve_due", "id"]
        indexes = [models.Index(fields=["status", "resolve_due"]), models.Index(fields=["assignee", "status"])]

    def __str__(self) -> str:
        return self.title


class RequestEvent(models.Model):
    """One step in a request's timeline: a transition, a reply, a transfer, information added."""

    request = models.ForeignKey(
        ServiceRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=30)
    from_status = models.CharField(_("from"), max_length=20, choices=RequestStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=RequestStatus.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    on = models.DateField(_("date"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    visible_to_firm = models.BooleanField(_("visible to the firm"), default=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("request event")
        verbose_name_plural = _("request events")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.request} {self.kind}"


class RequestAttachment(models.Model):
    """A file attached to a request by the firm or staff, with its SHA-256."""

    request = models.ForeignKey(
        ServiceRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to="requests/%Y/%m/")
    name = models.CharField(_("file name"), max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("request attachment")
        verbose_name_plural = _("request attachments")
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return self.name


class Visit(models.Model):
    """A visit to a firm (走访) by a specialist or any office: who went, whom they met, what they found."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise", verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="visits"
    )
    visited_on = models.DateField(_("visited on"), db_index=True)
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("visitor"), on_delete=models.PROTECT, related_name="visits"
    )
    organisation = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("office"), on_delete=models.PROTECT, related_name="+"
    )
    people_met = models.CharField(_("people met"), max_length=300, blank=True)
    findings = models.TextField(_("findings"))
    is_demo = models.BooleanField(_("demo data"), default=False)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-visited_on", "-id"]

    def __str__(self) -> str:
        return f"{self.enterprise} {self.visited_on}"
