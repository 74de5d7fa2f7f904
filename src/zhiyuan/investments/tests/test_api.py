"""The project API: scoping per persona (firm A vs firm B, banks and the city), the firm's reduced
shape, filters, every action with the role allowed and a role refused, the one error body naming the
field, and 404 for a foreign project exactly as for a missing one."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from zhiyuan.accounts.models import Organisation, OrganisationKind
from zhiyuan.conftest import make_uscc
from zhiyuan.core.models import AuditEntry
from zhiyuan.enterprises.models import Enterprise
from zhiyuan.investments.models import (
    Blocker,
    Decision,
    KeyProject,
    Milestone,
    MonthlyInvestment,
    Project,
    Stage,
    Status,
)
from zhiyuan.investments.services import (
    blocker_raise,
    decision_record,
    key_project_set,
    lead_create,
    milestone_add,
    monthly_investment_record,
    project_transition,
)

pytestmark = pytest.mark.django_db

D = dt.date
DISTRICT = ["admin", "leader", "investment", "project", "service_staff", "specialist", "window_clerk", "statistics"]
FIRM_FIELDS = {
    "id",
    "name",
    "code",
    "stage",
    "stage_display",
    "pool",
    "pool_display",
    "status",
    "status_display",
    "enterprise",
    "enterprise_name",
    "contract_date",
    "planned_start",
    "actual_start",
    "planned_completion",
    "actual_completion",
    "production_date",
}
INTERNAL_FIELDS = {
    "contact_name",
    "contact_phone",
    "investment_officer",
    "project_officer",
    "blockers",
    "decisions",
    "key_listings",
    "monthly_investments",
    "source",
    "estimated_investment",
}


@pytest.fixture
def api(personas):
    def client(key: str | None) -> APIClient:
        c = APIClient()
        if key:
            c.force_authenticate(personas[key])
        return c

    return client


@pytest.fixture
def unit(db):
    return Organisation.objects.create(name="荷塘区发展和改革局", kind=OrganisationKind.DISTRICT)


def walk_to_construction(project: Project) -> Project:
    project = project_transition(actor=None, project=project, to_stage=Stage.NEGOTIATING, on=D(2026, 1, 5))
    project = project_transition(
        actor=None,
        project=project,
        to_stage=Stage.SIGNED,
        data={"contract_date": D(2026, 1, 20), "total_investment": "50000"},
    )
    project = project_transition(actor=None, project=project, to_stage=Stage.PREPARING, on=D(2026, 2, 10))
    return project_transition(
        actor=None, project=project, to_stage=Stage.UNDER_CONSTRUCTION, data={"actual_start": D(2026, 3, 2)}
    )


@pytest.fixture
def projects(personas, firm_a, firm_b, unit):
    """a: firm A's project under construction, on the 2026 list, with entries, a milestone, a
    blocker and a decision; b: firm B's lead; c: a lead with no enterprise yet."""
    a = lead_create(
        actor=None,
        data={
            "name": "汉德车桥株洲智能制造基地一期",
            "enterprise": firm_a,
            "chain": "rail",
            "contact_name": "王经理",
            "contact_phone": "13800001111",
            "source": "招商推介会",
        },
    )
    a = walk_to_construction(a)
    key_project_set(
        actor=None,
        project=a,
        year=2026,
        planned_investment="1000",
        liaison_leader=personas["leader"],
        responsible_unit=unit,
        sequence=1,
    )
    monthly_investment_record(actor=None, project=a, month=D(2026, 3, 1), amount="100")
    monthly_investment_record(actor=None, project=a, month=D(2026, 4, 1), amount="150")
    milestone_add(actor=None, project=a, name="主体结构封顶", planned_on=D(2026, 6, 30), note="内部备注")
    blocker_raise(actor=None, project=a, description="征拆未完成", unit=unit, due_on=D(2026, 5, 1))
    decision_record(
        actor=personas["leader"],
        project=a,
        kind="adjust",
        reason="调整投资",
        decided_on=D(2026, 4, 20),
        adjustments={"total_investment": "60000"},
    )
    b = lead_create(actor=None, data={"name": "飞鹿新材料扩产项目", "enterprise": firm_b, "chain": "new_materials"})
    c = lead_create(actor=None, data={"name": "医学健康产业园", "chain": "health", "investor_name": "某医疗集团"})
    return {"a": a, "b": b, "c": c, "unit": unit}


