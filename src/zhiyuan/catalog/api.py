"""Catalog API: /api/catalog/… — the same scoping and services as the pages.

- Products (/api/catalog/products/): everyone signed in except the city client reads the listed
  products of every firm (unlisted ones: district staff and the firm itself); a firm user creates,
  changes and deletes its own firm's products only (another firm's: 404), the registry's editors
  any firm's, everyone else gets 403. Every write goes through `services.product_*`, which append to
  the change log the search index follows.
- Search (/api/catalog/products/search/?q=&chain=&division=&zone=&certification=&size=&page=): ranked
  matches with highlights and facet counts; nothing in `q` is syntax, and a bad query or an unknown
  facet value is never an error — it just finds what it finds.
- Suppliers (/api/catalog/suppliers/?item=): the firms whose products match, each with those products.

A broken rule answers the one error body {"error": {"code", "message", "fields"}}.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from zhiyuan.catalog import selectors, services
from zhiyuan.catalog.forms import search_params
from zhiyuan.catalog.indexing import ensure_index
from zhiyuan.catalog.models import Product
from zhiyuan.catalog.search.service import search_products, suppliers_for
from zhiyuan.catalog.serializers import (
    ProductCreateSerializer,
    ProductSerializer,
    ProductUpdateSerializer,
    SearchResultSerializer,
    SupplierSerializer,
    search_result_data,
    supplier_data,
)
from zhiyuan.core.api import error_responses

ERRORS = error_responses()
PER_PAGE_MAX = 100
SUPPLIERS_MAX = 50


_errors = ERRORS.only


def _bounded(value, default: int, maximum: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return min(max(number, 1), maximum)


class UsesCatalog(BasePermission):
    """Everyone signed in except the city's machine client."""

    def has_permission(self, request, view) -> bool:
        return selectors.uses_catalog(request.user)


def _body(serializer_class, request, **kwargs) -> dict:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _index_notice() -> str | None:
    message = ensure_index()
    return str(message) if message else None


