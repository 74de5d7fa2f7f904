"""Approval-desk API: /api/approvals/items/ and /api/approvals/applications/ — the same scoping and
services as the pages.

- The catalogue (事项清单) is read by district staff and firm users; an item is found by its code or
  its id.
- District staff list and read every application; a firm user only its own firm's. Banks and the
  city client get empty lists, and 404 for any one application, exactly like a missing one.
- Every write calls one service of zhiyuan.approvals.services, which decides who may do it: the
  applicant's steps (create, materials, submit, withdraw) by a user of the applying firm or a window
  clerk on its behalf; the window's steps (accept, reject, request corrections, forward the city's
  supplement, record the collection) by a window clerk. A broken rule answers the one error body
  {"error": {"code", "message", "fields"}} (400 invalid input, 403 role, 404 not visible, 409 state).
"""

import django_filters
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from zhiyuan.accounts.models import Role
from zhiyuan.accounts.permissions import is_authenticated, is_district_staff
from zhiyuan.approvals import services
from zhiyuan.approvals.models import Application, ApplicationStatus, ApprovalItem
from zhiyuan.approvals.selectors import (
    application_get_for,
    application_timeline,
    applications_visible_to,
    items_active,
)
from zhiyuan.approvals.serializers import (
    ApplicationCollectSerializer,
    ApplicationCreateSerializer,
    ApplicationDetailSerializer,
    ApplicationEventSerializer,
    ApplicationMaterialSerializer,
    ApplicationNoteSerializer,
    ApplicationReasonSerializer,
    ApplicationSerializer,
    ApprovalItemSerializer,
    CorrectionRequestSerializer,
    MaterialUploadSerializer,
)
from zhiyuan.core.api import ErrorSerializer, error_responses
from zhiyuan.core.errors import NotFoundError
from zhiyuan.investments.selectors import project_get_for

ERRORS = error_responses(
    not_found=gettext_lazy("No such application (or not yours to see)."),
    conflict=gettext_lazy("Not possible in the application's current state."),
)


_errors = ERRORS.only


def _sees_catalogue(user) -> bool:
    """District staff and firm users read the catalogue; banks and the city client see none of it."""
    return is_district_staff(user) or (
        is_authenticated(user) and user.role == Role.ENTERPRISE and bool(user.enterprise_id)
    )


# -- the catalogue -----------------------------------------------------------------------------------

ITEM_KEY = OpenApiParameter(
    "id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description=gettext_lazy("The item's code (e.g. construction_permit) or its numeric id."),
)


@extend_schema_view(
    list=extend_schema(description=gettext_lazy("The active approval items (事项清单) with their materials.")),
    retrieve=extend_schema(
        parameters=[ITEM_KEY],
        responses={
            200: ApprovalItemSerializer,
            404: OpenApiResponse(ErrorSerializer, description=gettext_lazy("No such active item.")),
        },
    ),
)
@extend_schema(tags=["approvals"])
class ApprovalItemViewSet(viewsets.ReadOnlyModelViewSet):
    """The item catalogue: department, legal time limit in working days, legal basis and materials."""

    permission_classes = [IsAuthenticated]
    serializer_class = ApprovalItemSerializer
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False) or not _sees_catalogue(self.request.user):
            return ApprovalItem.objects.none()
        return items_active()

    def get_object(self):
        key = str(self.kwargs["pk"])
        queryset = self.get_queryset()
        item = queryset.filter(code=key).first()
        if item is None and key.isdigit():
            item = queryset.filter(pk=int(key)).first()
        if item is None:
            raise NotFoundError()
        return item


# -- applications ------------------------------------------------------------------------------------


class ApplicationFilter(django_filters.FilterSet):
    """Filters of the application list: status, item (by code), project and enterprise (by id)."""

    status = django_filters.ChoiceFilter(label=gettext_lazy("Status"), choices=ApplicationStatus.choices)
    item = django_filters.CharFilter(label=gettext_lazy("Approval item (code)"), field_name="item__code")
    project = django_filters.NumberFilter(label=gettext_lazy("Investment project (id)"), field_name="project_id")
    enterprise = django_filters.NumberFilter(label=gettext_lazy("Enterprise (id)"), field_name="enterprise_id")

    class Meta:
        model = Application
        fields = ["status", "item", "project", "enterprise"]