def error_of(response) -> dict:
    """The API error body, checked to have exactly the one documented shape."""
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


def url(project=None, action: str = "") -> str:
    if project is None:
        return "/api/projects/"
    pk = project if isinstance(project, int) else project.pk
    return f"/api/projects/{pk}/" + (f"{action}/" if action else "")


# --- who sees what --------------------------------------------------------------------------------


@pytest.mark.parametrize("key", DISTRICT)
def test_district_staff_list_every_project_in_full(api, projects, key):
    response = api(key).get(url())
    assert response.status_code == 200
    rows = {row["name"]: row for row in response.json()["results"]}
    assert set(rows) == {projects[k].name for k in "abc"}
    assert rows["汉德车桥株洲智能制造基地一期"]["contact_phone"] == "13800001111"


@pytest.mark.parametrize(("key", "own"), [("firm_a", "a"), ("firm_b", "b")])
def test_a_firm_lists_only_its_own_projects_in_the_reduced_shape(api, projects, key, own):
    response = api(key).get(url())
    assert response.status_code == 200
    results = response.json()["results"]
    assert [row["id"] for row in results] == [projects[own].pk]
    assert set(results[0]) == FIRM_FIELDS


def test_a_firm_sees_its_project_with_milestones_but_nothing_internal(api, projects):
    response = api("firm_a").get(url(projects["a"]))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == FIRM_FIELDS | {"milestones"}
    assert not set(body) & INTERNAL_FIELDS
    assert body["stage"] == "under_construction"
    assert body["actual_start"] == "2026-03-02"
    assert body["milestones"] == [
        {
            "id": Milestone.objects.get().pk,
            "name": "主体结构封顶",
            "planned_on": "2026-06-30",
            "actual_on": None,
            "overdue": True,
        }
    ]


@pytest.mark.parametrize(("key", "foreign"), [("firm_a", "b"), ("firm_a", "c"), ("firm_b", "a")])
def test_a_foreign_project_is_404_exactly_like_a_missing_one(api, projects, key, foreign):
    client = api(key)
    foreign_response = client.get(url(projects[foreign]))
    missing_response = client.get(url(Project.objects.order_by("-pk").first().pk + 1000))
    assert foreign_response.status_code == missing_response.status_code == 404
    assert foreign_response.json() == missing_response.json()
    assert error_of(foreign_response)["code"] == "not_found"
    # Writing to it is refused the same way, before anything else is looked at.
    post = client.post(url(projects[foreign], "milestones"), {"name": "x", "planned_on": "2026-12-01"}, format="json")
    assert post.status_code == 404
    assert post.json() == missing_response.json()


@pytest.mark.parametrize("key", ["bank", "city"])
def test_banks_and_the_city_have_no_access(api, projects, key):
    for response in (api(key).get(url()), api(key).get(url(projects["a"]))):
        assert response.status_code == 403
        assert error_of(response)["code"] == "permission_denied"


def test_anonymous_requests_are_refused_with_the_error_body(api, projects):
    response = api(None).get(url())
    assert response.status_code in (401, 403)
    assert error_of(response)["code"] == "not_authenticated"


