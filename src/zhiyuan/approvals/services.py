"""Approval-desk writes: every step of an application, at the window and from the city.

States (TRANSITIONS below is the whole machine):

    draft → submitted → accepted (受理) → city_received → in_review ⇄ returned → granted | denied → collected
              │  ↑          ↑ automatically after ZHIYUAN_APPROVALS_ACCEPT_WORKDAYS (行政许可法 §32)
              ↓  │
           correction (补正, once) ;  submitted → rejected (不予受理) ;  draft/submitted/correction → withdrawn

The window's steps are taken by a window clerk (or the admin); the firm's by a user of the
applying enterprise, or by a clerk on its behalf. Accepting writes the message to the city into the
outbox in the same transaction (datalink.services.message_enqueue): no acceptance without its
message, no message without its acceptance. The city's reply (its case number) and its status
callbacks arrive through the handlers at the end of this module; a callback whose `version` is not
newer than the last one applied, or that arrives after the decision, changes nothing.

Each step writes an ApplicationEvent (the timeline the firm sees) and an audit entry, and tells the
people who must act next. Services take an optional `today` so the tests and the demo can replay
a history; pages and the API never pass it.
"""

import contextlib
import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from zhiyuan.accounts.models import Role, User
from zhiyuan.accounts.permissions import is_district_staff
from zhiyuan.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from zhiyuan.core.files import check_and_hash_upload
from zhiyuan.core.services import audit_record, notify
from zhiyuan.core.workdays import CalendarNotCovered, WorkCalendar
from zhiyuan.datalink import registry
from zhiyuan.datalink.models import OutboxMessage
from zhiyuan.datalink.protocol import FINAL_CASE_STATUSES
from zhiyuan.datalink.services import message_enqueue
from zhiyuan.enterprises.models import Enterprise
from zhiyuan.investments.models import Project

from .models import (
    Application,
    ApplicationEvent,
    ApplicationMaterial,
    ApprovalItem,
    EventKind,
    MaterialRequirement,
)
from .models import (
    ApplicationStatus as S,
)

CLERK_ROLES = frozenset({Role.WINDOW_CLERK, Role.ADMIN})

TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    S.SUBMITTED: frozenset({S.CORRECTION, S.REJECTED, S.ACCEPTED, S.WITHDRAWN}),
    S.CORRECTION: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    # Once forwarded, the city decides where the case goes (status callbacks, newest version wins).
    S.ACCEPTED: frozenset({S.CITY_RECEIVED, S.IN_REVIEW, S.RETURNED, S.GRANTED, S.DENIED}),
    S.CITY_RECEIVED: frozenset({S.IN_REVIEW, S.RETURNED, S.GRANTED, S.DENIED}),
    S.IN_REVIEW: frozenset({S.CITY_RECEIVED, S.RETURNED, S.GRANTED, S.DENIED}),
    S.RETURNED: frozenset({S.CITY_RECEIVED, S.IN_REVIEW, S.GRANTED, S.DENIED}),
    S.GRANTED: frozenset({S.COLLECTED}),
    S.DENIED: frozenset({S.COLLECTED}),
    S.REJECTED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.COLLECTED: frozenset(),
}
# Where an application is once the city has it; city callbacks apply only to these.
WITH_THE_CITY = frozenset({S.ACCEPTED, S.CITY_RECEIVED, S.IN_REVIEW, S.RETURNED})
CITY_STATUS_TO_APPLICATION = {
    "received": S.CITY_RECEIVED,
    "in_review": S.IN_REVIEW,
    "returned": S.RETURNED,
    "granted": S.GRANTED,
    "denied": S.DENIED,
}
EDITABLE_MATERIALS = frozenset({S.DRAFT, S.CORRECTION, S.RETURNED})


# -- permissions and helpers -----------------------------------------------------------------------


def is_clerk(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.role in CLERK_ROLES)


def acts_for(user: User | None, enterprise_id: int | None) -> bool:
    """Whether `user` may act as the applicant for this enterprise: its own users, or a window clerk."""
    if is_clerk(user):
        return True
    return bool(
        user is not None and user.is_authenticated and user.role == Role.ENTERPRISE
        and enterprise_id is not None and user.enterprise_id == enterprise_id
    )


