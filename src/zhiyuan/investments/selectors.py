"""Investment-project reads: scoping, plan-vs-actual figures, behind-plan flags and the dashboard.

Figures are computed in the database with aggregates and subqueries so that a list page costs the
same number of queries whatever the number of projects shown.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from zhiyuan.accounts.models import Role, User
from zhiyuan.accounts.permissions import is_district_staff
from zhiyuan.core.errors import NotFoundError
from zhiyuan.investments.models import (
    Blocker,
    BlockerStatus,
    KeyProject,
    LandProgress,
    LandTarget,
    Milestone,
    MonthlyInvestment,
    Pool,
    Project,
    Stage,
    Status,
)

ZERO = Value(Decimal("0"), output_field=DecimalField(max_digits=16, decimal_places=2))
FIVE_HUNDRED_MILLION = Decimal("50000")  # 5亿元 in 万元


def projects_visible_to(user: User) -> QuerySet[Project]:
    """The one scoping function for projects: district staff see all, a firm user the projects of
    its own enterprise, banks and the city none."""
    base = Project.objects.select_related("enterprise", "industry", "investment_officer", "project_officer")
    if is_district_staff(user):
        return base
    if user and user.is_authenticated and user.role == Role.ENTERPRISE and user.enterprise_id:
        return base.filter(enterprise_id=user.enterprise_id)
    return base.none()


def project_get_for(user: User, pk) -> Project:
    """One project the user may see; NotFoundError otherwise (as for a project that does not exist)."""
    try:
        return projects_visible_to(user).get(pk=pk)
    except (Project.DoesNotExist, ValueError, TypeError):
        raise NotFoundError() from None


def year_elapsed_share(year: int, today: dt.date) -> Decimal:
    """The share of `year` elapsed on `today` (0 before it starts, 1 after it ends)."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    if today < start:
        return Decimal(0)
    if today >= end:
        return Decimal(1)
    return Decimal((today - start).days + 1) / Decimal((end - start).days + 1)


def with_progress(queryset: QuerySet[Project], *, year: int, today: dt.date | None = None) -> QuerySet[Project]:
    """Annotate each project with its `year`'s figures: year_plan, year_done (cumulative this year
    up to today), total_done (since the start), overdue_milestones and open_blockers."""
    today = today or timezone.localdate()
    months = MonthlyInvestment.objects.filter(project=OuterRef("pk"))

    def total(qs):
        return Coalesce(
            Subquery(qs.values("project").annotate(s=Sum("amount")).values("s")[:1]),
            ZERO,
        )

    plan = KeyProject.objects.filter(project=OuterRef("pk"), year=year).values("planned_investment")[:1]
    return queryset.annotate(
        year_plan=Subquery(plan),
        year_done=total(months.filter(month__year=year, month__lte=today)),
        total_done=total(months),
        # The overdue condition is a filtered count over the project's milestones rather than a WHERE
        # clause: with it in the WHERE, SQLite (without ANALYZE statistics) walks the global
        # (actual_on, planned_on) index for every project, which makes a list page quadratic.
        overdue_milestones=Coalesce(
            Subquery(
                Milestone.objects.filter(project=OuterRef("pk"))
                .values("project")
                .annotate(n=Count("id", filter=Q(actual_on__isnull=True, planned_on__lt=today)))
                .values("n")[:1]
            ),
            0,
        ),
        open_blockers=Coalesce(
            Subquery(
                Blocker.objects.filter(project=OuterRef("pk"), status=BlockerStatus.OPEN)
                .values("project")
                .annotate(n=Count("id"))
                .values("n")[:1]
            ),
            0,
        ),
    )


def project_list_rows(filtered: QuerySet[Project], *, year: int, today: dt.date | None = None) -> QuerySet[Project]:
    """The list page's rows: each project of `filtered` once, in its order, annotated by with_progress.

    Filters through to-many tables make `filtered` DISTINCT; selecting by primary key instead keeps
    the page's count query free of the progress subqueries."""
    rows = Project.objects.select_related("enterprise", "industry", "investment_officer", "project_officer").filter(
        pk__in=filtered.order_by().values("pk")
    )
    if filtered.query.order_by:
        rows = rows.order_by(*filtered.query.order_by)
    return with_progress(rows, year=year, today=today)


@dataclass(frozen=True)
class Progress:
    """A project's plan-vs-actual figures for one year."""

    plan: Decimal | None
    done: Decimal
    share: Decimal | None  # done / plan
    elapsed: Decimal  # share of the year elapsed
    behind: bool


def progress_of(project: Project, *, year: int, today: dt.date | None = None) -> Progress:
    """Plan vs completed investment for `year`; behind when a milestone is overdue or the share of
    the plan completed lags the share of the year elapsed by more than the configured points."""
    today = today or timezone.localdate()
    annotated = with_progress(Project.objects.filter(pk=project.pk), year=year, today=today).get()
    return _progress(annotated, year=year, today=today)


def progress_from_annotated(annotated: Project, *, year: int, today: dt.date | None = None) -> Progress:
    """The Progress of a project already annotated by `with_progress` for `year` (no query)."""
    return _progress(annotated, year=year, today=today or timezone.localdate())


def _progress(annotated: Project, *, year: int, today: dt.date) -> Progress:
    plan = annotated.year_plan
    done = annotated.year_done or Decimal(0)
    elapsed = year_elapsed_share(year, today)
    share = (done / plan) if plan else None
    lag = Decimal(settings.ZHIYUAN_BEHIND_PLAN_POINTS) / 100
    behind = annotated.overdue_milestones > 0 or (share is not None and elapsed - share > lag)
    return Progress(plan=plan, done=done, share=share, elapsed=elapsed, behind=behind)