def test_district_detail_has_milestones_investment_decisions_blockers_and_listings(api, projects, personas, unit):
    response = api("leader").get(url(projects["a"]))
    assert response.status_code == 200
    body = response.json()
    assert body["enterprise_name"] == "株洲硬质合金集团有限公司"
    assert body["total_investment"] == "60000.00"
    assert body["investment_officer"] is None
    assert body["monthly_investments"] == [
        {
            "month": "2026-03-01",
            "amount": "100.00",
            "note": "",
            "cumulative": "100.00",
            "year_cumulative": "100.00",
            "year_share": "0.1000",
        },
        {
            "month": "2026-04-01",
            "amount": "150.00",
            "note": "",
            "cumulative": "250.00",
            "year_cumulative": "250.00",
            "year_share": "0.2500",
        },
    ]
    assert body["key_listings"] == [
        {
            "year": 2026,
            "sequence": 1,
            "planned_investment": "1000.00",
            "done": "250.00",
            "share": "0.2500",
            "liaison_leader": {"id": personas["leader"].pk, "name": "周区长"},
            "responsible_unit": {"id": unit.pk, "name": "荷塘区发展和改革局"},
        }
    ]
    [decision] = body["decisions"]
    assert decision["kind"] == "adjust"
    assert decision["approver"] == {"id": personas["leader"].pk, "name": "周区长"}
    assert decision["adjustments"] == {"total_investment": ["50000.00", "60000"]}
    [blocker] = body["blockers"]
    assert (blocker["description"], blocker["unit"]["name"], blocker["status"], blocker["overdue"]) == (
        "征拆未完成",
        "荷塘区发展和改革局",
        "open",
        True,
    )
    assert body["milestones"][0]["note"] == "内部备注"
    assert [s["to_stage"] for s in body["stage_changes"]] == [
        "negotiating",
        "signed",
        "preparing",
        "under_construction",
    ]


def test_detail_costs_the_same_number_of_queries_whatever_the_amount_of_history(api, projects):
    client = api("project")

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(url(projects["a"])).status_code == 200
        return len(context.captured_queries)

    before = queries()
    for month in range(5, 11):
        monthly_investment_record(actor=None, project=projects["a"], month=D(2026, month, 1), amount="10")
        milestone_add(actor=None, project=projects["a"], name=f"节点{month}", planned_on=D(2026, month, 1))
        blocker_raise(
            actor=None,
            project=projects["a"],
            description=f"问题{month}",
            unit=projects["unit"],
            due_on=D(2026, month, 1),
        )
    assert queries() == before


def test_list_costs_the_same_number_of_queries_whatever_the_number_of_projects(api, projects):
    client = api("leader")

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(url()).status_code == 200
        return len(context.captured_queries)

    before = queries()
    for n in range(10):
        lead_create(actor=None, data={"name": f"生成项目{n}", "investor_name": "某公司"})
    assert queries() == before


# --- filters --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("pool=attraction", {"b", "c"}),
        ("pool=construction", {"a"}),
        ("stage=lead", {"b", "c"}),
        ("status=active", {"a", "b", "c"}),
        ("chain=health", {"c"}),
        ("key_year=2026", {"a"}),
        ("key_year=2025", set()),
        ("q=飞鹿", {"b"}),
        ("q=株洲硬质合金", {"a"}),
    ],
)
def test_filters(api, projects, query, expected):
    response = api("statistics").get(url() + "?" + query)
    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == {projects[k].pk for k in expected}


def test_filter_by_responsible_unit(api, projects, unit):
    other = Organisation.objects.create(name="荷塘区住房和城乡建设局", kind=OrganisationKind.DISTRICT)
    client = api("leader")
    assert [r["id"] for r in client.get(f"{url()}?responsible_unit={unit.pk}").json()["results"]] == [projects["a"].pk]
    assert client.get(f"{url()}?responsible_unit={other.pk}").json()["results"] == []


def test_filters_cannot_widen_a_firms_scope(api, projects):
    response = api("firm_a").get(url() + "?pool=attraction")
    assert response.json()["results"] == []


def test_a_bad_filter_value_names_the_filter(api, projects):
    response = api("leader").get(url() + "?pool=nowhere")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_failed"
    assert "pool" in error["fields"]


# --- create and correct ---------------------------------------------------------------------------


