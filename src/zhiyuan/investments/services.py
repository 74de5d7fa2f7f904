"""Investment-project writes: leads, stage transitions, 停缓调撤 decisions, milestones, monthly
investment, blockers, attachments, key-project listings and land acquisition.

Every write checks the actor's role, validates, runs in one transaction and is audited. A
transition is written once, here; the pages, the API, the Excel import and the demo call these.
"""

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhiyuan.accounts.models import Organisation, OrganisationKind, Role, User
from zhiyuan.core.errors import ConflictError, PermissionDeniedError, ValidationFailed
from zhiyuan.core.files import check_and_hash_upload
from zhiyuan.core.services import audit_record, diff, snapshot
from zhiyuan.enterprises.services import enterprise_create, resolve_industry
from zhiyuan.investments.codes import normalize_project_code, project_code_error
from zhiyuan.investments.models import (
    POOL_OF_STAGE,
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
    Project,
    Stage,
    StageChange,
    Status,
)

# Who may do what.
ATTRACTION_ROLES = frozenset({Role.ADMIN, Role.INVESTMENT})  # leads, negotiation, signing
DELIVERY_ROLES = frozenset({Role.ADMIN, Role.PROJECT})  # 前期 → 投产, milestones, investment, blockers
DECISION_ROLES = frozenset({Role.ADMIN, Role.LEADER})  # 停缓调撤
EDIT_ROLES = ATTRACTION_ROLES | DELIVERY_ROLES
FOLLOW_UP_ROLES = ATTRACTION_ROLES | DELIVERY_ROLES
BLOCKER_RAISE_ROLES = EDIT_ROLES | {Role.SPECIALIST, Role.SERVICE_STAFF}
BLOCKER_RESOLVE_ROLES = EDIT_ROLES | {Role.LEADER, Role.SPECIALIST, Role.SERVICE_STAFF}
KEY_LIST_ROLES = EDIT_ROLES | {Role.LEADER}
LAND_TARGET_ROLES = DELIVERY_ROLES | {Role.LEADER}

STAGE_ORDER = list(Stage)
# The stage each stage may move to, and the role set that moves it.
NEXT_STAGE = {STAGE_ORDER[i]: STAGE_ORDER[i + 1] for i in range(len(STAGE_ORDER) - 1)}
TRANSITION_ROLES = {
    Stage.NEGOTIATING: ATTRACTION_ROLES,
    Stage.SIGNED: ATTRACTION_ROLES,
    Stage.PREPARING: DELIVERY_ROLES,
    Stage.UNDER_CONSTRUCTION: DELIVERY_ROLES,
    Stage.COMPLETED: DELIVERY_ROLES,
    Stage.IN_PRODUCTION: DELIVERY_ROLES,
}
# The fields each target stage requires, and the project date field the transition date fills.
STAGE_REQUIRES = {
    Stage.SIGNED: ["contract_date", "total_investment"],
    Stage.UNDER_CONSTRUCTION: ["actual_start"],
    Stage.COMPLETED: ["actual_completion"],
    Stage.IN_PRODUCTION: ["production_date", "first_year_output"],
}
STAGE_DATE_FIELD = {
    Stage.SIGNED: "contract_date",
    Stage.UNDER_CONSTRUCTION: "actual_start",
    Stage.COMPLETED: "actual_completion",
    Stage.IN_PRODUCTION: "production_date",
}
PROJECT_FIELDS = [
    "name",
    "code",
    "source",
    "investor_name",
    "enterprise",
    "chain",
    "industry",
    "description",
    "estimated_investment",
    "contact_name",
    "contact_phone",
    "total_investment",
    "land_area_mu",
    "planned_start",
    "planned_completion",
    "investment_officer",
    "project_officer",
]
TRANSITION_FIELDS = {
    Stage.NEGOTIATING: [],
    Stage.SIGNED: [
        "contract_date",
        "total_investment",
        "land_area_mu",
        "enterprise",
        "code",
        "planned_start",
        "planned_completion",
    ],
    Stage.PREPARING: ["planned_start", "planned_completion", "code"],
    Stage.UNDER_CONSTRUCTION: ["actual_start", "planned_completion"],
    Stage.COMPLETED: ["actual_completion"],
    Stage.IN_PRODUCTION: ["production_date", "first_year_output"],
}
# The statuses from which each decision may be taken.
DECISION_ALLOWED_FROM = {
    DecisionKind.STOP: {Status.ACTIVE, Status.POSTPONED},
    DecisionKind.POSTPONE: {Status.ACTIVE},
    DecisionKind.ADJUST: {Status.ACTIVE, Status.STOPPED, Status.POSTPONED},
    DecisionKind.WITHDRAW: {Status.ACTIVE, Status.STOPPED, Status.POSTPONED},
    DecisionKind.RESUME: {Status.STOPPED, Status.POSTPONED},
}
ADJUSTABLE_FIELDS = ["name", "description", "total_investment", "land_area_mu", "planned_start", "planned_completion"]
MONEY_FIELDS = ["estimated_investment", "total_investment", "land_area_mu", "first_year_output"]
AUDITED_FIELDS = [
    *PROJECT_FIELDS,
    "stage",
    "pool",
    "status",
    "contract_date",
    "actual_start",
    "actual_completion",
    "production_date",
    "first_year_output",
    "resume_on",
]
ATTACHMENT_TYPES = {".pdf", ".jpg", ".jpeg", ".png", ".doc", ".docx", ".xls", ".xlsx"}


