"""One error format for the whole API: {"error": {"code", "message", "fields"}}."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from zhiyuan.core.errors import DomainError


def exception_handler(exc, context):
    """Turn domain errors and DRF/Django errors into the one API error body."""
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = {
            "code": "validation_failed",
            "message": _("Some fields are invalid."),
            "fields": {name: [str(m) for m in _flatten(msgs)] for name, msgs in fields.items()},
        }
    else:
        detail = getattr(exc, "detail", "")
        body = {
            "code": getattr(detail, "code", None) or getattr(exc, "default_code", "error"),
            "message": str(detail),
            "fields": {},
        }
    response.data = {"error": body}
    if response.status_code == status.HTTP_401_UNAUTHORIZED:
        response.data["error"]["code"] = "not_authenticated"
    return response


def _flatten(messages):
    if isinstance(messages, dict):
        return [f"{k}: {v}" for k, vs in messages.items() for v in _flatten(vs)]
    if isinstance(messages, (list, tuple)):
        out = []
        for m in messages:
            out.extend(_flatten(m))
        return out
    return [messages]
