"""Credit API: /api/credit/… — the same scoping and services as the pages.

- Reports (/api/credit/reports/{uscc}/): a firm user reads its own firm's report; district staff
  any firm's; a bank only under a live consent, through `services.report_access_for_bank`, which
  logs every bank request (granted or refused) and answers a firm without consent exactly like one
  that does not exist (404). `?purpose=` narrows the consent a bank reads under.
- Consents, the access log and objections: a firm sees its own; a bank the consents given to it and
  its own requests (objections are not a bank's business: 403); district staff everything. Firms
  grant and revoke consents and raise and withdraw objections; the credit administrators answer them.
- Financing: needs (the service desk's published 融资 requests; a firm sees its own), offers on
  them, and the banks' loan products. Banks respond to needs and record outcomes; firms accept or
  decline offers.
- Models and feeds: district staff read the scorecard versions; the credit administrators activate
  one, read the feed deliveries and load feed rows (all or nothing, every bad row reported).

Who may do what is the services' decision; a broken rule answers the one error body
{"error": {"code", "message", "fields"}} (400 invalid input, 403 role, 404 not visible, 409 state).
The city client gets 403 everywhere.
"""

from collections import defaultdict

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from zhiyuan.accounts.permissions import is_district_staff
from zhiyuan.core.api import ErrorDetailSerializer, StrictSerializer, error_responses
from zhiyuan.core.errors import NotFoundError, ValidationFailed
from zhiyuan.credit import feeds, scoring, selectors, services
from zhiyuan.credit.models import (
    Consent,
    Feed,
    FeedLoad,
    FinancingOffer,
    LoanProduct,
    Objection,
    Purpose,
    ReportAccess,
    ScoreModel,
)
from zhiyuan.credit.permissions import can_manage_credit, is_bank_user, is_firm_user
from zhiyuan.credit.serializers import (
    ConsentGrantSerializer,
    ConsentSerializer,
    CreditNeedDetailSerializer,
    CreditNeedSerializer,
    CreditReportSerializer,
    FeedLoadSerializer,
    FinancingOfferSerializer,
    LoanProductSerializer,
    LoanProductWriteSerializer,
    ObjectionAnswerSerializer,
    ObjectionRaiseSerializer,
    ObjectionSerializer,
    OfferCreateSerializer,
    OfferOutcomeSerializer,
    ReportAccessSerializer,
    ScoreModelDetailSerializer,
    ScoreModelSerializer,
    report_data,
)
from zhiyuan.servicedesk.models import ServiceRequest

ERRORS = error_responses()


_errors = ERRORS.only


class UsesCredit(BasePermission):
    """District staff, firm users and bank users; the city client nowhere."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return is_district_staff(user) or is_firm_user(user) or is_bank_user(user)


class IsDistrictStaff(BasePermission):
    """District staff only (scorecard models)."""

    def has_permission(self, request, view) -> bool:
        return is_district_staff(request.user)


class SeesObjections(BasePermission):
    """Objections are between a firm and the district: district staff and firm users, not banks."""

    def has_permission(self, request, view) -> bool:
        return is_district_staff(request.user) or is_firm_user(request.user)


class ManagesCredit(BasePermission):
    """The credit administrators (feeds)."""

    def has_permission(self, request, view) -> bool:
        return can_manage_credit(request.user)


def _body(serializer_class, request, **kwargs) -> dict:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# -- reports -----------------------------------------------------------------------------------------

PURPOSE_PARAMETER = OpenApiParameter(
    "purpose",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    required=False,
    enum=Purpose.values,
    description=gettext_lazy("For a bank: read only under a consent for this purpose."),
)


@extend_schema(tags=["credit"])
class CreditReportViewSet(viewsets.GenericViewSet):
    """A firm's credit report: score, grade, PD band, reasons, trend, the data it rests on and how fresh."""

    permission_classes = [IsAuthenticated, UsesCredit]
    serializer_class = CreditReportSerializer
    lookup_field = "uscc"
    lookup_value_regex = r"[0-9A-Za-z]{1,18}"
    filter_backends = []
    pagination_class = None

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "uscc",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description=gettext_lazy("The firm's unified social credit code (统一社会信用代码)."),
            ),
            PURPOSE_PARAMETER,
        ],
        responses={200: CreditReportSerializer, **_errors(400, 403, 404)},
        description=gettext_lazy(
            "A firm user reads its own firm's report, district staff any firm's. A bank reads a report only "
            "under a live consent (not revoked, today within its period, for `purpose` when given); every bank "
            "request is logged, granted or refused, and the firm sees that log. Without consent: 404."
        ),
    )
    def retrieve(self, request, uscc=None):
        consent = None
        if is_bank_user(request.user):
            enterprise, consent = services.report_access_for_bank(
                actor=request.user, uscc=uscc, purpose=request.query_params.get("purpose", ""), channel="api"
            )
        else:
            enterprise = selectors.report_enterprise_for(request.user, uscc)
        return Response(CreditReportSerializer(report_data(selectors.report_build(enterprise), consent)).data)