def test_the_investment_officer_records_a_lead(api, personas, firm_a):
    response = api("investment").post(
        url(),
        {
            "name": "稀美泰新材料",
            "source": "以商招商",
            "chain": "new_materials",
            "estimated_investment": "30000",
            "enterprise": firm_a.pk,
            "industry": "3240",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    project = Project.objects.get(pk=body["id"])
    assert (project.stage, project.pool, project.estimated_investment, project.investment_officer) == (
        "lead",
        "attraction",
        Decimal("30000"),
        personas["investment"],
    )
    assert body["investment_officer"]["id"] == personas["investment"].pk
    assert body["industry"] == "3240"
    assert AuditEntry.objects.filter(action="investments.project.created", object_id=str(project.pk)).exists()


@pytest.mark.parametrize("key", ["leader", "project", "specialist", "firm_a"])
def test_only_the_attraction_office_records_leads(api, personas, key):
    response = api(key).post(url(), {"name": "某项目"}, format="json")
    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"
    assert not Project.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "项目", "estimated_investment": "-5"}, "estimated_investment"),
        ({"name": "项目", "estimated_investment": "lots"}, "estimated_investment"),
        ({"name": "项目", "code": "2019-43"}, "code"),
        ({"name": "项目", "industry": "9999"}, "industry"),
        ({"source": "x"}, "name"),
        ({"name": "项目", "stage": "in_production"}, "stage"),
        ({"name": "项目", "planned_start": "2026-05-01", "planned_completion": "2026-01-01"}, "planned_completion"),
        ({"name": "项目", "project_officer": 999999}, "project_officer"),
    ],
)
def test_bad_lead_input_names_the_field_and_writes_nothing(api, personas, payload, field):
    audit_before = AuditEntry.objects.count()
    response = api("investment").post(url(), payload, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_failed"
    assert field in error["fields"], error
    assert error["fields"][field] and all(isinstance(m, str) and m for m in error["fields"][field])
    assert not Project.objects.exists()
    assert AuditEntry.objects.count() == audit_before


def test_a_duplicate_project_code_is_refused(api, projects):
    code = "2026-430202-34-03-000001"
    Project.objects.filter(pk=projects["a"].pk).update(code=code)
    response = api("investment").post(url(), {"name": "另一个项目", "code": code}, format="json")
    assert response.status_code == 400
    assert "code" in error_of(response)["fields"]


def test_patch_corrects_descriptive_fields(api, projects):
    response = api("project").patch(url(projects["a"]), {"description": "厂房及生产线"}, format="json")
    assert response.status_code == 200
    assert response.json()["description"] == "厂房及生产线"
    assert Project.objects.get(pk=projects["a"].pk).description == "厂房及生产线"


def test_patch_cannot_set_the_stage_or_status(api, projects):
    response = api("admin").patch(url(projects["b"]), {"stage": "in_production", "status": "withdrawn"}, format="json")
    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == {"stage", "status"}
    assert Project.objects.get(pk=projects["b"].pk).stage == Stage.LEAD


def test_a_firm_cannot_patch_even_its_own_project(api, projects):
    response = api("firm_a").patch(url(projects["a"]), {"description": "x"}, format="json")
    assert response.status_code == 403
    assert Project.objects.get(pk=projects["a"].pk).description == ""


def test_put_is_not_offered(api, projects):
    assert api("admin").put(url(projects["a"]), {"name": "x"}, format="json").status_code == 405


# --- transitions ----------------------------------------------------------------------------------


def test_the_project_officer_moves_a_signed_project_on(api, personas, firm_a):
    project = lead_create(actor=None, data={"name": "宏远机械", "enterprise": firm_a})
    project = project_transition(actor=None, project=project, to_stage="negotiating", on=D(2026, 1, 5))
    project = project_transition(
        actor=None,
        project=project,
        to_stage="signed",
        data={"contract_date": D(2026, 1, 20), "total_investment": "8000"},
    )
    client = api("project")
    response = client.post(
        url(project, "transition"),
        {"to_stage": "preparing", "on": "2026-02-01", "code": "2026-430202-34-03-00001X"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["stage"], response.json()["pool"], response.json()["code"]) == (
        "preparing",
        "reserve",
        "2026-430202-34-03-00001X",
    )
    response = client.post(
        url(project, "transition"), {"to_stage": "under_construction", "actual_start": "2026-03-10"}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["stage"], body["pool"], body["actual_start"]) == ("under_construction", "construction", "2026-03-10")
    assert body["stage_changes"][-1]["to_stage"] == "under_construction"


def test_signing_registers_a_new_investor_enterprise(api, personas):
    project = lead_create(actor=None, data={"name": "好媳妇日用品智能制造基地"})
    project = project_transition(actor=None, project=project, to_stage="negotiating", on=D(2026, 1, 5))
    response = api("investment").post(
        url(project, "transition"),
        {
            "to_stage": "signed",
            "contract_date": "2026-02-01",
            "total_investment": "30000",
            "land_area_mu": "85",
            "new_enterprise": {"uscc": make_uscc(77), "name": "湖南好媳妇日用品有限公司", "industry": "2684"},
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    enterprise = Enterprise.objects.get(uscc=make_uscc(77))
    assert response.json()["enterprise"] == enterprise.pk
    assert Project.objects.get(pk=project.pk).stage == Stage.SIGNED


def test_signing_without_an_enterprise_names_the_field(api):
    project = lead_create(actor=None, data={"name": "某项目"})
    project = project_transition(actor=None, project=project, to_stage="negotiating", on=D(2026, 1, 5))
    response = api("investment").post(
        url(project, "transition"),
        {"to_stage": "signed", "contract_date": "2026-02-01", "total_investment": "100"},
        format="json",
    )
    assert response.status_code == 400
    assert "enterprise" in error_of(response)["fields"]


def test_an_illegal_transition_is_409_naming_to_stage(api, projects):
    response = api("project").post(
        url(projects["b"], "transition"),
        {"to_stage": "in_production", "production_date": "2026-05-01", "first_year_output": "100"},
        format="json",
    )
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "conflict"
    assert "to_stage" in error["fields"]
    assert Project.objects.get(pk=projects["b"].pk).stage == Stage.LEAD


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"to_stage": "completed"}, "actual_completion"),
        ({"to_stage": "completed", "actual_completion": "2026-01-01"}, "actual_completion"),
        ({"to_stage": "completed", "actual_completion": "2999-01-01"}, "actual_completion"),
        ({"to_stage": "completed", "actual_completion": "yesterday"}, "actual_completion"),
        ({"to_stage": "nowhere"}, "to_stage"),
        ({}, "to_stage"),
        ({"to_stage": "completed", "actual_completion": "2026-09-01", "first_year_output": "5"}, "first_year_output"),
    ],
)
def test_bad_transition_input_names_the_field(api, projects, payload, field):
    before = (Project.objects.get(pk=projects["a"].pk).stage, AuditEntry.objects.count())
    response = api("project").post(url(projects["a"], "transition"), payload, format="json")
    assert response.status_code == 400, response.json()
    assert field in error_of(response)["fields"]
    assert (Project.objects.get(pk=projects["a"].pk).stage, AuditEntry.objects.count()) == before


