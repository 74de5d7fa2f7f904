"""The seeded chain maps: the four leading chains with their segments, nodes and rules, loaded by the
data migration, idempotent, and never overwriting what the administrator changed."""

from zhiyuan.chains.models import IndustryChain, Node, Position, Segment
from zhiyuan.chains.seed import CHAINS, load_chains, seeded_node_count
from zhiyuan.enterprises.models import Chain, Industry


def _load() -> int:
    return load_chains(IndustryChain, Segment, Node)


def test_the_four_leading_chains_are_seeded(db):
    chains = {chain.code: chain for chain in IndustryChain.objects.all()}
    assert set(chains) == {"new_materials", "rail", "health", "prefab"}
    # The codes are the registry's chain values, so a lead made from a target carries its chain.
    assert set(chains) <= set(Chain.values)
    assert chains["new_materials"].name == "新材料"
    assert chains["rail"].name == "轨道交通装备配套"
    assert Node.objects.count() == seeded_node_count()
    for chain in chains.values():
        segments = chain.segments.count()
        nodes = Node.objects.filter(segment__chain=chain).count()
        assert 4 <= segments <= 6, chain.code
        assert 15 <= nodes <= 30, chain.code
        positions = set(Node.objects.filter(segment__chain=chain).values_list("position", flat=True))
        assert positions == set(Position.values), chain.code


def test_the_carbide_segment_runs_from_raw_materials_to_tools(db):
    segment = Segment.objects.get(chain__code="new_materials", name="硬质合金")
    nodes = list(segment.nodes.order_by("order"))
    assert [node.name for node in nodes[:3]] == ["钨钼原料", "硬质合金棒材/刀片", "数控刀具"]
    assert [node.position for node in nodes[:3]] == [Position.UPSTREAM, Position.MIDSTREAM, Position.DOWNSTREAM]
    assert "仲钨酸铵" in nodes[0].keywords and "0931" in nodes[0].industry_codes
    assert "YG8" in nodes[1].keywords and "3240" in nodes[1].industry_codes
    assert "截齿" in Node.objects.get(name="矿用工具/耐磨零件").keywords


def test_every_seeded_node_has_rules_and_real_industry_codes(db):
    known = set(Industry.objects.values_list("code", flat=True))
    for node in Node.objects.all():
        assert node.keywords.strip(), node.name
        codes = [code for code in node.industry_codes.split(",") if code]
        assert codes, node.name
        assert set(codes) <= known, (node.name, set(codes) - known)


def test_node_names_are_unique_across_the_seed():
    names = [node[0] for _code, _name, _d, segments in CHAINS for _s, nodes in segments for node in nodes]
    assert len(names) == len(set(names))


def test_loading_again_adds_nothing_and_keeps_the_administrators_edits(db):
    node = Node.objects.get(name="数控刀具")
    node.keywords = "数控刀具"
    node.weak_below = 5
    node.save()
    Node.objects.get(name="检修运维").delete()
    IndustryChain.objects.filter(code="health").update(name="医学健康产业")

    assert _load() == 1  # only the deleted node comes back

    node.refresh_from_db()
    assert (node.keywords, node.weak_below) == ("数控刀具", 5)
    assert IndustryChain.objects.get(code="health").name == "医学健康产业"
    assert Node.objects.count() == seeded_node_count()
    assert _load() == 0
