"""Read and write shapes of the catalog API (/api/catalog/…).

Read shapes render products and search results; write shapes only check the form of the input
(types, unknown keys). The rules — who may write which firm's products, lengths, a name, the
capacity, known certifications — are the services' (zhiyuan.catalog.services), which name the
offending field in the one error body.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from zhiyuan.catalog.models import Product
from zhiyuan.catalog.search.base import FACETS
from zhiyuan.core.api import StrictSerializer


class ProductFirmSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    short_name = serializers.CharField()
    uscc = serializers.CharField()


class ProductSerializer(serializers.ModelSerializer):
    """A product with its firm and its certifications (by name)."""

    enterprise = ProductFirmSerializer(read_only=True)
    certifications = serializers.SerializerMethodField()
    image = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = [
            "id",
            "enterprise",
            "name",
            "category",
            "model_numbers",
            "specifications",
            "materials",
            "capacity",
            "capacity_unit",
            "certifications",
            "description",
            "keywords",
            "image",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_certifications(self, product: Product) -> list[str]:
        return [certification.name for certification in product.certifications.all()]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_image(self, product: Product) -> str | None:
        if not product.image:
            return None
        url = reverse("catalog:product_image", args=[product.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class ProductUpdateSerializer(StrictSerializer):
    """The fields a write may set; on an update only those given change."""

    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    category = serializers.CharField(max_length=100, required=False, allow_blank=True)
    model_numbers = serializers.CharField(max_length=300, required=False, allow_blank=True)
    specifications = serializers.CharField(max_length=4000, required=False, allow_blank=True, trim_whitespace=False)
    materials = serializers.CharField(max_length=300, required=False, allow_blank=True)
    capacity = serializers.DecimalField(
        max_digits=16, decimal_places=2, min_value=0, required=False, allow_null=True, coerce_to_string=True
    )
    capacity_unit = serializers.CharField(max_length=20, required=False, allow_blank=True)
    certifications = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        max_length=50,
        help_text=gettext_lazy("Certification names, each one the administrator has defined."),
    )
    description = serializers.CharField(max_length=8000, required=False, allow_blank=True, trim_whitespace=False)
    keywords = serializers.CharField(max_length=300, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class ProductCreateSerializer(ProductUpdateSerializer):
    """A new product: its firm (a firm user: its own) and at least a name."""

    enterprise = serializers.IntegerField(help_text=gettext_lazy("The firm's id."))
    name = serializers.CharField(max_length=200)


class HitSerializer(ProductSerializer):
    """A search hit: the product's fields, its BM25 score, and the matched fields as HTML with <mark>
    (the text escaped, only the marks are markup)."""

    score = serializers.FloatField(read_only=True)
    highlights = serializers.DictField(child=serializers.CharField(), read_only=True)

    class Meta(ProductSerializer.Meta):
        fields = [*ProductSerializer.Meta.fields, "score", "highlights"]
        read_only_fields = fields

    def to_representation(self, hit):
        data = dict(ProductSerializer(hit.product, context=self.context).data)
        data["score"] = round(float(hit.score), 4)
        data["highlights"] = {str(name): str(html) for name, html in (hit.highlights or {}).items()}
        return data


class FacetValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    selected = serializers.BooleanField()


class SupplierSerializer(serializers.Serializer):
    """A firm whose products match, with those products."""

    enterprise = ProductFirmSerializer()
    hits = HitSerializer(many=True)


def _facets_field():
    return serializers.DictField(
        child=FacetValueSerializer(many=True),
        help_text=gettext_lazy("Per facet (%(facets)s): its values with counts over the matches.")
        % {"facets": ", ".join(FACETS)},
    )


class SearchResultSerializer(serializers.Serializer):
    """One page of search results with the facet counts."""

    query = serializers.CharField()
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    hits = HitSerializer(many=True)
    facets = _facets_field()
    groups = SupplierSerializer(many=True, required=False)
    lag = serializers.IntegerField(help_text=gettext_lazy("How many product changes the index has not applied yet."))
    took_ms = serializers.FloatField()
    notice = serializers.CharField(
        allow_null=True, help_text=gettext_lazy("Set when the index had to be rebuilt for this request.")
    )


def search_result_data(result, *, notice: str | None, context: dict) -> dict:
    """A SearchPage as the API's JSON."""
    facets = {
        facet: [
            {"value": str(value), "label": str(label), "count": int(count), "selected": bool(selected)}
            for value, label, count, selected in values
        ]
        for facet, values in (result.facets or {}).items()
    }
    data = {
        "query": result.query,
        "total": result.total,
        "page": result.page,
        "pages": result.pages,
        "hits": HitSerializer(result.hits, many=True, context=context).data,
        "facets": facets,
        "lag": result.lag,
        "took_ms": round(float(result.took_ms), 2),
        "notice": notice,
    }
    if result.groups:
        data["groups"] = supplier_data(result.groups, context=context)
    return data


def supplier_data(groups, *, context: dict) -> list[dict]:
    """[(enterprise, hits)] as the API's JSON."""
    return [
        {
            "enterprise": ProductFirmSerializer(enterprise).data,
            "hits": HitSerializer(hits, many=True, context=context).data,
        }
        for enterprise, hits in groups
    ]