@pytest.mark.parametrize("key", ["investment", "leader", "specialist", "firm_a"])
def test_only_the_project_office_moves_a_project_into_construction_stages(api, projects, key):
    response = api(key).post(
        url(projects["a"], "transition"), {"to_stage": "completed", "actual_completion": "2026-09-01"}, format="json"
    )
    assert response.status_code == 403
    assert Project.objects.get(pk=projects["a"].pk).stage == Stage.UNDER_CONSTRUCTION


# --- decisions ------------------------------------------------------------------------------------


def test_a_leader_stops_and_resumes_a_project(api, projects, personas):
    client = api("leader")
    response = client.post(
        url(projects["a"], "decide"),
        {"kind": "stop", "reason": "环评未通过", "decided_on": "2026-05-10"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["reason"], body["decided_on"], body["approver"]["id"]) == (
        "stop",
        "环评未通过",
        "2026-05-10",
        personas["leader"].pk,
    )
    assert Project.objects.get(pk=projects["a"].pk).status == Status.STOPPED
    response = client.post(url(projects["a"], "decide"), {"kind": "resume", "reason": "环评通过"}, format="json")
    assert response.status_code == 201
    assert Project.objects.get(pk=projects["a"].pk).status == Status.ACTIVE


def test_a_postponement_keeps_its_resume_date(api, projects):
    response = api("leader").post(
        url(projects["b"], "decide"),
        {"kind": "postpone", "reason": "资金未到位", "decided_on": "2026-05-10", "resume_on": "2027-03-01"},
        format="json",
    )
    assert response.status_code == 201
    project = Project.objects.get(pk=projects["b"].pk)
    assert (project.status, project.resume_on) == (Status.POSTPONED, D(2027, 3, 1))


def test_an_adjustment_records_before_and_after(api, projects):
    response = api("leader").post(
        url(projects["a"], "decide"),
        {
            "kind": "adjust",
            "reason": "扩大规模",
            "adjustments": {"land_area_mu": "150", "planned_completion": "2027-12-31"},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    adjustments = response.json()["adjustments"]
    assert set(adjustments) == {"land_area_mu", "planned_completion"}
    assert adjustments["planned_completion"][1] == "2027-12-31"
    assert Project.objects.get(pk=projects["a"].pk).land_area_mu == Decimal("150")


@pytest.mark.parametrize("key", ["project", "investment", "specialist", "statistics", "firm_a"])
def test_officers_cannot_decide(api, projects, key):
    response = api(key).post(url(projects["a"], "decide"), {"kind": "stop", "reason": "x"}, format="json")
    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"
    assert Decision.objects.count() == 1
    assert Project.objects.get(pk=projects["a"].pk).status == Status.ACTIVE


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "stop"}, "reason"),
        ({"kind": "stop", "reason": "  "}, "reason"),
        ({"kind": "postpone", "reason": "x"}, "resume_on"),
        ({"kind": "postpone", "reason": "x", "decided_on": "2026-05-10", "resume_on": "2026-05-01"}, "resume_on"),
        ({"kind": "adjust", "reason": "x"}, "adjustments"),
        ({"kind": "adjust", "reason": "x", "adjustments": {"stage": "lead"}}, "adjustments"),
        ({"kind": "adjust", "reason": "x", "adjustments": {"total_investment": "-1"}}, "total_investment"),
        ({"kind": "stop", "reason": "x", "decided_on": "2999-01-01"}, "decided_on"),
        ({"kind": "maybe", "reason": "x"}, "kind"),
    ],
)
def test_bad_decisions_name_the_field(api, projects, payload, field):
    response = api("leader").post(url(projects["a"], "decide"), payload, format="json")
    assert response.status_code == 400, response.json()
    assert field in error_of(response)["fields"]
    assert Decision.objects.count() == 1


