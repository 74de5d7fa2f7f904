"""Product search through the service: finding the hard cases, ranking (word above bigram), facets
that narrow and whose counts equal a direct database count, highlighting, bad input that is never an
error, who may search, suppliers of an item, the raw Tantivy index for benchmarks, and — under
PostgreSQL — both backends returning the same top results for the same queries."""

from collections import Counter

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from zhiyuan.catalog import indexing
from zhiyuan.catalog.analysis import query_terms
from zhiyuan.catalog.models import Certification, Product
from zhiyuan.catalog.search import create_backend, get_backend, reset_backend
from zhiyuan.catalog.search.base import FACETS
from zhiyuan.catalog.search.documents import all_documents
from zhiyuan.catalog.search.service import search_products, supplier_suggestions, suppliers_for
from zhiyuan.catalog.search.tantivy_backend import TantivyBackend, field_name
from zhiyuan.catalog.services import product_create, supply_need_add
from zhiyuan.conftest import make_uscc
from zhiyuan.core.errors import NotFoundError, PermissionDeniedError
from zhiyuan.enterprises.models import Enterprise, ParkZone, Status
from zhiyuan.enterprises.services import enterprise_create

pytestmark = pytest.mark.django_db

ON_POSTGRES = connection.vendor == "postgresql"
BAD_QUERIES = [
    "",
    "   ",
    "刀" * 500,
    "a" * 500,
    "6205-2RS " * 60,
    "！！！。。。，，",
    "😀🚄🔩",
    '" : * ( AND',
    '硬质合金 AND (刀片 OR "YG8"',
    "name:YG8 OR model:*",
    "' OR 1=1 --",
    "'; DROP TABLE catalog_product; --",
    "%_%",
    "\\",
    "<script>alert(1)</script>",
    "\x00\x01",
    "a & b | !c <-> d:*",
]


@pytest.fixture(autouse=True)
def index_dir(settings, tmp_path):
    """A fresh Tantivy index in a temporary directory for every test."""
    settings.ZHIYUAN_SEARCH_INDEX_DIR = tmp_path / "search-index"
    settings.ZHIYUAN_SEARCH_BACKEND = "tantivy"
    reset_backend()
    indexing.forget()
    yield settings.ZHIYUAN_SEARCH_INDEX_DIR
    reset_backend()
    indexing.forget()


@pytest.fixture
def products(personas, firm_a, firm_b):
    """Products of three firms (one unlisted), the firms on chains and in a zone, indexed."""
    iso = Certification.objects.get(name="ISO 9001")
    crcc = Certification.objects.get(name="CRCC 铁路产品认证")
    zone = ParkZone.objects.create(name="田心高科园")
    firm_c = enterprise_create(
        actor=None,
        data={"uscc": make_uscc(3), "name": "株洲田心轨道装备有限公司", "short_name": "田心装备", "industry": "3240"},
    )
    Enterprise.objects.filter(pk__in=[firm_a.pk, firm_b.pk]).update(chain="new_materials")
    Enterprise.objects.filter(pk=firm_c.pk).update(chain="rail", zone=zone)
    firm_a.refresh_from_db()
    firm_b.refresh_from_db()
    firm_c.refresh_from_db()
    specs = [
        ("blade", firm_a, {"name": "硬质合金刀片", "model_numbers": "YG8 CNMG120408", "certifications": [iso],
                           "description": "用于铸铁车削的硬质合金刀片，耐磨"}),
        ("tool", firm_a, {"name": "数控刀具", "model_numbers": "ZY-100", "description": "数控机床用刀具"}),
        ("pipe", firm_a, {"name": "不锈钢管材", "specifications": "316L 外径 20mm", "materials": "不锈钢"}),
        ("seamless", firm_a, {"name": "无缝钢管", "model_numbers": "GB/T 8163"}),
        ("unlisted", firm_a, {"name": "停产刀片试制品", "is_active": False}),
        ("paint", firm_b, {"name": "轨道车辆用高分子涂料", "model_numbers": "FL-2000",
                           "certifications": [crcc, iso], "description": "地铁车辆车体面漆"}),
        ("bearing", firm_b, {"name": "深沟球轴承", "model_numbers": "6205-2RS"}),
        ("bolt", firm_b, {"name": "六角螺栓", "model_numbers": "M8×30", "certifications": [iso]}),
        ("html", firm_b, {"name": "<b>防腐</b>底漆", "description": "含<script>alert(1)</script>的说明"}),
        ("axle", firm_c, {"name": "动车组车桥", "description": "轨道交通车桥总成", "certifications": [crcc]}),
        ("gear", firm_c, {"name": "牵引齿轮", "description": "齿轮箱用齿轮"}),
    ]  # fmt: skip
    made = {key: product_create(actor=None, enterprise=firm, data=data) for key, firm, data in specs}
    made["firm_c"] = firm_c
    made["zone"] = zone
    indexing.rebuild()
    return made


