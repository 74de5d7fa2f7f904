from django.urls import path

from zhiyuan.datalink import views

app_name = "datalink"

urlpatterns = [
    path("", views.index, name="index"),
    path("messages/<int:pk>/", views.message_detail, name="message"),
    path("messages/<int:pk>/retry/", views.message_retry, name="retry"),
    path("messages/<int:pk>/correct/", views.message_correct, name="correct"),
    path("log/", views.log, name="log"),
    path("log/verify/", views.log_verify_view, name="verify"),
]