def _require_clerk(actor: User | None) -> None:
    if actor is not None and not is_clerk(actor):
        raise PermissionDeniedError()


def _require_applicant(actor: User | None, application: Application) -> None:
    if actor is not None and not acts_for(actor, application.enterprise_id):
        raise PermissionDeniedError()


def _lock(application: Application) -> Application:
    # of=("self",): on PostgreSQL a plain FOR UPDATE would also lock the joined item, project and enterprise
    # rows, so work on two applications of the same item would contend, and deadlock with the log head lock.
    return Application.objects.select_for_update(of=("self",)).select_related("item", "project", "enterprise").get(
        pk=application.pk
    )


def _move(application: Application, to: str) -> str:
    """Check that `application` may go to `to`; return the old status."""
    current = application.status
    if to not in TRANSITIONS[current]:
        raise ConflictError(
            _("An application that is %(current)s cannot become %(target)s.")
            % {"current": S(current).label, "target": S(to).label}
        )
    application.status = to
    return current


def _event(
    application: Application,
    *,
    actor: User | None,
    kind: str,
    note: str = "",
    data: dict | None = None,
    message_id: str = "",
    from_status: str = "",
    on: dt.date | dt.datetime | None = None,
) -> ApplicationEvent:
    """Save the application, add its timeline event and the audit entry (in the caller's transaction).

    `on` dates the event when a step is replayed for an earlier day (the demo, the tests) or when
    the city says when something happened; by default it is now.
    """
    application.save()
    event = ApplicationEvent.objects.create(
        application=application,
        at=_moment(on),
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        note=note,
        data=data or {},
        message_id=str(message_id or ""),
    )
    changes: dict[str, list] = {}
    if from_status and from_status != application.status:
        changes["status"] = [from_status, application.status]
    if note:
        changes["note"] = [None, note[:500]]
    audit_record(actor=actor, action=f"approvals.application.{kind}", obj=application, changes=changes)
    return event


def _moment(on: dt.date | dt.datetime | None) -> dt.datetime:
    """The time to record for a step taken `on` a day (at the current time of day) or at a given time."""
    now = timezone.now()
    if on is None:
        return now
    if isinstance(on, dt.datetime):
        return on if timezone.is_aware(on) else timezone.make_aware(on)
    if on == timezone.localdate():
        return now
    return timezone.make_aware(dt.datetime.combine(on, timezone.localtime(now).time()))


def _link(application: Application) -> str:
    return reverse("approvals:detail", args=[application.pk])


def _applicants(application: Application) -> list[User]:
    users = list(
        User.objects.filter(
            role=Role.ENTERPRISE, organisation__enterprise_id=application.enterprise_id, is_active=True
        )
    )
    if application.created_by_id and application.created_by not in users and application.created_by.is_active:
        users.append(application.created_by)
    return users


def _clerks() -> list[User]:
    return list(User.objects.filter(role=Role.WINDOW_CLERK, is_active=True))


def _tell(recipients, application: Application, title: str, body: str = "") -> None:
    notify(recipients=recipients, title=title, body=body or str(application), link=_link(application))


def _due(calendar: WorkCalendar, start: dt.date, days: int) -> dt.date | None:
    """`days` working days after `start`, or None while the calendar does not cover that far."""
    try:
        return calendar.add(start, days)
    except CalendarNotCovered:
        return None


def _city_due(application: Application, calendar: WorkCalendar | None = None) -> dt.date | None:
    if application.city_received_on is None:
        return None
    days = application.item.time_limit_workdays + application.paused_workdays
    return _due(calendar or WorkCalendar(), application.city_received_on, days)


def _today(today: dt.date | None) -> dt.date:
    day = today or timezone.localdate()
    if day > timezone.localdate():
        raise ValidationFailed(_("Enter a date that is not in the future."), field="today")
    return day


# -- the applicant's steps ---------------------------------------------------------------------------