def search(personas, query="", **kwargs):
    return search_products(user=personas["specialist"], query=query, **kwargs)


def names(page) -> list[str]:
    return [hit.product.name for hit in page.hits]


# -- finding ---------------------------------------------------------------------------------------

FINDS = [
    ("钢管", "无缝钢管"),  # a word …
    ("钢管", "不锈钢管材"),  # … and a bigram hidden inside 不锈钢管材
    ("YG8", "硬质合金刀片"),
    ("yg8", "硬质合金刀片"),
    ("CNMG120408", "硬质合金刀片"),
    ("6205-2RS", "深沟球轴承"),
    ("6205", "深沟球轴承"),
    ("2rs", "深沟球轴承"),
    ("M8×30", "六角螺栓"),
    ("m8x30", "六角螺栓"),
    ("M8*30", "六角螺栓"),
    ("316L", "不锈钢管材"),
    ("硬質合金", "硬质合金刀片"),  # traditional
    ("钨钢", "硬质合金刀片"),  # a seeded synonym of 硬质合金
    ("yingzhihejindaopian", "硬质合金刀片"),  # pinyin of the name
    ("daopian", "硬质合金刀片"),  # pinyin of a word of the name
    ("yzhjdp", "硬质合金刀片"),  # initials
    ("zyjt", "数控刀具"),  # initials of the firm's short name 株硬集团
    ("tianxin", "动车组车桥"),  # pinyin of the firm's name
    ("株洲硬质合金", "数控刀具"),  # the firm's name
    ("高分子涂料 CRCC", "轨道车辆用高分子涂料"),
    ("coating 涂料", "轨道车辆用高分子涂料"),  # mixed Chinese and English
    ("处理 车桥", "动车组车桥"),
]


@pytest.mark.parametrize(("query", "expected"), FINDS)
def test_finds_the_hard_cases(personas, products, query, expected):
    page = search(personas, query, per_page=50)
    assert expected in names(page), (query, names(page))


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("钢管", "无缝钢管"),
        ("YG8", "硬质合金刀片"),
        ("6205-2RS", "深沟球轴承"),
        ("齿轮", "牵引齿轮"),
        ("刀片", "硬质合金刀片"),
    ],
)
def test_the_best_match_ranks_first(personas, products, query, first):
    assert names(search(personas, query))[0] == first


def test_a_word_match_ranks_above_a_bigram_match(personas, products):
    ranked = names(search(personas, "钢管"))
    assert ranked.index("无缝钢管") < ranked.index("不锈钢管材")
    scores = {hit.product.name: hit.score for hit in search(personas, "钢管").hits}
    assert scores["无缝钢管"] > scores["不锈钢管材"] > 0


def test_unlisted_products_never_appear(personas, products):
    assert "停产刀片试制品" not in names(search(personas, "停产刀片试制品", per_page=100))
    assert "停产刀片试制品" not in names(search(personas, "", per_page=100))
    assert "停产刀片试制品" not in names(search(personas, "刀片", per_page=100))


def test_an_empty_query_lists_every_listed_product(personas, products):
    page = search(personas, "", per_page=100)
    assert page.total == Product.objects.filter(is_active=True).count() == 10
    assert {hit.product.pk for hit in page.hits} == set(
        Product.objects.filter(is_active=True).values_list("pk", flat=True)
    )


# -- facets ----------------------------------------------------------------------------------------


def _database_counts(ids) -> dict[str, Counter]:
    listed = Product.objects.filter(pk__in=ids, is_active=True)
    through = Product.certifications.through.objects.filter(product__in=listed)
    return {
        "chain": Counter(listed.values_list("enterprise__chain", flat=True)),
        "division": Counter(listed.values_list("enterprise__industry__division", flat=True)),
        "zone": Counter(str(zone) for zone in listed.values_list("enterprise__zone_id", flat=True) if zone),
        "certification": Counter(through.values_list("certification__name", flat=True)),
        "size": Counter(listed.values_list("enterprise__size_class", flat=True)),
    }


def _page_counts(page) -> dict[str, Counter]:
    return {facet: Counter({v.value: v.count for v in page.facets[facet] if v.count}) for facet in FACETS}


