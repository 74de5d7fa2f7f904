"""Template helpers for the audit history."""

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

register = template.Library()

# The last segment of a dotted audit action → what the history tab shows.
VERBS = {
    "created": _("created"),
    "updated": _("updated"),
    "imported": _("imported"),
    "deleted": _("deleted"),
    "issued": _("issued"),
    "negotiating": _("moved to negotiation"),
    "signed": _("signed"),
    "preparing": _("moved to preliminary work"),
    "under_construction": _("construction started"),
    "completed": _("completed"),
    "in_production": _("put into production"),
    "stop": _("stopped"),
    "postpone": _("postponed"),
    "adjust": _("adjusted"),
    "withdraw": _("withdrawn"),
    "resume": _("resumed"),
    "followed_up": _("follow-up logged"),
    "investment_recorded": _("monthly investment recorded"),
    "key_listed": _("listed as key project"),
    "attachment_added": _("attachment added"),
    "checked": _("checked"),
    "submitted": _("submitted"),
    "sign_for": _("signed for"),
    "reply": _("replied"),
    "ask_firm": _("asked the firm for information"),
    "add_information": _("information added"),
    "transfer": _("transferred"),
    "resolve": _("resolved"),
    "rate": _("rated"),
    "reopen": _("reopened"),
    "close_unrated": _("closed without a rating"),
    "escalate": _("escalated"),
}

# Entries in an audit record's changes that are not model fields.
EXTRA_LABELS = {
    "note": _("Note"),
    "reason": _("Reason"),
    "follow_up": _("Follow-up"),
    "attachment": _("Attachment"),
}


@register.filter
def action_label(action: str) -> str:
    """A readable label for a dotted audit action: the verb translated, the rest kept."""
    verb = action.rsplit(".", 1)[-1]
    return str(VERBS.get(verb, action))


@register.filter
def actor_label(entry) -> str:
    """Who made the change; writes made by the system itself (imports, tasks, demo) say so."""
    if entry.actor_id is None and entry.actor_repr == "system":
        return str(_("System"))
    return entry.actor_repr


@register.simple_tag
def audit_changes(entry) -> list[tuple[str, object, object]]:
    """The entry's changes as (field label, old, new), with choice values shown by their labels."""
    model = entry.content_type.model_class()
    rows = []
    for name, pair in entry.changes.items():
        old, new = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
        try:
            field = model._meta.get_field(name)
        except (FieldDoesNotExist, AttributeError):
            rows.append((str(EXTRA_LABELS.get(name, name)), old, new))
            continue
        choices = dict(field.flatchoices) if getattr(field, "choices", None) else {}
        rows.append((str(field.verbose_name), _choice_label(choices, old), _choice_label(choices, new)))
    return rows


def _choice_label(choices: dict, value):
    """A choice value by its label; a list (many-to-many, e.g. tags) is shown as it was recorded."""
    if isinstance(value, list):
        return ", ".join(str(choices.get(item, item)) for item in value)
    return choices.get(value, value)
