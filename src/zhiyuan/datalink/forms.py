"""Data-link forms: the corrected payload of a dead letter, and the message-log filters."""

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from zhiyuan.core.forms import BootstrapFormMixin
from zhiyuan.datalink.models import LogDirection, LogEvent


class CorrectMessageForm(BootstrapFormMixin, forms.Form):
    """The payload of a dead letter, edited as JSON; it is sent as a new message."""

    payload = forms.CharField(
        label=_("Payload (JSON)"),
        widget=forms.Textarea(attrs={"rows": 16, "class": "font-monospace", "spellcheck": "false"}),
        help_text=_("The corrected payload is sent as a new message; the dead letter is kept, marked as replaced."),
    )

    def clean_payload(self):
        text = self.cleaned_data["payload"]
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(
                _("This is not valid JSON: %(error)s (line %(line)s, column %(column)s)."),
                params={"error": error.msg, "line": error.lineno, "column": error.colno},
                code="invalid_json",
            ) from None


class LogFilterForm(BootstrapFormMixin, forms.Form):
    """The message-log browser's filters."""

    direction = forms.ChoiceField(
        label=_("Direction"), required=False, choices=[("", _("All directions")), *LogDirection.choices]
    )
    event = forms.ChoiceField(label=_("Event"), required=False, choices=[("", _("All events")), *LogEvent.choices])
    message_id = forms.CharField(
        label=_("Message id"), required=False, max_length=36,
        widget=forms.TextInput(attrs={"placeholder": _("all or part of a message id")}),
    )
