"""Template helpers for the registry's Excel buttons."""

from django import template

from zhiyuan.accounts.permissions import can_import_registry

register = template.Library()


@register.simple_tag
def may_import_registry(user) -> bool:
    """Whether `user` may import the registry from Excel (shows the Import and Template buttons)."""
    return can_import_registry(user)
