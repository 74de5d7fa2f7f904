"""Project pages: who sees what, every action form calling its service, errors on the right field
with nothing written, and a list page whose query count does not grow with its rows."""

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import number_format

from zhiyuan.conftest import make_uscc
from zhiyuan.core.models import AuditEntry
from zhiyuan.enterprises.models import Enterprise
from zhiyuan.investments.models import (
    Attachment,
    Blocker,
    BlockerStatus,
    Decision,
    FollowUp,
    KeyProject,
    LandProgress,
    LandTarget,
    Milestone,
    MonthlyInvestment,
    Pool,
    Project,
    Stage,
    StageChange,
    Status,
)
from zhiyuan.investments.services import (
    blocker_raise,
    key_project_set,
    lead_create,
    milestone_add,
    monthly_investment_record,
    project_transition,
)

pytestmark = [pytest.mark.django_db, pytest.mark.collection_day]  # dates computed at import

TODAY = timezone.localdate()
DISTRICT_STAFF = [
    "admin",
    "leader",
    "investment",
    "project",
    "service_staff",
    "specialist",
    "window_clerk",
    "statistics",
]


def money(value) -> str:
    """An amount as the (Chinese by default) pages show it."""
    with translation.override("zh-hans"):
        return number_format(Decimal(value), 2, force_grouping=True)


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


def detail_url(project) -> str:
    return reverse("investments:detail", args=[project.pk])


def make_project(
    personas, *, name="汉德车桥株洲智能制造基地一期", stage=Stage.SIGNED, enterprise=None, investment=80000
):
    """A project moved through the real services up to `stage`, with dates in the recent past."""
    project = lead_create(actor=personas["investment"], data={"name": name, "source": "以商招商"})
    if stage == Stage.LEAD:
        return project
    project = project_transition(
        actor=personas["investment"], project=project, to_stage=Stage.NEGOTIATING, on=days_ago(70)
    )
    if stage == Stage.NEGOTIATING:
        return project
    project = project_transition(
        actor=personas["investment"],
        project=project,
        to_stage=Stage.SIGNED,
        data={"contract_date": days_ago(60), "total_investment": Decimal(investment), "enterprise": enterprise},
    )
    if stage == Stage.SIGNED:
        return project
    project = project_transition(actor=personas["project"], project=project, to_stage=Stage.PREPARING, on=days_ago(50))
    if stage == Stage.PREPARING:
        return project
    return project_transition(
        actor=personas["project"],
        project=project,
        to_stage=Stage.UNDER_CONSTRUCTION,
        data={"actual_start": days_ago(40)},
    )


@pytest.fixture
def signed(personas, firm_a):
    return make_project(personas, enterprise=firm_a)


@pytest.fixture
def building(personas, firm_a):
    return make_project(personas, name="稀美泰新材料", stage=Stage.UNDER_CONSTRUCTION, enterprise=firm_a)


# ---------------------------------------------------------------- who sees what


@pytest.mark.parametrize("key", DISTRICT_STAFF)
def test_district_staff_see_the_list_and_the_project_page(login, signed, key):
    client = login(key)
    response = client.get(reverse("investments:list"))
    assert response.status_code == 200
    assert signed.name in response.content.decode()
    page = client.get(detail_url(signed))
    assert page.status_code == 200
    assert 'data-testid="history"' in page.content.decode()


@pytest.mark.parametrize("key", ["bank", "city"])
@pytest.mark.parametrize(
    "url_name", ["investments:list", "investments:dashboard", "investments:key", "investments:create"]
)
def test_banks_and_the_city_see_no_project_page(login, signed, key, url_name):
    client = login(key)
    assert client.get(reverse(url_name)).status_code == 403
    assert client.get(detail_url(signed)).status_code == 403


def test_a_firm_sees_its_own_projects_only_and_no_internal_forms(login, personas, signed, firm_b):
    other = make_project(personas, name="好媳妇日用品智能制造基地", enterprise=firm_b)
    client = login("firm_a")
    listing = client.get(reverse("investments:list")).content.decode()
    assert signed.name in listing and other.name not in listing
    page = client.get(detail_url(signed))
    assert page.status_code == 200
    html = page.content.decode()
    for marker in ("transition-form", "decision-form", "blocker-form", 'data-testid="history"', "follow-up-form"):
        assert marker not in html
    assert client.get(detail_url(other)).status_code == 404
    assert login("firm_b").get(detail_url(signed)).status_code == 404


