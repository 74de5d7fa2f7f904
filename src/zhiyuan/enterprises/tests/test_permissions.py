"""The permission matrix of the registry: every persona × list/detail/create/update × own/other firm,
on the pages and on the API.

Firm A and firm B are the two firms of the persona fixtures; the firm_a persona works for firm A,
firm_b for firm B. For everyone else both are "some firm". A firm user asking for another firm's
record gets exactly the answer a missing id gets.
"""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from zhiyuan.accounts.permissions import REGISTRY_EDITORS
from zhiyuan.accounts.services import api_token_issue
from zhiyuan.conftest import make_uscc
from zhiyuan.core.models import AuditEntry
from zhiyuan.enterprises.models import Enterprise

pytestmark = pytest.mark.django_db

MISSING_ID = 987654321
EDITOR_KEYS = {"admin", "investment", "project", "service_staff", "specialist"}

# ------------------------------------------------------------------------------------------------ pages
# What each persona gets on each page. "list" is the status of GET /enterprises/ (302 = redirected
# to its own firm); detail/edit are given for firm A and firm B.
#                  list  detail A  detail B  create  edit A  edit B
PAGES = {
    "admin":         (200, 200,      200,      200,    200,    200),
    "leader":        (200, 200,      200,      403,    403,    403),
    "investment":    (200, 200,      200,      200,    200,    200),
    "project":       (200, 200,      200,      200,    200,    200),
    "service_staff": (200, 200,      200,      200,    200,    200),
    "specialist":    (200, 200,      200,      200,    200,    200),
    "window_clerk":  (200, 200,      200,      403,    403,    403),
    "statistics":    (200, 200,      200,      403,    403,    403),
    "firm_a":        (302, 200,      404,      403,    200,    404),
    "firm_b":        (302, 404,      200,      403,    404,    200),
    "bank":          (200, 404,      404,      403,    404,    404),
    "city":          (403, 403,      403,      403,    403,    403),
}  # fmt: skip

# POST: register a firm; save the edit form of firm A / firm B (changing staff).
#                  create  edit A  edit B
PAGE_WRITES = {
    "admin":         (302,   302,    302),
    "leader":        (403,   403,    403),
    "investment":    (302,   302,    302),
    "project":       (302,   302,    302),
    "service_staff": (302,   302,    302),
    "specialist":    (302,   302,    302),
    "window_clerk":  (403,   403,    403),
    "statistics":    (403,   403,    403),
    "firm_a":        (403,   302,    404),
    "firm_b":        (403,   404,    302),
    "bank":          (403,   404,    404),
    "city":          (403,   403,    403),
}  # fmt: skip


def test_the_tables_cover_every_persona_and_match_the_editor_roles(personas):
    assert set(PAGES) == set(PAGE_WRITES) == set(API) == set(API_WRITES) == set(personas)
    assert {key for key in personas if personas[key].role in REGISTRY_EDITORS} == EDITOR_KEYS
    assert {key for key, row in PAGES.items() if row[3] == 200} == EDITOR_KEYS


def _page_cases():
    actions = ["list", "detail", "detail", "create", "edit", "edit"]
    targets = [None, "firm_a", "firm_b", None, "firm_a", "firm_b"]
    for key, row in PAGES.items():
        for action, target, status in zip(actions, targets, row, strict=True):
            yield pytest.param(key, action, target, status, id=f"{key}-{action}{'-' + target if target else ''}")


def _url(action: str, firm=None) -> str:
    return {
        "list": "/enterprises/",
        "detail": f"/enterprises/{firm.pk if firm else MISSING_ID}/",
        "create": "/enterprises/new/",
        "edit": f"/enterprises/{firm.pk if firm else MISSING_ID}/edit/",
    }[action]


@pytest.mark.parametrize(("key", "action", "target", "status"), list(_page_cases()))
def test_page_get(login, firm_a, firm_b, key, action, target, status):
    firms = {"firm_a": firm_a, "firm_b": firm_b}
    response = login(key).get(_url(action, firms.get(target)))
    assert response.status_code == status
    if status == 302:  # a firm user's list is its own firm's page
        own = firms[key]
        assert response["Location"] == f"/enterprises/{own.pk}/"
    if status == 200 and action in {"detail", "edit"}:
        assert firms[target].name in response.content.decode()


