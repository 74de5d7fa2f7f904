"""Filters of the application list page (the window's counts link here)."""

import django_filters
from django import forms
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhiyuan.approvals.models import Application, ApplicationStatus, ApprovalItem
from zhiyuan.approvals.services import WITH_THE_CITY
from zhiyuan.core.forms import BootstrapFormMixin

S = ApplicationStatus
STATES = [
    ("to_check", _("Waiting for the window")),
    ("overdue_window", _("Window decision overdue")),
    ("with_city", _("With the city")),
    ("overdue_city", _("City decision overdue")),
    ("to_collect", _("Decision to collect")),
    ("open", _("Open")),
    ("closed", _("Closed")),
]
CLOSED = [S.REJECTED, S.WITHDRAWN, S.COLLECTED]


class FilterForm(BootstrapFormMixin, forms.Form):
    """The filter bar's form, styled for Bootstrap."""


# The year filters that `until` bounds, with the date each one filters on.
UNTIL_FIELDS = {"accepted_year": "accepted_on", "forwarded_year": "city_received_on", "decided_year": "decided_on"}


class ApplicationFilter(django_filters.FilterSet):
    """Search and filters of the application list."""

    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=S.choices)
    item = django_filters.ModelChoiceFilter(
        label=_("Approval item"), queryset=ApprovalItem.objects.order_by("order", "name")
    )
    state = django_filters.ChoiceFilter(label=_("Progress"), choices=STATES, method="filter_state")
    received_after = django_filters.DateFilter(
        label=_("Received at the window on or after"),
        field_name="received_on",
        lookup_expr="gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    received_before = django_filters.DateFilter(
        label=_("Received at the window on or before"),
        field_name="received_on",
        lookup_expr="lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    # The cockpit's figures link here: this year's accepted, forwarded and decided applications.
    accepted_year = django_filters.NumberFilter(label=_("Accepted in year"), field_name="accepted_on__year")
    forwarded_year = django_filters.NumberFilter(
        label=_("Received by the city in year"), field_name="city_received_on__year"
    )
    decided_year = django_filters.NumberFilter(label=_("Decided in year"), field_name="decided_on__year")
    until = django_filters.DateFilter(label=_("Up to"), method="filter_until")
    decided_on_time = django_filters.BooleanFilter(
        label=_("Decided within the time limit"), method="filter_decided_on_time"
    )

    class Meta:
        model = Application
        fields = [
            "q", "status", "item", "state", "received_after", "received_before",
            "accepted_year", "forwarded_year", "decided_year", "decided_on_time", "until",
        ]
        form = FilterForm

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["q"].field.widget.attrs["placeholder"] = _("Number, enterprise, USCC, project")

    def filter_q(self, queryset, name, value):
        for word in value.split():
            queryset = queryset.filter(
                Q(number__icontains=word)
                | Q(enterprise__name__icontains=word)
                | Q(enterprise__short_name__icontains=word)
                | Q(enterprise__uscc__iexact=word)
                | Q(project__name__icontains=word)
                | Q(project_code__icontains=word)
            )
        return queryset

    def filter_until(self, queryset, name, value):
        """With a year filter, only what happened up to this day (the cockpit as of a past month)."""
        for year_filter, date_field in UNTIL_FIELDS.items():
            if self.form.cleaned_data.get(year_filter):
                queryset = queryset.filter(**{f"{date_field}__lte": value})
        return queryset

    def filter_decided_on_time(self, queryset, name, value):
        on_time = Q(decided_on__isnull=False, decided_on__lte=F("city_due"))
        return queryset.filter(on_time) if value else queryset.filter(decided_on__isnull=False).exclude(on_time)

    def filter_state(self, queryset, name, value):
        today = timezone.localdate()
        conditions = {
            "to_check": Q(status=S.SUBMITTED),
            "overdue_window": Q(status=S.SUBMITTED, accept_due__lt=today),
            "with_city": Q(status__in=WITH_THE_CITY),
            "overdue_city": Q(status__in=[S.CITY_RECEIVED, S.IN_REVIEW], city_due__lt=today),
            "to_collect": Q(status__in=[S.GRANTED, S.DENIED]),
            "open": ~Q(status__in=CLOSED),
            "closed": Q(status__in=CLOSED),
        }
        return queryset.filter(conditions[value]) if value in conditions else queryset
