"""The investment officer's journey in a real Chromium: from the chains overview to a chain's map,
open a gap node, add a target, turn it into a lead (confirming the dialog) and land on the new lead,
then see the map's funnel count it."""

import pytest

from zhiyuan.chains import services
from zhiyuan.conftest import BROWSER_TEST_MARKS, PASSWORD
from zhiyuan.investments.models import Project

pytestmark = BROWSER_TEST_MARKS


@pytest.fixture
def mapped(personas, firm_a):
    services.nodes_map_suggest()


def test_from_a_gap_to_a_lead(page, live_server, mapped, node):
    from playwright.sync_api import expect

    page.goto("/accounts/login/")
    page.fill("#id_username", "zhaoshang")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto("/chains/")
    expect(page.get_by_test_id("chain-card")).to_have_count(4)
    page.locator('[data-chain="rail"]').get_by_test_id("chain-link").click()
    motors = node("牵引电机")
    box = page.locator(f'[data-testid="node"][data-node="{motors.pk}"]')
    expect(box).to_have_attribute("data-strength", "none")
    box.click()

    form = page.get_by_test_id("add-target-form")
    expect(form).to_be_visible()  # a gap without targets opens the form
    form.locator("#id_name").fill("中车永济电机有限公司")
    form.locator("#id_main_products").fill("牵引电机")
    form.locator("#id_reason").fill("本地牵引电机配套不足")
    form.get_by_role("button").click()
    expect(page.get_by_test_id("target")).to_have_count(1)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("to-lead").click()
    page.wait_for_url(lambda url: "/projects/" in url)
    project = Project.objects.get()
    assert page.url.endswith(f"/projects/{project.pk}/")
    expect(page.locator("body")).to_contain_text("中车永济电机有限公司")

    page.goto("/chains/rail/")
    expect(page.get_by_test_id("funnel")).to_contain_text("1 → 1 → 0")
    assert not page.failed_requests and not page.script_errors
