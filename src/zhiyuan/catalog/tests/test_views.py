"""Catalog pages: the search page (results, highlights, facets that narrow over HTMX, grouping by
supplier, notices, and bad input that never errors), the product pages and forms (through the
services, with a change-log row per write), who may do what (a firm its own products only, another
firm's product is not found; banks and the city may not write), the enterprise page's Products tab
with supply needs, suppliers, and the Excel import and export pages."""

import io
import re
import shutil

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook
from PIL import Image

from zhiyuan.catalog import indexing
from zhiyuan.catalog.models import Certification, Product, ProductChange, ProductUpload, SupplyNeed
from zhiyuan.catalog.search import reset_backend
from zhiyuan.catalog.services import product_create, supply_need_add

pytestmark = pytest.mark.django_db

SEARCH = "/catalog/"
BAD_QUERIES = [
    "",
    "   ",
    "刀" * 500,
    "a" * 500,
    "！！！。。。，，",
    "?!.,;:'\"",
    "😀🚄🔩",
    '" : * ( AND',
    '硬质合金 AND (刀片 OR "YG8"',
    "name:YG8 OR model:*",
    "NOT OR AND",
    "' OR 1=1 --",
    "%_%",
    "\\",
    "<script>alert(1)</script>",
    "\x00\x01",
]


def use_index(settings, tmp_path):
    """Point the search at a fresh index (and media) in a temporary directory."""
    settings.ZHIYUAN_SEARCH_INDEX_DIR = tmp_path / "search-index"
    settings.MEDIA_ROOT = tmp_path / "media"
    reset_backend()
    return settings.ZHIYUAN_SEARCH_INDEX_DIR


@pytest.fixture(autouse=True)
def index_dir(settings, tmp_path):
    """A fresh search index in a temporary directory for every test."""
    yield use_index(settings, tmp_path)
    reset_backend()


def hit_names(html: str) -> list[str]:
    """The product names of the hits on a page, in order, without their highlighting."""
    found = re.findall(r'data-testid="hit-name">(.*?)</a>', html)
    return [re.sub(r"</?mark>", "", name) for name in found]


def english(client):
    client.cookies["django_language"] = "en"
    return client


def make_catalog(firm_a, firm_b) -> dict[str, Product]:
    """Products of both firms (one of firm_a's unlisted), indexed through the change log."""
    indexing.rebuild()  # an empty index to start from
    iso = Certification.objects.get(name="ISO 9001")
    crcc = Certification.objects.get(name="CRCC 铁路产品认证")
    made = {
        "blade": product_create(
            actor=None,
            enterprise=firm_a,
            data={
                "name": "硬质合金刀片",
                "model_numbers": "YG8 CNMG120408",
                "materials": "碳化钨",
                "description": "用于铸铁车削的硬质合金刀片",
                "capacity": "1200000",
                "capacity_unit": "片",
                "certifications": [iso],
            },
        ),
        "tool": product_create(
            actor=None,
            enterprise=firm_a,
            data={"name": "数控刀具", "model_numbers": "ZY-100", "description": "数控机床用刀具"},
        ),
        "sample": product_create(actor=None, enterprise=firm_a, data={"name": "试制硬质合金棒材", "is_active": False}),
        "paint": product_create(
            actor=None,
            enterprise=firm_b,
            data={
                "name": "轨道车辆用高分子涂料",
                "model_numbers": "FL-2000",
                "description": "地铁车辆车体面漆",
                "certifications": [crcc, iso],
            },
        ),
    }
    indexing.apply_changes()
    return made


@pytest.fixture
def catalog(personas, firm_a, firm_b):
    return make_catalog(firm_a, firm_b)


# ---------------------------------------------------------------- navigation and access


@pytest.mark.parametrize("key", ["leader", "specialist", "investment", "firm_a", "bank", "admin"])
def test_everyone_but_the_city_has_the_products_page(login, key):
    client = english(login(key))
    home = client.get(reverse("core:home")).content.decode()
    assert 'href="/catalog/"' in home
    assert client.get(SEARCH).status_code == 200


def test_the_city_and_strangers_are_kept_out(login, client):
    city = login("city")
    assert city.get(SEARCH).status_code == 403
    assert 'href="/catalog/"' not in city.get(reverse("core:home")).content.decode()
    response = client.get(SEARCH)
    assert response.status_code == 302 and "login" in response["Location"]


# ---------------------------------------------------------------- search


