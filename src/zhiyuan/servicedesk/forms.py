"""Service-desk forms and the request list's filters. Forms parse input for the services, which do
the validation that matters; a service's ValidationFailed lands on the matching input."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhiyuan.accounts.models import Organisation, OrganisationKind, Role, User
from zhiyuan.core.forms import BootstrapFormMixin
from zhiyuan.enterprises.selectors import enterprises_visible_to
from zhiyuan.investments.forms import date_widget
from zhiyuan.servicedesk.models import Category, Channel, RequestStatus

OPEN_STATUSES = [
    RequestStatus.SUBMITTED,
    RequestStatus.SIGNED_FOR,
    RequestStatus.IN_PROGRESS,
    RequestStatus.WAITING_FOR_FIRM,
    RequestStatus.REOPENED,
]
LABOUR_FIELDS = ["labour_positions", "labour_headcount", "labour_skills", "labour_needed_by"]
FINANCING_FIELDS = [
    "financing_amount",
    "financing_term_months",
    "financing_purpose",
    "financing_collateral",
    "financing_share_with_banks",
]
# Service field names (in the labour / financing dicts) → form field names.
STRUCTURED_NAMES = {
    "positions": "labour_positions",
    "headcount": "labour_headcount",
    "skills": "labour_skills",
    "needed_by": "labour_needed_by",
    "amount": "financing_amount",
    "term_months": "financing_term_months",
    "purpose": "financing_purpose",
    "collateral": "financing_collateral",
    "share_with_banks": "financing_share_with_banks",
}
STAFF_CHANNELS = [(value, label) for value, label in Channel.choices if value != Channel.ONLINE]


def district_departments():
    return Organisation.objects.filter(kind=OrganisationKind.DISTRICT).order_by("name")


class ServiceForm(BootstrapFormMixin, forms.Form):
    """A plain form whose values go to one service."""

    service_field_names = {**STRUCTURED_NAMES, "uploaded_file": "attachment", "attachments": "attachment"}


class RequestForm(ServiceForm):
    """A new request: by the firm for itself, or by district staff on a firm's behalf (then with the
    firm and the channel it came by). The 用工 and 融资 blocks are shown for their category only."""

    enterprise = forms.ModelChoiceField(label=_("Enterprise"), queryset=None)
    channel = forms.ChoiceField(label=_("Received by"), choices=STAFF_CHANNELS, initial=Channel.PHONE)
    category = forms.ChoiceField(label=_("Category"), choices=[("", "---------"), *Category.choices])
    title = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    is_complex = forms.BooleanField(label=_("Complex (longer resolution time)"), required=False)
    labour_positions = forms.CharField(label=_("Positions"), max_length=200, required=False)
    labour_headcount = forms.IntegerField(label=_("Headcount"), min_value=1, required=False)
    labour_skills = forms.CharField(
        label=_("Skills"), max_length=200, required=False, help_text=_("Separate several skills with commas.")
    )
    labour_needed_by = forms.DateField(label=_("Needed by"), widget=date_widget(), required=False)
    financing_amount = forms.DecimalField(
        label=_("Amount (10k yuan)"), max_digits=14, decimal_places=2, min_value=0, required=False
    )
    financing_term_months = forms.IntegerField(label=_("Term (months)"), min_value=1, required=False)
    financing_purpose = forms.CharField(label=_("Purpose"), max_length=200, required=False)
    financing_collateral = forms.CharField(label=_("Collateral"), max_length=200, required=False)
    financing_share_with_banks = forms.BooleanField(label=_("Publish this need to the banks"), required=False)
    attachment = forms.FileField(label=_("Attachment"), required=False)

    def __init__(self, *args, user: User, enterprise=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.on_behalf = user.role != Role.ENTERPRISE
        if self.on_behalf:
            self.fields["enterprise"].queryset = enterprises_visible_to(user).order_by("name")
            if enterprise is not None:
                self.fields["enterprise"].initial = enterprise.pk
        else:
            del self.fields["enterprise"], self.fields["channel"], self.fields["is_complex"]
        self.fields["category"].widget.attrs["data-category-select"] = "1"

    def category_value(self) -> str:
        if self.is_bound:
            return self.data.get("category", "")
        return self.initial.get("category", "")

    def general_fields(self):
        structured = {*LABOUR_FIELDS, *FINANCING_FIELDS}
        return [field for field in self if field.name not in structured]

    def labour_fields(self):
        return [self[name] for name in LABOUR_FIELDS]

    def financing_fields(self):
        return [self[name] for name in FINANCING_FIELDS]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        category = data["category"]
        kwargs = {
            "category": category,
            "title": data["title"],
            "description": data["description"],
            "attachments": [data["attachment"]] if data.get("attachment") else [],
        }
        if self.on_behalf:
            kwargs.update(enterprise=data["enterprise"], channel=data["channel"], is_complex=data["is_complex"])

        # Staff registering a request may leave the structured need for later; a firm always gives it.
        def given(names):
            return not self.on_behalf or any(data.get(name) not in (None, "", False) for name in names)

        if category == Category.LABOUR and given(LABOUR_FIELDS):
            kwargs["labour"] = {
                "positions": data["labour_positions"],
                "headcount": data["labour_headcount"],
                "skills": data["labour_skills"],
                "needed_by": data["labour_needed_by"],
            }
        elif category == Category.FINANCING and given(FINANCING_FIELDS):
            kwargs["financing"] = {
                "amount": data["financing_amount"],
                "term_months": data["financing_term_months"],
                "purpose": data["financing_purpose"],
                "collateral": data["financing_collateral"],
                "share_with_banks": data["financing_share_with_banks"],
            }
        return kwargs


class NoteForm(ServiceForm):
    """A reply to the firm, or a question asking it for more information."""

    note = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class AddInformationForm(ServiceForm):
    note = forms.CharField(
        label=_("The information asked for"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    attachment = forms.FileField(label=_("Attachment"), required=False)


class TransferForm(ServiceForm):
    department = forms.ModelChoiceField(label=_("Transfer to department"), queryset=None)
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = district_departments()


class ResolveForm(ServiceForm):
    resolution = forms.CharField(label=_("Resolution"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class RateForm(ServiceForm):
    rating = forms.TypedChoiceField(
        label=_("Your rating"),
        choices=[(n, str(n)) for n in range(5, 0, -1)],
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class ReopenForm(ServiceForm):
    reason = forms.CharField(label=_("Why it is not solved"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class AttachmentForm(ServiceForm):
    attachment = forms.FileField(label=_("File"))


FINDING_ROWS = 3


class VisitForm(ServiceForm):
    """A visit (走访) and, in the same step, up to three requests raised from its findings."""

    enterprise = forms.ModelChoiceField(label=_("Enterprise"), queryset=None)
    visited_on = forms.DateField(label=_("Visited on"), widget=date_widget(), initial=timezone.localdate)
    people_met = forms.CharField(label=_("People met"), max_length=300, required=False)
    findings = forms.CharField(label=_("Findings"), widget=forms.Textarea(attrs={"rows": 4}), required=False)

    def __init__(self, *args, user: User, enterprise=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].queryset = enterprises_visible_to(user).order_by("name")
        if enterprise is not None:
            self.fields["enterprise"].initial = enterprise.pk
        for i in range(FINDING_ROWS):
            self.fields[f"item{i}_category"] = forms.ChoiceField(
                label=_("Category"), choices=[("", "---------"), *Category.choices], required=False
            )
            self.fields[f"item{i}_title"] = forms.CharField(label=_("Subject"), max_length=200, required=False)
            self.fields[f"item{i}_description"] = forms.CharField(label=_("Description"), required=False)
            for name in ("category", "title", "description"):
                widget = self.fields[f"item{i}_{name}"].widget
                widget.attrs["class"] = "form-select" if name == "category" else "form-control"

    def visit_fields(self):
        return [self[name] for name in ("enterprise", "visited_on", "people_met", "findings")]

    def item_rows(self):
        return [
            (i, self[f"item{i}_category"], self[f"item{i}_title"], self[f"item{i}_description"])
            for i in range(FINDING_ROWS)
        ]

    def clean(self):
        data = super().clean()
        for i in range(FINDING_ROWS):
            category, title = data.get(f"item{i}_category"), (data.get(f"item{i}_title") or "").strip()
            if title and not category:
                self.add_error(f"item{i}_category", _("Choose a category for this request."))
            if category and not title:
                self.add_error(f"item{i}_title", _("Give this request a subject."))
        return data

    def filled_rows(self) -> list[int]:
        return [i for i in range(FINDING_ROWS) if self.cleaned_data.get(f"item{i}_category")]

    def items(self) -> list[dict]:
        data = self.cleaned_data
        return [
            {
                "category": data[f"item{i}_category"],
                "title": data[f"item{i}_title"].strip(),
                "description": data[f"item{i}_description"].strip() or data[f"item{i}_title"].strip(),
            }
            for i in self.filled_rows()
        ]

    def add_item_errors(self, error) -> None:
        """Errors of `visit_create_requests` (`items.<n>.<field>`, n counting the filled rows from 1)
        land on the matching row's input; the rest on the visit's inputs or the form."""
        rows = self.filled_rows()
        for name, messages in error.fields.items():
            parts = str(name).split(".")
            target = name
            if len(parts) == 3 and parts[0] == "items" and parts[1].isdigit() and 0 < int(parts[1]) <= len(rows):
                target = f"item{rows[int(parts[1]) - 1]}_{parts[2]}"
            for message in messages if isinstance(messages, (list, tuple)) else [messages]:
                self.add_error(target if target in self.fields else None, message)
        if not error.fields or "items" in error.fields:
            self.add_error(None, error.message)