def _require(actor: User | None, roles: frozenset) -> None:
    if actor is not None and getattr(actor, "role", None) not in roles:
        raise PermissionDeniedError()


def _require_not_withdrawn(project: Project) -> None:
    """撤 is final: nothing more is recorded on a withdrawn project."""
    if project.status == Status.WITHDRAWN:
        raise ConflictError(_("A withdrawn project can no longer be changed."))


def _decimal(value: Any, field: str, errors: dict) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.setdefault(field, []).append(_("Enter a number."))
        return None
    if not number.is_finite():
        errors.setdefault(field, []).append(_("Enter a number."))
        return None
    if number < 0:
        errors.setdefault(field, []).append(_("This value cannot be negative."))
    return number


def validate_project_data(data: dict[str, Any], *, instance: Project | None = None) -> dict[str, Any]:
    """Check project field values; return them cleaned or raise ValidationFailed naming each field."""
    errors: dict[str, list[str]] = {}
    cleaned = dict(data)
    if instance is None and not str(cleaned.get("name") or "").strip():
        errors["name"] = [_("This field is required.")]
    if "name" in cleaned and cleaned["name"] is not None:
        cleaned["name"] = str(cleaned["name"]).strip()
        if not cleaned["name"]:
            errors["name"] = [_("This field is required.")]
    if "code" in cleaned:
        cleaned["code"] = normalize_project_code(cleaned["code"] or "") or None
    if cleaned.get("code"):
        message = project_code_error(cleaned["code"])
        if message:
            errors.setdefault("code", []).append(message)
        elif Project.objects.filter(code=cleaned["code"]).exclude(pk=getattr(instance, "pk", None)).exists():
            errors.setdefault("code", []).append(_("Another project already has this project code."))
    elif "code" in cleaned:
        cleaned["code"] = None
    for field in MONEY_FIELDS:
        if field in cleaned:
            cleaned[field] = _decimal(cleaned[field], field, errors)
    if cleaned.get("industry") not in (None, ""):
        industry = resolve_industry(cleaned["industry"])
        if industry is None:
            errors.setdefault("industry", []).append(_("Unknown industry code."))
        cleaned["industry"] = industry
    elif "industry" in cleaned:
        cleaned["industry"] = None
    for field, role in (("investment_officer", Role.INVESTMENT), ("project_officer", Role.PROJECT)):
        person = cleaned.get(field)
        if person is not None and person.role not in {role, Role.ADMIN}:
            errors.setdefault(field, []).append(_("This person does not have the right role."))
    today = timezone.localdate()
    for field in ("contract_date", "actual_start", "actual_completion", "production_date"):
        value = cleaned.get(field)
        if value and value > today:
            errors.setdefault(field, []).append(_("This date cannot be in the future."))
    start, end = cleaned.get("planned_start"), cleaned.get("planned_completion")
    if instance is not None:
        start = start if "planned_start" in cleaned else instance.planned_start
        end = end if "planned_completion" in cleaned else instance.planned_completion
    if start and end and end < start:
        errors.setdefault("planned_completion", []).append(_("The planned completion is before the planned start."))
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


