"""The leader's journey in a real Chromium: sign in, open the cockpit from the navigation, see the
indicator cards and the trend chart drawn, click the count of key projects behind plan and land on
the project list filtered to exactly that project."""

import datetime as dt

import pytest
from django.utils import timezone

from zhiyuan.conftest import BROWSER_TEST_MARKS, PASSWORD
from zhiyuan.indicators.models import Indicator, IndicatorValue, Target
from zhiyuan.investments import services as project_services

pytestmark = BROWSER_TEST_MARKS


@pytest.fixture
def district(personas):
    """规模工业增加值 with two years of monthly figures and a target; a key project of this year with
    an overdue milestone (behind plan); a project with an overdue milestone that is not on the key
    list, and a key project of last year that was late too (neither counts this year)."""
    today = timezone.localdate()
    year = today.year - 1
    industry = Indicator.objects.create(code="industry-value-added", name="规模工业增加值", unit="亿元", sequence=1)
    for month in range(1, 13):
        IndicatorValue.objects.create(indicator=industry, year=year - 1, period=month, value=4 * month)
        IndicatorValue.objects.create(indicator=industry, year=year, period=month, value=5 * month)
    Target.objects.create(indicator=industry, year=year, value=55)

    officer = personas["investment"]
    overdue = today - dt.timedelta(days=5)
    late = project_services.lead_create(actor=officer, data={"name": "好媳妇日用品智能制造基地"})
    project_services.key_project_set(actor=officer, project=late, year=today.year, planned_investment="1000")
    project_services.milestone_add(actor=officer, project=late, name="主体封顶", planned_on=overdue)
    not_key = project_services.lead_create(actor=officer, data={"name": "怡亚通金巢现代工业园"})
    project_services.milestone_add(actor=officer, project=not_key, name="土地摘牌", planned_on=overdue)
    last_year = project_services.lead_create(actor=officer, data={"name": "宏远机械扩产项目"})
    project_services.key_project_set(actor=officer, project=last_year, year=today.year - 1, planned_investment="500")
    project_services.milestone_add(actor=officer, project=last_year, name="竣工验收", planned_on=overdue)
    return late


def test_the_leader_follows_the_behind_plan_count_to_the_projects(page, live_server, district):
    from playwright.sync_api import expect

    year = timezone.localdate().year
    page.goto("/accounts/login/")
    page.fill("#id_username", "leader")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")

    # The cockpit is the leader's first navigation entry.
    page.locator("#main-nav .nav-link").first.click()
    page.wait_for_url(f"{live_server.url}/cockpit/")
    expect(page.get_by_test_id("card-industry-value-added").get_by_test_id("card-value")).to_contain_text("60.00")
    expect(page.get_by_test_id("card-industry-value-added").get_by_test_id("card-growth")).to_contain_text("+25.0%")
    assert page.evaluate("() => typeof window.Plotly") == "object"  # served locally from the plotly package
    expect(page.locator("#trend-industry-value-added .main-svg").first).to_be_visible()

    behind = page.get_by_test_id("figure-behind")
    expect(behind).to_have_text("1")
    expect(page.get_by_test_id("behind-list")).to_contain_text("好媳妇日用品智能制造基地")
    behind.click()
    page.wait_for_url(f"{live_server.url}/projects/?behind_plan={year}")

    rows = page.get_by_test_id("project-table").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("好媳妇日用品智能制造基地")
    expect(rows.first.get_by_test_id("behind-flag")).to_be_visible()
    assert not page.failed_requests and not page.script_errors
