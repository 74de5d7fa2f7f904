"""Filter pieces shared by every app's FilterSets."""

import django_filters
from django.utils.translation import gettext_lazy as _


class OrderingFilter(django_filters.OrderingFilter):
    """django-filter's ordering choice, with its "(descending)" label in our catalogue: django-filter
    ships zh_CN only, which Django does not use for zh-hans."""

    descending_fmt = _("%s (descending)")
