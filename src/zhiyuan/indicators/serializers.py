"""API shapes of the indicators and the cockpit. The read shapes render what the selectors return
(Indicator, Card, Figure, the cockpit's panels) without computing anything; the write shapes only
name and type the input — the services parse and check the numbers and periods, so the API, the
pages and the Excel import give the same answers."""

from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from zhiyuan.core.api import ErrorDetailSerializer, StrictSerializer
from zhiyuan.indicators.figures import GrowthBasis, Status
from zhiyuan.indicators.models import Group, PeriodType

# Read shapes: no digit limit (a growth over a tiny prior value can be large), fixed decimal places.
VALUE = {"max_digits": None, "decimal_places": 4}
RATE = {"max_digits": None, "decimal_places": 2}
SHARE = {"max_digits": None, "decimal_places": 4}
MONEY = {"max_digits": None, "decimal_places": 2}


def _inline_enum(choices, **kwargs):
    """A choice field documented as an inline enum, so choice sets sharing a field name across apps
    (status, group …) do not compete for one component name."""

    @extend_schema_field({"type": "string", "enum": [value for value, _label in choices]})
    class InlineChoiceField(serializers.ChoiceField):
        """A ChoiceField whose schema is the inline enum above."""

    return InlineChoiceField(choices=choices, **kwargs)


def _nullable_enum(choices, **kwargs):
    @extend_schema_field({"type": "string", "enum": [value for value, _label in choices], "nullable": True})
    class NullableChoiceField(serializers.ChoiceField):
        """A ChoiceField whose schema is the nullable inline enum above."""

    return NullableChoiceField(choices=choices, allow_null=True, **kwargs)


@extend_schema_field(
    {
        "oneOf": [{"type": "number"}, {"type": "string"}],
        "nullable": True,
        "description": "A number, or a string such as \"1,234.5\" (a growth rate may end in %); blank = none.",
    }
)
class NumberInputField(serializers.Field):
    """A number as the client gives it (JSON number or text); the service parses and checks it, so a
    non-numeric value is refused with the same message as on the page and in the Excel import."""

    def to_internal_value(self, data):
        if isinstance(data, (dict, list)):
            raise serializers.ValidationError(_("Give a number."))
        return data

    def to_representation(self, value):
        return value


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string"}],
        "nullable": True,
        "description": "A count as an integer; an amount, a rate (a share between 0 and 1 where the unit is %) "
        "or an average as a decimal string; a credit grade as text; null when there is nothing to count.",
    }
)
class FigureValueField(serializers.Field):
    """A cockpit figure: counts stay integers, decimals become strings (as every decimal in this API)."""

    def to_representation(self, value):
        if value is None or isinstance(value, (bool, int)):
            return value
        if isinstance(value, Decimal):
            return format(value, "f")
        return str(value)


# -- indicators -----------------------------------------------------------------------------------------


class IndicatorCardSerializer(serializers.Serializer):
    """An indicator's figure for one period: value, growth over the same period last year (同比),
    progress against the year's target, and where the value came from. One shape for the latest card
    of /api/indicators/, the rows of …/values/ and the cards of /api/cockpit/."""

    indicator = serializers.CharField(source="indicator.code", help_text=gettext_lazy("The indicator's code."))
    name = serializers.CharField(source="indicator.name")
    unit = serializers.CharField(source="indicator.unit")
    group = serializers.CharField(source="indicator.group")
    decimals = serializers.IntegerField(source="indicator.decimals")
    cumulative = serializers.BooleanField(source="indicator.cumulative")
    higher_is_better = serializers.BooleanField(source="indicator.higher_is_better")
    year = serializers.IntegerField()
    period = serializers.IntegerField(help_text=gettext_lazy("Month 1–12, quarter 1–4, or 1 for a yearly indicator."))
    label = serializers.CharField(help_text=gettext_lazy("The period as it reads, e.g. 2019, months 1–6."))
    value = serializers.DecimalField(
        **VALUE, source="value.value", allow_null=True,
        help_text=gettext_lazy("Year-to-date (累计) for a cumulative indicator, the level otherwise; null before any."),
    )
    period_value = serializers.DecimalField(
        **VALUE, source="value.period_value", allow_null=True, help_text=gettext_lazy("This period's own figure.")
    )
    source_growth = serializers.DecimalField(
        **RATE, source="value.source_growth", allow_null=True, help_text=gettext_lazy("Growth as published, %.")
    )
    prior = serializers.DecimalField(
        **VALUE, allow_null=True, help_text=gettext_lazy("The same period last year.")
    )
    growth = serializers.DecimalField(
        **RATE,
        allow_null=True,
        help_text=gettext_lazy(
            "Year-on-year growth shown (同比), in per cent; for a rate (unit %), the change in percentage points."
        ),
    )
    growth_basis = _nullable_enum(
        GrowthBasis.choices,
        help_text=gettext_lazy("computed: from last year's value; source: as published; null: no growth."),
    )
    target = serializers.DecimalField(
        **VALUE, source="progress.target", allow_null=True,
        help_text=gettext_lazy("The year's target value (set, or implied by a growth target)."),
    )
    target_growth = serializers.DecimalField(
        **RATE, source="target.growth", allow_null=True, help_text=gettext_lazy("The year's target growth, %.")
    )
    reached = serializers.DecimalField(
        **SHARE, source="progress.reached", allow_null=True,
        help_text=gettext_lazy("Value / target (a share, 1 = the whole target)."),
    )
    elapsed = serializers.DecimalField(
        **SHARE, source="progress.elapsed", help_text=gettext_lazy("Share of the year the period closes.")
    )
    status = _inline_enum(Status.choices, source="progress.status")
    status_label = serializers.CharField()
    source = serializers.CharField(source="value.source", allow_null=True)
    note = serializers.CharField(source="value.note", allow_null=True)
    entered_by = serializers.IntegerField(
        source="value.entered_by_id", allow_null=True, help_text=gettext_lazy("The user who entered it (id).")
    )
    entered_at = serializers.DateTimeField(source="value.entered_at", allow_null=True)


