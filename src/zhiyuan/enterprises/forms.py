"""Registry forms: staff edit every field, a firm user only its self-service fields."""

from django import forms
from django.utils.translation import gettext_lazy as _

from zhiyuan.accounts.selectors import specialists
from zhiyuan.core.forms import BootstrapFormMixin
from zhiyuan.enterprises.models import Enterprise
from zhiyuan.enterprises.services import EDITABLE_FIELDS, FIRM_EDITABLE_FIELDS


class IndustryCodeField(forms.CharField):
    """The industry entered as its GB/T 4754-2017 code; the service checks that it exists."""


class EnterpriseForm(BootstrapFormMixin, forms.ModelForm):
    """The full registry form used by staff; validation itself lives in the service."""

    industry = IndustryCodeField(
        label=_("Industry code (GB/T 4754-2017)"), max_length=5, help_text=_("e.g. 3311 or 33")
    )

    class Meta:
        model = Enterprise
        fields = EDITABLE_FIELDS
        widgets = {
            "established_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "business_scope": forms.Textarea(attrs={"rows": 3}),
            "tags": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["industry"] = self.instance.industry_id
        if "specialist" in self.fields:
            self.fields["specialist"].queryset = specialists()
        for name, field in self.fields.items():
            if name in {"uscc", "name", "industry"}:
                field.required = True
            elif name != "tags":
                field.required = False

    def _post_clean(self):
        """Skip ModelForm's instance building: the service builds and validates the firm."""

    def changed_data_for_service(self) -> dict:
        """The cleaned values to hand to the service: all fields on create, changed ones on update."""
        names = self.fields if not self.instance.pk else self.changed_data
        return {name: self.cleaned_data[name] for name in names if name in self.cleaned_data}


class FirmProfileForm(EnterpriseForm):
    """What a firm user may change on its own profile."""

    class Meta(EnterpriseForm.Meta):
        fields = FIRM_EDITABLE_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.pop("industry", None)
