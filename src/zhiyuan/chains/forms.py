"""Chain-map forms: they parse input for the services, which do the validation that matters; a
service's ValidationFailed lands on the matching input (or the form, when it names none)."""

from django import forms
from django.db.models import Q
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from zhiyuan.chains.models import TargetStatus
from zhiyuan.chains.services import SETTABLE_TARGET_STATUSES, TARGET_FIELDS
from zhiyuan.core.forms import BootstrapFormMixin, ServiceErrorsForm
from zhiyuan.enterprises.models import Enterprise

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class TargetForm(ServiceErrorsForm):
    """An outside firm that could fill a gap."""

    name = forms.CharField(label=_("Firm name"), max_length=TARGET_FIELDS["name"])
    location = forms.CharField(label=_("Location"), max_length=TARGET_FIELDS["location"], required=False)
    main_products = forms.CharField(label=_("Main products"), max_length=TARGET_FIELDS["main_products"], required=False)
    reason = forms.CharField(
        label=_("Why this firm"),
        max_length=TARGET_FIELDS["reason"],
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    contact = forms.CharField(label=_("Contact"), max_length=TARGET_FIELDS["contact"], required=False)

    def data_for_service(self) -> dict:
        return {name: self.cleaned_data.get(name) or "" for name in TARGET_FIELDS}


class TargetEditForm(TargetForm):
    """A target's details and, until it becomes a lead, its status."""

    status = forms.ChoiceField(label=_("Status"), choices=[])

    def __init__(self, *args, target=None, **kwargs):
        super().__init__(*args, **kwargs)
        if target is not None and target.project_id:
            del self.fields["status"]
        else:
            self.fields["status"].choices = [
                (status.value, status.label) for status in TargetStatus if status in SETTABLE_TARGET_STATUSES
            ]

    def data_for_service(self) -> dict:
        data = super().data_for_service()
        if "status" in self.fields:
            data["status"] = self.cleaned_data["status"]
        return data


class NodeFirmAddForm(ServiceErrorsForm):
    """A registered firm to put at the node by hand: its USCC or full name."""

    enterprise = forms.CharField(
        label=_("Enterprise (USCC or full name)"),
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "list": "chain-enterprise-options",
                "autocomplete": "off",
                "hx-get": reverse_lazy("chains:enterprise_options"),
                "hx-trigger": "input changed delay:300ms",
                "hx-target": "#chain-enterprise-options",
            }
        ),
    )
    is_key = forms.BooleanField(label=_("Key firm"), required=False)

    def clean_enterprise(self):
        reference = self.cleaned_data["enterprise"].strip()
        match = Enterprise.objects.filter(Q(uscc=reference.upper()) | Q(name=reference)).order_by("pk").first()
        if match is None:
            raise forms.ValidationError(_("No registered enterprise has this USCC or name."))
        return match


class TargetImportForm(ServiceErrorsForm):
    file = forms.FileField(
        label=_("Excel file (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx," + XLSX_TYPE}),
    )


class GapFilterForm(BootstrapFormMixin, forms.Form):
    chain = forms.ChoiceField(label=_("Industry chain"), required=False)

    def __init__(self, *args, chains=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["chain"].choices = [("", _("All chains")), *chains]
