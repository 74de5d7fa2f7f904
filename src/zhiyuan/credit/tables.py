"""Credit tables (django-tables2): the access log, financing needs, loan products, objections and
feed loads."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from zhiyuan.credit.models import FeedLoad, LoanProduct, Objection, ObjectionStatus, ReportAccess
from zhiyuan.servicedesk.models import ServiceRequest

OBJECTION_BADGES = {
    ObjectionStatus.OPEN: "bg-warning text-dark",
    ObjectionStatus.UPHELD: "bg-success",
    ObjectionStatus.REJECTED: "bg-secondary",
    ObjectionStatus.WITHDRAWN: "bg-light text-dark border",
}
TABLE_CLASS = "table table-sm table-hover align-middle small"
RIGHT = {"td": {"class": "text-end"}, "th": {"class": "text-end"}}


def money(value) -> str:
    return "—" if value is None else number_format(value, 2, force_grouping=True)


def objection_badge(objection: Objection) -> str:
    return format_html(
        '<span class="badge {}" data-status="{}">{}</span>',
        OBJECTION_BADGES.get(objection.status, "bg-light text-dark"),
        objection.status,
        objection.get_status_display(),
    )


class AccessTable(tables.Table):
    """Bank requests for a report, granted or refused: what the firm (and the bank) sees."""

    at = tables.DateTimeColumn(verbose_name=_("When"), format="Y-m-d H:i")
    enterprise = tables.Column(verbose_name=_("Enterprise"), order_by=("enterprise__name",))
    bank = tables.Column(verbose_name=_("Bank"), order_by=("bank__name",))
    user = tables.Column(verbose_name=_("User"), order_by=("user__username",))
    purpose = tables.Column(verbose_name=_("Purpose"), default="—")
    granted = tables.Column(verbose_name=_("Result"))
    channel = tables.Column(verbose_name=_("Channel"))

    class Meta:
        model = ReportAccess
        fields = ["at", "enterprise", "bank", "user", "purpose", "granted", "channel"]
        attrs = {"class": TABLE_CLASS, "data-testid": "access-table"}
        order_by = "-at"
        empty_text = _("No bank has asked for the report.")

    def render_enterprise(self, record):
        return record.enterprise.name

    def render_granted(self, value):
        if value:
            return format_html('<span class="badge bg-success" data-granted="1">{}</span>', _("granted"))
        return format_html('<span class="badge bg-danger" data-granted="0">{}</span>', _("refused"))

    def render_channel(self, value):
        return {"web": _("Web"), "api": _("API")}.get(value, value)


class NeedTable(tables.Table):
    """Financing needs: the firm, the need, and how many offers it has."""

    title = tables.LinkColumn(
        "credit:need_detail",
        args=[tables.A("pk")],
        verbose_name=_("Need"),
        attrs={"td": {"class": "text-wrap", "style": "min-width: 12rem"}},
    )
    enterprise = tables.Column(verbose_name=_("Enterprise"), order_by=("enterprise__name",))
    financing_amount = tables.Column(verbose_name=_("Amount (10k yuan)"), attrs=RIGHT, default="—")
    financing_term_months = tables.Column(verbose_name=_("Term (months)"), default="—")
    financing_purpose = tables.Column(verbose_name=_("Purpose"), default="—", attrs={"td": {"class": "text-wrap"}})
    financing_collateral = tables.Column(
        verbose_name=_("Collateral"), default="—", attrs={"td": {"class": "text-wrap"}}
    )
    status = tables.Column(verbose_name=_("Status"))
    received_on = tables.DateColumn(verbose_name=_("Published on"), format="Y-m-d")

    class Meta:
        model = ServiceRequest
        fields = [
            "title",
            "enterprise",
            "financing_amount",
            "financing_term_months",
            "financing_purpose",
            "financing_collateral",
            "status",
            "received_on",
        ]
        attrs = {"class": TABLE_CLASS, "data-testid": "need-table"}
        order_by = "-received_on"
        empty_text = _("No financing needs.")

    def render_enterprise(self, record):
        return record.enterprise.name

    def render_financing_amount(self, value):
        return money(value)


class ProductTable(tables.Table):
    """Loan products with what they lend to; a bank gets an edit link on its own."""

    name = tables.Column(verbose_name=_("Product"), attrs={"td": {"class": "text-wrap fw-semibold"}})
    bank = tables.Column(verbose_name=_("Bank"), order_by=("bank__name",))
    amount = tables.Column(verbose_name=_("Amount (10k yuan)"), accessor="amount_min", attrs=RIGHT)
    term = tables.Column(verbose_name=_("Term (months)"), accessor="term_min_months")
    rate = tables.Column(verbose_name=_("Rate (%/year)"), accessor="rate_min")
    min_grade = tables.Column(verbose_name=_("Lowest grade"))
    industry_sections = tables.Column(verbose_name=_("Industry sections"), orderable=False)
    collateral_required = tables.BooleanColumn(verbose_name=_("Collateral"))
    is_active = tables.Column(verbose_name=_("Published"))
    edit = tables.Column(verbose_name="", accessor="pk", orderable=False)

    class Meta:
        model = LoanProduct
        fields = ["name", "bank", "min_grade", "industry_sections", "collateral_required", "is_active"]
        sequence = ["name", "bank", "amount", "term", "rate", "min_grade", "industry_sections", "collateral_required"]
        attrs = {"class": TABLE_CLASS, "data-testid": "product-table"}
        order_by = "bank"
        empty_text = _("No loan products.")

    def __init__(self, *args, own: bool = False, **kwargs):
        super().__init__(*args, exclude=[] if own else ["edit", "is_active"], **kwargs)

    def render_amount(self, record):
        return f"{money(record.amount_min)} – {money(record.amount_max)}"

    def render_term(self, record):
        return f"{record.term_min_months} – {record.term_max_months}"

    def render_rate(self, record):
        return f"{record.rate_min} – {record.rate_max}"

    def render_min_grade(self, value):
        return value or _("any")

    def render_industry_sections(self, value):
        return ", ".join(value) if value else _("any")

    def render_is_active(self, value):
        if value:
            return format_html('<span class="badge bg-success">{}</span>', _("published"))
        return format_html('<span class="badge bg-secondary">{}</span>', _("not published"))

    def render_edit(self, record):
        return format_html(
            '<a class="btn btn-sm btn-outline-primary" href="{}" data-testid="edit-product">{}</a>',
            reverse("credit:product_edit", args=[record.pk]),
            _("Edit"),
        )


class ObjectionTable(tables.Table):
    """Objections: the open ones first (the selector's order), overdue ones in red."""

    record_label = tables.LinkColumn(
        "credit:objection_detail",
        args=[tables.A("pk")],
        verbose_name=_("Record"),
        orderable=False,
        attrs={"td": {"class": "text-wrap", "style": "min-width: 14rem"}},
    )
    enterprise = tables.Column(verbose_name=_("Enterprise"), orderable=False)
    status = tables.Column(verbose_name=_("Status"), orderable=False)
    raised_at = tables.DateTimeColumn(verbose_name=_("Raised at"), format="Y-m-d", orderable=False)
    due_on = tables.Column(verbose_name=_("Answer due"), orderable=False, default="—")
    answered_at = tables.DateTimeColumn(verbose_name=_("Answered at"), format="Y-m-d", orderable=False, default="—")

    class Meta:
        attrs = {"class": TABLE_CLASS, "data-testid": "objection-table"}
        row_attrs = {"class": lambda record, table: "table-danger" if table.is_overdue(record) else ""}
        empty_text = _("No objections.")

    def __init__(self, *args, today, firm_view: bool = False, **kwargs):
        super().__init__(*args, exclude=["enterprise"] if firm_view else [], **kwargs)
        self.today = today

    def is_overdue(self, record) -> bool:
        return record.status == ObjectionStatus.OPEN and record.due_on is not None and record.due_on < self.today

    def render_enterprise(self, record):
        return record.enterprise.name

    def render_status(self, record):
        return objection_badge(record)

    def render_due_on(self, record, value):
        if self.is_overdue(record):
            return format_html(
                '<span class="text-danger fw-bold" data-testid="overdue">{} {}</span>',
                value.isoformat(),
                format_html('<span class="badge bg-danger">{}</span>', _("overdue")),
            )
        return value.isoformat()


class FeedLoadTable(tables.Table):
    """Deliveries of the feeds: which source, when, by whom, how many rows."""

    loaded_at = tables.DateTimeColumn(verbose_name=_("Loaded at"), format="Y-m-d H:i")
    feed = tables.Column(verbose_name=_("Data source"))
    source = tables.Column(verbose_name=_("Supplied by"))
    channel = tables.Column(verbose_name=_("Channel"))
    file_name = tables.Column(verbose_name=_("File"), default="—")
    rows = tables.Column(verbose_name=_("Rows"), attrs=RIGHT)
    loaded_by = tables.Column(verbose_name=_("Loaded by"), default="—")
    is_synthetic = tables.Column(verbose_name="")

    class Meta:
        model = FeedLoad
        fields = ["loaded_at", "feed", "source", "channel", "file_name", "rows", "loaded_by", "is_synthetic"]
        attrs = {"class": TABLE_CLASS, "data-testid": "load-table"}
        order_by = "-loaded_at"
        empty_text = _("No feed has been loaded yet.")

    def render_is_synthetic(self, value):
        if value:
            return format_html('<span class="badge bg-warning text-dark">{}</span>', _("synthetic"))
        return ""