def application_create(
    *,
    actor: User | None,
    item: ApprovalItem,
    project: Project,
    contact_name: str,
    contact_phone: str,
    description: str = "",
    enterprise: Enterprise | None = None,
    is_demo: bool = False,
) -> Application:
    """Start an application (a draft) for `item` on `project`, by the project's enterprise.

    A firm user applies for its own projects only; a clerk may start one on a firm's behalf. The
    project must be signed to an enterprise and, for items that need it, carry its 投资项目代码; only
    one open application per project and item is allowed.
    """
    enterprise = enterprise or project.enterprise
    errors: dict[str, list] = {}
    if actor is not None and not acts_for(actor, project.enterprise_id):
        if is_district_staff(actor):
            raise PermissionDeniedError()
        # A firm asking about another firm's project learns nothing about it.
        raise NotFoundError()
    if project.enterprise_id is None:
        errors["project"] = [_("This project has no investor enterprise yet; sign it first.")]
    elif enterprise is None or enterprise.pk != project.enterprise_id:
        errors["enterprise"] = [_("The applicant must be the project's investor enterprise.")]
    if not item.is_active:
        errors["item"] = [_("This approval item is no longer accepted.")]
    if item.requires_project_code and not project.code:
        errors.setdefault("project", []).append(
            _("This project has no investment project code (投资项目代码); obtain it first.")
        )
    if not (contact_name or "").strip():
        errors["contact_name"] = [_("This field is required.")]
    if not (contact_phone or "").strip():
        errors["contact_phone"] = [_("This field is required.")]
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        open_statuses = [s for s in S.values if s not in (S.REJECTED, S.WITHDRAWN, S.COLLECTED, S.DENIED)]
        if Application.objects.filter(project=project, item=item, status__in=open_statuses).exists():
            raise ConflictError(
                _("This project already has an open application for %(item)s.") % {"item": item.name}, field="item"
            )
        application = Application.objects.create(
            number=f"tmp-{timezone.now().timestamp()}-{project.pk}-{item.pk}",
            item=item,
            project=project,
            enterprise=enterprise,
            project_code=project.code or "",
            contact_name=contact_name.strip(),
            contact_phone=contact_phone.strip(),
            description=description.strip(),
            created_by=actor if getattr(actor, "pk", None) else None,
            is_demo=is_demo,
        )
        application.number = f"HT{timezone.localdate():%Y}{application.pk:07d}"
        _event(application, actor=actor, kind=EventKind.CREATED)
    return application


def material_round(application: Application) -> int:
    """Which upload round new files belong to: 0 the application, 1 the correction, 2+ each supplement."""
    if application.status == S.CORRECTION:
        return 1
    if application.status == S.RETURNED:
        forwarded = application.events.filter(kind=EventKind.SUPPLEMENT_FORWARDED).count()
        return 2 + forwarded
    return 0


def _materials_locked(application: Application) -> ConflictError:
    return ConflictError(
        _("Materials cannot be changed while the application is %(status)s.")
        % {"status": application.get_status_display()}
    )


def material_add(
    *, actor: User | None, application: Application, requirement: MaterialRequirement | None, uploaded_file
) -> ApplicationMaterial:
    """Upload one material file, checked against the requirement's file types and the size limit.

    Allowed while the application is a draft, while corrections are requested (the new file replaces
    the earlier ones for that material) and while the city has returned it for more material.
    """
    _require_applicant(actor, application)
    if requirement is not None and requirement.item_id != application.item_id:
        raise ValidationFailed(_("This material does not belong to the application's item."), field="requirement")
    if requirement is None and application.status != S.RETURNED:
        raise ValidationFailed(_("Choose which required material this file is."), field="requirement")
    if application.status not in EDITABLE_MATERIALS:
        raise _materials_locked(application)
    allowed = requirement.extensions if requirement is not None else frozenset(
        {".pdf", ".jpg", ".jpeg", ".png", ".doc", ".docx", ".xls", ".xlsx"}
    )
    digest = check_and_hash_upload(
        uploaded_file, allowed=allowed, max_bytes=settings.ZHIYUAN_APPROVALS_MATERIAL_MAX_BYTES, field="file"
    )
    with transaction.atomic():
        locked = _lock(application)
        if locked.status not in EDITABLE_MATERIALS:
            raise _materials_locked(locked)
        current_round = material_round(locked)
        if locked.status == S.CORRECTION and requirement is not None:
            locked.materials.filter(requirement=requirement, round__lt=current_round).update(is_current=False)
        material = ApplicationMaterial.objects.create(
            application=locked,
            requirement=requirement,
            file=uploaded_file,
            original_name=(uploaded_file.name or "")[:255],
            size=uploaded_file.size,
            sha256=digest,
            round=current_round,
            uploaded_by=actor if getattr(actor, "pk", None) else None,
        )
        _event(
            locked,
            actor=actor,
            kind=EventKind.MATERIAL_ADDED,
            note=material.original_name,
            data={"material": requirement.name if requirement else "", "sha256": digest, "round": current_round},
        )
    return material