def _save_audited(project: Project, *, actor, action: str, before: dict, extra: dict | None = None) -> None:
    project.pool = POOL_OF_STAGE[Stage(project.stage)]
    try:
        project.save()
    except IntegrityError:
        raise ConflictError(_("Another project already has this project code."), field="code") from None
    changes = diff(before, snapshot(project, AUDITED_FIELDS))
    changes.update(extra or {})
    audit_record(actor=actor, action=action, obj=project, changes=changes)


def lead_create(*, actor: User | None, data: dict[str, Any], is_demo: bool = False) -> Project:
    """Record a new lead (线索): name, source, investor, intended chain/industry, estimate, contact."""
    _require(actor, ATTRACTION_ROLES)
    unknown = set(data) - set(PROJECT_FIELDS)
    if unknown:
        raise ValidationFailed(fields={name: [_("This field cannot be set.")] for name in sorted(unknown)})
    cleaned = validate_project_data(data)
    project = Project(**cleaned, stage=Stage.LEAD, is_demo=is_demo)
    if actor is not None and actor.role == Role.INVESTMENT and project.investment_officer is None:
        project.investment_officer = actor
    with transaction.atomic():
        _save_audited(project, actor=actor, action="investments.project.created", before={})
    return project


def project_update(*, actor: User, project: Project, data: dict[str, Any]) -> Project:
    """Correct a project's descriptive fields (not its stage or status, which have their own services)."""
    _require(actor, EDIT_ROLES)
    unknown = set(data) - set(PROJECT_FIELDS)
    if unknown:
        raise ValidationFailed(fields={name: [_("This field cannot be changed here.")] for name in sorted(unknown)})
    cleaned = validate_project_data(data, instance=project)
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if locked.status == Status.WITHDRAWN:
            raise ConflictError(_("A withdrawn project can no longer be changed."))
        before = snapshot(locked, AUDITED_FIELDS)
        for name, value in cleaned.items():
            setattr(locked, name, value)
        _save_audited(locked, actor=actor, action="investments.project.updated", before=before)
    return locked


def follow_up_add(*, actor: User, project: Project, on: dt.date, note: str) -> FollowUp:
    """Log a negotiation follow-up (洽谈记录)."""
    _require(actor, FOLLOW_UP_ROLES)
    _require_not_withdrawn(project)
    errors = {}
    if not (note or "").strip():
        errors["note"] = [_("This field is required.")]
    if on is None or on > timezone.localdate():
        errors["on"] = [_("Enter a date that is not in the future.")]
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        follow_up = FollowUp.objects.create(project=project, on=on, note=note.strip(), actor=actor)
        audit_record(
            actor=actor,
            action="investments.project.followed_up",
            obj=project,
            changes={"follow_up": [None, f"{on}: {note.strip()[:100]}"]},
        )
    return follow_up


def _stage_date(project: Project, stage: Stage) -> dt.date | None:
    field = STAGE_DATE_FIELD.get(stage)
    if field:
        return getattr(project, field)
    change = project.stage_changes.filter(to_stage=stage).order_by("-on").first()
    return change.on if change else None


