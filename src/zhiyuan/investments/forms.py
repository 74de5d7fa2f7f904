"""Project forms: they parse input for the services, which do the validation that matters.

Every form attaches a service's ValidationFailed to its own inputs with `add_service_errors`; a
field the form does not show becomes a non-field error, so no message is ever lost.
"""

from django import forms
from django.db.models import Q
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhiyuan.accounts.models import Organisation, OrganisationKind, Role, User
from zhiyuan.core.forms import BootstrapFormMixin
from zhiyuan.enterprises.selectors import enterprises_visible_to
from zhiyuan.investments.models import DecisionKind, Project, Stage
from zhiyuan.investments.services import (
    ADJUSTABLE_FIELDS,
    PROJECT_FIELDS,
    STAGE_DATE_FIELD,
    STAGE_REQUIRES,
    TRANSITION_FIELDS,
)

DATE_INPUT = {"type": "date"}
DATE_FORMAT = "%Y-%m-%d"


def date_widget() -> forms.DateInput:
    return forms.DateInput(attrs=DATE_INPUT, format=DATE_FORMAT)


def district_units():
    return Organisation.objects.filter(kind=OrganisationKind.DISTRICT).order_by("name")


def people_with_roles(*roles):
    return User.objects.filter(role__in=roles, is_active=True).order_by("last_name", "first_name", "username")


class DynamicFieldsForm(forms.Form):
    """A form that adds fields depending on its arguments (before the Bootstrap styling runs)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_fields()

    def add_fields(self) -> None:
        """Add the fields that depend on the form's arguments; the base form has none to add."""


class ServiceForm(BootstrapFormMixin, DynamicFieldsForm):
    """A plain form whose values go to one service."""


class MonthField(forms.DateField):
    """A month entered as YYYY-MM (the browser's month picker); cleaned to its first day."""

    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
    input_formats = ["%Y-%m", "%Y-%m-%d"]

    def to_python(self, value):
        day = super().to_python(value)
        return day.replace(day=1) if day else day


