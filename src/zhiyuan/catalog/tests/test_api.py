"""The catalog API (/api/catalog/…): reading products as each role may, writing them through the
services (a change-log row per write; a firm its own products only, another firm's is 404; banks,
non-editing staff and the city 403), search with highlights and facets and bad input that is never
an error, "who can supply X", and the OpenAPI schema."""

import pytest
from rest_framework.test import APIClient

from zhiyuan.catalog import indexing
from zhiyuan.catalog.models import Product, ProductChange
from zhiyuan.catalog.search import reset_backend
from zhiyuan.catalog.tests.test_views import BAD_QUERIES, make_catalog, use_index

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/catalog/products/"
SEARCH = "/api/catalog/products/search/"
SUPPLIERS = "/api/catalog/suppliers/"


@pytest.fixture(autouse=True)
def index_dir(settings, tmp_path):
    yield use_index(settings, tmp_path)
    reset_backend()


@pytest.fixture
def catalog(personas, firm_a, firm_b):
    return make_catalog(firm_a, firm_b)


@pytest.fixture
def api(personas):
    """api("firm_a") → an API client authenticated as that persona."""

    def _client(who):
        client = APIClient()
        client.force_authenticate(personas[who])
        client.cookies["django_language"] = "en"
        return client

    return _client


def names(response) -> list[str]:
    return [item["name"] for item in response.json()["results"]]


# -- reading ---------------------------------------------------------------------------------------------


def test_listing_follows_the_scoping(api, catalog, firm_a):
    assert sorted(names(api("firm_b").get(PRODUCTS))) == sorted(["硬质合金刀片", "数控刀具", "轨道车辆用高分子涂料"])
    assert "试制硬质合金棒材" in names(api("firm_a").get(PRODUCTS))
    assert "试制硬质合金棒材" in names(api("leader").get(PRODUCTS))
    assert sorted(names(api("bank").get(PRODUCTS, {"enterprise": firm_a.pk}))) == ["数控刀具", "硬质合金刀片"]
    assert names(api("bank").get(PRODUCTS, {"enterprise": "x"})) == []
    assert api("city").get(PRODUCTS).status_code == 403
    assert APIClient().get(PRODUCTS).status_code in (401, 403)


def test_a_product_reads_with_its_firm_and_certifications(api, catalog):
    blade = catalog["blade"]
    data = api("firm_b").get(f"{PRODUCTS}{blade.pk}/").json()
    assert data["name"] == "硬质合金刀片" and data["enterprise"]["name"] == "株洲硬质合金集团有限公司"
    assert data["certifications"] == ["ISO 9001"] and data["capacity"] == "1200000.00" and data["image"] is None
    assert api("firm_b").get(f"{PRODUCTS}{catalog['sample'].pk}/").status_code == 404
    assert api("firm_b").get(f"{PRODUCTS}999999/").json()["error"]["code"] == "not_found"


# -- writing ---------------------------------------------------------------------------------------------


