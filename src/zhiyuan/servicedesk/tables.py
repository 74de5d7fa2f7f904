"""Request tables (django-tables2): the firm's own list, the desk's queue, all requests, and the
financing needs shown to banks."""

import django_tables2 as tables
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from zhiyuan.servicedesk.models import RequestStatus, ServiceRequest

STATUS_BADGES = {
    RequestStatus.SUBMITTED: "bg-secondary",
    RequestStatus.SIGNED_FOR: "bg-info text-dark",
    RequestStatus.IN_PROGRESS: "bg-primary",
    RequestStatus.WAITING_FOR_FIRM: "bg-warning text-dark",
    RequestStatus.RESOLVED: "bg-success",
    RequestStatus.REOPENED: "bg-danger",
    RequestStatus.CLOSED: "bg-dark",
}
OPEN = {
    RequestStatus.SUBMITTED,
    RequestStatus.SIGNED_FOR,
    RequestStatus.IN_PROGRESS,
    RequestStatus.WAITING_FOR_FIRM,
    RequestStatus.REOPENED,
}


def status_badge(req: ServiceRequest) -> str:
    return format_html(
        '<span class="badge {}" data-status="{}">{}</span>',
        STATUS_BADGES.get(req.status, "bg-light text-dark"),
        req.status,
        req.get_status_display(),
    )


def next_due(req: ServiceRequest):
    """The deadline the request runs against now: sign for, then first reply, then resolution."""
    if req.signed_for_on is None:
        return req.sign_for_due
    if req.first_reply_on is None:
        return req.reply_due
    return req.resolve_due


def due_badge(req: ServiceRequest, today) -> str:
    """The next deadline, red when passed (paused while waiting for the firm)."""
    if req.status not in OPEN:
        return "—"
    due = next_due(req)
    if req.status == RequestStatus.WAITING_FOR_FIRM:
        return format_html('{} <span class="badge bg-warning text-dark">{}</span>', due, _("paused"))
    if due < today:
        return format_html(
            '<span class="text-danger fw-bold" data-testid="overdue">{} <span class="badge bg-danger">{}</span></span>',
            due,
            _("overdue"),
        )
    return format_html("{}", due)


def escalation_badge(req: ServiceRequest) -> str:
    if not req.escalation_level:
        return ""
    label = _("escalated to the leader") if req.escalation_level >= 2 else _("escalated to the department head")
    return format_html(
        ' <span class="badge bg-danger-subtle text-danger-emphasis" data-testid="escalated">{}</span>', label
    )


class RequestTable(tables.Table):
    id = tables.Column(verbose_name=_("No."), attrs={"td": {"class": "text-muted small"}})
    title = tables.LinkColumn(
        "servicedesk:detail",
        args=[tables.A("pk")],
        verbose_name=_("Subject"),
        attrs={"td": {"class": "text-wrap", "style": "min-width: 14rem"}},
    )
    enterprise = tables.Column(
        verbose_name=_("Enterprise"), order_by=("enterprise__name",), attrs={"td": {"class": "text-wrap small"}}
    )
    category = tables.Column(verbose_name=_("Category"))
    channel = tables.Column(verbose_name=_("Channel"))
    status = tables.Column(verbose_name=_("Status"))
    received_on = tables.Column(verbose_name=_("Received on"))
    due = tables.Column(verbose_name=_("Next deadline"), accessor="resolve_due", orderable=False)
    assignee = tables.Column(verbose_name=_("Handled by"), default="—", order_by=("assignee__username",))
    rating = tables.Column(verbose_name=_("Rating"), default="—")

    class Meta:
        model = ServiceRequest
        fields = ["id", "title", "enterprise", "category", "channel", "status", "received_on", "assignee", "rating"]
        sequence = ["id", "title", "enterprise", "category", "channel", "status", "received_on", "due", "assignee"]
        attrs = {"class": "table table-sm table-hover align-middle small", "data-testid": "request-table"}
        order_by = "-received_on"
        empty_text = _("No requests match.")

    def __init__(self, *args, today, firm_view: bool = False, **kwargs):
        exclude = ["enterprise", "assignee"] if firm_view else []
        super().__init__(*args, exclude=exclude, **kwargs)
        self.today, self.firm_view = today, firm_view

    def render_enterprise(self, record):
        return record.enterprise.short_name or record.enterprise.name

    def render_status(self, record):
        # Escalation (督办) is internal: the firm sees the status only.
        return (
            status_badge(record)
            if self.firm_view
            else format_html("{}{}", status_badge(record), escalation_badge(record))
        )

    def render_due(self, record):
        return due_badge(record, self.today)

    def render_rating(self, value):
        return "★" * value if value else "—"