def pool_counts(user: User) -> dict[str, int]:
    """How many projects the user may see in each pool (every status), keyed by pool value."""
    rows = projects_visible_to(user).order_by().values("pool").annotate(n=Count("id"))
    return {row["pool"]: row["n"] for row in rows}


def key_projects(year: int, *, user: User, today: dt.date | None = None) -> list[tuple[KeyProject, Progress]]:
    """The year's key-project list with each project's progress, in list order."""
    today = today or timezone.localdate()
    visible = projects_visible_to(user).values("pk")
    listings = (
        KeyProject.objects.filter(year=year, project__in=visible)
        .select_related("project", "project__enterprise", "liaison_leader", "responsible_unit")
        .order_by("sequence", "id")
    )
    annotated = {
        p.pk: p for p in with_progress(Project.objects.filter(key_listings__year=year), year=year, today=today)
    }
    return [
        (listing, _progress(annotated[listing.project_id], year=year, today=today))
        for listing in listings
        if listing.project_id in annotated
    ]


def behind_plan(year: int, *, user: User, today: dt.date | None = None) -> list[tuple[KeyProject, Progress]]:
    """The year's key projects that are behind plan (overdue milestone or investment lagging)."""
    return [
        (k, p) for k, p in key_projects(year, user=user, today=today) if p.behind and k.project.status == Status.ACTIVE
    ]


def monthly_series(project: Project) -> list[tuple[dt.date, Decimal, Decimal]]:
    """(month, amount, cumulative) for the project's monthly investment, oldest first."""
    running = Decimal(0)
    series = []
    for month, amount in project.monthly_investments.order_by("month").values_list("month", "amount"):
        running += amount
        series.append((month, amount, running))
    return series


def dashboard(*, user: User, year: int, today: dt.date | None = None) -> dict:
    """The 项目调度 figures: pools and stages, this year's signed/started/completed/in production,
    key projects behind plan, and land acquisition against the year's targets."""
    today = today or timezone.localdate()
    projects = projects_visible_to(user).exclude(status=Status.WITHDRAWN)
    money = Coalesce(Sum("total_investment"), ZERO)
    by_pool = {row["pool"]: row for row in projects.values("pool").annotate(n=Count("id"), investment=money)}
    by_stage = {row["stage"]: row for row in projects.values("stage").annotate(n=Count("id"), investment=money)}
    # This year's figures count up to `today` (the cockpit and the monthly report ask as of a day).
    signed = projects.filter(contract_date__year=year, contract_date__lte=today).aggregate(
        n=Count("id"), investment=money, big=Count("id", filter=Q(total_investment__gte=FIVE_HUNDRED_MILLION))
    )
    year_figures = {
        "signed": signed,
        "started": projects.filter(actual_start__year=year, actual_start__lte=today).count(),
        "completed": projects.filter(actual_completion__year=year, actual_completion__lte=today).count(),
        "in_production": projects.filter(production_date__year=year, production_date__lte=today).count(),
    }
    target = LandTarget.objects.filter(year=year).first()
    land = LandProgress.objects.filter(month__year=year, month__lte=today).aggregate(
        land=Coalesce(Sum("collective_land_mu"), ZERO), housing=Coalesce(Sum("state_housing_m2"), ZERO)
    )
    key = key_projects(year, user=user, today=today)
    return {
        "year": year,
        "pools": [
            (pool, by_pool.get(pool.value, {}).get("n", 0), by_pool.get(pool.value, {}).get("investment", 0))
            for pool in Pool
        ],
        "stages": [
            (stage, by_stage.get(stage.value, {}).get("n", 0), by_stage.get(stage.value, {}).get("investment", 0))
            for stage in Stage
        ],
        "year_figures": year_figures,
        "key_count": len(key),
        "key_plan": sum((p.plan or 0 for _k, p in key), Decimal(0)),
        "key_done": sum((p.done for _k, p in key), Decimal(0)),
        "behind": [(k, p) for k, p in key if p.behind and k.project.status == Status.ACTIVE],
        "land_target": target,
        "land_done": land,
        "stopped": projects.filter(status__in=[Status.STOPPED, Status.POSTPONED]).count(),
        "elapsed": year_elapsed_share(year, today),
    }


def overdue_milestones(today: dt.date) -> QuerySet[Milestone]:
    """Milestones past their planned date and not reached, on active projects."""
    return Milestone.objects.filter(
        actual_on__isnull=True, planned_on__lt=today, project__status=Status.ACTIVE
    ).select_related("project", "project__project_officer", "project__investment_officer")


def overdue_blockers(today: dt.date) -> QuerySet[Blocker]:
    """Open blockers past their due date, except on withdrawn projects (撤 is final: nothing to chase)."""
    return (
        Blocker.objects.filter(status=BlockerStatus.OPEN, due_on__lt=today)
        .exclude(project__status=Status.WITHDRAWN)
        .select_related("project", "project__project_officer", "raised_by", "unit")
    )


def liaison_leader_of(project: Project, year: int) -> User | None:
    """The project's liaison leader on `year`'s key-project list, if listed."""
    listing = KeyProject.objects.filter(project=project, year=year).select_related("liaison_leader").first()
    return listing.liaison_leader if listing else None