@pytest.mark.parametrize("key", ["firm_a", "firm_b"])
def test_firms_cannot_open_the_dashboard_or_the_key_list(login, signed, key):
    client = login(key)
    assert client.get(reverse("investments:dashboard")).status_code == 403
    assert client.get(reverse("investments:key")).status_code == 403


def test_a_firm_cannot_post_an_action_on_its_own_project(login, building):
    response = login("firm_a").post(
        reverse("investments:investment", args=[building.pk]), {"month": f"{TODAY:%Y-%m}", "amount": "10"}
    )
    assert response.status_code == 403
    assert not MonthlyInvestment.objects.exists()


def test_firm_b_cannot_post_to_firm_a_project(login, building):
    response = login("firm_b").post(reverse("investments:transition", args=[building.pk]), {"to_stage": "completed"})
    assert response.status_code == 404


def test_leader_sees_the_decision_form_and_the_project_officer_does_not(login, signed):
    assert 'data-testid="decision-form"' in login("leader").get(detail_url(signed)).content.decode()
    officer_page = login("project").get(detail_url(signed)).content.decode()
    assert 'data-testid="decision-form"' not in officer_page
    assert 'data-testid="transition-form"' in officer_page  # signed → 前期 is the project office's move


def test_the_transition_form_goes_to_the_role_that_makes_the_move(login, personas):
    negotiating = make_project(personas, stage=Stage.NEGOTIATING)
    assert 'data-testid="transition-form"' in login("investment").get(detail_url(negotiating)).content.decode()
    assert 'data-testid="transition-form"' not in login("project").get(detail_url(negotiating)).content.decode()
    assert 'data-testid="transition-form"' not in login("leader").get(detail_url(negotiating)).content.decode()


def test_new_lead_button_only_for_attraction_roles(login, signed):
    assert 'data-testid="new-lead"' in login("investment").get(reverse("investments:list")).content.decode()
    assert 'data-testid="new-lead"' not in login("project").get(reverse("investments:list")).content.decode()
    assert login("project").get(reverse("investments:create")).status_code == 403


def test_a_missing_project_is_404(login):
    assert login("leader").get(reverse("investments:detail", args=[999999])).status_code == 404


# ---------------------------------------------------------------- list page