class IndicatorSerializer(serializers.Serializer):
    """An indicator's definition."""

    code = serializers.CharField()
    name = serializers.CharField()
    aliases = serializers.ListField(
        child=serializers.CharField(), source="alias_list", help_text=gettext_lazy("Other names sheets use.")
    )
    unit = serializers.CharField()
    period_type = _inline_enum(PeriodType.choices)
    cumulative = serializers.BooleanField()
    higher_is_better = serializers.BooleanField()
    growth_from_source = serializers.BooleanField()
    decimals = serializers.IntegerField()
    group = _inline_enum(Group.choices)
    group_label = serializers.CharField(source="get_group_display")
    on_cockpit = serializers.BooleanField()
    sequence = serializers.IntegerField()
    is_active = serializers.BooleanField()
    description = serializers.CharField()


class IndicatorListSerializer(IndicatorSerializer):
    """A definition with its latest card (null for an inactive indicator)."""

    latest = serializers.SerializerMethodField()

    @extend_schema_field(IndicatorCardSerializer(allow_null=True))
    def get_latest(self, indicator) -> dict | None:
        card = self.context.get("cards", {}).get(indicator.pk)
        return IndicatorCardSerializer(card).data if card else None


class IndicatorWriteSerializer(StrictSerializer):
    """A new definition, or the fields a PATCH changes."""

    code = serializers.CharField(max_length=40, help_text=gettext_lazy("Lower-case letters, digits, - and _."))
    name = serializers.CharField(max_length=100)
    aliases = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    unit = serializers.CharField(max_length=20)
    period_type = _inline_enum(PeriodType.choices, required=False)
    cumulative = serializers.BooleanField(required=False)
    higher_is_better = serializers.BooleanField(required=False)
    growth_from_source = serializers.BooleanField(required=False)
    decimals = serializers.IntegerField(min_value=0, max_value=4, required=False)
    group = _inline_enum(Group.choices, required=False)
    on_cockpit = serializers.BooleanField(required=False)
    sequence = serializers.IntegerField(min_value=0, required=False)
    is_active = serializers.BooleanField(required=False)
    description = serializers.CharField(allow_blank=True, required=False)

    def to_internal_value(self, data):
        validated = super().to_internal_value(data)
        if "aliases" in validated:
            validated["aliases"] = "\n".join(validated["aliases"])
        return validated


class IndicatorValueWriteSerializer(StrictSerializer):
    """One period's figure. The period must exist for the indicator and have ended."""

    year = serializers.IntegerField()
    period = serializers.IntegerField(help_text=gettext_lazy("Month 1–12, quarter 1–4, or 1 for a yearly indicator."))
    value = NumberInputField(help_text=gettext_lazy("Year-to-date (累计) for a cumulative indicator, else the level."))
    period_value = NumberInputField(required=False, allow_null=True)
    source_growth = NumberInputField(required=False, allow_null=True)
    source = serializers.CharField(max_length=200, allow_blank=True, required=False)
    note = serializers.CharField(max_length=200, allow_blank=True, required=False)


class IndicatorTargetSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    value = serializers.DecimalField(**VALUE, allow_null=True)
    growth = serializers.DecimalField(**RATE, allow_null=True)
    note = serializers.CharField()
    set_by = serializers.IntegerField(
        source="set_by_id", allow_null=True, help_text=gettext_lazy("The user who set it (id).")
    )
    set_at = serializers.DateTimeField()


class IndicatorTargetWriteSerializer(StrictSerializer):
    """A year's target: a value, a growth rate in per cent (above −100), or both."""

    year = serializers.IntegerField()
    value = NumberInputField(required=False, allow_null=True)
    growth = NumberInputField(required=False, allow_null=True)
    note = serializers.CharField(max_length=200, allow_blank=True, required=False)


# -- the Excel import -----------------------------------------------------------------------------------


