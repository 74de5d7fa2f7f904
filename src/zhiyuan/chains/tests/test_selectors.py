"""Node strength, chain trees, gaps and conversion counts (targets → leads → signed)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from zhiyuan.chains import selectors, services
from zhiyuan.chains.models import MappingStatus, Node, NodeFirm
from zhiyuan.chains.selectors import Strength, strength_for
from zhiyuan.enterprises.models import Status as EnterpriseStatus
from zhiyuan.investments.services import project_transition


@pytest.mark.parametrize(
    ("firms", "weak_below", "strength"),
    [
        (0, 2, Strength.NONE),
        (1, 2, Strength.WEAK),
        (2, 2, Strength.COVERED),
        (3, 2, Strength.COVERED),
        (4, 2, Strength.STRONG),
        (9, 2, Strength.STRONG),
        (0, 0, Strength.NONE),
        (1, 0, Strength.STRONG),
        (2, 3, Strength.WEAK),
        (5, 3, Strength.COVERED),
        (6, 3, Strength.STRONG),
    ],
)
def test_strength_compares_the_firm_count_with_the_weak_threshold(firms, weak_below, strength):
    assert strength_for(firms, weak_below) == strength


def _put(node: Node, firm, status=MappingStatus.SUGGESTED, is_key=False) -> NodeFirm:
    return NodeFirm.objects.create(node=node, enterprise=firm, status=status, is_key=is_key)


def test_node_stats_count_confirmed_and_suggested_operating_firms(db, node, make_firm):
    gears = node("齿轮/齿轮箱")
    big = make_firm(301, "株洲齿轮有限责任公司", short_name="株齿", revenue=Decimal("250000"))
    small = make_firm(302, "某齿轮加工厂", revenue=Decimal("1200.50"))
    rejected = make_firm(303, "某贸易公司", revenue=Decimal("99999"))
    departed = make_firm(304, "某迁出齿轮厂", revenue=Decimal("5000"), status=EnterpriseStatus.MOVED_OUT)
    _put(gears, big, MappingStatus.CONFIRMED, is_key=True)
    _put(gears, small)
    _put(gears, rejected, MappingStatus.REJECTED)
    _put(gears, departed, MappingStatus.CONFIRMED)

    stats = selectors.node_stats([gears])[gears.pk]

    assert (stats.firms, stats.confirmed, stats.suggested) == (2, 1, 1)
    assert stats.output == Decimal("251200.50")
    assert stats.key_firms == ["株齿"]
    assert stats.strength == Strength.COVERED  # 2 firms, weak below 2
    assert not stats.is_gap

    gears.weak_below = 3
    gears.save()
    assert selectors.node_stats([gears])[gears.pk].strength == Strength.WEAK


def test_the_chain_trees_are_read_in_a_fixed_number_of_queries(db, node, make_firm, django_assert_num_queries):
    for serial, name in enumerate(["齿轮/齿轮箱", "牵引电机", "数控刀具", "原料药", "钢结构构件"]):
        _put(node(name), make_firm(310 + serial, f"配套企业{serial}"), is_key=True)
    with django_assert_num_queries(6):
        trees = selectors.chain_trees()
        for tree in trees:
            for segment in tree.segments:
                for item in segment.nodes:
                    assert item.stats.strength in Strength
    assert [tree.chain.code for tree in trees] == ["new_materials", "rail", "health", "prefab"]
    rail = trees[1]
    assert rail.node_count == Node.objects.filter(segment__chain__code="rail").count()
    assert rail.gap_count == rail.node_count  # one firm each is weak, the rest have none
    assert rail.coverage == 0


def test_a_segment_lays_its_nodes_out_from_upstream_to_downstream(db):
    tree = selectors.chain_tree("new_materials")
    carbide = next(segment for segment in tree.segments if segment.segment.name == "硬质合金")
    columns = {position.value: [item.node.name for item in items] for position, items in carbide.columns}
    assert columns == {
        "upstream": ["钨钼原料"],
        "midstream": ["硬质合金棒材/刀片"],
        "downstream": ["数控刀具", "矿用工具/耐磨零件"],
    }


def test_coverage_and_gaps_of_a_chain(db, node, make_firm):
    firms = [make_firm(320 + i, f"建材企业{i}") for i in range(4)]
    steel = node("钢结构构件")
    for firm in firms:
        _put(steel, firm)
    _put(node("预制混凝土构件"), firms[0])
    _put(node("预制混凝土构件"), firms[1])
    _put(node("钢材"), firms[2])

    tree = selectors.chain_tree("prefab")
    by_name = {item.node.name: item.stats for item in tree.nodes}
    assert by_name["钢结构构件"].strength == Strength.STRONG
    assert by_name["预制混凝土构件"].strength == Strength.COVERED
    assert by_name["钢材"].strength == Strength.WEAK
    assert by_name["水泥/混凝土"].strength == Strength.NONE
    assert tree.gap_count == tree.node_count - 2
    assert tree.coverage == round(100 * 2 / tree.node_count)
    assert selectors.chain_firm_counts()[tree.chain.pk] == 4  # distinct firms, not firm-node pairs

    gaps = selectors.gaps(chain="prefab")
    names = [gap.node.name for gap in gaps]
    assert "钢材" in names and "水泥/混凝土" in names
    assert "钢结构构件" not in names and "预制混凝土构件" not in names
    assert all(gap.node.segment.chain.code == "prefab" for gap in gaps)
    assert len(selectors.gaps()) > len(gaps)


def test_conversion_counts_targets_leads_and_signed(personas, firm_b, node):
    officer = personas["investment"]
    motors = node("牵引电机")
    first = services.target_create(actor=officer, node=motors, data={"name": "中车永济电机有限公司"})
    second = services.target_create(actor=officer, node=motors, data={"name": "湘潭电机股份有限公司"})
    services.target_create(actor=officer, node=motors, data={"name": "某电机公司"})
    signed = services.target_to_lead(actor=officer, target=first)
    services.target_to_lead(actor=officer, target=second)
    today = timezone.localdate()
    project_transition(actor=officer, project=signed, to_stage="negotiating", on=today - dt.timedelta(days=3))
    project_transition(
        actor=officer,
        project=signed,
        to_stage="signed",
        data={"contract_date": today, "total_investment": Decimal("30000"), "enterprise": firm_b},
    )

    stats = selectors.node_stats([motors])[motors.pk]
    assert (stats.conversion.targets, stats.conversion.leads, stats.conversion.signed) == (3, 2, 1)
    conversion = selectors.chain_tree("rail").conversion
    assert (conversion.targets, conversion.leads, conversion.signed) == (3, 2, 1)
    gap = next(gap for gap in selectors.gaps(chain="rail") if gap.node == motors)
    assert {target.name for target in gap.targets} == {"中车永济电机有限公司", "湘潭电机股份有限公司", "某电机公司"}
    assert selectors.target_is_signed(selectors.target_get(first.pk))


def test_matched_by_is_shown_in_words(db):
    from django.utils import translation

    with translation.override("en"):
        assert selectors.matched_by_display("kw=硬质合金,刀片;ic=3240") == (
            "Keywords: 硬质合金, 刀片 · Industry codes: 3240"
        )
        assert selectors.matched_by_display("manual") == "Added by hand"
        assert selectors.matched_by_display("") == ""