# -- consents and the access log -----------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        description=gettext_lazy(
            "A firm's own consents; the consents given to a bank; all of them for district staff. "
            "`live` says whether a consent opens the report today."
        )
    ),
    retrieve=extend_schema(responses={200: ConsentSerializer, **_errors(404)}),
    create=extend_schema(
        request=ConsentGrantSerializer,
        responses={201: ConsentSerializer, **_errors(400, 403)},
        description=gettext_lazy(
            "The firm authorises a bank (its organisation id) to read its credit report for a purpose "
            "(loan_approval, credit_line, post_loan) from `valid_from` (today when left out) to `valid_until`."
        ),
    ),
)
@extend_schema(tags=["credit"])
class ConsentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Consents (授权): a firm lets one bank read its report for one purpose during a period."""

    permission_classes = [IsAuthenticated, UsesCredit]
    serializer_class = ConsentSerializer
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Consent.objects.none()
        return selectors.consents_visible_to(self.request.user)

    def get_object(self):
        return selectors.consent_get_for(self.request.user, self.kwargs["pk"])

    def create(self, request, *args, **kwargs):
        data = _body(ConsentGrantSerializer, request)
        consent = services.consent_grant(
            actor=request.user,
            bank=data.get("bank"),
            purpose=data.get("purpose", ""),
            valid_from=data.get("valid_from"),
            valid_until=data.get("valid_until"),
        )
        return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: ConsentSerializer, **_errors(403, 404, 409)},
        description=gettext_lazy("The firm revokes a consent; the bank's next request is refused."),
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        consent = services.consent_revoke(actor=request.user, consent=self.get_object())
        return Response(ConsentSerializer(consent).data)


@extend_schema_view(
    list=extend_schema(
        description=gettext_lazy(
            "Every bank request for a report, granted or refused: a firm sees the requests for its own "
            "report, a bank its own requests, district staff all."
        )
    )
)
@extend_schema(tags=["credit"])
class ReportAccessViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The report access log."""

    permission_classes = [IsAuthenticated, UsesCredit]
    serializer_class = ReportAccessSerializer
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ReportAccess.objects.none()
        return selectors.accesses_visible_to(self.request.user)


