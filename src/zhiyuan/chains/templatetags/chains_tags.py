"""Template helpers of the chain maps: a strength's colours, and the link to a product's page in the
product database (empty while the catalog's pages are not installed)."""

from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()

# Bootstrap classes of a node box by strength: none red, weak amber, covered blue, strong green.
STRENGTH_CLASSES = {
    "none": "border-danger bg-danger-subtle",
    "weak": "border-warning bg-warning-subtle",
    "covered": "border-primary bg-primary-subtle",
    "strong": "border-success bg-success-subtle",
}
STRENGTH_BADGES = {
    "none": "text-bg-danger",
    "weak": "text-bg-warning",
    "covered": "text-bg-primary",
    "strong": "text-bg-success",
}


@register.filter
def strength_class(strength) -> str:
    return STRENGTH_CLASSES.get(str(getattr(strength, "value", strength)), "")


@register.filter
def strength_badge(strength) -> str:
    return STRENGTH_BADGES.get(str(getattr(strength, "value", strength)), "text-bg-secondary")


@register.simple_tag
def product_url(product_id) -> str:
    """The product's page in the product database, or "" when that page does not exist (yet)."""
    try:
        return reverse("catalog:product_detail", args=[product_id])
    except NoReverseMatch:
        return ""


@register.filter
def percent(part, whole) -> int:
    """part / whole in whole per cent (0 when whole is 0)."""
    try:
        return round(100 * int(part) / int(whole)) if int(whole) else 0
    except (TypeError, ValueError):
        return 0
