"""Domain errors: the one exception type services raise, translated and mapped to one API format."""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A rule of the domain was broken; the message is translated and shown to the user.

    `field` names the offending field (or `fields` maps several field names to messages) so forms
    and the API can attach the message to the right input. `status` is the HTTP status the API uses.
    """

    code = "invalid"
    status = 400
    default_message = _("The request could not be processed.")

    def __init__(self, message=None, *, field: str | None = None, fields: dict | None = None, code: str | None = None):
        self.message = message if message is not None else self.default_message
        self.fields: dict = dict(fields or {})
        if field:
            self.fields.setdefault(field, [self.message])
        if code:
            self.code = code
        super().__init__(str(self.message))

    def as_dict(self) -> dict:
        """The body of an API error response: {"error": {"code", "message", "fields"}}."""
        return {
            "error": {
                "code": self.code,
                "message": str(self.message),
                "fields": {name: [str(m) for m in _as_list(msgs)] for name, msgs in self.fields.items()},
            }
        }


class ValidationFailed(DomainError):
    """Input failed validation; `fields` says which field and why."""

    code = "validation_failed"
    default_message = _("Some fields are invalid.")


class PermissionDeniedError(DomainError):
    """The actor may not do this."""

    code = "permission_denied"
    status = 403
    default_message = _("You do not have permission to do this.")


class NotFoundError(DomainError):
    """The object does not exist, or the actor may not know that it exists."""

    code = "not_found"
    status = 404
    default_message = _("Not found.")


class ConflictError(DomainError):
    """The change conflicts with the current state (duplicate key, wrong state for a transition)."""

    code = "conflict"
    status = 409
    default_message = _("The change conflicts with the current state.")


def _as_list(messages) -> list:
    if isinstance(messages, (list, tuple)):
        return list(messages)
    return [messages]
