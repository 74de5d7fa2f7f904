"""Service-desk API: /api/servicedesk/requests/ and /api/servicedesk/visits/ — the same scoping and
services as the pages.

- District staff list and read every request; who may act on one is the services' decision
  (service staff and the admin on all, a specialist on their own and their department's; leaders,
  statistics and other offices read only). Staff register requests on a firm's behalf with the
  channel they came by.
- A firm user lists and reads only its own firm's requests, in a reduced shape without internal
  events, escalation level or who registered them; submits online; answers questions, rates and
  reopens.
- A bank sees nothing of the desk except the financing needs firms chose to publish to banks, at
  the separate read-only endpoint /api/servicedesk/requests/financing-needs/ (firm name and the
  structured need only). Every other endpoint answers 403 to a bank; the city client gets 403
  everywhere.
- A request the user may not see answers 404 exactly like a missing one.
"""

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import (
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from zhiyuan.accounts.models import Organisation, Role
from zhiyuan.accounts.permissions import is_authenticated, is_district_staff
from zhiyuan.core.api import StrictSerializer, error_responses
from zhiyuan.enterprises.models import Enterprise
from zhiyuan.investments.models import Project
from zhiyuan.servicedesk import services
from zhiyuan.servicedesk.filters import RequestFilter
from zhiyuan.servicedesk.models import (
    Channel,
    RequestAttachment,
    RequestEvent,
    ServiceRequest,
    Visit,
)
from zhiyuan.servicedesk.selectors import (
    financing_needs_for_bank,
    is_firm_user,
    request_get_for,
    request_timeline,
    requests_visible_to,
    visit_get_for,
    visits_visible_to,
)

ERRORS = error_responses(
    not_found=gettext_lazy("No such request (or not yours to see)."),
    conflict=gettext_lazy("Not possible in the request's current state."),
)


_errors = ERRORS.only


class CanUseDesk(BasePermission):
    """District staff and firm users; banks only at the financing-needs endpoint; the city nowhere."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if getattr(view, "action", None) == "financing_needs":
            return is_district_staff(user) or (is_authenticated(user) and user.role == Role.BANK)
        return is_district_staff(user) or is_firm_user(user)


class CanSeeVisits(BasePermission):
    """Visits are the offices' record: district staff only."""

    def has_permission(self, request, view) -> bool:
        return is_district_staff(request.user)


# -- read shapes -------------------------------------------------------------------------------------


class NamedField(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="__str__")


class EventSerializer(serializers.ModelSerializer):
    actor = NamedField(read_only=True, allow_null=True)

    class Meta:
        model = RequestEvent
        fields = ["id", "kind", "from_status", "to_status", "note", "on", "actor", "created_at"]


class AttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = RequestAttachment
        fields = ["id", "name", "size", "sha256", "uploaded_at"]


NEED_FIELDS = [
    "labour_positions",
    "labour_headcount",
    "labour_skills",
    "labour_needed_by",
    "financing_amount",
    "financing_term_months",
    "financing_purpose",
    "financing_collateral",
    "financing_share_with_banks",
]
FIRM_FIELDS = [
    "id",
    "enterprise",
    "enterprise_name",
    "category",
    "category_display",
    "channel",
    "title",
    "description",
    "is_complex",
    "status",
    "status_display",
    "received_on",
    "sign_for_due",
    "reply_due",
    "resolve_due",
    "signed_for_on",
    "first_reply_on",
    "resolved_on",
    "closed_on",
    "paused_workdays",
    "resolution",
    "rating",
    "rating_comment",
    "reopen_count",
    "assignee",
    "department",
    "project",
    *NEED_FIELDS,
]


class FirmRequestSerializer(serializers.ModelSerializer):
    """A request as its own firm sees it."""

    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    category_display = serializers.CharField(source="get_category_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    assignee = NamedField(read_only=True, allow_null=True)
    department = NamedField(read_only=True, allow_null=True)

    class Meta:
        model = ServiceRequest
        fields = FIRM_FIELDS
        read_only_fields = fields


class RequestSerializer(FirmRequestSerializer):
    """A request as district staff see it."""

    submitted_by = NamedField(read_only=True, allow_null=True)

    class Meta(FirmRequestSerializer.Meta):
        fields = [*FIRM_FIELDS, "submitted_by", "waiting_since", "escalation_level", "visit", "is_demo", "updated_at"]
        read_only_fields = fields


class FirmRequestDetailSerializer(FirmRequestSerializer):
    events = serializers.SerializerMethodField()
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta(FirmRequestSerializer.Meta):
        fields = [*FirmRequestSerializer.Meta.fields, "events", "attachments"]
        read_only_fields = fields

    @extend_schema_field(EventSerializer(many=True))
    def get_events(self, request: ServiceRequest) -> list:
        return EventSerializer(request_timeline(request, self.context["request"].user), many=True).data


class RequestDetailSerializer(RequestSerializer):
    events = serializers.SerializerMethodField()
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta(RequestSerializer.Meta):
        fields = [*RequestSerializer.Meta.fields, "events", "attachments"]
        read_only_fields = fields

    @extend_schema_field(EventSerializer(many=True))
    def get_events(self, request: ServiceRequest) -> list:
        return EventSerializer(request_timeline(request, self.context["request"].user), many=True).data


class FinancingNeedSerializer(serializers.ModelSerializer):
    """A published financing need, as a bank sees it: the firm and the structured need only."""

    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    enterprise_uscc = serializers.CharField(source="enterprise.uscc", read_only=True)

    class Meta:
        model = ServiceRequest
        fields = [
            "id",
            "enterprise_name",
            "enterprise_uscc",
            "received_on",
            "financing_amount",
            "financing_term_months",
            "financing_purpose",
            "financing_collateral",
        ]
        read_only_fields = fields


# -- write shapes ------------------------------------------------------------------------------------


class LabourSerializer(StrictSerializer):
    positions = serializers.CharField(max_length=200, allow_blank=True, required=False)
    headcount = serializers.IntegerField(required=False, allow_null=True)
    skills = serializers.CharField(max_length=200, allow_blank=True, required=False)
    needed_by = serializers.DateField(required=False, allow_null=True)


class FinancingSerializer(StrictSerializer):
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)
    term_months = serializers.IntegerField(required=False, allow_null=True)
    purpose = serializers.CharField(max_length=200, allow_blank=True, required=False)
    collateral = serializers.CharField(max_length=200, allow_blank=True, required=False)
    share_with_banks = serializers.BooleanField(required=False, default=False)


class RequestCreateSerializer(StrictSerializer):
    """A new request. A firm user submits for its own firm (no `enterprise`, channel online); district
    staff name the firm and the channel it came by (phone, visit, wechat, counter)."""

    enterprise = serializers.PrimaryKeyRelatedField(queryset=Enterprise.objects.all(), required=False)
    category = serializers.CharField()
    title = serializers.CharField(allow_blank=True, required=False, default="")
    description = serializers.CharField(allow_blank=True)
    channel = serializers.CharField(required=False)
    is_complex = serializers.BooleanField(required=False, default=False)
    labour = LabourSerializer(required=False, allow_null=True)
    financing = FinancingSerializer(required=False, allow_null=True)
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all(), required=False, allow_null=True)