def project_transition(
    *,
    actor: User | None,
    project: Project,
    to_stage: str,
    on: dt.date | None = None,
    data: dict[str, Any] | None = None,
    new_enterprise: dict[str, Any] | None = None,
    note: str = "",
) -> Project:
    """Move a project to the next stage, asking for the data that stage needs.

    Only the next stage is reachable; a stopped, postponed or withdrawn project does not move; the
    date may not precede the previous stage's date nor lie in the future. Signing links the investor
    enterprise, registering it first from `new_enterprise` when it is new.
    """
    data = dict(data or {})
    try:
        target = Stage(to_stage)
    except ValueError:
        raise ValidationFailed(_("Unknown stage."), field="to_stage") from None
    # No stage leads to LEAD: staff who edit projects get the illegal-transition error below.
    _require(actor, TRANSITION_ROLES.get(target, EDIT_ROLES))
    allowed_fields = set(TRANSITION_FIELDS.get(target, []))
    unknown = set(data) - allowed_fields
    if unknown:
        raise ValidationFailed(
            fields={name: [_("This field cannot be set at this stage.")] for name in sorted(unknown)}
        )
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        current = Stage(locked.stage)
        if locked.status != Status.ACTIVE:
            raise ConflictError(
                _("The project is %(status)s; it must be resumed before it can move on.")
                % {"status": locked.get_status_display()}
            )
        if NEXT_STAGE.get(current) != target:
            raise ConflictError(
                _("A project cannot go from %(from)s to %(to)s.") % {"from": current.label, "to": target.label},
                field="to_stage",
            )
        if target == Stage.UNDER_CONSTRUCTION and settings.ZHIYUAN_START_REQUIRES_CONSTRUCTION_PERMIT:
            # Imported here: the approvals app imports this module's models.
            from zhiyuan.approvals.selectors import project_has_permit

            if not project_has_permit(locked):
                raise ValidationFailed(
                    _("Construction cannot start before the city has granted the construction permit "
                      "(建筑工程施工许可证) for this project."),
                    field="to_stage",
                )
        date_field = STAGE_DATE_FIELD.get(target)
        if date_field and not data.get(date_field) and on is not None:
            data[date_field] = on
        on = data.get(date_field) if date_field else (on or timezone.localdate())
        cleaned = validate_project_data(data, instance=locked)
        missing = [f for f in STAGE_REQUIRES.get(target, []) if cleaned.get(f) in (None, "") and not getattr(locked, f)]
        if target == Stage.SIGNED and not (cleaned.get("enterprise") or locked.enterprise_id or new_enterprise):
            missing.append("enterprise")
        if missing:
            raise ValidationFailed(fields={f: [_("Required for this stage.")] for f in missing})
        previous = _stage_date(locked, current)
        if on is None or on > timezone.localdate():
            raise ValidationFailed(_("Enter a date that is not in the future."), field=date_field or "on")
        if previous and on < previous:
            raise ValidationFailed(
                _("This date is before the date of the previous stage (%(date)s).") % {"date": previous},
                field=date_field or "on",
            )
        if target == Stage.SIGNED and new_enterprise and not cleaned.get("enterprise"):
            cleaned["enterprise"] = enterprise_create(actor=actor, data=new_enterprise)
        before = snapshot(locked, AUDITED_FIELDS)
        for name, value in cleaned.items():
            setattr(locked, name, value)
        locked.stage = target
        StageChange.objects.create(project=locked, from_stage=current, to_stage=target, on=on, note=note, actor=actor)
        _save_audited(locked, actor=actor, action=f"investments.project.{target.value}", before=before)
    return locked


