"""Registry pages: thin views that parse input, call one service or selector, and render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_tables2 import RequestConfig

from zhiyuan.accounts.models import Role
from zhiyuan.accounts.permissions import can_edit_registry, sees_personal_data
from zhiyuan.core.errors import DomainError, NotFoundError, PermissionDeniedError, ValidationFailed
from zhiyuan.enterprises import services
from zhiyuan.enterprises.filters import EnterpriseFilter
from zhiyuan.enterprises.forms import EnterpriseForm, FirmProfileForm
from zhiyuan.enterprises.selectors import (
    enterprise_get_for,
    enterprise_history_for,
    enterprises_visible_to,
    personal_data_for,
)
from zhiyuan.enterprises.tables import EnterpriseTable


def _get_or_404(user, pk):
    try:
        return enterprise_get_for(user, pk)
    except NotFoundError:
        raise Http404 from None


def _people_only(user) -> None:
    if user.role == Role.CITY:
        raise PermissionDenied


@login_required
def enterprise_list(request):
    _people_only(request.user)
    if request.user.role == Role.ENTERPRISE and request.user.enterprise_id:
        return redirect("enterprises:detail", pk=request.user.enterprise_id)
    filterset = EnterpriseFilter(request.GET or None, queryset=enterprises_visible_to(request.user))
    table = EnterpriseTable(filterset.qs, mask_personal_data=not sees_personal_data(request.user))
    RequestConfig(request, paginate={"per_page": 25}).configure(table)
    context = {
        "filter": filterset,
        "table": table,
        "can_edit": can_edit_registry(request.user),
        "total": filterset.qs.count(),
    }
    template = "enterprises/_table.html" if request.htmx else "enterprises/list.html"
    return render(request, template, context)


@login_required
def enterprise_detail(request, pk):
    _people_only(request.user)
    enterprise = _get_or_404(request.user, pk)
    return render(
        request,
        "enterprises/detail.html",
        {
            "enterprise": enterprise,
            "personal": personal_data_for(request.user, enterprise),
            "can_edit": bool(services.editable_fields_for(request.user, enterprise)),
            "tab": request.GET.get("tab", "overview"),
            "history": enterprise_history_for(request.user, enterprise),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def enterprise_create(request):
    if not can_edit_registry(request.user):
        raise PermissionDenied
    form = EnterpriseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            enterprise = services.enterprise_create(actor=request.user, data=form.changed_data_for_service())
        except ValidationFailed as error:
            form.add_service_errors(error)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Enterprise %(name)s registered.") % {"name": enterprise.name})
            return redirect("enterprises:detail", pk=enterprise.pk)
    return render(request, "enterprises/form.html", {"form": form, "creating": True})


@login_required
@require_http_methods(["GET", "POST"])
def enterprise_edit(request, pk):
    _people_only(request.user)
    enterprise = _get_or_404(request.user, pk)
    fields = services.editable_fields_for(request.user, enterprise)
    if not fields:
        raise PermissionDenied
    form_class = EnterpriseForm if fields == services.EDITABLE_FIELDS else FirmProfileForm
    form = form_class(request.POST or None, instance=enterprise)
    if request.method == "POST" and form.is_valid():
        try:
            services.enterprise_update(actor=request.user, enterprise=enterprise, data=form.changed_data_for_service())
        except ValidationFailed as error:
            form.add_service_errors(error)
        except PermissionDeniedError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("enterprises:detail", pk=enterprise.pk)
    return render(request, "enterprises/form.html", {"form": form, "enterprise": enterprise, "creating": False})
