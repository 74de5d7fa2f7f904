from django.urls import path

from zhiyuan.enterprises import excel_views, views

app_name = "enterprises"

urlpatterns = [
    path("", views.enterprise_list, name="list"),
    path("new/", views.enterprise_create, name="create"),
    path("<int:pk>/", views.enterprise_detail, name="detail"),
    path("<int:pk>/edit/", views.enterprise_edit, name="edit"),
    path("export/", excel_views.enterprise_export, name="export"),
    path("import/", excel_views.import_upload, name="import"),
    path("import/template/", excel_views.import_template, name="import_template"),
    path("import/<int:pk>/", excel_views.import_preview, name="import_preview"),
    path("import/<int:pk>/confirm/", excel_views.import_confirm, name="import_confirm"),
    path("import/<int:pk>/discard/", excel_views.import_discard, name="import_discard"),
    path("import/<int:pk>/errors/", excel_views.import_errors, name="import_errors"),
    path("import/<int:pk>/result/", excel_views.import_result, name="import_result"),
]