def decision_record(
    *,
    actor: User | None,
    project: Project,
    kind: str,
    reason: str,
    decided_on: dt.date | None = None,
    resume_on: dt.date | None = None,
    adjustments: dict[str, Any] | None = None,
) -> Decision:
    """Record a leader's decision: 停 (stop), 缓 (postpone until `resume_on`), 调 (adjust fields,
    keeping before/after), 撤 (withdraw, final), or resume a stopped or postponed project."""
    _require(actor, DECISION_ROLES)
    try:
        kind = DecisionKind(kind)
    except ValueError:
        raise ValidationFailed(_("Unknown decision."), field="kind") from None
    decided_on = decided_on or timezone.localdate()
    errors: dict[str, list[str]] = {}
    if not (reason or "").strip():
        errors["reason"] = [_("A decision needs a reason.")]
    if decided_on > timezone.localdate():
        errors["decided_on"] = [_("This date cannot be in the future.")]
    if kind == DecisionKind.POSTPONE and (resume_on is None or resume_on <= decided_on):
        errors["resume_on"] = [_("A postponement needs a resume date after the decision date.")]
    adjustments = dict(adjustments or {})
    if kind == DecisionKind.ADJUST:
        if not adjustments:
            errors["adjustments"] = [_("Say what is adjusted.")]
        for name in set(adjustments) - set(ADJUSTABLE_FIELDS):
            errors.setdefault(name, []).append(_("This field cannot be adjusted."))
    if errors:
        raise ValidationFailed(fields=errors)
    approver = actor
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        status = Status(locked.status)
        allowed_from = DECISION_ALLOWED_FROM[kind]
        if status not in allowed_from:
            raise ConflictError(
                _("A project that is %(status)s cannot be given the decision “%(kind)s”.")
                % {"status": status.label, "kind": kind.label}
            )
        before = snapshot(locked, AUDITED_FIELDS)
        changes = {}
        if kind == DecisionKind.ADJUST:
            cleaned = validate_project_data(adjustments, instance=locked)
            for name, value in cleaned.items():
                changes[name] = [snapshot(locked, [name])[name], None]
                setattr(locked, name, value)
                changes[name][1] = snapshot(locked, [name])[name]
        new_status = {
            DecisionKind.STOP: Status.STOPPED,
            DecisionKind.POSTPONE: Status.POSTPONED,
            DecisionKind.WITHDRAW: Status.WITHDRAWN,
            DecisionKind.RESUME: Status.ACTIVE,
        }.get(kind, status)
        locked.status = new_status
        if kind != DecisionKind.ADJUST:  # 调 keeps the status and so the resume date of a postponed project
            locked.resume_on = resume_on if kind == DecisionKind.POSTPONE else None
        decision = Decision.objects.create(
            project=locked,
            kind=kind,
            reason=reason.strip(),
            decided_on=decided_on,
            approver=approver,
            resume_on=resume_on if kind == DecisionKind.POSTPONE else None,
            adjustments=changes,
        )
        _save_audited(
            locked,
            actor=actor,
            action=f"investments.project.{kind.value}",
            before=before,
            extra={"reason": [None, reason.strip()]},
        )
    return decision


def milestone_add(*, actor: User | None, project: Project, name: str, planned_on: dt.date, note: str = "") -> Milestone:
    """Add a schedule node (节点) with its planned date."""
    _require(actor, EDIT_ROLES)
    _require_not_withdrawn(project)
    errors = {}
    if not (name or "").strip():
        errors["name"] = [_("This field is required.")]
    if planned_on is None:
        errors["planned_on"] = [_("This field is required.")]
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        milestone = Milestone.objects.create(project=project, name=name.strip(), planned_on=planned_on, note=note)
        audit_record(
            actor=actor,
            action="investments.milestone.created",
            obj=milestone,
            changes={"name": [None, milestone.name], "planned_on": [None, str(planned_on)]},
        )
    return milestone