class NoteSerializer(StrictSerializer):
    note = serializers.CharField(allow_blank=True)


class TransferSerializer(StrictSerializer):
    department = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.all())
    note = serializers.CharField(allow_blank=True)


class ResolveSerializer(StrictSerializer):
    resolution = serializers.CharField(allow_blank=True)


class RateSerializer(StrictSerializer):
    rating = serializers.IntegerField()
    comment = serializers.CharField(allow_blank=True, required=False, default="")


class ReopenSerializer(StrictSerializer):
    reason = serializers.CharField(allow_blank=True)


class VisitSerializer(serializers.ModelSerializer):
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    visitor = NamedField(read_only=True)
    organisation = NamedField(read_only=True)
    request_ids = serializers.SerializerMethodField()

    class Meta:
        model = Visit
        fields = [
            "id",
            "enterprise",
            "enterprise_name",
            "visited_on",
            "visitor",
            "organisation",
            "people_met",
            "findings",
            "request_ids",
            "created_at",
        ]
        read_only_fields = fields

    def get_request_ids(self, visit: Visit) -> list[int]:
        return [r.pk for r in visit.requests.all()]


class VisitCreateSerializer(StrictSerializer):
    enterprise = serializers.PrimaryKeyRelatedField(queryset=Enterprise.objects.all())
    visited_on = serializers.DateField()
    people_met = serializers.CharField(allow_blank=True, required=False, default="")
    findings = serializers.CharField(allow_blank=True)


class VisitItemSerializer(StrictSerializer):
    category = serializers.CharField()
    title = serializers.CharField(allow_blank=True, required=False, default="")
    description = serializers.CharField(allow_blank=True)
    is_complex = serializers.BooleanField(required=False, default=False)
    labour = LabourSerializer(required=False, allow_null=True)
    financing = FinancingSerializer(required=False, allow_null=True)


class VisitRequestsSerializer(StrictSerializer):
    items = VisitItemSerializer(many=True)


# -- viewsets ----------------------------------------------------------------------------------------