def test_nothing_moves_after_withdrawal(api, projects):
    leader, officer = api("leader"), api("project")
    withdrawal = leader.post(url(projects["a"], "decide"), {"kind": "withdraw", "reason": "企业撤资"}, format="json")
    assert withdrawal.status_code == 201
    response = officer.post(
        url(projects["a"], "transition"), {"to_stage": "completed", "actual_completion": "2026-09-01"}, format="json"
    )
    assert response.status_code == 409
    assert error_of(response)["code"] == "conflict"
    response = leader.post(url(projects["a"], "decide"), {"kind": "resume", "reason": "x"}, format="json")
    assert response.status_code == 409


# --- milestones, investment, blockers -------------------------------------------------------------


def test_milestones_are_added_by_officers(api, projects):
    response = api("project").post(
        url(projects["a"], "milestones"), {"name": "设备安装", "planned_on": "2026-12-15"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["name"] == "设备安装"
    assert response.json()["overdue"] is False
    assert Milestone.objects.filter(project=projects["a"]).count() == 2


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "设备安装"}, "planned_on"),
        ({"name": " ", "planned_on": "2026-12-15"}, "name"),
        ({"name": "x", "planned_on": "soon"}, "planned_on"),
    ],
)
def test_bad_milestones_name_the_field(api, projects, payload, field):
    response = api("project").post(url(projects["a"], "milestones"), payload, format="json")
    assert response.status_code == 400
    assert field in error_of(response)["fields"]
    assert Milestone.objects.filter(project=projects["a"]).count() == 1


@pytest.mark.parametrize("key", ["leader", "statistics", "firm_a"])
def test_milestones_refused_to_other_roles(api, projects, key):
    response = api(key).post(url(projects["a"], "milestones"), {"name": "x", "planned_on": "2026-12-15"}, format="json")
    assert response.status_code == 403


