"""Chain-map API: /api/chains/ (the tree with node stats), /api/chains/gaps/ and /api/chains/targets/
(list, create, correct, and POST …/{id}/to-lead/ to turn a target into an investment lead).

District staff read everything; the services decide which role may write (the investment office and
administrators for targets and leads). Firms, banks and the city client get 403.
"""

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from zhiyuan.chains import selectors, services
from zhiyuan.chains.serializers import (
    ChainTreeSerializer,
    GapSerializer,
    LeadResultSerializer,
    TargetCreateSerializer,
    TargetSerializer,
    TargetUpdateSerializer,
)
from zhiyuan.core.api import error_responses


class CanSeeChains(BasePermission):
    """District staff only."""

    def has_permission(self, request, view) -> bool:
        return selectors.may_view(request.user)


CHAIN_PARAMETER = OpenApiParameter(
    "chain", str, description=gettext_lazy("Only this chain (its code, e.g. new_materials).")
)
ERRORS = error_responses(not_found=gettext_lazy("No such chain, node or target."))
NOT_FOUND = ERRORS[404]


@extend_schema(tags=["chains"])
@extend_schema_view(
    list=extend_schema(
        responses={200: ChainTreeSerializer(many=True), 403: ERRORS[403]},
        description=gettext_lazy("Every chain as a tree: segments → nodes, each node with its local strength."),
    ),
    retrieve=extend_schema(responses={200: ChainTreeSerializer, 403: ERRORS[403], 404: NOT_FOUND}),
)
class ChainViewSet(viewsets.ViewSet):
    """The industry-chain maps (产业链图谱)."""

    permission_classes = [IsAuthenticated, CanSeeChains]
    lookup_field = "code"
    lookup_value_regex = "[A-Za-z0-9_-]+"

    def list(self, request):
        return Response(ChainTreeSerializer(selectors.chain_trees(), many=True).data)

    def retrieve(self, request, code=None):
        return Response(ChainTreeSerializer(selectors.chain_tree(code)).data)


@extend_schema(tags=["chains"])
@extend_schema_view(
    list=extend_schema(
        parameters=[CHAIN_PARAMETER],
        responses={200: GapSerializer(many=True), 403: ERRORS[403]},
        description=gettext_lazy("Nodes with no or weak local supply, with their targets and conversion."),
    ),
)
class GapViewSet(viewsets.ViewSet):
    """The gaps of the chains."""

    permission_classes = [IsAuthenticated, CanSeeChains]

    def list(self, request):
        gaps = selectors.gaps(chain=request.query_params.get("chain") or None)
        return Response(GapSerializer(gaps, many=True).data)


@extend_schema(tags=["chains"])
@extend_schema_view(
    list=extend_schema(
        parameters=[
            CHAIN_PARAMETER,
            OpenApiParameter("node", int, description=gettext_lazy("Only this node's targets.")),
            OpenApiParameter("status", str, description=gettext_lazy("identified, contacted, lead or dropped.")),
        ],
        responses={200: TargetSerializer(many=True), 403: ERRORS[403]},
    ),
    retrieve=extend_schema(responses={200: TargetSerializer, 403: ERRORS[403], 404: NOT_FOUND}),
    create=extend_schema(
        request=TargetCreateSerializer,
        responses={201: TargetSerializer, 400: ERRORS[400], 403: ERRORS[403]},
        description=gettext_lazy(
            "Enter an outside firm that could fill a node. Investment officers and administrators."
        ),
    ),
    partial_update=extend_schema(
        request=TargetUpdateSerializer,
        responses={200: TargetSerializer, 400: ERRORS[400], 403: ERRORS[403], 404: NOT_FOUND, 409: ERRORS[409]},
        description=gettext_lazy("Correct a target, or move it between identified, contacted and dropped."),
    ),
)
class TargetViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Investment targets (招商目标) at the chains' nodes."""

    permission_classes = [IsAuthenticated, CanSeeChains]
    serializer_class = TargetSerializer
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return selectors.targets_list().none()
        params = self.request.query_params
        node = params.get("node")
        return selectors.targets_list(
            chain=params.get("chain") or None,
            node=int(node) if node and node.isdigit() else None,
            status=params.get("status") or None,
        )

    def get_object(self):
        target = selectors.target_get(self.kwargs["pk"])
        self.check_object_permissions(self.request, target)
        return target

    def _read(self, target, status_code=status.HTTP_200_OK) -> Response:
        return Response(TargetSerializer(selectors.target_get(target.pk)).data, status=status_code)

    def create(self, request, *args, **kwargs):
        serializer = TargetCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        node = data.pop("node")
        target = services.target_create(actor=request.user, node=node, data=data)
        return self._read(target, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        target = self.get_object()
        serializer = TargetUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        target = services.target_update(actor=request.user, target=target, data=dict(serializer.validated_data))
        return self._read(target)

    @extend_schema(
        request=None,
        responses={201: LeadResultSerializer, 403: ERRORS[403], 404: NOT_FOUND, 409: ERRORS[409]},
        description=gettext_lazy(
            "Turn the target into an investment lead (线索) in the project pipeline; the target keeps the link. "
            "A target that already is a lead answers 409."
        ),
    )
    @action(detail=True, methods=["post"], url_path="to-lead")
    def to_lead(self, request, pk=None):
        target = self.get_object()
        project = services.target_to_lead(actor=request.user, target=target)
        data = {"target": selectors.target_get(target.pk), "project": project}
        return Response(LeadResultSerializer(data).data, status=status.HTTP_201_CREATED)