class IndicatorImportSerializer(StrictSerializer):
    """One month's sheet in the statistics bureau's layout (multipart/form-data)."""

    file = serializers.FileField(
        help_text=gettext_lazy(".xlsx: 指标 | 单位 | 本月 | 累计 | 同比增长(%), title rows above.")
    )
    year = serializers.IntegerField(required=False, allow_null=True, default=None)
    month = serializers.IntegerField(
        required=False, allow_null=True, default=None,
        help_text=gettext_lazy("Left out: the month the sheet's title names (荷塘区2019年1-6月…)."),
    )
    dry_run = serializers.BooleanField(
        default=True, help_text=gettext_lazy("True (the default): check and report, write nothing.")
    )


class ImportPlannedValueSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    indicator = serializers.CharField(source="indicator.code")
    name = serializers.CharField(source="indicator.name")
    year = serializers.IntegerField()
    period = serializers.IntegerField()
    value = serializers.DecimalField(**VALUE, source="data.value")
    period_value = serializers.DecimalField(**VALUE, source="data.period_value", allow_null=True)
    source_growth = serializers.DecimalField(**RATE, source="data.source_growth", allow_null=True)
    previous = serializers.DecimalField(
        **VALUE, allow_null=True, help_text=gettext_lazy("The value it replaces; null for a new one.")
    )


class ImportRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    column = serializers.CharField()
    message = serializers.CharField()


class IndicatorImportReportSerializer(serializers.Serializer):
    """What an import read and wrote (or, on a dry run or with errors, would write)."""

    dry_run = serializers.BooleanField()
    ok = serializers.BooleanField()
    written = serializers.BooleanField()
    year = serializers.IntegerField()
    month = serializers.IntegerField()
    rows = ImportPlannedValueSerializer(many=True)
    skipped = serializers.ListField(
        child=serializers.IntegerField(), help_text=gettext_lazy("Rows without numbers (section headings).")
    )
    errors = ImportRowErrorSerializer(many=True)
    unknown_names = serializers.ListField(child=serializers.CharField())
    created = serializers.IntegerField()
    updated = serializers.IntegerField()


class IndicatorImportErrorSerializer(serializers.Serializer):
    """A refused sheet: the error body with every problem under `fields.file`, and the report."""

    error = ErrorDetailSerializer()
    report = IndicatorImportReportSerializer()


# -- the cockpit ----------------------------------------------------------------------------------------


class CockpitFigureSerializer(serializers.Serializer):
    """One number of a panel, with the link to the list behind it."""

    key = serializers.CharField()
    label = serializers.CharField()
    value = FigureValueField()
    unit = serializers.CharField()
    link = serializers.CharField()


class CockpitPoolInvestmentSerializer(serializers.Serializer):
    label = serializers.CharField()
    investment = serializers.DecimalField(**MONEY, help_text=gettext_lazy("10k yuan."))

    def to_representation(self, instance):
        label, investment = instance
        return super().to_representation({"label": label, "investment": investment})


class CockpitBehindProjectSerializer(serializers.Serializer):
    """A key project behind plan this year: plan and completed investment (10k yuan) and the share done."""

    project = serializers.IntegerField(source="project.pk")
    name = serializers.CharField(source="project.name")
    plan = serializers.DecimalField(**MONEY, allow_null=True)
    done = serializers.DecimalField(**MONEY)
    share = serializers.DecimalField(**SHARE, allow_null=True)
    link = serializers.CharField()

    def to_representation(self, instance):
        key, progress = instance
        return super().to_representation(
            {
                "project": key.project,
                "plan": progress.plan,
                "done": progress.done,
                "share": progress.share,
                "link": reverse("investments:detail", args=[key.project_id]),
            }
        )


class CockpitProjectPanelSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    figures = CockpitFigureSerializer(many=True)
    pools = CockpitFigureSerializer(many=True)
    pool_investment = CockpitPoolInvestmentSerializer(many=True)
    key_plan = serializers.DecimalField(**MONEY)
    key_done = serializers.DecimalField(**MONEY)
    elapsed = serializers.DecimalField(**SHARE)
    behind = CockpitBehindProjectSerializer(many=True)


class CockpitPanelSerializer(serializers.Serializer):
    figures = CockpitFigureSerializer(many=True)


class CockpitChainSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    nodes = serializers.IntegerField()
    gaps = serializers.IntegerField()
    coverage = serializers.IntegerField(help_text=gettext_lazy("Share of nodes that are not gaps, in per cent."))
    targets = serializers.IntegerField()
    leads = serializers.IntegerField()
    signed = serializers.IntegerField()
    link = serializers.CharField()


class CockpitChainPanelSerializer(CockpitPanelSerializer):
    chains = CockpitChainSerializer(many=True)


class CockpitSerializer(serializers.Serializer):
    """Every panel of the leader cockpit as of a day."""

    as_of = serializers.DateField()
    year = serializers.IntegerField()
    elapsed = serializers.DecimalField(**SHARE, help_text=gettext_lazy("Share of the year elapsed by as_of."))
    cards = IndicatorCardSerializer(many=True)
    projects = CockpitProjectPanelSerializer()
    approvals = CockpitPanelSerializer()
    services = CockpitPanelSerializer()
    financing = CockpitPanelSerializer()
    chains = CockpitChainPanelSerializer()
