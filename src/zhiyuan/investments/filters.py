"""One FilterSet for projects, shared by the list page and the API."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zhiyuan.accounts.models import Organisation, OrganisationKind
from zhiyuan.core.filters import OrderingFilter
from zhiyuan.core.forms import BootstrapFormMixin
from zhiyuan.enterprises.models import Chain
from zhiyuan.investments import selectors
from zhiyuan.investments.models import Pool, Project, Stage, Status


class FilterForm(BootstrapFormMixin, forms.Form):
    """The filter bar's form, styled for Bootstrap."""


# The year filters that `until` bounds, with the date each one filters on.
UNTIL_FIELDS = {
    "contract_year": "contract_date",
    "start_year": "actual_start",
    "completion_year": "actual_completion",
    "production_year": "production_date",
}


class ProjectFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    pool = django_filters.ChoiceFilter(label=_("Pool"), choices=Pool.choices)
    stage = django_filters.ChoiceFilter(label=_("Stage"), choices=Stage.choices)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Status.choices)
    chain = django_filters.ChoiceFilter(label=_("Leading chain"), choices=Chain.choices)
    key_year = django_filters.NumberFilter(label=_("Key project of year"), field_name="key_listings__year")
    responsible_unit = django_filters.ModelChoiceFilter(
        label=_("Responsible unit"),
        queryset=Organisation.objects.filter(kind=OrganisationKind.DISTRICT),
        field_name="key_listings__responsible_unit",
    )
    # The year figures of the 项目调度 dashboard link to the list through these.
    contract_year = django_filters.NumberFilter(label=_("Signed in year"), field_name="contract_date__year")
    start_year = django_filters.NumberFilter(label=_("Started in year"), field_name="actual_start__year")
    completion_year = django_filters.NumberFilter(label=_("Completed in year"), field_name="actual_completion__year")
    production_year = django_filters.NumberFilter(label=_("In production in year"), field_name="production_date__year")
    min_total_investment = django_filters.NumberFilter(
        label=_("Total investment at least (10k yuan)"), field_name="total_investment", lookup_expr="gte"
    )
    # The cockpit's and the dashboard's behind-plan count links here: the year's active key projects
    # behind plan, by the one definition in selectors.behind_plan.
    behind_plan = django_filters.NumberFilter(label=_("Key project behind plan in year"), method="filter_behind_plan")
    # With a year filter above, only what happened up to this day (the cockpit as of a past month).
    until = django_filters.DateFilter(label=_("Up to"), method="filter_until")
    exclude_withdrawn = django_filters.BooleanFilter(
        label=_("Hide withdrawn projects"), method="filter_exclude_withdrawn"
    )
    ordering = OrderingFilter(
        label=_("Order by"),
        fields=(
            ("name", "name"),
            ("total_investment", "total_investment"),
            ("contract_date", "contract_date"),
            ("updated_at", "updated_at"),
        ),
        field_labels={
            "name": _("Project name"),
            "total_investment": _("Total investment"),
            "contract_date": _("Contract date"),
            "updated_at": _("Updated at"),
        },
    )

    class Meta:
        model = Project
        fields = ["q", "pool", "stage", "status", "chain", "key_year", "responsible_unit"]
        form = FilterForm

    def filter_behind_plan(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if user is None or not 2000 <= value <= 2100:
            return queryset.none()
        rows = selectors.behind_plan(int(value), user=user, today=self.form.cleaned_data.get("until"))
        behind = [listing.project_id for listing, _progress in rows]
        return queryset.filter(pk__in=behind)

    def filter_until(self, queryset, name, value):
        for year_filter, date_field in UNTIL_FIELDS.items():
            if self.form.cleaned_data.get(year_filter):
                queryset = queryset.filter(**{f"{date_field}__lte": value})
        return queryset

    def filter_exclude_withdrawn(self, queryset, name, value):
        return queryset.exclude(status=Status.WITHDRAWN) if value else queryset

    def filter_q(self, queryset, name, value):
        for word in value.split():
            queryset = queryset.filter(
                Q(name__icontains=word)
                | Q(code__icontains=word)
                | Q(investor_name__icontains=word)
                | Q(enterprise__name__icontains=word)
            )
        return queryset

    @property
    def qs(self):
        # Filtering through key listings joins a to-many table; keep each project once.
        return super().qs.distinct()
