"""Project API: /api/projects/ — the same scoping, filters and services as the pages.

District staff read every project and write through the services, which check each role (the
investment office records leads and signs, the project office moves projects on and records
progress, leaders decide 停缓调撤). A firm user reads only its own enterprise's projects, in a
reduced shape without officers, contacts, blockers or decisions, and writes nothing. Banks and the
city client have no access. A project the user may not see answers 404 exactly like a missing one.
"""

import datetime as dt
from decimal import Decimal

from django.db.models import prefetch_related_objects
from django.utils import timezone
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

from zhiyuan.accounts.models import Organisation, Role, User
from zhiyuan.accounts.permissions import is_authenticated, is_district_staff
from zhiyuan.core.api import StrictSerializer, error_responses
from zhiyuan.enterprises.api import EnterpriseSerializer
from zhiyuan.enterprises.models import Enterprise
from zhiyuan.investments import services
from zhiyuan.investments.filters import ProjectFilter
from zhiyuan.investments.models import (
    Blocker,
    BlockerStatus,
    Decision,
    DecisionKind,
    KeyProject,
    Milestone,
    Project,
    Stage,
)
from zhiyuan.investments.selectors import project_get_for, projects_visible_to

MONEY = {"max_digits": 14, "decimal_places": 2}


# -- permissions -------------------------------------------------------------------------------------


def is_firm_user(user) -> bool:
    """An enterprise user acting for one firm (sees that firm's projects, reduced)."""
    return is_authenticated(user) and user.role == Role.ENTERPRISE and bool(user.enterprise_id)


class CanSeeProjects(BasePermission):
    """District staff and firm users; banks and the city client have no business with projects."""

    def has_permission(self, request, view) -> bool:
        return is_district_staff(request.user) or is_firm_user(request.user)


def _district_only(user) -> None:
    """Writes come from district staff; which role may do what is the services' decision."""
    if not is_district_staff(user):
        raise PermissionDenied()


ERRORS = error_responses(
    not_found=gettext_lazy("No such project (or not yours to see)."),
    conflict=gettext_lazy("Not possible in the project's current state."),
)


# -- read shapes -------------------------------------------------------------------------------------


class PersonField(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="__str__")


class MilestoneSerializer(serializers.ModelSerializer):
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Milestone
        fields = ["id", "name", "planned_on", "actual_on", "note", "overdue"]

    def get_overdue(self, milestone: Milestone) -> bool:
        return milestone.actual_on is None and milestone.planned_on < _today()


class FirmMilestoneSerializer(MilestoneSerializer):
    class Meta(MilestoneSerializer.Meta):
        fields = ["id", "name", "planned_on", "actual_on", "overdue"]


class MonthlyInvestmentSerializer(serializers.Serializer):
    """One month's completed investment with the running totals (all in 万元)."""

    month = serializers.DateField()
    amount = serializers.DecimalField(**MONEY)
    note = serializers.CharField()
    cumulative = serializers.DecimalField(max_digits=16, decimal_places=2, help_text=gettext_lazy("Since the start."))
    year_cumulative = serializers.DecimalField(
        max_digits=16, decimal_places=2, help_text=gettext_lazy("Since January of the month's year.")
    )
    year_share = serializers.DecimalField(
        max_digits=8,
        decimal_places=4,
        allow_null=True,
        help_text=gettext_lazy("Share of the year's planned investment, when the project is on that year's list."),
    )


class DecisionSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    approver = PersonField(read_only=True)

    class Meta:
        model = Decision
        fields = ["id", "kind", "kind_display", "reason", "decided_on", "resume_on", "adjustments", "approver"]


