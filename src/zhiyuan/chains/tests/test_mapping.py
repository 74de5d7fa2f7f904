"""Mapping firms to nodes by rules: keyword matches over the catalog's analysis, industry-code
prefixes, suggestions kept up to date, people's decisions never overridden, and set-based work."""

import pytest

from zhiyuan.catalog.analysis import load_user_words
from zhiyuan.chains import services
from zhiyuan.chains.models import MappingStatus, NodeFirm
from zhiyuan.core.errors import PermissionDeniedError
from zhiyuan.core.models import AuditEntry
from zhiyuan.enterprises.models import Status as EnterpriseStatus


@pytest.fixture(autouse=True)
def _plain_dictionary():
    """Each test starts from the segmenter's plain dictionary and leaves it so."""
    load_user_words([])
    yield
    load_user_words([])


def _mapping(node, firm) -> NodeFirm | None:
    return NodeFirm.objects.filter(node=node, enterprise=firm).first()


@pytest.mark.parametrize(
    ("keyword", "text", "matches"),
    [
        ("刀片", "YG8硬质合金刀片", True),
        ("硬质合金", "YG8硬质合金刀片", True),
        ("YG8", "YG8硬质合金刀片", True),
        ("yg8", "硬质合金刀片 YG8", True),
        ("铣刀", "数控铣刀", True),
        ("碳化钨", "碳化钨粉末", True),
        ("M8×30", "六角螺栓 M8*30", True),
        ("截齿", "矿用截齿", True),
        ("数控刀具", "数控车床", False),
        ("YG8", "YG6硬质合金", False),
        ("钻头", "钻具", False),
    ],
)
def test_a_keyword_matches_when_all_its_word_tokens_are_in_the_text(keyword, text, matches):
    assert (services.keyword_features(keyword) <= services.text_features(text)) is matches


def test_a_keyword_inside_a_dictionary_word_still_matches():
    """With 硬质合金刀片 in the user dictionary the segmenter no longer yields 硬质合金 for the product,
    yet the keyword 硬质合金 still finds it through the pairs of characters."""
    load_user_words(["硬质合金刀片"])
    assert services.keyword_features("硬质合金") <= services.text_features("硬质合金刀片")


def test_keywords_suggest_the_firms_whose_products_match(personas, firm_b, node, make_firm, make_product):
    tools = make_firm(101, "株洲钻石切削刀具股份有限公司", revenue=120000)
    insert = make_product(tools, "YG8硬质合金刀片", model_numbers="CNMG120408")
    mill = make_product(tools, "整体硬质合金立铣刀", category="数控刀具")
    make_product(tools, "包装纸箱")

    services.nodes_map_suggest(actor=personas["investment"])

    carbide = _mapping(node("硬质合金棒材/刀片"), tools)
    assert carbide.status == MappingStatus.SUGGESTED
    assert set(carbide.products.all()) == {insert, mill}
    assert "kw=" in carbide.matched_by and "刀片" in carbide.matched_by
    cutting = _mapping(node("数控刀具"), tools)
    assert set(cutting.products.all()) == {mill}
    assert _mapping(node("钨钼原料"), tools) is None


def test_industry_codes_suggest_firms_without_products(personas, firm_a, firm_b, node):
    services.nodes_map_suggest(actor=None)
    carbide = _mapping(node("硬质合金棒材/刀片"), firm_a)  # firm_a's industry is 3240
    assert carbide.status == MappingStatus.SUGGESTED
    assert carbide.matched_by == "ic=3240"
    assert not carbide.products.exists()
    assert _mapping(node("工业涂料"), firm_b).matched_by == "ic=2641"


def test_materials_and_unlisted_products_and_departed_firms_do_not_match(db, node, make_firm, make_product):
    user = make_firm(102, "某数控机床厂")
    make_product(user, "数控车床", materials="硬质合金刀片")
    hidden = make_firm(103, "某刀具厂")
    make_product(hidden, "硬质合金刀片", is_active=False)
    gone = make_firm(104, "某迁出刀具厂", status=EnterpriseStatus.MOVED_OUT)
    make_product(gone, "硬质合金刀片")

    services.nodes_map_suggest()

    carbide = node("硬质合金棒材/刀片")
    assert not NodeFirm.objects.filter(node=carbide, enterprise__in=[user, hidden, gone]).exists()


