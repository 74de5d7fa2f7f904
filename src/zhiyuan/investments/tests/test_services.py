"""Investment-project writes: every stage transition (legal and illegal), who may make it, the data
and dates each stage needs, 停缓调撤 decisions, monthly investment, project codes, milestones,
blockers, attachments, key-project listings and land acquisition. Bad input changes nothing."""

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from zhiyuan.accounts.models import Organisation, OrganisationKind
from zhiyuan.conftest import make_uscc
from zhiyuan.core.errors import ConflictError, PermissionDeniedError, ValidationFailed
from zhiyuan.core.models import AuditEntry
from zhiyuan.core.selectors import audit_history
from zhiyuan.enterprises.models import Enterprise
from zhiyuan.investments.models import (
    Attachment,
    Blocker,
    BlockerStatus,
    Decision,
    DecisionKind,
    FollowUp,
    KeyProject,
    LandProgress,
    LandTarget,
    Milestone,
    MonthlyInvestment,
    Pool,
    Project,
    Stage,
    StageChange,
    Status,
)
from zhiyuan.investments.services import (
    attachment_add,
    blocker_raise,
    blocker_resolve,
    decision_record,
    follow_up_add,
    key_project_set,
    land_progress_record,
    land_target_set,
    lead_create,
    milestone_add,
    milestone_complete,
    monthly_investment_record,
    project_transition,
    project_update,
)

pytestmark = pytest.mark.django_db

D = dt.date
STAGES = list(Stage)
ALL_PERSONAS = [
    "admin",
    "leader",
    "investment",
    "project",
    "service_staff",
    "specialist",
    "window_clerk",
    "statistics",
    "firm_a",
    "firm_b",
    "bank",
    "city",
]
# Written out by hand (not read from the code) so that a wrong mapping in the code fails here.
EXPECTED_POOL = {
    Stage.LEAD: Pool.ATTRACTION,
    Stage.NEGOTIATING: Pool.ATTRACTION,
    Stage.SIGNED: Pool.RESERVE,
    Stage.PREPARING: Pool.RESERVE,
    Stage.UNDER_CONSTRUCTION: Pool.CONSTRUCTION,
    Stage.COMPLETED: Pool.PRODUCTION,
    Stage.IN_PRODUCTION: Pool.PRODUCTION,
}
# The date each stage is reached on when a project is walked through the pipeline.
STAGE_DATE = {
    Stage.NEGOTIATING: D(2026, 1, 5),
    Stage.SIGNED: D(2026, 1, 20),
    Stage.PREPARING: D(2026, 2, 10),
    Stage.UNDER_CONSTRUCTION: D(2026, 3, 16),
    Stage.COMPLETED: D(2026, 8, 31),
    Stage.IN_PRODUCTION: D(2026, 9, 15),
}
# Who moves a project into each stage in the walk, and who may.
OFFICER = {
    Stage.NEGOTIATING: "investment",
    Stage.SIGNED: "investment",
    Stage.PREPARING: "project",
    Stage.UNDER_CONSTRUCTION: "project",
    Stage.COMPLETED: "project",
    Stage.IN_PRODUCTION: "project",
}
MAY_TRANSITION = {
    Stage.NEGOTIATING: {"admin", "investment"},
    Stage.SIGNED: {"admin", "investment"},
    Stage.PREPARING: {"admin", "project"},
    Stage.UNDER_CONSTRUCTION: {"admin", "project"},
    Stage.COMPLETED: {"admin", "project"},
    Stage.IN_PRODUCTION: {"admin", "project"},
}


def step_kwargs(stage: Stage, enterprise) -> dict:
    """The arguments of project_transition that move a project into `stage` with complete data."""
    return {
        Stage.LEAD: {},
        Stage.NEGOTIATING: {"on": STAGE_DATE[Stage.NEGOTIATING]},
        Stage.SIGNED: {
            "data": {
                "contract_date": STAGE_DATE[Stage.SIGNED],
                "total_investment": "50000",
                "land_area_mu": "120.5",
                "enterprise": enterprise,
            }
        },
        Stage.PREPARING: {
            "on": STAGE_DATE[Stage.PREPARING],
            "data": {"planned_start": D(2026, 3, 1), "planned_completion": D(2027, 6, 30)},
        },
        Stage.UNDER_CONSTRUCTION: {"data": {"actual_start": STAGE_DATE[Stage.UNDER_CONSTRUCTION]}},
        Stage.COMPLETED: {"data": {"actual_completion": STAGE_DATE[Stage.COMPLETED]}},
        Stage.IN_PRODUCTION: {
            "data": {"production_date": STAGE_DATE[Stage.IN_PRODUCTION], "first_year_output": "80000"}
        },
    }[stage]


def walk(project: Project, to: Stage, personas, enterprise) -> Project:
    """Move `project` stage by stage up to `to` through the transition service."""
    for stage in STAGES[STAGES.index(Stage(project.stage)) + 1 : STAGES.index(to) + 1]:
        project = project_transition(
            actor=personas[OFFICER[stage]], project=project, to_stage=stage, **step_kwargs(stage, enterprise)
        )
    return project


@pytest.fixture
def project_at(personas, firm_a):
    """project_at(stage) → a project walked from a new lead up to `stage` through the services."""

    def make(stage: Stage, name: str = "汉德车桥株洲智能制造基地一期", **data) -> Project:
        lead = lead_create(
            actor=personas["investment"],
            data={"name": name, "source": "招商推介会", "investor_name": "汉德车桥", **data},
        )
        return walk(lead, Stage(stage), personas, firm_a)

    return make


def state(project: Project) -> tuple:
    """Everything a refused write must leave as it was."""
    fresh = Project.objects.get(pk=project.pk)
    return (
        fresh.stage,
        fresh.pool,
        fresh.status,
        fresh.enterprise_id,
        fresh.contract_date,
        fresh.actual_start,
        fresh.actual_completion,
        fresh.production_date,
        fresh.total_investment,
        fresh.code,
        StageChange.objects.filter(project=project).count(),
        Decision.objects.filter(project=project).count(),
        AuditEntry.objects.count(),
        Enterprise.objects.count(),
    )


def tomorrow() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=1)


# --- Stage transitions ---------------------------------------------------------------------------