class OrganisationField(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class BlockerSerializer(serializers.ModelSerializer):
    unit = OrganisationField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Blocker
        fields = [
            "id",
            "description",
            "unit",
            "due_on",
            "status",
            "status_display",
            "resolution",
            "resolved_on",
            "overdue",
            "created_at",
        ]

    def get_overdue(self, blocker: Blocker) -> bool:
        return blocker.status == BlockerStatus.OPEN and blocker.due_on < _today()


class KeyListingSerializer(serializers.ModelSerializer):
    liaison_leader = PersonField(read_only=True, allow_null=True)
    responsible_unit = OrganisationField(read_only=True, allow_null=True)
    done = serializers.SerializerMethodField()
    share = serializers.SerializerMethodField()

    class Meta:
        model = KeyProject
        fields = ["year", "sequence", "planned_investment", "done", "share", "liaison_leader", "responsible_unit"]

    def _done(self, listing: KeyProject) -> Decimal:
        # listing.project is the prefetching project itself, with its monthly entries prefetched.
        return sum(
            (m.amount for m in listing.project.monthly_investments.all() if m.month.year == listing.year),
            Decimal(0),
        )

    @extend_schema_field(serializers.DecimalField(max_digits=16, decimal_places=2))
    def get_done(self, listing: KeyProject) -> str:
        return f"{self._done(listing):.2f}"

    @extend_schema_field(serializers.DecimalField(max_digits=8, decimal_places=4, allow_null=True))
    def get_share(self, listing: KeyProject) -> str | None:
        if not listing.planned_investment:
            return None
        return f"{self._done(listing) / listing.planned_investment:.4f}"


class StageChangeSerializer(serializers.Serializer):
    from_stage = serializers.CharField()
    to_stage = serializers.CharField()
    on = serializers.DateField()
    note = serializers.CharField()


class ProjectSerializer(serializers.ModelSerializer):
    """A project as district staff see it in a list."""

    stage_display = serializers.CharField(source="get_stage_display", read_only=True)
    pool_display = serializers.CharField(source="get_pool_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    chain_display = serializers.CharField(source="get_chain_display", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True, allow_null=True, default=None)
    industry = serializers.CharField(source="industry_id", read_only=True, allow_null=True)
    industry_name = serializers.CharField(source="industry.name", read_only=True, allow_null=True, default=None)
    investment_officer = PersonField(read_only=True, allow_null=True)
    project_officer = PersonField(read_only=True, allow_null=True)

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "code",
            "stage",
            "stage_display",
            "pool",
            "pool_display",
            "status",
            "status_display",
            "source",
            "investor_name",
            "enterprise",
            "enterprise_name",
            "chain",
            "chain_display",
            "industry",
            "industry_name",
            "description",
            "estimated_investment",
            "contact_name",
            "contact_phone",
            "contract_date",
            "total_investment",
            "land_area_mu",
            "planned_start",
            "actual_start",
            "planned_completion",
            "actual_completion",
            "production_date",
            "first_year_output",
            "investment_officer",
            "project_officer",
            "resume_on",
            "is_demo",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ProjectDetailSerializer(ProjectSerializer):
    """A project with its history and progress: milestones, monthly investment with running totals,
    decisions, blockers, key-project listings and stage changes."""

    milestones = MilestoneSerializer(many=True, read_only=True)
    monthly_investments = serializers.SerializerMethodField()
    decisions = DecisionSerializer(many=True, read_only=True)
    blockers = BlockerSerializer(many=True, read_only=True)
    key_listings = KeyListingSerializer(many=True, read_only=True)
    stage_changes = StageChangeSerializer(many=True, read_only=True)

    class Meta(ProjectSerializer.Meta):
        fields = [
            *ProjectSerializer.Meta.fields,
            "milestones",
            "monthly_investments",
            "decisions",
            "blockers",
            "key_listings",
            "stage_changes",
        ]
        read_only_fields = fields

    @extend_schema_field(MonthlyInvestmentSerializer(many=True))
    def get_monthly_investments(self, project: Project) -> list[dict]:
        return monthly_rows(project)


class FirmProjectSerializer(serializers.ModelSerializer):
    """A project as its own firm sees it: what it is, where it stands and when."""

    stage_display = serializers.CharField(source="get_stage_display", read_only=True)
    pool_display = serializers.CharField(source="get_pool_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "code",
            "stage",
            "stage_display",
            "pool",
            "pool_display",
            "status",
            "status_display",
            "enterprise",
            "enterprise_name",
            "contract_date",
            "planned_start",
            "actual_start",
            "planned_completion",
            "actual_completion",
            "production_date",
        ]
        read_only_fields = fields


class FirmProjectDetailSerializer(FirmProjectSerializer):
    milestones = FirmMilestoneSerializer(many=True, read_only=True)

    class Meta(FirmProjectSerializer.Meta):
        fields = [*FirmProjectSerializer.Meta.fields, "milestones"]
        read_only_fields = fields


def _today() -> dt.date:
    return timezone.localdate()


def monthly_rows(project: Project) -> list[dict]:
    """The project's monthly entries, oldest first, with the cumulative since the start, the cumulative
    within the calendar year and the share of that year's key-project plan (from prefetched rows)."""
    plans = {k.year: k.planned_investment for k in project.key_listings.all()}
    rows, running, year_running, year = [], Decimal(0), Decimal(0), None
    for entry in sorted(project.monthly_investments.all(), key=lambda m: m.month):
        if entry.month.year != year:
            year, year_running = entry.month.year, Decimal(0)
        running += entry.amount
        year_running += entry.amount
        plan = plans.get(year)
        rows.append(
            {
                "month": entry.month,
                "amount": entry.amount,
                "note": entry.note,
                "cumulative": running,
                "year_cumulative": year_running,
                "year_share": (year_running / plan).quantize(Decimal("0.0001")) if plan else None,
            }
        )
    return MonthlyInvestmentSerializer(rows, many=True).data


# -- write shapes ------------------------------------------------------------------------------------


def _enterprise_field(**kwargs):
    return serializers.PrimaryKeyRelatedField(
        queryset=Enterprise.objects.all(), allow_null=True, required=False, **kwargs
    )


def _person_field(**kwargs):
    return serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), allow_null=True, required=False, **kwargs
    )


