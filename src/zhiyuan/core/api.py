"""One error format for the whole API: {"error": {"code", "message", "fields"}}."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
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


# -- shared by every app's API ---------------------------------------------------------------------------


class StrictSerializer(serializers.Serializer):
    """Refuses keys it does not know instead of silently ignoring them."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [_("This field cannot be set here.")] for name in unknown})
        return super().to_internal_value(data)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ErrorSerializer(serializers.Serializer):
    """Every API error (documentation only; `exception_handler` produces it):
    {"error": {"code", "message", "fields": {field: [messages]}}}."""

    error = ErrorDetailSerializer()


class ErrorResponses(dict):
    """An app's documented error responses by status; `only(400, 403)` picks some for one endpoint."""

    def only(self, *codes: int) -> dict[int, OpenApiResponse]:
        return {code: self[code] for code in codes}


def error_responses(*, not_found=None, conflict=None) -> ErrorResponses:
    """The 400, 403, 404 and 409 responses in the one error format, for extend_schema; `not_found` and
    `conflict` word the 404 and the 409 for the app's own objects."""
    texts = {
        400: gettext_lazy("Invalid input; `fields` names each bad field."),
        403: gettext_lazy("Your role may not do this."),
        404: not_found or gettext_lazy("Not found (or not yours to see)."),
        409: conflict or gettext_lazy("Not possible in the current state."),
    }
    return ErrorResponses({code: OpenApiResponse(ErrorSerializer, description=text) for code, text in texts.items()})
