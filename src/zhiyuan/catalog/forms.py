"""Catalog forms. They parse input for the services (`services.product_create` / `product_update` /
`supply_need_add`), which apply the rules that matter; a service's ValidationFailed lands on the
matching input (`add_service_errors`). The search form only parses and bounds the query string."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from zhiyuan.catalog.models import Certification, Product
from zhiyuan.catalog.search.base import FACETS
from zhiyuan.catalog.selectors import certifications
from zhiyuan.core.forms import BootstrapFormMixin

# How much of a search request is read: longer queries are cut, extra values dropped.
QUERY_MAX_CHARS = 500
FACET_VALUE_MAX_CHARS = 100
FACET_VALUES_MAX = 20
PAGE_MAX = 500
IMAGE_MAX_BYTES = 5 * 1024 * 1024
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".webp")


class ProductForm(BootstrapFormMixin, forms.Form):
    """A product's fields as the services take them (for adding and for editing)."""

    name = forms.CharField(label=_("Product name"), max_length=200)
    category = forms.CharField(label=_("Category"), max_length=100, required=False)
    model_numbers = forms.CharField(
        label=_("Model numbers"),
        max_length=300,
        required=False,
        help_text=_("For example YG8, 6205-2RS, M8×30; separate several with spaces or commas."),
    )
    specifications = forms.CharField(
        label=_("Specifications"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    materials = forms.CharField(label=_("Materials"), max_length=300, required=False)
    capacity = forms.DecimalField(
        label=_("Annual capacity"), max_digits=16, decimal_places=2, min_value=0, required=False
    )
    capacity_unit = forms.CharField(
        label=_("Capacity unit"), max_length=20, required=False, help_text=_("For example 吨, 件, 套, 片.")
    )
    certifications = forms.ModelMultipleChoiceField(
        label=_("Certifications"),
        queryset=Certification.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    description = forms.CharField(
        label=_("Description"), max_length=8000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    keywords = forms.CharField(
        label=_("Keywords"),
        max_length=300,
        required=False,
        help_text=_("Other words buyers use for this product, separated by commas."),
    )
    image = forms.ImageField(label=_("Image"), required=False)
    is_active = forms.BooleanField(label=_("Listed (found by search)"), required=False, initial=True)

    def __init__(self, *args, product: Product | None = None, **kwargs):
        self.product = product
        if product is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": product.name,
                "category": product.category,
                "model_numbers": product.model_numbers,
                "specifications": product.specifications,
                "materials": product.materials,
                "capacity": product.capacity,
                "capacity_unit": product.capacity_unit,
                "certifications": list(product.certifications.all()),
                "description": product.description,
                "keywords": product.keywords,
                "is_active": product.is_active,
            }
        super().__init__(*args, **kwargs)
        self.fields["certifications"].queryset = certifications()
        self.fields["image"].widget.attrs["accept"] = "image/png,image/jpeg,image/webp,image/gif"
        if product is not None and product.image:
            self.fields["remove_image"] = forms.BooleanField(label=_("Remove the image"), required=False)
            self.fields["remove_image"].widget.attrs["class"] = "form-check-input"

    def clean_image(self):
        image = self.cleaned_data.get("image")
        if not image:
            return image
        name = str(getattr(image, "name", "") or "").lower()
        if not name.endswith(IMAGE_EXTENSIONS):
            raise forms.ValidationError(_("Upload a PNG, JPEG, GIF or WebP image."))
        if getattr(image, "size", 0) > IMAGE_MAX_BYTES:
            raise forms.ValidationError(_("The image may be at most 5 MB."))
        return image

    def service_data(self) -> dict[str, Any]:
        """The values for the services: every field on create; on edit only what changed."""
        data = {name: self.cleaned_data.get(name) for name in self.fields if name not in ("image", "remove_image")}
        data["certifications"] = list(data.get("certifications") or [])
        for name in ("category", "model_numbers", "specifications", "materials", "capacity_unit"):
            data[name] = data.get(name) or ""
        data["description"] = data.get("description") or ""
        data["keywords"] = data.get("keywords") or ""
        if self.cleaned_data.get("image"):
            data["image"] = self.cleaned_data["image"]
        elif self.cleaned_data.get("remove_image"):
            data["image"] = None
        if self.product is None:
            return data
        changed = set(self.changed_data)
        if "remove_image" in changed:
            changed.add("image")
        return {name: value for name, value in data.items() if name in changed}


class SupplyNeedForm(BootstrapFormMixin, forms.Form):
    """A material or part the firm buys."""

    item = forms.CharField(
        label=_("Material or part"),
        max_length=200,
        help_text=_("For example 碳化钨粉, 轴承 6205, 环氧树脂."),
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class ImportUploadForm(BootstrapFormMixin, forms.Form):
    """The upload step: one .xlsx file."""

    file = forms.FileField(
        label=_("Spreadsheet (.xlsx)"),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )


def _page_number(value: Any) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), PAGE_MAX)


def search_params(params) -> dict[str, Any]:
    """The search request as the search service takes it, from a QueryDict: the text (cut to
    QUERY_MAX_CHARS; anything goes — it is only ever text), the facet filters (a few bounded string
    values per facet; unknown values simply match nothing), the page and the grouping toggle."""
    query = str(params.get("q") or "")[:QUERY_MAX_CHARS]
    filters: dict[str, list[str]] = {}
    for facet in FACETS:
        values = []
        for value in params.getlist(facet)[:FACET_VALUES_MAX]:
            value = str(value).strip()[:FACET_VALUE_MAX_CHARS]
            if value and value not in values:
                values.append(value)
        if values:
            filters[facet] = values
    group = str(params.get("group") or "").lower() in ("1", "true", "on", "yes", "firm")
    return {"query": query, "filters": filters, "page": _page_number(params.get("page")), "group_by_firm": group}