@pytest.mark.parametrize("to_stage", STAGES, ids=[s.value for s in STAGES])
@pytest.mark.parametrize("from_stage", STAGES, ids=[s.value for s in STAGES])
def test_transition_pairs_only_the_next_stage_is_legal(project_at, personas, firm_a, from_stage, to_stage):
    project = project_at(from_stage)
    before = state(project)
    legal = STAGES.index(to_stage) == STAGES.index(from_stage) + 1
    kwargs = step_kwargs(to_stage, firm_a)
    if not legal:
        with pytest.raises(ConflictError) as excinfo:
            project_transition(actor=personas["admin"], project=project, to_stage=to_stage, **kwargs)
        assert "to_stage" in excinfo.value.fields
        assert state(project) == before
        return
    moved = project_transition(actor=personas["admin"], project=project, to_stage=to_stage, **kwargs)
    fresh = Project.objects.get(pk=project.pk)
    assert moved.stage == fresh.stage == to_stage
    assert fresh.pool == EXPECTED_POOL[to_stage]
    change = StageChange.objects.filter(project=project).latest("id")
    assert (change.from_stage, change.to_stage, change.on, change.actor) == (
        from_stage,
        to_stage,
        STAGE_DATE[to_stage],
        personas["admin"],
    )
    entry = audit_history(project).first()
    assert entry.action == f"investments.project.{to_stage.value}"
    assert entry.actor == personas["admin"]
    assert entry.changes["stage"] == [from_stage.value, to_stage.value]


@pytest.mark.parametrize("stage", STAGES, ids=[s.value for s in STAGES])
def test_pool_derives_from_stage(project_at, stage):
    project = project_at(stage)
    fresh = Project.objects.get(pk=project.pk)
    assert fresh.stage == stage
    assert fresh.pool == EXPECTED_POOL[stage]


def test_full_walk_records_every_stage_change_and_date(project_at):
    project = project_at(Stage.IN_PRODUCTION)
    changes = list(StageChange.objects.filter(project=project).values_list("from_stage", "to_stage", "on"))
    assert changes == [(STAGES[i], STAGES[i + 1], STAGE_DATE[STAGES[i + 1]]) for i in range(len(STAGES) - 1)]
    project.refresh_from_db()
    assert project.contract_date == STAGE_DATE[Stage.SIGNED]
    assert project.actual_start == STAGE_DATE[Stage.UNDER_CONSTRUCTION]
    assert project.actual_completion == STAGE_DATE[Stage.COMPLETED]
    assert project.production_date == STAGE_DATE[Stage.IN_PRODUCTION]
    assert project.first_year_output == Decimal("80000")
    assert project.enterprise is not None


def test_unknown_stage_is_a_validation_error(project_at, personas):
    project = project_at(Stage.LEAD)
    before = state(project)
    with pytest.raises(ValidationFailed) as excinfo:
        project_transition(actor=personas["admin"], project=project, to_stage="built")
    assert "to_stage" in excinfo.value.fields
    assert state(project) == before


@pytest.mark.parametrize("to_stage", STAGES[1:], ids=[s.value for s in STAGES[1:]])
@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_transition_roles(project_at, personas, firm_a, persona, to_stage):
    project = project_at(STAGES[STAGES.index(to_stage) - 1])
    before = state(project)
    kwargs = step_kwargs(to_stage, firm_a)
    if persona in MAY_TRANSITION[to_stage]:
        project_transition(actor=personas[persona], project=project, to_stage=to_stage, **kwargs)
        assert Project.objects.get(pk=project.pk).stage == to_stage
    else:
        with pytest.raises(PermissionDeniedError):
            project_transition(actor=personas[persona], project=project, to_stage=to_stage, **kwargs)
        assert state(project) == before


# --- Data each stage needs ---------------------------------------------------------------------


def test_signing_without_required_data_names_every_missing_field(project_at, personas):
    project = project_at(Stage.NEGOTIATING)
    before = state(project)
    with pytest.raises(ValidationFailed) as excinfo:
        project_transition(actor=personas["investment"], project=project, to_stage=Stage.SIGNED)
    assert set(excinfo.value.fields) == {"contract_date", "total_investment", "enterprise"}
    assert state(project) == before


def test_signing_uses_the_total_investment_already_on_the_lead(project_at, personas, firm_a):
    project = project_at(Stage.NEGOTIATING, total_investment="30000")
    project_transition(
        actor=personas["investment"],
        project=project,
        to_stage=Stage.SIGNED,
        data={"contract_date": D(2026, 2, 1), "enterprise": firm_a},
    )
    project.refresh_from_db()
    assert project.stage == Stage.SIGNED
    assert project.total_investment == Decimal("30000")


@pytest.mark.parametrize(
    ("to_stage", "missing"),
    [
        (Stage.UNDER_CONSTRUCTION, {"actual_start"}),
        (Stage.COMPLETED, {"actual_completion"}),
        (Stage.IN_PRODUCTION, {"production_date", "first_year_output"}),
    ],
    ids=["start", "completion", "production"],
)
def test_later_stages_require_their_data(project_at, personas, to_stage, missing):
    project = project_at(STAGES[STAGES.index(to_stage) - 1])
    before = state(project)
    with pytest.raises(ValidationFailed) as excinfo:
        project_transition(actor=personas["project"], project=project, to_stage=to_stage)
    assert set(excinfo.value.fields) == missing
    assert state(project) == before


def test_transition_refuses_fields_of_another_stage(project_at, personas):
    project = project_at(Stage.PREPARING)
    before = state(project)
    with pytest.raises(ValidationFailed) as excinfo:
        project_transition(
            actor=personas["project"],
            project=project,
            to_stage=Stage.UNDER_CONSTRUCTION,
            data={"actual_start": D(2026, 3, 16), "production_date": D(2026, 3, 20)},
        )
    assert set(excinfo.value.fields) == {"production_date"}
    assert state(project) == before


def test_signing_with_new_enterprise_registers_it_through_the_registry(project_at, personas):
    project = project_at(Stage.NEGOTIATING)
    uscc = make_uscc(4242)
    project_transition(
        actor=personas["investment"],
        project=project,
        to_stage=Stage.SIGNED,
        data={"contract_date": D(2026, 2, 1), "total_investment": "12000"},
        new_enterprise={"uscc": uscc, "name": "湖南稀美泰新材料科技有限公司", "industry": "3240"},
    )
    enterprise = Enterprise.objects.get(uscc=uscc)
    project.refresh_from_db()
    assert project.stage == Stage.SIGNED
    assert project.enterprise == enterprise
    assert enterprise.size_class  # computed by the registry service
    created = audit_history(enterprise).get()
    assert created.action == "enterprises.enterprise.created"
    assert created.actor == personas["investment"]


