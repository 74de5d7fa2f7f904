from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from zhiyuan.approvals.api import ApplicationViewSet, ApprovalItemViewSet
from zhiyuan.datalink.inbound import inbound
from zhiyuan.enterprises.api import EnterpriseViewSet
from zhiyuan.investments.api import ProjectViewSet
from zhiyuan.servicedesk.api import ServiceRequestViewSet, VisitViewSet

router = DefaultRouter()
router.register("enterprises", EnterpriseViewSet, basename="enterprise")
router.register("projects", ProjectViewSet, basename="project")
router.register("servicedesk/requests", ServiceRequestViewSet, basename="servicerequest")
router.register("servicedesk/visits", VisitViewSet, basename="visit")
router.register("approvals/items", ApprovalItemViewSet, basename="approvalitem")
router.register("approvals/applications", ApplicationViewSet, basename="application")

urlpatterns = [
    path("", include("zhiyuan.core.urls")),
    path("accounts/", include("zhiyuan.accounts.urls")),
    path("enterprises/", include("zhiyuan.enterprises.urls")),
    path("projects/excel/", include("zhiyuan.investments.excel_urls")),
    path("projects/", include("zhiyuan.investments.urls")),
    path("servicedesk/", include("zhiyuan.servicedesk.urls")),
    path("approvals/", include("zhiyuan.approvals.urls")),
    # The city's machine endpoint (signed messages; no session): see zhiyuan.datalink.protocol.
    path("datalink/inbound/", inbound, name="datalink-inbound"),
    path("datalink/", include("zhiyuan.datalink.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include(router.urls)),
]
