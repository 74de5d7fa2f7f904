"""API shapes of the chain maps: the chain tree with node stats, the gaps, and the targets (read and
write). The tree and gap shapes read the selectors' views (ChainView, NodeView, Gap) directly."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from zhiyuan.chains.models import Node, Position, Target, TargetStatus
from zhiyuan.chains.selectors import Strength, target_is_signed
from zhiyuan.chains.services import SETTABLE_TARGET_STATUSES, TARGET_FIELDS, split_list

MONEY = {"max_digits": 16, "decimal_places": 2}


def _inline_enum(choices, **kwargs):
    """A choice field documented as an inline enum (its values listed in place), so choice sets that
    share a field name across apps do not compete for one component name."""

    @extend_schema_field({"type": "string", "enum": [value for value, _label in choices]})
    class InlineChoiceField(serializers.ChoiceField):
        pass

    return InlineChoiceField(choices=choices, **kwargs)


class ConversionSerializer(serializers.Serializer):
    targets = serializers.IntegerField(help_text=gettext_lazy("Outside firms targeted."))
    leads = serializers.IntegerField(help_text=gettext_lazy("Targets turned into investment leads."))
    signed = serializers.IntegerField(help_text=gettext_lazy("Leads whose project reached 签约 (signed) or beyond."))


class NodeStatsSerializer(serializers.Serializer):
    """A node's local supply: firms (confirmed + suggested), output, key firms, strength."""

    firms = serializers.IntegerField(help_text=gettext_lazy("Confirmed and suggested firms, operating ones only."))
    confirmed = serializers.IntegerField()
    suggested = serializers.IntegerField()
    output = serializers.DecimalField(**MONEY, help_text=gettext_lazy("Sum of the firms' revenue, 10k yuan."))
    key_firms = serializers.ListField(child=serializers.CharField())
    strength = _inline_enum(Strength.choices)
    strength_display = serializers.CharField(source="strength.label")
    is_gap = serializers.BooleanField()
    conversion = ConversionSerializer()


class NodeSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="node.pk")
    name = serializers.CharField(source="node.name")
    position = _inline_enum(Position.choices, source="node.position")
    position_display = serializers.CharField(source="node.get_position_display")
    keywords = serializers.SerializerMethodField()
    industry_codes = serializers.SerializerMethodField()
    weak_below = serializers.IntegerField(source="node.weak_below")
    stats = NodeStatsSerializer()

    def get_keywords(self, view) -> list[str]:
        return split_list(view.node.keywords)

    def get_industry_codes(self, view) -> list[str]:
        return split_list(view.node.industry_codes)


class SegmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="segment.pk")
    name = serializers.CharField(source="segment.name")
    nodes = NodeSerializer(many=True)


class ChainTreeSerializer(serializers.Serializer):
    """A chain with its segments and nodes (upstream → downstream) and its summary figures."""

    code = serializers.CharField(source="chain.code")
    name = serializers.CharField(source="chain.name")
    description = serializers.CharField(source="chain.description")
    node_count = serializers.IntegerField()
    gap_count = serializers.IntegerField()
    coverage = serializers.IntegerField(help_text=gettext_lazy("Share of nodes that are not gaps, in per cent."))
    conversion = ConversionSerializer()
    segments = SegmentSerializer(many=True)


class ChainRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ProjectRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    stage = serializers.CharField()
    stage_display = serializers.CharField(source="get_stage_display")


class TargetSerializer(serializers.ModelSerializer):
    """A target as district staff read it, with its node, chain and lead."""

    node_name = serializers.CharField(source="node.name", read_only=True)
    segment = serializers.CharField(source="node.segment.name", read_only=True)
    chain = ChainRefSerializer(source="node.segment.chain", read_only=True)
    status = _inline_enum(TargetStatus.choices, read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    project = ProjectRefSerializer(read_only=True, allow_null=True)
    signed = serializers.SerializerMethodField()
    created_by = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Target
        fields = [
            "id",
            "node",
            "node_name",
            "segment",
            "chain",
            "name",
            "location",
            "main_products",
            "reason",
            "contact",
            "status",
            "status_display",
            "project",
            "signed",
            "created_by",
            "created_at",
            "is_demo",
        ]
        read_only_fields = fields

    def get_signed(self, target: Target) -> bool:
        return target_is_signed(target)


class GapSerializer(serializers.Serializer):
    """A node with no or weak local supply, its stats and its targets."""

    node = serializers.IntegerField(source="node.pk")
    node_name = serializers.CharField(source="node.name")
    position = _inline_enum(Position.choices, source="node.position")
    segment = serializers.CharField(source="node.segment.name")
    chain = ChainRefSerializer(source="node.segment.chain")
    stats = NodeStatsSerializer()
    targets = TargetSerializer(many=True)


class StrictSerializer(serializers.Serializer):
    """Refuses keys it does not know instead of silently ignoring them."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [_("This field cannot be set here.")] for name in unknown})
        return super().to_internal_value(data)


class TargetCreateSerializer(StrictSerializer):
    """A new target at a node: the node's id and the firm's name are required."""

    node = serializers.PrimaryKeyRelatedField(queryset=Node.objects.all())
    name = serializers.CharField(max_length=TARGET_FIELDS["name"], allow_blank=True)
    location = serializers.CharField(max_length=TARGET_FIELDS["location"], allow_blank=True, required=False)
    main_products = serializers.CharField(max_length=TARGET_FIELDS["main_products"], allow_blank=True, required=False)
    reason = serializers.CharField(max_length=TARGET_FIELDS["reason"], allow_blank=True, required=False)
    contact = serializers.CharField(max_length=TARGET_FIELDS["contact"], allow_blank=True, required=False)


class TargetUpdateSerializer(StrictSerializer):
    """Corrections to a target; its status may move between identified, contacted and dropped."""

    name = serializers.CharField(max_length=TARGET_FIELDS["name"], allow_blank=True, required=False)
    location = serializers.CharField(max_length=TARGET_FIELDS["location"], allow_blank=True, required=False)
    main_products = serializers.CharField(max_length=TARGET_FIELDS["main_products"], allow_blank=True, required=False)
    reason = serializers.CharField(max_length=TARGET_FIELDS["reason"], allow_blank=True, required=False)
    contact = serializers.CharField(max_length=TARGET_FIELDS["contact"], allow_blank=True, required=False)
    status = _inline_enum(
        [(status.value, status.label) for status in TargetStatus if status in SETTABLE_TARGET_STATUSES],
        required=False,
    )


class LeadResultSerializer(serializers.Serializer):
    """The target after its conversion and the new lead."""

    target = TargetSerializer()
    project = ProjectRefSerializer()
