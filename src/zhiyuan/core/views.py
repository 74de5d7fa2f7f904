"""Home page, notifications and health check."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from zhiyuan.accounts.permissions import is_district_staff
from zhiyuan.core.selectors import notifications_for
from zhiyuan.core.services import notification_mark_read
from zhiyuan.enterprises.selectors import registry_summary


@login_required
def home(request):
    figures = registry_summary() if is_district_staff(request.user) else None
    return render(request, "core/home.html", {"figures": figures})


def health(request):
    """Liveness for load balancers: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_required
def notification_list(request):
    page = Paginator(notifications_for(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "core/notifications.html", {"page": page})


@login_required
@require_POST
def notification_read(request):
    ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()] or None
    notification_mark_read(actor=request.user, notification_ids=ids)
    return redirect("core:notifications")
