"""Filter pieces shared by every app's FilterSets."""

import django_filters
from django.forms.utils import pretty_name
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _


class OrderingFilter(django_filters.OrderingFilter):
    """django-filter's ordering choice, with its "(descending)" label in our catalogue: django-filter
    ships zh_CN only, which Django does not use for zh-hans.

    django-filter builds the choices once, when the FilterSet class is defined, and formats the
    descending labels there — in whatever language was active at import. They are kept lazy here,
    so each request shows them in its own language."""

    descending_fmt = _("%s (descending)")

    def build_choices(self, fields, labels):
        ascending = [(param, labels.get(field, pretty_name(param))) for field, param in fields.items()]
        descending = [
            (f"-{param}", labels.get(f"-{param}", format_lazy("{}", _LazyDescending(label))))
            for param, label in ascending
        ]
        return [choice for pair in zip(ascending, descending, strict=True) for choice in pair]


class _LazyDescending:
    """`"%s (descending)" % label`, evaluated when shown (in the active language)."""

    def __init__(self, label) -> None:
        self.label = label

    def __str__(self) -> str:
        return str(OrderingFilter.descending_fmt) % self.label