def test_search_finds_ranks_and_highlights(login, catalog):
    html = english(login("firm_b")).get(SEARCH, {"q": "硬质合金刀片"}).content.decode()
    names = hit_names(html)
    assert names and names[0] == "硬质合金刀片"  # the exact name ranks first
    assert "<mark>" in html
    assert "试制硬质合金棒材" not in html  # firm_a's unlisted product is not firm_b's to see
    assert "autofocus" in html


def test_search_by_model_number_and_firm(login, catalog):
    client = english(login("specialist"))
    assert hit_names(client.get(SEARCH, {"q": "YG8"}).content.decode()) == ["硬质合金刀片"]
    assert hit_names(client.get(SEARCH, {"q": "FL-2000"}).content.decode()) == ["轨道车辆用高分子涂料"]
    # The firm's name finds its products.
    assert set(hit_names(client.get(SEARCH, {"q": "飞鹿"}).content.decode())) == {"轨道车辆用高分子涂料"}


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_bad_queries_never_error(login, catalog, query):
    response = english(login("specialist")).get(SEARCH, {"q": query})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html


def test_bad_facet_values_and_pages_never_error(login, catalog):
    client = english(login("specialist"))
    for params in [
        {"chain": "no-such-chain"},
        {"zone": "abc", "size": "gigantic", "division": "99"},
        {"certification": "火星认证" * 40},
        {"page": "-3"},
        {"page": "abc"},
        {"page": "99999999999999999999"},
        {"q": "刀", "page": "400"},
        {"group": "yes", "q": '"'},
    ]:
        response = client.get(SEARCH, params)
        assert response.status_code == 200, params
    html = client.get(SEARCH, {"chain": "no-such-chain"}).content.decode()
    # The unknown value stays ticked (with 0) so it can be unticked.
    assert 'value="no-such-chain" id=' in html and "checked" in html


def test_empty_query_shows_facets_over_all_products_and_a_hint(login, catalog):
    html = english(login("firm_a")).get(SEARCH).content.decode()
    assert 'data-testid="search-hint"' in html
    assert 'data-testid="facets"' in html
    assert "ISO 9001" in html and "CRCC 铁路产品认证" in html
    # Every listed product (the search never shows unlisted ones, not even to their own firm).
    assert 'data-testid="result-summary">' in html and "3 products" in html
    assert len(hit_names(html)) == 3


