"""The demo product database and chain maps: the named firms' products as the source describes them,
generated products for the generated firms by their industry line, supply needs, the chains mapped
with key firms, targets at gaps (one already a lead), and a search index that works at once; loaded
through the services; a second run writes nothing."""

import random
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import translation

from zhiyuan.accounts.models import User
from zhiyuan.catalog.models import Product, ProductChange, SupplyNeed
from zhiyuan.catalog.search.service import search_products, suppliers_for
from zhiyuan.chains.models import MappingStatus, NodeFirm, Target, TargetStatus
from zhiyuan.core.models import AuditEntry
from zhiyuan.demo.catalog import KEY_FIRMS, TARGETS, demo_catalog_load
from zhiyuan.demo.data import named_firms
from zhiyuan.demo.products import NAMED_PRODUCTS, TEMPLATES, fill, products_for_line
from zhiyuan.enterprises.models import Enterprise, Status
from zhiyuan.investments.models import Project, Stage

pytestmark = pytest.mark.django_db

ZHUYING = "株洲硬质合金集团有限公司"
FEILU = "株洲飞鹿高新材料技术股份有限公司"


def test_patterns_keep_keyed_choices_consistent_and_fill_every_slot():
    rng = random.Random(7)
    for _ in range(50):
        text = fill("{g:YG8|YT15} {a|b} {3-5} {g:K20|P10}", rng)
        grade, _choice, number, iso = text.split()
        assert (grade, iso) in {("YG8", "K20"), ("YT15", "P10")} and 3 <= int(number) <= 5
    for code in TEMPLATES:
        for data in products_for_line(code, rng, 8, firm="金鼎"):
            assert len({*data}) == 10 and data["name"] and data["model_numbers"] and data["capacity"] >= 0
            assert not any("{" in str(value) or "}" in str(value) for value in data.values()), data
    assert products_for_line("5292", rng, 5) == []  # e-commerce firms list no products


def test_demo_catalog():
    """One load of the whole demo (the catalog comes last), with 40 generated firms to keep it quick."""
    from zhiyuan.demo.services import demo_load

    out = StringIO()
    with translation.override("en"):
        call_command("demo", "--count", "40", stdout=out)
    report_line = next(line for line in out.getvalue().splitlines() if "indexed for search" in line)
    products = Product.objects.all()
    assert f"{products.count()} products indexed for search" in report_line

    # Every product is demo data, written through the service: audited and on the index's change log.
    assert not products.filter(is_demo=False).exists()
    assert AuditEntry.objects.filter(action="catalog.product.created").count() == products.count()
    assert ProductChange.objects.filter(op=ProductChange.Op.UPSERT).count() == products.count()

    # The named firms' products, as the source describes them.
    for firm_name, items in NAMED_PRODUCTS.items():
        assert sorted(products.filter(enterprise__name=firm_name).values_list("name", flat=True)) == sorted(
            item["name"] for item in items
        )
    yg8 = products.get(enterprise__name=ZHUYING, name="硬质合金刀片 YG8")
    assert "HRA89.5" in yg8.specifications and "2200MPa" in yg8.specifications
    assert {"ISO 9001", "IATF 16949"} <= set(yg8.certifications.values_list("name", flat=True))
    coating = products.get(enterprise__name=FEILU, name="轨道交通车辆用高分子涂料")
    assert "CRCC 铁路产品认证" in set(coating.certifications.values_list("name", flat=True))

    # Generated firms: 3 to 8 products of their own line, when the line makes products.
    named = {firm.name for firm in named_firms()}
    generated = Enterprise.objects.exclude(name__in=named).filter(status=Status.OPERATING)
    with_products = 0
    for firm in generated:
        count = products.filter(enterprise=firm).count()
        if firm.industry_id in TEMPLATES:
            assert 3 <= count <= 8, firm.name
            with_products += 1
        else:
            assert count == 0, firm.name
    assert with_products >= 20
    assert not products.exclude(enterprise__status=Status.OPERATING).exists()

    # Supply needs: the axle maker buys gear steel; some rail firms buy gears, coatings, fasteners …
    assert SupplyNeed.objects.filter(enterprise__name="汉德车桥(株洲)齿轮有限公司", item="齿轮钢").exists()
    assert SupplyNeed.objects.filter(enterprise__chain="rail").exclude(enterprise__name__in=named).exists()

    # Chains: suggestions from the rules, the key firms confirmed, a few more confirmations.
    for firm_name, node_name in KEY_FIRMS:
        mapping = NodeFirm.objects.get(enterprise__name=firm_name, node__name=node_name)
        assert mapping.is_key and mapping.status == MappingStatus.CONFIRMED, (firm_name, node_name)
    assert NodeFirm.objects.filter(status=MappingStatus.SUGGESTED).exists()
    assert NodeFirm.objects.filter(status=MappingStatus.CONFIRMED, is_key=False).exists()

    # Targets at gaps; the first became an investment lead that keeps the link.
    targets = Target.objects.select_related("project", "node")
    assert targets.count() == len(TARGETS) and all(target.is_demo for target in targets)
    assert not NodeFirm.objects.filter(node__name="原丝").exists()  # a real gap: no local firm at all
    lead = targets.get(name=TARGETS[0][1])
    assert lead.status == TargetStatus.LEAD and lead.project.stage == Stage.LEAD and lead.project.is_demo
    assert lead.project.investor_name == lead.name
    assert targets.exclude(pk=lead.pk).filter(project=None, status=TargetStatus.IDENTIFIED).count() == len(TARGETS) - 1

    # Search works at once: 硬质合金刀片 finds 株硬's inserts first; narrowing by a certification works.
    user = User.objects.get(username="zhaoshang")
    page = search_products(user=user, query="硬质合金刀片")
    assert "硬质合金刀片 YG8" in [hit.product.name for hit in page.hits[:5]]
    narrowed = search_products(user=user, query="硬质合金刀片", filters={"certification": ["IATF 16949"]})
    assert 0 < narrowed.total < page.total
    assert all("IATF 16949" in {c.name for c in hit.product.certifications.all()} for hit in narrowed.hits)
    assert any(firm.name == FEILU for firm, _hits in suppliers_for(user=user, item="涂料"))

    # A second run writes nothing.
    def counts():
        return [
            model.objects.count()
            for model in (Product, ProductChange, SupplyNeed, NodeFirm, Target, Project, AuditEntry)
        ]

    before = counts()
    assert demo_catalog_load()["loaded"] is False
    report = demo_load(count=40)
    assert report.catalog["loaded"] is False and report.catalog["products"] == 0
    assert counts() == before