def milestone_complete(*, actor: User | None, milestone: Milestone, actual_on: dt.date) -> Milestone:
    """Record the date a milestone was actually reached."""
    _require(actor, EDIT_ROLES)
    _require_not_withdrawn(milestone.project)
    if actual_on is None or actual_on > timezone.localdate():
        raise ValidationFailed(_("Enter a date that is not in the future."), field="actual_on")
    with transaction.atomic():
        old = milestone.actual_on
        milestone.actual_on = actual_on
        milestone.save(update_fields=["actual_on"])
        audit_record(
            actor=actor,
            action="investments.milestone.updated",
            obj=milestone,
            changes={"actual_on": [str(old) if old else None, str(actual_on)]},
        )
    return milestone


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def monthly_investment_record(
    *, actor: User | None, project: Project, month: dt.date, amount: Any, note: str = ""
) -> MonthlyInvestment:
    """Record (or correct) the investment completed in a month, in 万元.

    The month may not be in the future, nor before the project started construction.
    """
    _require(actor, DELIVERY_ROLES)
    _require_not_withdrawn(project)
    errors: dict[str, list[str]] = {}
    value = _decimal(amount, "amount", errors)
    if value is None and "amount" not in errors:
        errors["amount"] = [_("This field is required.")]
    month = first_of_month(month) if month else None
    if month is None:
        errors["month"] = [_("This field is required.")]
    elif month > first_of_month(timezone.localdate()):
        errors["month"] = [_("Investment cannot be recorded for a future month.")]
    elif project.actual_start is None:
        errors["month"] = [_("The project has not started construction yet.")]
    elif month < first_of_month(project.actual_start):
        errors["month"] = [
            _("This month is before the project started construction (%(date)s).") % {"date": project.actual_start}
        ]
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        entry, created = MonthlyInvestment.objects.select_for_update().get_or_create(
            project=project, month=month, defaults={"amount": value, "note": note}
        )
        old = None if created else str(entry.amount)
        if not created:
            entry.amount, entry.note = value, note
            entry.save(update_fields=["amount", "note"])
        audit_record(
            actor=actor,
            action="investments.project.investment_recorded",
            obj=project,
            changes={f"investment {month:%Y-%m}": [old, str(value)]},
        )
    return entry


def _district_unit(unit: Organisation | None) -> Organisation:
    if unit is None or unit.kind != OrganisationKind.DISTRICT:
        raise ValidationFailed(_("Choose a district unit."), field="unit")
    return unit


def blocker_raise(
    *, actor: User | None, project: Project, description: str, unit: Organisation, due_on: dt.date
) -> Blocker:
    """Raise a problem (问题) on a project, assigned to a district unit with a due date."""
    _require(actor, BLOCKER_RAISE_ROLES)
    _require_not_withdrawn(project)
    if not (description or "").strip():
        raise ValidationFailed(_("This field is required."), field="description")
    if due_on is None:
        raise ValidationFailed(_("This field is required."), field="due_on")
    unit = _district_unit(unit)
    with transaction.atomic():
        blocker = Blocker.objects.create(
            project=project, description=description.strip(), unit=unit, due_on=due_on, raised_by=actor
        )
        audit_record(
            actor=actor,
            action="investments.blocker.created",
            obj=blocker,
            changes={"description": [None, blocker.description], "due_on": [None, str(due_on)]},
        )
    return blocker


def blocker_resolve(
    *, actor: User | None, blocker: Blocker, resolution: str, resolved_on: dt.date | None = None
) -> Blocker:
    """Close a blocker with what was done."""
    _require(actor, BLOCKER_RESOLVE_ROLES)
    if not (resolution or "").strip():
        raise ValidationFailed(_("Say how it was resolved."), field="resolution")
    if blocker.status == BlockerStatus.RESOLVED:
        raise ConflictError(_("This problem is already resolved."))
    with transaction.atomic():
        blocker.status = BlockerStatus.RESOLVED
        blocker.resolution = resolution.strip()
        blocker.resolved_on = resolved_on or timezone.localdate()
        blocker.save(update_fields=["status", "resolution", "resolved_on"])
        audit_record(
            actor=actor,
            action="investments.blocker.updated",
            obj=blocker,
            changes={"status": [BlockerStatus.OPEN, BlockerStatus.RESOLVED]},
        )
    return blocker