@pytest.mark.parametrize("query", ["", "刀片 涂料 车桥", "钢管", "株洲"])
def test_facet_counts_equal_a_database_count(personas, products, query):
    page = search(personas, query, per_page=100)
    ids = [hit.product.pk for hit in page.hits]
    assert page.total == len(ids) > 0
    assert _page_counts(page) == _database_counts(ids)


def test_facet_values_are_labelled(personas, products):
    facets = search(personas, "").facets
    labels = {facet: {v.value: v.label for v in values} for facet, values in facets.items()}
    assert labels["zone"] == {str(products["zone"].pk): "田心高科园"}
    assert labels["chain"]["rail"] == "Rail transit equipment" or labels["chain"]["rail"] != "rail"
    assert labels["division"]["32"] != "32" and labels["division"]["26"] != "26"
    assert labels["certification"]["ISO 9001"] == "ISO 9001"
    assert all(v.count > 0 and not v.selected for values in facets.values() for v in values)


def test_filters_narrow_values_widen_within_a_facet(personas, products):
    iso = search(personas, "", filters={"certification": ["ISO 9001"]}, per_page=100)
    assert sorted(names(iso)) == sorted(["硬质合金刀片", "轨道车辆用高分子涂料", "六角螺栓"])
    assert [v for v in iso.facets["certification"] if v.value == "ISO 9001"][0].selected
    either = search(personas, "", filters={"certification": ["ISO 9001", "CRCC 铁路产品认证"]}, per_page=100)
    assert sorted(names(either)) == sorted(["硬质合金刀片", "轨道车辆用高分子涂料", "六角螺栓", "动车组车桥"])
    both = search(
        personas, "", filters={"certification": ["ISO 9001", "CRCC 铁路产品认证"], "chain": ["rail"]}, per_page=100
    )
    assert names(both) == ["动车组车桥"]
    text_and_filter = search(personas, "刀片 涂料", filters={"certification": ["CRCC 铁路产品认证"]})
    assert names(text_and_filter) == ["轨道车辆用高分子涂料"]
    zone = search(personas, "", filters={"zone": [str(products["zone"].pk)]}, per_page=100)
    assert sorted(names(zone)) == ["动车组车桥", "牵引齿轮"]


def test_filters_do_not_change_the_ranking(personas, products):
    plain = search(personas, "刀片 刀具")
    narrowed = search(personas, "刀片 刀具", filters={"chain": ["new_materials"]})
    assert names(plain) == names(narrowed)
    assert [hit.score for hit in plain.hits] == pytest.approx([hit.score for hit in narrowed.hits])


@pytest.mark.parametrize(
    "filters",
    [{"chain": ["mars"]}, {"zone": ["not-a-number"]}, {"division": ["999"]}, {"size": ["huge"]},
     {"certification": ["火星认证"]}, {"zone": ["-1"]}],
)  # fmt: skip
def test_an_unknown_facet_value_matches_nothing(personas, products, filters):
    page = search(personas, "刀片", filters=filters)
    assert page.total == 0 and page.hits == []
    facet, values = next(iter(filters.items()))
    assert [(v.value, v.count, v.selected) for v in page.facets[facet]] == [(values[0], 0, True)]


def test_unknown_facets_and_odd_filter_shapes_are_ignored(personas, products):
    page = search(
        personas,
        "刀片",
        filters={"nonsense": ["x"], "chain": None, "certification": [None, "", "  ", "ISO 9001"], "size": "large"},
    )
    assert page.filters == {"certification": ["None", "ISO 9001"], "size": ["large"]}
    # "None" is just an unknown value; ISO 9001 and a large firm leave the blade
    assert names(page) == ["硬质合金刀片"]
    assert search(personas, "刀片", filters="chain=rail").total == search(personas, "刀片").total


# -- highlighting ----------------------------------------------------------------------------------


def test_matches_are_highlighted_and_everything_else_escaped(personas, products):
    hit = search(personas, "硬質合金 YG8").hits[0]
    assert hit.product.name == "硬质合金刀片"
    assert hit.highlights["name"] == "<mark>硬质合金</mark>刀片"
    assert hit.highlights["model"] == "<mark>YG8</mark> CNMG120408"
    assert "<mark>硬质合金</mark>" in hit.highlights["description"]
    assert "<mark>硬质合金</mark>" in hit.highlights["firm"]
    html = search(personas, "防腐底漆").hits[0]
    assert html.highlights["name"] == "&lt;b&gt;<mark>防腐</mark>&lt;/b&gt;<mark>底漆</mark>"
    assert "<script>" not in html.highlights["description"]


