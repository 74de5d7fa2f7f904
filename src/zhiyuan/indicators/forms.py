"""Indicator forms: they parse input for the services, which do the validation that matters; a
service's ValidationFailed lands on the matching input (or on the form, when it names none).

Numbers are taken as text so that "1,234.5", full-width digits and "8.5%" reach the services, which
parse them the same way for a form, the API and a sheet."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhiyuan.core.forms import ServiceErrorsForm
from zhiyuan.indicators.models import Group, PeriodType
from zhiyuan.indicators.services import FIRST_YEAR, INDICATOR_FIELDS, LAST_YEAR

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _number_input(**attrs) -> forms.TextInput:
    return forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", **attrs})


class IndicatorForm(ServiceErrorsForm):
    """An indicator's definition."""

    code = forms.CharField(
        label=_("Code"), max_length=40, help_text=_("Lower-case letters, digits, - and _; used in links and the API.")
    )
    name = forms.CharField(label=_("Name"), max_length=100)
    aliases = forms.CharField(
        label=_("Other names"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, as they appear in the statistics bureau's sheets."),
    )
    unit = forms.CharField(label=_("Unit"), max_length=20)
    period_type = forms.ChoiceField(label=_("Period"), choices=PeriodType.choices)
    cumulative = forms.BooleanField(
        label=_("Cumulative (累计): a value is the total since the start of the year"), required=False
    )
    higher_is_better = forms.BooleanField(label=_("Higher is better"), required=False)
    growth_from_source = forms.BooleanField(
        label=_("Show the growth rate published by the statistics bureau where given"), required=False
    )
    decimals = forms.IntegerField(label=_("Decimal places"), min_value=0, max_value=4)
    group = forms.ChoiceField(label=_("Group"), choices=Group.choices)
    on_cockpit = forms.BooleanField(label=_("Show on the cockpit"), required=False)
    sequence = forms.IntegerField(label=_("Order"), min_value=0, max_value=100000)
    is_active = forms.BooleanField(label=_("In use"), required=False)
    description = forms.CharField(
        label=_("Definition"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def data_for_service(self) -> dict:
        return {name: self.cleaned_data[name] for name in INDICATOR_FIELDS if name in self.cleaned_data}


INDICATOR_INITIAL = {
    "period_type": PeriodType.MONTH,
    "cumulative": True,
    "higher_is_better": True,
    "decimals": 2,
    "group": Group.ECONOMY,
    "on_cockpit": True,
    "sequence": 0,
    "is_active": True,
}


class ValueForm(ServiceErrorsForm):
    """One period's figure, entered or corrected."""

    year = forms.IntegerField(label=_("Year"), min_value=FIRST_YEAR, max_value=LAST_YEAR)
    period = forms.IntegerField(label=_("Period"), min_value=1, max_value=12,
                                help_text=_("Month 1–12, quarter 1–4, or 1 for a year."))
    value = forms.CharField(label=_("Value"), max_length=40, widget=_number_input())
    period_value = forms.CharField(
        label=_("This period (本月)"), max_length=40, required=False, widget=_number_input(),
        help_text=_("The period's own figure, where the source gives it."),
    )
    source_growth = forms.CharField(
        label=_("Published growth (%)"), max_length=40, required=False, widget=_number_input(),
        help_text=_("The 同比 growth as published; shown where last year is missing."),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def data_for_service(self) -> dict:
        return {name: self.cleaned_data.get(name) or "" for name in ("value", "period_value", "source_growth", "note")}


class TargetForm(ServiceErrorsForm):
    """A year's target: a value, a growth rate, or both."""

    year = forms.IntegerField(label=_("Year"), min_value=FIRST_YEAR, max_value=LAST_YEAR)
    value = forms.CharField(label=_("Target value"), max_length=40, required=False, widget=_number_input())
    growth = forms.CharField(label=_("Target growth (%)"), max_length=40, required=False, widget=_number_input())
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def data_for_service(self) -> dict:
        return {name: self.cleaned_data.get(name) or "" for name in ("value", "growth", "note")}


class IndicatorTargetForm(TargetForm):
    """A target for an indicator chosen from the list (the targets page)."""

    indicator = forms.ChoiceField(label=_("Indicator"), choices=[])

    field_order = ["indicator", "year", "value", "growth", "note"]

    def __init__(self, *args, indicators=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["indicator"].choices = [(i.code, f"{i.name}（{i.unit}）") for i in indicators]


class ImportForm(ServiceErrorsForm):
    """A month's sheet; the month is taken from the sheet's title when left empty."""

    file = forms.FileField(
        label=_("Excel file (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx," + XLSX_TYPE}),
    )
    year = forms.IntegerField(label=_("Year"), required=False, min_value=FIRST_YEAR, max_value=LAST_YEAR)
    month = forms.IntegerField(
        label=_("Month"), required=False, min_value=1, max_value=12,
        help_text=_("Leave the year and month empty to use the month named in the sheet's title (2019年1-6月…)."),
    )

    def clean(self):
        cleaned = super().clean()
        if (cleaned.get("year") is None) != (cleaned.get("month") is None) and not self.errors:
            raise forms.ValidationError(_("Give both the year and the month, or neither."))
        return cleaned


def year_or_none(raw: str | None) -> int | None:
    """A year from a query string, or None when it is missing or not a plausible year."""
    try:
        year = int(str(raw or "").strip())
    except ValueError:
        return None
    return year if FIRST_YEAR <= year <= LAST_YEAR else None


def this_year() -> int:
    return timezone.localdate().year
