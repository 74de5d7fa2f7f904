"""Investment-project reads: plan vs actual (cumulative, share, elapsed share of the year, behind
plan), the monthly series, the 项目调度 dashboard figures and who may see which project.

Read-side tests build their rows with the ORM (the write rules are covered in test_services.py),
so that each figure below can be checked against numbers worked out by hand.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser

from zhiyuan.accounts.models import Organisation, OrganisationKind
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
from zhiyuan.investments.selectors import (
    behind_plan,
    dashboard,
    key_projects,
    monthly_series,
    overdue_blockers,
    overdue_milestones,
    progress_of,
    project_get_for,
    projects_visible_to,
    with_progress,
    year_elapsed_share,
)

D = dt.date
POOL = {
    Stage.LEAD: Pool.ATTRACTION,
    Stage.NEGOTIATING: Pool.ATTRACTION,
    Stage.SIGNED: Pool.RESERVE,
    Stage.PREPARING: Pool.RESERVE,
    Stage.UNDER_CONSTRUCTION: Pool.CONSTRUCTION,
    Stage.COMPLETED: Pool.PRODUCTION,
    Stage.IN_PRODUCTION: Pool.PRODUCTION,
}


def make(name: str, stage: Stage = Stage.UNDER_CONSTRUCTION, **fields) -> Project:
    return Project.objects.create(name=name, stage=stage, pool=POOL[stage], **fields)


def months(project: Project, entries: dict[tuple[int, int], str]) -> None:
    for (year, month), amount in entries.items():
        MonthlyInvestment.objects.create(project=project, month=D(year, month, 1), amount=Decimal(amount))


# --- Elapsed share of the year -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "today", "expected"),
    [
        (2025, D(2024, 12, 31), Decimal(0)),  # before the year
        (2025, D(2025, 1, 1), Decimal(1) / Decimal(365)),
        (2025, D(2025, 3, 15), Decimal(74) / Decimal(365)),  # 31 + 28 + 15
        (2024, D(2024, 3, 15), Decimal(75) / Decimal(366)),  # leap year: 31 + 29 + 15
        (2024, D(2024, 2, 29), Decimal(60) / Decimal(366)),
        (2024, D(2024, 12, 30), Decimal(365) / Decimal(366)),
        (2025, D(2025, 12, 31), Decimal(1)),
        (2025, D(2026, 6, 1), Decimal(1)),  # after the year
    ],
    ids=["before", "jan-1", "mar-15", "leap-mar-15", "leap-feb-29", "leap-dec-30", "dec-31", "after"],
)
def test_year_elapsed_share(year, today, expected):
    assert year_elapsed_share(year, today) == expected


# --- Plan vs actual ----------------------------------------------------------------------------


@pytest.fixture
def tracked(db):
    """A project started in November 2024 with entries on both sides of New Year, on the 2024 and 2025 lists."""
    project = make("硬质合金配套产业园", actual_start=D(2024, 11, 5), total_investment=Decimal("50000"))
    months(
        project,
        {(2024, 11): "300", (2024, 12): "200", (2025, 1): "100", (2025, 2): "150", (2025, 3): "250", (2025, 4): "400"},
    )
    KeyProject.objects.create(project=project, year=2024, planned_investment=Decimal("1000"))
    KeyProject.objects.create(project=project, year=2025, planned_investment=Decimal("1200"))
    return project


@pytest.mark.parametrize(
    ("today", "year_done"),
    [
        (D(2025, 2, 28), Decimal("250")),  # January and February
        (D(2025, 3, 1), Decimal("500")),  # the month counts from its first day
        (D(2025, 3, 15), Decimal("500")),
        (D(2025, 4, 30), Decimal("900")),
        (D(2025, 12, 31), Decimal("900")),
    ],
)
def test_cumulative_of_the_year_counts_only_this_years_months_up_to_today(tracked, today, year_done):
    annotated = with_progress(Project.objects.filter(pk=tracked.pk), year=2025, today=today).get()
    assert annotated.year_plan == Decimal("1200")
    assert annotated.year_done == year_done
    assert annotated.total_done == Decimal("1400")  # every month since the start, both years


def test_progress_share_and_elapsed(tracked):
    progress = progress_of(tracked, year=2025, today=D(2025, 4, 30))
    assert progress.plan == Decimal("1200")
    assert progress.done == Decimal("900")
    assert progress.share == Decimal("0.75")
    assert progress.elapsed == Decimal(120) / Decimal(365)  # 31 + 28 + 31 + 30
    assert progress.behind is False


def test_previous_years_progress_uses_that_years_plan(tracked):
    progress = progress_of(tracked, year=2024, today=D(2025, 4, 30))
    assert (progress.plan, progress.done, progress.share, progress.elapsed) == (
        Decimal("1000"),
        Decimal("500"),
        Decimal("0.5"),
        Decimal(1),
    )
    assert progress.behind is True  # half the plan done with the whole year gone


def test_project_not_on_the_years_list_has_no_plan(tracked):
    progress = progress_of(tracked, year=2023, today=D(2023, 6, 30))
    assert (progress.plan, progress.done, progress.share, progress.behind) == (None, Decimal(0), None, False)


def test_project_with_no_entries_has_zero_done(db):
    project = make("空项目")
    KeyProject.objects.create(project=project, year=2025, planned_investment=Decimal("100"))
    annotated = with_progress(Project.objects.filter(pk=project.pk), year=2025, today=D(2025, 6, 30)).get()
    assert (annotated.year_done, annotated.total_done, annotated.overdue_milestones, annotated.open_blockers) == (
        0,
        0,
        0,
        0,
    )


@pytest.fixture
def half_year(db):
    """Plan 365 in 2025; on 2 July 183 of 365 days have gone, so the lag is (183 − done) / 365."""
    project = make("医学健康产业园", actual_start=D(2025, 1, 2))
    KeyProject.objects.create(project=project, year=2025, planned_investment=Decimal("365"))

    def with_done(amount: str) -> Project:
        MonthlyInvestment.objects.update_or_create(
            project=project, month=D(2025, 6, 1), defaults={"amount": Decimal(amount)}
        )
        return project

    return with_done


TODAY = D(2025, 7, 2)


def test_lag_just_over_the_threshold_is_behind(half_year):
    progress = progress_of(half_year("146.49"), year=2025, today=TODAY)  # lag 36.51/365 = 10.003 points
    assert progress.elapsed == Decimal(183) / Decimal(365)
    assert progress.share == Decimal("146.49") / Decimal("365")
    assert progress.behind is True


def test_lag_just_under_the_threshold_is_not_behind(half_year):
    progress = progress_of(half_year("146.51"), year=2025, today=TODAY)  # lag 36.49/365 = 9.997 points
    assert progress.behind is False


def test_threshold_comes_from_settings(half_year, settings):
    project = half_year("146.49")  # lag 10.003 points
    settings.ZHIYUAN_BEHIND_PLAN_POINTS = 11
    assert progress_of(project, year=2025, today=TODAY).behind is False
    project = half_year("170")  # lag 13/365 = 3.56 points
    settings.ZHIYUAN_BEHIND_PLAN_POINTS = 3
    assert progress_of(project, year=2025, today=TODAY).behind is True
    settings.ZHIYUAN_BEHIND_PLAN_POINTS = 4
    assert progress_of(project, year=2025, today=TODAY).behind is False


def test_ahead_of_plan_is_not_behind(half_year):
    assert progress_of(half_year("365"), year=2025, today=TODAY).behind is False


def test_overdue_milestone_puts_a_project_behind_even_when_investment_is_ahead(half_year):
    project = half_year("365")
    milestone = Milestone.objects.create(project=project, name="主体封顶", planned_on=D(2025, 7, 1))
    progress = progress_of(project, year=2025, today=TODAY)
    assert progress.behind is True
    milestone.actual_on = D(2025, 7, 2)
    milestone.save()
    assert progress_of(project, year=2025, today=TODAY).behind is False


def test_milestone_due_today_is_not_overdue(half_year):
    project = half_year("365")
    Milestone.objects.create(project=project, name="设备进场", planned_on=TODAY)
    assert progress_of(project, year=2025, today=TODAY).behind is False
    assert progress_of(project, year=2025, today=TODAY + dt.timedelta(days=1)).behind is True


def test_counts_of_overdue_milestones_and_open_blockers(db):
    project = make("中天杭萧钢构")
    unit = Organisation.objects.create(name="荷塘区住建局", kind=OrganisationKind.DISTRICT)
    Milestone.objects.create(project=project, name="a", planned_on=D(2025, 3, 1))
    Milestone.objects.create(project=project, name="b", planned_on=D(2025, 5, 1))
    Milestone.objects.create(project=project, name="c", planned_on=D(2025, 4, 1), actual_on=D(2025, 4, 1))
    Milestone.objects.create(project=project, name="d", planned_on=D(2025, 9, 1))
    Blocker.objects.create(project=project, description="x", unit=unit, due_on=D(2025, 1, 1))
    Blocker.objects.create(project=project, description="y", unit=unit, due_on=D(2025, 9, 1))
    Blocker.objects.create(
        project=project, description="z", unit=unit, due_on=D(2025, 1, 1), status=BlockerStatus.RESOLVED
    )
    annotated = with_progress(Project.objects.filter(pk=project.pk), year=2025, today=D(2025, 6, 1)).get()
    assert (annotated.overdue_milestones, annotated.open_blockers) == (2, 2)
    assert sorted(m.name for m in overdue_milestones(D(2025, 6, 1))) == ["a", "b"]
    assert [b.description for b in overdue_blockers(D(2025, 6, 1))] == ["x"]


def test_with_progress_costs_one_query_whatever_the_number_of_projects(db, django_assert_num_queries):
    for i in range(12):
        project = make(f"项目{i}")
        months(project, {(2025, 1): "10", (2025, 2): str(i)})
        KeyProject.objects.create(project=project, year=2025, planned_investment=Decimal("100"))
        Milestone.objects.create(project=project, name="m", planned_on=D(2025, 1, 15))
    with django_assert_num_queries(1):
        rows = list(with_progress(Project.objects.order_by("id"), year=2025, today=D(2025, 6, 1)))
    assert [r.year_done for r in rows] == [Decimal(10 + i) for i in range(12)]
    assert all(r.overdue_milestones == 1 for r in rows)


# --- Key-project list and behind-plan list -----------------------------------------------------


def test_key_projects_in_list_order_and_behind_plan_skips_stopped_projects(db, personas):
    late = make("好媳妇日用品智能制造基地")
    on_track = make("怡亚通金巢现代工业园")
    stopped = make("宏远机械", status=Status.STOPPED)
    for sequence, (project, plan) in enumerate([(on_track, "100"), (late, "1000"), (stopped, "1000")], start=1):
        KeyProject.objects.create(
            project=project,
            year=2025,
            sequence=sequence,
            planned_investment=Decimal(plan),
            liaison_leader=personas["leader"],
        )
    months(on_track, {(2025, 5): "100"})
    rows = key_projects(2025, user=personas["leader"], today=D(2025, 6, 30))
    assert [k.project.name for k, _p in rows] == ["怡亚通金巢现代工业园", "好媳妇日用品智能制造基地", "宏远机械"]
    assert [p.behind for _k, p in rows] == [False, True, True]
    assert [k.project.name for k, _p in behind_plan(2025, user=personas["leader"], today=D(2025, 6, 30))] == [
        "好媳妇日用品智能制造基地"
    ]


def test_key_projects_are_scoped_to_the_user(db, personas, firm_a, firm_b):
    own = make("株硬扩产", enterprise=firm_a)
    other = make("飞鹿新材料", enterprise=firm_b)
    for project in (own, other):
        KeyProject.objects.create(project=project, year=2025, planned_investment=Decimal("100"))
    assert [k.project for k, _p in key_projects(2025, user=personas["firm_a"], today=D(2025, 6, 30))] == [own]
    assert key_projects(2025, user=personas["bank"], today=D(2025, 6, 30)) == []
    assert len(key_projects(2025, user=personas["statistics"], today=D(2025, 6, 30))) == 2


# --- Monthly series ----------------------------------------------------------------------------


def test_monthly_series_is_cumulative_oldest_first(db):
    project = make("湖南建工集团装配式建筑基地")
    months(project, {(2025, 3): "250.50", (2024, 12): "100", (2025, 1): "0", (2025, 2): "149.50"})
    assert monthly_series(project) == [
        (D(2024, 12, 1), Decimal("100"), Decimal("100")),
        (D(2025, 1, 1), Decimal("0"), Decimal("100")),
        (D(2025, 2, 1), Decimal("149.50"), Decimal("249.50")),
        (D(2025, 3, 1), Decimal("250.50"), Decimal("500.00")),
    ]
    assert monthly_series(make("空项目")) == []


# --- Dashboard ---------------------------------------------------------------------------------


@pytest.fixture
def pipeline(db, personas):
    """Ten projects across every stage and status; the figures expected for 2025 are worked out below."""
    m = Decimal
    make("线索A", Stage.LEAD)
    make("洽谈B", Stage.NEGOTIATING, total_investment=m("1000"))
    make("签约C", Stage.SIGNED, contract_date=D(2025, 3, 1), total_investment=m("60000"))
    make("前期D", Stage.PREPARING, contract_date=D(2025, 2, 1), total_investment=m("50000"))  # exactly 5亿元
    e = make(
        "在建E",
        Stage.UNDER_CONSTRUCTION,
        contract_date=D(2024, 5, 1),
        actual_start=D(2025, 4, 1),
        total_investment=m("49999.99"),
    )
    f = make(
        "竣工F",
        Stage.COMPLETED,
        contract_date=D(2023, 1, 1),
        actual_start=D(2023, 6, 1),
        actual_completion=D(2025, 5, 1),
        total_investment=m("30000"),
    )
    make(
        "投产G",
        Stage.IN_PRODUCTION,
        contract_date=D(2022, 1, 1),
        actual_start=D(2022, 6, 1),
        actual_completion=D(2024, 1, 1),
        production_date=D(2025, 2, 1),
        total_investment=m("20000"),
    )
    make(
        "撤H",
        Stage.UNDER_CONSTRUCTION,
        status=Status.WITHDRAWN,
        contract_date=D(2025, 1, 15),
        actual_start=D(2025, 3, 1),
        actual_completion=D(2025, 6, 1),
        production_date=D(2025, 6, 2),
        total_investment=m("80000"),
    )
    i = make("停I", Stage.SIGNED, status=Status.STOPPED, contract_date=D(2025, 4, 1), total_investment=m("10000"))
    make("缓J", Stage.PREPARING, status=Status.POSTPONED, contract_date=D(2024, 8, 1), total_investment=m("5000"))
    KeyProject.objects.create(project=e, year=2025, sequence=1, planned_investment=m("2000"))
    KeyProject.objects.create(project=f, year=2025, sequence=2, planned_investment=m("1000"))
    KeyProject.objects.create(project=i, year=2025, sequence=3, planned_investment=m("500"))
    KeyProject.objects.create(project=f, year=2024, sequence=1, planned_investment=m("9999"))
    months(e, {(2025, 4): "100", (2025, 5): "100"})
    months(f, {(2024, 12): "700", (2025, 1): "600", (2025, 2): "400"})
    LandTarget.objects.create(year=2025, collective_land_mu=m("1000"), state_housing_m2=m("20000"))
    LandTarget.objects.create(year=2024, collective_land_mu=m("1"), state_housing_m2=m("1"))
    LandProgress.objects.create(month=D(2025, 3, 1), collective_land_mu=m("100"), state_housing_m2=m("2000"))
    LandProgress.objects.create(month=D(2025, 5, 1), collective_land_mu=m("50.5"))
    LandProgress.objects.create(month=D(2024, 12, 1), collective_land_mu=m("999"), state_housing_m2=m("999"))


def test_dashboard_pools_and_stages_exclude_withdrawn(pipeline, personas):
    figures = dashboard(user=personas["leader"], year=2025, today=D(2025, 6, 30))
    pools = {pool: (n, investment) for pool, n, investment in figures["pools"]}
    assert pools == {
        Pool.ATTRACTION: (2, Decimal("1000")),
        Pool.RESERVE: (4, Decimal("125000")),  # C, D, stopped I, postponed J
        Pool.CONSTRUCTION: (1, Decimal("49999.99")),  # E; withdrawn H left out
        Pool.PRODUCTION: (2, Decimal("50000")),
    }
    stages = {stage: (n, investment) for stage, n, investment in figures["stages"]}
    assert stages == {
        Stage.LEAD: (1, Decimal("0")),
        Stage.NEGOTIATING: (1, Decimal("1000")),
        Stage.SIGNED: (2, Decimal("70000")),
        Stage.PREPARING: (2, Decimal("55000")),
        Stage.UNDER_CONSTRUCTION: (1, Decimal("49999.99")),
        Stage.COMPLETED: (1, Decimal("30000")),
        Stage.IN_PRODUCTION: (1, Decimal("20000")),
    }
    assert figures["stopped"] == 2


def test_dashboard_this_years_figures(pipeline, personas):
    figures = dashboard(user=personas["leader"], year=2025, today=D(2025, 6, 30))["year_figures"]
    signed = figures["signed"]
    # Signed in 2025: C (60000), D (50000 = 5亿元, counted as ≥ 5亿), stopped I (10000); withdrawn H not.
    assert (signed["n"], signed["investment"], signed["big"]) == (3, Decimal("120000"), 2)
    assert (figures["started"], figures["completed"], figures["in_production"]) == (1, 1, 1)


def test_dashboard_other_year(pipeline, personas):
    figures = dashboard(user=personas["leader"], year=2024, today=D(2024, 12, 31))
    assert figures["year_figures"]["signed"]["n"] == 2  # E and postponed J
    assert figures["year_figures"]["signed"]["big"] == 0
    assert figures["year_figures"]["completed"] == 1  # G
    assert figures["land_target"].collective_land_mu == Decimal("1")
    assert figures["land_done"] == {"land": Decimal("999"), "housing": Decimal("999")}


def test_dashboard_key_projects_land_and_elapsed(pipeline, personas):
    figures = dashboard(user=personas["leader"], year=2025, today=D(2025, 6, 30))
    assert figures["key_count"] == 3
    assert figures["key_plan"] == Decimal("3500")
    assert figures["key_done"] == Decimal("1200")  # E 200 + F 1000 (its December 2024 entry is last year's)
    # E: 10 % of the plan with 181/365 of the year gone → behind; F ahead; stopped I left out.
    assert [k.project.name for k, _p in figures["behind"]] == ["在建E"]
    assert figures["land_target"].year == 2025
    assert figures["land_done"] == {"land": Decimal("150.5"), "housing": Decimal("2000")}
    assert figures["elapsed"] == Decimal(181) / Decimal(365)


def test_dashboard_without_land_target_or_projects(db, personas):
    figures = dashboard(user=personas["leader"], year=2025, today=D(2025, 6, 30))
    assert figures["land_target"] is None
    assert figures["land_done"] == {"land": Decimal("0"), "housing": Decimal("0")}
    assert all(n == 0 for _pool, n, _inv in figures["pools"])
    assert figures["year_figures"]["signed"] == {"n": 0, "investment": Decimal("0"), "big": 0}
    assert (figures["key_count"], figures["behind"]) == (0, [])


def test_dashboard_for_a_firm_counts_only_its_projects(pipeline, personas, firm_a):
    make("株硬扩产", Stage.SIGNED, enterprise=firm_a, contract_date=D(2025, 1, 10), total_investment=Decimal("70000"))
    figures = dashboard(user=personas["firm_a"], year=2025, today=D(2025, 6, 30))
    assert {pool: n for pool, n, _inv in figures["pools"]} == {
        Pool.ATTRACTION: 0,
        Pool.RESERVE: 1,
        Pool.CONSTRUCTION: 0,
        Pool.PRODUCTION: 0,
    }
    assert figures["year_figures"]["signed"] == {"n": 1, "investment": Decimal("70000"), "big": 1}


# --- Scoping -----------------------------------------------------------------------------------


DISTRICT_PERSONAS = [
    "admin",
    "leader",
    "investment",
    "project",
    "service_staff",
    "specialist",
    "window_clerk",
    "statistics",
]


@pytest.fixture
def owned(db, firm_a, firm_b):
    return {
        "a": make("株硬扩产", enterprise=firm_a),
        "b": make("飞鹿新材料", enterprise=firm_b),
        "none": make("无企业线索", Stage.LEAD),
    }


@pytest.mark.parametrize("persona", DISTRICT_PERSONAS)
def test_district_staff_see_every_project(owned, personas, persona):
    assert set(projects_visible_to(personas[persona])) == set(owned.values())
    for project in owned.values():
        assert project_get_for(personas[persona], project.pk) == project


@pytest.mark.parametrize(("persona", "own", "foreign"), [("firm_a", "a", "b"), ("firm_b", "b", "a")])
def test_firm_user_sees_only_its_enterprises_projects(owned, personas, persona, own, foreign):
    user = personas[persona]
    assert list(projects_visible_to(user)) == [owned[own]]
    assert project_get_for(user, owned[own].pk) == owned[own]
    for pk in (owned[foreign].pk, owned["none"].pk):
        with pytest.raises(NotFoundError):
            project_get_for(user, pk)


@pytest.mark.parametrize("persona", ["bank", "city"])
def test_bank_and_city_see_none(owned, personas, persona):
    assert not projects_visible_to(personas[persona]).exists()
    with pytest.raises(NotFoundError):
        project_get_for(personas[persona], owned["a"].pk)


def test_foreign_and_missing_projects_look_the_same(owned, personas):
    missing = Project.objects.order_by("-pk").first().pk + 1000
    errors = []
    for pk in (owned["b"].pk, missing, "abc", None):
        with pytest.raises(NotFoundError) as excinfo:
            project_get_for(personas["firm_a"], pk)
        errors.append((type(excinfo.value), str(excinfo.value), excinfo.value.status))
    assert len(set(errors)) == 1


def test_inactive_and_anonymous_users_see_none(owned, personas):
    leader = personas["leader"]
    leader.is_active = False
    leader.save()
    assert not projects_visible_to(leader).exists()
    assert not projects_visible_to(AnonymousUser()).exists()
