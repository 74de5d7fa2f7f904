"""Chain-map pages: who sees and does what, the map, a node's firms and targets, the one-click lead,
the gaps and the target import."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from zhiyuan.chains import services
from zhiyuan.chains.models import MappingStatus, NodeFirm, Target, TargetStatus
from zhiyuan.investments.models import Project

DISTRICT = ["admin", "leader", "investment", "project", "service_staff", "specialist", "window_clerk", "statistics"]
OUTSIDERS = ["firm_a", "firm_b", "bank", "city"]


def _en(client):
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def mapped(personas, firm_a, node, make_product):
    """firm_a's carbide insert, mapped by the rules."""
    product = make_product(firm_a, "YG8硬质合金刀片")
    services.nodes_map_suggest()
    return NodeFirm.objects.get(node=node("硬质合金棒材/刀片"), enterprise=firm_a), product


def _pages(node_id: int) -> list[str]:
    return [
        reverse("chains:index"),
        reverse("chains:map", args=["new_materials"]),
        reverse("chains:node", args=[node_id]),
        reverse("chains:gaps"),
    ]


@pytest.mark.parametrize("role", DISTRICT)
def test_district_staff_read_every_page(login, node, role):
    client = login(role)
    carbide = node("硬质合金棒材/刀片")
    for url in _pages(carbide.pk):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", OUTSIDERS)
def test_firms_banks_and_the_city_are_refused(login, personas, node, role):
    client = login(role)
    motors = node("牵引电机")
    target = services.target_create(actor=personas["investment"], node=motors, data={"name": "甲公司"})
    for url in _pages(motors.pk):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("chains:target_to_lead", args=[target.pk])).status_code == 403
    assert client.post(reverse("chains:target_add", args=[motors.pk]), {"name": "乙"}).status_code == 403
    assert client.post(reverse("chains:refresh")).status_code == 403
    assert client.get(reverse("chains:import")).status_code == 403
    assert not Project.objects.exists() and Target.objects.count() == 1


def test_the_nav_offers_the_chains_to_district_staff_only(login):
    assert reverse("chains:index") in login("statistics").get(reverse("core:home")).content.decode()
    assert reverse("chains:index") not in login("firm_a").get(reverse("core:home")).content.decode()


def test_unknown_chains_and_nodes_are_404(login):
    client = login("leader")
    assert client.get(reverse("chains:map", args=["nonexistent"])).status_code == 404
    assert client.get(reverse("chains:node", args=[999999])).status_code == 404


def test_the_overview_shows_coverage_gaps_and_the_funnel(login, mapped):
    page = _en(login("leader")).get(reverse("chains:index")).content.decode()
    assert page.count('data-testid="chain-card"') == 4
    for name in ("新材料", "轨道交通装备配套", "医学健康", "装配式建筑"):
        assert name in page
    assert "Targets → leads → signed" in page
    assert 'data-testid="refresh-mapping"' not in page  # a leader reads


def test_the_map_colours_each_node_by_strength(login, mapped, node):
    page = login("leader").get(reverse("chains:map", args=["new_materials"])).content.decode()
    carbide = node("硬质合金棒材/刀片")
    assert f'data-node="{carbide.pk}" data-strength="weak"' in page
    assert f'data-node="{node("钨钼原料").pk}" data-strength="none"' in page
    assert page.count('data-testid="segment"') == 4
    assert reverse("chains:node", args=[carbide.pk]) in page


def test_a_node_lists_its_firms_with_their_matched_products(login, mapped):
    firm, product = mapped
    page = _en(login("leader")).get(reverse("chains:node", args=[firm.node_id])).content.decode()
    assert firm.enterprise.name in page and product.name in page
    assert "Keywords:" in page
    assert 'data-testid="confirm-firm"' not in page and 'data-testid="add-target-form"' not in page


def test_matched_products_link_to_the_product_page_when_there_is_one(login, mapped):
    from zhiyuan.chains.templatetags.chains_tags import product_url

    firm, product = mapped
    url = product_url(product.pk)
    page = login("project").get(reverse("chains:node", args=[firm.node_id])).content.decode()
    if url:
        assert f'href="{url}"' in page
    else:
        assert 'data-testid="product-link"' not in page