REQUEST_FOR_ROLE = PolymorphicProxySerializer(
    component_name="ServiceRequestForRole",
    serializers=[RequestSerializer, FirmRequestSerializer],
    resource_type_field_name=None,
)
REQUEST_DETAIL_FOR_ROLE = PolymorphicProxySerializer(
    component_name="ServiceRequestDetailForRole",
    serializers=[RequestDetailSerializer, FirmRequestDetailSerializer],
    resource_type_field_name=None,
)


def _structured(data: dict, name: str) -> dict | None:
    value = data.get(name)
    return dict(value) if value is not None else None


@extend_schema_view(
    list=extend_schema(
        responses={200: REQUEST_FOR_ROLE},
        description=gettext_lazy("District staff see every request; a firm user its own firm's, reduced."),
    ),
    retrieve=extend_schema(responses={200: REQUEST_DETAIL_FOR_ROLE, **_errors(404)}),
    create=extend_schema(
        request=RequestCreateSerializer,
        responses={201: REQUEST_DETAIL_FOR_ROLE, **_errors(400, 403)},
        description=gettext_lazy(
            "Submit a request (诉求): a firm user for its own firm, or district staff on a firm's behalf "
            "with the channel it came by."
        ),
    ),
)
@extend_schema(tags=["servicedesk"])
class ServiceRequestViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Enterprise requests (企业诉求) and every step of their life."""

    permission_classes = [IsAuthenticated, CanUseDesk]
    filterset_class = RequestFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ServiceRequest.objects.none()
        return requests_visible_to(self.request.user).order_by("-received_on", "-id")

    def get_object(self):
        return request_get_for(self.request.user, self.kwargs["pk"])

    def get_serializer_class(self):
        firm = is_firm_user(getattr(self.request, "user", None))
        if self.action == "list":
            return FirmRequestSerializer if firm else RequestSerializer
        if self.action == "financing_needs":
            return FinancingNeedSerializer
        return FirmRequestDetailSerializer if firm else RequestDetailSerializer

    def _detail(self, request_obj: ServiceRequest, code: int = status.HTTP_200_OK) -> Response:
        fresh = request_get_for(self.request.user, request_obj.pk)
        serializer_class = FirmRequestDetailSerializer if is_firm_user(self.request.user) else RequestDetailSerializer
        return Response(serializer_class(fresh, context=self.get_serializer_context()).data, status=code)

    def retrieve(self, request, *args, **kwargs):
        return self._detail(self.get_object())

    def create(self, request, *args, **kwargs):
        serializer = RequestCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        user = request.user
        if is_firm_user(user):
            enterprise = user.organisation.enterprise
            if data.get("enterprise") not in (None, enterprise):
                raise PermissionDenied()
            channel = data.get("channel") or Channel.ONLINE
        else:
            enterprise = data.get("enterprise")
            channel = data.get("channel") or ""
        created = services.request_submit(
            actor=user,
            enterprise=enterprise,
            category=data["category"],
            title=data.get("title", ""),
            description=data["description"],
            channel=channel,
            is_complex=data.get("is_complex", False),
            labour=_structured(data, "labour"),
            financing=_structured(data, "financing"),
            project=data.get("project"),
        )
        return self._detail(created, status.HTTP_201_CREATED)

    def _step(self, request, serializer_class, call):
        target = self.get_object()
        kwargs = {}
        if serializer_class is not None:
            serializer = serializer_class(data=request.data)
            serializer.is_valid(raise_exception=True)
            kwargs = dict(serializer.validated_data)
        return self._detail(call(target, **kwargs))

    @extend_schema(
        request=None,
        responses={200: RequestDetailSerializer, **_errors(403, 404, 409)},
        description=gettext_lazy("Sign for the request (签收)."),
    )
    @action(detail=True, methods=["post"], url_path="sign-for")
    def sign_for(self, request, pk=None):
        return self._step(request, None, lambda r: services.request_sign_for(actor=request.user, request=r))

    @extend_schema(
        request=NoteSerializer,
        responses={200: RequestDetailSerializer, **_errors(400, 403, 404, 409)},
        description=gettext_lazy("Reply to the firm; the first reply is what the reply rate counts."),
    )
    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        return self._step(
            request, NoteSerializer, lambda r, note: services.request_reply(actor=request.user, request=r, note=note)
        )

    @extend_schema(
        request=NoteSerializer,
        responses={200: RequestDetailSerializer, **_errors(400, 403, 404, 409)},
        description=gettext_lazy("Ask the firm for more information; the clock pauses until it answers."),
    )
    @action(detail=True, methods=["post"], url_path="ask-firm")
    def ask_firm(self, request, pk=None):
        return self._step(
            request, NoteSerializer, lambda r, note: services.request_ask_firm(actor=request.user, request=r, note=note)
        )

    @extend_schema(
        request=NoteSerializer,
        responses={200: FirmRequestDetailSerializer, **_errors(400, 403, 404, 409)},
        description=gettext_lazy("The firm answers a question; the deadlines move back by the days waited."),
    )
    @action(detail=True, methods=["post"], url_path="add-information")
    def add_information(self, request, pk=None):
        return self._step(
            request,
            NoteSerializer,
            lambda r, note: services.request_add_information(actor=request.user, request=r, note=note),
        )

    @extend_schema(
        request=TransferSerializer,
        responses={200: RequestDetailSerializer, **_errors(400, 403, 404, 409)},
        description=gettext_lazy("Transfer (转办) to another department with a note; the clock is kept."),
    )
    @action(detail=True, methods=["post"])
    def transfer(self, request, pk=None):
        return self._step(
            request,
            TransferSerializer,
            lambda r, department, note: services.request_transfer(
                actor=request.user, request=r, department=department, note=note
            ),
        )

    @extend_schema(
        request=ResolveSerializer,
        responses={200: RequestDetailSerializer, **_errors(400, 403, 404, 409)},
        description=gettext_lazy("Mark the request resolved with a note of what was done."),
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self._step(
            request,
            ResolveSerializer,
            lambda r, resolution: services.request_resolve(actor=request.user, request=r, resolution=resolution),
        )

    @extend_schema(
        request=RateSerializer,
        responses={200: FirmRequestDetailSerializer, **_errors(400, 403, 404, 409)},
        description=gettext_lazy("The firm rates a resolved request 1–5, which closes it."),
    )
    @action(detail=True, methods=["post"])
    def rate(self, request, pk=None):
        return self._step(
            request,
            RateSerializer,
            lambda r, rating, comment="": services.request_rate(
                actor=request.user, request=r, rating=rating, comment=comment
            ),
        )

    @extend_schema(
        request=ReopenSerializer,
        responses={200: FirmRequestDetailSerializer, **_errors(400, 403, 404, 409)},
        description=gettext_lazy("The firm says the request is not solved: it is reopened."),
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._step(
            request,
            ReopenSerializer,
            lambda r, reason: services.request_reopen(actor=request.user, request=r, reason=reason),
        )

    @extend_schema(
        responses={200: FinancingNeedSerializer(many=True), **_errors(403)},
        description=gettext_lazy(
            "Open financing needs the firms chose to publish to banks: the only part of the desk a bank sees."
        ),
    )
    @action(detail=False, methods=["get"], url_path="financing-needs", filterset_class=None)
    def financing_needs(self, request):
        rows = financing_needs_for_bank(request.user)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(FinancingNeedSerializer(page, many=True).data)


@extend_schema_view(
    list=extend_schema(description=gettext_lazy("Visits (走访) by every office, newest first.")),
    retrieve=extend_schema(responses={200: VisitSerializer, **_errors(404)}),
    create=extend_schema(
        request=VisitCreateSerializer,
        responses={201: VisitSerializer, **_errors(400, 403)},
        description=gettext_lazy("Log a visit: date, people met, findings."),
    ),
)
@extend_schema(tags=["servicedesk"])
class VisitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Visits to firms (走访) by specialists and every other office."""

    permission_classes = [IsAuthenticated, CanSeeVisits]
    serializer_class = VisitSerializer
    filterset_fields = ["enterprise", "visitor", "organisation"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Visit.objects.none()
        return visits_visible_to(self.request.user).prefetch_related("requests")

    def get_object(self):
        return visit_get_for(self.request.user, self.kwargs["pk"])

    def create(self, request, *args, **kwargs):
        serializer = VisitCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        visit = services.visit_log(actor=request.user, **serializer.validated_data)
        return Response(VisitSerializer(visit).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=VisitRequestsSerializer,
        responses={201: RequestSerializer(many=True), **_errors(400, 403, 404)},
        description=gettext_lazy(
            "Create requests from the visit's findings in one step (channel: visit); all or none."
        ),
    )
    @action(detail=True, methods=["post"], url_path="create-requests")
    def create_requests(self, request, pk=None):
        visit = self.get_object()
        serializer = VisitRequestsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        items = []
        for item in serializer.validated_data["items"]:
            item = dict(item)
            for name in ("labour", "financing"):
                if item.get(name) is not None:
                    item[name] = dict(item[name])
                else:
                    item.pop(name, None)
            items.append(item)
        created = services.visit_create_requests(actor=request.user, visit=visit, items=items)
        return Response(RequestSerializer(created, many=True).data, status=status.HTTP_201_CREATED)