# -- objections --------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(description=gettext_lazy("A firm's own objections; all of them for district staff.")),
    retrieve=extend_schema(responses={200: ObjectionSerializer, **_errors(404)}),
    create=extend_schema(
        request=ObjectionRaiseSerializer,
        responses={201: ObjectionSerializer, **_errors(400, 403, 404, 409)},
        description=gettext_lazy(
            "The firm disputes one of its records (feed and record id, as in the report). The record is "
            "flagged in every report until the objection is answered or withdrawn."
        ),
    ),
)
@extend_schema(tags=["credit"])
class ObjectionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Objections (异议) to credit records."""

    permission_classes = [IsAuthenticated, SeesObjections]
    serializer_class = ObjectionSerializer
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Objection.objects.none()
        return selectors.objections_visible_to(self.request.user)

    def get_object(self):
        return selectors.objection_get_for(self.request.user, self.kwargs["pk"])

    def create(self, request, *args, **kwargs):
        data = _body(ObjectionRaiseSerializer, request)
        objection = services.objection_raise(actor=request.user, **data)
        return Response(ObjectionSerializer(objection).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ObjectionAnswerSerializer,
        responses={200: ObjectionSerializer, **_errors(400, 403, 404, 409)},
        description=gettext_lazy(
            "The credit administrators answer: upheld removes the record, rejected lets it stand."
        ),
    )
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        objection = self.get_object()
        data = _body(ObjectionAnswerSerializer, request)
        objection = services.objection_answer(actor=request.user, objection=objection, **data)
        return Response(ObjectionSerializer(objection).data)

    @extend_schema(
        request=None,
        responses={200: ObjectionSerializer, **_errors(403, 404, 409)},
        description=gettext_lazy("The firm withdraws its own open objection."),
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        objection = services.objection_withdraw(actor=request.user, objection=self.get_object())
        return Response(ObjectionSerializer(objection).data)


# -- financing needs and offers ------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        description=gettext_lazy(
            "Financing needs: banks and district staff see the open needs firms published to banks, a firm "
            "its own. Each with the offers the user may see on it and, for a bank, the ids of its own "
            "published products that fit it."
        )
    ),
    retrieve=extend_schema(
        responses={200: CreditNeedDetailSerializer, **_errors(404)},
        description=gettext_lazy(
            "One need with the published products that fit it. The firm's grade is compared only for the "
            "firm itself and district staff."
        ),
    ),
)
@extend_schema(tags=["credit"])
class FinancingNeedViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Financing needs (融资需求) and the banks' offers on them."""

    permission_classes = [IsAuthenticated, UsesCredit]
    serializer_class = CreditNeedSerializer
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ServiceRequest.objects.none()
        return selectors.needs_visible_to(self.request.user).select_related("enterprise")

    def get_object(self):
        return selectors.need_get_for(self.request.user, self.kwargs["pk"])

    def _context(self, needs) -> dict:
        user = self.request.user
        offers = defaultdict(list)
        visible = selectors.offers_visible_to(user).select_related("product__bank")
        for offer in visible.filter(need__in=[need.pk for need in needs]):
            offers[offer.need_id].append(offer)
        context = {**self.get_serializer_context(), "offers": offers}
        if is_bank_user(user):
            matching = defaultdict(list)
            for match in selectors.matches_for_bank(user):
                matching[match.need.pk].append(match.product.pk)
            context["matching_products"] = matching
        return context

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(CreditNeedSerializer(page, many=True, context=self._context(page)).data)

    def retrieve(self, request, *args, **kwargs):
        need = self.get_object()
        context = {**self._context([need]), "matches": selectors.matches_for_need(request.user, need)}
        return Response(CreditNeedDetailSerializer(need, context=context).data)

    @extend_schema(
        request=OfferCreateSerializer,
        responses={201: FinancingOfferSerializer, **_errors(400, 403, 404, 409)},
        description=gettext_lazy(
            "A bank responds to a published need: amount (10k yuan), term (months), rate (% a year), "
            "optionally one of its own published products and a message. One live offer per bank and need."
        ),
    )
    @action(detail=True, methods=["post"])
    def offers(self, request, pk=None):
        need = self.get_object()
        data = _body(OfferCreateSerializer, request)
        product = None
        if data.get("product") is not None:
            product = LoanProduct.objects.filter(pk=data["product"]).first()
            if product is None:
                raise ValidationFailed(_("Choose one of your own published products."), field="product")
        offer = services.offer_create(
            actor=request.user,
            need=need,
            product=product,
            amount=data.get("amount"),
            term_months=data.get("term_months"),
            rate=data.get("rate"),
            message=data.get("message", ""),
        )
        return Response(FinancingOfferSerializer(offer).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        description=gettext_lazy("A bank's own offers; the offers on a firm's needs; all for district staff.")
    ),
    retrieve=extend_schema(responses={200: FinancingOfferSerializer, **_errors(404)}),
)
@extend_schema(tags=["credit"])
class FinancingOfferViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Banks' offers on financing needs and what came of them."""

    permission_classes = [IsAuthenticated, UsesCredit]
    serializer_class = FinancingOfferSerializer
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return FinancingOffer.objects.none()
        return selectors.offers_visible_to(self.request.user).select_related("product__bank")

    def get_object(self):
        return selectors.offer_get_for(self.request.user, self.kwargs["pk"])

    def _step(self, call) -> Response:
        return Response(FinancingOfferSerializer(call(self.get_object())).data)

    @extend_schema(
        request=None,
        responses={200: FinancingOfferSerializer, **_errors(403, 404, 409)},
        description=gettext_lazy("The firm accepts an offer on its need."),
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._step(lambda offer: services.offer_accept(actor=request.user, offer=offer))

    @extend_schema(
        request=None,
        responses={200: FinancingOfferSerializer, **_errors(403, 404, 409)},
        description=gettext_lazy("The firm declines an offer on its need."),
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        return self._step(lambda offer: services.offer_decline(actor=request.user, offer=offer))

    @extend_schema(
        request=None,
        responses={200: FinancingOfferSerializer, **_errors(403, 404, 409)},
        description=gettext_lazy("The bank withdraws an offer the firm has not answered."),
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self._step(lambda offer: services.offer_withdraw(actor=request.user, offer=offer))

    @extend_schema(
        request=OfferOutcomeSerializer,
        responses={200: FinancingOfferSerializer, **_errors(400, 403, 404, 409)},
        description=gettext_lazy(
            "The bank records what came of an accepted offer: the loan granted (amount in 10k yuan, date) "
            "or not granted."
        ),
    )
    @action(detail=True, methods=["post"])
    def outcome(self, request, pk=None):
        offer = self.get_object()
        data = _body(OfferOutcomeSerializer, request)
        try:
            offer = services.offer_record_outcome(
                actor=request.user,
                offer=offer,
                granted=data["granted"],
                amount=data.get("amount"),
                granted_on=data.get("granted_on"),
            )
        except ValidationFailed as error:
            # The service names the model field; the API's field is `amount`.
            if "granted_amount" in error.fields:
                error.fields["amount"] = error.fields.pop("granted_amount")
            raise
        return Response(FinancingOfferSerializer(offer).data)


@extend_schema_view(
    list=extend_schema(description=gettext_lazy("Published products; a bank also sees its own unpublished ones.")),
    retrieve=extend_schema(responses={200: LoanProductSerializer, **_errors(404)}),
    create=extend_schema(
        request=LoanProductWriteSerializer,
        responses={201: LoanProductSerializer, **_errors(400, 403)},
        description=gettext_lazy(
            "A bank publishes a loan product: amount range (10k yuan), term range (months), rate band "
            "(% a year, at most 36), lowest eligible grade and industry sections (empty = any)."
        ),
    ),
    partial_update=extend_schema(
        request=LoanProductWriteSerializer,
        responses={200: LoanProductSerializer, **_errors(400, 403, 404)},
        description=gettext_lazy(
            "The bank changes one of its own products (is_active false unpublishes it); another bank's: 404."
        ),
    ),
)
@extend_schema(tags=["credit"])
class LoanProductViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Banks' loan products."""

    permission_classes = [IsAuthenticated, UsesCredit]
    serializer_class = LoanProductSerializer
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return LoanProduct.objects.none()
        return selectors.products_visible_to(self.request.user)

    def get_object(self):
        return selectors.product_get_for(self.request.user, self.kwargs["pk"])

    def create(self, request, *args, **kwargs):
        product = services.product_create(actor=request.user, data=_body(LoanProductWriteSerializer, request))
        return Response(LoanProductSerializer(product).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        product = self.get_object()
        data = _body(LoanProductWriteSerializer, request, partial=True)
        product = services.product_update(actor=request.user, product=product, data=data)
        return Response(LoanProductSerializer(product).data)


# -- models and feeds ----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        description=gettext_lazy("Scorecard versions with their metrics, newest first; exactly one is active.")
    ),
    retrieve=extend_schema(
        parameters=[OpenApiParameter("version", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={200: ScoreModelDetailSerializer, **_errors(403, 404)},
        description=gettext_lazy("One version with its metrics and the PSI of each scoring run."),
    ),
)
@extend_schema(tags=["credit"])
class ScoreModelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Scorecard models (district staff only)."""

    permission_classes = [IsAuthenticated, IsDistrictStaff]
    serializer_class = ScoreModelSerializer
    lookup_field = "version"
    lookup_value_regex = r"\d+"
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ScoreModel.objects.none()
        return selectors.models_list()

    def get_object(self):
        model = selectors.models_list().filter(version=self.kwargs["version"]).first()
        if model is None:
            raise NotFoundError()
        return model

    def retrieve(self, request, *args, **kwargs):
        return Response(ScoreModelDetailSerializer(self.get_object()).data)

    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("version", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={200: ScoreModelSerializer, **_errors(403, 404)},
        description=gettext_lazy(
            "Make this version the active scorecard (the credit administrators); the previous one is "
            "deactivated. Audited."
        ),
    )
    @action(detail=True, methods=["post"])
    def activate(self, request, version=None):
        model = scoring.model_activate(actor=request.user, model=self.get_object())
        return Response(ScoreModelSerializer(model).data)


class FeedRowsSerializer(StrictSerializer):
    """Rows of one feed: objects keyed by the feed's column keys (see zhiyuan.credit.feeds), with the
    source that supplied them."""

    source = serializers.CharField(
        allow_blank=True, required=False, default="", help_text=gettext_lazy("Who supplied the data, e.g. 区税务局.")
    )
    rows = serializers.ListField(child=serializers.JSONField())


FEED_REPORT = inline_serializer(
    "FeedImportReport",
    fields={
        "feed": serializers.CharField(),
        "dry_run": serializers.BooleanField(),
        "ok": serializers.BooleanField(),
        "written": serializers.BooleanField(),
        "total": serializers.IntegerField(),
        "to_create": serializers.IntegerField(),
        "to_update": serializers.IntegerField(),
        "errors": inline_serializer(
            "FeedRowError",
            fields={
                "row": serializers.IntegerField(),
                "column": serializers.CharField(),
                "message": serializers.CharField(),
            },
            many=True,
        ),
        "columns": serializers.ListField(child=serializers.CharField()),
        "preview": serializers.ListField(child=serializers.DictField()),
        "load": serializers.DictField(allow_null=True),
    },
)
FEED_ERROR = inline_serializer(
    "FeedImportError",
    fields={
        "error": ErrorDetailSerializer(),
        "report": FEED_REPORT,
    },
)


@extend_schema_view(
    list=extend_schema(description=gettext_lazy("Feed deliveries, newest first.")),
)
@extend_schema(tags=["credit"])
class FeedViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Feed deliveries and loading rows through the API (the credit administrators)."""

    permission_classes = [IsAuthenticated, ManagesCredit]
    serializer_class = FeedLoadSerializer
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return FeedLoad.objects.none()
        return selectors.feed_loads()

    @extend_schema(
        request=FeedRowsSerializer,
        parameters=[
            OpenApiParameter("feed", OpenApiTypes.STR, OpenApiParameter.PATH, enum=Feed.values),
            OpenApiParameter(
                "dry_run",
                OpenApiTypes.BOOL,
                OpenApiParameter.QUERY,
                required=False,
                description=gettext_lazy("1: check every row and report, write nothing."),
            ),
        ],
        responses={
            200: OpenApiResponse(FEED_REPORT, description=gettext_lazy("Dry run: every row is good.")),
            201: OpenApiResponse(FEED_REPORT, description=gettext_lazy("Written: one load, every row.")),
            400: OpenApiResponse(
                FEED_ERROR, description=gettext_lazy("Bad rows (`report.errors` lists each): nothing written.")
            ),
            **_errors(403),
        },
        description=gettext_lazy(
            "The credit administrators load rows of one feed. Every row is checked; when any is bad nothing "
            "is written and every problem is listed (row, column, message). With dry_run=1 nothing is written."
        ),
    )
    @action(detail=False, methods=["post"], url_path=r"(?P<feed>[a-z_]+)", url_name="load")
    def load(self, request, feed=None):
        data = _body(FeedRowsSerializer, request)
        dry_run = str(request.query_params.get("dry_run", "")).strip().lower() in ("1", "true", "yes")
        report = feeds.feed_import(
            actor=request.user, feed=feed, source=data["source"], rows=data["rows"], dry_run=dry_run, channel="api"
        )
        body = report.as_dict()
        if report.errors:
            count = len(report.bad_rows)
            message = ngettext(
                "%(count)s row has errors: nothing was written.",
                "%(count)s rows have errors: nothing was written.",
                count,
            ) % {"count": count}
            fields = {
                "rows": [
                    _("Row %(row)s, %(column)s: %(message)s")
                    % {"row": error.row, "column": error.column, "message": error.message}
                    for error in report.errors
                ]
            }
            error = ValidationFailed(message, fields=fields).as_dict()
            return Response({**error, "report": body}, status=status.HTTP_400_BAD_REQUEST)
        return Response(body, status=status.HTTP_201_CREATED if report.written else status.HTTP_200_OK)
