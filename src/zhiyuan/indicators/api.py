"""Indicator API: /api/indicators/ (definitions with their latest card; values, targets and the
statistics bureau's sheet under each) and /api/cockpit/ (every panel of the leader cockpit).

District staff read; statistics officers and administrators write (the services check again). Firms,
banks and the city client get 403. Every refusal answers the one error body
{"error": {"code", "message", "fields"}}: 400 naming each bad field, 403 role, 404 no such indicator,
value or target. Decimals are strings, counts integers, as everywhere in this API.
"""

import calendar
import datetime as dt
import re

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.response import Response

from zhiyuan.core.api import error_responses
from zhiyuan.core.errors import ValidationFailed
from zhiyuan.indicators import selectors, services
from zhiyuan.indicators.models import Group
from zhiyuan.indicators.serializers import (
    CockpitSerializer,
    IndicatorCardSerializer,
    IndicatorImportErrorSerializer,
    IndicatorImportReportSerializer,
    IndicatorImportSerializer,
    IndicatorListSerializer,
    IndicatorTargetSerializer,
    IndicatorTargetWriteSerializer,
    IndicatorValueWriteSerializer,
    IndicatorWriteSerializer,
)

ERRORS = error_responses(
    not_found=gettext_lazy("No such indicator, value or target."),
)
REPORT = IndicatorImportReportSerializer
MONTH_PARAM = re.compile(r"^(\d{4})-(\d{1,2})$")


_errors = ERRORS.only


class SeesIndicators(BasePermission):
    """District staff read; statistics officers and administrators write."""

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return selectors.may_view(request.user)
        return selectors.may_edit(request.user)


def _body(serializer_class, request, **kwargs) -> dict:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class IndicatorQuerySerializer(serializers.Serializer):
    group = serializers.ChoiceField(choices=Group.choices, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False, allow_null=True, default=None)


CODE = OpenApiParameter(
    "code", OpenApiTypes.STR, OpenApiParameter.PATH, description=gettext_lazy("The indicator's code, e.g. gdp.")
)
MONTH = OpenApiParameter(
    "month",
    OpenApiTypes.STR,
    description=gettext_lazy("YYYY-MM: as of the month's last day (today for this month, or when left out)."),
)
YEAR = OpenApiParameter("year", OpenApiTypes.INT, OpenApiParameter.PATH)
PERIOD = OpenApiParameter(
    "period", OpenApiTypes.INT, OpenApiParameter.PATH,
    description=gettext_lazy("Month 1–12, quarter 1–4, or 1 for a yearly indicator."),
)


