"""One FilterSet for the registry, shared by the list page and the API."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from zhiyuan.accounts.selectors import specialists
from zhiyuan.core.filters import OrderingFilter
from zhiyuan.core.forms import BootstrapFormMixin
from zhiyuan.enterprises.models import Chain, Enterprise, Industry, ParkZone, SizeClass, Status, Tag
from zhiyuan.enterprises.selectors import search_enterprises


class FilterForm(BootstrapFormMixin, forms.Form):
    """The filter bar's form, styled for Bootstrap."""


class EnterpriseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    section = django_filters.ModelChoiceFilter(
        label=_("Section (门类)"), queryset=Industry.objects.filter(level=1), method="filter_section"
    )
    division = django_filters.ModelChoiceFilter(
        label=_("Division (大类)"), queryset=Industry.objects.filter(level=2), method="filter_division"
    )
    chain = django_filters.ChoiceFilter(label=_("Leading chain"), choices=Chain.choices)
    zone = django_filters.ModelChoiceFilter(label=_("Park zone"), queryset=ParkZone.objects.all())
    size_class = django_filters.ChoiceFilter(label=_("Size class"), choices=SizeClass.choices)
    tag = django_filters.ModelChoiceFilter(label=_("Tag"), field_name="tags", queryset=Tag.objects.all())
    specialist = django_filters.ModelChoiceFilter(label=_("Service specialist"), queryset=specialists())
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Status.choices)
    ordering = OrderingFilter(
        label=_("Order by"),
        fields=(("name", "name"), ("uscc", "uscc"), ("established_on", "established_on"),
                ("staff", "staff"), ("revenue", "revenue"), ("updated_at", "updated_at")),
        field_labels={
            "name": _("Name"), "uscc": _("Unified social credit code"), "established_on": _("Established on"),
            "staff": _("Staff"), "revenue": _("Revenue"), "updated_at": _("Updated at"),
        },
    )

    class Meta:
        model = Enterprise
        fields = ["q", "section", "division", "chain", "zone", "size_class", "tag", "specialist", "status"]
        form = FilterForm

    def filter_q(self, queryset, name, value):
        return search_enterprises(queryset, value)

    def filter_section(self, queryset, name, value):
        return queryset.filter(industry__section=value.code)

    def filter_division(self, queryset, name, value):
        return queryset.filter(industry__division=value.code)
