"""Key-project table pages (Excel import and the 推进表 export). Included by the project's URLconf as
`path("projects/excel/", include("zhiyuan.investments.excel_urls"))`."""

from django.urls import path

from zhiyuan.investments import excel_views

app_name = "project_excel"

urlpatterns = [
    path("import/", excel_views.key_import, name="import"),
    path("import/template/", excel_views.key_import_template, name="template"),
    path("import/<str:token>/", excel_views.key_import_preview, name="preview"),
    path("import/<str:token>/confirm/", excel_views.key_import_confirm, name="confirm"),
    path("import/<str:token>/done/", excel_views.key_import_result, name="result"),
    path("progress/", excel_views.progress_report, name="progress"),
]