def _money(**kwargs):
    return serializers.DecimalField(**MONEY, allow_null=True, required=False, **kwargs)


class ProjectWriteSerializer(StrictSerializer):
    """Fields of a new lead, or the descriptive fields a PATCH may correct (stage and status have
    their own actions). Money in 万元; people and the enterprise by id; the industry by its code."""

    name = serializers.CharField(max_length=200, required=False)
    code = serializers.CharField(max_length=40, allow_blank=True, allow_null=True, required=False)
    source = serializers.CharField(max_length=100, allow_blank=True, required=False)
    investor_name = serializers.CharField(max_length=200, allow_blank=True, required=False)
    enterprise = _enterprise_field()
    chain = serializers.ChoiceField(choices=Project._meta.get_field("chain").choices, required=False)
    industry = serializers.CharField(max_length=5, allow_blank=True, allow_null=True, required=False)
    description = serializers.CharField(allow_blank=True, required=False)
    estimated_investment = _money()
    contact_name = serializers.CharField(max_length=50, allow_blank=True, required=False)
    contact_phone = serializers.CharField(max_length=20, allow_blank=True, required=False)
    total_investment = _money()
    land_area_mu = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True, required=False)
    planned_start = serializers.DateField(allow_null=True, required=False)
    planned_completion = serializers.DateField(allow_null=True, required=False)
    investment_officer = _person_field()
    project_officer = _person_field()


class TransitionSerializer(StrictSerializer):
    """Move to the next stage. Each stage asks for its own fields (签约: contract_date and
    total_investment, and the enterprise — an existing one by id or a new one in `new_enterprise`;
    开工: actual_start; 竣工: actual_completion; 投产: production_date and first_year_output)."""

    to_stage = serializers.ChoiceField(choices=Stage.choices)
    on = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    contract_date = serializers.DateField(required=False)
    total_investment = serializers.DecimalField(**MONEY, required=False)
    land_area_mu = serializers.DecimalField(max_digits=10, decimal_places=2, required=False)
    enterprise = _enterprise_field()
    code = serializers.CharField(max_length=40, required=False, allow_blank=True)
    planned_start = serializers.DateField(required=False)
    planned_completion = serializers.DateField(required=False)
    actual_start = serializers.DateField(required=False)
    actual_completion = serializers.DateField(required=False)
    production_date = serializers.DateField(required=False)
    first_year_output = serializers.DecimalField(**MONEY, required=False)
    new_enterprise = EnterpriseSerializer(required=False)

    def service_kwargs(self) -> dict:
        data = dict(self.validated_data)
        new_enterprise = data.pop("new_enterprise", None)
        if new_enterprise is not None:
            new_enterprise = dict(new_enterprise)
            new_enterprise["industry"] = new_enterprise.pop("industry_id", None)
        return {
            "to_stage": data.pop("to_stage"),
            "on": data.pop("on", None),
            "note": data.pop("note", ""),
            "new_enterprise": new_enterprise,
            "data": data,
        }


