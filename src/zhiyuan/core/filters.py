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


def link_filters(request, filterset, names: list[str], *, flags: tuple[str, ...] = ()) -> list[dict]:
    """The filters that only links set (from a dashboard or the cockpit) and that are in force: each
    with its label, value and the URL that drops it, for the list page to show as removable badges
    (kept in the filter form as hidden inputs). `flags` are shown by their label alone."""
    active = []
    for name in names:
        value = request.GET.get(name)
        if not value:
            continue
        rest = request.GET.copy()
        rest.pop(name)
        rest.pop("page", None)
        active.append(
            {
                "name": name,
                "label": filterset.form[name].label,
                "value": value,
                "is_flag": name in flags,
                "remove_url": f"?{rest.urlencode()}",
            }
        )
    return active
