"""Form helpers shared by every app."""

from django import forms

from zhiyuan.core.errors import DomainError


class BootstrapFormMixin:
    """Give every widget the Bootstrap 5 class it needs, mark invalid fields, and attach the errors a
    service raises to the inputs they name (`add_service_errors`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, (forms.CheckboxInput, forms.CheckboxSelectMultiple)):
                css = "form-check-input" if isinstance(widget, forms.CheckboxInput) else ""
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            if css:
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self):
        super().full_clean()
        for name in getattr(self, "_errors", None) or {}:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()

    # Service field name → form field name, where they differ.
    service_field_names: dict[str, str] = {}

    def add_service_errors(self, error: DomainError) -> None:
        """Attach a service's error to the inputs it names, marked invalid; messages for fields the form
        does not have, and an error that names none, become non-field errors."""
        if not error.fields:
            self.add_error(None, str(error.message))
        for name, messages in error.fields.items():
            target = self.service_field_names.get(name, name)
            for message in messages if isinstance(messages, (list, tuple)) else [messages]:
                self.add_error(target if target in self.fields else None, str(message))
            if target in self.fields:
                widget = self.fields[target].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


class ServiceErrorsForm(BootstrapFormMixin, forms.Form):
    """A plain form whose values go to a service, and whose errors may come back from it."""
