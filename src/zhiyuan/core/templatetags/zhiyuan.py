"""Template helpers for audit history and display."""

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

register = template.Library()

VERBS = {
    "created": _("created"),
    "updated": _("updated"),
    "imported": _("imported"),
    "deleted": _("deleted"),
    "issued": _("issued"),
}


@register.filter
def field_label(entry, field_name: str) -> str:
    """The translated verbose name of a field named in an audit entry's changes."""
    model = entry.content_type.model_class()
    try:
        return str(model._meta.get_field(field_name).verbose_name)
    except (FieldDoesNotExist, AttributeError):
        return field_name


@register.filter
def action_label(action: str) -> str:
    """A readable label for a dotted audit action: the verb translated, the rest kept."""
    verb = action.rsplit(".", 1)[-1]
    return str(VERBS.get(verb, action))