def material_remove(*, actor: User | None, material: ApplicationMaterial) -> None:
    """Remove a file uploaded in the current round (a file already seen by the window stays on record)."""
    application = material.application
    _require_applicant(actor, application)
    with transaction.atomic():
        locked = _lock(application)
        if locked.status not in EDITABLE_MATERIALS or material.round != material_round(locked):
            raise ConflictError(_("This file is on record and can no longer be removed."))
        if locked.status == S.CORRECTION and material.requirement_id:
            # Removing the corrected file brings back the one it replaced.
            locked.materials.filter(requirement_id=material.requirement_id, round=0).update(is_current=True)
        name = material.original_name
        material.file.delete(save=False)
        material.delete()
        _event(locked, actor=actor, kind=EventKind.MATERIAL_REMOVED, note=name)


def missing_materials(application: Application) -> list[MaterialRequirement]:
    """The required materials with no current file."""
    present = set(application.materials.filter(is_current=True).values_list("requirement_id", flat=True))
    return [r for r in application.item.materials.all() if r.required and r.pk not in present]


def application_submit(*, actor: User | None, application: Application, today: dt.date | None = None) -> Application:
    """Submit a draft, or resubmit after corrections, to the window. Every required material must be
    there, and after a correction request every listed material must have been uploaded anew; the
    window's 5-working-day clock starts from this day of receipt."""
    _require_applicant(actor, application)
    day = _today(today)
    with transaction.atomic():
        locked = _lock(application)
        errors: list[str] = [
            _("Missing required material: %(name)s") % {"name": r.name} for r in missing_materials(locked)
        ]
        if locked.status == S.CORRECTION:
            corrected = set(locked.materials.filter(round=1).values_list("requirement_id", flat=True))
            for entry in locked.correction_items:
                if entry.get("requirement") and entry["requirement"] not in corrected:
                    errors.append(_("Not yet corrected: %(name)s") % {"name": entry.get("name", "")})
        if errors:
            raise ValidationFailed(_("The application is not complete."), fields={"materials": errors})
        was = _move(locked, S.SUBMITTED)
        locked.received_on = day
        locked.accept_due = _due(WorkCalendar(), day, settings.ZHIYUAN_APPROVALS_ACCEPT_WORKDAYS)
        kind = EventKind.RESUBMITTED if was == S.CORRECTION else EventKind.SUBMITTED
        _event(locked, actor=actor, kind=kind, from_status=was, data={"accept_due": str(locked.accept_due or "")},
               on=day)
        _tell(_clerks(), locked, _("New application at the window: %(number)s") % {"number": locked.number})
    return locked


def application_withdraw(*, actor: User | None, application: Application, reason: str) -> Application:
    """The applicant withdraws an application the window has not yet accepted."""
    _require_applicant(actor, application)
    if not (reason or "").strip():
        raise ValidationFailed(_("Give a reason."), field="reason")
    with transaction.atomic():
        locked = _lock(application)
        was = _move(locked, S.WITHDRAWN)
        _event(locked, actor=actor, kind=EventKind.WITHDRAWN, note=reason.strip(), from_status=was)
    return locked


# -- the window's steps -------------------------------------------------------------------------------