class ProjectForm(BootstrapFormMixin, forms.ModelForm):
    """A lead (线索) when creating; every descriptive field when editing. Stage and status have their
    own forms; the service validates, this form only parses."""

    industry = forms.CharField(
        label=_("Industry code (GB/T 4754-2017)"), max_length=5, required=False, help_text=_("e.g. 3311 or 33")
    )

    LEAD_FIELDS = [
        "name",
        "source",
        "investor_name",
        "chain",
        "industry",
        "description",
        "estimated_investment",
        "contact_name",
        "contact_phone",
    ]

    class Meta:
        model = Project
        fields = [name for name in PROJECT_FIELDS if name != "enterprise"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "planned_start": date_widget(),
            "planned_completion": date_widget(),
        }

    def __init__(self, *args, creating: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if creating:
            for name in list(self.fields):
                if name not in self.LEAD_FIELDS:
                    del self.fields[name]
        if self.instance.pk:
            self.initial["industry"] = self.instance.industry_id
        if "investment_officer" in self.fields:
            self.fields["investment_officer"].queryset = people_with_roles(Role.INVESTMENT, Role.ADMIN)
        if "project_officer" in self.fields:
            self.fields["project_officer"].queryset = people_with_roles(Role.PROJECT, Role.ADMIN)
        for name, field in self.fields.items():
            field.required = name in {"name", "chain"}

    def _post_clean(self):
        """Skip ModelForm's instance building: the service builds and validates the project."""

    def data_for_service(self) -> dict:
        """All fields on create, the changed ones on update."""
        names = self.fields if not self.instance.pk else self.changed_data
        return {name: self.cleaned_data[name] for name in names if name in self.cleaned_data}


class TransitionForm(ServiceForm):
    """Moving a project to `target`: exactly the fields that stage asks for (services.TRANSITION_FIELDS).

    Signing names the investor enterprise: an existing one by USCC or exact name, or a new one
    registered on the spot with its USCC, name and industry code.
    """

    ENTERPRISE_EXISTING = "existing"
    ENTERPRISE_NEW = "new"
    service_field_names = {
        "enterprise": "enterprise_ref",
        "uscc": "new_uscc",
        "name": "new_name",
        "industry": "new_industry",
    }

    def __init__(self, *args, project: Project, target: Stage, user: User, **kwargs):
        self.project, self.target, self.user = project, target, user
        super().__init__(*args, **kwargs)
        if self.has_enterprise:
            self.fields["enterprise_mode"].widget.attrs["class"] = "form-check-input"

    def add_fields(self) -> None:
        project, target = self.project, self.target
        date_field = STAGE_DATE_FIELD.get(target)
        self.project_fields = [name for name in TRANSITION_FIELDS[target] if name != "enterprise"]
        required = set(STAGE_REQUIRES.get(target, []))
        for name in self.project_fields:
            model_field = Project._meta.get_field(name)
            field = model_field.formfield()
            if isinstance(field, forms.DateField):
                field.widget = date_widget()
            field.required = name in required and not getattr(project, name)
            current = getattr(project, name)
            if current not in (None, "") and name != date_field:
                field.initial = current
            self.fields[name] = field
        if date_field is None:
            self.fields["on"] = forms.DateField(
                label=_("Date"), widget=date_widget(), initial=timezone.localdate, required=True
            )
        if "enterprise" in TRANSITION_FIELDS[target] and not project.enterprise_id:
            self.fields["enterprise_mode"] = forms.ChoiceField(
                label=_("Investor enterprise"),
                choices=[
                    (self.ENTERPRISE_EXISTING, _("Registered enterprise")),
                    (self.ENTERPRISE_NEW, _("Register a new enterprise")),
                ],
                widget=forms.RadioSelect,
                initial=self.ENTERPRISE_EXISTING,
            )
            self.fields["enterprise_ref"] = forms.CharField(
                label=_("Enterprise (USCC or full name)"),
                required=False,
                widget=forms.TextInput(
                    attrs={
                        "list": "enterprise-options",
                        "autocomplete": "off",
                        "hx-get": reverse_lazy("investments:enterprise_options"),
                        "hx-trigger": "input changed delay:300ms",
                        "hx-target": "#enterprise-options",
                    }
                ),
            )
            self.fields["new_uscc"] = forms.CharField(label=_("Unified social credit code"), required=False)
            self.fields["new_name"] = forms.CharField(label=_("Enterprise name"), required=False)
            self.fields["new_industry"] = forms.CharField(
                label=_("Industry code (GB/T 4754-2017)"), required=False, help_text=_("e.g. 3311 or 33")
            )
        self.fields["note"] = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    @property
    def has_enterprise(self) -> bool:
        return "enterprise_mode" in self.fields

    def clean(self):
        cleaned = super().clean()
        if not self.has_enterprise:
            return cleaned
        if cleaned.get("enterprise_mode") == self.ENTERPRISE_NEW:
            for name in ("new_uscc", "new_name", "new_industry"):
                if not cleaned.get(name):
                    self.add_error(name, _("This field is required."))
        else:
            reference = (cleaned.get("enterprise_ref") or "").strip()
            if not reference:
                self.add_error("enterprise_ref", _("Name the investor enterprise, or register a new one."))
            else:
                match = (
                    enterprises_visible_to(self.user)
                    .filter(Q(uscc=reference.upper()) | Q(name=reference))
                    .order_by("pk")
                    .first()
                )
                if match is None:
                    self.add_error(
                        "enterprise_ref",
                        _("No registered enterprise has this USCC or name; choose “Register a new enterprise”."),
                    )
                cleaned["enterprise"] = match
        return cleaned

    def service_kwargs(self) -> dict:
        """The keyword arguments for services.project_transition."""
        cleaned = self.cleaned_data
        data = {name: cleaned.get(name) for name in self.project_fields if name in cleaned}
        data = {name: value for name, value in data.items() if value not in (None, "")}
        new_enterprise = None
        if self.has_enterprise:
            if cleaned.get("enterprise_mode") == self.ENTERPRISE_NEW:
                new_enterprise = {
                    "uscc": cleaned["new_uscc"].strip().upper(),
                    "name": cleaned["new_name"].strip(),
                    "industry": cleaned["new_industry"].strip(),
                }
            else:
                data["enterprise"] = cleaned.get("enterprise")
        return {
            "to_stage": self.target,
            "on": cleaned.get("on"),
            "data": data,
            "new_enterprise": new_enterprise,
            "note": cleaned.get("note") or "",
        }


class FollowUpForm(ServiceForm):
    on = forms.DateField(label=_("Date"), widget=date_widget(), initial=timezone.localdate)
    note = forms.CharField(label=_("Follow-up"), widget=forms.Textarea(attrs={"rows": 2}))


class MilestoneForm(ServiceForm):
    name = forms.CharField(label=_("Milestone"), max_length=200)
    planned_on = forms.DateField(label=_("Planned date"), widget=date_widget())
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class MilestoneReachedForm(ServiceForm):
    actual_on = forms.DateField(label=_("Reached on"), widget=date_widget(), initial=timezone.localdate)


class MonthlyInvestmentForm(ServiceForm):
    month = MonthField(label=_("Month"), initial=lambda: timezone.localdate().replace(day=1))
    # Parsed by the service, which names the field in its error (not a number, negative).
    amount = forms.CharField(label=_("Completed this month (10k yuan)"))
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class BlockerForm(ServiceForm):
    description = forms.CharField(label=_("Problem"), widget=forms.Textarea(attrs={"rows": 2}))
    unit = forms.ModelChoiceField(label=_("Assigned unit"), queryset=Organisation.objects.none())
    due_on = forms.DateField(label=_("Due date"), widget=date_widget())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = district_units()


class BlockerResolveForm(ServiceForm):
    resolution = forms.CharField(label=_("How it was resolved"), widget=forms.Textarea(attrs={"rows": 2}))


class DecisionForm(ServiceForm):
    """A leader's 停/缓/调/撤 (or resume) decision; 调 gives the new value of each adjusted field."""

    kind = forms.ChoiceField(label=_("Decision"))
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))
    decided_on = forms.DateField(label=_("Decided on"), widget=date_widget(), initial=timezone.localdate)
    resume_on = forms.DateField(label=_("Resume on"), widget=date_widget(), required=False)

    def __init__(self, *args, project: Project, kinds: list[DecisionKind], **kwargs):
        self.project, self.kinds = project, kinds
        super().__init__(*args, **kwargs)

    def add_fields(self) -> None:
        project = self.project
        self.fields["kind"].choices = [(kind.value, kind.label) for kind in self.kinds]
        self.adjust_fields = []
        for name in ADJUSTABLE_FIELDS:
            field = Project._meta.get_field(name).formfield()
            if isinstance(field, forms.DateField):
                field.widget = date_widget()
            if isinstance(field.widget, forms.Textarea):
                field.widget.attrs["rows"] = 2
            field.required = False
            field.label = _("%(field)s after") % {"field": field.label}
            current = getattr(project, name)
            field.help_text = _("Now: %(value)s") % {"value": current if current not in (None, "") else "—"}
            self.fields[f"adjust_{name}"] = field
            self.adjust_fields.append(f"adjust_{name}")
        self.service_field_names = {name: f"adjust_{name}" for name in ADJUSTABLE_FIELDS}
        self.service_field_names["adjustments"] = "kind"

    def service_kwargs(self) -> dict:
        cleaned = self.cleaned_data
        kind = cleaned["kind"]
        adjustments = {}
        if kind == DecisionKind.ADJUST:
            for name in ADJUSTABLE_FIELDS:
                value = cleaned.get(f"adjust_{name}")
                if value not in (None, ""):
                    adjustments[name] = value
        return {
            "kind": kind,
            "reason": cleaned["reason"],
            "decided_on": cleaned.get("decided_on"),
            "resume_on": cleaned.get("resume_on") if kind == DecisionKind.POSTPONE else None,
            "adjustments": adjustments,
        }