def test_signing_with_a_bad_new_enterprise_writes_nothing(project_at, personas):
    project = project_at(Stage.NEGOTIATING)
    before = state(project)
    bad = make_uscc(4242)[:-1] + ("0" if make_uscc(4242)[-1] != "0" else "1")
    with pytest.raises(ValidationFailed) as excinfo:
        project_transition(
            actor=personas["investment"],
            project=project,
            to_stage=Stage.SIGNED,
            data={"contract_date": D(2026, 2, 1), "total_investment": "12000"},
            new_enterprise={"uscc": bad, "name": "湖南稀美泰新材料科技有限公司", "industry": "3240"},
        )
    assert "uscc" in excinfo.value.fields
    assert state(project) == before
    assert Project.objects.get(pk=project.pk).stage == Stage.NEGOTIATING
    assert not Enterprise.objects.filter(name="湖南稀美泰新材料科技有限公司").exists()


# --- Dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("to_stage", "kwargs", "field"),
    [
        (Stage.SIGNED, {"data": {"contract_date": D(2026, 1, 4), "total_investment": "1"}}, "contract_date"),
        (Stage.PREPARING, {"on": D(2026, 1, 19)}, "on"),
        (Stage.UNDER_CONSTRUCTION, {"data": {"actual_start": D(2026, 2, 9)}}, "actual_start"),
        (Stage.COMPLETED, {"data": {"actual_completion": D(2026, 3, 15)}}, "actual_completion"),
        (
            Stage.IN_PRODUCTION,
            {"data": {"production_date": D(2026, 8, 30), "first_year_output": "1"}},
            "production_date",
        ),
    ],
    ids=["signed", "preparing", "start", "completion", "production"],
)
def test_date_before_the_previous_stage_is_refused(project_at, personas, firm_a, to_stage, kwargs, field):
    project = project_at(STAGES[STAGES.index(to_stage) - 1])
    if to_stage == Stage.SIGNED:
        kwargs["data"]["enterprise"] = firm_a
    before = state(project)
    with pytest.raises(ValidationFailed) as excinfo:
        project_transition(actor=personas["admin"], project=project, to_stage=to_stage, **kwargs)
    assert field in excinfo.value.fields
    assert state(project) == before


def test_date_equal_to_the_previous_stage_is_accepted(project_at, personas):
    project = project_at(Stage.PREPARING)
    project_transition(
        actor=personas["project"],
        project=project,
        to_stage=Stage.UNDER_CONSTRUCTION,
        data={"actual_start": STAGE_DATE[Stage.PREPARING]},
    )
    assert Project.objects.get(pk=project.pk).actual_start == STAGE_DATE[Stage.PREPARING]


@pytest.mark.parametrize("to_stage", STAGES[1:], ids=[s.value for s in STAGES[1:]])
def test_future_date_is_refused(project_at, personas, firm_a, to_stage):
    project = project_at(STAGES[STAGES.index(to_stage) - 1])
    kwargs = step_kwargs(to_stage, firm_a)
    date_field = {
        Stage.SIGNED: "contract_date",
        Stage.UNDER_CONSTRUCTION: "actual_start",
        Stage.COMPLETED: "actual_completion",
        Stage.IN_PRODUCTION: "production_date",
    }.get(to_stage)
    if date_field:
        kwargs["data"][date_field] = tomorrow()
    else:
        kwargs["on"] = tomorrow()
    before = state(project)
    with pytest.raises(ValidationFailed) as excinfo:
        project_transition(actor=personas["admin"], project=project, to_stage=to_stage, **kwargs)
    assert (date_field or "on") in excinfo.value.fields
    assert state(project) == before


def test_transition_date_defaults_to_on_argument(project_at, personas):
    project = project_at(Stage.PREPARING)
    project_transition(actor=personas["project"], project=project, to_stage=Stage.UNDER_CONSTRUCTION, on=D(2026, 4, 1))
    project.refresh_from_db()
    assert project.actual_start == D(2026, 4, 1)
    assert StageChange.objects.filter(project=project).latest("id").on == D(2026, 4, 1)


# --- Stopped, postponed and withdrawn projects ---------------------------------------------------


@pytest.mark.parametrize("kind", [DecisionKind.STOP, DecisionKind.POSTPONE, DecisionKind.WITHDRAW])
def test_a_decided_project_cannot_move(project_at, personas, firm_a, kind):
    project = project_at(Stage.SIGNED)
    decision_record(
        actor=personas["leader"],
        project=project,
        kind=kind,
        reason="资金未到位",
        decided_on=D(2026, 3, 1),
        resume_on=D(2026, 12, 1) if kind == DecisionKind.POSTPONE else None,
    )
    before = state(project)
    with pytest.raises(ConflictError):
        project_transition(
            actor=personas["project"], project=project, to_stage=Stage.PREPARING, **step_kwargs(Stage.PREPARING, firm_a)
        )
    assert state(project) == before


@pytest.mark.parametrize("kind", [DecisionKind.STOP, DecisionKind.POSTPONE])
def test_a_resumed_project_moves_again(project_at, personas, firm_a, kind):
    project = project_at(Stage.SIGNED)
    decision_record(
        actor=personas["leader"],
        project=project,
        kind=kind,
        reason="资金未到位",
        decided_on=D(2026, 3, 1),
        resume_on=D(2026, 12, 1) if kind == DecisionKind.POSTPONE else None,
    )
    decision_record(
        actor=personas["leader"], project=project, kind=DecisionKind.RESUME, reason="资金到位", decided_on=D(2026, 4, 1)
    )
    project.refresh_from_db()
    assert (project.status, project.resume_on) == (Status.ACTIVE, None)
    project_transition(
        actor=personas["project"], project=project, to_stage=Stage.PREPARING, **step_kwargs(Stage.PREPARING, firm_a)
    )
    assert Project.objects.get(pk=project.pk).stage == Stage.PREPARING


# --- Decisions (停缓调撤) -------------------------------------------------------------------------


def test_stop_records_the_decision_and_history(project_at, personas):
    project = project_at(Stage.UNDER_CONSTRUCTION)
    decision = decision_record(
        actor=personas["leader"], project=project, kind="stop", reason="  环评未通过  ", decided_on=D(2026, 5, 6)
    )
    project.refresh_from_db()
    assert project.status == Status.STOPPED
    assert project.stage == Stage.UNDER_CONSTRUCTION  # a decision does not move the stage
    assert (decision.kind, decision.reason, decision.decided_on, decision.approver) == (
        DecisionKind.STOP,
        "环评未通过",
        D(2026, 5, 6),
        personas["leader"],
    )
    entry = audit_history(project).first()
    assert entry.action == "investments.project.stop"
    assert entry.changes["status"] == [Status.ACTIVE, Status.STOPPED]
    assert entry.changes["reason"] == [None, "环评未通过"]