def application_request_correction(
    *, actor: User | None, application: Application, items: list[dict[str, Any]], note: str = ""
) -> Application:
    """Ask for corrections (补正) — once, listing every missing or faulty material with what is wrong.

    `items` is a list of {"requirement": <MaterialRequirement id or None for a general problem>,
    "problem": "..."}; the window's clock stops and starts again when the firm resubmits.
    """
    _require_clerk(actor)
    cleaned: list[dict[str, Any]] = []
    errors: list[str] = []
    requirements = {r.pk: r for r in application.item.materials.all()}
    for index, entry in enumerate(items or [], start=1):
        requirement_id = entry.get("requirement") or None
        problem = (entry.get("problem") or "").strip()
        if requirement_id is not None:
            try:
                requirement_id = int(requirement_id)
            except (TypeError, ValueError):
                requirement_id = -1
            if requirement_id not in requirements:
                errors.append(_("Line %(n)s: not a material of this item.") % {"n": index})
                continue
        if not problem:
            errors.append(_("Line %(n)s: say what is missing or wrong.") % {"n": index})
            continue
        name = requirements[requirement_id].name if requirement_id else _("General")
        cleaned.append({"requirement": requirement_id, "name": name, "problem": problem})
    if not cleaned and not errors:
        errors.append(_("List at least one missing or faulty material."))
    if errors:
        raise ValidationFailed(fields={"items": errors})
    with transaction.atomic():
        locked = _lock(application)
        if locked.corrections_requested and locked.status == S.SUBMITTED:
            raise ConflictError(
                _("Corrections may be requested only once (行政许可法 §32); accept or reject the application.")
            )
        was = _move(locked, S.CORRECTION)
        locked.corrections_requested = True
        locked.correction_items = cleaned
        locked.correction_note = (note or "").strip()
        locked.accept_due = None
        _event(locked, actor=actor, kind=EventKind.CORRECTION_REQUESTED, note=locked.correction_note,
               data={"items": cleaned}, from_status=was)
        _tell(_applicants(locked), locked,
              _("Corrections requested for %(number)s") % {"number": locked.number},
              "; ".join(f"{c['name']}: {c['problem']}" for c in cleaned))
    return locked


def application_reject(*, actor: User | None, application: Application, reason: str) -> Application:
    """Do not accept (不予受理), with the reason the firm is told."""
    _require_clerk(actor)
    if not (reason or "").strip():
        raise ValidationFailed(_("Give the reason for not accepting."), field="reason")
    with transaction.atomic():
        locked = _lock(application)
        was = _move(locked, S.REJECTED)
        locked.rejection_reason = reason.strip()
        _event(locked, actor=actor, kind=EventKind.REJECTED, note=locked.rejection_reason, from_status=was)
        _tell(_applicants(locked), locked, _("Application %(number)s not accepted") % {"number": locked.number},
              locked.rejection_reason)
    return locked


def _forward_payload(application: Application) -> dict[str, Any]:
    materials = application.materials.filter(is_current=True).select_related("requirement")
    return {
        "application_number": application.number,
        "item_code": application.item.code,
        "item_name": application.item.name,
        "department": application.item.department,
        "project_code": application.project_code,
        "project_name": application.project.name,
        "enterprise": {"uscc": application.enterprise.uscc, "name": application.enterprise.name},
        "applicant": {"name": application.contact_name, "phone": application.contact_phone},
        "description": application.description,
        "accepted_at": timezone.now().isoformat(),
        "automatic": application.accepted_automatically,
        "materials": [
            {
                "requirement": m.requirement.name if m.requirement else "",
                "filename": m.original_name,
                "sha256": m.sha256,
                "size": m.size,
            }
            for m in materials
        ],
    }


def _accept(
    locked: Application, *, actor: User | None, accepted_on: dt.date, automatic: bool, note: str, on: dt.date
) -> None:
    """Accept and forward, in the caller's transaction: the status, the timeline and the outbox message."""
    was = _move(locked, S.ACCEPTED)
    locked.accepted_on = accepted_on
    locked.accepted_automatically = automatic
    locked.accepted_by = actor if getattr(actor, "pk", None) else None
    message = message_enqueue(
        message_type="application.submit",
        payload=_forward_payload(locked),
        subject=f"approvals.application:{locked.pk}",
    )
    locked.forward_message_id = message.message_id
    _event(locked, actor=actor, kind=EventKind.AUTO_ACCEPTED if automatic else EventKind.ACCEPTED, note=note,
           from_status=was, on=on)
    _event(locked, actor=None, kind=EventKind.FORWARDED, message_id=str(message.message_id),
           data={"department": locked.item.department})
    _tell(_applicants(locked), locked, _("Application %(number)s accepted and forwarded to the city")
          % {"number": locked.number})