def test_list_filters_by_pool_and_search_and_htmx_returns_the_table_only(login, personas, signed, building):
    client = login("leader")
    construction = client.get(reverse("investments:list"), {"pool": Pool.CONSTRUCTION}).content.decode()
    assert building.name in construction and signed.name not in construction
    found = client.get(reverse("investments:list"), {"q": "稀美泰"}).content.decode()
    assert building.name in found and signed.name not in found
    partial = client.get(reverse("investments:list"), {"q": "稀美泰"}, HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode()
    assert building.name in partial.content.decode()


def test_list_shows_this_years_plan_done_share_and_behind_flag(login, personas, building):
    key_project_set(actor=personas["project"], project=building, year=TODAY.year, planned_investment=Decimal("1000000"))
    monthly_investment_record(actor=personas["project"], project=building, month=TODAY, amount=Decimal("1000"))
    html = login("leader").get(reverse("investments:list")).content.decode()
    assert money(1000000) in html and money(1000) in html
    assert "0%" in html
    elapsed_points = (TODAY - dt.date(TODAY.year, 1, 1)).days / 3.66
    if elapsed_points > 10:  # the share lags the year by more than the threshold
        assert 'data-testid="behind-flag"' in html


@pytest.mark.parametrize(
    "sort", ["name", "-enterprise", "stage", "-status", "total_investment", "-year_plan", "year_done", "-code"]
)
def test_list_sorts_by_every_sortable_column(login, personas, signed, building, sort):
    response = login("leader").get(reverse("investments:list"), {"sort": sort, "key_year": "", "q": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert signed.name in html and building.name in html


def test_dashboard_links_filter_the_list(login, personas, signed, building):
    client = login("leader")
    started = client.get(reverse("investments:list"), {"start_year": TODAY.year, "exclude_withdrawn": "true"})
    html = started.content.decode()
    assert building.name in html and signed.name not in html
    assert 'data-testid="link-filters"' in html
    big = client.get(reverse("investments:list"), {"contract_year": days_ago(60).year, "min_total_investment": 50000})
    assert building.name in big.content.decode()


def _list_query_count(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("investments:list"))
    assert response.status_code == 200
    return len(queries)


def _add_projects(personas, firm, start: int, count: int) -> None:
    unit = personas["project"].organisation
    for i in range(start, start + count):
        project = make_project(personas, name=f"项目{i:03d}", stage=Stage.UNDER_CONSTRUCTION, enterprise=firm)
        key_project_set(
            actor=personas["project"],
            project=project,
            year=TODAY.year,
            planned_investment=Decimal("5000"),
            liaison_leader=personas["leader"],
            responsible_unit=unit,
        )
        monthly_investment_record(actor=personas["project"], project=project, month=TODAY, amount=Decimal("100"))
        milestone_add(actor=personas["project"], project=project, name="主体封顶", planned_on=days_ago(5))
        blocker_raise(actor=personas["project"], project=project, description="征拆", unit=unit, due_on=TODAY)


def test_list_query_count_does_not_grow_with_the_rows(login, personas, firm_a):
    client = login("leader")
    _add_projects(personas, firm_a, 0, 5)
    with_five = _list_query_count(client)
    _add_projects(personas, firm_a, 5, 25)
    with_thirty = _list_query_count(client)
    assert Project.objects.count() == 30
    assert with_thirty == with_five


def test_list_keeps_the_filter_bar_ordering_and_lists_each_project_once(login, personas, signed, building, firm_b):
    unit = personas["project"].organisation
    for year in (TODAY.year - 1, TODAY.year):  # two listings: a join that would repeat the project
        key_project_set(
            actor=personas["project"], project=building, year=year, planned_investment=1, responsible_unit=unit
        )
    client = login("leader")
    by_unit = client.get(reverse("investments:list"), {"responsible_unit": unit.pk}).content.decode()
    assert by_unit.count(f'href="{detail_url(building)}"') == 1
    assert signed.name not in by_unit
    bigger = make_project(personas, name="宏远机械", investment=90000, enterprise=firm_b)
    descending = client.get(reverse("investments:list"), {"ordering": "-total_investment"}).content.decode()
    assert descending.index(bigger.name) < descending.index(building.name)
    ascending = client.get(reverse("investments:list"), {"ordering": "total_investment"}).content.decode()
    assert ascending.index(building.name) < ascending.index(bigger.name)


def test_project_page_query_count_does_not_grow_with_its_records(login, personas, building):
    client = login("leader")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(detail_url(building)).status_code == 200
        return len(queries)

    before = count()
    unit = personas["project"].organisation
    for i in range(6):
        milestone_add(actor=personas["project"], project=building, name=f"节点{i}", planned_on=days_ago(i))
        blocker_raise(actor=personas["project"], project=building, description=f"问题{i}", unit=unit, due_on=TODAY)
    monthly_investment_record(actor=personas["project"], project=building, month=TODAY, amount=Decimal("10"))
    key_project_set(actor=personas["project"], project=building, year=TODAY.year, planned_investment=Decimal("100"))
    assert count() == before


# ---------------------------------------------------------------- transitions


def test_project_officer_moves_signed_to_preparing_then_to_construction(login, signed):
    client = login("project")
    response = client.post(
        reverse("investments:transition", args=[signed.pk]),
        {"to_stage": "preparing", "on": days_ago(30).isoformat(), "planned_start": days_ago(20).isoformat()},
    )
    assert response.status_code == 302
    signed.refresh_from_db()
    assert (signed.stage, signed.pool) == (Stage.PREPARING, Pool.RESERVE)
    assert StageChange.objects.filter(project=signed, to_stage=Stage.PREPARING, on=days_ago(30)).exists()
    response = client.post(
        reverse("investments:transition", args=[signed.pk]),
        {"to_stage": "under_construction", "actual_start": days_ago(10).isoformat()},
    )
    assert response.status_code == 302
    signed.refresh_from_db()
    assert (signed.stage, signed.pool, signed.actual_start) == (
        Stage.UNDER_CONSTRUCTION,
        Pool.CONSTRUCTION,
        days_ago(10),
    )
    page = client.get(detail_url(signed)).content.decode()
    assert 'aria-current="step"' in page and 'data-stage="under_construction"' in page


def test_starting_construction_without_the_actual_start_is_refused_on_that_field(login, personas, firm_a):
    project = make_project(personas, stage=Stage.PREPARING, enterprise=firm_a)
    response = login("project").post(
        reverse("investments:transition", args=[project.pk]), {"to_stage": "under_construction"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-field="actual_start"' in html
    project.refresh_from_db()
    assert project.stage == Stage.PREPARING
    assert not StageChange.objects.filter(project=project, to_stage=Stage.UNDER_CONSTRUCTION).exists()


def test_a_start_date_before_the_previous_stage_is_refused(login, personas, firm_a):
    project = make_project(personas, stage=Stage.PREPARING, enterprise=firm_a)
    response = login("project").post(
        reverse("investments:transition", args=[project.pk]),
        {"to_stage": "under_construction", "actual_start": days_ago(55).isoformat()},
    )
    assert response.status_code == 400
    assert 'data-field="actual_start"' in response.content.decode()
    project.refresh_from_db()
    assert project.stage == Stage.PREPARING


def test_skipping_a_stage_is_refused(login, signed):
    response = login("project").post(
        reverse("investments:transition", args=[signed.pk]),
        {"to_stage": "under_construction", "actual_start": days_ago(10).isoformat()},
    )
    assert response.status_code == 400
    signed.refresh_from_db()
    assert signed.stage == Stage.SIGNED


def test_the_project_officer_cannot_sign(login, personas):
    negotiating = make_project(personas, stage=Stage.NEGOTIATING)
    response = login("project").post(reverse("investments:transition", args=[negotiating.pk]), {"to_stage": "signed"})
    assert response.status_code == 403


def test_signing_registers_a_new_investor_enterprise(login, personas):
    negotiating = make_project(personas, stage=Stage.NEGOTIATING)
    uscc = make_uscc(77)
    response = login("investment").post(
        reverse("investments:transition", args=[negotiating.pk]),
        {
            "to_stage": "signed",
            "contract_date": days_ago(3).isoformat(),
            "total_investment": "60000",
            "land_area_mu": "120",
            "enterprise_mode": "new",
            "new_uscc": uscc,
            "new_name": "湖南汉德车桥有限公司",
            "new_industry": "3660",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    negotiating.refresh_from_db()
    assert negotiating.stage == Stage.SIGNED
    assert negotiating.enterprise == Enterprise.objects.get(uscc=uscc)
    assert negotiating.total_investment == Decimal("60000")


def test_signing_with_a_registered_enterprise_by_uscc(login, personas, firm_b):
    negotiating = make_project(personas, stage=Stage.NEGOTIATING)
    response = login("investment").post(
        reverse("investments:transition", args=[negotiating.pk]),
        {
            "to_stage": "signed",
            "contract_date": days_ago(3).isoformat(),
            "total_investment": "1000",
            "enterprise_mode": "existing",
            "enterprise_ref": firm_b.uscc.lower(),
        },
    )
    assert response.status_code == 302
    negotiating.refresh_from_db()
    assert negotiating.enterprise == firm_b


def test_signing_with_an_unknown_enterprise_or_a_bad_new_uscc_names_the_field(login, personas):
    negotiating = make_project(personas, stage=Stage.NEGOTIATING)
    client = login("investment")
    url = reverse("investments:transition", args=[negotiating.pk])
    base = {"to_stage": "signed", "contract_date": days_ago(3).isoformat(), "total_investment": "1000"}
    unknown = client.post(url, {**base, "enterprise_mode": "existing", "enterprise_ref": "不存在的公司"})
    assert unknown.status_code == 400
    assert 'data-field="enterprise_ref"' in unknown.content.decode()
    bad = client.post(
        url,
        {
            **base,
            "enterprise_mode": "new",
            "new_uscc": "91430202000000000X",
            "new_name": "某公司",
            "new_industry": "3660",
        },
    )
    assert bad.status_code == 400
    assert 'data-field="new_uscc"' in bad.content.decode()
    negotiating.refresh_from_db()
    assert negotiating.stage == Stage.NEGOTIATING
    assert not Enterprise.objects.filter(name="某公司").exists()


def test_enterprise_options_suggest_registered_firms(login, firm_a):
    response = login("investment").get(reverse("investments:enterprise_options"), {"enterprise_ref": "株洲硬质"})
    assert firm_a.uscc in response.content.decode()
    assert login("project").get(reverse("investments:enterprise_options")).status_code == 403


# ---------------------------------------------------------------- monthly investment


def test_recording_monthly_investment_shows_cumulative_and_chart(login, building):
    client = login("project")
    url = reverse("investments:investment", args=[building.pk])
    first = days_ago(40).replace(day=1)
    assert client.post(url, {"month": f"{first:%Y-%m}", "amount": "1200.5"}).status_code == 302
    assert client.post(url, {"month": f"{TODAY:%Y-%m}", "amount": "800"}).status_code == 302
    assert list(MonthlyInvestment.objects.filter(project=building).values_list("amount", flat=True)) == (
        [Decimal("1200.50"), Decimal("800.00")] if first != TODAY.replace(day=1) else [Decimal("800.00")]
    )
    page = client.get(f"{detail_url(building)}?tab=investment").content.decode()
    assert 'data-testid="investment-chart"' in page
    assert "plotly/plotly.min.js" in page
    if first != TODAY.replace(day=1):
        assert money("2000.50") in page  # the cumulative


@pytest.mark.parametrize(
    ("amount", "month"),
    [("abc", None), ("-5", None), ("", None), ("10", "future"), ("10", "before-start")],
)
def test_bad_monthly_investment_names_the_field_and_writes_nothing(login, building, amount, month):
    if month == "future":
        value = (TODAY.replace(day=1) + dt.timedelta(days=32)).strftime("%Y-%m")
        field = "month"
    elif month == "before-start":
        value = (days_ago(40).replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
        field = "month"
    else:
        value = f"{TODAY:%Y-%m}"
        field = "amount"
    response = login("project").post(
        reverse("investments:investment", args=[building.pk]), {"month": value, "amount": amount}
    )
    assert response.status_code == 400
    assert f'data-field="{field}"' in response.content.decode()
    assert not MonthlyInvestment.objects.exists()


def test_monthly_investment_form_waits_for_construction(login, signed):
    page = login("project").get(f"{detail_url(signed)}?tab=investment").content.decode()
    assert 'data-testid="investment-form"' not in page
    response = login("project").post(
        reverse("investments:investment", args=[signed.pk]), {"month": f"{TODAY:%Y-%m}", "amount": "10"}
    )
    assert response.status_code == 400
    assert not MonthlyInvestment.objects.exists()


# ---------------------------------------------------------------- milestones, blockers, follow-ups


def test_milestones_add_reach_and_overdue_in_red(login, building):
    client = login("project")
    url = reverse("investments:milestone_add", args=[building.pk])
    assert client.post(url, {"name": "土地摘牌", "planned_on": days_ago(3).isoformat()}).status_code == 302
    later = (TODAY + dt.timedelta(days=30)).isoformat()
    assert client.post(url, {"name": "主体封顶", "planned_on": later}).status_code == 302
    page = client.get(f"{detail_url(building)}?tab=milestones").content.decode()
    assert page.count('data-overdue="yes"') == 1
    overdue = Milestone.objects.get(name="土地摘牌")
    future = (TODAY + dt.timedelta(days=1)).isoformat()
    refused = client.post(
        reverse("investments:milestone_reached", args=[building.pk, overdue.pk]), {"actual_on": future}
    )
    assert refused.status_code == 400
    assert 'data-field="actual_on"' in refused.content.decode()
    overdue.refresh_from_db()
    assert overdue.actual_on is None
    done = client.post(
        reverse("investments:milestone_reached", args=[building.pk, overdue.pk]), {"actual_on": TODAY.isoformat()}
    )
    assert done.status_code == 302
    overdue.refresh_from_db()
    assert overdue.actual_on == TODAY
    assert 'data-overdue="yes"' not in client.get(detail_url(building)).content.decode()


def test_a_milestone_of_another_project_is_404(login, personas, building, firm_b):
    other = make_project(personas, name="怡亚通金巢现代工业园", stage=Stage.UNDER_CONSTRUCTION, enterprise=firm_b)
    milestone = milestone_add(actor=personas["project"], project=other, name="开工", planned_on=TODAY)
    response = login("project").post(
        reverse("investments:milestone_reached", args=[building.pk, milestone.pk]), {"actual_on": TODAY.isoformat()}
    )
    assert response.status_code == 404


def test_blockers_raise_and_resolve(login, personas, building):
    client = login("project")
    unit = personas["project"].organisation
    url = reverse("investments:blocker_raise", args=[building.pk])
    missing = client.post(url, {"description": "", "unit": unit.pk, "due_on": TODAY.isoformat()})
    assert missing.status_code == 400 and 'data-field="description"' in missing.content.decode()
    assert not Blocker.objects.exists()
    ok = client.post(url, {"description": "供电线路未接入", "unit": unit.pk, "due_on": TODAY.isoformat()})
    assert ok.status_code == 302
    blocker = Blocker.objects.get()
    assert (blocker.unit, blocker.raised_by) == (unit, personas["project"])
    resolve = reverse("investments:blocker_resolve", args=[building.pk, blocker.pk])
    empty = login("leader").post(resolve, {"resolution": ""})
    assert empty.status_code == 400 and 'data-field="resolution"' in empty.content.decode()
    assert login("leader").post(resolve, {"resolution": "电力公司已接入"}).status_code == 302
    blocker.refresh_from_db()
    assert blocker.status == BlockerStatus.RESOLVED
    assert "电力公司已接入" in client.get(f"{detail_url(building)}?tab=blockers").content.decode()


def test_follow_up_is_logged(login, personas):
    project = make_project(personas, stage=Stage.NEGOTIATING)
    client = login("investment")
    response = client.post(
        reverse("investments:follow_up", args=[project.pk]), {"on": TODAY.isoformat(), "note": "第二轮洽谈"}
    )
    assert response.status_code == 302
    assert FollowUp.objects.get().note == "第二轮洽谈"
    assert "第二轮洽谈" in client.get(detail_url(project)).content.decode()


# ---------------------------------------------------------------- decisions


def test_leader_postpones_and_resumes_with_history(login, personas, signed):
    client = login("leader")
    url = reverse("investments:decision", args=[signed.pk])
    no_date = client.post(url, {"kind": "postpone", "reason": "资金未到位", "decided_on": TODAY.isoformat()})
    assert no_date.status_code == 400 and 'data-field="resume_on"' in no_date.content.decode()
    assert not Decision.objects.exists()
    resume_on = (TODAY + dt.timedelta(days=90)).isoformat()
    ok = client.post(
        url, {"kind": "postpone", "reason": "资金未到位", "decided_on": TODAY.isoformat(), "resume_on": resume_on}
    )
    assert ok.status_code == 302
    signed.refresh_from_db()
    assert signed.status == Status.POSTPONED
    page = client.get(f"{detail_url(signed)}?tab=decisions").content.decode()
    assert "资金未到位" in page and str(personas["leader"]) in page
    assert 'data-testid="transition-form"' not in login("project").get(detail_url(signed)).content.decode()
    assert (
        client.post(url, {"kind": "resume", "reason": "资金到位", "decided_on": TODAY.isoformat()}).status_code == 302
    )
    signed.refresh_from_db()
    assert signed.status == Status.ACTIVE
    assert AuditEntry.objects.filter(action="investments.project.resume").exists()


def test_adjust_keeps_before_and_after(login, signed):
    client = login("leader")
    response = client.post(
        reverse("investments:decision", args=[signed.pk]),
        {"kind": "adjust", "reason": "调减规模", "decided_on": TODAY.isoformat(), "adjust_total_investment": "50000"},
    )
    assert response.status_code == 302
    decision = Decision.objects.get()
    before, after = decision.adjustments["total_investment"]
    assert (Decimal(before), Decimal(after)) == (Decimal("80000"), Decimal("50000"))
    signed.refresh_from_db()
    assert signed.total_investment == Decimal("50000")
    page = client.get(f"{detail_url(signed)}?tab=decisions").content.decode()
    assert "<del>80000" in page


def test_adjust_without_a_change_is_refused(login, signed):
    response = login("leader").post(
        reverse("investments:decision", args=[signed.pk]),
        {"kind": "adjust", "reason": "调整", "decided_on": TODAY.isoformat()},
    )
    assert response.status_code == 400
    assert not Decision.objects.exists()


def test_project_officer_cannot_decide(login, signed):
    response = login("project").post(
        reverse("investments:decision", args=[signed.pk]),
        {"kind": "stop", "reason": "x", "decided_on": TODAY.isoformat()},
    )
    assert response.status_code == 403
    signed.refresh_from_db()
    assert signed.status == Status.ACTIVE


def test_withdrawn_project_offers_no_more_actions(login, signed):
    login("leader").post(
        reverse("investments:decision", args=[signed.pk]),
        {"kind": "withdraw", "reason": "企业撤资", "decided_on": TODAY.isoformat()},
    )
    signed.refresh_from_db()
    assert signed.status == Status.WITHDRAWN
    page = login("project").get(detail_url(signed)).content.decode()
    assert 'data-testid="transition-form"' not in page and 'data-testid="milestone-form"' not in page
    assert 'data-testid="decision-form"' not in login("leader").get(detail_url(signed)).content.decode()


# ---------------------------------------------------------------- attachments, key listing, edit, create


def test_attachment_upload_lists_size_and_hash_and_downloads(login, building, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = login("project")
    content = b"%PDF-1.4 test document"
    upload = SimpleUploadedFile("批复.pdf", content, content_type="application/pdf")
    response = client.post(
        reverse("investments:attachment_add", args=[building.pk]), {"file": upload, "caption": "用地批复"}
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    page = client.get(f"{detail_url(building)}?tab=attachments").content.decode()
    assert hashlib.sha256(content).hexdigest()[:12] in page and "用地批复" in page
    download = client.get(reverse("investments:attachment", args=[building.pk, attachment.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert login("firm_a").get(reverse("investments:attachment", args=[building.pk, attachment.pk])).status_code == 404
    bad = client.post(
        reverse("investments:attachment_add", args=[building.pk]),
        {"file": SimpleUploadedFile("run.exe", b"MZ"), "caption": ""},
    )
    assert bad.status_code == 400 and 'data-field="file"' in bad.content.decode()
    assert Attachment.objects.count() == 1


def test_key_listing_form_and_key_list_page(login, personas, building):
    client = login("project")
    unit = personas["project"].organisation
    response = client.post(
        reverse("investments:key_listing", args=[building.pk]),
        {
            "year": TODAY.year,
            "sequence": 3,
            "planned_investment": "20000",
            "liaison_leader": personas["leader"].pk,
            "responsible_unit": unit.pk,
        },
    )
    assert response.status_code == 302
    listing = KeyProject.objects.get()
    assert (listing.planned_investment, listing.liaison_leader, listing.sequence) == (
        Decimal("20000"),
        personas["leader"],
        3,
    )
    assert str(personas["leader"]) in client.get(detail_url(building)).content.decode()
    key_page = login("statistics").get(reverse("investments:key"))
    assert key_page.status_code == 200
    html = key_page.content.decode()
    assert building.name in html and str(personas["leader"]) in html and unit.name in html
    assert login("leader").get(reverse("investments:key_year", args=[TODAY.year - 1])).status_code == 200
    bad = client.post(
        reverse("investments:key_listing", args=[building.pk]),
        {"year": TODAY.year, "planned_investment": "-1"},
    )
    assert bad.status_code == 400
    assert 'data-field="planned_investment"' in bad.content.decode()
    not_a_leader = client.post(
        reverse("investments:key_listing", args=[building.pk]),
        {"year": TODAY.year, "planned_investment": "1", "liaison_leader": personas["project"].pk},
    )
    assert 'data-field="liaison_leader"' in not_a_leader.content.decode()
    listing.refresh_from_db()
    assert listing.planned_investment == Decimal("20000")


def test_create_lead_and_edit(login, personas):
    client = login("investment")
    assert client.get(reverse("investments:create")).status_code == 200
    bad = client.post(reverse("investments:create"), {"name": "", "chain": "other"})
    assert bad.status_code == 400 and 'data-field="name"' in bad.content.decode()
    negative = client.post(
        reverse("investments:create"), {"name": "医学健康产业园", "chain": "health", "estimated_investment": "-3"}
    )
    assert 'data-field="estimated_investment"' in negative.content.decode()
    assert not Project.objects.exists()
    ok = client.post(
        reverse("investments:create"),
        {"name": "医学健康产业园", "source": "展会", "chain": "health", "estimated_investment": "30000"},
    )
    project = Project.objects.get()
    assert ok.status_code == 302 and ok.url == detail_url(project)
    assert (project.stage, project.investment_officer) == (Stage.LEAD, personas["investment"])
    edit = client.post(
        reverse("investments:edit", args=[project.pk]), {"name": "医学健康产业园一期", "chain": "health", "code": "bad"}
    )
    assert 'data-field="code"' in edit.content.decode()
    no_chain = client.post(reverse("investments:edit", args=[project.pk]), {"name": "医学健康产业园一期", "chain": ""})
    assert 'data-field="chain"' in no_chain.content.decode()
    project.refresh_from_db()
    assert (project.name, project.code, project.chain) == ("医学健康产业园", None, "health")
    edit = client.post(
        reverse("investments:edit", args=[project.pk]),
        {"name": "医学健康产业园一期", "chain": "health", "estimated_investment": "30000"},
    )
    assert edit.status_code == 302
    project.refresh_from_db()
    assert project.name == "医学健康产业园一期"
    assert login("leader").get(reverse("investments:edit", args=[project.pk])).status_code == 403


# ---------------------------------------------------------------- dashboard


def test_dashboard_counts_and_links(login, personas, signed, building):
    client = login("leader")
    response = client.get(reverse("investments:dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="pool-construction-count">1<' in html
    assert 'data-testid="pool-reserve-count">2<' not in html
    assert f"?start_year={TODAY.year}" in html
    assert "plotly/plotly.min.js" in html and 'id="pool-chart"' in html
    started_here = days_ago(40).year == TODAY.year
    assert (f'data-testid="year-started">{1 if started_here else 0}<') in html
    older = client.get(reverse("investments:dashboard"), {"year": TODAY.year - 1})
    assert f"{TODAY.year - 1}" in older.content.decode()
    assert client.get(reverse("investments:dashboard"), {"year": "abc"}).status_code == 200


def test_dashboard_land_forms(login):
    client = login("project")
    bad = client.post(reverse("investments:land_progress"), {"month": f"{TODAY:%Y-%m}", "collective_land_mu": "x"})
    assert bad.status_code == 400 and 'data-field="collective_land_mu"' in bad.content.decode()
    assert not LandProgress.objects.exists()
    ok = client.post(
        reverse("investments:land_progress"),
        {"month": f"{TODAY:%Y-%m}", "collective_land_mu": "120.5", "state_housing_m2": "3000"},
    )
    assert ok.status_code == 302
    leader = login("leader")
    assert leader.post(reverse("investments:land_progress"), {"month": f"{TODAY:%Y-%m}"}).status_code == 403
    target = leader.post(
        reverse("investments:land_target"),
        {"year": TODAY.year, "collective_land_mu": "1000", "state_housing_m2": "20000"},
    )
    assert target.status_code == 302
    assert LandTarget.objects.get(year=TODAY.year).collective_land_mu == Decimal("1000")
    html = leader.get(reverse("investments:dashboard")).content.decode()
    assert 'data-testid="land-land"' in html and f"{money('120.5')} / {money(1000)}" in html


def test_plotly_js_is_served_locally(client):
    from django.contrib.staticfiles import finders

    assert finders.find("plotly/plotly.min.js").endswith("plotly.min.js")


@pytest.mark.django_db
def test_list_links_to_the_excel_pages_for_the_right_roles(login):
    officer = login("project").get("/projects/").content.decode()
    assert 'data-testid="key-import"' in officer and 'data-testid="progress-export"' in officer
    leader = login("leader").get("/projects/").content.decode()
    assert 'data-testid="key-import"' not in leader and 'data-testid="progress-export"' in leader