def test_confirmed_and_rejected_mappings_are_never_overridden(personas, node, make_firm, make_product):
    officer = personas["investment"]
    kept = make_firm(105, "甲刀具公司")
    dropped = make_firm(106, "乙刀具公司")
    first = make_product(kept, "硬质合金刀片")
    make_product(dropped, "硬质合金刀片")
    services.nodes_map_suggest(actor=officer)
    carbide = node("硬质合金棒材/刀片")
    services.node_firm_confirm(actor=officer, node_firm=_mapping(carbide, kept))
    services.node_firm_reject(actor=officer, node_firm=_mapping(carbide, dropped))

    # New products and a rule that no longer matches either firm: the decisions stand untouched.
    make_product(kept, "YG8硬质合金棒材")
    make_product(dropped, "YT15刀片")
    services.nodes_map_suggest(actor=officer)
    confirmed, rejected = _mapping(carbide, kept), _mapping(carbide, dropped)
    assert confirmed.status == MappingStatus.CONFIRMED
    assert set(confirmed.products.all()) == {first}
    assert rejected.status == MappingStatus.REJECTED

    carbide.keywords = "不相关的词"
    carbide.industry_codes = ""
    carbide.save()
    services.nodes_map_suggest(actor=officer)
    assert _mapping(carbide, kept).status == MappingStatus.CONFIRMED
    assert _mapping(carbide, dropped).status == MappingStatus.REJECTED


def test_suggestions_follow_the_products(db, node, make_firm, make_product):
    firm = make_firm(107, "丙涂料公司")
    paint = make_product(firm, "水性防腐涂料")
    assert services.nodes_map_suggest() >= 1
    coatings = node("工业涂料")
    assert set(_mapping(coatings, firm).products.all()) == {paint}

    primer = make_product(firm, "环氧底漆")
    assert services.nodes_map_suggest() >= 1
    assert set(_mapping(coatings, firm).products.all()) == {paint, primer}
    assert services.nodes_map_suggest() == 0  # nothing changed, nothing written

    paint.delete()
    primer.is_active = False
    primer.save()
    services.nodes_map_suggest()
    assert _mapping(coatings, firm) is None  # withdrawn: the rules no longer support it


def test_a_run_is_audited_per_chain(personas, firm_a):
    services.nodes_map_suggest(actor=personas["project"])
    entry = AuditEntry.objects.get(action="chains.chain.mapped", object_repr="新材料")
    assert entry.actor == personas["project"]


@pytest.mark.parametrize("role", ["leader", "service_staff", "statistics", "firm_a", "bank"])
def test_only_the_mapping_roles_run_the_rules(personas, role):
    with pytest.raises(PermissionDeniedError):
        services.nodes_map_suggest(actor=personas[role])
    assert not NodeFirm.objects.exists()


def test_the_mapping_is_set_based(db, make_firm, make_product, django_assert_max_num_queries):
    """The number of queries does not grow with the products: 400 products map in a fixed handful."""
    names = ["硬质合金刀片", "数控铣刀", "牵引电机", "齿轮箱", "水性涂料", "碳纤维自行车架", "钢结构构件", "原料药"]
    for serial in range(40):
        firm = make_firm(200 + serial, f"测试企业{serial:02d}有限公司")
        for index in range(10):
            make_product(firm, f"{names[(serial + index) % len(names)]} 型号{index}")
    with django_assert_max_num_queries(30):
        changed = services.nodes_map_suggest()
    assert changed == NodeFirm.objects.count() > 40


def test_the_daily_task_applies_the_rules(firm_a, node):
    from zhiyuan.chains.tasks import run_chain_mapping

    assert run_chain_mapping.call() == {"changed": 1}
    assert NodeFirm.objects.filter(node=node("硬质合金棒材/刀片"), enterprise=firm_a).exists()