def test_facets_narrow_over_htmx_with_counts(login, catalog):
    client = english(login("specialist"))
    full = client.get(SEARCH, {"q": "刀片 涂料 刀具"})
    assert full.status_code == 200 and "<html" in full.content.decode()
    fragment = client.get(SEARCH, {"q": "刀片 涂料 刀具", "certification": "CRCC 铁路产品认证"}, HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in html
    assert 'data-testid="facets"' in html and 'data-testid="results"' in html
    assert hit_names(html) == ["轨道车辆用高分子涂料"]
    assert 'value="CRCC 铁路产品认证"' in html


def test_the_page_form_narrows_without_a_reload(login, catalog):
    html = english(login("specialist")).get(SEARCH).content.decode()
    assert 'hx-get="/catalog/"' in html and 'hx-target="#search-body"' in html and 'hx-push-url="true"' in html


def test_group_by_supplier_shows_one_card_per_firm(login, catalog):
    html = english(login("specialist")).get(SEARCH, {"q": "刀片 涂料 刀具", "group": "1"}).content.decode()
    assert html.count('data-testid="supplier-card"') == 2
    assert "Suppliers of" in html


def test_pagination_keeps_the_query_and_filters(login, personas, firm_a):
    for number in range(45):
        product_create(actor=None, enterprise=firm_a, data={"name": f"硬质合金刀片{number:02d}"})
    indexing.rebuild()
    client = english(login("specialist"))
    html = client.get(SEARCH, {"q": "硬质合金", "chain": "other"}).content.decode()
    assert 'data-testid="pagination"' in html and "page=2" in html and "chain=other" in html
    second = client.get(SEARCH, {"q": "硬质合金", "chain": "other", "page": "2"}).content.decode()
    assert second.count('data-testid="hit"') == 20


def test_the_page_says_when_the_index_is_behind(login, catalog, firm_a):
    product_create(actor=None, enterprise=firm_a, data={"name": "新产品"})
    html = english(login("specialist")).get(SEARCH).content.decode()
    assert 'data-testid="lag-notice"' in html and "1 change behind" in html
    indexing.apply_changes()
    assert 'data-testid="lag-notice"' not in english(login("specialist")).get(SEARCH).content.decode()


def test_a_missing_index_is_rebuilt_and_the_page_says_so(login, catalog, index_dir):
    reset_backend()
    real = index_dir.resolve()
    if index_dir.is_symlink():
        index_dir.unlink()
    shutil.rmtree(real, ignore_errors=True)
    assert not index_dir.exists()
    reset_backend()
    response = english(login("specialist")).get(SEARCH, {"q": "硬质合金刀片"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="rebuilt-notice"' in html
    assert hit_names(html)[0] == "硬质合金刀片"


def test_a_corrupt_index_is_rebuilt_and_never_crashes_the_page(login, catalog, index_dir):
    reset_backend()
    for path in index_dir.resolve().rglob("*"):
        if path.is_file():
            path.write_bytes(b"garbage")
    reset_backend()
    response = english(login("specialist")).get(SEARCH, {"q": "硬质合金刀片"})
    assert response.status_code == 200
    assert 'data-testid="rebuilt-notice"' in response.content.decode()


# ---------------------------------------------------------------- suppliers


def test_who_can_supply_lists_firms_with_their_products(login, catalog):
    html = english(login("firm_b")).get(reverse("catalog:suppliers"), {"item": "硬质合金"}).content.decode()
    assert html.count('data-testid="supplier-card"') == 1
    assert "株洲硬质合金集团有限公司" in html and "硬质合金刀片" in hit_names(html)
    # firm_b may not open firm_a's page: the firm is named, not linked.
    assert reverse("enterprises:detail", args=[catalog["blade"].enterprise_id]) not in html


@pytest.mark.parametrize("item", BAD_QUERIES)
def test_suppliers_with_bad_input_never_error(login, catalog, item):
    assert english(login("bank")).get(reverse("catalog:suppliers"), {"item": item}).status_code == 200


# ---------------------------------------------------------------- product pages


def test_product_detail_for_viewers_and_editors(login, catalog):
    blade = catalog["blade"]
    url = reverse("catalog:product_detail", args=[blade.pk])
    html = english(login("firm_b")).get(url).content.decode()
    assert "硬质合金刀片" in html and "ISO 9001" in html and "YG8 CNMG120408" in html
    assert 'data-testid="edit-product"' not in html
    own = english(login("firm_a")).get(url).content.decode()
    assert 'data-testid="edit-product"' in own and 'data-testid="delete-product"' in own
    assert reverse("enterprises:detail", args=[blade.enterprise_id]) in own
    assert 'data-testid="edit-product"' in english(login("specialist")).get(url).content.decode()
    assert 'data-testid="edit-product"' not in english(login("leader")).get(url).content.decode()


def test_an_unlisted_product_is_seen_only_by_its_firm_and_staff(login, catalog):
    url = reverse("catalog:product_detail", args=[catalog["sample"].pk])
    assert login("firm_b").get(url).status_code == 404
    assert login("bank").get(url).status_code == 404
    assert login("firm_a").get(url).status_code == 200
    assert login("leader").get(url).status_code == 200
    assert login("firm_a").get(reverse("catalog:product_detail", args=[999999])).status_code == 404


def test_a_firm_adds_a_product_through_the_service(login, personas, firm_a):
    client = english(login("firm_a"))
    url = reverse("catalog:product_create") + f"?enterprise={firm_a.pk}"
    assert client.get(url).status_code == 200
    iso = Certification.objects.get(name="ISO 9001")
    response = client.post(
        url,
        {
            "name": "  数控  刀具 ",
            "model_numbers": "ZY-200",
            "capacity": "500",
            "capacity_unit": "套",
            "certifications": [iso.pk],
            "is_active": "on",
        },
    )
    product = Product.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("catalog:product_detail", args=[product.pk])
    assert product.name == "数控 刀具" and product.enterprise_id == firm_a.pk  # the service's normalising
    assert list(product.certifications.all()) == [iso]
    assert list(ProductChange.objects.values_list("product_id", "op")) == [(product.pk, "upsert")]


def test_a_firm_user_without_an_enterprise_parameter_adds_to_its_own(login, firm_a):
    response = english(login("firm_a")).post(reverse("catalog:product_create"), {"name": "刀片", "is_active": "on"})
    assert response.status_code == 302 and Product.objects.get().enterprise_id == firm_a.pk


def test_form_errors_come_back_on_the_inputs(login, firm_a):
    client = english(login("firm_a"))
    url = reverse("catalog:product_create") + f"?enterprise={firm_a.pk}"
    response = client.post(url, {"name": "", "capacity": "-1"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-field="name"' in html and 'data-field="capacity"' in html
    assert not Product.objects.exists() and not ProductChange.objects.exists()


def test_a_firm_may_not_add_products_to_another_firm(login, firm_b):
    client = login("firm_a")
    url = reverse("catalog:product_create") + f"?enterprise={firm_b.pk}"
    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "x"}).status_code == 404
    assert client.get(reverse("catalog:product_create") + "?enterprise=abc").status_code == 404
    assert not Product.objects.exists()


@pytest.mark.parametrize("key", ["bank", "leader", "statistics"])
def test_roles_without_write_rights_get_403(login, catalog, firm_a, key):
    client = login(key)
    blade = catalog["blade"]
    assert client.get(reverse("catalog:product_create") + f"?enterprise={firm_a.pk}").status_code == 403
    assert client.post(reverse("catalog:product_create") + f"?enterprise={firm_a.pk}", {"name": "x"}).status_code == 403
    assert client.get(reverse("catalog:product_edit", args=[blade.pk])).status_code == 403
    assert client.post(reverse("catalog:product_edit", args=[blade.pk]), {"name": "x"}).status_code == 403
    assert client.post(reverse("catalog:product_delete", args=[blade.pk])).status_code == 403
    blade.refresh_from_db()
    assert blade.name == "硬质合金刀片"


def test_the_city_gets_403_on_every_catalog_write(login, catalog, firm_a):
    client = login("city")
    blade = catalog["blade"]
    assert client.post(reverse("catalog:product_create") + f"?enterprise={firm_a.pk}", {"name": "x"}).status_code == 403
    assert client.post(reverse("catalog:product_edit", args=[blade.pk]), {"name": "x"}).status_code == 403
    assert client.post(reverse("catalog:product_delete", args=[blade.pk])).status_code == 403
    assert client.get(reverse("catalog:import")).status_code == 403


def test_a_firm_edits_its_own_product_and_each_save_is_logged(login, catalog):
    blade = catalog["blade"]
    before = ProductChange.objects.count()
    client = english(login("firm_a"))
    url = reverse("catalog:product_edit", args=[blade.pk])
    assert client.get(url).status_code == 200
    data = {
        "name": "硬质合金刀片（新）",
        "model_numbers": blade.model_numbers,
        "materials": blade.materials,
        "description": blade.description,
        "capacity": "1200000",
        "capacity_unit": "片",
        "certifications": [c.pk for c in blade.certifications.all()],
        "is_active": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    blade.refresh_from_db()
    assert blade.name == "硬质合金刀片（新）"
    assert ProductChange.objects.count() == before + 1
    assert ProductChange.objects.last().product_id == blade.pk
    # Posting it again unchanged writes nothing.
    client.post(url, {**data, "name": blade.name})
    assert ProductChange.objects.count() == before + 1


def test_another_firms_product_cannot_be_edited_or_deleted_by_a_firm(login, catalog):
    paint = catalog["paint"]
    client = login("firm_a")
    assert client.get(reverse("catalog:product_edit", args=[paint.pk])).status_code == 404
    assert client.post(reverse("catalog:product_edit", args=[paint.pk]), {"name": "x"}).status_code == 404
    assert client.get(reverse("catalog:product_delete", args=[paint.pk])).status_code == 404
    assert client.post(reverse("catalog:product_delete", args=[paint.pk])).status_code == 404
    paint.refresh_from_db()
    assert paint.name == "轨道车辆用高分子涂料"


def test_staff_edit_any_firms_product(login, catalog):
    paint = catalog["paint"]
    response = login("specialist").post(
        reverse("catalog:product_edit", args=[paint.pk]), {"name": "涂料", "is_active": "on"}
    )
    assert response.status_code == 302
    paint.refresh_from_db()
    assert paint.name == "涂料"


def test_delete_asks_then_deletes_and_logs(login, catalog):
    tool = catalog["tool"]
    client = english(login("firm_a"))
    url = reverse("catalog:product_delete", args=[tool.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'data-testid="delete-form"' in page.content.decode()
    assert Product.objects.filter(pk=tool.pk).exists()
    response = client.post(url)
    assert response.status_code == 302
    assert not Product.objects.filter(pk=tool.pk).exists()
    assert ProductChange.objects.order_by("-id").values_list("product_id", "op").first() == (tool.pk, "delete")
    indexing.apply_changes()
    assert "数控刀具" not in client.get(SEARCH, {"q": "数控刀具"}).content.decode().split('data-testid="results"')[1]


def test_an_image_is_uploaded_shown_and_removed(login, firm_a):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    client = english(login("firm_a"))
    url = reverse("catalog:product_create") + f"?enterprise={firm_a.pk}"
    image = SimpleUploadedFile("blade.png", buffer.getvalue(), content_type="image/png")
    client.post(url, {"name": "刀片", "is_active": "on", "image": image})
    product = Product.objects.get()
    assert product.image and product.image.name.startswith("catalog/images/")
    html = client.get(reverse("catalog:product_detail", args=[product.pk])).content.decode()
    assert 'data-testid="product-image"' in html
    image_url = reverse("catalog:product_image", args=[product.pk])
    served = login("firm_b").get(image_url)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == buffer.getvalue()
    assert login("city").get(image_url).status_code == 403
    client.post(
        reverse("catalog:product_edit", args=[product.pk]), {"name": "刀片", "is_active": "on", "remove_image": "on"}
    )
    product.refresh_from_db()
    assert not product.image
    assert client.get(image_url).status_code == 404
    not_an_image = SimpleUploadedFile("fake.png", b"not an image", content_type="image/png")
    response = client.post(url, {"name": "假图", "is_active": "on", "image": not_an_image})
    assert response.status_code == 400 and Product.objects.count() == 1


# ---------------------------------------------------------------- the enterprise page


def test_the_enterprise_page_has_a_products_tab(login, catalog, firm_a):
    html = english(login("firm_a")).get(reverse("enterprises:detail", args=[firm_a.pk])).content.decode()
    assert 'data-testid="products-tab"' in html
    assert reverse("catalog:enterprise_products", args=[firm_a.pk]) in html


def test_the_products_tab_lists_products_needs_and_suggestions(login, catalog, firm_b, personas):
    supply_need_add(actor=None, enterprise=firm_b, item="硬质合金刀片")
    html = english(login("firm_b")).get(reverse("catalog:enterprise_products", args=[firm_b.pk])).content.decode()
    assert "轨道车辆用高分子涂料" in html and 'data-testid="add-product"' in html
    assert 'data-testid="supply-need"' in html and "株洲硬质合金集团有限公司" in html
    # firm_a's tab as staff see it: the unlisted product too, with edit links for editors.
    staff = english(login("specialist")).get(
        reverse("catalog:enterprise_products", args=[catalog["blade"].enterprise_id])
    )
    assert "试制硬质合金棒材" in staff.content.decode() and "not listed" in staff.content.decode()
    leader = english(login("leader")).get(reverse("catalog:enterprise_products", args=[firm_b.pk])).content.decode()
    assert 'data-testid="add-product"' not in leader and 'data-testid="supply-need-form"' not in leader


def test_a_firm_cannot_open_another_firms_products_tab(login, catalog, firm_b):
    assert login("firm_a").get(reverse("catalog:enterprise_products", args=[firm_b.pk])).status_code == 404
    assert login("bank").get(reverse("catalog:enterprise_products", args=[firm_b.pk])).status_code == 404


def test_supply_needs_are_added_and_removed_by_the_firm(login, firm_a, firm_b):
    client = english(login("firm_a"))
    response = client.post(
        reverse("catalog:supply_need_add", args=[firm_a.pk]), {"item": "碳化钨粉", "note": "每月 2 吨"}
    )
    assert response.status_code == 302 and "tab=products" in response["Location"]
    need = SupplyNeed.objects.get()
    assert (need.enterprise_id, need.item) == (firm_a.pk, "碳化钨粉")
    assert client.post(reverse("catalog:supply_need_add", args=[firm_b.pk]), {"item": "x"}).status_code == 404
    assert login("firm_b").post(reverse("catalog:supply_need_remove", args=[need.pk])).status_code == 404
    assert login("leader").post(reverse("catalog:supply_need_remove", args=[need.pk])).status_code == 403
    client.post(reverse("catalog:supply_need_remove", args=[need.pk]))
    assert not SupplyNeed.objects.exists()


# ---------------------------------------------------------------- Excel pages


def _sheet(rows, headers=("统一社会信用代码", "产品名称", "型号规格", "认证")) -> SimpleUploadedFile:
    workbook = Workbook()
    workbook.active.append(list(headers))
    for row in rows:
        workbook.active.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return SimpleUploadedFile("products.xlsx", out.getvalue())


def test_import_check_then_confirm(login, firm_a):
    client = english(login("firm_a"))
    assert client.get(reverse("catalog:import")).status_code == 200
    response = client.post(reverse("catalog:import"), {"file": _sheet([[firm_a.uscc, "刀片", "YG8", "ISO 9001"]])})
    upload = ProductUpload.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("catalog:import_detail", args=[upload.pk])
    html = client.get(response["Location"]).content.decode()
    assert 'data-testid="preview"' in html and 'data-testid="confirm-form"' in html
    assert not Product.objects.exists()
    response = client.post(reverse("catalog:import_confirm", args=[upload.pk]))
    assert response.status_code == 302
    assert Product.objects.get().name == "刀片" and ProductChange.objects.count() == 1
    html = client.get(reverse("catalog:import_detail", args=[upload.pk])).content.decode()
    assert 'data-testid="import-result"' in html
    # Another user cannot see the upload.
    assert login("specialist").get(reverse("catalog:import_detail", args=[upload.pk])).status_code == 404


def test_import_errors_are_listed_by_row_and_column(login, firm_a, firm_b):
    client = english(login("firm_a"))
    client.post(
        reverse("catalog:import"),
        {"file": _sheet([[firm_a.uscc, "刀片", "", "火星认证"], [firm_b.uscc, "涂料", "", ""]])},
    )
    upload = ProductUpload.objects.get()
    html = client.get(reverse("catalog:import_detail", args=[upload.pk])).content.decode()
    assert 'data-testid="row-errors"' in html and 'data-testid="confirm-form"' not in html
    assert "火星认证" in html and "only your own enterprise" in html
    response = client.post(reverse("catalog:import_confirm", args=[upload.pk]))
    assert response.status_code == 400 and not Product.objects.exists()
    client.post(reverse("catalog:import_discard", args=[upload.pk]))
    upload.refresh_from_db()
    assert upload.state == ProductUpload.State.DISCARDED


def test_a_file_that_is_not_a_workbook_is_refused_on_the_form(login):
    client = english(login("specialist"))
    response = client.post(reverse("catalog:import"), {"file": SimpleUploadedFile("x.xlsx", b"hello")})
    assert response.status_code == 400 and "not an Excel .xlsx workbook" in response.content.decode()
    assert not ProductUpload.objects.exists()


@pytest.mark.parametrize("key", ["bank", "leader", "city"])
def test_import_is_for_firms_and_editors(login, key):
    assert login(key).get(reverse("catalog:import")).status_code == 403
    assert login(key).get(reverse("catalog:import_template")).status_code == 403


def test_export_and_template_are_workbooks(login, catalog, firm_a):
    response = login("firm_b").get(reverse("catalog:export"))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    names = [
        row[3] for row in load_workbook(io.BytesIO(response.content)).active.iter_rows(min_row=2, values_only=True)
    ]
    assert sorted(names) == sorted(["硬质合金刀片", "数控刀具", "轨道车辆用高分子涂料"])
    one = login("specialist").get(reverse("catalog:export"), {"enterprise": firm_a.pk})
    names = [row[3] for row in load_workbook(io.BytesIO(one.content)).active.iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == sorted(["硬质合金刀片", "数控刀具", "试制硬质合金棒材"])
    assert login("specialist").get(reverse("catalog:export"), {"enterprise": "x"}).status_code == 404
    template = login("firm_a").get(reverse("catalog:import_template"))
    rows = list(load_workbook(io.BytesIO(template.content)).active.iter_rows(values_only=True))
    assert rows[1][0] == firm_a.uscc
    assert login("city").get(reverse("catalog:export")).status_code == 403


# ---------------------------------------------------------------- admin


def test_the_admin_edits_reference_data_and_only_looks_at_products(login, catalog):
    admin = login("admin")
    for name in [
        "certification",
        "synonym",
        "vocabularyterm",
        "product",
        "productchange",
        "indexstate",
        "productupload",
    ]:
        assert admin.get(f"/admin/catalog/{name}/").status_code == 200, name
    assert admin.get("/admin/catalog/certification/add/").status_code == 200
    assert admin.get("/admin/catalog/synonym/add/").status_code == 200
    assert admin.get("/admin/catalog/product/add/").status_code == 403
    blade = catalog["blade"]
    page = admin.get(f"/admin/catalog/product/{blade.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    response = admin.post("/admin/catalog/vocabularyterm/add/", {"word": "预浸料布"})
    assert response.status_code == 302
    assert login("specialist").get("/admin/catalog/certification/").status_code == 302