def test_monthly_investment_returns_the_running_totals(api, projects):
    client = api("project")
    response = client.post(url(projects["a"], "investments"), {"month": "2026-05", "amount": "250.5"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json() == {
        "month": "2026-05-01",
        "amount": "250.50",
        "note": "",
        "cumulative": "500.50",
        "year_cumulative": "500.50",
        "year_share": "0.5005",
    }
    # A correction of the same month replaces its amount.
    response = client.post(url(projects["a"], "investments"), {"month": "2026-05-20", "amount": "200"}, format="json")
    assert response.status_code == 201
    assert response.json()["cumulative"] == "450.00"
    assert MonthlyInvestment.objects.filter(project=projects["a"]).count() == 3


@pytest.mark.parametrize(
    ("project_key", "payload", "field"),
    [
        ("a", {"month": "2026-05", "amount": "-1"}, "amount"),
        ("a", {"month": "2026-05", "amount": "a lot"}, "amount"),
        ("a", {"month": "2026-05"}, "amount"),
        ("a", {"month": "2999-01", "amount": "1"}, "month"),
        ("a", {"month": "2026-01", "amount": "1"}, "month"),
        ("a", {"month": "May", "amount": "1"}, "month"),
        ("b", {"month": "2026-05", "amount": "1"}, "month"),
    ],
)
def test_bad_investment_entries_name_the_field(api, projects, project_key, payload, field):
    response = api("project").post(url(projects[project_key], "investments"), payload, format="json")
    assert response.status_code == 400, response.json()
    assert field in error_of(response)["fields"]
    assert MonthlyInvestment.objects.count() == 2


@pytest.mark.parametrize("key", ["investment", "leader", "firm_a"])
def test_investment_entries_refused_to_other_roles(api, projects, key):
    response = api(key).post(url(projects["a"], "investments"), {"month": "2026-05", "amount": "1"}, format="json")
    assert response.status_code == 403
    assert MonthlyInvestment.objects.count() == 2


@pytest.mark.parametrize("key", ["project", "investment", "specialist", "service_staff", "admin"])
def test_blockers_are_raised_to_a_district_unit(api, projects, unit, key):
    response = api(key).post(
        url(projects["a"], "blockers"),
        {"description": "用电报装慢", "unit": unit.pk, "due_on": "2026-12-31"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["description"], body["unit"]["id"], body["status"], body["overdue"]) == (
        "用电报装慢",
        unit.pk,
        "open",
        False,
    )
    assert Blocker.objects.filter(project=projects["a"]).count() == 2


@pytest.mark.parametrize("key", ["leader", "statistics", "firm_a"])
def test_blockers_refused_to_other_roles(api, projects, unit, key):
    response = api(key).post(
        url(projects["a"], "blockers"), {"description": "x", "unit": unit.pk, "due_on": "2026-12-31"}, format="json"
    )
    assert response.status_code == 403


def test_bad_blockers_name_the_field(api, projects, personas):
    client = api("project")
    bank = personas["bank"].organisation
    cases = [
        ({"description": "x", "unit": bank.pk, "due_on": "2026-12-31"}, "unit"),
        ({"description": "x", "unit": 999999, "due_on": "2026-12-31"}, "unit"),
        ({"description": "", "unit": bank.pk, "due_on": "2026-12-31"}, "description"),
        ({"description": "x", "unit": bank.pk}, "due_on"),
    ]
    for payload, field in cases:
        response = client.post(url(projects["a"], "blockers"), payload, format="json")
        assert response.status_code == 400, payload
        assert field in error_of(response)["fields"], (payload, response.json())
    assert Blocker.objects.filter(project=projects["a"]).count() == 1


def test_key_listings_are_visible_in_the_list_filter_after_the_actions(api, projects):
    # The actions and the list agree: the project on the 2026 list is the one with the listing.
    assert KeyProject.objects.filter(year=2026).count() == 1
    response = api("leader").get(url() + "?key_year=2026&pool=construction")
    assert [r["id"] for r in response.json()["results"]] == [projects["a"].pk]


# --- OpenAPI --------------------------------------------------------------------------------------


def test_the_schema_documents_the_actions(api, projects):
    response = api("leader").get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for action in ("transition", "decide", "milestones", "investments", "blockers"):
        operation = paths[f"/api/projects/{{id}}/{action}/"]["post"]
        assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert "400" in operation["responses"] and "404" in operation["responses"]
    assert {"get", "post"} <= set(paths["/api/projects/"])
    assert "put" not in paths["/api/projects/{id}/"]
