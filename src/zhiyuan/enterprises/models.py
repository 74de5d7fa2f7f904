"""The enterprise registry (企业库): firms keyed on their 统一社会信用代码, and the industry table."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Industry(models.Model):
    """One line of GB/T 4754-2017 (国民经济行业分类): 门类 (level 1) → 大类 → 中类 → 小类 (level 4)."""

    code = models.CharField(_("code"), max_length=5, primary_key=True)
    level = models.PositiveSmallIntegerField(_("level"))
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    section = models.CharField(_("section (门类)"), max_length=1, db_index=True)
    division = models.CharField(_("division (大类)"), max_length=2, blank=True, db_index=True)

    class Meta:
        verbose_name = _("industry")
        verbose_name_plural = _("industries")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Chain(models.TextChoices):
    NEW_MATERIALS = "new_materials", _("New materials")
    RAIL = "rail", _("Rail transit equipment")
    HEALTH = "health", _("Medicine and health")
    PREFAB = "prefab", _("Prefabricated construction")
    OTHER = "other", _("Other")


class SizeClass(models.TextChoices):
    LARGE = "large", _("Large")
    MEDIUM = "medium", _("Medium")
    SMALL = "small", _("Small")
    MICRO = "micro", _("Micro")
    UNKNOWN = "unknown", _("Unknown")


class Status(models.TextChoices):
    OPERATING = "operating", _("Operating")
    MOVED_OUT = "moved_out", _("Moved out")
    DEREGISTERED = "deregistered", _("Deregistered")


class ParkZone(models.Model):
    """A zone of the park or district where firms sit (金山新城, 电商产业园 …), maintained by the admin."""

    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        verbose_name = _("park zone")
        verbose_name_plural = _("park zones")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    """A label on firms such as 高新技术企业, 专精特新 or 规上企业, maintained by the admin."""

    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Enterprise(models.Model):
    """A firm in the registry. The size class is derived from industry, staff, revenue and assets
    and recomputed by the services whenever one of them changes."""

    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    name = models.CharField(_("name"), max_length=200, db_index=True)
    short_name = models.CharField(_("short name"), max_length=50, blank=True)
    legal_representative = models.CharField(_("legal representative"), max_length=50, blank=True)
    established_on = models.DateField(_("established on"), null=True, blank=True)
    registered_capital = models.DecimalField(
        _("registered capital (10k yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    industry = models.ForeignKey(
        Industry, verbose_name=_("industry"), on_delete=models.PROTECT, related_name="enterprises"
    )
    staff = models.PositiveIntegerField(_("staff"), null=True, blank=True)
    revenue = models.DecimalField(_("revenue (10k yuan)"), max_digits=14, decimal_places=2, null=True, blank=True)
    total_assets = models.DecimalField(
        _("total assets (10k yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    size_class = models.CharField(
        _("size class"), max_length=10, choices=SizeClass.choices, default=SizeClass.UNKNOWN, db_index=True
    )
    chain = models.CharField(_("leading chain"), max_length=20, choices=Chain.choices, default=Chain.OTHER)
    zone = models.ForeignKey(
        ParkZone, verbose_name=_("park zone"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="enterprises",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="enterprises")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPERATING)
    specialist = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("service specialist"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="served_enterprises",
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    business_scope = models.TextField(_("business scope"), blank=True)
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    contact_id_number = models.CharField(_("contact ID number"), max_length=18, blank=True)
    is_demo = models.BooleanField(_("demo data"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def import_upload_to(instance, filename: str) -> str:
    """Uploaded registry sheets get a random name: the original name is kept on the batch, not on disk."""
    import uuid

    return f"imports/{uuid.uuid4().hex}.xlsx"


class ImportBatch(models.Model):
    """An uploaded registry spreadsheet between its dry-run preview and the confirmed import.

    The file is stored under MEDIA_ROOT/imports/ with a random name and belongs to the uploader,
    the only user who can preview or confirm it. Once the import is confirmed (or the uploader
    starts another one) the file is deleted; the row stays as a record of what was imported.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        IMPORTED = "imported", _("Imported")
        DISCARDED = "discarded", _("Discarded")

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.CASCADE, related_name="+"
    )
    file = models.FileField(_("file"), upload_to=import_upload_to, blank=True)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    created_count = models.PositiveIntegerField(_("new enterprises"), default=0)
    updated_count = models.PositiveIntegerField(_("updated enterprises"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged enterprises"), default=0)

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_state_display()})"
