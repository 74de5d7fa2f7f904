"""The approval-desk API: the whole window flow by API, bad input (each naming the field and changing
nothing), the state machine's 409s, scoping per role (firm A vs firm B, clerk, bank, city) and OpenAPI."""

import pytest
from rest_framework.test import APIClient

from zhiyuan.approvals import services
from zhiyuan.approvals.models import Application, ApplicationMaterial, ApplicationStatus, ApprovalItem
from zhiyuan.approvals.tests.conftest import pdf
from zhiyuan.datalink.models import OutboxMessage

S = ApplicationStatus
ITEMS = "/api/approvals/items/"
URL = "/api/approvals/applications/"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def api(personas):
    def _client(key):
        client = APIClient()
        client.force_authenticate(personas[key])
        return client

    return _client


def required(item):
    return list(item.materials.filter(required=True).order_by("order", "id"))


def create(api, project, item, key="firm_a"):
    response = api(key).post(
        URL,
        {
            "item": item.code,
            "project": project.pk,
            "contact_name": "张三",
            "contact_phone": "13812341234",
            "description": "综合楼施工",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def upload(api, application_id, requirement_id, name="file.pdf", key="firm_a", content=b"%PDF-1.4 test"):
    data = {"file": pdf(name, content)}
    if requirement_id is not None:
        data["requirement"] = requirement_id
    return api(key).post(f"{URL}{application_id}/materials/", data, format="multipart")


def post(api, key, application_id, step, data=None):
    return api(key).post(f"{URL}{application_id}/{step}/", data or {}, format="json")


def error(response, status_code):
    assert response.status_code == status_code, response.content
    return response.json()["error"]


@pytest.fixture
def submitted(api, personas, project_a, permit_item):
    """Firm A's construction-permit application with every required PDF, submitted through the services."""
    firm = personas["firm_a"]
    application = services.application_create(
        actor=firm, item=permit_item, project=project_a, contact_name="张三", contact_phone="13812341234"
    )
    for requirement in required(permit_item):
        services.material_add(
            actor=firm, application=application, requirement=requirement, uploaded_file=pdf(f"{requirement.pk}.pdf")
        )
    return services.application_submit(actor=firm, application=application)


# --- the catalogue ----------------------------------------------------------------------------------


def test_the_catalogue_lists_active_items_with_their_materials(api, permit_item):
    response = api("firm_a").get(ITEMS)
    assert response.status_code == 200
    rows = {row["code"]: row for row in response.json()["results"]}
    assert len(rows) >= 9
    permit = rows["construction_permit"]
    assert permit["department"] == "株洲市住房和城乡建设局"
    assert permit["time_limit_workdays"] == 7 and permit["legal_basis"]
    assert [m["required"] for m in permit["materials"]].count(True) == 5
    assert set(permit["materials"][0]) == {"id", "name", "required", "file_types", "note"}
    by_code = api("leader").get(f"{ITEMS}construction_permit/")
    by_id = api("leader").get(f"{ITEMS}{permit_item.pk}/")
    assert by_code.status_code == by_id.status_code == 200 and by_code.json() == by_id.json()
    permit_item.is_active = False
    permit_item.save()
    assert error(api("firm_a").get(f"{ITEMS}construction_permit/"), 404)["code"] == "not_found"


@pytest.mark.parametrize("role", ["bank", "city"])
def test_banks_and_the_city_see_no_catalogue(api, role, permit_item):
    response = api(role).get(ITEMS)
    assert response.status_code == 200 and response.json()["results"] == []
    assert api(role).get(f"{ITEMS}construction_permit/").status_code == 404


# --- the whole flow ----------------------------------------------------------------------------------


def test_the_whole_window_flow_by_api(api, personas, project_a, permit_item):
    created = create(api, project_a, permit_item)
    assert created["status"] == "draft" and created["project_code"] == project_a.code
    assert created["item"]["code"] == "construction_permit" and created["enterprise"]["id"] == project_a.enterprise_id
    assert len(created["missing_materials"]) == 5 and created["next_step"]
    pk = created["id"]
    for requirement in required(permit_item):
        response = upload(api, pk, requirement.pk, f"{requirement.name}.pdf")
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["requirement"] == requirement.pk and body["round"] == 0 and body["is_current"]
        assert len(body["sha256"]) == 64 and body["size"] == len(b"%PDF-1.4 test")

    submitted = post(api, "firm_a", pk, "submit")
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == "submitted" and submitted.json()["received_on"]

    first = required(permit_item)[0]
    corrections = post(
        api,
        "window_clerk",
        pk,
        "request-correction",
        {
            "items": [{"requirement": first.pk, "problem": "扫描件模糊"}, {"requirement": None, "problem": "缺少签章"}],
            "note": "请补正",
        },
    )
    assert corrections.status_code == 200, corrections.content
    body = corrections.json()
    assert body["status"] == "correction" and body["corrections_requested"]
    assert [c["requirement"] for c in body["correction_items"]] == [first.pk, None]

    # Resubmitting before the listed material is corrected names it.
    assert "materials" in error(post(api, "firm_a", pk, "submit"), 400)["fields"]
    replaced = upload(api, pk, first.pk, "clear.pdf", content=b"%PDF-1.4 clear")
    assert replaced.status_code == 201 and replaced.json()["round"] == 1
    resubmitted = post(api, "firm_a", pk, "submit")
    assert resubmitted.status_code == 200, resubmitted.content
    assert resubmitted.json()["status"] == "submitted"
    current = [m for m in resubmitted.json()["materials"] if m["requirement"] == first.pk]
    assert [(m["original_name"], m["is_current"]) for m in current] == [
        (f"{first.name}.pdf", False),
        ("clear.pdf", True),
    ]

    accepted = post(api, "window_clerk", pk, "accept", {"note": "材料齐全"})
    assert accepted.status_code == 200, accepted.content
    body = accepted.json()
    assert body["status"] == "accepted" and body["accepted_on"] and body["accepted_by"]["id"]
    message = OutboxMessage.objects.get()
    assert message.message_type == "application.submit"
    assert message.payload["application_number"] == body["number"]
    assert Application.objects.get(pk=pk).forward_message_id == message.message_id

    timeline = api("firm_a").get(f"{URL}{pk}/timeline/")
    assert timeline.status_code == 200
    kinds = [e["kind"] for e in timeline.json()]
    assert kinds[0] == "created" and kinds[-2:] == ["accepted", "forwarded"]
    assert {"submitted", "correction_requested", "resubmitted"} <= set(kinds)
    assert api("firm_a").get(URL).json()["results"][0]["status"] == "accepted"


def test_the_detail_shows_the_clock_and_the_next_step(api, submitted):
    body = api("window_clerk").get(f"{URL}{submitted.pk}/").json()
    assert set(body["clock"]) == {"label", "due", "days_left", "overdue"}
    assert body["clock"]["due"] == (str(submitted.accept_due) if submitted.accept_due else None)
    assert body["next_step"] and body["missing_materials"] == []
    assert {
        "city_case_number",
        "city_received_on",
        "city_due",
        "decision",
        "certificate_number",
        "certificate_date",
        "collected_by",
    } <= set(body)


def test_withdraw_and_remove_material(api, project_a, permit_item):
    pk = create(api, project_a, permit_item)["id"]
    material_id = upload(api, pk, required(permit_item)[0].pk).json()["id"]
    assert api("firm_a").delete(f"{URL}{pk}/materials/{material_id}/").status_code == 204
    assert not ApplicationMaterial.objects.filter(pk=material_id).exists()
    assert error(api("firm_a").delete(f"{URL}{pk}/materials/{material_id}/"), 404)["code"] == "not_found"
    assert "reason" in error(post(api, "firm_a", pk, "withdraw", {"reason": ""}), 400)["fields"]
    withdrawn = post(api, "firm_a", pk, "withdraw", {"reason": "项目调整"})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"


def test_filters_and_ordering(api, submitted, project_b, permit_item):
    other = create(api, project_b, permit_item, key="firm_b")
    clerk = api("window_clerk")

    def ids(params):
        response = clerk.get(URL, params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids({"status": "submitted"}) == [submitted.pk]
    assert ids({"status": "draft"}) == [other["id"]]
    assert set(ids({"item": "construction_permit"})) == {submitted.pk, other["id"]}
    assert ids({"item": "project_filing"}) == []
    assert ids({"project": project_b.pk}) == [other["id"]]
    assert ids({"enterprise": submitted.enterprise_id}) == [submitted.pk]
    assert ids({"ordering": "created_at"}) == [submitted.pk, other["id"]]
    assert ids({"ordering": "-created_at"}) == [other["id"], submitted.pk]
    assert error(clerk.get(URL, {"status": "nonsense"}), 400)["fields"]["status"]


# --- bad input: the error names the field and nothing changes --------------------------------------


def test_submit_names_every_missing_material(api, project_a, permit_item):
    pk = create(api, project_a, permit_item)["id"]
    needed = required(permit_item)
    upload(api, pk, needed[0].pk)
    fields = error(post(api, "firm_a", pk, "submit"), 400)["fields"]
    assert len(fields["materials"]) == len(needed) - 1
    for requirement in needed[1:]:
        assert any(requirement.name in line for line in fields["materials"])
    assert Application.objects.get(pk=pk).status == S.DRAFT


def test_a_wrong_file_type_is_refused(api, project_a, permit_item):
    pk = create(api, project_a, permit_item)["id"]
    response = upload(api, pk, required(permit_item)[0].pk, "scan.exe")
    assert "file" in error(response, 400)["fields"]
    assert not ApplicationMaterial.objects.exists()


def test_an_oversized_upload_is_refused(api, settings, project_a, permit_item):
    settings.ZHIYUAN_APPROVALS_MATERIAL_MAX_BYTES = 10
    pk = create(api, project_a, permit_item)["id"]
    response = upload(api, pk, required(permit_item)[0].pk, "big.pdf", content=b"%PDF-1.4 " + b"x" * 100)
    assert "file" in error(response, 400)["fields"]
    assert not ApplicationMaterial.objects.exists()


def test_a_material_of_another_item_or_a_missing_requirement_is_refused(api, project_a, permit_item):

    pk = create(api, project_a, permit_item)["id"]
    foreign = ApprovalItem.objects.get(code="project_filing").materials.first()
    assert "requirement" in error(upload(api, pk, foreign.pk), 400)["fields"]
    assert "requirement" in error(upload(api, pk, None), 400)["fields"]
    assert "requirement" in error(upload(api, pk, 999999), 400)["fields"]
    assert not ApplicationMaterial.objects.exists()


def test_a_project_without_a_code_cannot_apply(api, project_a, permit_item):
    project_a.code = None
    project_a.save()
    response = api("firm_a").post(
        URL,
        {"item": permit_item.code, "project": project_a.pk, "contact_name": "张三", "contact_phone": "138"},
        format="json",
    )
    assert "project" in error(response, 400)["fields"]
    assert not Application.objects.exists()


def test_create_input_is_checked(api, project_a, permit_item):
    client = api("firm_a")
    base = {"item": permit_item.code, "project": project_a.pk, "contact_name": "张三", "contact_phone": "138"}
    assert "item" in error(client.post(URL, {**base, "item": "no_such_item"}, format="json"), 400)["fields"]
    assert "contact_phone" in error(client.post(URL, {**base, "contact_phone": " "}, format="json"), 400)["fields"]
    assert "status" in error(client.post(URL, {**base, "status": "accepted"}, format="json"), 400)["fields"]
    assert not Application.objects.exists()
    create(api, project_a, permit_item)
    assert "item" in error(client.post(URL, base, format="json"), 409)["fields"]
    assert Application.objects.count() == 1


def test_accepting_twice_is_a_conflict(api, submitted):
    assert post(api, "window_clerk", submitted.pk, "accept").status_code == 200
    assert error(post(api, "window_clerk", submitted.pk, "accept"), 409)["code"] == "conflict"
    assert OutboxMessage.objects.count() == 1


def test_an_accepted_application_cannot_be_corrected(api, submitted, permit_item):
    post(api, "window_clerk", submitted.pk, "accept")
    response = post(
        api,
        "window_clerk",
        submitted.pk,
        "request-correction",
        {"items": [{"requirement": required(permit_item)[0].pk, "problem": "模糊"}]},
    )
    assert error(response, 409)["code"] == "conflict"
    application = Application.objects.get(pk=submitted.pk)
    assert application.status == S.ACCEPTED and not application.corrections_requested


def test_corrections_are_requested_only_once(api, submitted, permit_item):
    first = required(permit_item)[0]
    items = {"items": [{"requirement": first.pk, "problem": "模糊"}]}
    assert post(api, "window_clerk", submitted.pk, "request-correction", items).status_code == 200
    upload(api, submitted.pk, first.pk, "clear.pdf")
    assert post(api, "firm_a", submitted.pk, "submit").status_code == 200
    again = {"items": [{"requirement": first.pk, "problem": "还是模糊"}]}
    assert error(post(api, "window_clerk", submitted.pk, "request-correction", again), 409)["code"] == "conflict"
    application = Application.objects.get(pk=submitted.pk)
    assert application.status == S.SUBMITTED and application.correction_items[0]["problem"] == "模糊"


def test_a_correction_request_must_list_what_is_wrong(api, submitted):
    for body in (
        {"items": []},
        {"items": [{"requirement": None, "problem": " "}]},
        {"items": [{"requirement": 999999, "problem": "x"}]},
    ):
        assert "items" in error(post(api, "window_clerk", submitted.pk, "request-correction", body), 400)["fields"]
    assert Application.objects.get(pk=submitted.pk).status == S.SUBMITTED


def test_rejecting_needs_a_reason(api, submitted):
    assert "reason" in error(post(api, "window_clerk", submitted.pk, "reject"), 400)["fields"]
    assert "reason" in error(post(api, "window_clerk", submitted.pk, "reject", {"reason": "  "}), 400)["fields"]
    assert Application.objects.get(pk=submitted.pk).status == S.SUBMITTED
    rejected = post(api, "window_clerk", submitted.pk, "reject", {"reason": "不属于本窗口受理范围"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert rejected.json()["rejection_reason"] == "不属于本窗口受理范围"


def test_collect_and_forward_supplement_check_state_and_input(api, submitted):
    assert "collected_by" in error(post(api, "window_clerk", submitted.pk, "collect"), 400)["fields"]
    assert error(post(api, "window_clerk", submitted.pk, "collect", {"collected_by": "李四"}), 409)
    assert error(post(api, "window_clerk", submitted.pk, "forward-supplement", {"note": "x"}), 409)
    assert Application.objects.get(pk=submitted.pk).status == S.SUBMITTED


# --- permissions -------------------------------------------------------------------------------------


def test_firm_b_cannot_see_or_touch_firm_a(api, submitted, project_a, permit_item):
    not_found = api("firm_b").get(f"{URL}{submitted.pk}/")
    assert error(not_found, 404)["code"] == "not_found"
    assert api("firm_b").get(f"{URL}999999/").json() == not_found.json()
    assert api("firm_b").get(URL).json()["results"] == []
    assert error(api("firm_b").get(f"{URL}{submitted.pk}/timeline/"), 404)
    assert error(post(api, "firm_b", submitted.pk, "withdraw", {"reason": "x"}), 404)
    assert error(upload(api, submitted.pk, required(permit_item)[0].pk, key="firm_b"), 404)
    before = Application.objects.count()
    response = api("firm_b").post(
        URL,
        {"item": "project_filing", "project": project_a.pk, "contact_name": "王五", "contact_phone": "139"},
        format="json",
    )
    assert error(response, 404)["code"] == "not_found"
    missing = api("firm_b").post(
        URL,
        {"item": "project_filing", "project": 999999, "contact_name": "王五", "contact_phone": "139"},
        format="json",
    )
    assert missing.json() == response.json()
    assert Application.objects.count() == before
    assert Application.objects.get(pk=submitted.pk).status == S.SUBMITTED


def test_a_firm_cannot_take_the_windows_steps(api, submitted):
    for step, body in (
        ("accept", {}),
        ("reject", {"reason": "x"}),
        ("collect", {"collected_by": "x"}),
        ("request-correction", {"items": [{"requirement": None, "problem": "x"}]}),
    ):
        assert error(post(api, "firm_a", submitted.pk, step, body), 403)["code"] == "permission_denied", step
    assert Application.objects.get(pk=submitted.pk).status == S.SUBMITTED
    assert not OutboxMessage.objects.exists()


def test_a_clerk_applies_on_a_firms_behalf_and_other_staff_only_read(api, project_a, permit_item, submitted):
    assert api("leader").get(f"{URL}{submitted.pk}/").status_code == 200
    assert error(post(api, "leader", submitted.pk, "accept"), 403)["code"] == "permission_denied"
    created = create(api, project_a, ApprovalItem.objects.get(code="project_filing"), key="window_clerk")
    assert created["enterprise"]["id"] == project_a.enterprise_id and created["status"] == "draft"


@pytest.mark.parametrize("role", ["bank", "city"])
def test_banks_and_the_city_see_no_applications(api, role, submitted, project_a):
    response = api(role).get(URL)
    assert response.status_code == 200 and response.json()["results"] == []
    assert error(api(role).get(f"{URL}{submitted.pk}/"), 404)["code"] == "not_found"
    assert error(post(api, role, submitted.pk, "accept"), 404)
    response = api(role).post(
        URL,
        {"item": "project_filing", "project": project_a.pk, "contact_name": "x", "contact_phone": "1"},
        format="json",
    )
    assert error(response, 404)
    assert Application.objects.get(pk=submitted.pk).status == S.SUBMITTED


def test_anonymous_requests_are_refused():
    assert APIClient().get(URL).status_code in (401, 403)


# --- OpenAPI ------------------------------------------------------------------------------------------


def test_the_schema_documents_every_action(api):
    response = api("leader").get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/approvals/applications/{id}/accept/" in paths
    for step in ("submit", "withdraw", "accept", "reject", "request-correction", "forward-supplement", "collect"):
        operation = paths[f"/api/approvals/applications/{{id}}/{step}/"]["post"]
        assert {"200", "404"} <= set(operation["responses"]), step
    for step in ("withdraw", "accept", "reject", "request-correction", "forward-supplement", "collect"):
        operation = paths[f"/api/approvals/applications/{{id}}/{step}/"]["post"]
        assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"], step
    upload_body = paths["/api/approvals/applications/{id}/materials/"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload_body
    assert "delete" in paths["/api/approvals/applications/{id}/materials/{material_id}/"]
    assert "get" in paths["/api/approvals/applications/{id}/timeline/"]
    assert {"get", "post"} <= set(paths["/api/approvals/applications/"])
    assert "get" in paths["/api/approvals/items/{id}/"]
    assert "ApplicationStatusEnum" in response.json()["components"]["schemas"]
