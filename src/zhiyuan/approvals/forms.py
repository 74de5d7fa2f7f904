"""Approval-desk forms. They parse input for the services, which do the validation that matters; a
service's ValidationFailed lands on the matching input (BootstrapFormMixin.add_service_errors)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from zhiyuan.approvals.models import Application, ApprovalItem, MaterialRequirement
from zhiyuan.approvals.selectors import items_active
from zhiyuan.core.forms import BootstrapFormMixin
from zhiyuan.investments.models import Project


class ServiceForm(BootstrapFormMixin, forms.Form):
    """A plain form whose values go to one service."""


class ProjectChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Project) -> str:
        enterprise = obj.enterprise.short_name or obj.enterprise.name if obj.enterprise_id else ""
        code = f" ({obj.code})" if obj.code else ""
        return f"{obj.name}{code} — {enterprise}" if enterprise else f"{obj.name}{code}"


class ApplicationForm(ServiceForm):
    """A new application: the item, the project (with its enterprise), the contact person."""

    item = forms.ModelChoiceField(label=_("Approval item"), queryset=ApprovalItem.objects.none(), to_field_name="code")
    project = ProjectChoiceField(label=_("Investment project"), queryset=Project.objects.none())
    contact_name = forms.CharField(label=_("Contact person"), max_length=50)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=20)
    description = forms.CharField(
        label=_("What is applied for"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Scope of the works, floor area, anything the department should know."),
    )

    def __init__(self, *args, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = items_active()
        self.fields["project"].queryset = projects


class MaterialForm(ServiceForm):
    """One file for one required material (or, after the city returned the case, a supplement)."""

    file = forms.FileField(label=_("File"))

    def __init__(self, *args, requirement: MaterialRequirement | None = None, **kwargs):
        # Each requirement's form on the page needs its own element ids.
        kwargs.setdefault("prefix", f"m{requirement.pk if requirement else 'x'}")
        super().__init__(*args, **kwargs)
        if requirement is not None:
            self.fields["file"].widget.attrs["accept"] = ",".join(sorted(requirement.extensions))


class NoteForm(ServiceForm):
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReasonForm(ServiceForm):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class CollectForm(ServiceForm):
    collected_by = forms.CharField(label=_("Collected by"), max_length=50,
                                   help_text=_("Name of the person who took the decision at the window."))


class CorrectionForm(ServiceForm):
    """补正: one line per material of the item (tick it and say what is wrong), a general problem line
    and a note; cleaned into the `items` list application_request_correction takes."""

    general = forms.CharField(label=_("Other problem (not tied to one material)"), max_length=500, required=False)
    note = forms.CharField(label=_("Note to the firm"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, application: Application, **kwargs):
        super().__init__(*args, **kwargs)
        self.requirements = list(application.item.materials.all())
        for requirement in self.requirements:
            self.fields[f"flag_{requirement.pk}"] = forms.BooleanField(label=requirement.name, required=False)
            self.fields[f"problem_{requirement.pk}"] = forms.CharField(
                label=_("Problem"), max_length=500, required=False
            )
            self.fields[f"flag_{requirement.pk}"].widget.attrs["class"] = "form-check-input"
            self.fields[f"problem_{requirement.pk}"].widget.attrs.update(
                {"class": "form-control form-control-sm", "placeholder": _("What is missing or wrong")}
            )
        self.order_fields([*(name for name in self.fields if name not in ("general", "note")), "general", "note"])

    def material_rows(self):
        return [
            (requirement, self[f"flag_{requirement.pk}"], self[f"problem_{requirement.pk}"])
            for requirement in self.requirements
        ]

    def clean(self):
        data = super().clean()
        for requirement in self.requirements:
            if data.get(f"flag_{requirement.pk}") and not (data.get(f"problem_{requirement.pk}") or "").strip():
                self.add_error(f"problem_{requirement.pk}", _("Say what is missing or wrong."))
        return data

    def items(self) -> list[dict]:
        """The lines for the service: every ticked material (or one with a problem written), then the general line."""
        data = self.cleaned_data
        lines = []
        for requirement in self.requirements:
            problem = (data.get(f"problem_{requirement.pk}") or "").strip()
            if data.get(f"flag_{requirement.pk}") or problem:
                lines.append({"requirement": requirement.pk, "problem": problem})
        if (data.get("general") or "").strip():
            lines.append({"requirement": None, "problem": data["general"].strip()})
        return lines