class AdjustmentsSerializer(StrictSerializer):
    """The fields a 调 decision changes, with their new values."""

    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(allow_blank=True, required=False)
    total_investment = serializers.DecimalField(**MONEY, required=False)
    land_area_mu = serializers.DecimalField(max_digits=10, decimal_places=2, required=False)
    planned_start = serializers.DateField(required=False)
    planned_completion = serializers.DateField(required=False)


class DecideSerializer(StrictSerializer):
    """A leader's 停 (stop), 缓 (postpone, with resume_on), 调 (adjust, with adjustments), 撤 (withdraw)
    or the resumption of a stopped or postponed project."""

    kind = serializers.ChoiceField(choices=DecisionKind.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    decided_on = serializers.DateField(required=False, allow_null=True)
    resume_on = serializers.DateField(required=False, allow_null=True)
    adjustments = AdjustmentsSerializer(required=False)


class MilestoneCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200, allow_blank=True)
    planned_on = serializers.DateField()
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class InvestmentCreateSerializer(StrictSerializer):
    """The investment completed in a month (万元); the month may be given as 2019-05 or any day in it."""

    month = serializers.DateField(input_formats=["%Y-%m", "iso-8601"])
    amount = serializers.DecimalField(**MONEY)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class InvestmentResultSerializer(serializers.Serializer):
    month = serializers.DateField()
    amount = serializers.DecimalField(**MONEY)
    note = serializers.CharField()
    cumulative = serializers.DecimalField(max_digits=16, decimal_places=2)
    year_cumulative = serializers.DecimalField(max_digits=16, decimal_places=2)
    year_share = serializers.DecimalField(max_digits=8, decimal_places=4, allow_null=True)


class BlockerCreateSerializer(StrictSerializer):
    description = serializers.CharField(allow_blank=True)
    unit = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.all())
    due_on = serializers.DateField()


# -- the viewset -------------------------------------------------------------------------------------

PROJECT_FOR_ROLE = PolymorphicProxySerializer(
    component_name="ProjectForRole",
    serializers=[ProjectSerializer, FirmProjectSerializer],
    resource_type_field_name=None,
)
PROJECT_DETAIL_FOR_ROLE = PolymorphicProxySerializer(
    component_name="ProjectDetailForRole",
    serializers=[ProjectDetailSerializer, FirmProjectDetailSerializer],
    resource_type_field_name=None,
)
DETAIL_PREFETCH = [
    "milestones",
    "monthly_investments",
    "decisions__approver",
    "blockers__unit",
    "key_listings__liaison_leader",
    "key_listings__responsible_unit",
    "stage_changes",
]


