"""The project list table (django-tables2). Rows come annotated by selectors.with_progress, so the
plan/done/share columns cost no query per row."""

import django_tables2 as tables
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from zhiyuan.investments.models import Project, Status
from zhiyuan.investments.selectors import progress_from_annotated

STATUS_BADGES = {
    Status.ACTIVE: "bg-success",
    Status.STOPPED: "bg-danger",
    Status.POSTPONED: "bg-warning text-dark",
    Status.WITHDRAWN: "bg-secondary",
}


def status_badge(project: Project) -> str:
    return format_html(
        '<span class="badge {}" data-status="{}">{}</span>',
        STATUS_BADGES.get(project.status, "bg-light text-dark"),
        project.status,
        project.get_status_display(),
    )


def money(value) -> str:
    """万元 amounts with two decimals, grouped the way the active language groups digits."""
    return "—" if value is None else number_format(value, 2, force_grouping=True)


class ProjectTable(tables.Table):
    name = tables.LinkColumn(
        "investments:detail",
        args=[tables.A("pk")],
        verbose_name=_("Project name"),
        attrs={"td": {"class": "text-wrap", "style": "min-width: 12rem"}},
    )
    code = tables.Column(verbose_name=_("Project code"), default="—", attrs={"td": {"class": "small font-monospace"}})
    enterprise = tables.Column(
        verbose_name=_("Investor"),
        order_by=("enterprise__name", "investor_name"),
        attrs={"td": {"class": "text-wrap small", "style": "min-width: 10rem"}},
    )
    stage = tables.Column(verbose_name=_("Stage"))
    pool = tables.Column(verbose_name=_("Pool"))
    status = tables.Column(verbose_name=_("Status"))
    total_investment = tables.Column(
        verbose_name=_("Total investment (10k yuan)"), attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}}
    )
    year_plan = tables.Column(
        verbose_name=_("Plan this year"), attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}}
    )
    year_done = tables.Column(
        verbose_name=_("Done this year"), attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}}
    )
    share = tables.Column(
        verbose_name=_("Share of plan"),
        accessor="pk",
        orderable=False,
        attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}},
    )
    behind = tables.Column(verbose_name=_("Behind plan"), accessor="pk", orderable=False)

    class Meta:
        model = Project
        fields = ["name", "code", "enterprise", "stage", "pool", "status", "total_investment"]
        attrs = {"class": "table table-sm table-hover align-middle small", "data-testid": "project-table"}
        per_page = 25
        empty_text = _("No projects match.")

    def __init__(self, *args, year: int, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.year, self.today = year, today

    def _progress(self, record):
        cache = getattr(record, "_progress_cache", None)
        if cache is None:
            cache = progress_from_annotated(record, year=self.year, today=self.today)
            record._progress_cache = cache
        return cache

    def render_enterprise(self, record):
        return record.enterprise.name if record.enterprise_id else (record.investor_name or "—")

    def value_enterprise(self, record):
        return self.render_enterprise(record)

    def render_status(self, record):
        return status_badge(record)

    def render_total_investment(self, value):
        return money(value)

    def render_year_plan(self, value):
        return money(value)

    def render_year_done(self, record):
        return money(record.year_done) if record.year_plan or record.year_done else "—"

    def render_share(self, record):
        progress = self._progress(record)
        return "—" if progress.share is None else f"{progress.share:.0%}"

    def render_behind(self, record):
        if record.status != Status.ACTIVE or not self._progress(record).behind:
            return ""
        return format_html('<span class="badge bg-danger" data-testid="behind-flag">{}</span>', _("Behind plan"))
