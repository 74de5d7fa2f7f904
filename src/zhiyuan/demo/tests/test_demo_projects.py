"""The demo investment projects: the right year figures for any day, loaded through the services, idempotent."""

import datetime as dt
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from zhiyuan.accounts.models import Organisation, OrganisationKind, Role, User
from zhiyuan.core.models import AuditEntry
from zhiyuan.demo.data import DEMO_PASSWORD
from zhiyuan.demo.projects import (
    COMPLETED_COUNT,
    DEMO_LEADERS,
    KEY_PROJECT_COUNT,
    SIGNED_BIG_COUNT,
    SIGNED_COUNT,
    SIGNED_TOTAL,
    STARTED_COUNT,
    UNITS,
    demo_projects,
    demo_projects_load,
)
from zhiyuan.demo.services import demo_load
from zhiyuan.investments.codes import project_code_error
from zhiyuan.investments.models import (
    POOL_OF_STAGE,
    Blocker,
    BlockerStatus,
    Decision,
    DecisionKind,
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
from zhiyuan.investments.selectors import dashboard, projects_visible_to

CODE = re.compile(r"^\d{4}-430202-\d{2}-03-\d{6}$")
NAMED = {
    "汉德车桥株洲智能制造基地一期": ("汉德车桥(株洲)齿轮有限公司", Stage.UNDER_CONSTRUCTION),
    "稀美泰新材料项目": ("湖南稀美泰新材料科技有限公司", Stage.UNDER_CONSTRUCTION),
    "好媳妇日用品智能制造基地": ("好媳妇日用品(株洲)有限公司", Stage.PREPARING),
    "怡亚通金巢现代工业园": ("株洲怡亚通金巢供应链管理有限公司", Stage.PREPARING),
    "宏远机械轨道交通零部件生产项目": ("株洲宏远机械有限公司", Stage.SIGNED),
    "株洲市农副产品批发交易物流中心一期": ("株洲市农副产品批发交易物流中心有限公司", Stage.IN_PRODUCTION),
    "湖南建工集团装配式建筑基地": ("湖南建工集团株洲装配式建筑有限公司", Stage.IN_PRODUCTION),
    "中天杭萧钢构装配式建筑产业基地": ("株洲中天杭萧钢构科技有限公司", Stage.UNDER_CONSTRUCTION),
    "飞鹿高分子涂料生产基地": ("株洲飞鹿高新材料技术股份有限公司", Stage.IN_PRODUCTION),
    "朗润磁电科技磁性材料生产项目": ("株洲朗润磁电科技有限公司", Stage.IN_PRODUCTION),
    "金城华亿电商服饰产业园": ("株洲金城华亿服饰电子商务有限公司", Stage.UNDER_CONSTRUCTION),
    "硬质合金配套产业园": ("株洲硬质合金集团有限公司", Stage.UNDER_CONSTRUCTION),
    "医学健康产业园": (None, Stage.NEGOTIATING),
}


def in_year(day: dt.date | None, year: int) -> bool:
    return day is not None and day.year == year


def year_figures(projects, year: int) -> dict:
    signed = [p for p in projects if in_year(p.contract_on, year)]
    return {
        "signed": len(signed),
        "big": sum(p.total_investment >= 50000 for p in signed),
        "investment": sum(p.total_investment for p in signed),
        "started": sum(in_year(p.start_on, year) for p in projects),
        "completed": sum(in_year(p.completion_on, year) for p in projects),
        "completed_or_production": sum(
            in_year(p.completion_on, year) or in_year(p.production_on, year) for p in projects
        ),
    }


EXPECTED = {
    "signed": SIGNED_COUNT,
    "big": SIGNED_BIG_COUNT,
    "investment": SIGNED_TOTAL,
    "started": STARTED_COUNT,
    "completed": COMPLETED_COUNT,
    "completed_or_production": COMPLETED_COUNT,
}


@pytest.mark.parametrize(
    "today",
    [None, dt.date(2027, 1, 1), dt.date(2028, 2, 29), dt.date(2029, 7, 15), dt.date(2030, 12, 31)],
    ids=["today", "new-year", "leap-day", "mid-year", "year-end"],
)
def test_projects_are_consistent_for_any_day(today):
    today = today or timezone.localdate()
    projects = demo_projects(today)
    assert projects == demo_projects(today)
    assert len({p.name for p in projects}) == len(projects)
    assert set(NAMED) <= {p.name for p in projects}
    assert KEY_PROJECT_COUNT == 135
    # The source's figures: this year (as of today) and last year alike.
    assert year_figures(projects, today.year) == EXPECTED
    assert year_figures(projects, today.year - 1) == EXPECTED
    key = [p for p in projects if p.key]
    assert len(key) == KEY_PROJECT_COUNT
    assert sorted(p.key.sequence for p in key) == list(range(1, KEY_PROJECT_COUNT + 1))
    assert {POOL_OF_STAGE[Stage(p.stage)] for p in key} == set(Pool)
    assert {d.kind for p in projects for d in p.decisions} == set(DecisionKind)
    assert {p.key.unit for p in key} <= set(UNITS)
    codes = [p.code for p in projects if p.code]
    assert len(codes) == len(set(codes)) == sum(p.contract_on is not None for p in projects)
    for project in projects:
        dates = [on for _stage, on in project.stage_dates()]
        assert dates == sorted(dates) and all(on <= today for on in dates), project.name
        if project.code:
            assert CODE.match(project.code) and int(project.code[:4]) == project.contract_on.year, project.name
        if project.production_on and project.production_on.year == today.year:
            assert project.completion_on.year == today.year, project.name  # in production this year ⊆ completed
        months = [month for month, _amount in project.monthly]
        if project.start_on:
            last = min(project.completion_on or today, today)
            assert months[0] == project.start_on.replace(day=1) and months[-1] == last.replace(day=1), project.name
            assert all(amount > 0 for _month, amount in project.monthly)
        else:
            assert not months, project.name
        assert all(m.reached_on is None or m.reached_on <= today for m in project.milestones), project.name
        assert all(d.decided_on <= today for d in project.decisions), project.name
        if project.planned_start and project.planned_completion:
            assert project.planned_start <= project.planned_completion, project.name
    # Every project has its stage's data: total investment and a firm once signed.
    assert all(p.total_investment and p.firm for p in projects if p.contract_on)


@pytest.mark.django_db
def test_demo_fills_the_current_dashboard_and_loads_once():
    out = StringIO()
    call_command("demo", "--count", "0", stdout=out)
    today = timezone.localdate()
    year = today.year
    leader = User.objects.get(username="leader")
    figures = dashboard(user=leader, year=year, today=today)

    assert figures["key_count"] == KEY_PROJECT_COUNT
    signed = figures["year_figures"]["signed"]
    assert (signed["n"], signed["big"], signed["investment"]) == (SIGNED_COUNT, SIGNED_BIG_COUNT, SIGNED_TOTAL)
    assert figures["year_figures"]["started"] == STARTED_COUNT
    assert figures["year_figures"]["completed"] == COMPLETED_COUNT
    completed_or_production = Project.objects.filter(actual_completion__year=year) | Project.objects.filter(
        production_date__year=year
    )
    assert completed_or_production.exclude(status=Status.WITHDRAWN).distinct().count() == COMPLETED_COUNT
    assert 0 < figures["year_figures"]["in_production"] < COMPLETED_COUNT
    assert figures["behind"], "some key projects are behind plan"
    assert figures["stopped"] >= 2
    assert (figures["land_target"].collective_land_mu, figures["land_target"].state_housing_m2) == (3500, 60000)
    assert 0 < figures["land_done"]["land"] <= 3500 and 0 < figures["land_done"]["housing"] <= 60000
    listings = KeyProject.objects.filter(year=year).select_related("project", "responsible_unit", "liaison_leader")
    assert {k.project.pool for k in listings} == set(Pool.values)
    assert all(k.responsible_unit.kind == OrganisationKind.DISTRICT for k in listings)
    assert {k.liaison_leader.username for k in listings} == {"leader", *(p.username for p in DEMO_LEADERS)}
    assert set(Decision.objects.values_list("kind", flat=True)) == set(DecisionKind.values)
    assert Project.objects.filter(status=Status.WITHDRAWN).exists()
    assert Blocker.objects.filter(status=BlockerStatus.OPEN, due_on__lt=today).exists()
    assert Blocker.objects.filter(status=BlockerStatus.RESOLVED).exists()
    assert Milestone.objects.filter(actual_on__isnull=True, planned_on__lt=today).exists()
    assert Milestone.objects.filter(actual_on__isnull=False).exists()

    # Everything is demo data, written through the audited services, with valid codes and dates in order.
    assert not Project.objects.filter(is_demo=False).exists()
    projects = Project.objects.select_related("enterprise")
    created = AuditEntry.objects.filter(action="investments.project.created")
    assert created.count() == projects.count() > KEY_PROJECT_COUNT
    assert AuditEntry.objects.filter(action="investments.project.investment_recorded").count() == (
        MonthlyInvestment.objects.count()
    )
    for project in projects:
        if project.code:
            assert project_code_error(project.code) is None, project.code
        dates = [project.contract_date, project.actual_start, project.actual_completion, project.production_date]
        present = [d for d in dates if d]
        assert present == sorted(present) and all(d <= today for d in present), project.name
    for entry in MonthlyInvestment.objects.select_related("project"):
        assert entry.project.actual_start.replace(day=1) <= entry.month <= today.replace(day=1)
    for name, (firm, stage) in NAMED.items():
        project = Project.objects.get(name=name)
        assert project.stage == stage, name
        assert (project.enterprise.name if project.enterprise else None) == firm, name
    # The firm users see their own firm's projects only.
    assert [p.name for p in projects_visible_to(User.objects.get(username="firm_a"))] == ["硬质合金配套产业园"]
    assert [p.name for p in projects_visible_to(User.objects.get(username="firm_b"))] == ["飞鹿高分子涂料生产基地"]
    for persona in DEMO_LEADERS:
        user = User.objects.get(username=persona.username)
        assert user.role == Role.LEADER and user.check_password(DEMO_PASSWORD)
        assert persona.username in out.getvalue()
    assert Organisation.objects.filter(name__in=UNITS, kind=OrganisationKind.DISTRICT).count() == len(UNITS)
    assert f"{KEY_PROJECT_COUNT}" in out.getvalue()

    def counts():
        return [
            model.objects.count()
            for model in (Project, KeyProject, MonthlyInvestment, Milestone, Blocker, Decision, LandTarget,
                          LandProgress, User, Organisation, AuditEntry)
        ]

    before = counts()
    report = demo_load(count=0)
    from_targets = Project.objects.filter(chain_target__isnull=False).count()  # the chain demo's lead
    assert report.projects.projects_created == 0 and report.projects.projects_existing == before[0] - from_targets
    assert report.projects.land_entries == 0 and report.users_created == 0
    assert counts() == before


@pytest.mark.django_db
def test_a_demo_dated_to_new_year_passes_the_services():
    # The generator dates everything relative to its day: dated to 1 January, every stage date,
    # monthly entry and milestone of "this year" falls on that one day, and the services accept it.
    demo_load(count=0, projects=False)
    new_year = dt.date(timezone.localdate().year, 1, 1)
    report = demo_projects_load(today=new_year)
    assert report.key_listed == KEY_PROJECT_COUNT
    figures = dashboard(user=User.objects.get(username="leader"), year=new_year.year, today=new_year)
    signed = figures["year_figures"]["signed"]
    assert (signed["n"], signed["big"], signed["investment"]) == (SIGNED_COUNT, SIGNED_BIG_COUNT, SIGNED_TOTAL)
    assert (figures["year_figures"]["started"], figures["year_figures"]["completed"]) == (
        STARTED_COUNT,
        COMPLETED_COUNT,
    )
    assert not MonthlyInvestment.objects.filter(month__gt=new_year).exists()
    assert LandProgress.objects.filter(month__year=new_year.year).count() == 1