# -- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_bad_queries_are_text_never_errors(personas, products, query):
    page = search_products(user=personas["firm_a"], query=query, page="x", per_page="100000")
    assert page.page >= 1 and page.per_page <= 100 and len(page.query) <= 200
    assert page.total >= 0


@pytest.mark.parametrize("query", ["！！！。。。", "😀🚄🔩", "\x00\x01"])
def test_a_query_with_nothing_searchable_finds_nothing(personas, products, query):
    assert search(personas, query).total == 0


def test_a_query_with_syntax_characters_searches_their_words(personas, products):
    assert names(search(personas, '硬质合金 AND (刀片 OR "YG8"'))[0] == "硬质合金刀片"


def test_pages_are_bounded(personas, products):
    first = search(personas, "", per_page=3)
    assert (first.total, first.pages, len(first.hits)) == (10, 4, 3)
    last = search(personas, "", per_page=3, page=99)
    assert (last.page, len(last.hits)) == (4, 1)
    seen = [name for number in range(1, 5) for name in names(search(personas, "", per_page=3, page=number))]
    assert len(seen) == len(set(seen)) == 10
    assert search(personas, "", page=-5).page == 1


# -- who may search --------------------------------------------------------------------------------


def test_anonymous_users_may_not_search(products):
    with pytest.raises(PermissionDeniedError):
        search_products(user=AnonymousUser(), query="刀片")
    with pytest.raises(PermissionDeniedError):
        search_products(user=None, query="刀片")
    with pytest.raises(PermissionDeniedError):
        suppliers_for(user=AnonymousUser(), item="刀片")


@pytest.mark.parametrize("key", ["firm_b", "bank", "leader", "statistics", "window_clerk"])
def test_everyone_signed_in_finds_every_firms_products(personas, products, key):
    assert names(search_products(user=personas[key], query="硬质合金刀片"))[0] == "硬质合金刀片"


# -- grouping and suppliers ------------------------------------------------------------------------


def test_hits_grouped_by_firm(personas, products):
    page = search(personas, "刀片 涂料 车桥 刀具", group_by_firm=True)
    firms = [enterprise.name for enterprise, _hits in page.groups]
    assert len(firms) == len(set(firms)) == 3
    for group in page.groups:
        assert all(hit.product.enterprise_id == group.enterprise.pk for hit in group.hits)
        assert group.score == group.hits[0].score
    assert sum(len(group.hits) for group in page.groups) == len(page.hits)


def test_suppliers_of_an_item(personas, products, firm_a, firm_b):
    groups = suppliers_for(user=personas["firm_b"], item="硬质合金")
    assert [group.enterprise.pk for group in groups] == [firm_a.pk]
    assert groups[0].products[0].name == "硬质合金刀片"
    assert suppliers_for(user=personas["firm_a"], item="硬质合金", exclude_enterprise=firm_a) == []
    assert [g.enterprise.pk for g in suppliers_for(user=personas["firm_a"], item="轴承 6205")] == [firm_b.pk]
    assert suppliers_for(user=personas["firm_a"], item="😀") == []


def test_only_operating_firms_are_suggested_as_suppliers(personas, products):
    firm_c = products["firm_c"]
    assert [g.enterprise.pk for g in suppliers_for(user=personas["investment"], item="车桥")] == [firm_c.pk]
    Enterprise.objects.filter(pk=firm_c.pk).update(status=Status.MOVED_OUT)
    assert suppliers_for(user=personas["investment"], item="车桥") == []


def test_supplier_suggestions_for_a_firms_needs(personas, products, firm_a, firm_b):
    need = supply_need_add(actor=personas["firm_b"], enterprise=firm_b, item="硬质合金刀片")
    supply_need_add(actor=personas["firm_b"], enterprise=firm_b, item="防腐底漆")  # only firm_b itself makes it
    suggestions = supplier_suggestions(user=personas["firm_b"], enterprise=firm_b)
    assert [s.need.item for s in suggestions] == ["硬质合金刀片", "防腐底漆"]
    assert suggestions[0].need == need
    assert [g.enterprise.pk for g in suggestions[0].suppliers] == [firm_a.pk]
    assert suggestions[1].suppliers == []
    assert supplier_suggestions(user=personas["specialist"], enterprise=firm_b)[0].suppliers
    with pytest.raises(NotFoundError):
        supplier_suggestions(user=personas["firm_a"], enterprise=firm_b)
    with pytest.raises(PermissionDeniedError):
        supplier_suggestions(user=personas["bank"], enterprise=firm_b)