@extend_schema(tags=["indicators"])
@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "group", OpenApiTypes.STR, enum=Group.values, description=gettext_lazy("Only this group.")
            ),
            OpenApiParameter(
                "active", OpenApiTypes.BOOL, description=gettext_lazy("true: active indicators only; false: inactive.")
            ),
            MONTH,
        ],
        responses={200: IndicatorListSerializer(many=True), **_errors(400, 403)},
        description=gettext_lazy(
            "Every indicator with its latest card (as of `month`, or today): the latest period reported, the "
            "value, growth over the same period last year (同比) and its basis, the year's target, the share "
            "reached against the share of the year elapsed, and the status. An inactive indicator's card is null."
        ),
    ),
    retrieve=extend_schema(
        parameters=[CODE, MONTH],
        responses={200: IndicatorListSerializer, **_errors(400, 403, 404)},
        description=gettext_lazy("One indicator's definition with its latest card (as of `month`, or today)."),
    ),
    create=extend_schema(
        request=IndicatorWriteSerializer,
        responses={201: IndicatorListSerializer, **_errors(400, 403)},
        description=gettext_lazy("Define an indicator. Statistics officers and administrators."),
    ),
    partial_update=extend_schema(
        parameters=[CODE],
        request=IndicatorWriteSerializer,
        responses={200: IndicatorListSerializer, **_errors(400, 403, 404)},
        description=gettext_lazy(
            "Change a definition; the period type cannot change once values exist. `aliases` replaces the list."
        ),
    ),
)
class IndicatorViewSet(viewsets.ViewSet):
    """Economic indicators (经济指标): definitions, values by period and yearly targets."""

    permission_classes = [IsAuthenticated, SeesIndicators]
    lookup_field = "code"
    lookup_value_regex = "[A-Za-z0-9_-]+"

    def _cards(self, request) -> dict:
        as_of = _as_of(request.query_params.get("month"), timezone.localdate())
        return {card.indicator.pk: card for card in selectors.cards(as_of=as_of, cockpit_only=False)}

    def _detail(self, request, indicator, status_code=status.HTTP_200_OK) -> Response:
        context = {"cards": self._cards(request)}
        return Response(IndicatorListSerializer(indicator, context=context).data, status=status_code)

    def list(self, request):
        query = IndicatorQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        active, group = query.validated_data.get("active"), query.validated_data.get("group")
        indicators = selectors.indicators_list(active_only=active is True)
        if active is False:
            indicators = indicators.filter(is_active=False)
        if group:
            indicators = indicators.filter(group=group)
        context = {"cards": self._cards(request)}
        return Response(IndicatorListSerializer(indicators, many=True, context=context).data)

    def retrieve(self, request, code=None):
        return self._detail(request, selectors.indicator_get(code))

    def create(self, request):
        indicator = services.indicator_create(actor=request.user, data=_body(IndicatorWriteSerializer, request))
        return self._detail(request, indicator, status.HTTP_201_CREATED)

    def partial_update(self, request, code=None):
        indicator = selectors.indicator_get(code)
        data = _body(IndicatorWriteSerializer, request, partial=True)
        return self._detail(request, services.indicator_update(actor=request.user, indicator=indicator, data=data))

    # -- values --

    @extend_schema(
        methods=["GET"],
        parameters=[CODE],
        responses={200: IndicatorCardSerializer(many=True), **_errors(403, 404)},
        description=gettext_lazy("Every stored value, newest first, with its growth (同比) and target progress."),
    )
    @extend_schema(
        methods=["POST"],
        parameters=[CODE],
        request=IndicatorValueWriteSerializer,
        responses={201: IndicatorCardSerializer, **_errors(400, 403, 404)},
        description=gettext_lazy(
            "Enter or correct one period's figure: `value` (year-to-date for a cumulative indicator, the level "
            "otherwise), optional `period_value` (本月) and `source_growth` (同比 % as published, used where last "
            "year is missing). The period must exist for the indicator and have ended."
        ),
    )
    @action(detail=True, methods=["get", "post"])
    def values(self, request, code=None):
        indicator = selectors.indicator_get(code)
        if request.method == "POST":
            data = _body(IndicatorValueWriteSerializer, request)
            year, period = data.pop("year"), data.pop("period")
            row = services.value_record(actor=request.user, indicator=indicator, year=year, period=period, data=data)
            card = selectors.card_for(indicator, row.year, row.period)
            return Response(IndicatorCardSerializer(card).data, status=status.HTTP_201_CREATED)
        return Response(IndicatorCardSerializer(selectors.value_rows(indicator), many=True).data)

    @extend_schema(
        parameters=[CODE, YEAR, PERIOD],
        request=None,
        responses={204: None, **_errors(403, 404)},
        description=gettext_lazy("Remove a figure entered by mistake (audited with what it was)."),
    )
    @action(detail=True, methods=["delete"], url_path=r"values/(?P<year>\d+)/(?P<period>\d+)", url_name="value")
    def value_delete(self, request, code=None, year=None, period=None):
        value = selectors.value_get(selectors.indicator_get(code), int(year), int(period))
        services.value_delete(actor=request.user, value=value)
        return Response(status=status.HTTP_204_NO_CONTENT)

    # -- targets --

    @extend_schema(
        methods=["GET"],
        parameters=[CODE],
        responses={200: IndicatorTargetSerializer(many=True), **_errors(403, 404)},
        description=gettext_lazy("The indicator's yearly targets, newest first."),
    )
    @extend_schema(
        methods=["POST"],
        parameters=[CODE],
        request=IndicatorTargetWriteSerializer,
        responses={201: IndicatorTargetSerializer, **_errors(400, 403, 404)},
        description=gettext_lazy(
            "Set (or replace) the year's target: a `value`, a `growth` rate in per cent over last year (above "
            "−100), or both; what is left out is cleared."
        ),
    )
    @action(detail=True, methods=["get", "post"])
    def targets(self, request, code=None):
        indicator = selectors.indicator_get(code)
        if request.method == "POST":
            data = _body(IndicatorTargetWriteSerializer, request)
            year = data.pop("year")
            target = services.target_set(actor=request.user, indicator=indicator, year=year, data=data)
            return Response(IndicatorTargetSerializer(target).data, status=status.HTTP_201_CREATED)
        return Response(IndicatorTargetSerializer(selectors.targets_list().filter(indicator=indicator), many=True).data)

    @extend_schema(
        parameters=[CODE, YEAR],
        request=None,
        responses={204: None, **_errors(403, 404)},
        description=gettext_lazy("Remove a year's target (audited with what it was)."),
    )
    @action(detail=True, methods=["delete"], url_path=r"targets/(?P<year>\d+)", url_name="target")
    def target_delete(self, request, code=None, year=None):
        target = selectors.target_get(selectors.indicator_get(code), int(year))
        services.target_delete(actor=request.user, target=target)
        return Response(status=status.HTTP_204_NO_CONTENT)

    # -- the statistics bureau's sheet --

    @extend_schema(
        request={"multipart/form-data": IndicatorImportSerializer},
        responses={
            200: OpenApiResponse(REPORT, description=gettext_lazy("Dry run: every row is good.")),
            201: OpenApiResponse(REPORT, description=gettext_lazy("Written: every value.")),
            400: OpenApiResponse(
                IndicatorImportErrorSerializer,
                description=gettext_lazy(
                    "A bad file, month or rows: `fields.file` lists every problem by row and column, "
                    "`report.unknown_names` the names no indicator has; nothing written."
                ),
            ),
            **_errors(403),
        },
        description=gettext_lazy(
            "Import one month's sheet in the statistics bureau's layout (指标 | 单位 | 本月 | 累计 | 同比增长(%), "
            "title rows above). The month is `year`/`month` or the one the title names. Every row is checked; "
            "while any row is bad nothing is written. `dry_run` (true unless false is given) writes nothing."
        ),
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        url_name="import",
        parser_classes=[MultiPartParser, FormParser],
    )
    def import_sheet(self, request):
        data = _body(IndicatorImportSerializer, request)
        report = services.values_import(
            actor=request.user, file=data["file"], year=data["year"], month=data["month"], dry_run=data["dry_run"]
        )
        body = IndicatorImportReportSerializer(report).data
        if report.errors:
            count = len({error.row for error in report.errors})
            message = ngettext(
                "%(count)s row has errors: nothing was written.",
                "%(count)s rows have errors: nothing was written.",
                count,
            ) % {"count": count}
            error = ValidationFailed(message, fields={"file": [str(error) for error in report.errors]}).as_dict()
            return Response({**error, "report": body}, status=status.HTTP_400_BAD_REQUEST)
        return Response(body, status=status.HTTP_201_CREATED if report.written else status.HTTP_200_OK)