@pytest.mark.parametrize(
    "resume_on",
    [None, D(2026, 5, 6), D(2026, 5, 5)],
    ids=["missing", "same-day", "before"],
)
def test_postpone_needs_a_resume_date_after_the_decision(project_at, personas, resume_on):
    project = project_at(Stage.SIGNED)
    before = state(project)
    with pytest.raises(ValidationFailed) as excinfo:
        decision_record(
            actor=personas["leader"],
            project=project,
            kind="postpone",
            reason="土地报批未完成",
            decided_on=D(2026, 5, 6),
            resume_on=resume_on,
        )
    assert set(excinfo.value.fields) == {"resume_on"}
    assert state(project) == before


def test_postpone_keeps_the_resume_date(project_at, personas):
    project = project_at(Stage.SIGNED)
    decision = decision_record(
        actor=personas["leader"],
        project=project,
        kind="postpone",
        reason="土地报批未完成",
        decided_on=D(2026, 5, 6),
        resume_on=D(2027, 1, 1),
    )
    project.refresh_from_db()
    assert (project.status, project.resume_on) == (Status.POSTPONED, D(2027, 1, 1))
    assert decision.resume_on == D(2027, 1, 1)


def test_adjust_keeps_before_and_after_and_changes_the_project(project_at, personas):
    project = project_at(Stage.UNDER_CONSTRUCTION)
    decision = decision_record(
        actor=personas["leader"],
        project=project,
        kind="adjust",
        reason="二期并入一期",
        decided_on=D(2026, 6, 1),
        adjustments={"total_investment": "65000", "land_area_mu": "150", "name": "汉德车桥株洲智能制造基地"},
    )
    project.refresh_from_db()
    assert project.total_investment == Decimal("65000")
    assert project.land_area_mu == Decimal("150")
    assert project.name == "汉德车桥株洲智能制造基地"
    assert project.status == Status.ACTIVE
    stored = Decision.objects.get(pk=decision.pk).adjustments
    assert set(stored) == {"total_investment", "land_area_mu", "name"}
    assert [Decimal(v) for v in stored["total_investment"]] == [Decimal("50000"), Decimal("65000")]
    assert [Decimal(v) for v in stored["land_area_mu"]] == [Decimal("120.5"), Decimal("150")]
    assert stored["name"] == ["汉德车桥株洲智能制造基地一期", "汉德车桥株洲智能制造基地"]
    entry = audit_history(project).first()
    assert entry.action == "investments.project.adjust"
    assert set(entry.changes) >= {"total_investment", "land_area_mu", "name", "reason"}


def test_adjusting_a_postponed_project_keeps_it_postponed_until_its_resume_date(project_at, personas):
    project = project_at(Stage.SIGNED)
    decision_record(
        actor=personas["leader"],
        project=project,
        kind="postpone",
        reason="土地报批未完成",
        decided_on=D(2026, 5, 6),
        resume_on=D(2027, 1, 1),
    )
    decision_record(
        actor=personas["leader"],
        project=project,
        kind="adjust",
        reason="投资额调减",
        decided_on=D(2026, 6, 1),
        adjustments={"total_investment": "40000"},
    )
    project.refresh_from_db()
    assert (project.status, project.resume_on, project.total_investment) == (
        Status.POSTPONED,
        D(2027, 1, 1),
        Decimal("40000"),
    )


@pytest.mark.parametrize(
    ("adjustments", "fields"),
    [
        ({}, {"adjustments"}),
        ({"stage": Stage.IN_PRODUCTION}, {"stage"}),
        ({"total_investment": "-5"}, {"total_investment"}),
        ({"total_investment": "很多"}, {"total_investment"}),
        ({"planned_completion": D(2026, 1, 1)}, {"planned_completion"}),
    ],
    ids=["nothing", "not-adjustable", "negative", "non-numeric", "completion-before-start"],
)
def test_bad_adjustment_writes_nothing(project_at, personas, adjustments, fields):
    project = project_at(Stage.PREPARING)
    before = state(project)
    with pytest.raises(ValidationFailed) as excinfo:
        decision_record(
            actor=personas["leader"], project=project, kind="adjust", reason="调整", adjustments=adjustments
        )
    assert set(excinfo.value.fields) == fields
    assert state(project) == before


def test_withdraw_is_final(project_at, personas, firm_a):
    project = project_at(Stage.SIGNED)
    decision_record(actor=personas["leader"], project=project, kind="withdraw", reason="企业放弃投资")
    project.refresh_from_db()
    assert project.status == Status.WITHDRAWN
    before = state(project)
    for kind in DecisionKind:
        with pytest.raises(ConflictError):
            decision_record(
                actor=personas["leader"],
                project=project,
                kind=kind,
                reason="重新启动",
                resume_on=timezone.localdate() + dt.timedelta(days=30),
                adjustments={"total_investment": "1"},
            )
    with pytest.raises(ConflictError):
        project_update(actor=personas["investment"], project=project, data={"description": "恢复"})
    with pytest.raises(ConflictError):
        project_transition(
            actor=personas["project"], project=project, to_stage=Stage.PREPARING, **step_kwargs(Stage.PREPARING, firm_a)
        )
    assert state(project) == before


@pytest.mark.parametrize("kind", [DecisionKind.STOP, DecisionKind.POSTPONE])
def test_resume_after_stop_or_postpone(project_at, personas, kind):
    project = project_at(Stage.PREPARING)
    decision_record(
        actor=personas["admin"],
        project=project,
        kind=kind,
        reason="暂停",
        decided_on=D(2026, 3, 1),
        resume_on=D(2026, 9, 1) if kind == DecisionKind.POSTPONE else None,
    )
    resumed = decision_record(
        actor=personas["leader"], project=project, kind="resume", reason="条件具备", decided_on=D(2026, 4, 1)
    )
    project.refresh_from_db()
    assert project.status == Status.ACTIVE
    assert project.resume_on is None
    assert resumed.kind == DecisionKind.RESUME
    kinds = list(Decision.objects.filter(project=project).order_by("id").values_list("kind", flat=True))
    assert kinds == [kind, DecisionKind.RESUME]