def test_a_firm_creates_its_own_product_through_the_service(api, firm_a):
    response = api("firm_a").post(
        PRODUCTS,
        {
            "enterprise": firm_a.pk,
            "name": "数控刀具",
            "model_numbers": "ZY-1",
            "certifications": ["ISO 9001"],
            "capacity": "12.5",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    product = Product.objects.get()
    assert response.json()["id"] == product.pk and response.json()["certifications"] == ["ISO 9001"]
    assert list(ProductChange.objects.values_list("product_id", "op")) == [(product.pk, "upsert")]


def test_a_firm_may_not_create_for_another_firm(api, firm_b):
    response = api("firm_a").post(PRODUCTS, {"enterprise": firm_b.pk, "name": "x"}, format="json")
    assert response.status_code == 404
    assert not Product.objects.exists() and not ProductChange.objects.exists()


@pytest.mark.parametrize("key", ["bank", "leader", "statistics"])
def test_roles_without_write_rights_get_403(api, catalog, firm_a, key):
    client = api(key)
    blade = catalog["blade"]
    assert client.post(PRODUCTS, {"enterprise": firm_a.pk, "name": "x"}, format="json").status_code == 403
    assert client.patch(f"{PRODUCTS}{blade.pk}/", {"name": "x"}, format="json").status_code == 403
    assert client.delete(f"{PRODUCTS}{blade.pk}/").status_code == 403
    blade.refresh_from_db()
    assert blade.name == "硬质合金刀片"


def test_the_city_gets_403_everywhere(api, catalog, firm_a):
    client = api("city")
    assert client.post(PRODUCTS, {"enterprise": firm_a.pk, "name": "x"}, format="json").status_code == 403
    assert client.get(SEARCH, {"q": "刀片"}).status_code == 403
    assert client.get(SUPPLIERS, {"item": "刀片"}).status_code == 403


def test_staff_who_edit_the_registry_write_any_firms_products(api, catalog, firm_b):
    response = api("specialist").post(PRODUCTS, {"enterprise": firm_b.pk, "name": "底漆"}, format="json")
    assert response.status_code == 201
    assert (
        api("specialist").patch(f"{PRODUCTS}{catalog['blade'].pk}/", {"keywords": "刀片"}, format="json").status_code
        == 200
    )


def test_bad_input_is_named_by_field(api, firm_a):
    client = api("firm_a")
    response = client.post(
        PRODUCTS, {"enterprise": firm_a.pk, "name": "x", "certifications": ["火星认证"]}, format="json"
    )
    assert response.status_code == 400 and "certifications" in response.json()["error"]["fields"]
    response = client.post(PRODUCTS, {"enterprise": firm_a.pk, "name": "   "}, format="json")
    assert response.status_code == 400 and "name" in response.json()["error"]["fields"]
    response = client.post(PRODUCTS, {"enterprise": firm_a.pk, "name": "x", "capacity": "-1"}, format="json")
    assert response.status_code == 400 and "capacity" in response.json()["error"]["fields"]
    response = client.post(PRODUCTS, {"enterprise": firm_a.pk, "name": "x", "is_demo": True}, format="json")
    assert response.status_code == 400 and "is_demo" in response.json()["error"]["fields"]
    response = client.post(PRODUCTS, {"name": "x"}, format="json")
    assert response.status_code == 400 and "enterprise" in response.json()["error"]["fields"]
    assert not Product.objects.exists() and not ProductChange.objects.exists()


def test_a_firm_updates_and_deletes_its_own_product_with_each_write_logged(api, catalog):
    tool = catalog["tool"]
    before = ProductChange.objects.count()
    client = api("firm_a")
    response = client.patch(f"{PRODUCTS}{tool.pk}/", {"capacity": "40", "certifications": ["ISO 9001"]}, format="json")
    assert response.status_code == 200 and response.json()["capacity"] == "40.00"
    assert response.json()["name"] == "数控刀具"  # fields left out keep their values
    response = client.put(f"{PRODUCTS}{tool.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert client.delete(f"{PRODUCTS}{tool.pk}/").status_code == 204
    log = list(ProductChange.objects.filter(id__gt=0).order_by("id").values_list("product_id", "op"))[before:]
    assert log == [(tool.pk, "upsert"), (tool.pk, "upsert"), (tool.pk, "delete")]


def test_another_firms_product_is_not_found_for_writes(api, catalog):
    paint = catalog["paint"]
    client = api("firm_a")
    assert client.patch(f"{PRODUCTS}{paint.pk}/", {"name": "x"}, format="json").status_code == 404
    assert client.delete(f"{PRODUCTS}{paint.pk}/").status_code == 404
    assert Product.objects.filter(pk=paint.pk, name="轨道车辆用高分子涂料").exists()


# -- search and suppliers --------------------------------------------------------------------------------


def test_search_answers_hits_with_highlights_and_facets(api, catalog):
    response = api("bank").get(SEARCH, {"q": "硬质合金刀片"})
    assert response.status_code == 200
    data = response.json()
    assert data["total"] >= 1 and data["page"] == 1 and data["lag"] == 0
    first = data["hits"][0]
    assert first["name"] == "硬质合金刀片" and first["enterprise"]["name"] == "株洲硬质合金集团有限公司"
    assert "<mark>" in "".join(first["highlights"].values()) and first["score"] > 0
    assert set(data["facets"]) == {"chain", "division", "zone", "certification", "size"}
    certifications = {item["value"]: item["count"] for item in data["facets"]["certification"]}
    assert certifications.get("ISO 9001") == 1


def test_facet_filters_narrow_and_counts_match_the_database(api, catalog):
    data = api("specialist").get(SEARCH, {"certification": "ISO 9001"}).json()
    expected = Product.objects.filter(is_active=True, certifications__name="ISO 9001").count()
    assert data["total"] == expected == 2
    assert {hit["name"] for hit in data["hits"]} == {"硬质合金刀片", "轨道车辆用高分子涂料"}
    both = api("specialist").get(SEARCH, {"certification": ["ISO 9001", "CRCC 铁路产品认证"]}).json()
    assert both["total"] == 2
    narrowed = api("specialist").get(SEARCH, {"certification": "ISO 9001", "size": "large"}).json()
    assert (
        narrowed["total"]
        == Product.objects.filter(
            is_active=True, certifications__name="ISO 9001", enterprise__size_class="large"
        ).count()
    )


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_bad_queries_are_text_not_errors(api, catalog, query):
    response = api("firm_a").get(SEARCH, {"q": query, "page": "x", "per_page": "100000"})
    assert response.status_code == 200
    assert isinstance(response.json()["hits"], list)


def test_unknown_facet_values_find_nothing_without_error(api, catalog):
    for params in [{"chain": "mars"}, {"zone": "not-a-number"}, {"division": "999"}, {"size": "huge"}]:
        response = api("firm_a").get(SEARCH, params)
        assert response.status_code == 200 and response.json()["total"] == 0, params


def test_search_groups_by_supplier(api, catalog):
    data = api("specialist").get(SEARCH, {"q": "刀片 刀具 涂料", "group": "1"}).json()
    firms = [group["enterprise"]["name"] for group in data["groups"]]
    assert sorted(firms) == sorted(["株洲硬质合金集团有限公司", "株洲飞鹿高新材料技术股份有限公司"])


def test_search_sees_changes_once_the_worker_ran(api, catalog, firm_b):
    client = api("specialist")
    client.post(PRODUCTS, {"enterprise": firm_b.pk, "name": "碳纤维自行车架"}, format="json")
    before = client.get(SEARCH, {"q": "碳纤维自行车架"}).json()
    assert before["lag"] == 1 and before["total"] == 0
    indexing.apply_changes()
    after = client.get(SEARCH, {"q": "碳纤维自行车架"}).json()
    assert after["lag"] == 0 and after["hits"][0]["name"] == "碳纤维自行车架"


def test_suppliers_of_an_item(api, catalog):
    data = api("firm_b").get(SUPPLIERS, {"item": "硬质合金"}).json()
    assert [supplier["enterprise"]["name"] for supplier in data] == ["株洲硬质合金集团有限公司"]
    assert "硬质合金刀片" in [hit["name"] for hit in data[0]["hits"]]
    assert api("firm_b").get(SUPPLIERS).json() == []
    for item in BAD_QUERIES:
        assert api("bank").get(SUPPLIERS, {"item": item, "limit": "-4"}).status_code == 200


# -- OpenAPI ---------------------------------------------------------------------------------------------


def test_the_schema_documents_the_catalog_api(api):
    response = api("leader").get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path, method in [
        ("/api/catalog/products/", "get"),
        ("/api/catalog/products/", "post"),
        ("/api/catalog/products/{id}/", "patch"),
        ("/api/catalog/products/{id}/", "delete"),
        ("/api/catalog/products/search/", "get"),
        ("/api/catalog/suppliers/", "get"),
    ]:
        assert method in paths[path], path
    search = paths["/api/catalog/products/search/"]["get"]
    assert {"q", "chain", "division", "zone", "certification", "size", "page"} <= {
        p["name"] for p in search["parameters"]
    }
