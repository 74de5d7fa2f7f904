"""The investment officer's journey in a real Chromium, from a product to a new lead: search the
product database for 硬质合金刀片, see both firms' blades with the matches highlighted, tick a
certification so the results narrow without a page reload, open the supplier, then go to the chain
gaps, open a gap node, turn its target into a lead (confirming the dialog) and land on the lead."""

import re

import pytest

from zhiyuan.catalog import indexing
from zhiyuan.catalog.search import reset_backend
from zhiyuan.catalog.services import product_create
from zhiyuan.chains import services as chain_services
from zhiyuan.chains.models import Node, Target
from zhiyuan.conftest import BROWSER_TEST_MARKS, PASSWORD
from zhiyuan.investments.models import Project

pytestmark = BROWSER_TEST_MARKS

TARGET_NAME = "中车永济电机有限公司"


@pytest.fixture
def index_dir(settings, tmp_path):
    """A fresh Tantivy index in a temporary directory, seen by the live server's thread too."""
    settings.ZHIYUAN_SEARCH_INDEX_DIR = tmp_path / "search-index"
    settings.ZHIYUAN_SEARCH_BACKEND = "tantivy"
    reset_backend()
    indexing.forget()
    yield settings.ZHIYUAN_SEARCH_INDEX_DIR
    reset_backend()
    indexing.forget()


@pytest.fixture
def journey_data(index_dir, personas, firm_a, firm_b):
    """Two firms' carbide blades (one IATF 16949 certified) and unrelated products, indexed; the chains
    mapped; a target at a gap node."""
    specs = [
        (firm_a, {"name": "硬质合金刀片", "model_numbers": "YG8 CNMG120408",
                  "certifications": ["ISO 9001", "IATF 16949"], "description": "用于铸铁车削的硬质合金刀片"}),
        (firm_b, {"name": "涂层硬质合金刀片", "model_numbers": "YT15", "certifications": ["ISO 9001"],
                  "description": "适用于钢件精加工"}),
        (firm_b, {"name": "轨道车辆用高分子涂料", "model_numbers": "FL-2000", "certifications": ["CRCC 铁路产品认证"],
                  "description": "地铁车辆车体面漆"}),
        (firm_b, {"name": "深沟球轴承", "model_numbers": "6205-2RS"}),
    ]  # fmt: skip
    products = [product_create(actor=None, enterprise=firm, data=data) for firm, data in specs]
    indexing.rebuild()
    chain_services.nodes_map_suggest()
    gap = Node.objects.select_related("segment__chain").get(name="牵引电机")
    target = chain_services.target_create(
        actor=personas["investment"],
        node=gap,
        data={
            "name": TARGET_NAME,
            "location": "山西永济",
            "main_products": "牵引电机",
            "reason": "本地牵引电机配套不足",
        },
    )
    return {"products": products, "gap": gap, "target": target}


def test_from_a_product_search_to_a_lead(page, live_server, journey_data, firm_a):
    from playwright.sync_api import expect

    page.goto("/accounts/login/")
    page.fill("#id_username", "zhaoshang")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")

    # Search: both firms' blades, the matches highlighted, nothing unrelated.
    page.goto("/catalog/")
    page.get_by_test_id("search-input").fill("硬质合金刀片")
    page.get_by_test_id("search-input").press("Enter")
    page.wait_for_url(re.compile(r"/catalog/\?(.*&)?q=%E7%A1%AC"))
    hits = page.get_by_test_id("hit")
    expect(hits).to_have_count(2)
    names = page.get_by_test_id("hit-name")
    assert sorted(text.strip() for text in names.all_text_contents()) == ["涂层硬质合金刀片", "硬质合金刀片"]
    for index in range(2):
        expect(names.nth(index).locator("mark").first).to_be_visible()
    expect(page.get_by_test_id("hits")).not_to_contain_text("深沟球轴承")
    expect(page.get_by_test_id("hits")).not_to_contain_text("高分子涂料")

    # Narrow by certification: an HTMX swap that pushes the address, no reload (the marker survives).
    page.evaluate("window.__journeyMarker = 'still-here'")
    facet = page.locator('[data-facet="certification"]')
    facet.locator(".form-check", has_text="IATF 16949").get_by_role("checkbox").check()
    page.wait_for_url(re.compile(r"certification="))
    expect(hits).to_have_count(1)
    expect(hits.first.get_by_test_id("hit-name")).to_have_text("硬质合金刀片")
    expect(facet.locator(".form-check", has_text="IATF 16949").get_by_role("checkbox")).to_be_checked()
    assert page.evaluate("window.__journeyMarker") == "still-here"
    assert "q=" in page.url

    # The supplier: the firm's page, its products tab listing the blade.
    hits.first.get_by_test_id("hit-firm").click()
    page.wait_for_url(lambda url: f"/enterprises/{firm_a.pk}/" in url)
    expect(page.get_by_test_id("enterprise-name")).to_have_text(firm_a.name)
    expect(page.get_by_test_id("enterprise-products")).to_contain_text("硬质合金刀片")

    # From the chain gap's target to a new lead.
    page.goto("/chains/gaps/")
    gap = page.locator(f'[data-testid="gap"][data-node="{journey_data["gap"].pk}"]')
    expect(gap.get_by_test_id("gap-target")).to_contain_text(TARGET_NAME)
    gap.get_by_role("link", name=re.compile("牵引电机")).first.click()
    page.wait_for_url(lambda url: f"/chains/nodes/{journey_data['gap'].pk}/" in url)
    target_row = page.locator(f'[data-testid="target"][data-target="{journey_data["target"].pk}"]')
    expect(target_row).to_contain_text(TARGET_NAME)
    dialogs = []

    def accept(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    target_row.get_by_test_id("to-lead").click()
    page.wait_for_url(lambda url: "/projects/" in url)
    assert dialogs and TARGET_NAME in dialogs[0]
    project = Project.objects.get()
    assert page.url.endswith(f"/projects/{project.pk}/")
    assert TARGET_NAME in project.name
    expect(page.get_by_test_id("project-name")).to_contain_text(project.name)
    assert Target.objects.get(pk=journey_data["target"].pk).project_id == project.pk
    assert not page.failed_requests and not page.script_errors