def test_an_active_project_cannot_be_resumed(project_at, personas):
    project = project_at(Stage.SIGNED)
    before = state(project)
    with pytest.raises(ConflictError):
        decision_record(actor=personas["leader"], project=project, kind="resume", reason="恢复")
    assert state(project) == before


@pytest.mark.parametrize(
    ("kwargs", "fields"),
    [
        ({"kind": "stop", "reason": "  "}, {"reason"}),
        ({"kind": "stop", "reason": "停", "decided_on": "FUTURE"}, {"decided_on"}),
        ({"kind": "cancel", "reason": "停"}, {"kind"}),
    ],
    ids=["no-reason", "future", "unknown-kind"],
)
def test_bad_decision_writes_nothing(project_at, personas, kwargs, fields):
    project = project_at(Stage.SIGNED)
    if kwargs.get("decided_on") == "FUTURE":
        kwargs["decided_on"] = tomorrow()
    before = state(project)
    with pytest.raises(ValidationFailed) as excinfo:
        decision_record(actor=personas["leader"], project=project, **kwargs)
    assert set(excinfo.value.fields) == fields
    assert state(project) == before


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_only_leader_or_admin_decides(project_at, personas, persona):
    project = project_at(Stage.SIGNED)
    before = state(project)
    if persona in {"leader", "admin"}:
        decision = decision_record(actor=personas[persona], project=project, kind="stop", reason="停")
        assert decision.approver == personas[persona]
        return
    with pytest.raises(PermissionDeniedError):
        decision_record(actor=personas[persona], project=project, kind="stop", reason="停")
    assert state(project) == before


# --- Monthly investment ------------------------------------------------------------------------


def investment_state(project: Project) -> tuple:
    return (
        list(MonthlyInvestment.objects.filter(project=project).values_list("month", "amount")),
        AuditEntry.objects.count(),
    )


@pytest.mark.parametrize(
    ("month", "amount", "field"),
    [
        (D(2026, 4, 1), "-1", "amount"),
        (D(2026, 4, 1), "一百", "amount"),
        (D(2026, 4, 1), "NaN", "amount"),
        (D(2026, 4, 1), "Infinity", "amount"),
        (D(2026, 4, 1), "", "amount"),
        (None, "100", "month"),
        ("NEXT_MONTH", "100", "month"),
        (D(2026, 2, 1), "100", "month"),  # before the start month (March 2026)
    ],
    ids=["negative", "non-numeric", "nan", "infinity", "empty", "no-month", "future-month", "before-start"],
)
def test_bad_monthly_investment_writes_nothing(project_at, personas, month, amount, field):
    project = project_at(Stage.UNDER_CONSTRUCTION)
    if month == "NEXT_MONTH":
        month = (timezone.localdate().replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    before = investment_state(project)
    with pytest.raises(ValidationFailed) as excinfo:
        monthly_investment_record(actor=personas["project"], project=project, month=month, amount=amount)
    assert field in excinfo.value.fields
    assert investment_state(project) == before


@pytest.mark.parametrize("stage", [Stage.SIGNED, Stage.PREPARING])
def test_monthly_investment_for_a_project_not_started_is_refused(project_at, personas, stage):
    project = project_at(stage)
    before = investment_state(project)
    with pytest.raises(ValidationFailed) as excinfo:
        monthly_investment_record(actor=personas["project"], project=project, month=D(2026, 4, 1), amount="100")
    assert set(excinfo.value.fields) == {"month"}
    assert investment_state(project) == before


def test_monthly_investment_is_stored_for_the_first_of_the_month(project_at, personas):
    project = project_at(Stage.UNDER_CONSTRUCTION)
    entry = monthly_investment_record(
        actor=personas["project"], project=project, month=D(2026, 3, 20), amount="1250.50", note="主体结构"
    )
    assert (entry.month, entry.amount) == (D(2026, 3, 1), Decimal("1250.50"))
    current = monthly_investment_record(
        actor=personas["project"], project=project, month=timezone.localdate(), amount=0
    )
    assert current.month == timezone.localdate().replace(day=1)
    assert MonthlyInvestment.objects.filter(project=project).count() == 2


def test_correcting_a_month_replaces_the_amount_and_audits_old_and_new(project_at, personas):
    project = project_at(Stage.UNDER_CONSTRUCTION)
    monthly_investment_record(actor=personas["project"], project=project, month=D(2026, 4, 1), amount="100")
    monthly_investment_record(actor=personas["project"], project=project, month=D(2026, 4, 15), amount="150")
    entries = list(MonthlyInvestment.objects.filter(project=project).values_list("month", "amount"))
    assert entries == [(D(2026, 4, 1), Decimal("150"))]
    first, second = audit_history(project).filter(action="investments.project.investment_recorded").order_by("id")
    assert first.changes == {"investment 2026-04": [None, "100"]}
    old, new = second.changes["investment 2026-04"]
    assert (Decimal(old), Decimal(new)) == (Decimal("100"), Decimal("150"))


@pytest.mark.parametrize("persona", ["leader", "investment", "specialist", "firm_a", "bank", "city"])
def test_monthly_investment_roles(project_at, personas, persona):
    project = project_at(Stage.UNDER_CONSTRUCTION)
    with pytest.raises(PermissionDeniedError):
        monthly_investment_record(actor=personas[persona], project=project, month=D(2026, 4, 1), amount="100")
    assert not MonthlyInvestment.objects.filter(project=project).exists()


# --- Leads and project codes -------------------------------------------------------------------


def test_lead_create_records_the_lead_and_its_officer(personas):
    project = lead_create(
        actor=personas["investment"],
        data={
            "name": " 好媳妇日用品智能制造基地 ",
            "source": "以商招商",
            "investor_name": "好媳妇日用品(株洲)有限公司",
            "chain": "other",
            "industry": "2682",
            "estimated_investment": "30000",
            "contact_name": "李经理",
            "contact_phone": "13800000000",
        },
    )
    project.refresh_from_db()
    assert (project.name, project.stage, project.pool, project.status) == (
        "好媳妇日用品智能制造基地",
        Stage.LEAD,
        Pool.ATTRACTION,
        Status.ACTIVE,
    )
    assert project.investment_officer == personas["investment"]
    assert project.industry.code == "2682"
    assert project.code is None
    assert audit_history(project).get().action == "investments.project.created"


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"name": ""}, {"name"}),
        ({"name": "X", "estimated_investment": "-1"}, {"estimated_investment"}),
        ({"name": "X", "estimated_investment": "abc"}, {"estimated_investment"}),
        ({"name": "X", "industry": "9999"}, {"industry"}),
        ({"name": "X", "stage": "in_production"}, {"stage"}),
        ({"name": "X", "code": "2019-430202-34-03"}, {"code"}),
        ({"name": "X", "planned_start": D(2027, 1, 1), "planned_completion": D(2026, 1, 1)}, {"planned_completion"}),
    ],
    ids=["no-name", "negative", "non-numeric", "unknown-industry", "stage", "bad-code", "completion-before-start"],
)
def test_bad_lead_writes_nothing(personas, data, fields):
    audits = AuditEntry.objects.count()
    with pytest.raises(ValidationFailed) as excinfo:
        lead_create(actor=personas["investment"], data=data)
    assert set(excinfo.value.fields) == fields
    assert not Project.objects.exists()
    assert AuditEntry.objects.count() == audits


