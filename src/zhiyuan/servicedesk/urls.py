from django.urls import path

from zhiyuan.servicedesk import views

app_name = "servicedesk"

urlpatterns = [
    path("", views.index, name="index"),
    path("mine/", views.my_requests, name="mine"),
    path("new/", views.request_create, name="create"),
    path("queue/", views.queue, name="queue"),
    path("requests/", views.request_list, name="list"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("financing-needs/", views.financing_needs, name="financing"),
    path("visits/", views.visit_calendar, name="visits"),
    path("visits/new/", views.visit_create, name="visit_create"),
    path("enterprise/<int:pk>/timeline/", views.enterprise_timeline, name="enterprise_timeline"),
    path("<int:pk>/", views.request_detail, name="detail"),
    path("<int:pk>/sign-for/", views.sign_for, name="sign_for"),
    path("<int:pk>/reply/", views.reply, name="reply"),
    path("<int:pk>/ask-firm/", views.ask_firm, name="ask_firm"),
    path("<int:pk>/add-information/", views.add_information, name="add_information"),
    path("<int:pk>/transfer/", views.transfer, name="transfer"),
    path("<int:pk>/resolve/", views.resolve, name="resolve"),
    path("<int:pk>/rate/", views.rate, name="rate"),
    path("<int:pk>/reopen/", views.reopen, name="reopen"),
    path("<int:pk>/attachments/", views.attachment_add, name="attachment_add"),
    path("<int:pk>/attachments/<int:attachment_pk>/", views.attachment_download, name="attachment"),
]
