from django.urls import path

from zhiyuan.approvals import views

app_name = "approvals"

urlpatterns = [
    path("", views.index, name="index"),
    path("list/", views.application_list, name="list"),
    path("new/", views.application_create, name="create"),
    path("items/", views.item_list, name="items"),
    path("<int:pk>/", views.application_detail, name="detail"),
    path("<int:pk>/materials/upload/", views.material_add, name="upload_other"),
    path("<int:pk>/materials/upload/<int:requirement_pk>/", views.material_add, name="upload"),
    path("<int:pk>/materials/<int:material_pk>/", views.material_download, name="material"),
    path("<int:pk>/materials/<int:material_pk>/remove/", views.material_remove, name="material_remove"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/accept/", views.accept, name="accept"),
    path("<int:pk>/reject/", views.reject, name="reject"),
    path("<int:pk>/correction/", views.request_correction, name="correction"),
    path("<int:pk>/supplement/", views.supplement_forward, name="supplement"),
    path("<int:pk>/collect/", views.collect, name="collect"),
]
