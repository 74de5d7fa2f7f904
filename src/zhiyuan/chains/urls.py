from django.urls import path

from zhiyuan.chains import views

app_name = "chains"

urlpatterns = [
    path("", views.index, name="index"),
    path("gaps/", views.gap_list, name="gaps"),
    path("refresh/", views.map_refresh, name="refresh"),
    path("enterprise-options/", views.enterprise_options, name="enterprise_options"),
    path("nodes/<int:pk>/", views.node_detail, name="node"),
    path("nodes/<int:pk>/firms/", views.firm_add, name="firm_add"),
    path("nodes/<int:pk>/firms/<int:firm_pk>/<slug:action>/", views.firm_decide, name="firm_decide"),
    path("nodes/<int:pk>/targets/", views.target_add, name="target_add"),
    path("targets/import/", views.target_import, name="import"),
    path("targets/import/template/", views.import_template, name="import_template"),
    path("targets/import/<str:token>/", views.import_preview, name="import_preview"),
    path("targets/import/<str:token>/confirm/", views.import_confirm, name="import_confirm"),
    path("targets/<int:pk>/edit/", views.target_edit, name="target_edit"),
    path("targets/<int:pk>/to-lead/", views.target_to_lead, name="target_to_lead"),
    path("<slug:code>/", views.chain_map, name="map"),
]