@extend_schema_view(
    list=extend_schema(
        responses={200: PROJECT_FOR_ROLE},
        description=gettext_lazy("District staff get the full shape; a firm user gets its own projects, reduced."),
    ),
    retrieve=extend_schema(responses={200: PROJECT_DETAIL_FOR_ROLE, 404: ERRORS[404]}),
    create=extend_schema(
        request=ProjectWriteSerializer,
        responses={201: ProjectDetailSerializer, 400: ERRORS[400], 403: ERRORS[403]},
        description=gettext_lazy("Record a new lead (线索). Investment officers and administrators."),
    ),
    partial_update=extend_schema(
        request=ProjectWriteSerializer,
        responses={200: ProjectDetailSerializer, **ERRORS.only(400, 403, 404, 409)},
        description=gettext_lazy("Correct a project's descriptive fields."),
    ),
)
@extend_schema(tags=["projects"])
class ProjectViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The investment-project pipeline (项目库)."""

    permission_classes = [IsAuthenticated, CanSeeProjects]
    filterset_class = ProjectFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Project.objects.none()
        return projects_visible_to(self.request.user)

    def get_object(self):
        project = project_get_for(self.request.user, self.kwargs["pk"])
        self.check_object_permissions(self.request, project)
        return project

    def get_serializer_class(self):
        firm = is_firm_user(getattr(self.request, "user", None))
        if self.action == "list":
            return FirmProjectSerializer if firm else ProjectSerializer
        if self.action == "retrieve":
            return FirmProjectDetailSerializer if firm else ProjectDetailSerializer
        if self.action in ("create", "partial_update"):
            return ProjectWriteSerializer
        return ProjectDetailSerializer

    def _detail(self, project: Project, status_code: int = status.HTTP_200_OK, *, reload: bool = True) -> Response:
        """The full shape; after a write the project is read again with its related rows."""
        if reload:
            project = projects_visible_to(self.request.user).get(pk=project.pk)
        prefetch_related_objects([project], *DETAIL_PREFETCH)
        return Response(ProjectDetailSerializer(project, context=self.get_serializer_context()).data, status_code)

    def retrieve(self, request, *args, **kwargs):
        project = self.get_object()
        if is_firm_user(request.user):
            prefetch_related_objects([project], "milestones")
            return Response(FirmProjectDetailSerializer(project, context=self.get_serializer_context()).data)
        return self._detail(project, reload=False)

    def create(self, request, *args, **kwargs):
        _district_only(request.user)
        serializer = ProjectWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = services.lead_create(actor=request.user, data=dict(serializer.validated_data))
        return self._detail(project, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        project = self.get_object()
        _district_only(request.user)
        serializer = ProjectWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        project = services.project_update(actor=request.user, project=project, data=dict(serializer.validated_data))
        return self._detail(project)

    @extend_schema(
        request=TransitionSerializer,
        responses={200: ProjectDetailSerializer, **ERRORS.only(400, 403, 404, 409)},
        description=gettext_lazy("Move the project to the next stage, with the data that stage needs."),
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        project = self.get_object()
        _district_only(request.user)
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = services.project_transition(actor=request.user, project=project, **serializer.service_kwargs())
        return self._detail(project)

    @extend_schema(
        request=DecideSerializer,
        responses={201: DecisionSerializer, **ERRORS.only(400, 403, 404, 409)},
        description=gettext_lazy("Record a leader's decision: stop, postpone, adjust, withdraw or resume."),
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        project = self.get_object()
        _district_only(request.user)
        serializer = DecideSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        decision = services.decision_record(
            actor=request.user,
            project=project,
            kind=data["kind"],
            reason=data.get("reason", ""),
            decided_on=data.get("decided_on"),
            resume_on=data.get("resume_on"),
            adjustments=dict(data.get("adjustments") or {}),
        )
        return Response(DecisionSerializer(decision).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=MilestoneCreateSerializer,
        responses={201: MilestoneSerializer, **ERRORS.only(400, 403, 404)},
        description=gettext_lazy("Add a milestone (节点) with its planned date."),
    )
    @action(detail=True, methods=["post"])
    def milestones(self, request, pk=None):
        project = self.get_object()
        _district_only(request.user)
        serializer = MilestoneCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        milestone = services.milestone_add(actor=request.user, project=project, **serializer.validated_data)
        return Response(MilestoneSerializer(milestone).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=InvestmentCreateSerializer,
        responses={201: InvestmentResultSerializer, **ERRORS.only(400, 403, 404)},
        description=gettext_lazy("Record (or correct) the investment completed in a month."),
    )
    @action(detail=True, methods=["post"])
    def investments(self, request, pk=None):
        project = self.get_object()
        _district_only(request.user)
        serializer = InvestmentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = services.monthly_investment_record(actor=request.user, project=project, **serializer.validated_data)
        prefetch_related_objects([project], "monthly_investments", "key_listings")
        row = next(r for r in monthly_rows(project) if r["month"] == entry.month.isoformat())
        return Response(row, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=BlockerCreateSerializer,
        responses={201: BlockerSerializer, **ERRORS.only(400, 403, 404)},
        description=gettext_lazy("Raise a problem (问题) assigned to a district unit with a due date."),
    )
    @action(detail=True, methods=["post"])
    def blockers(self, request, pk=None):
        project = self.get_object()
        _district_only(request.user)
        serializer = BlockerCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        blocker = services.blocker_raise(actor=request.user, project=project, **serializer.validated_data)
        return Response(BlockerSerializer(blocker).data, status=status.HTTP_201_CREATED)