FACET_PARAMETERS = [
    OpenApiParameter(
        facet,
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        required=False,
        many=True,
        description=description,
    )
    for facet, description in [
        ("chain", gettext_lazy("Leading chain (new_materials, rail, health, prefab, other); repeat for several.")),
        ("division", gettext_lazy("Industry division (大类), two digits of GB/T 4754; repeat for several.")),
        ("zone", gettext_lazy("Park zone id; repeat for several.")),
        ("certification", gettext_lazy("Certification name; repeat for several.")),
        ("size", gettext_lazy("Firm size class (large, medium, small, micro, unknown); repeat for several.")),
    ]
]


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("enterprise", OpenApiTypes.INT, OpenApiParameter.QUERY, required=False)],
        description=gettext_lazy(
            "The products the caller sees, by firm and name: listed products of every firm; unlisted ones "
            "for district staff and the firm itself. `enterprise` narrows to one firm."
        ),
    ),
    retrieve=extend_schema(responses={200: ProductSerializer, **_errors(404)}),
    create=extend_schema(
        request=ProductCreateSerializer,
        responses={201: ProductSerializer, **_errors(400, 403, 404)},
        description=gettext_lazy(
            "Add a product to a firm: a firm user only to its own (another firm: 404), the registry's "
            "editors to any; other roles 403. Certifications are given by name."
        ),
    ),
    update=extend_schema(
        request=ProductUpdateSerializer,
        responses={200: ProductSerializer, **_errors(400, 403, 404)},
        description=gettext_lazy("Change a product; the fields left out keep their values."),
    ),
    partial_update=extend_schema(
        request=ProductUpdateSerializer,
        responses={200: ProductSerializer, **_errors(400, 403, 404)},
        description=gettext_lazy("Change the fields given."),
    ),
    destroy=extend_schema(responses={204: None, **_errors(403, 404)}),
)
@extend_schema(tags=["catalog"])
class ProductViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The enterprise product database."""

    permission_classes = [IsAuthenticated, UsesCatalog]
    serializer_class = ProductSerializer
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Product.objects.none()
        queryset = selectors.products_visible_to(self.request.user).order_by("enterprise__name", "name", "pk")
        enterprise = str(self.request.query_params.get("enterprise") or "").strip()
        if enterprise:
            queryset = queryset.filter(enterprise_id=int(enterprise)) if enterprise.isdigit() else queryset.none()
        return queryset

    def get_object(self):
        return selectors.product_get_for(self.request.user, self.kwargs["pk"])

    def create(self, request, *args, **kwargs):
        data = _body(ProductCreateSerializer, request)
        enterprise = selectors.enterprise_for_new_product(request.user, data.pop("enterprise"))
        product = services.product_create(actor=request.user, enterprise=enterprise, data=data)
        product = selectors.product_get_for(request.user, product.pk)
        return Response(ProductSerializer(product, context={"request": request}).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        product = self.get_object()
        data = _body(ProductUpdateSerializer, request, partial=True)
        services.product_update(actor=request.user, product=product, data=data)
        product = selectors.product_get_for(request.user, product.pk)
        return Response(ProductSerializer(product, context={"request": request}).data)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, **kwargs)

    def destroy(self, request, *args, **kwargs):
        services.product_delete(actor=request.user, product=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "q",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                required=False,
                description=gettext_lazy(
                    "What to look for: words, model numbers, pinyin or initials. Only text — quotes, colons, "
                    "asterisks, brackets and AND/OR are not syntax. Empty: every product (with the filters)."
                ),
            ),
            *FACET_PARAMETERS,
            OpenApiParameter("page", OpenApiTypes.INT, OpenApiParameter.QUERY, required=False),
            OpenApiParameter(
                "per_page",
                OpenApiTypes.INT,
                OpenApiParameter.QUERY,
                required=False,
                description=gettext_lazy("Hits per page (1–100, default 20)."),
            ),
            OpenApiParameter(
                "group",
                OpenApiTypes.BOOL,
                OpenApiParameter.QUERY,
                required=False,
                description=gettext_lazy("Also group the page's hits by supplier firm (`groups`)."),
            ),
        ],
        responses={200: SearchResultSerializer, **_errors(403)},
        description=gettext_lazy(
            "Chinese full-text search over product name, model numbers, specifications, description and the "
            "firm's name, ranked by BM25, with highlights and facet counts (chain, industry division, park zone, "
            "certification, firm size). Facet values within a facet widen, facets narrow. `lag` says how many "
            "product changes the index has still to apply."
        ),
    )
    @action(detail=False, methods=["get"], url_path="search")
    def search(self, request):
        params = search_params(request.query_params)
        notice = _index_notice()
        result = search_products(
            user=request.user,
            query=params["query"],
            filters=params["filters"],
            page=params["page"],
            per_page=_bounded(request.query_params.get("per_page"), 20, PER_PAGE_MAX),
            group_by_firm=params["group_by_firm"],
        )
        data = search_result_data(result, notice=notice or result.notice or None, context={"request": request})
        return Response(data)


@extend_schema(tags=["catalog"])
class SupplierViewSet(viewsets.GenericViewSet):
    """Who here can supply X?"""

    permission_classes = [IsAuthenticated, UsesCatalog]
    serializer_class = SupplierSerializer
    filter_backends = []
    pagination_class = None

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "item",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                description=gettext_lazy("The material or part wanted, e.g. 碳化钨粉 or 轴承 6205."),
            ),
            OpenApiParameter(
                "limit",
                OpenApiTypes.INT,
                OpenApiParameter.QUERY,
                required=False,
                description=gettext_lazy("At most this many firms (1–50, default 10)."),
            ),
        ],
        responses={200: SupplierSerializer(many=True), **_errors(403)},
        description=gettext_lazy(
            "The local (operating) firms whose listed products match the item, best first, each with its best "
            "matching products. No item: an empty list."
        ),
    )
    def list(self, request):
        item = str(request.query_params.get("item") or "")[:200]
        _index_notice()  # a missing or damaged index is rebuilt first
        limit = _bounded(request.query_params.get("limit"), 10, SUPPLIERS_MAX)
        groups = suppliers_for(user=request.user, item=item, limit=limit) if item.strip() else []
        return Response(supplier_data(groups, context={"request": request}))
