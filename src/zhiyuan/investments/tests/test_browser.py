"""The project officer's journey in a real Chromium (Playwright, the distribution's /usr/bin/chromium):
sign in, open a signed project, move it 签约 → 前期 → 开工 entering the actual start date, record a
monthly investment, and see the 项目调度 dashboard's construction pool and started count go up."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from zhiyuan.conftest import BROWSER_TEST_MARKS, PASSWORD
from zhiyuan.investments.models import MonthlyInvestment, Pool, Stage
from zhiyuan.investments.services import lead_create, project_transition

pytestmark = BROWSER_TEST_MARKS


@pytest.fixture
def signed_project(personas, firm_a):
    """汉德车桥 signed two months ago by the investment office, waiting for the project office."""
    today = timezone.localdate()
    project = lead_create(actor=personas["investment"], data={"name": "汉德车桥株洲智能制造基地一期"})
    project = project_transition(
        actor=personas["investment"], project=project, to_stage=Stage.NEGOTIATING, on=today - dt.timedelta(days=70)
    )
    return project_transition(
        actor=personas["investment"],
        project=project,
        to_stage=Stage.SIGNED,
        data={
            "contract_date": today - dt.timedelta(days=60),
            "total_investment": Decimal("80000"),
            "enterprise": firm_a,
        },
    )


def _figure(page, test_id: str) -> int:
    return int(page.get_by_test_id(test_id).inner_text().strip())


def test_project_officer_moves_a_signed_project_to_construction_and_the_dashboard_follows(
    page, live_server, signed_project
):
    from playwright.sync_api import expect

    today = timezone.localdate()

    # Sign in through the form.
    page.goto("/accounts/login/")
    page.fill("#id_username", "xiangmu")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")

    # The dashboard before: nothing under construction, nothing started this year.
    page.goto("/projects/dashboard/")
    assert page.evaluate("() => typeof window.Plotly") == "object"  # served locally from the plotly package
    expect(page.locator("#pool-chart .main-svg").first).to_be_visible()
    construction_before = _figure(page, "pool-construction-count")
    started_before = _figure(page, "year-started")
    reserve_before = _figure(page, "pool-reserve-count")
    assert reserve_before == 1

    # Open the project from the list.
    page.goto("/projects/")
    page.get_by_role("link", name="汉德车桥株洲智能制造基地一期").click()
    page.wait_for_url(f"{live_server.url}/projects/{signed_project.pk}/")
    expect(page.get_by_test_id("stage")).to_have_text("签约")

    # 签约 → 前期: the form asks for the date (today by default).
    form = page.get_by_test_id("transition-form")
    expect(form.locator('input[name="to_stage"]')).to_have_value("preparing")
    form.get_by_test_id("transition-submit").click()
    expect(page.get_by_test_id("stage")).to_have_text("前期")
    expect(page.get_by_test_id("pool")).to_have_text("储备项目")

    # 前期 → 开工: the form asks for the actual start date; leaving it out is refused on that field.
    form = page.get_by_test_id("transition-form")
    expect(form.locator('input[name="to_stage"]')).to_have_value("under_construction")
    assert page.failed_requests == []
    form.get_by_test_id("transition-submit").click()
    expect(page.locator('[data-field="actual_start"]')).to_be_visible()
    expect(page.get_by_test_id("stage")).to_have_text("前期")
    assert page.failed_requests == [f"{live_server.url}/projects/{signed_project.pk}/transition/"]  # the 400
    page.failed_requests.clear()
    form = page.get_by_test_id("transition-form")
    form.locator('input[name="actual_start"]').fill(today.isoformat())
    form.get_by_test_id("transition-submit").click()
    expect(page.get_by_test_id("stage")).to_have_text("在建")
    expect(page.get_by_test_id("pool")).to_have_text("在建项目")
    expect(page.get_by_test_id("actual-start")).to_have_text(today.isoformat())
    expect(page.locator('[data-testid="timeline"] [aria-current="step"]')).to_have_attribute(
        "data-stage", "under_construction"
    )

    # Record this month's completed investment on the investment tab.
    page.get_by_test_id("tab-investment").click()
    form = page.get_by_test_id("investment-form")
    expect(form).to_be_visible()
    form.locator('input[name="month"]').fill(f"{today:%Y-%m}")
    form.locator('input[name="amount"]').fill("1500")
    form.get_by_test_id("investment-submit").click()
    expect(page.get_by_test_id("monthly-table")).to_contain_text(f"{today:%Y-%m}")
    expect(page.get_by_test_id("monthly-table")).to_contain_text("1500.00")
    expect(page.get_by_test_id("year-done")).to_have_text("1500.00")
    expect(page.locator('[data-testid="investment-chart"] .main-svg').first).to_be_visible()
    entry = MonthlyInvestment.objects.get(project=signed_project)
    assert (entry.month, entry.amount) == (today.replace(day=1), Decimal("1500"))

    # The dashboard after: one more under construction, one more started this year, one fewer in reserve.
    page.goto("/projects/dashboard/")
    assert _figure(page, "pool-construction-count") == construction_before + 1
    assert _figure(page, "year-started") == started_before + 1
    assert _figure(page, "pool-reserve-count") == reserve_before - 1

    # The started figure links to the list of exactly those projects.
    page.get_by_test_id("year-started").click()
    expect(page.get_by_test_id("project-table")).to_contain_text("汉德车桥株洲智能制造基地一期")
    signed_project.refresh_from_db()
    assert (signed_project.stage, signed_project.pool) == (Stage.UNDER_CONSTRUCTION, Pool.CONSTRUCTION)
    assert page.failed_requests == []
    assert page.script_errors == []
