"""Catalog tables (django-tables2): a firm's products, and a user's product uploads."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from zhiyuan.catalog.models import Product, ProductUpload

TABLE_CLASS = "table table-sm table-hover align-middle small"


class ProductTable(tables.Table):
    """A firm's products: name (to the product page), model, category, capacity, certifications,
    whether listed, and an edit link for those who may edit."""

    name = tables.Column(verbose_name=_("Product"), linkify=("catalog:product_detail", [tables.A("pk")]))
    model_numbers = tables.Column(verbose_name=_("Model numbers"), default="—")
    category = tables.Column(verbose_name=_("Category"), default="—")
    capacity = tables.Column(verbose_name=_("Annual capacity"), default="—", attrs={"td": {"class": "text-end"}})
    certifications = tables.Column(verbose_name=_("Certifications"), orderable=False, empty_values=())
    is_active = tables.Column(verbose_name=_("Listed"))
    actions = tables.Column(verbose_name="", orderable=False, empty_values=())

    class Meta:
        model = Product
        fields = ["name", "model_numbers", "category", "capacity", "certifications", "is_active"]
        attrs = {"class": TABLE_CLASS, "data-testid": "product-table"}
        empty_text = _("No products recorded yet.")

    def __init__(self, *args, can_edit: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_edit:
            self.columns.hide("actions")

    def render_capacity(self, value, record):
        amount = number_format(value, 0 if value == value.to_integral_value() else 2, force_grouping=True)
        return f"{amount} {record.capacity_unit}".strip()

    def render_certifications(self, record):
        names = [c.name for c in record.certifications.all()]
        if not names:
            return "—"
        return format_html_join(" ", '<span class="badge text-bg-light border">{}</span>', ((name,) for name in names))

    def render_is_active(self, value):
        if value:
            return format_html('<span class="badge bg-success">{}</span>', _("listed"))
        return format_html('<span class="badge bg-secondary">{}</span>', _("not listed"))

    def render_actions(self, record):
        return format_html(
            '<a class="btn btn-sm btn-outline-primary" href="{}">{}</a>',
            reverse("catalog:product_edit", args=[record.pk]),
            _("Edit"),
        )


class UploadTable(tables.Table):
    """A user's recent product uploads and what became of them."""

    original_name = tables.Column(verbose_name=_("File"), linkify=("catalog:import_detail", [tables.A("pk")]))
    uploaded_at = tables.DateTimeColumn(verbose_name=_("Uploaded at"), format="Y-m-d H:i")
    state = tables.Column(verbose_name=_("State"))
    created_count = tables.Column(verbose_name=_("New"), attrs={"td": {"class": "text-end"}})
    updated_count = tables.Column(verbose_name=_("Updated"), attrs={"td": {"class": "text-end"}})

    class Meta:
        model = ProductUpload
        fields = ["original_name", "uploaded_at", "state", "created_count", "updated_count"]
        attrs = {"class": TABLE_CLASS, "data-testid": "upload-table"}
        orderable = False
        empty_text = _("No uploads yet.")