def attachment_add(*, actor: User | None, project: Project, uploaded_file, caption: str = "") -> Attachment:
    """Attach a document or photo; the type and size are checked and the SHA-256 is recorded."""
    _require(actor, EDIT_ROLES)
    _require_not_withdrawn(project)
    name = uploaded_file.name or ""
    sha256 = check_and_hash_upload(
        uploaded_file, allowed=ATTACHMENT_TYPES, max_bytes=settings.ZHIYUAN_ATTACHMENT_MAX_BYTES
    )
    with transaction.atomic():
        attachment = Attachment.objects.create(
            project=project,
            file=uploaded_file,
            caption=caption,
            sha256=sha256,
            size=uploaded_file.size,
            uploaded_by=actor,
        )
        audit_record(
            actor=actor,
            action="investments.project.attachment_added",
            obj=project,
            changes={"attachment": [None, f"{name} ({attachment.sha256[:12]})"]},
        )
    return attachment


def key_project_set(
    *,
    actor: User | None,
    project: Project,
    year: int,
    planned_investment: Any,
    liaison_leader: User | None = None,
    responsible_unit: Organisation | None = None,
    sequence: int = 0,
) -> KeyProject:
    """Put a project on a year's key-project list (or update its listing)."""
    _require(actor, KEY_LIST_ROLES)
    _require_not_withdrawn(project)
    errors: dict[str, list[str]] = {}
    planned = _decimal(planned_investment, "planned_investment", errors)
    if planned is None and "planned_investment" not in errors:
        errors["planned_investment"] = [_("This field is required.")]
    if liaison_leader is not None and liaison_leader.role != Role.LEADER:
        errors["liaison_leader"] = [_("The liaison leader must be a district leader.")]
    if responsible_unit is not None and responsible_unit.kind != OrganisationKind.DISTRICT:
        errors["responsible_unit"] = [_("Choose a district unit.")]
    try:
        plausible = 2000 <= int(year) <= timezone.localdate().year + 1
    except (TypeError, ValueError):
        plausible = False
    if not plausible:
        errors["year"] = [_("Enter a plausible year.")]
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        listing, created = KeyProject.objects.update_or_create(
            project=project,
            year=year,
            defaults={
                "planned_investment": planned,
                "liaison_leader": liaison_leader,
                "responsible_unit": responsible_unit,
                "sequence": sequence,
            },
        )
        audit_record(
            actor=actor,
            action="investments.project.key_listed",
            obj=project,
            changes={f"key project {year}": [None, str(planned)]},
        )
    return listing


def land_target_set(*, actor: User | None, year: int, collective_land_mu: Any, state_housing_m2: Any) -> LandTarget:
    """Set the year's land-acquisition targets."""
    _require(actor, LAND_TARGET_ROLES)
    errors: dict[str, list[str]] = {}
    land = _decimal(collective_land_mu, "collective_land_mu", errors)
    housing = _decimal(state_housing_m2, "state_housing_m2", errors)
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        target, _created = LandTarget.objects.update_or_create(
            year=year, defaults={"collective_land_mu": land or 0, "state_housing_m2": housing or 0}
        )
        audit_record(
            actor=actor,
            action="investments.land_target.updated",
            obj=target,
            changes={"collective_land_mu": [None, str(land)], "state_housing_m2": [None, str(housing)]},
        )
    return target


def land_progress_record(
    *,
    actor: User | None,
    month: dt.date,
    collective_land_mu: Any = 0,
    state_housing_m2: Any = 0,
    project: Project | None = None,
    note: str = "",
) -> LandProgress:
    """Record land acquired in a month (collective land 亩, state-owned housing m²)."""
    _require(actor, DELIVERY_ROLES)
    errors: dict[str, list[str]] = {}
    land = _decimal(collective_land_mu, "collective_land_mu", errors) or Decimal(0)
    housing = _decimal(state_housing_m2, "state_housing_m2", errors) or Decimal(0)
    if month is None or first_of_month(month) > first_of_month(timezone.localdate()):
        errors["month"] = [_("Land acquisition cannot be recorded for a future month.")]
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        progress = LandProgress.objects.create(
            month=first_of_month(month), project=project, collective_land_mu=land, state_housing_m2=housing, note=note
        )
        audit_record(
            actor=actor,
            action="investments.land_progress.created",
            obj=progress,
            changes={"collective_land_mu": [None, str(land)], "state_housing_m2": [None, str(housing)]},
        )
    return progress