def application_accept(
    *, actor: User | None, application: Application, note: str = "", today: dt.date | None = None
) -> Application:
    """Accept (受理) and forward to the city in one transaction."""
    _require_clerk(actor)
    day = _today(today)
    with transaction.atomic():
        locked = _lock(application)
        _accept(locked, actor=actor, accepted_on=day, automatic=False, note=(note or "").strip(), on=day)
    return locked


def applications_accept_overdue(*, today: dt.date | None = None) -> int:
    """行政许可法 §32: an application the window has not decided on within the limit counts as accepted
    from the day it was received. Accepts and forwards each one, recording why; returns how many."""
    day = today or timezone.localdate()
    count = 0
    overdue = Application.objects.filter(status=S.SUBMITTED, accept_due__isnull=False, accept_due__lt=day)
    for application in overdue.order_by("accept_due", "pk"):
        with transaction.atomic():
            locked = _lock(application)
            if locked.status != S.SUBMITTED:
                continue
            reason = _(
                "The window did not decide within %(days)s working days of receipt (due %(due)s); under "
                "行政许可法 §32 the application counts as accepted from the day it was received (%(received)s)."
            ) % {
                "days": settings.ZHIYUAN_APPROVALS_ACCEPT_WORKDAYS,
                "due": locked.accept_due,
                "received": locked.received_on,
            }
            _accept(locked, actor=None, accepted_on=locked.received_on or day, automatic=True, note=reason, on=day)
            _tell(_clerks(), locked, _("Application %(number)s accepted by law (§32)") % {"number": locked.number},
                  reason)
            count += 1
    return count


def applications_overdue_notify(*, today: dt.date | None = None) -> int:
    """督办: tell the window clerks about every application the city has not decided by its due date, and
    about accepted applications the city has still not acknowledged a day later (the data link is
    stuck or a message is dead). Each is told once per application and due date; returns how many."""
    day = today or timezone.localdate()
    sent = 0
    clerks = _clerks()
    late = Application.objects.filter(status__in=[S.CITY_RECEIVED, S.IN_REVIEW], city_due__lt=day)
    for application in late.select_related("item"):
        sent += notify(
            recipients=clerks,
            title=_("The city is overdue on %(number)s") % {"number": application.number},
            body=_("%(department)s was due to decide case %(case)s by %(due)s.") % {
                "department": application.item.department,
                "case": application.city_case_number,
                "due": application.city_due,
            },
            link=_link(application),
            key=f"approvals-city-overdue-{application.pk}-{application.city_due}",
        )
    stuck = OutboxMessage.objects.filter(
        message_type="application.submit", created_at__lt=timezone.now() - dt.timedelta(days=1)
    ).values("message_id")
    unacknowledged = Application.objects.filter(status=S.ACCEPTED, forward_message_id__in=stuck)
    operators = list(User.objects.filter(role__in=CLERK_ROLES, is_active=True))
    for application in unacknowledged:
        sent += notify(
            recipients=operators,
            title=_("The city has not acknowledged %(number)s") % {"number": application.number},
            body=_("Forwarded more than a day ago and not yet received by the city: check the data link."),
            link=_link(application),
            key=f"approvals-unacknowledged-{application.pk}",
        )
    return sent


def deadlines_refresh() -> int:
    """Fill in deadlines left empty because the calendar did not cover them, once it does; returns how many."""
    calendar = WorkCalendar()
    count = 0
    for application in Application.objects.filter(status=S.SUBMITTED, accept_due__isnull=True,
                                                  received_on__isnull=False):
        due = _due(calendar, application.received_on, settings.ZHIYUAN_APPROVALS_ACCEPT_WORKDAYS)
        if due:
            Application.objects.filter(pk=application.pk, accept_due__isnull=True).update(accept_due=due)
            count += 1
    waiting = Application.objects.filter(
        status__in=[S.CITY_RECEIVED, S.IN_REVIEW], city_due__isnull=True, city_received_on__isnull=False
    ).select_related("item")
    for application in waiting:
        due = _city_due(application, calendar)
        if due:
            Application.objects.filter(pk=application.pk, city_due__isnull=True).update(city_due=due)
            count += 1
    return count


