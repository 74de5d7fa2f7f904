"""Credit pages (see views.py)."""

from django.urls import path

from zhiyuan.credit import views

app_name = "credit"

urlpatterns = [
    path("", views.index, name="index"),
    path("my/", views.my_credit, name="my"),
    path("my/consents/", views.consent_grant, name="consent_grant"),
    path("consents/<int:pk>/revoke/", views.consent_revoke, name="consent_revoke"),
    path("records/<str:feed>/<int:record_id>/objection/", views.objection_raise, name="objection_raise"),
    path("reports/<str:uscc>/", views.report, name="report"),
    path("bank/", views.bank, name="bank"),
    path("needs/", views.needs, name="needs"),
    path("needs/<int:pk>/", views.need_detail, name="need_detail"),
    path("needs/<int:pk>/offer/", views.offer_create, name="offer_create"),
    path("offers/<int:pk>/accept/", views.offer_accept, name="offer_accept"),
    path("offers/<int:pk>/decline/", views.offer_decline, name="offer_decline"),
    path("offers/<int:pk>/withdraw/", views.offer_withdraw, name="offer_withdraw"),
    path("offers/<int:pk>/outcome/", views.offer_outcome, name="offer_outcome"),
    path("products/", views.products, name="products"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<int:pk>/edit/", views.product_edit, name="product_edit"),
    path("overview/", views.overview, name="overview"),
    path("granted/", views.granted, name="granted"),
    path("search/", views.search, name="search"),
    path("objections/", views.objections, name="objections"),
    path("objections/<int:pk>/", views.objection_detail, name="objection_detail"),
    path("objections/<int:pk>/answer/", views.objection_answer, name="objection_answer"),
    path("objections/<int:pk>/withdraw/", views.objection_withdraw, name="objection_withdraw"),
    path("models/", views.models, name="models"),
    path("models/<int:version>/", views.model_detail, name="model_detail"),
    path("models/<int:version>/activate/", views.model_activate, name="model_activate"),
    path("feeds/", views.feed_list, name="feeds"),
    path("feeds/templates/<str:feed>/", views.feed_template, name="feed_template"),
    path("feeds/uploads/", views.feed_upload, name="feed_upload"),
    path("feeds/uploads/<int:pk>/", views.feed_upload_detail, name="feed_upload_detail"),
    path("feeds/uploads/<int:pk>/confirm/", views.feed_upload_confirm, name="feed_upload_confirm"),
    path("feeds/uploads/<int:pk>/discard/", views.feed_upload_discard, name="feed_upload_discard"),
    path("purges/", views.purges, name="purges"),
]
