"""Read and write shapes of the approval-desk API (/api/approvals/…).

Read shapes render what the selectors return; write shapes only check the form of the input (types,
unknown keys) — every rule of the domain is the services' (zhiyuan.approvals.services).
"""

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from zhiyuan.approvals.models import (
    Application,
    ApplicationEvent,
    ApplicationMaterial,
    ApprovalItem,
    MaterialRequirement,
)
from zhiyuan.approvals.selectors import application_clock, application_next_step
from zhiyuan.approvals.services import missing_materials
from zhiyuan.core.api import StrictSerializer

# -- read shapes -------------------------------------------------------------------------------------


class ApprovalPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="__str__")


class MaterialRequirementSerializer(serializers.ModelSerializer):
    """One material an item asks for."""

    class Meta:
        model = MaterialRequirement
        fields = ["id", "name", "required", "file_types", "note"]
        read_only_fields = fields


class ApprovalItemSerializer(serializers.ModelSerializer):
    """A catalogue item (事项) with its materials."""

    materials = MaterialRequirementSerializer(many=True, read_only=True)

    class Meta:
        model = ApprovalItem
        fields = [
            "id",
            "code",
            "name",
            "department",
            "time_limit_workdays",
            "legal_basis",
            "description",
            "requires_project_code",
            "materials",
        ]
        read_only_fields = fields


class ApprovalItemRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApprovalItem
        fields = ["id", "code", "name", "department"]
        read_only_fields = fields


class ApplicationProjectSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    code = serializers.CharField(allow_null=True)


class ApplicationEnterpriseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    uscc = serializers.CharField()


class ApplicationMaterialSerializer(serializers.ModelSerializer):
    """An uploaded file: which material it is, its SHA-256, the round it came in and whether it is current."""

    requirement_name = serializers.CharField(source="requirement.name", read_only=True, allow_null=True, default=None)

    class Meta:
        model = ApplicationMaterial
        fields = [
            "id",
            "requirement",
            "requirement_name",
            "original_name",
            "size",
            "sha256",
            "round",
            "is_current",
            "uploaded_at",
        ]
        read_only_fields = fields


class CorrectionItemOutSerializer(serializers.Serializer):
    requirement = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    problem = serializers.CharField()


class ApplicationClockSerializer(serializers.Serializer):
    """The deadline that matters now; `days_left` is negative when overdue, null when not yet computable."""

    label = serializers.CharField()
    due = serializers.DateField(allow_null=True)
    days_left = serializers.IntegerField(allow_null=True)
    overdue = serializers.BooleanField()


class ApplicationEventSerializer(serializers.ModelSerializer):
    """One line of the timeline: a step, by whom, or a message to or from the city."""

    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    actor = ApprovalPersonSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ApplicationEvent
        fields = ["id", "at", "kind", "kind_display", "actor", "note", "data", "message_id"]
        read_only_fields = fields


LIST_FIELDS = [
    "id",
    "number",
    "item",
    "project",
    "enterprise",
    "project_code",
    "status",
    "status_display",
    "contact_name",
    "contact_phone",
    "created_at",
    "received_on",
    "accept_due",
    "accepted_on",
    "city_case_number",
    "city_due",
    "decision",
    "decided_on",
]


class ApplicationSerializer(serializers.ModelSerializer):
    """An application in a list."""

    item = ApprovalItemRefSerializer(read_only=True)
    project = ApplicationProjectSerializer(read_only=True)
    enterprise = ApplicationEnterpriseSerializer(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Application
        fields = LIST_FIELDS
        read_only_fields = fields


class ApplicationDetailSerializer(ApplicationSerializer):
    """An application in full: materials, corrections, the city's side, the decision, the clock and
    what must happen next."""

    materials = ApplicationMaterialSerializer(many=True, read_only=True)
    missing_materials = serializers.SerializerMethodField()
    correction_items = CorrectionItemOutSerializer(many=True, read_only=True)
    accepted_by = ApprovalPersonSerializer(read_only=True, allow_null=True)
    clock = serializers.SerializerMethodField()
    next_step = serializers.SerializerMethodField()

    class Meta(ApplicationSerializer.Meta):
        fields = [
            *LIST_FIELDS,
            "description",
            "materials",
            "missing_materials",
            # the window
            "corrections_requested",
            "correction_items",
            "correction_note",
            "accepted_automatically",
            "accepted_by",
            "rejection_reason",
            # the city
            "city_received_on",
            "city_reason",
            "returned_on",
            "paused_workdays",
            "supplement_forwarded_at",
            # the decision and its collection
            "certificate_number",
            "certificate_date",
            "collected_on",
            "collected_by",
            "clock",
            "next_step",
        ]
        read_only_fields = fields

    @extend_schema_field(MaterialRequirementSerializer(many=True))
    def get_missing_materials(self, application: Application) -> list:
        return MaterialRequirementSerializer(missing_materials(application), many=True).data

    @extend_schema_field(ApplicationClockSerializer(allow_null=True))
    def get_clock(self, application: Application) -> dict | None:
        clock = application_clock(application)
        if clock is None:
            return None
        return ApplicationClockSerializer(
            {"label": clock.label, "due": clock.due, "days_left": clock.days_left, "overdue": clock.overdue}
        ).data

    def get_next_step(self, application: Application) -> str:
        return application_next_step(application, self.context["request"].user)


# -- write shapes ------------------------------------------------------------------------------------


class ApplicationCreateSerializer(StrictSerializer):
    """A new application (a draft): the item by its code, the project by its id. The applicant is the
    project's investor enterprise."""

    item = serializers.SlugRelatedField(slug_field="code", queryset=ApprovalItem.objects.all())
    project = serializers.IntegerField(help_text=gettext_lazy("The investment project's id."))
    contact_name = serializers.CharField(allow_blank=True)
    contact_phone = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True, required=False, default="")


class MaterialUploadSerializer(StrictSerializer):
    """One material file (multipart/form-data). `requirement` may be left out only for the extra
    material the city asked for after returning the case."""

    requirement = serializers.PrimaryKeyRelatedField(
        queryset=MaterialRequirement.objects.all(), required=False, allow_null=True
    )
    file = serializers.FileField()


class ApplicationReasonSerializer(StrictSerializer):
    reason = serializers.CharField(allow_blank=True, required=False, default="")


class ApplicationNoteSerializer(StrictSerializer):
    note = serializers.CharField(allow_blank=True, required=False, default="")


class CorrectionItemSerializer(StrictSerializer):
    requirement = serializers.IntegerField(
        allow_null=True,
        required=False,
        default=None,
        help_text=gettext_lazy("The material's id, or null for a problem with the application as a whole."),
    )
    problem = serializers.CharField(allow_blank=True)


class CorrectionRequestSerializer(StrictSerializer):
    """Every missing or faulty material, at once (补正 may be requested only once)."""

    items = CorrectionItemSerializer(many=True)
    note = serializers.CharField(allow_blank=True, required=False, default="")


class ApplicationCollectSerializer(StrictSerializer):
    collected_by = serializers.CharField(allow_blank=True, required=False, default="")
