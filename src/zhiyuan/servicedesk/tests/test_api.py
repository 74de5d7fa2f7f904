"""The service-desk API: scoping per role (firm A vs firm B, bank, city, leader read-only, another
specialist read-only), the full life of a request, visits, filters and the one error format."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from zhiyuan.servicedesk.models import Category, RequestStatus, ServiceRequest, Visit
from zhiyuan.servicedesk.tests.test_services import assign_specialist, make_specialist, request_in, submit

S = RequestStatus
URL = "/api/servicedesk/requests/"
VISITS = "/api/servicedesk/visits/"


@pytest.fixture
def desk(personas, firm_a):
    assign_specialist(firm_a, personas["specialist"])
    return personas


@pytest.fixture
def api(desk):
    def _client(key):
        client = APIClient()
        client.force_authenticate(desk[key])
        return client

    return _client


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_firms_see_only_their_own_requests(api, desk):
    a = submit(desk, "firm_a")
    b = submit(desk, "firm_b")
    assert ids(api("firm_a").get(URL)) == {a.pk}
    assert ids(api("firm_b").get(URL)) == {b.pk}
    assert ids(api("leader").get(URL)) == {a.pk, b.pk}
    response = api("firm_b").get(f"{URL}{a.pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert api("firm_b").get(f"{URL}999999/").json() == response.json()


def test_the_firm_shape_hides_internal_fields(api, desk):
    request = submit(desk)
    firm = api("firm_a").get(f"{URL}{request.pk}/").json()
    staff = api("leader").get(f"{URL}{request.pk}/").json()
    assert "escalation_level" not in firm and "submitted_by" not in firm
    assert staff["escalation_level"] == 0 and staff["submitted_by"]["id"] == desk["firm_a"].pk
    assert [e["kind"] for e in firm["events"]] == ["submitted"]


@pytest.mark.parametrize("role", ["bank", "city"])
def test_banks_and_the_city_see_nothing_of_the_desk(api, desk, role):
    request = submit(desk)
    for response in (
        api(role).get(URL),
        api(role).get(f"{URL}{request.pk}/"),
        api(role).post(f"{URL}{request.pk}/sign-for/"),
        api(role).get(VISITS),
    ):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"


def test_banks_see_published_financing_needs_only(api, desk):
    published = submit(
        desk, category=Category.FINANCING, financing={"amount": 800, "purpose": "设备更新", "share_with_banks": True}
    )
    submit(desk, category=Category.FINANCING, financing={"amount": 300})
    response = api("bank").get(f"{URL}financing-needs/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["id"] for r in rows] == [published.pk]
    assert rows[0]["financing_amount"] == "800.00"
    assert "description" not in rows[0] and "title" not in rows[0]
    assert api("city").get(f"{URL}financing-needs/").status_code == 403
    assert api("firm_a").get(f"{URL}financing-needs/").status_code == 403


def test_the_full_life_through_the_api(api, desk):
    created = api("firm_a").post(
        URL,
        {
            "category": Category.LABOUR,
            "title": "招聘数控工",
            "description": "扩产需要数控车工",
            "labour": {"positions": "数控车工", "headcount": 30, "skills": "数控车床"},
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    pk = body["id"]
    assert body["channel"] == "online" and body["labour_headcount"] == 30
    assert body["assignee"]["id"] == desk["specialist"].pk
    specialist, firm = api("specialist"), api("firm_a")
    assert specialist.post(f"{URL}{pk}/sign-for/").json()["status"] == S.SIGNED_FOR
    assert specialist.post(f"{URL}{pk}/ask-firm/", {"note": "请提供岗位要求"}).json()["status"] == S.WAITING_FOR_FIRM
    assert firm.post(f"{URL}{pk}/add-information/", {"note": "见附件"}).json()["status"] == S.IN_PROGRESS
    assert specialist.post(f"{URL}{pk}/reply/", {"note": "已对接人社局"}).json()["status"] == S.IN_PROGRESS
    assert specialist.post(f"{URL}{pk}/resolve/", {"resolution": "招聘会推荐25人"}).json()["status"] == S.RESOLVED
    reopened = firm.post(f"{URL}{pk}/reopen/", {"reason": "人数不够"}).json()
    assert reopened["status"] == S.REOPENED and reopened["reopen_count"] == 1
    specialist.post(f"{URL}{pk}/resolve/", {"resolution": "再推荐10人"})
    closed = firm.post(f"{URL}{pk}/rate/", {"rating": 5, "comment": "满意"}).json()
    assert closed["status"] == S.CLOSED and closed["rating"] == 5
    kinds = [e["kind"] for e in closed["events"]]
    assert kinds == [
        "submitted",
        "sign_for",
        "ask_firm",
        "add_information",
        "reply",
        "resolve",
        "reopen",
        "resolve",
        "rate",
    ]


def test_staff_register_on_behalf_and_transfer(api, desk, firm_b):
    from zhiyuan.accounts.models import Organisation, OrganisationKind

    response = api("service_staff").post(
        URL,
        {"enterprise": firm_b.pk, "category": Category.UTILITIES, "description": "停水", "channel": "phone"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["channel"] == "phone"
    water = Organisation.objects.create(name="荷塘区水务局", kind=OrganisationKind.DISTRICT)
    moved = api("service_staff").post(
        f"{URL}{response.json()['id']}/transfer/", {"department": water.pk, "note": "转水务局"}
    )
    assert moved.status_code == 200
    assert moved.json()["department"]["id"] == water.pk


def test_a_firm_cannot_submit_for_another(api, desk, firm_b):
    response = api("firm_a").post(
        URL, {"enterprise": firm_b.pk, "category": "policy", "description": "x"}, format="json"
    )
    assert response.status_code == 403
    assert not ServiceRequest.objects.exists()


def test_read_only_roles_get_403(api, desk):
    request = submit(desk)
    other = make_specialist("zhuanyuan2")
    client = APIClient()
    client.force_authenticate(other)
    for response in (client.post(f"{URL}{request.pk}/sign-for/"), api("leader").post(f"{URL}{request.pk}/sign-for/")):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
    assert (
        api("leader")
        .post(
            URL,
            {"enterprise": request.enterprise_id, "category": "policy", "description": "x", "channel": "phone"},
            format="json",
        )
        .status_code
        == 403
    )
    request.refresh_from_db()
    assert request.status == S.SUBMITTED


def test_error_format(api, desk):
    bad = api("firm_a").post(URL, {"category": "tea", "description": ""}, format="json")
    assert bad.status_code == 400
    error = bad.json()["error"]
    assert error["code"] == "validation_failed"
    assert set(error["fields"]) == {"category", "description"}
    unknown = api("firm_a").post(URL, {"category": "policy", "description": "x", "colour": "red"}, format="json")
    assert unknown.status_code == 400 and "colour" in unknown.json()["error"]["fields"]
    request = request_in(S.RESOLVED, desk)
    rating = api("firm_a").post(f"{URL}{request.pk}/rate/", {"rating": 9})
    assert rating.status_code == 400 and "rating" in rating.json()["error"]["fields"]
    conflict = api("specialist").post(f"{URL}{request.pk}/sign-for/")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "conflict"
    assert api("firm_b").post(f"{URL}{request.pk}/rate/", {"rating": 5}).status_code == 404
    no_note = api("specialist").post(f"{URL}{request_in(S.IN_PROGRESS, desk).pk}/resolve/", {"resolution": " "})
    assert no_note.status_code == 400 and "resolution" in no_note.json()["error"]["fields"]


def test_filters(api, desk):
    overdue = submit(desk, on=dt.date(2026, 11, 2))
    fresh = submit(desk, category=Category.LAND, on=dt.date.today())
    request_in(S.CLOSED, desk, on=dt.date(2026, 11, 2))
    client = api("specialist")
    assert ids(client.get(URL, {"overdue": "true"})) == {overdue.pk}
    assert ids(client.get(URL, {"category": "land"})) == {fresh.pk}
    assert len(ids(client.get(URL, {"status": "closed"}))) == 1
    assert len(ids(client.get(URL, {"assignee": desk["specialist"].pk}))) == 3


def test_visits(api, desk, firm_a):
    client = api("specialist")
    created = client.post(
        VISITS,
        {"enterprise": firm_a.pk, "visited_on": "2026-11-02", "people_met": "总经理", "findings": "缺工、缺资金"},
    )
    assert created.status_code == 201, created.content
    visit_id = created.json()["id"]
    made = client.post(
        f"{VISITS}{visit_id}/create-requests/",
        {
            "items": [
                {
                    "category": "labour",
                    "title": "招工",
                    "description": "缺数控工",
                    "labour": {"positions": "数控工", "headcount": 8},
                },
                {"category": "financing", "title": "贷款", "description": "流动资金"},
            ]
        },
        format="json",
    )
    assert made.status_code == 201, made.content
    assert [r["channel"] for r in made.json()] == ["visit", "visit"]
    assert ServiceRequest.objects.filter(visit_id=visit_id).count() == 2
    listed = api("leader").get(VISITS).json()["results"]
    assert listed[0]["id"] == visit_id and len(listed[0]["request_ids"]) == 2
    bad = client.post(
        f"{VISITS}{visit_id}/create-requests/", {"items": [{"category": "x", "description": ""}]}, format="json"
    )
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"items.1.category", "items.1.description"}
    assert api("firm_a").get(VISITS).status_code == 403
    assert (
        api("leader").post(VISITS, {"enterprise": firm_a.pk, "visited_on": "2026-11-02", "findings": "x"}).status_code
        == 403
    )
    assert Visit.objects.count() == 1


def test_openapi_lists_the_endpoints(login):
    schema = login("leader").get("/api/schema/?format=json").json()
    paths = schema["paths"]
    for path in (
        "/api/servicedesk/requests/",
        "/api/servicedesk/requests/{id}/sign-for/",
        "/api/servicedesk/requests/{id}/rate/",
        "/api/servicedesk/requests/financing-needs/",
        "/api/servicedesk/visits/{id}/create-requests/",
    ):
        assert path in paths, path