def application_supplement_forward(
    *, actor: User | None, application: Application, note: str = ""
) -> Application:
    """Forward the supplementary material the firm uploaded after the city returned the case."""
    _require_clerk(actor)
    with transaction.atomic():
        locked = _lock(application)
        if locked.status != S.RETURNED:
            raise ConflictError(_("Only an application the city returned can get supplementary material."))
        current_round = material_round(locked)
        new_files = list(locked.materials.filter(round=current_round))
        if not new_files:
            raise ValidationFailed(_("The firm has not uploaded any supplementary material yet."), field="materials")
        payload = {
            "application_number": locked.number,
            "case_number": locked.city_case_number,
            "note": (note or "").strip(),
            "materials": [
                {"requirement": m.requirement.name if m.requirement else "", "filename": m.original_name,
                 "sha256": m.sha256, "size": m.size}
                for m in new_files
            ],
        }
        message = message_enqueue(
            message_type="application.supplement", payload=payload, subject=f"approvals.application:{locked.pk}"
        )
        locked.supplement_forwarded_at = timezone.now()
        _event(locked, actor=actor, kind=EventKind.SUPPLEMENT_FORWARDED, note=payload["note"],
               message_id=str(message.message_id), data={"files": len(new_files)})
    return locked


def application_collect(
    *, actor: User | None, application: Application, collected_by: str, today: dt.date | None = None
) -> Application:
    """Record that the firm collected the decision at the window (出件)."""
    _require_clerk(actor)
    if not (collected_by or "").strip():
        raise ValidationFailed(_("Enter who collected the result."), field="collected_by")
    day = _today(today)
    with transaction.atomic():
        locked = _lock(application)
        was = _move(locked, S.COLLECTED)
        locked.collected_on = day
        locked.collected_by = collected_by.strip()[:50]
        _event(locked, actor=actor, kind=EventKind.COLLECTED, note=locked.collected_by, from_status=was, on=day)
    return locked


# -- from the city ------------------------------------------------------------------------------------


def _application_by_number(number: Any) -> Application:
    application = Application.objects.filter(number=str(number or "")).first()
    if application is None:
        raise NotFoundError(_("No application %(number)s.") % {"number": number}, code="unknown_application")
    return _lock(application)


def _city_day(value: Any, field: str) -> dt.date:
    """The local date of a time the city sent; a malformed time rejects the message (naming the field)."""
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        raise ValidationFailed(_("%(field)s is not an ISO 8601 time.") % {"field": field}, field=field) from None
    return timezone.localdate(moment) if timezone.is_aware(moment) else moment.date()


@registry.on_delivered("application.submit")
def city_acknowledged(message, result: dict) -> None:
    """The city received a forwarded application and gave it a case number: its clock starts."""
    locked = _application_by_number(message.payload.get("application_number"))
    if locked.status not in WITH_THE_CITY and locked.status not in (S.GRANTED, S.DENIED, S.COLLECTED):
        raise ConflictError(_("Application %(number)s has not been forwarded to the city.")
                            % {"number": locked.number})
    case_number = str(result.get("case_number") or "")
    if not case_number:
        raise ValidationFailed(_("The city's reply has no case number."))
    if locked.city_case_number and locked.city_case_number != case_number:
        raise ConflictError(
            _("The city gave case number %(new)s, but the application already has %(old)s.")
            % {"new": case_number, "old": locked.city_case_number}
        )
    if locked.city_case_number and locked.city_received_on and locked.status != S.ACCEPTED:
        # A status callback already told us the case number (this reply was delayed): nothing new.
        return
    locked.city_case_number = case_number
    if locked.city_received_on is None:
        locked.city_received_on = _city_day(result.get("received_at"), "received_at")
        locked.city_due = _city_due(locked)
    was = locked.status
    if locked.status == S.ACCEPTED:
        _move(locked, S.CITY_RECEIVED)
    _event(locked, actor=None, kind=EventKind.CITY_RECEIVED, message_id=str(message.message_id),
           data={"case_number": case_number, "city_due": str(locked.city_due or "")}, from_status=was)


@registry.on_delivered("application.supplement")
def city_received_supplement(message, result: dict) -> None:
    """The city confirmed it has the supplementary material."""
    locked = _application_by_number(message.payload.get("application_number"))
    _event(locked, actor=None, kind=EventKind.CITY_STATUS, message_id=str(message.message_id),
           note=_("The city received the supplementary material."), data={"result": result})