def test_officer_fields_need_the_right_role(personas):
    with pytest.raises(ValidationFailed) as excinfo:
        lead_create(
            actor=personas["investment"],
            data={"name": "X", "project_officer": personas["leader"], "investment_officer": personas["project"]},
        )
    assert set(excinfo.value.fields) == {"project_officer", "investment_officer"}
    assert not Project.objects.exists()


@pytest.mark.parametrize("persona", ["project", "leader", "specialist", "firm_a", "bank", "city"])
def test_only_investment_officer_or_admin_records_leads(personas, persona):
    with pytest.raises(PermissionDeniedError):
        lead_create(actor=personas[persona], data={"name": "X"})
    assert not Project.objects.exists()


def test_projects_before_signing_may_have_no_code(project_at, personas, firm_a):
    first = lead_create(actor=personas["investment"], data={"name": "甲", "code": ""})
    second = lead_create(actor=personas["investment"], data={"name": "乙", "code": "  "})
    assert first.code is None and second.code is None
    signed = project_at(Stage.SIGNED)
    assert Project.objects.get(pk=signed.pk).code is None
    assert Project.objects.filter(code__isnull=True).count() == 3


def test_code_is_normalised_and_stored(personas):
    project = lead_create(actor=personas["investment"], data={"name": "甲", "code": " 2019-430202-34-03-01234x "})
    assert Project.objects.get(pk=project.pk).code == "2019-430202-34-03-01234X"


@pytest.mark.parametrize(
    "code",
    ["2019430202340301234X", "2019-430202-34-03-0123", "2013-430202-34-03-012345", "2019-990202-34-03-012345"],
    ids=["no-dashes", "short-serial", "year-too-early", "bad-region"],
)
def test_malformed_code_is_refused_at_signing(project_at, personas, firm_a, code):
    project = project_at(Stage.NEGOTIATING)
    before = state(project)
    kwargs = step_kwargs(Stage.SIGNED, firm_a)
    kwargs["data"]["code"] = code
    with pytest.raises(ValidationFailed) as excinfo:
        project_transition(actor=personas["investment"], project=project, to_stage=Stage.SIGNED, **kwargs)
    assert set(excinfo.value.fields) == {"code"}
    assert state(project) == before


def test_duplicate_code_is_refused(project_at, personas, firm_a):
    code = "2019-430202-34-03-012345"
    lead_create(actor=personas["investment"], data={"name": "甲", "code": code})
    with pytest.raises(ValidationFailed) as excinfo:
        lead_create(actor=personas["investment"], data={"name": "乙", "code": " " + code.lower()})
    assert set(excinfo.value.fields) == {"code"}
    project = project_at(Stage.SIGNED, name="丙")
    before = state(project)
    with pytest.raises(ValidationFailed) as excinfo:
        project_update(actor=personas["project"], project=project, data={"code": code})
    assert set(excinfo.value.fields) == {"code"}
    assert state(project) == before
    assert Project.objects.filter(code=code).count() == 1


def test_a_project_keeps_its_own_code_on_update(personas):
    code = "2019-430202-34-03-012345"
    project = lead_create(actor=personas["investment"], data={"name": "甲", "code": code})
    project_update(actor=personas["investment"], project=project, data={"code": code, "description": "新建厂房"})
    project.refresh_from_db()
    assert (project.code, project.description) == (code, "新建厂房")


def test_project_update_audits_changes_and_refuses_stage(project_at, personas):
    project = project_at(Stage.SIGNED)
    project_update(actor=personas["project"], project=project, data={"description": "建设智能化生产线"})
    entry = audit_history(project).first()
    assert entry.action == "investments.project.updated"
    assert entry.changes == {"description": ["", "建设智能化生产线"]}
    before = state(project)
    with pytest.raises(ValidationFailed) as excinfo:
        project_update(actor=personas["project"], project=project, data={"stage": "in_production"})
    assert set(excinfo.value.fields) == {"stage"}
    with pytest.raises(PermissionDeniedError):
        project_update(actor=personas["leader"], project=project, data={"description": "x"})
    assert state(project) == before


def test_follow_up_needs_a_note_and_a_past_date(project_at, personas):
    project = project_at(Stage.NEGOTIATING)
    follow_up_add(actor=personas["investment"], project=project, on=D(2026, 1, 8), note="第二轮洽谈")
    with pytest.raises(ValidationFailed) as excinfo:
        follow_up_add(actor=personas["investment"], project=project, on=tomorrow(), note=" ")
    assert set(excinfo.value.fields) == {"note", "on"}
    assert list(FollowUp.objects.filter(project=project).values_list("note", flat=True)) == ["第二轮洽谈"]
    with pytest.raises(PermissionDeniedError):
        follow_up_add(actor=personas["firm_a"], project=project, on=D(2026, 1, 8), note="x")


# --- Milestones, blockers, attachments ---------------------------------------------------------


def test_milestone_add_and_complete(project_at, personas):
    project = project_at(Stage.UNDER_CONSTRUCTION)
    milestone = milestone_add(actor=personas["project"], project=project, name=" 主体封顶 ", planned_on=D(2026, 6, 30))
    assert (milestone.name, milestone.planned_on, milestone.actual_on) == ("主体封顶", D(2026, 6, 30), None)
    milestone_complete(actor=personas["project"], milestone=milestone, actual_on=D(2026, 7, 3))
    milestone.refresh_from_db()
    assert milestone.actual_on == D(2026, 7, 3)
    actions = list(audit_history(milestone).order_by("id").values_list("action", flat=True))
    assert actions == ["investments.milestone.created", "investments.milestone.updated"]