class AttachmentForm(ServiceForm):
    file = forms.FileField(label=_("File"))
    caption = forms.CharField(label=_("Caption"), max_length=200, required=False)


class KeyListingForm(ServiceForm):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    sequence = forms.IntegerField(label=_("No."), min_value=0, required=False, initial=0)
    planned_investment = forms.CharField(label=_("Annual planned investment (10k yuan)"))
    liaison_leader = forms.ModelChoiceField(label=_("Liaison leader"), queryset=User.objects.none(), required=False)
    responsible_unit = forms.ModelChoiceField(
        label=_("Responsible unit"), queryset=Organisation.objects.none(), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["liaison_leader"].queryset = people_with_roles(Role.LEADER)
        self.fields["responsible_unit"].queryset = district_units()


class LandProgressForm(ServiceForm):
    month = MonthField(label=_("Month"), initial=lambda: timezone.localdate().replace(day=1))
    collective_land_mu = forms.CharField(label=_("Collective land (mu)"), required=False, initial="0")
    state_housing_m2 = forms.CharField(label=_("State-owned housing (m²)"), required=False, initial="0")
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class LandTargetForm(ServiceForm):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    collective_land_mu = forms.CharField(label=_("Collective land target (mu)"))
    state_housing_m2 = forms.CharField(label=_("State-owned housing target (m²)"))
