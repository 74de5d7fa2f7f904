from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from zhiyuan.approvals.api import ApplicationViewSet, ApprovalItemViewSet
from zhiyuan.catalog import api as catalog_api
from zhiyuan.chains import api as chains_api
from zhiyuan.credit import api as credit_api
from zhiyuan.datalink.inbound import inbound
from zhiyuan.enterprises.api import EnterpriseViewSet
from zhiyuan.indicators import api as indicators_api
from zhiyuan.indicators import views as indicator_views
from zhiyuan.investments.api import ProjectViewSet
from zhiyuan.servicedesk.api import ServiceRequestViewSet, VisitViewSet

router = DefaultRouter()
router.register("enterprises", EnterpriseViewSet, basename="enterprise")
router.register("projects", ProjectViewSet, basename="project")
router.register("servicedesk/requests", ServiceRequestViewSet, basename="servicerequest")
router.register("servicedesk/visits", VisitViewSet, basename="visit")
router.register("approvals/items", ApprovalItemViewSet, basename="approvalitem")
router.register("approvals/applications", ApplicationViewSet, basename="application")
router.register("credit/reports", credit_api.CreditReportViewSet, basename="credit-report")
router.register("credit/consents", credit_api.ConsentViewSet, basename="credit-consent")
router.register("credit/access-log", credit_api.ReportAccessViewSet, basename="credit-access")
router.register("credit/objections", credit_api.ObjectionViewSet, basename="credit-objection")
router.register("credit/needs", credit_api.FinancingNeedViewSet, basename="credit-need")
router.register("credit/offers", credit_api.FinancingOfferViewSet, basename="credit-offer")
router.register("credit/products", credit_api.LoanProductViewSet, basename="credit-product")
router.register("credit/models", credit_api.ScoreModelViewSet, basename="credit-model")
router.register("credit/feeds", credit_api.FeedViewSet, basename="credit-feed")
# Gaps and targets before the chains themselves, whose {code} would otherwise take "gaps" and "targets".
router.register("chains/gaps", chains_api.GapViewSet, basename="chain-gap")
router.register("chains/targets", chains_api.TargetViewSet, basename="chain-target")
router.register("chains", chains_api.ChainViewSet, basename="chain")
router.register("catalog/products", catalog_api.ProductViewSet, basename="catalog-product")
router.register("catalog/suppliers", catalog_api.SupplierViewSet, basename="catalog-supplier")
router.register("indicators", indicators_api.IndicatorViewSet, basename="indicator")
router.register("cockpit", indicators_api.CockpitViewSet, basename="cockpit")

urlpatterns = [
    path("", include("zhiyuan.core.urls")),
    path("accounts/", include("zhiyuan.accounts.urls")),
    path("enterprises/", include("zhiyuan.enterprises.urls")),
    path("projects/excel/", include("zhiyuan.investments.excel_urls")),
    path("projects/", include("zhiyuan.investments.urls")),
    path("servicedesk/", include("zhiyuan.servicedesk.urls")),
    path("approvals/", include("zhiyuan.approvals.urls")),
    path("credit/", include("zhiyuan.credit.urls")),
    path("chains/", include("zhiyuan.chains.urls")),
    path("catalog/", include("zhiyuan.catalog.urls")),
    path("indicators/", include("zhiyuan.indicators.urls")),
    path("cockpit/", indicator_views.cockpit, name="cockpit"),
    # The city's machine endpoint (signed messages; no session): see zhiyuan.datalink.protocol.
    path("datalink/inbound/", inbound, name="datalink-inbound"),
    path("datalink/", include("zhiyuan.datalink.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include(router.urls)),
]