def test_bad_milestone_writes_nothing(project_at, personas):
    project = project_at(Stage.UNDER_CONSTRUCTION)
    with pytest.raises(ValidationFailed) as excinfo:
        milestone_add(actor=personas["project"], project=project, name="", planned_on=None)
    assert set(excinfo.value.fields) == {"name", "planned_on"}
    assert not Milestone.objects.exists()
    milestone = milestone_add(actor=personas["project"], project=project, name="竣工验收", planned_on=D(2026, 12, 1))
    with pytest.raises(ValidationFailed) as excinfo:
        milestone_complete(actor=personas["project"], milestone=milestone, actual_on=tomorrow())
    assert set(excinfo.value.fields) == {"actual_on"}
    assert Milestone.objects.get(pk=milestone.pk).actual_on is None
    for persona in ("leader", "firm_a", "bank"):
        with pytest.raises(PermissionDeniedError):
            milestone_add(actor=personas[persona], project=project, name="x", planned_on=D(2026, 12, 1))
    assert Milestone.objects.count() == 1


@pytest.fixture
def district_unit(db):
    return Organisation.objects.create(name="荷塘区自然资源局", kind=OrganisationKind.DISTRICT)


def test_blocker_raise_and_resolve(project_at, personas, district_unit):
    project = project_at(Stage.PREPARING)
    blocker = blocker_raise(
        actor=personas["project"],
        project=project,
        description=" 征拆未完成 ",
        unit=district_unit,
        due_on=D(2026, 4, 30),
    )
    assert (blocker.description, blocker.unit, blocker.status, blocker.raised_by) == (
        "征拆未完成",
        district_unit,
        BlockerStatus.OPEN,
        personas["project"],
    )
    blocker_resolve(actor=personas["leader"], blocker=blocker, resolution="已完成征拆", resolved_on=D(2026, 4, 20))
    blocker.refresh_from_db()
    assert (blocker.status, blocker.resolution, blocker.resolved_on) == (
        BlockerStatus.RESOLVED,
        "已完成征拆",
        D(2026, 4, 20),
    )
    with pytest.raises(ConflictError):
        blocker_resolve(actor=personas["leader"], blocker=blocker, resolution="again")
    actions = list(audit_history(blocker).order_by("id").values_list("action", flat=True))
    assert actions == ["investments.blocker.created", "investments.blocker.updated"]


def test_bad_blocker_writes_nothing(project_at, personas, firm_a):
    project = project_at(Stage.PREPARING)
    firm_org = Organisation.objects.get(enterprise=firm_a)
    audits = AuditEntry.objects.count()
    cases = [
        ({"description": "", "unit": firm_org, "due_on": D(2026, 4, 30)}, "description"),
        ({"description": "x", "unit": firm_org, "due_on": None}, "due_on"),
        ({"description": "x", "unit": firm_org, "due_on": D(2026, 4, 30)}, "unit"),
        ({"description": "x", "unit": None, "due_on": D(2026, 4, 30)}, "unit"),
    ]
    for kwargs, field in cases:
        with pytest.raises(ValidationFailed) as excinfo:
            blocker_raise(actor=personas["project"], project=project, **kwargs)
        assert field in excinfo.value.fields
    with pytest.raises(PermissionDeniedError):
        blocker_raise(actor=personas["firm_a"], project=project, description="x", unit=firm_org, due_on=D(2026, 4, 30))
    assert not Blocker.objects.exists()
    assert AuditEntry.objects.count() == audits


def test_blocker_resolution_needs_text(project_at, personas, district_unit):
    project = project_at(Stage.PREPARING)
    blocker = blocker_raise(
        actor=personas["project"], project=project, description="用电报装", unit=district_unit, due_on=D(2026, 4, 30)
    )
    with pytest.raises(ValidationFailed) as excinfo:
        blocker_resolve(actor=personas["project"], blocker=blocker, resolution=" ")
    assert set(excinfo.value.fields) == {"resolution"}
    assert Blocker.objects.get(pk=blocker.pk).status == BlockerStatus.OPEN


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_attachment_records_sha256_and_stores_the_file(project_at, personas, media_root):
    project = project_at(Stage.UNDER_CONSTRUCTION)
    content = b"%PDF-1.4 construction permit " * 100
    attachment = attachment_add(
        actor=personas["project"],
        project=project,
        uploaded_file=SimpleUploadedFile("施工许可证.PDF", content, content_type="application/pdf"),
        caption="施工许可证",
    )
    attachment.refresh_from_db()
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert attachment.size == len(content)
    assert attachment.uploaded_by == personas["project"]
    with attachment.file.open("rb") as stored:
        assert stored.read() == content
    assert str(media_root) in attachment.file.path
    assert audit_history(project).first().action == "investments.project.attachment_added"


@pytest.mark.parametrize(
    ("name", "size"),
    [("setup.exe", 10), ("no-extension", 10), ("photo.jpg.sh", 10), ("big.pdf", 11)],
    ids=["exe", "no-extension", "double-extension", "too-large"],
)
def test_bad_attachment_writes_nothing(project_at, personas, media_root, settings, name, size):
    settings.ZHIYUAN_ATTACHMENT_MAX_BYTES = 10
    project = project_at(Stage.UNDER_CONSTRUCTION)
    audits = AuditEntry.objects.count()
    with pytest.raises(ValidationFailed) as excinfo:
        attachment_add(actor=personas["project"], project=project, uploaded_file=SimpleUploadedFile(name, b"x" * size))
    assert set(excinfo.value.fields) == {"file"}
    assert not Attachment.objects.exists()
    assert AuditEntry.objects.count() == audits
    assert not any(path.is_file() for path in media_root.rglob("*"))


def test_attachment_at_the_size_limit_is_accepted(project_at, personas, media_root, settings):
    settings.ZHIYUAN_ATTACHMENT_MAX_BYTES = 10
    project = project_at(Stage.UNDER_CONSTRUCTION)
    attachment_add(actor=personas["project"], project=project, uploaded_file=SimpleUploadedFile("p.png", b"x" * 10))
    assert Attachment.objects.filter(project=project).count() == 1
    with pytest.raises(PermissionDeniedError):
        attachment_add(actor=personas["firm_a"], project=project, uploaded_file=SimpleUploadedFile("p.png", b"x"))


# --- Key-project listing and land acquisition --------------------------------------------------