def test_officers_confirm_reject_and_mark_key_firms(login, mapped):
    firm, _product = mapped
    client = login("project")
    url = lambda action: reverse("chains:firm_decide", args=[firm.node_id, firm.pk, action])  # noqa: E731
    response = client.post(url("key"))
    assert response.status_code == 302 and response["Location"].endswith("#firms")
    firm.refresh_from_db()
    assert (firm.status, firm.is_key) == (MappingStatus.CONFIRMED, True)
    client.post(url("reject"))
    firm.refresh_from_db()
    assert (firm.status, firm.is_key) == (MappingStatus.REJECTED, False)
    assert client.post(url("explode")).status_code == 404
    assert client.get(url("confirm")).status_code == 405
    assert login("leader").post(url("confirm")).status_code == 403
    firm.refresh_from_db()
    assert firm.status == MappingStatus.REJECTED


def test_a_firm_is_added_by_hand(login, personas, firm_b, node):
    client = _en(login("investment"))
    motors = node("牵引电机")
    response = client.post(reverse("chains:firm_add", args=[motors.pk]), {"enterprise": firm_b.uscc, "is_key": "on"})
    assert response.status_code == 302
    added = NodeFirm.objects.get(node=motors, enterprise=firm_b)
    assert (added.status, added.is_key) == (MappingStatus.CONFIRMED, True)

    options = client.get(reverse("chains:enterprise_options"), {"enterprise": "飞鹿"}).content.decode()
    assert f'value="{firm_b.uscc}"' in options
    assert login("leader").get(reverse("chains:enterprise_options"), {"enterprise": "飞鹿"}).status_code == 403

    response = client.post(reverse("chains:firm_add", args=[motors.pk]), {"enterprise": "没有这家企业"})
    assert response.status_code == 400
    assert "No registered enterprise" in response.content.decode()


def test_a_target_is_added_with_errors_shown(login, node):
    client = _en(login("investment"))
    motors = node("牵引电机")
    url = reverse("chains:target_add", args=[motors.pk])
    response = client.post(url, {"name": "中车永济电机有限公司", "location": "山西永济", "main_products": "牵引电机"})
    assert response.status_code == 302 and response["Location"].endswith("#targets")
    response = client.post(url, {"name": "中车永济电机有限公司"})
    assert response.status_code == 400
    assert "already has a target with this name" in response.content.decode()
    assert login("project").post(url, {"name": "乙公司"}).status_code == 403
    assert Target.objects.count() == 1


def test_a_target_becomes_a_lead_in_one_post(login, personas, node):
    motors = node("牵引电机")
    target = services.target_create(
        actor=personas["investment"], node=motors, data={"name": "中车永济电机有限公司", "main_products": "牵引电机"}
    )
    client = login("investment")
    page = client.get(reverse("chains:node", args=[motors.pk])).content.decode()
    assert 'data-testid="to-lead-form"' in page and "onsubmit=" in page

    response = client.post(reverse("chains:target_to_lead", args=[target.pk]))
    project = Project.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("investments:detail", args=[project.pk])
    target.refresh_from_db()
    assert target.project == project and target.status == TargetStatus.LEAD

    # Twice: refused with a message, no second lead.
    response = client.post(reverse("chains:target_to_lead", args=[target.pk]), follow=True)
    assert Project.objects.count() == 1
    assert response.status_code == 200
    page = client.get(reverse("chains:node", args=[motors.pk])).content.decode()
    assert 'data-testid="to-lead-form"' not in page
    assert reverse("investments:detail", args=[project.pk]) in page

    assert login("project").post(reverse("chains:target_to_lead", args=[target.pk])).status_code == 403


