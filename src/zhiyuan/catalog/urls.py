from django.urls import path

from zhiyuan.catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.search, name="search"),
    path("suppliers/", views.suppliers, name="suppliers"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<int:pk>/", views.product_detail, name="product_detail"),
    path("products/<int:pk>/image/", views.product_image, name="product_image"),
    path("products/<int:pk>/edit/", views.product_edit, name="product_edit"),
    path("products/<int:pk>/delete/", views.product_delete, name="product_delete"),
    path("firms/<int:pk>/products/", views.enterprise_products, name="enterprise_products"),
    path("firms/<int:pk>/needs/", views.supply_need_add, name="supply_need_add"),
    path("needs/<int:pk>/remove/", views.supply_need_remove, name="supply_need_remove"),
    path("import/", views.import_upload, name="import"),
    path("import/template/", views.import_template, name="import_template"),
    path("import/<int:pk>/", views.import_detail, name="import_detail"),
    path("import/<int:pk>/confirm/", views.import_confirm, name="import_confirm"),
    path("import/<int:pk>/discard/", views.import_discard, name="import_discard"),
    path("export/", views.export, name="export"),
]