@extend_schema_view(
    list=extend_schema(
        description=gettext_lazy(
            "District staff see every application; a firm user its own firm's; banks and the city none. "
            "Newest first unless `ordering` says otherwise."
        ),
    ),
    retrieve=extend_schema(responses={200: ApplicationDetailSerializer, **_errors(404)}),
    create=extend_schema(
        request=ApplicationCreateSerializer,
        responses={201: ApplicationDetailSerializer, **_errors(400, 403, 404, 409)},
        description=gettext_lazy(
            "Start an application (a draft) for an item on an investment project: a firm user for its own "
            "project, or a window clerk on the firm's behalf. The project must have its investment project code."
        ),
    ),
)
@extend_schema(tags=["approvals"])
class ApplicationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Approval applications (综合受理) and every step of their life at the window."""

    permission_classes = [IsAuthenticated]
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = ApplicationFilter
    ordering_fields = ["created_at", "received_on", "accept_due", "city_due", "number", "status", "decided_on"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Application.objects.none()
        return applications_visible_to(self.request.user)

    def get_object(self):
        return application_get_for(self.request.user, self.kwargs["pk"])

    def get_serializer_class(self):
        if self.action == "list":
            return ApplicationSerializer
        return ApplicationDetailSerializer

    def _detail(self, application: Application, code: int = status.HTTP_200_OK) -> Response:
        fresh = application_get_for(self.request.user, application.pk)
        return Response(ApplicationDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def retrieve(self, request, *args, **kwargs):
        return self._detail(self.get_object())

    def create(self, request, *args, **kwargs):
        serializer = ApplicationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # A project the user may not see answers 404 exactly like a missing one.
        project = project_get_for(request.user, data["project"])
        created = services.application_create(
            actor=request.user,
            item=data["item"],
            project=project,
            contact_name=data["contact_name"],
            contact_phone=data["contact_phone"],
            description=data.get("description", ""),
        )
        return self._detail(created, status.HTTP_201_CREATED)

    def _step(self, request, serializer_class, call) -> Response:
        application = self.get_object()
        kwargs = {}
        if serializer_class is not None:
            serializer = serializer_class(data=request.data)
            serializer.is_valid(raise_exception=True)
            kwargs = dict(serializer.validated_data)
        return self._detail(call(application, **kwargs))

    @extend_schema(
        responses={200: ApplicationEventSerializer(many=True), **_errors(404)},
        description=gettext_lazy("The timeline: every step, by whom, and every message to and from the city."),
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def timeline(self, request, pk=None):
        application = self.get_object()
        return Response(ApplicationEventSerializer(application_timeline(application), many=True).data)

    # -- the applicant's steps --

    @extend_schema(
        request={"multipart/form-data": MaterialUploadSerializer},
        responses={201: ApplicationMaterialSerializer, **_errors(400, 403, 404, 409)},
        description=gettext_lazy(
            "Upload one material file (type and size checked, SHA-256 recorded) while the application is a "
            "draft, while corrections are requested (the new file replaces the earlier one) or while the city "
            "has returned it for more material (then `requirement` may be left out)."
        ),
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def materials(self, request, pk=None):
        application = self.get_object()
        serializer = MaterialUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        material = services.material_add(
            actor=request.user,
            application=application,
            requirement=serializer.validated_data.get("requirement"),
            uploaded_file=serializer.validated_data["file"],
        )
        return Response(ApplicationMaterialSerializer(material).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("material_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={204: None, **_errors(403, 404, 409)},
        description=gettext_lazy("Remove a file uploaded in the current round."),
    )
    @action(detail=True, methods=["delete"], url_path=r"materials/(?P<material_id>\d+)")
    def material_remove(self, request, pk=None, material_id=None):
        application = self.get_object()
        material = application.materials.filter(pk=material_id).first()
        if material is None:
            raise NotFoundError()
        services.material_remove(actor=request.user, material=material)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses={200: ApplicationDetailSerializer, **_errors(400, 403, 404, 409)},
        description=gettext_lazy(
            "Submit the application to the window, or resubmit it after corrections. Every required material "
            "must be there (`fields.materials` lists each one missing); the window's clock starts."
        ),
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._step(request, None, lambda a: services.application_submit(actor=request.user, application=a))

    @extend_schema(
        request=ApplicationReasonSerializer,
        responses={200: ApplicationDetailSerializer, **_errors(400, 403, 404, 409)},
        description=gettext_lazy("The applicant withdraws an application the window has not accepted, with a reason."),
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self._step(
            request,
            ApplicationReasonSerializer,
            lambda a, reason: services.application_withdraw(actor=request.user, application=a, reason=reason),
        )

    # -- the window's steps --

    @extend_schema(
        request=ApplicationNoteSerializer,
        responses={200: ApplicationDetailSerializer, **_errors(403, 404, 409)},
        description=gettext_lazy("Accept (受理): the application is forwarded to the city in the same transaction."),
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._step(
            request,
            ApplicationNoteSerializer,
            lambda a, note: services.application_accept(actor=request.user, application=a, note=note),
        )

    @extend_schema(
        request=ApplicationReasonSerializer,
        responses={200: ApplicationDetailSerializer, **_errors(400, 403, 404, 409)},
        description=gettext_lazy("Do not accept (不予受理), with the reason the firm is told."),
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._step(
            request,
            ApplicationReasonSerializer,
            lambda a, reason: services.application_reject(actor=request.user, application=a, reason=reason),
        )

    @extend_schema(
        request=CorrectionRequestSerializer,
        responses={200: ApplicationDetailSerializer, **_errors(400, 403, 404, 409)},
        description=gettext_lazy(
            "Ask for corrections (补正) — once — listing every missing or faulty material and what is wrong."
        ),
    )
    @action(detail=True, methods=["post"], url_path="request-correction")
    def request_correction(self, request, pk=None):
        return self._step(
            request,
            CorrectionRequestSerializer,
            lambda a, items, note="": services.application_request_correction(
                actor=request.user, application=a, items=[dict(item) for item in items], note=note
            ),
        )

    @extend_schema(
        request=ApplicationNoteSerializer,
        responses={200: ApplicationDetailSerializer, **_errors(400, 403, 404, 409)},
        description=gettext_lazy(
            "Forward to the city the supplementary material the firm uploaded after the city returned the case."
        ),
    )
    @action(detail=True, methods=["post"], url_path="forward-supplement")
    def forward_supplement(self, request, pk=None):
        return self._step(
            request,
            ApplicationNoteSerializer,
            lambda a, note: services.application_supplement_forward(actor=request.user, application=a, note=note),
        )

    @extend_schema(
        request=ApplicationCollectSerializer,
        responses={200: ApplicationDetailSerializer, **_errors(400, 403, 404, 409)},
        description=gettext_lazy("Record that the firm collected the decision at the window (出件), and who."),
    )
    @action(detail=True, methods=["post"])
    def collect(self, request, pk=None):
        return self._step(
            request,
            ApplicationCollectSerializer,
            lambda a, collected_by: services.application_collect(
                actor=request.user, application=a, collected_by=collected_by
            ),
        )
