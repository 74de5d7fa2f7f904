"""The application list (django-tables2); the badges and the clock come from the same templates as
the application page."""

import django_tables2 as tables
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from zhiyuan.approvals.models import Application
from zhiyuan.approvals.selectors import application_clock
from zhiyuan.core.workdays import WorkCalendar


def status_badge(application: Application) -> str:
    return render_to_string("approvals/_status.html", {"app": application})


def clock_badge(application: Application, *, today, calendar: WorkCalendar) -> str:
    clock = application_clock(application, today=today, calendar=calendar)
    return render_to_string("approvals/_clock.html", {"clock": clock, "today": today})


class ApplicationTable(tables.Table):
    number = tables.LinkColumn("approvals:detail", args=[tables.A("pk")], verbose_name=_("Number"))
    item = tables.Column(verbose_name=_("Approval item"), order_by=("item__order", "item__name"),
                         attrs={"td": {"class": "text-wrap"}})
    enterprise = tables.Column(verbose_name=_("Enterprise"), order_by=("enterprise__name",),
                               attrs={"td": {"class": "text-wrap small"}})
    project = tables.Column(verbose_name=_("Project"), order_by=("project__name",),
                            attrs={"td": {"class": "text-wrap small"}})
    status = tables.Column(verbose_name=_("Status"))
    received_on = tables.DateColumn(verbose_name=_("Received at the window on"), format="Y-m-d", default="—")
    clock = tables.Column(verbose_name=_("Deadline"), accessor="pk", orderable=False)
    created_at = tables.DateTimeColumn(verbose_name=_("Started"), format="Y-m-d")

    class Meta:
        attrs = {"class": "table table-sm table-hover align-middle small", "data-testid": "application-table"}
        order_by = "-created_at"
        empty_text = _("No applications match.")

    def __init__(self, *args, today, firm_view: bool = False, **kwargs):
        super().__init__(*args, exclude=["enterprise"] if firm_view else [], **kwargs)
        self.today = today
        self.calendar = WorkCalendar()

    def render_enterprise(self, record):
        return record.enterprise.short_name or record.enterprise.name

    def render_project(self, record):
        return record.project.name

    def render_status(self, record):
        return status_badge(record)

    def render_clock(self, record):
        return clock_badge(record, today=self.today, calendar=self.calendar)
