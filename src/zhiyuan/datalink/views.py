"""Staff pages of the data link: the link's health and outgoing messages, one message with its log
and the dead-letter actions, and the message-log browser with the chain verification.

Only the window clerks and the admin (who act) and the leaders (who watch) see these pages; for
everyone else they do not exist (404).
"""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from zhiyuan.core.errors import DomainError
from zhiyuan.datalink import selectors, services
from zhiyuan.datalink.forms import CorrectMessageForm, LogFilterForm
from zhiyuan.datalink.log import log_verify
from zhiyuan.datalink.models import OutboxMessage, OutboxStatus

OUTBOX_PAGE_SIZE = 25
LOG_PAGE_SIZE = 50


def _viewer(user) -> None:
    if not selectors.can_view(user):
        raise Http404


def _operator(user) -> None:
    _viewer(user)
    if not selectors.can_operate(user):
        raise PermissionDenied


@login_required
@require_GET
def index(request):
    """/datalink/: health cards and the outbox, one tab per status (dead letters first when there are any)."""
    _viewer(request.user)
    counts = selectors.outbox_counts()
    tabs = selectors.outbox_tabs(counts)
    status = request.GET.get("status")
    if status not in tabs:
        status = tabs[0]
    page = Paginator(selectors.outbox_messages(status), OUTBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    labels = selectors.subject_labels([message.subject for message in page])
    for message in page:
        message.subject_url = selectors.subject_link(message.subject)
        message.subject_label = labels.get(message.subject, message.subject)
    context = {
        "health": selectors.link_health(),
        "tabs": [(name, OutboxStatus(name).label, counts[name]) for name in tabs],
        "status": status,
        "page": page,
    }
    return render(request, "datalink/index.html", context)


def _render_message(request, message: OutboxMessage, *, correct_form: CorrectMessageForm | None = None,
                    status: int = 200):
    can_act = selectors.can_operate(request.user) and message.status == OutboxStatus.DEAD
    if can_act and correct_form is None:
        correct_form = CorrectMessageForm(initial={"payload": selectors.pretty_json(message.payload)})
    entries = _annotated(selectors.message_log(message))
    context = {
        "message": message,
        "subject_url": selectors.subject_link(message.subject),
        "payload_json": selectors.pretty_json(message.payload),
        "reply_json": selectors.pretty_json(message.reply),
        "replaced_by": selectors.message_replaced_by(message),
        "entries": entries,
        "can_act": can_act,
        "correct_form": correct_form if can_act else None,
    }
    return render(request, "datalink/message.html", context, status=status)


def _pretty_text(body: str) -> str:
    """A log body as indented JSON when it is JSON, as it is otherwise."""
    try:
        return selectors.pretty_json(json.loads(body))
    except (ValueError, TypeError):
        return body


def _annotated(entries) -> list:
    """Log entries with what the table shows from their `detail`, and their body pretty-printed."""
    entries = list(entries)
    for entry in entries:
        detail = entry.detail if isinstance(entry.detail, dict) else {}
        entry.http_status = detail.get("http_status")
        entry.error_text = str(detail.get("error") or detail.get("reason") or "")
        entry.duration_ms = detail.get("duration_ms")
        entry.pretty_body = _pretty_text(entry.body)
    return entries


@login_required
@require_GET
def message_detail(request, pk: int):
    """/datalink/messages/<pk>/: one outgoing message, its log, and the dead-letter actions."""
    _viewer(request.user)
    message = get_object_or_404(OutboxMessage.objects.select_related("replaces"), pk=pk)
    return _render_message(request, message)


@login_required
@require_POST
def message_retry(request, pk: int):
    """Send a dead letter again as it is."""
    _operator(request.user)
    message = get_object_or_404(OutboxMessage, pk=pk)
    try:
        services.message_retry(actor=request.user, message=message)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The message will be sent again."))
    return redirect("datalink:message", pk=message.pk)


@login_required
@require_POST
def message_correct(request, pk: int):
    """Send a corrected copy of a dead letter as a new message; invalid JSON changes nothing."""
    _operator(request.user)
    message = get_object_or_404(OutboxMessage.objects.select_related("replaces"), pk=pk)
    form = CorrectMessageForm(request.POST)
    if form.is_valid():
        try:
            replacement = services.message_correct(
                actor=request.user, message=message, payload=form.cleaned_data["payload"]
            )
        except DomainError as error:
            if not error.fields:  # e.g. no longer a dead letter: nothing to correct on this page
                messages.error(request, error.message)
                return redirect("datalink:message", pk=message.pk)
            form.add_service_errors(error)
        else:
            messages.success(request, _("The corrected message was queued as a new message."))
            return redirect("datalink:message", pk=replacement.pk)
    message.refresh_from_db()
    return _render_message(request, message, correct_form=form, status=400)


def _render_log(request, *, verification=None):
    form = LogFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    entries = selectors.log_entries(
        direction=filters.get("direction", ""),
        event=filters.get("event", ""),
        message_id=filters.get("message_id", ""),
    )
    page = Paginator(entries, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = _annotated(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "can_verify": selectors.can_verify_log(request.user),
        "verification": verification,
    }
    return render(request, "datalink/log.html", context)


@login_required
@require_GET
def log(request):
    """/datalink/log/: the message log, newest first, with filters."""
    _viewer(request.user)
    return _render_log(request)


@login_required
@require_POST
def log_verify_view(request):
    """Walk the whole hash chain and show the result (the admin only)."""
    _viewer(request.user)
    if not selectors.can_verify_log(request.user):
        raise PermissionDenied
    return _render_log(request, verification=log_verify())