@registry.on_inbound("case.status")
def city_status_received(envelope) -> dict:
    """A status callback from the city. Applied only when newer than the last one applied and while
    the case is open with the city; otherwise recorded on the timeline and ignored."""
    payload = envelope.payload
    status = payload.get("status")
    if status not in CITY_STATUS_TO_APPLICATION:
        raise ValidationFailed(_("Unknown case status %(status)r.") % {"status": status}, field="status")
    try:
        version = int(payload.get("version"))
    except (TypeError, ValueError):
        raise ValidationFailed(_("The case version must be a whole number."), field="version") from None
    locked = _application_by_number(payload.get("application_number"))
    case_number = str(payload.get("case_number") or "")
    if locked.city_case_number and case_number and locked.city_case_number != case_number:
        raise ConflictError(_("Case %(case)s is not this application's case.") % {"case": case_number})
    if locked.status not in WITH_THE_CITY and locked.status not in (S.GRANTED, S.DENIED, S.COLLECTED):
        raise ConflictError(_("Application %(number)s has not been forwarded to the city.")
                            % {"number": locked.number})
    if version <= locked.city_version or locked.status not in WITH_THE_CITY:
        _event(locked, actor=None, kind=EventKind.STALE_UPDATE, message_id=envelope.id,
               data={"status": status, "version": version, "applied_version": locked.city_version})
        return {"applied": False}
    if not locked.city_case_number and case_number:
        # The acknowledgement was lost on the way back; the callback carries the same facts.
        locked.city_case_number = case_number
    if locked.city_received_on is None:
        locked.city_received_on = _city_day(payload.get("at"), "at")
    target = CITY_STATUS_TO_APPLICATION[status]
    was = locked.status
    today = _city_day(payload.get("at"), "at")
    if target != was:
        _move(locked, target)
    if was == S.RETURNED and target != S.RETURNED and locked.returned_on:
        # The time the case spent back with the firm does not count against the city's limit.
        with contextlib.suppress(CalendarNotCovered):
            locked.paused_workdays += max(WorkCalendar().between(locked.returned_on, today), 0)
        locked.returned_on = None
    if target == S.RETURNED:
        locked.returned_on = today
        locked.supplement_forwarded_at = None
    locked.city_version = version
    locked.city_reason = str(payload.get("reason") or "")
    if status in FINAL_CASE_STATUSES:
        locked.decision = status
        locked.decided_on = today
        locked.certificate_number = str(payload.get("certificate_number") or "")
        certificate_date = payload.get("certificate_date") or ""
        try:
            locked.certificate_date = dt.date.fromisoformat(certificate_date) if certificate_date else None
        except ValueError:
            raise ValidationFailed(_("The certificate date is not a date."), field="certificate_date") from None
    locked.city_due = _city_due(locked)
    _event(locked, actor=None, kind=EventKind.CITY_STATUS, message_id=envelope.id, note=locked.city_reason,
           on=dt.datetime.fromisoformat(str(payload.get("at"))),
           data={"status": status, "version": version, "certificate_number": locked.certificate_number},
           from_status=was)
    titles = {
        S.IN_REVIEW: _("The city is reviewing application %(number)s"),
        S.RETURNED: _("The city returned application %(number)s for more material"),
        S.GRANTED: _("Application %(number)s granted: collect the result at the window"),
        S.DENIED: _("Application %(number)s denied by the city"),
    }
    if target in titles:
        recipients = _applicants(locked) + (_clerks() if target in (S.RETURNED, S.GRANTED, S.DENIED) else [])
        _tell(recipients, locked, titles[target] % {"number": locked.number}, locked.city_reason)
    return {"applied": True}


# -- the item catalogue ---------------------------------------------------------------------------------


def item_save(*, actor: User, item: ApprovalItem) -> ApprovalItem:
    """Save a catalogue item edited by the admin (the admin site's form validated it)."""
    if actor.role != Role.ADMIN:
        raise PermissionDeniedError()
    with transaction.atomic():
        item.save()
        audit_record(actor=actor, action="approvals.item.saved", obj=item)
    return item
