"""Home page and health check."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from zhiyuan.accounts.permissions import is_district_staff
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
