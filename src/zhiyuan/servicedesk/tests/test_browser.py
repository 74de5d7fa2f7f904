"""The service desk's journey in a real Chromium (Playwright, the distribution's /usr/bin/chromium):
a firm submits a 用工 request, its specialist signs for it and resolves it, the firm rates it, and
the leader's service dashboard counts it.

Set ZHIYUAN_SCREENSHOTS to a directory to keep a screenshot of each page on the way."""

import os
from pathlib import Path

from django.utils import timezone

from zhiyuan.conftest import BROWSER_TEST_MARKS, PASSWORD
from zhiyuan.enterprises.models import Enterprise
from zhiyuan.servicedesk.models import Category, RequestStatus, ServiceRequest

pytestmark = BROWSER_TEST_MARKS


def _shot(page, name: str) -> None:
    folder = os.environ.get("ZHIYUAN_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _sign_in(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{live_server.url}/")


def test_firm_request_signed_for_resolved_rated_and_counted(page, live_server, personas, firm_a):
    from playwright.sync_api import expect

    Enterprise.objects.filter(pk=firm_a.pk).update(specialist=personas["specialist"])
    year = timezone.localdate().year

    # The firm submits a labour request: the structured block appears for 用工 only.
    _sign_in(page, live_server, "firm_a")
    page.goto("/servicedesk/")
    page.wait_for_url(f"{live_server.url}/servicedesk/mine/")
    page.get_by_test_id("new-request").click()
    expect(page.get_by_test_id("labour-block")).to_be_hidden()
    page.select_option("#id_category", Category.LABOUR)
    expect(page.get_by_test_id("labour-block")).to_be_visible()
    expect(page.get_by_test_id("financing-block")).to_be_hidden()
    page.fill("#id_title", "招聘数控操作工30名")
    page.fill("#id_description", "新生产线下月投产,急需数控操作工")
    page.fill("#id_labour_positions", "数控车床操作工")
    page.fill("#id_labour_headcount", "30")
    page.fill("#id_labour_skills", "数控车床")
    _shot(page, "01-firm-new-request")
    page.get_by_test_id("submit-request").click()
    expect(page.get_by_test_id("status")).to_have_attribute("data-status", RequestStatus.SUBMITTED)
    expect(page.get_by_test_id("labour-need")).to_contain_text("数控车床操作工")
    request = ServiceRequest.objects.get()
    assert (request.labour_headcount, request.assignee) == (30, personas["specialist"])
    _shot(page, "02-firm-request-submitted")

    # The specialist finds it in the queue, signs for it and resolves it.
    _sign_in(page, live_server, "zhuanyuan")
    page.goto("/servicedesk/queue/")
    expect(page.get_by_test_id("queue-table")).to_contain_text("招聘数控操作工30名")
    _shot(page, "03-specialist-queue")
    page.get_by_role("link", name="招聘数控操作工30名").click()
    page.get_by_test_id("sign-for").click()
    expect(page.get_by_test_id("status")).to_have_attribute("data-status", RequestStatus.SIGNED_FOR)
    resolve = page.get_by_test_id("resolve-form")
    resolve.locator("button[type=submit]").click()  # no resolution note: refused on that field
    expect(page.locator('[data-field="resolution"]')).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_attribute("data-status", RequestStatus.SIGNED_FOR)
    page.failed_requests.clear()  # the 400 of the refused form
    page.get_by_test_id("resolve-form").locator("textarea[name=resolution]").fill(
        "联合区人社局举办专场招聘会,已招到30人"
    )
    page.get_by_test_id("resolve-form").locator("button[type=submit]").click()
    expect(page.get_by_test_id("status")).to_have_attribute("data-status", RequestStatus.RESOLVED)
    _shot(page, "04-specialist-resolved")

    # The firm rates it 5, which closes it.
    _sign_in(page, live_server, "firm_a")
    page.goto(f"/servicedesk/{request.pk}/")
    expect(page.get_by_test_id("firm-todo")).to_be_visible()
    expect(page.get_by_test_id("resolution")).to_contain_text("已招到30人")
    _shot(page, "05-firm-asked-to-rate")
    rate = page.get_by_test_id("rate-form")
    rate.locator('input[name="rating"][value="5"]').check()
    rate.locator("textarea[name=comment]").fill("专员响应很快")
    rate.locator("button[type=submit]").click()
    expect(page.get_by_test_id("status")).to_have_attribute("data-status", RequestStatus.CLOSED)
    expect(page.get_by_test_id("rating")).to_contain_text("5/5")

    # The leader's dashboard counts it: received, resolved, replied on time, rated 5.
    _sign_in(page, live_server, "leader")
    page.goto(f"/servicedesk/dashboard/?year={year}")
    assert page.evaluate("() => typeof window.Plotly") == "object"  # served locally from the plotly package
    expect(page.locator("#volume-chart .main-svg").first).to_be_visible()
    expect(page.get_by_test_id("headline-received")).to_have_text("1")
    expect(page.get_by_test_id("headline-resolved")).to_have_text("1")
    expect(page.get_by_test_id("headline-reply-rate")).to_have_text("100.0%")
    expect(page.get_by_test_id("headline-satisfaction")).to_have_text("5.00")
    _shot(page, "06-leader-dashboard")
    page.get_by_test_id("headline-resolved").click()
    expect(page.get_by_test_id("request-table")).to_contain_text("招聘数控操作工30名")
    assert page.failed_requests == []
    assert page.script_errors == []
    request.refresh_from_db()
    assert (request.status, request.rating) == (RequestStatus.CLOSED, 5)