class QueueTable(tables.Table):
    """Open requests owned by the user or their department, most urgent first (the selector's order)."""

    sla = tables.Column(verbose_name=_("Time left"), accessor="pk", orderable=False)
    title = tables.LinkColumn(
        "servicedesk:detail",
        args=[tables.A("pk")],
        verbose_name=_("Subject"),
        orderable=False,
        attrs={"td": {"class": "text-wrap", "style": "min-width: 14rem"}},
    )
    enterprise = tables.Column(verbose_name=_("Enterprise"), orderable=False, attrs={"td": {"class": "text-wrap"}})
    category = tables.Column(verbose_name=_("Category"), orderable=False)
    channel = tables.Column(verbose_name=_("Channel"), orderable=False)
    status = tables.Column(verbose_name=_("Status"), orderable=False)
    received_on = tables.Column(verbose_name=_("Received on"), orderable=False)
    due = tables.Column(verbose_name=_("Next deadline"), accessor="resolve_due", orderable=False)
    assignee = tables.Column(verbose_name=_("Handled by"), default="—", orderable=False)

    class Meta:
        attrs = {"class": "table table-sm table-hover align-middle", "data-testid": "queue-table"}
        row_attrs = {"class": lambda record, table: "table-danger" if _is_overdue(record, table.today) else ""}
        empty_text = _("Nothing waiting for you.")

    def __init__(self, *args, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def render_sla(self, record):
        days = getattr(record, "workdays_left", None)
        if record.status == RequestStatus.WAITING_FOR_FIRM:
            return format_html('<span class="badge bg-warning text-dark">{}</span>', _("paused"))
        if days is None:
            return "—"
        if days < 0:
            text = ngettext("%(n)s working day overdue", "%(n)s working days overdue", -days) % {"n": -days}
            return format_html('<span class="badge bg-danger" data-testid="overdue">{}</span>', text)
        text = ngettext("%(n)s working day", "%(n)s working days", days) % {"n": days}
        return format_html(
            '<span class="badge {}">{}</span>', "bg-warning text-dark" if days <= 1 else "bg-success", text
        )

    def render_enterprise(self, record):
        return record.enterprise.short_name or record.enterprise.name

    def render_status(self, record):
        return format_html("{}{}", status_badge(record), escalation_badge(record))

    def render_due(self, record):
        return due_badge(record, self.today)


def _is_overdue(record, today) -> bool:
    return record.status in OPEN and record.status != RequestStatus.WAITING_FOR_FIRM and next_due(record) < today


class FinancingNeedTable(tables.Table):
    """What a bank sees: the firm, and the need it published; nothing else of the request."""

    enterprise = tables.Column(verbose_name=_("Enterprise"), order_by=("enterprise__name",))
    financing_amount = tables.Column(
        verbose_name=_("Amount (10k yuan)"), attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}}
    )
    financing_term_months = tables.Column(verbose_name=_("Term (months)"), default="—")
    financing_purpose = tables.Column(verbose_name=_("Purpose"), default="—", attrs={"td": {"class": "text-wrap"}})
    financing_collateral = tables.Column(
        verbose_name=_("Collateral"), default="—", attrs={"td": {"class": "text-wrap"}}
    )
    received_on = tables.Column(verbose_name=_("Published on"))

    class Meta:
        attrs = {"class": "table table-sm table-hover align-middle", "data-testid": "financing-table"}
        order_by = "-received_on"
        empty_text = _("No financing needs have been published to banks.")

    def render_enterprise(self, record):
        return record.enterprise.name

    def render_financing_amount(self, value):
        return number_format(value, 2, force_grouping=True)
