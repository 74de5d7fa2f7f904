from django.urls import path

from zhiyuan.investments import views

app_name = "investments"

urlpatterns = [
    path("", views.project_list, name="list"),
    path("new/", views.lead_create, name="create"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("key/", views.key_list, name="key"),
    path("key/<int:year>/", views.key_list, name="key_year"),
    path("land/progress/", views.land_progress, name="land_progress"),
    path("land/target/", views.land_target, name="land_target"),
    path("enterprise-options/", views.enterprise_options, name="enterprise_options"),
    path("<int:pk>/", views.project_detail, name="detail"),
    path("<int:pk>/edit/", views.project_edit, name="edit"),
    path("<int:pk>/transition/", views.transition, name="transition"),
    path("<int:pk>/follow-ups/", views.follow_up, name="follow_up"),
    path("<int:pk>/milestones/", views.milestone_add, name="milestone_add"),
    path("<int:pk>/milestones/<int:milestone_pk>/reached/", views.milestone_reached, name="milestone_reached"),
    path("<int:pk>/investment/", views.investment, name="investment"),
    path("<int:pk>/blockers/", views.blocker_raise, name="blocker_raise"),
    path("<int:pk>/blockers/<int:blocker_pk>/resolve/", views.blocker_resolve, name="blocker_resolve"),
    path("<int:pk>/decisions/", views.decision, name="decision"),
    path("<int:pk>/attachments/", views.attachment_add, name="attachment_add"),
    path("<int:pk>/attachments/<int:attachment_pk>/", views.attachment_download, name="attachment"),
    path("<int:pk>/key-listing/", views.key_listing, name="key_listing"),
]