def _as_of(raw: str | None, today: dt.date) -> dt.date:
    """The day the cockpit shows: the last day of `month` (YYYY-MM), today for this month or when
    no month is given; a malformed or future month is a ValidationFailed naming `month`."""
    raw = (raw or "").strip()
    if not raw:
        return today
    found = MONTH_PARAM.match(raw)
    if not found or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < services.FIRST_YEAR:
        raise ValidationFailed(_("Give the month as YYYY-MM, e.g. 2019-06."), field="month")
    year, month = int(found.group(1)), int(found.group(2))
    if (year, month) > (today.year, today.month):
        raise ValidationFailed(
            _("%(year)d-%(month)02d has not come yet; its figures cannot be known.") % {"year": year, "month": month},
            field="month",
        )
    if (year, month) == (today.year, today.month):
        return today
    return dt.date(year, month, calendar.monthrange(year, month)[1])


@extend_schema(tags=["indicators"])
@extend_schema_view(
    list=extend_schema(
        parameters=[MONTH],
        responses={200: CockpitSerializer, **_errors(400, 403)},
        description=gettext_lazy(
            "The leader cockpit (领导驾驶舱): the indicator cards, then the live panels of the other apps — "
            "projects (pipeline by pool, this year's signed/started/completed/in production, key projects "
            "behind plan), approvals, the service desk, financing and the industry chains. Each figure carries "
            "the link to the list behind it."
        ),
    ),
)
class CockpitViewSet(viewsets.ViewSet):
    """The leader cockpit's figures (district staff)."""

    permission_classes = [IsAuthenticated, SeesIndicators]

    def list(self, request):
        as_of = _as_of(request.query_params.get("month"), timezone.localdate())
        return Response(CockpitSerializer(selectors.cockpit(user=request.user, as_of=as_of)).data)
