"""The one-window approval desk (综合受理前置窗口): the item catalogue (事项清单) and the applications
the district window accepts and the city decides, with their materials and their timeline."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApprovalItem(models.Model):
    """An approval item (事项) the window accepts for the city: who decides it, within how many
    working days (行政许可法 §42/§82), and which materials an application needs."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    department = models.CharField(_("city department"), max_length=100)
    time_limit_workdays = models.PositiveSmallIntegerField(
        _("time limit (working days)"), help_text=_("Counted from the day the city accepts the case.")
    )
    legal_basis = models.CharField(_("legal basis"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    requires_project_code = models.BooleanField(
        _("needs an investment project code"), default=True,
        help_text=_("The project must have its 投资项目代码 before an application can be made."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("approval item")
        verbose_name_plural = _("approval items")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class MaterialRequirement(models.Model):
    """One material an item asks for (申请材料), required or optional, in the file types it accepts."""

    item = models.ForeignKey(ApprovalItem, verbose_name=_("approval item"), on_delete=models.CASCADE,
                             related_name="materials")
    name = models.CharField(_("material"), max_length=200)
    required = models.BooleanField(_("required"), default=True)
    file_types = models.CharField(
        _("accepted file types"), max_length=100, default=".pdf",
        help_text=_("Extensions separated by commas, e.g. .pdf,.jpg"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("required material")
        verbose_name_plural = _("required materials")
        ordering = ["item", "order", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def extensions(self) -> frozenset[str]:
        return frozenset(e.strip().lower() for e in self.file_types.split(",") if e.strip())


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted, awaiting the window")
    CORRECTION = "correction", _("Corrections requested (补正)")
    REJECTED = "rejected", _("Not accepted (不予受理)")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    ACCEPTED = "accepted", _("Accepted, being forwarded to the city")
    CITY_RECEIVED = "city_received", _("Received by the city")
    IN_REVIEW = "in_review", _("Under review by the city")
    RETURNED = "returned", _("Returned by the city for more material")
    GRANTED = "granted", _("Granted (准予许可)")
    DENIED = "denied", _("Denied (不予许可)")
    COLLECTED = "collected", _("Result collected (出件)")


class Decision(models.TextChoices):
    GRANTED = "granted", _("Granted")
    DENIED = "denied", _("Denied")


class Application(models.Model):
    """An application for one item, for one investment project, by one enterprise.

    The window's clock runs from receipt (`received_on`): it must accept, reject or ask for
    corrections within ZHIYUAN_APPROVALS_ACCEPT_WORKDAYS working days, or the application counts as
    accepted (行政许可法 §32). The city's clock runs from the day it received the case
    (`city_received_on`) for the item's time limit, paused while the case is back with the firm.
    Deadlines are None when the working-day calendar does not yet cover the year they fall in.
    """

    number = models.CharField(_("application number"), max_length=30, unique=True)
    item = models.ForeignKey(ApprovalItem, verbose_name=_("approval item"), on_delete=models.PROTECT,
                             related_name="applications")
    project = models.ForeignKey("investments.Project", verbose_name=_("investment project"),
                                on_delete=models.PROTECT, related_name="applications")
    enterprise = models.ForeignKey("enterprises.Enterprise", verbose_name=_("enterprise"),
                                   on_delete=models.PROTECT, related_name="applications")
    project_code = models.CharField(_("investment project code"), max_length=24, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=ApplicationStatus.choices,
                              default=ApplicationStatus.DRAFT, db_index=True)
    contact_name = models.CharField(_("contact person"), max_length=50)
    contact_phone = models.CharField(_("contact phone"), max_length=20)
    description = models.TextField(_("what is applied for"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # The window
    received_on = models.DateField(_("received at the window on"), null=True, blank=True, db_index=True)
    accept_due = models.DateField(_("window decision due"), null=True, blank=True, db_index=True)
    corrections_requested = models.BooleanField(_("corrections requested"), default=False)
    correction_items = models.JSONField(_("materials to correct"), default=list, blank=True)
    correction_note = models.TextField(_("correction note"), blank=True)
    accepted_on = models.DateField(_("accepted on"), null=True, blank=True)
    accepted_automatically = models.BooleanField(_("accepted by law (§32)"), default=False)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("accepted by"), null=True,
                                    blank=True, on_delete=models.SET_NULL, related_name="+")
    rejection_reason = models.TextField(_("reason for not accepting"), blank=True)
    # The city
    forward_message_id = models.UUIDField(_("forwarding message"), null=True, blank=True)
    city_case_number = models.CharField(_("city case number"), max_length=40, blank=True, db_index=True)
    city_received_on = models.DateField(_("received by the city on"), null=True, blank=True)
    city_due = models.DateField(_("city decision due"), null=True, blank=True, db_index=True)
    city_version = models.PositiveIntegerField(_("city status version"), default=0)
    city_reason = models.TextField(_("city's reason"), blank=True)
    returned_on = models.DateField(_("returned on"), null=True, blank=True)
    paused_workdays = models.PositiveIntegerField(_("working days with the firm"), default=0)
    supplement_forwarded_at = models.DateTimeField(_("supplement forwarded at"), null=True, blank=True)
    decision = models.CharField(_("decision"), max_length=10, blank=True, choices=Decision.choices)
    certificate_number = models.CharField(_("certificate number"), max_length=60, blank=True)
    certificate_date = models.DateField(_("certificate date"), null=True, blank=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    collected_on = models.DateField(_("collected on"), null=True, blank=True)
    collected_by = models.CharField(_("collected by"), max_length=50, blank=True)
    is_demo = models.BooleanField(_("demo data"), default=False)

    class Meta:
        verbose_name = _("approval application")
        verbose_name_plural = _("approval applications")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.number} {self.item}"


class ApplicationMaterial(models.Model):
    """An uploaded material file. `round` 0 is the application itself, 1 the correction (补正), 2+ the
    supplements the city asked for; a corrected file replaces the earlier one (`is_current`)."""

    application = models.ForeignKey(Application, verbose_name=_("application"), on_delete=models.CASCADE,
                                    related_name="materials")
    requirement = models.ForeignKey(MaterialRequirement, verbose_name=_("required material"), null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(_("file"), upload_to="approvals/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    round = models.PositiveSmallIntegerField(_("round"), default=0)
    is_current = models.BooleanField(_("current"), default=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("application material")
        verbose_name_plural = _("application materials")
        ordering = ["application", "requirement__order", "id"]

    def __str__(self) -> str:
        return self.original_name


class EventKind(models.TextChoices):
    CREATED = "created", _("Application started")
    MATERIAL_ADDED = "material_added", _("Material uploaded")
    MATERIAL_REMOVED = "material_removed", _("Material removed")
    SUBMITTED = "submitted", _("Submitted to the window")
    RESUBMITTED = "resubmitted", _("Corrected and resubmitted")
    CORRECTION_REQUESTED = "correction_requested", _("Corrections requested (补正)")
    REJECTED = "rejected", _("Not accepted (不予受理)")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    ACCEPTED = "accepted", _("Accepted (受理)")
    AUTO_ACCEPTED = "auto_accepted", _("Accepted by law (行政许可法 §32)")
    FORWARDED = "forwarded", _("Forwarded to the city")
    CITY_RECEIVED = "city_received", _("Received by the city")
    CITY_STATUS = "city_status", _("Status from the city")
    STALE_UPDATE = "stale_update", _("Out-of-date status from the city ignored")
    SUPPLEMENT_FORWARDED = "supplement_forwarded", _("Supplementary material forwarded")
    COLLECTED = "collected", _("Result collected (出件)")


class ApplicationEvent(models.Model):
    """One line of an application's timeline: every step, by whom, and every message to and from the city."""

    application = models.ForeignKey(Application, verbose_name=_("application"), on_delete=models.CASCADE,
                                    related_name="events")
    at = models.DateTimeField(_("time"), default=timezone.now)
    kind = models.CharField(_("event"), max_length=30, choices=EventKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    message_id = models.CharField(_("message id"), max_length=36, blank=True)

    class Meta:
        verbose_name = _("application event")
        verbose_name_plural = _("application events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.kind}"
