"""Indicator pages (see views.py); the leader cockpit itself is served at /cockpit/ (config.urls)."""

from django.urls import path

from zhiyuan.indicators import report_views, views

app_name = "indicators"

urlpatterns = [
    path("", views.indicator_list, name="list"),
    path("new/", views.indicator_create, name="create"),
    path("targets/", views.targets, name="targets"),
    path("import/", views.values_import, name="import"),
    path("import/template/", views.import_template, name="import_template"),
    path("import/<str:token>/", views.import_preview, name="import_preview"),
    path("import/<str:token>/confirm/", views.import_confirm, name="import_confirm"),
    path("import/<str:token>/discard/", views.import_discard, name="import_discard"),
    path("report/<int:year>-<int:month>.<str:fmt>", report_views.monthly_report, name="report"),
    path("<slug:code>/", views.indicator_detail, name="detail"),
    path("<slug:code>/edit/", views.indicator_edit, name="edit"),
    path("<slug:code>/values/", views.value_record, name="value_record"),
    path("<slug:code>/target/", views.target_set, name="target_set"),
]