# -- the page's extras -----------------------------------------------------------------------------


def test_a_page_says_how_far_behind_the_index_is(personas, products, firm_a):
    page = search(personas, "刀片")
    assert page.lag == 0 and page.took_ms > 0 and page.notice == ""
    product_create(actor=None, enterprise=firm_a, data={"name": "新刀片"})
    assert search(personas, "刀片").lag == 1
    indexing.apply_changes()
    page = search(personas, "新刀片")
    assert page.lag == 0 and names(page)[0] == "新刀片"


def test_the_raw_tantivy_index_is_reachable_for_benchmarks(products):
    import tantivy

    backend = get_backend()
    assert isinstance(backend, TantivyBackend)
    searcher = backend.index.searcher()
    query = tantivy.Query.term_query(backend.schema, field_name("model", "word"), "yg8")
    found = searcher.search(query, 5)
    assert found.count == 1
    ids = searcher.fast_field_values("id", [address for _score, address in found.hits])
    assert ids == [products["blade"].pk]
    assert backend.size_bytes() > 0


def test_the_postgres_backend_needs_postgresql(settings):
    if ON_POSTGRES:
        pytest.skip("runs on SQLite only")
    settings.ZHIYUAN_SEARCH_BACKEND = "postgres"
    with pytest.raises(ImproperlyConfigured):
        get_backend()
    settings.ZHIYUAN_SEARCH_BACKEND = "elastic"
    with pytest.raises(ImproperlyConfigured):
        get_backend()


# -- both backends ---------------------------------------------------------------------------------

PARITY_QUERIES = [
    "硬质合金刀片",
    "YG8",
    "钢管",
    "6205-2RS",
    "M8×30",
    "316L",
    "硬質合金",
    "yzhjdp",
    "涂料",
    "车桥 齿轮",
    "数控刀具",
    "株洲硬质合金",
    '" : * ( AND',
]


@pytest.mark.skipif(not ON_POSTGRES, reason="the PostgreSQL backend runs on PostgreSQL only")
def test_both_backends_return_the_same_top_results(products, tmp_path):
    tantivy_backend = TantivyBackend(tmp_path / "parity-index")
    postgres_backend = create_backend("postgres")
    total = Product.objects.filter(is_active=True).count()
    assert tantivy_backend.rebuild(all_documents(), total=total) == postgres_backend.rebuild(
        all_documents(), total=total
    )
    for query in PARITY_QUERIES:
        terms = query_terms(query)
        a = tantivy_backend.search(terms, filters={}, offset=0, limit=3, facets=True)
        b = postgres_backend.search(terms, filters={}, offset=0, limit=3, facets=True)
        assert a.total == b.total, query
        assert [pid for pid, _s in a.hits[:1]] == [pid for pid, _s in b.hits[:1]], query
        assert {facet: sorted(pairs) for facet, pairs in a.facets.items()} == {
            facet: sorted(pairs) for facet, pairs in b.facets.items()
        }, query
    narrowed = {"certification": ["ISO 9001"], "chain": ["new_materials"]}
    a = tantivy_backend.search(query_terms("刀片 涂料"), filters=narrowed, offset=0, limit=10)
    b = postgres_backend.search(query_terms("刀片 涂料"), filters=narrowed, offset=0, limit=10)
    assert [pid for pid, _s in a.hits] == [pid for pid, _s in b.hits]


@pytest.mark.skipif(not ON_POSTGRES, reason="the PostgreSQL backend runs on PostgreSQL only")
def test_the_postgres_backend_through_the_service(settings, personas, products, firm_a):
    settings.ZHIYUAN_SEARCH_BACKEND = "postgres"
    reset_backend()
    assert indexing.ensure_index() is not None  # no table yet: built, and said so
    assert indexing.ensure_index() is None
    for query, expected in FINDS:
        assert expected in names(search(personas, query, per_page=50)), query
    page = search(personas, "", per_page=100)
    assert _page_counts(page) == _database_counts([hit.product.pk for hit in page.hits])
    for query in BAD_QUERIES:
        search(personas, query)
    product_create(actor=None, enterprise=firm_a, data={"name": "陶瓷刀片", "model_numbers": "it's\\odd"})
    assert indexing.apply_changes() == 1
    assert names(search(personas, "陶瓷刀片"))[0] == "陶瓷刀片"
    assert names(search(personas, "it's\\odd"))[0] == "陶瓷刀片"
