"""Credit forms. They parse input for the services, which do the validation that matters; a
service's ValidationFailed lands on the matching input (`add_service_errors`)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhiyuan.accounts.models import Organisation, OrganisationKind
from zhiyuan.core.forms import BootstrapFormMixin
from zhiyuan.credit.models import Feed, Grade, LoanProduct, Purpose
from zhiyuan.enterprises.models import Industry
from zhiyuan.investments.forms import date_widget

YES_NO = [("yes", _("Yes")), ("no", _("No"))]


class CreditForm(BootstrapFormMixin, forms.Form):
    """A plain form whose values go to one credit service."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.RadioSelect):
                field.widget.attrs["class"] = "form-check-input"


class ConsentForm(CreditForm):
    """The firm authorises a bank to read its credit report for a purpose until a date."""

    bank = forms.ModelChoiceField(label=_("Bank"), queryset=Organisation.objects.none())
    purpose = forms.ChoiceField(label=_("Purpose"), choices=[("", "---------"), *Purpose.choices])
    valid_until = forms.DateField(label=_("Valid until"), widget=date_widget())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank"].queryset = Organisation.objects.filter(kind=OrganisationKind.BANK).order_by("name")
        self.fields["valid_until"].widget.attrs["min"] = timezone.localdate().isoformat()


class ObjectionForm(CreditForm):
    """The firm says what is wrong with one of its records."""

    reason = forms.CharField(
        label=_("What is wrong with this record?"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class ObjectionAnswerForm(CreditForm):
    """Staff answer an objection: upheld (the record is removed) or rejected, with the answer."""

    upheld = forms.ChoiceField(
        label=_("Is the objection upheld?"),
        choices=[("yes", _("Yes: the record is wrong and will be removed")), ("no", _("No: the record stands"))],
        widget=forms.RadioSelect,
    )
    answer = forms.CharField(label=_("Answer to the firm"), widget=forms.Textarea(attrs={"rows": 3}))


def industry_section_choices() -> list[tuple[str, str]]:
    return [(row.code, f"{row.code} {row.name}") for row in Industry.objects.filter(level=1).order_by("code")]


class ProductForm(CreditForm):
    """A bank's loan product (the service checks ranges, the rate cap and the industry codes)."""

    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    amount_min = forms.DecimalField(label=_("Minimum amount (10k yuan)"), max_digits=14, decimal_places=2)
    amount_max = forms.DecimalField(label=_("Maximum amount (10k yuan)"), max_digits=14, decimal_places=2)
    term_min_months = forms.IntegerField(label=_("Minimum term (months)"))
    term_max_months = forms.IntegerField(label=_("Maximum term (months)"))
    rate_min = forms.DecimalField(label=_("Lowest rate (%/year)"), max_digits=5, decimal_places=2)
    rate_max = forms.DecimalField(label=_("Highest rate (%/year)"), max_digits=5, decimal_places=2)
    min_grade = forms.ChoiceField(
        label=_("Lowest eligible grade"), choices=[("", _("Any grade")), *Grade.choices], required=False
    )
    industry_sections = forms.MultipleChoiceField(
        label=_("Eligible industry sections (门类)"),
        choices=[],
        required=False,
        help_text=_("Hold Ctrl (⌘ on a Mac) to choose several; none chosen: any industry."),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    collateral_required = forms.BooleanField(label=_("Collateral required"), required=False)
    is_active = forms.BooleanField(label=_("Published"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["industry_sections"].choices = industry_section_choices()

    @classmethod
    def initial_for(cls, product: LoanProduct) -> dict:
        return {name: getattr(product, name) for name in cls.base_fields}


class OfferForm(CreditForm):
    """A bank's offer on a financing need."""

    product = forms.ModelChoiceField(label=_("Product"), queryset=LoanProduct.objects.none(), required=False)
    amount = forms.DecimalField(label=_("Amount (10k yuan)"), max_digits=14, decimal_places=2)
    term_months = forms.IntegerField(label=_("Term (months)"))
    rate = forms.DecimalField(label=_("Rate (%/year)"), max_digits=5, decimal_places=2)
    message = forms.CharField(label=_("Message to the firm"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, products=None, **kwargs):
        super().__init__(*args, **kwargs)
        if products is not None:
            self.fields["product"].queryset = products


class OutcomeForm(CreditForm):
    """What came of an accepted offer: the loan granted (amount, date) or not."""

    granted = forms.ChoiceField(
        label=_("Was the loan granted?"),
        choices=[("yes", _("Yes: loan granted")), ("no", _("No: not granted"))],
        widget=forms.RadioSelect,
    )
    granted_amount = forms.DecimalField(
        label=_("Amount granted (10k yuan)"), max_digits=14, decimal_places=2, required=False
    )
    granted_on = forms.DateField(label=_("Granted on"), widget=date_widget(), required=False)


class FeedUploadForm(CreditForm):
    """A feed file to check (dry run) before it is imported."""

    feed = forms.ChoiceField(label=_("Data source"), choices=[("", "---------"), *Feed.choices])
    source = forms.CharField(
        label=_("Supplied by"), max_length=100, help_text=_("Who supplied the data, e.g. 区税务局.")
    )
    file = forms.FileField(label=_("File (Excel or CSV)"))