def test_key_listing_is_created_then_updated(project_at, personas, district_unit):
    project = project_at(Stage.UNDER_CONSTRUCTION)
    key_project_set(
        actor=personas["project"],
        project=project,
        year=2026,
        planned_investment="20000",
        liaison_leader=personas["leader"],
        responsible_unit=district_unit,
        sequence=3,
    )
    key_project_set(actor=personas["leader"], project=project, year=2026, planned_investment="25000", sequence=4)
    listing = KeyProject.objects.get(project=project)
    assert (listing.year, listing.planned_investment, listing.sequence) == (2026, Decimal("25000"), 4)
    assert audit_history(project).filter(action="investments.project.key_listed").count() == 2


@pytest.mark.parametrize(
    ("kwargs", "fields"),
    [
        ({"planned_investment": "-1"}, {"planned_investment"}),
        ({"planned_investment": "abc"}, {"planned_investment"}),
        ({"planned_investment": None}, {"planned_investment"}),
        ({"planned_investment": "1", "liaison_leader": "project"}, {"liaison_leader"}),
        ({"planned_investment": "1", "responsible_unit": "bank"}, {"responsible_unit"}),
        ({"planned_investment": "1", "year": 1999}, {"year"}),
        ({"planned_investment": "1", "year": "明年"}, {"year"}),
    ],
    ids=["negative", "non-numeric", "missing", "leader-role", "district-unit", "year", "year-not-a-number"],
)
def test_bad_key_listing_writes_nothing(project_at, personas, kwargs, fields):
    project = project_at(Stage.UNDER_CONSTRUCTION)
    kwargs = {"year": 2026, **kwargs}
    if kwargs.get("liaison_leader") == "project":
        kwargs["liaison_leader"] = personas["project"]
    if kwargs.get("responsible_unit") == "bank":
        kwargs["responsible_unit"] = personas["bank"].organisation
    audits = AuditEntry.objects.count()
    with pytest.raises(ValidationFailed) as excinfo:
        key_project_set(actor=personas["project"], project=project, **kwargs)
    assert set(excinfo.value.fields) == fields
    assert not KeyProject.objects.exists()
    assert AuditEntry.objects.count() == audits


def test_key_listing_roles(project_at, personas):
    project = project_at(Stage.UNDER_CONSTRUCTION)
    for persona in ("firm_a", "bank", "city", "statistics"):
        with pytest.raises(PermissionDeniedError):
            key_project_set(actor=personas[persona], project=project, year=2026, planned_investment="1")
    assert not KeyProject.objects.exists()


def test_land_target_and_progress(personas, project_at):
    project = project_at(Stage.PREPARING)
    land_target_set(actor=personas["leader"], year=2026, collective_land_mu="1500", state_housing_m2="30000")
    land_target_set(actor=personas["project"], year=2026, collective_land_mu="1600", state_housing_m2="30000")
    target = LandTarget.objects.get(year=2026)
    assert (target.collective_land_mu, target.state_housing_m2) == (Decimal("1600"), Decimal("30000"))
    progress = land_progress_record(
        actor=personas["project"], month=D(2026, 5, 17), collective_land_mu="120.5", project=project
    )
    assert (progress.month, progress.collective_land_mu, progress.state_housing_m2) == (
        D(2026, 5, 1),
        Decimal("120.5"),
        Decimal("0"),
    )


def test_bad_land_figures_write_nothing(personas):
    audits = AuditEntry.objects.count()
    with pytest.raises(ValidationFailed) as excinfo:
        land_target_set(actor=personas["leader"], year=2026, collective_land_mu="-1", state_housing_m2="x")
    assert set(excinfo.value.fields) == {"collective_land_mu", "state_housing_m2"}
    next_month = (timezone.localdate().replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    with pytest.raises(ValidationFailed) as excinfo:
        land_progress_record(actor=personas["project"], month=next_month, collective_land_mu="-3")
    assert set(excinfo.value.fields) == {"month", "collective_land_mu"}
    for persona in ("investment", "firm_a"):
        with pytest.raises(PermissionDeniedError):
            land_target_set(actor=personas[persona], year=2026, collective_land_mu="1", state_housing_m2="1")
    with pytest.raises(PermissionDeniedError):
        land_progress_record(actor=personas["leader"], month=D(2026, 5, 1), collective_land_mu="1")
    assert not LandTarget.objects.exists()
    assert not LandProgress.objects.exists()
    assert AuditEntry.objects.count() == audits


class TestWithdrawnIsFinal:
    """撤 is final: nothing more can be recorded on a withdrawn project."""

    @pytest.mark.django_db
    def test_no_further_records(self, personas, tmp_path):
        import datetime as dt

        from django.core.files.uploadedfile import SimpleUploadedFile

        from zhiyuan.accounts.models import Organisation
        from zhiyuan.core.errors import ConflictError
        from zhiyuan.investments import services as s
        from zhiyuan.investments.models import Milestone

        project = s.lead_create(actor=personas["investment"], data={"name": "撤销测试项目"})
        milestone = Milestone.objects.create(project=project, name="节点", planned_on=dt.date(2026, 5, 1))
        s.decision_record(actor=personas["leader"], project=project, kind="withdraw", reason="不再推进")
        project.refresh_from_db()
        unit = Organisation.objects.filter(kind="district").first()
        attempts = [
            lambda: s.follow_up_add(actor=personas["investment"], project=project, on=dt.date(2026, 5, 1), note="x"),
            lambda: s.milestone_add(
                actor=personas["project"], project=project, name="y", planned_on=dt.date(2026, 6, 1)
            ),
            lambda: s.milestone_complete(actor=personas["project"], milestone=milestone, actual_on=dt.date(2026, 5, 2)),
            lambda: s.monthly_investment_record(
                actor=personas["project"], project=project, month=dt.date(2026, 5, 1), amount="1"
            ),
            lambda: s.blocker_raise(
                actor=personas["project"], project=project, description="z", unit=unit, due_on=dt.date(2026, 6, 1)
            ),
            lambda: s.attachment_add(
                actor=personas["project"], project=project, uploaded_file=SimpleUploadedFile("a.pdf", b"%PDF-1.4")
            ),
            lambda: s.key_project_set(actor=personas["leader"], project=project, year=2026, planned_investment="1"),
        ]
        for attempt in attempts:
            with pytest.raises(ConflictError):
                attempt()
        assert not project.follow_ups.exists() and not project.blockers.exists()
        assert project.milestones.count() == 1 and not project.key_listings.exists()
