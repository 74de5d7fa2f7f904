"""The enterprise product database (企业产品信息大数据库): what the park's firms make, searchable in
Chinese. The database is the source of truth; the search index is derived from it through the
`ProductChange` log, which every product write appends to in the same transaction and the index
worker applies in order.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Certification(models.Model):
    """A certification a product can hold (ISO 9001, IATF 16949, CRCC 铁路产品认证, 医疗器械注册证 …);
    maintained by the administrator; one of the search facets."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("certification")
        verbose_name_plural = _("certifications")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """One product of one firm, maintained by the firm itself or by district staff."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise", verbose_name=_("enterprise"), on_delete=models.CASCADE, related_name="products"
    )
    name = models.CharField(_("product name"), max_length=200)
    category = models.CharField(_("category"), max_length=100, blank=True)
    model_numbers = models.CharField(_("model numbers"), max_length=300, blank=True)
    specifications = models.TextField(_("specifications"), blank=True)
    materials = models.CharField(_("materials"), max_length=300, blank=True)
    capacity = models.DecimalField(_("annual capacity"), max_digits=16, decimal_places=2, null=True, blank=True)
    capacity_unit = models.CharField(_("capacity unit"), max_length=20, blank=True)
    certifications = models.ManyToManyField(
        Certification, verbose_name=_("certifications"), blank=True, related_name="products"
    )
    description = models.TextField(_("description"), blank=True)
    keywords = models.CharField(_("keywords"), max_length=300, blank=True)
    image = models.ImageField(_("image"), upload_to="catalog/images/%Y/%m/", blank=True)
    is_active = models.BooleanField(_("listed"), default=True)
    is_demo = models.BooleanField(_("demo data"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["enterprise", "name"]
        indexes = [models.Index(fields=["enterprise", "name"])]

    def __str__(self) -> str:
        return self.name


class ProductChange(models.Model):
    """The change log the search index follows: one row per product write, in commit order. The
    worker applies rows with id > the index's `applied_change_id` and advances it."""

    class Op(models.TextChoices):
        UPSERT = "upsert", _("created or changed")
        DELETE = "delete", _("deleted")

    product_id = models.PositiveBigIntegerField(_("product"), db_index=True)
    op = models.CharField(_("operation"), max_length=10, choices=Op.choices)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("product change")
        verbose_name_plural = _("product changes")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.op} {self.product_id}"


class IndexState(models.Model):
    """Where a search backend stands: the last change applied, the last full rebuild and what it
    said. One row per backend name."""

    backend = models.CharField(_("backend"), max_length=20, unique=True)
    applied_change_id = models.PositiveBigIntegerField(_("last change applied"), default=0)
    documents = models.PositiveIntegerField(_("documents"), default=0)
    rebuilt_at = models.DateTimeField(_("rebuilt at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("index state")
        verbose_name_plural = _("index states")

    def __str__(self) -> str:
        return self.backend


class Synonym(models.Model):
    """A managed synonym group applied at query time: a query for any term also finds the others
    (e.g. 硬质合金, 钨钢, cemented carbide)."""

    terms = models.CharField(_("terms"), max_length=300, help_text=_("Separated by commas."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("synonym group")
        verbose_name_plural = _("synonym groups")
        ordering = ["terms"]

    def __str__(self) -> str:
        return self.terms


class VocabularyTerm(models.Model):
    """A word of the managed industry vocabulary, added to the segmenter's user dictionary (with the
    firms' and products' names) so it is kept whole."""

    word = models.CharField(_("word"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("vocabulary term")
        verbose_name_plural = _("vocabulary")
        ordering = ["word"]

    def __str__(self) -> str:
        return self.word


class SupplyNeed(models.Model):
    """A material or part a firm buys (its input needs), for suggesting local suppliers."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise", verbose_name=_("enterprise"), on_delete=models.CASCADE, related_name="supply_needs"
    )
    item = models.CharField(_("material or part"), max_length=200)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("supply need")
        verbose_name_plural = _("supply needs")
        ordering = ["enterprise", "item"]

    def __str__(self) -> str:
        return self.item


class ProductUpload(models.Model):
    """An uploaded product spreadsheet between its check (dry run) and the confirmed import.

    The file is stored with a random name (the original name is kept here) and belongs to the
    uploader, the only user who may check, confirm or discard it; it is deleted once the upload is
    imported or discarded, and the counts then say what the import did."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        IMPORTED = "imported", _("Imported")
        DISCARDED = "discarded", _("Discarded")

    file = models.FileField(_("file"), upload_to="catalog/uploads/%Y/%m/", blank=True)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.CASCADE, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    created_count = models.PositiveIntegerField(_("new products"), default=0)
    updated_count = models.PositiveIntegerField(_("updated products"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged products"), default=0)

    class Meta:
        verbose_name = _("product upload")
        verbose_name_plural = _("product uploads")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_state_display()})"