def test_a_target_is_edited(login, personas, node):
    target = services.target_create(actor=personas["investment"], node=node("原料药"), data={"name": "甲药业"})
    client = login("investment")
    url = reverse("chains:target_edit", args=[target.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"name": "甲药业股份有限公司", "status": "contacted", "contact": "王"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.name, target.status, target.contact) == ("甲药业股份有限公司", "contacted", "王")
    assert client.post(url, {"name": "", "status": "contacted"}).status_code == 400
    assert login("leader").get(url).status_code == 403


def test_the_gaps_page_filters_by_chain(login, personas, node):
    services.target_create(actor=personas["investment"], node=node("牵引电机"), data={"name": "中车永济电机有限公司"})
    client = login("leader")
    everything = client.get(reverse("chains:gaps")).content.decode()
    rail = client.get(reverse("chains:gaps"), {"chain": "rail"}).content.decode()
    assert "中车永济电机有限公司" in everything and "中车永济电机有限公司" in rail
    assert "钨钼原料" in everything and "钨钼原料" not in rail
    assert rail.count('data-testid="gap"') < everything.count('data-testid="gap"')
    assert client.get(reverse("chains:gaps"), {"chain": "bogus"}).status_code == 200


def test_refreshing_the_mapping(login, firm_a, node):
    response = login("investment").post(reverse("chains:refresh"), {"next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == reverse("chains:index")
    assert NodeFirm.objects.filter(node=node("硬质合金棒材/刀片"), enterprise=firm_a).exists()


def _sheet(rows) -> SimpleUploadedFile:
    workbook = Workbook()
    workbook.active.append(["产业链", "环节/节点", "企业名称", "所在地", "主营产品", "理由", "联系方式"])
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("targets.xlsx", buffer.getvalue())


def test_the_import_pages_check_then_import(login, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = _en(login("investment"))
    assert client.get(reverse("chains:import")).status_code == 200
    template = client.get(reverse("chains:import_template"))
    assert template.status_code == 200 and template.content[:2] == b"PK"

    bad_rows = [["rail", "牵引电机", "甲公司"], ["x", "y", "乙公司"]]
    bad = client.post(reverse("chains:import"), {"file": _sheet(bad_rows)})
    preview = client.get(bad["Location"])
    assert preview.status_code == 400 and 'data-testid="import-errors"' in preview.content.decode()
    assert not Target.objects.exists()

    good = client.post(reverse("chains:import"), {"file": _sheet([["rail", "牵引电机", "甲公司", "湖南"]])})
    preview = client.get(good["Location"])
    assert preview.status_code == 200 and 'data-testid="confirm-import"' in preview.content.decode()
    token = good["Location"].rstrip("/").rsplit("/", 1)[-1]
    response = client.post(reverse("chains:import_confirm", args=[token]))
    assert response.status_code == 302
    assert Target.objects.get().name == "甲公司"
    assert client.post(reverse("chains:import_confirm", args=[token])).status_code == 404

    not_excel = client.post(reverse("chains:import"), {"file": SimpleUploadedFile("a.xlsx", b"nope")})
    assert not_excel.status_code == 400
    assert login("project").get(reverse("chains:import")).status_code == 403


def test_the_administrator_edits_the_rules_in_the_admin_audited(login, node):
    from zhiyuan.core.models import AuditEntry

    client = login("admin")
    for model in ("industrychain", "segment", "node", "nodefirm", "target"):
        assert client.get(f"/admin/chains/{model}/").status_code == 200, model
    tools = node("数控刀具")
    url = f"/admin/chains/node/{tools.pk}/change/"
    assert client.get(url).status_code == 200
    data = {
        "segment": tools.segment_id,
        "name": tools.name,
        "position": tools.position,
        "order": tools.order,
        "keywords": tools.keywords + ",丝锥",
        "industry_codes": tools.industry_codes,
        "weak_below": 3,
        "description": "",
    }
    assert client.post(url, data).status_code == 302
    tools.refresh_from_db()
    assert tools.keywords.endswith(",丝锥") and tools.weak_below == 3
    entry = AuditEntry.objects.get(action="chains.node.updated")
    assert set(entry.changes) == {"keywords", "weak_below"}
    assert login("leader").get("/admin/chains/node/").status_code == 302  # not staff: sent to the admin login
