"""One FilterSet for service requests, shared by the request list page and the API."""

import django_filters
from django import forms
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhiyuan.accounts.models import Organisation, Role, User
from zhiyuan.core.forms import BootstrapFormMixin
from zhiyuan.enterprises.models import Enterprise
from zhiyuan.servicedesk.forms import district_departments
from zhiyuan.servicedesk.models import Category, Channel, RequestStatus, ServiceRequest
from zhiyuan.servicedesk.selectors import OPEN_STATUSES


def overdue_q(today) -> Q:
    """Open, not waiting for the firm, and past a deadline it has not met (as the escalation sweep)."""
    return Q(status__in=OPEN_STATUSES - {RequestStatus.WAITING_FOR_FIRM}) & (
        Q(resolve_due__lt=today)
        | Q(signed_for_on__isnull=True, sign_for_due__lt=today)
        | Q(first_reply_on__isnull=True, reply_due__lt=today)
    )


class FilterForm(BootstrapFormMixin, forms.Form):
    """The filter bar's form, styled for Bootstrap."""


class RequestFilter(django_filters.FilterSet):
    """Filters of the all-requests list; the dashboard's numbers link here."""

    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=RequestStatus.choices)
    category = django_filters.ChoiceFilter(label=_("Category"), choices=Category.choices)
    channel = django_filters.ChoiceFilter(label=_("Channel"), choices=Channel.choices)
    assignee = django_filters.ModelChoiceFilter(label=_("Handled by"), queryset=User.objects.none())
    department = django_filters.ModelChoiceFilter(label=_("Department"), queryset=Organisation.objects.none())
    enterprise = django_filters.ModelChoiceFilter(label=_("Enterprise"), queryset=Enterprise.objects.all())
    overdue = django_filters.BooleanFilter(label=_("Overdue"), method="filter_overdue")
    received_after = django_filters.DateFilter(
        label=_("Received on or after"), field_name="received_on", lookup_expr="gte"
    )
    received_before = django_filters.DateFilter(
        label=_("Received on or before"), field_name="received_on", lookup_expr="lte"
    )
    state = django_filters.ChoiceFilter(
        label=_("State"),
        method="filter_state",
        choices=[
            ("open", _("Open")),
            ("overdue", _("Overdue")),
            ("late", _("Past the resolution deadline")),
            ("escalated", _("Escalated")),
            ("done", _("Resolved or closed")),
        ],
    )
    # Set by the dashboard's links; not shown as inputs in the filter bar.
    year = django_filters.NumberFilter(label=_("Received in year"), field_name="received_on__year")
    month = django_filters.NumberFilter(label=_("Received in month"), field_name="received_on__month")
    resolved_year = django_filters.NumberFilter(label=_("Resolved in year"), field_name="resolved_on__year")
    resolved = django_filters.BooleanFilter(
        label=_("Resolved"), field_name="resolved_on", lookup_expr="isnull", exclude=True
    )
    replied_on_time = django_filters.BooleanFilter(label=_("Replied within the deadline"), method="filter_replied")
    on_time = django_filters.BooleanFilter(label=_("Resolved within the deadline"), method="filter_on_time")
    reopened = django_filters.BooleanFilter(label=_("Reopened at least once"), method="filter_reopened")
    rated = django_filters.BooleanFilter(label=_("Rated"), field_name="rating", lookup_expr="isnull", exclude=True)
    skill = django_filters.CharFilter(label=_("Skill"), field_name="labour_skills", lookup_expr="icontains")
    shared = django_filters.BooleanFilter(label=_("Published to banks"), field_name="financing_share_with_banks")

    class Meta:
        model = ServiceRequest
        fields = ["q", "status", "category", "channel", "assignee", "department", "state"]
        form = FilterForm

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["assignee"].queryset = User.objects.filter(
            role__in=[Role.SPECIALIST, Role.SERVICE_STAFF, Role.ADMIN, Role.LEADER]
        ).order_by("username")
        self.filters["department"].queryset = district_departments()

    def filter_q(self, queryset, name, value):
        for word in value.split():
            queryset = queryset.filter(
                Q(title__icontains=word)
                | Q(enterprise__name__icontains=word)
                | Q(enterprise__short_name__icontains=word)
            )
        return queryset

    def filter_state(self, queryset, name, value):
        today = timezone.localdate()
        if value == "open":
            return queryset.filter(status__in=OPEN_STATUSES)
        if value == "overdue":
            return queryset.filter(overdue_q(today))
        if value == "late":
            return queryset.filter(status__in=OPEN_STATUSES, resolve_due__lt=today).exclude(
                status=RequestStatus.WAITING_FOR_FIRM
            )
        if value == "escalated":
            return queryset.filter(status__in=OPEN_STATUSES, escalation_level__gt=0)
        if value == "done":
            return queryset.filter(status__in=[RequestStatus.RESOLVED, RequestStatus.CLOSED])
        return queryset

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        condition = overdue_q(timezone.localdate())
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_replied(self, queryset, name, value):
        if value is None:
            return queryset
        on_time = Q(first_reply_on__isnull=False, first_reply_on__lte=F("reply_due"))
        return queryset.filter(on_time) if value else queryset.exclude(on_time)

    def filter_on_time(self, queryset, name, value):
        if value is None:
            return queryset
        on_time = Q(resolved_on__isnull=False, resolved_on__lte=F("resolve_due"))
        return queryset.filter(on_time) if value else queryset.exclude(on_time)

    def filter_reopened(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(reopen_count__gt=0) if value else queryset.filter(reopen_count=0)