@pytest.mark.parametrize("key", [k for k, row in PAGES.items() if row[0] == 200])
def test_list_page_shows_what_the_persona_may_see(login, firm_a, firm_b, key):
    html = login(key).get("/enterprises/").content.decode()
    visible = key != "bank"
    assert (firm_a.name in html) is visible
    assert (firm_b.name in html) is visible


@pytest.mark.parametrize(("key", "other"), [("firm_a", "firm_b"), ("firm_b", "firm_a")])
@pytest.mark.parametrize("action", ["detail", "edit"])
def test_page_for_another_firm_is_indistinguishable_from_a_missing_one(login, personas, key, other, action):
    client = login(key)
    firm = personas[other].organisation.enterprise
    foreign = client.get(_url(action, firm))
    missing = client.get(_url(action))
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content
    assert firm.name.encode() not in foreign.content


@pytest.mark.parametrize("url", ["/enterprises/", "/enterprises/1/", "/enterprises/new/", "/enterprises/1/edit/"])
def test_pages_need_a_login(db, url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def _page_write_cases():
    for key, (create, edit_a, edit_b) in PAGE_WRITES.items():
        yield pytest.param(key, "create", None, create, id=f"{key}-create")
        yield pytest.param(key, "edit", "firm_a", edit_a, id=f"{key}-edit-firm_a")
        yield pytest.param(key, "edit", "firm_b", edit_b, id=f"{key}-edit-firm_b")


def _edit_post(firm: Enterprise, full_form: bool, staff: int) -> dict:
    """The edit form as a browser submits it, with staff changed."""
    firm.refresh_from_db()
    data = {
        "short_name": firm.short_name,
        "address": firm.address,
        "business_scope": firm.business_scope,
        "contact_name": firm.contact_name,
        "contact_phone": firm.contact_phone,
        "contact_id_number": firm.contact_id_number,
        "staff": staff,
        "revenue": firm.revenue or "",
        "total_assets": firm.total_assets or "",
    }
    if full_form:
        data.update(
            uscc=firm.uscc, name=firm.name, legal_representative=firm.legal_representative,
            established_on=firm.established_on.isoformat() if firm.established_on else "",
            registered_capital=firm.registered_capital or "", industry=firm.industry_id, chain=firm.chain,
            zone="", status=firm.status, specialist="",
        )
    return data


@pytest.mark.parametrize(("key", "action", "target", "status"), list(_page_write_cases()))
def test_page_post(login, personas, firm_a, firm_b, key, action, target, status):
    firms = {"firm_a": firm_a, "firm_b": firm_b}
    client = login(key)
    count = Enterprise.objects.count()
    entries = AuditEntry.objects.count()
    if action == "create":
        response = client.post(
            "/enterprises/new/",
            {"uscc": make_uscc(555), "name": "株洲新登记有限公司", "industry": "3311", "chain": "other",
             "status": "operating", "staff": 30},
        )
        written = Enterprise.objects.filter(uscc=make_uscc(555)).first()
        if status == 302:
            assert written is not None
            assert response["Location"] == f"/enterprises/{written.pk}/"
            assert Enterprise.objects.count() == count + 1
        else:
            assert written is None
    else:
        firm = firms[target]
        old_staff = firm.staff
        response = client.post(f"/enterprises/{firm.pk}/edit/", _edit_post(firm, key in EDITOR_KEYS, 1234))
        firm.refresh_from_db()
        if status == 302:
            assert response["Location"] == f"/enterprises/{firm.pk}/"
            assert firm.staff == 1234
            entry = AuditEntry.objects.filter(action="enterprises.enterprise.updated").get()
            assert entry.actor == personas[key]
            # Only the field that changed is recorded (the unchanged inputs of the form are not).
            assert entry.changes == {"staff": [old_staff, 1234]}
        else:
            assert firm.staff != 1234
    assert response.status_code == status
    if status != 302:
        assert Enterprise.objects.count() == count
        assert AuditEntry.objects.count() == entries


def test_firm_user_cannot_rename_its_firm_through_the_edit_form(login, firm_a):
    data = _edit_post(firm_a, full_form=False, staff=4999)
    data.update(name="冒名有限公司", uscc=make_uscc(9), industry="6511", status="deregistered")
    response = login("firm_a").post(f"/enterprises/{firm_a.pk}/edit/", data)
    assert response.status_code == 302
    firm_a.refresh_from_db()
    assert firm_a.staff == 4999
    assert (firm_a.name, firm_a.uscc, firm_a.industry_id, firm_a.status) == (
        "株洲硬质合金集团有限公司", make_uscc(1), "3240", "operating"
    )


def test_firm_user_edit_page_offers_only_self_service_fields(login, firm_a):
    html = login("firm_a").get(f"/enterprises/{firm_a.pk}/edit/").content.decode()
    assert 'name="staff"' in html
    assert 'name="contact_phone"' in html
    for forbidden in ["uscc", "name", "industry", "status", "specialist", "chain"]:
        assert f'name="{forbidden}"' not in html, forbidden


def test_edit_button_only_for_those_who_may_edit(login, firm_a, firm_b):
    edit_link = f'href="/enterprises/{firm_a.pk}/edit/"'
    assert edit_link in login("specialist").get(f"/enterprises/{firm_a.pk}/").content.decode()
    assert edit_link in login("firm_a").get(f"/enterprises/{firm_a.pk}/").content.decode()
    assert edit_link not in login("leader").get(f"/enterprises/{firm_a.pk}/").content.decode()
    assert 'href="/enterprises/new/"' not in login("leader").get("/enterprises/").content.decode()
    assert 'href="/enterprises/new/"' in login("specialist").get("/enterprises/").content.decode()


@pytest.mark.parametrize(("key", "clear"), [("specialist", True), ("window_clerk", True), ("leader", False),
                                            ("statistics", False)])
def test_list_page_masks_phone_numbers_for_roles_that_do_not_need_them(login, firm_a, key, clear):
    html = login(key).get("/enterprises/").content.decode()
    assert ("13812341234" in html) is clear
    assert ("138****1234" in html) is not clear


@pytest.mark.parametrize(("key", "clear"), [("specialist", True), ("firm_a", True), ("leader", False)])
def test_detail_page_masks_phone_numbers_for_roles_that_do_not_need_them(login, firm_a, key, clear):
    html = login(key).get(f"/enterprises/{firm_a.pk}/").content.decode()
    assert ("13812341234" in html) is clear
    assert ("138****1234" in html) is not clear


# -------------------------------------------------------------------------------------------------- API
# GET list: how many rows; GET detail, PATCH (staff) of firm A / firm B; POST create.
#                  rows  detail A  detail B  create  patch A  patch B
API = {
    "admin":         (2,   200,      200,      201,    200,     200),
    "leader":        (2,   200,      200,      403,    403,     403),
    "investment":    (2,   200,      200,      201,    200,     200),
    "project":       (2,   200,      200,      201,    200,     200),
    "service_staff": (2,   200,      200,      201,    200,     200),
    "specialist":    (2,   200,      200,      201,    200,     200),
    "window_clerk":  (2,   200,      200,      403,    403,     403),
    "statistics":    (2,   200,      200,      403,    403,     403),
    "firm_a":        (1,   200,      404,      403,    200,     404),
    "firm_b":        (1,   404,      200,      403,    404,     200),
    "bank":          (0,   404,      404,      403,    404,     404),
    "city":          (0,   404,      404,      403,    404,     404),
}  # fmt: skip

# PATCH of a field outside the firm's self-service fields, on firm A / firm B.
API_WRITES = {key: (row[4], row[5]) for key, row in API.items()}
API_WRITES.update({"firm_a": (403, 404), "firm_b": (404, 403)})


def _api(personas, key: str) -> APIClient:
    client = APIClient()
    client.force_login(personas[key])
    return client


def _city_token_client(personas) -> APIClient:
    token = api_token_issue(actor=None, user=personas["city"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def _assert_error_body(response, code: str) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    return body["error"]


@pytest.mark.parametrize("key", list(API))
def test_api_list(personas, firm_a, firm_b, key):
    response = _api(personas, key).get("/api/enterprises/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == API[key][0]
    names = {row["name"] for row in body["results"]}
    if key in {"firm_a", "firm_b"}:
        assert names == {personas[key].organisation.enterprise.name}
    elif API[key][0]:
        assert names == {firm_a.name, firm_b.name}


@pytest.mark.parametrize("key", list(API))
@pytest.mark.parametrize(("target", "column"), [("firm_a", 1), ("firm_b", 2)])
def test_api_detail(personas, firm_a, firm_b, key, target, column):
    firm = {"firm_a": firm_a, "firm_b": firm_b}[target]
    response = _api(personas, key).get(f"/api/enterprises/{firm.pk}/")
    assert response.status_code == API[key][column]
    if response.status_code == 200:
        assert response.json()["uscc"] == firm.uscc
    else:
        _assert_error_body(response, "not_found")


@pytest.mark.parametrize("key", list(API))
def test_api_create(personas, firm_a, key):
    count = Enterprise.objects.count()
    response = _api(personas, key).post(
        "/api/enterprises/",
        {"uscc": make_uscc(600), "name": "株洲接口登记有限公司", "industry": "3311", "staff": 25, "revenue": "500"},
        format="json",
    )
    assert response.status_code == API[key][3]
    if response.status_code == 201:
        body = response.json()
        assert body["uscc"] == make_uscc(600)
        assert body["size_class"] == "small"
        assert Enterprise.objects.count() == count + 1
        entry = AuditEntry.objects.get(action="enterprises.enterprise.created", object_id=str(body["id"]))
        assert entry.actor == personas[key]
    else:
        _assert_error_body(response, "permission_denied")
        assert Enterprise.objects.count() == count


@pytest.mark.parametrize("key", list(API))
@pytest.mark.parametrize(("target", "column"), [("firm_a", 4), ("firm_b", 5)])
def test_api_patch_self_service_field(personas, firm_a, firm_b, key, target, column):
    firm = {"firm_a": firm_a, "firm_b": firm_b}[target]
    entries = AuditEntry.objects.count()
    response = _api(personas, key).patch(f"/api/enterprises/{firm.pk}/", {"staff": 4321}, format="json")
    assert response.status_code == API[key][column]
    firm.refresh_from_db()
    if response.status_code == 200:
        assert response.json()["staff"] == 4321
        assert firm.staff == 4321
        assert AuditEntry.objects.filter(action="enterprises.enterprise.updated").get().actor == personas[key]
    else:
        _assert_error_body(response, {403: "permission_denied", 404: "not_found"}[response.status_code])
        assert firm.staff != 4321
        assert AuditEntry.objects.count() == entries


@pytest.mark.parametrize("key", list(API_WRITES))
@pytest.mark.parametrize(("target", "column"), [("firm_a", 0), ("firm_b", 1)])
def test_api_patch_registry_field(personas, firm_a, firm_b, key, target, column):
    firm = {"firm_a": firm_a, "firm_b": firm_b}[target]
    entries = AuditEntry.objects.count()
    response = _api(personas, key).patch(f"/api/enterprises/{firm.pk}/", {"name": "改名有限公司"}, format="json")
    assert response.status_code == API_WRITES[key][column]
    firm.refresh_from_db()
    if response.status_code == 200:
        assert firm.name == "改名有限公司"
    else:
        error = _assert_error_body(response, {403: "permission_denied", 404: "not_found"}[response.status_code])
        assert firm.name != "改名有限公司"
        assert AuditEntry.objects.count() == entries
        if key in {"firm_a", "firm_b"} and response.status_code == 403:
            # The message names the field the firm may not change.
            assert str(Enterprise._meta.get_field("name").verbose_name) in error["message"]


def test_api_patch_with_forbidden_and_allowed_fields_changes_nothing(personas, firm_a):
    response = _api(personas, "firm_a").patch(
        f"/api/enterprises/{firm_a.pk}/", {"staff": 1, "industry": "6511"}, format="json"
    )
    assert response.status_code == 403
    _assert_error_body(response, "permission_denied")
    firm_a.refresh_from_db()
    assert (firm_a.staff, firm_a.industry_id) == (5000, "3240")


@pytest.mark.parametrize(("key", "other"), [("firm_a", "firm_b"), ("firm_b", "firm_a")])
@pytest.mark.parametrize("method", ["get", "patch"])
def test_api_another_firm_is_indistinguishable_from_a_missing_one(personas, key, other, method):
    client = _api(personas, key)
    firm = personas[other].organisation.enterprise
    send = getattr(client, method)
    kwargs = {"data": {"contact_name": "x"}, "format": "json"} if method == "patch" else {}
    foreign = send(f"/api/enterprises/{firm.pk}/", **kwargs)
    missing = send(f"/api/enterprises/{MISSING_ID}/", **kwargs)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    _assert_error_body(foreign, "not_found")


def test_api_list_filters_for_a_firm_user_cannot_reach_other_firms(personas, firm_a, firm_b):
    client = _api(personas, "firm_a")
    assert client.get("/api/enterprises/", {"q": "飞鹿"}).json()["count"] == 0
    assert client.get("/api/enterprises/", {"q": "株硬"}).json()["count"] == 1


# ---------------------------------------------------------------- the city client with its API token


def test_city_token_sees_no_firm(personas, firm_a):
    client = _city_token_client(personas)
    response = client.get("/api/enterprises/")
    assert response.status_code == 200
    assert response.json()["count"] == 0
    response = client.get(f"/api/enterprises/{firm_a.pk}/")
    assert response.status_code == 404
    _assert_error_body(response, "not_found")


def test_city_token_may_not_write(personas, firm_a):
    client = _city_token_client(personas)
    response = client.post(
        "/api/enterprises/", {"uscc": make_uscc(601), "name": "市级写入", "industry": "3311"}, format="json"
    )
    assert response.status_code == 403
    _assert_error_body(response, "permission_denied")
    response = client.patch(f"/api/enterprises/{firm_a.pk}/", {"staff": 1}, format="json")
    assert response.status_code == 404
    assert not Enterprise.objects.filter(uscc=make_uscc(601)).exists()


def test_token_authenticates_a_district_user(personas, firm_a, firm_b):
    token = api_token_issue(actor=None, user=personas["specialist"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/enterprises/").json()["count"] == 2


def test_reissued_token_replaces_the_old_one(personas):
    old = api_token_issue(actor=None, user=personas["city"]).key
    api_token_issue(actor=None, user=personas["city"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    response = client.get("/api/enterprises/")
    assert response.status_code in {401, 403}
    _assert_error_body(response, response.json()["error"]["code"])


def test_api_needs_authentication(db):
    response = APIClient().get("/api/enterprises/")
    assert response.status_code in {401, 403}
    _assert_error_body(response, "not_authenticated")


# ---------------------------------------------------------------- error bodies


def test_api_validation_error_names_the_field(personas, firm_a):
    count = Enterprise.objects.count()
    response = _api(personas, "specialist").post(
        "/api/enterprises/",
        {"uscc": make_uscc(602)[:-1] + "Z", "name": "校验失败有限公司", "industry": "3311"},
        format="json",
    )
    assert response.status_code == 400
    error = _assert_error_body(response, "validation_failed")
    assert set(error["fields"]) == {"uscc"}
    assert all(isinstance(m, str) and m for m in error["fields"]["uscc"])
    assert Enterprise.objects.count() == count


@pytest.mark.parametrize("field", ["staff", "revenue"])
def test_api_negative_figure_names_the_field(personas, field):
    response = _api(personas, "specialist").post(
        "/api/enterprises/",
        {"uscc": make_uscc(603), "name": "负数有限公司", "industry": "3311", field: -3},
        format="json",
    )
    assert response.status_code == 400
    assert field in _assert_error_body(response, "validation_failed")["fields"]
    assert not Enterprise.objects.filter(uscc=make_uscc(603)).exists()


def test_api_duplicate_uscc_names_the_field(personas, firm_a):
    response = _api(personas, "specialist").post(
        "/api/enterprises/", {"uscc": firm_a.uscc, "name": "重复有限公司", "industry": "3311"}, format="json"
    )
    assert response.status_code == 400
    assert "uscc" in _assert_error_body(response, "validation_failed")["fields"]


def test_api_patch_validation_error(personas, firm_a):
    response = _api(personas, "specialist").patch(
        f"/api/enterprises/{firm_a.pk}/", {"industry": "C", "established_on": "2999-01-01"}, format="json"
    )
    assert response.status_code == 400
    fields = _assert_error_body(response, "validation_failed")["fields"]
    assert {"industry", "established_on"} <= set(fields)


def test_api_missing_required_field(personas):
    response = _api(personas, "specialist").post("/api/enterprises/", {"name": "无代码"}, format="json")
    assert response.status_code == 400
    fields = _assert_error_body(response, "validation_failed")["fields"]
    assert {"uscc", "industry"} <= set(fields)


def test_api_not_found_body(personas):
    response = _api(personas, "specialist").get(f"/api/enterprises/{MISSING_ID}/")
    assert response.status_code == 404
    assert _assert_error_body(response, "not_found")["fields"] == {}


@pytest.mark.parametrize(("key", "clear"), [("specialist", True), ("firm_a", True), ("leader", False)])
def test_api_masks_phone_numbers_for_roles_that_do_not_need_them(personas, firm_a, key, clear):
    row = _api(personas, key).get(f"/api/enterprises/{firm_a.pk}/").json()
    assert row["contact_phone"] == ("13812341234" if clear else "138****1234")
