"""Service-desk writes: submitting a request (诉求), every step of its life, visits (走访), the
escalation sweep (督办) and the automatic closing of unrated requests.

Every write checks the actor, validates, runs in one transaction, writes a RequestEvent (the
request's timeline) and an audit entry, and raises a DomainError naming the bad field. `actor=None`
is the system (the demo loader, the daily sweep). Each step takes an optional `on` date (the day it
happened; default today, never in the future, never before the request was received) so the demo
and the tests can replay a history; pages and the API never pass it.

Final signatures (as in the contract, plus the optional `on`):
    request_submit(*, actor, enterprise, category, title, description, channel="online", is_complex=False,
                   labour=None, financing=None, project=None, visit=None, attachments=(), on=None)
    request_sign_for(*, actor, request, on=None)
    request_reply(*, actor, request, note, on=None)
    request_ask_firm(*, actor, request, note, on=None)
    request_add_information(*, actor, request, note, attachments=(), on=None)
    request_transfer(*, actor, request, department, note, on=None)
    request_resolve(*, actor, request, resolution, on=None)
    request_rate(*, actor, request, rating, comment="", on=None)
    request_reopen(*, actor, request, reason, on=None)
    request_close_unrated(*, today) -> int
    request_attachment_add(*, actor, request, uploaded_file) -> RequestAttachment
    visit_log(*, actor, enterprise, visited_on, people_met, findings) -> Visit
    visit_create_requests(*, actor, visit, items) -> list[ServiceRequest]
    escalations_run(*, today) -> EscalationReport
Each request_* step returns the updated request (a fresh instance).

States (TRANSITIONS below is the whole machine): submitted → signed for → in progress (↔ waiting for
the firm) → resolved → closed (rated, or unrated for ZHIYUAN_SERVICEDESK_AUTOCLOSE_WORKDAYS working
days); resolved → reopened ("not solved") → in progress with the handler's next reply. A reply,
a question to the firm and a resolution all count as the first reply. Transferring (转办) changes
the owner, not the status, and keeps the clock.

Routing: the category's responsible department (CategoryRule.department) when set; else the firm's
specialist (the request is assigned to them, in their organisation); else the 企业服务中心, taken
to be the organisation of the first active service-centre staff user — unassigned, so its staff
and specialists pick it up. With no such user the request has no owner and only service staff and
the admin (who act on every request) see it in their queue.

SLA: deadlines are working days (core.workdays) from the day received: sign for within
CategoryRule.sign_for_days, first reply within reply_days, resolve within resolve_days (or
resolve_days_complex). Waiting for the firm pauses the clock: the working days after the question
up to the day the information arrives are added to paused_workdays and the deadlines not yet met
move back by as many working days (so due = add(received_on, days + paused_workdays)). Reopening
starts a new resolution period from the day of reopening.
"""

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from zhiyuan.accounts.models import Organisation, OrganisationKind, Role, User
from zhiyuan.core.errors import ConflictError, DomainError, PermissionDeniedError, ValidationFailed
from zhiyuan.core.files import ATTACHMENT_TYPES, check_and_hash_upload
from zhiyuan.core.services import audit_record, audit_record_many, diff, notify, snapshot
from zhiyuan.core.workdays import CalendarNotCovered, WorkCalendar
from zhiyuan.enterprises.models import Enterprise
from zhiyuan.servicedesk.models import (
    Category,
    CategoryRule,
    Channel,
    RequestAttachment,
    RequestEvent,
    RequestStatus,
    ServiceRequest,
    Visit,
)
from zhiyuan.servicedesk.selectors import (
    OPEN_STATUSES,
    WorkdayIndex,
    can_handle,
    is_firm_user,
    is_requesting_firm,
)

S = RequestStatus

# District roles that register requests on a firm's behalf (phone, visit, WeChat, counter) and log
# visits. Leaders and statistics officers read only.
INTAKE_ROLES = frozenset(
    {Role.ADMIN, Role.SERVICE_STAFF, Role.SPECIALIST, Role.WINDOW_CLERK, Role.INVESTMENT, Role.PROJECT}
)
VISIT_ROLES = INTAKE_ROLES
STAFF_CHANNELS = frozenset({Channel.PHONE, Channel.VISIT, Channel.WECHAT, Channel.COUNTER})

# The state machine: each step, the statuses it may start from, and the status it leads to.
TRANSITIONS: dict[str, tuple[frozenset, RequestStatus]] = {
    "sign_for": (frozenset({S.SUBMITTED}), S.SIGNED_FOR),
    "reply": (frozenset({S.SIGNED_FOR, S.IN_PROGRESS, S.REOPENED}), S.IN_PROGRESS),
    "ask_firm": (frozenset({S.SIGNED_FOR, S.IN_PROGRESS, S.REOPENED}), S.WAITING_FOR_FIRM),
    "add_information": (frozenset({S.WAITING_FOR_FIRM}), S.IN_PROGRESS),
    "resolve": (frozenset({S.SIGNED_FOR, S.IN_PROGRESS, S.REOPENED}), S.RESOLVED),
    "rate": (frozenset({S.RESOLVED}), S.CLOSED),
    "close_unrated": (frozenset({S.RESOLVED}), S.CLOSED),
    "reopen": (frozenset({S.RESOLVED}), S.REOPENED),
}
# Every (from, to) pair the machine allows (a reply while in progress stays in progress).
LEGAL_PAIRS = frozenset((source, target) for sources, target in TRANSITIONS.values() for source in sources)
# Transfer (转办) changes the owner, not the status.
TRANSFERABLE = frozenset(OPEN_STATUSES - {S.WAITING_FOR_FIRM})
AUDITED_FIELDS = [
    "status",
    "assignee",
    "department",
    "sign_for_due",
    "reply_due",
    "resolve_due",
    "signed_for_on",
    "first_reply_on",
    "resolved_on",
    "closed_on",
    "waiting_since",
    "paused_workdays",
    "resolution",
    "rating",
    "reopen_count",
    "escalation_level",
]
LABOUR_KEYS = ("positions", "headcount", "skills", "needed_by")
FINANCING_KEYS = ("amount", "term_months", "purpose", "collateral", "share_with_banks")
VISIT_ITEM_KEYS = frozenset({"category", "title", "description", "is_complex", "labour", "financing", "project"})
MAX_TERM_MONTHS = 600
ESCALATION_BATCH = 500


# -- helpers -----------------------------------------------------------------------------------------


def _required(value: Any, name: str, errors: dict) -> str:
    text = str(value or "").strip()
    if not text:
        errors.setdefault(name, []).append(_("This field is required."))
    return text


def _day(on: dt.date | None, request: ServiceRequest | None = None) -> dt.date:
    """The day a step happens: `on` or today; not in the future, not before the request arrived."""
    today = timezone.localdate()
    day = on or today
    if day > today:
        raise ValidationFailed(_("This date cannot be in the future."), field="on")
    if request is not None and day < request.received_on:
        raise ValidationFailed(
            _("This date is before the request was received (%(date)s).") % {"date": request.received_on},
            field="on",
        )
    return day


def _person(actor: User | None) -> User | None:
    return actor if getattr(actor, "pk", None) else None


def _rule(category: str) -> CategoryRule:
    """The category's rule, or the model defaults when the admin has removed it."""
    return CategoryRule.objects.select_related("department").filter(category=category).first() or CategoryRule(
        category=category
    )


def service_centre() -> Organisation | None:
    """The 企业服务中心: the organisation of the first active service-centre staff user."""
    staff = (
        User.objects.filter(role=Role.SERVICE_STAFF, is_active=True).select_related("organisation").order_by("pk")
    ).first()
    return staff.organisation if staff else None


def route(enterprise: Enterprise, category: str) -> tuple[Organisation | None, User | None]:
    """(department, assignee) a new request of `category` about `enterprise` goes to (see module doc)."""
    rule = _rule(category)
    if rule.department_id:
        return rule.department, None
    specialist = enterprise.specialist
    if specialist is not None and specialist.is_active:
        return specialist.organisation, specialist
    return service_centre(), None


def _lock(request: ServiceRequest) -> ServiceRequest:
    return ServiceRequest.objects.select_for_update(of=("self",)).select_related("enterprise").get(pk=request.pk)


def _check(request: ServiceRequest, step: str) -> tuple[RequestStatus, RequestStatus]:
    """The (from, to) of `step` on `request`; ConflictError naming both when the machine forbids it."""
    sources, target = TRANSITIONS[step]
    current = S(request.status)
    if current not in sources:
        raise ConflictError(
            _("A request that is “%(from)s” cannot go to “%(to)s”.") % {"from": current.label, "to": target.label},
            field="status",
        )
    return current, target


def _record(
    request: ServiceRequest,
    *,
    actor: User | None,
    kind: str,
    on: dt.date,
    before: dict,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    visible_to_firm: bool = True,
    extra: dict | None = None,
) -> RequestEvent:
    """Save the request and write its timeline event and audit entry (inside the caller's transaction)."""
    request.save()
    event = RequestEvent.objects.create(
        request=request,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        note=note,
        on=on,
        actor=_person(actor),
        visible_to_firm=visible_to_firm,
    )
    changes = diff(before, snapshot(request, AUDITED_FIELDS))
    if note:
        changes["note"] = [None, note[:500]]
    changes.update(extra or {})
    audit_record(actor=actor, action=f"servicedesk.request.{kind}", obj=request, changes=changes)
    return event


def _link(request: ServiceRequest) -> str:
    return reverse("servicedesk:detail", args=[request.pk])


def _firm_users(request: ServiceRequest) -> list[User]:
    return list(User.objects.filter(organisation__enterprise_id=request.enterprise_id, is_active=True))


def _owners(request: ServiceRequest) -> list[User]:
    """Who is told about the firm's moves: the handler, or the owning department's head."""
    if request.assignee_id:
        return [request.assignee]
    if request.department_id and request.department.head_id:
        return [request.department.head]
    return []


def _require_handler(actor: User | None, request: ServiceRequest) -> None:
    if actor is not None and not can_handle(actor, request):
        raise PermissionDeniedError()


def _require_firm(actor: User | None, request: ServiceRequest) -> None:
    if actor is not None and not is_requesting_firm(actor, request):
        raise PermissionDeniedError()


@contextmanager
def _step(request: ServiceRequest, kind: str, *, actor: User | None, on: dt.date, note: str = ""):
    """One step of the machine, in one transaction: lock the request, check that `kind` may follow its
    status and set the new status; the block sets the step's fields (and notifies); on leaving it the
    timeline event and the audit entry are written. Yields the locked request."""
    with transaction.atomic():
        locked = _lock(request)
        current, target = _check(locked, kind)
        before = snapshot(locked, AUDITED_FIELDS)
        locked.status = target
        yield locked
        _record(locked, actor=actor, kind=kind, on=on, before=before, from_status=current, to_status=target, note=note)


def _check_uploads(files, field_name: str) -> list[tuple[Any, str]]:
    """Check every upload before anything is written; (file, sha256) pairs."""
    return [
        (
            uploaded,
            check_and_hash_upload(
                uploaded,
                allowed=ATTACHMENT_TYPES,
                max_bytes=settings.ZHIYUAN_SERVICEDESK_ATTACHMENT_MAX_BYTES,
                field=field_name,
            ),
        )
        for uploaded in files or ()
        if uploaded
    ]


def _save_uploads(request: ServiceRequest, checked: list[tuple[Any, str]], actor: User | None) -> list:
    attachments = []
    for uploaded, sha256 in checked:
        name = (uploaded.name or "").replace("\\", "/").rsplit("/", 1)[-1][:200]
        attachment = RequestAttachment.objects.create(
            request=request, file=uploaded, name=name, sha256=sha256, size=uploaded.size, uploaded_by=_person(actor)
        )
        audit_record(
            actor=actor,
            action="servicedesk.request.attachment_added",
            obj=request,
            changes={"attachment": [None, f"{name} ({sha256[:12]})"]},
        )
        attachments.append(attachment)
    return attachments


def _int(value: Any, name: str, errors: dict, *, minimum: int, maximum: int | None = None) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
        if isinstance(value, float) and value != number:
            raise ValueError
    except (TypeError, ValueError):
        errors.setdefault(name, []).append(_("Enter a whole number."))
        return None
    if number < minimum or (maximum is not None and number > maximum):
        errors.setdefault(name, []).append(
            _("Enter a number from %(min)s to %(max)s.") % {"min": minimum, "max": maximum}
            if maximum is not None
            else _("Enter a number of at least %(min)s.") % {"min": minimum}
        )
        return None
    return number


def _labour_fields(labour: dict | None, errors: dict) -> dict:
    """The model fields of a 用工 need: positions and headcount (≥ 1) required, skills, needed by."""
    labour = dict(labour or {})
    for key in sorted(set(labour) - set(LABOUR_KEYS)):
        errors.setdefault(f"labour_{key}", []).append(_("This field cannot be set here."))
    headcount = _int(labour.get("headcount"), "labour_headcount", errors, minimum=1)
    if labour.get("headcount") in (None, ""):
        errors.setdefault("labour_headcount", []).append(_("This field is required."))
    needed_by = labour.get("needed_by") or None
    if needed_by is not None and not isinstance(needed_by, dt.date):
        errors.setdefault("labour_needed_by", []).append(_("Enter a valid date."))
        needed_by = None
    return {
        "labour_positions": _required(labour.get("positions"), "labour_positions", errors)[:200],
        "labour_headcount": headcount,
        "labour_skills": str(labour.get("skills") or "").strip()[:200],
        "labour_needed_by": needed_by,
    }


def _financing_fields(financing: dict | None, errors: dict) -> dict:
    """The model fields of a 融资 need: amount (万元, > 0) required, term, purpose, collateral, sharing."""
    financing = dict(financing or {})
    for key in sorted(set(financing) - set(FINANCING_KEYS)):
        errors.setdefault(f"financing_{key}", []).append(_("This field cannot be set here."))
    amount = None
    raw = financing.get("amount")
    if raw in (None, ""):
        errors.setdefault("financing_amount", []).append(_("This field is required."))
    else:
        try:
            amount = Decimal(str(raw))
            if not amount.is_finite() or amount <= 0 or amount >= Decimal("1e12"):
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors.setdefault("financing_amount", []).append(_("Enter an amount greater than zero."))
            amount = None
    return {
        "financing_amount": amount,
        "financing_term_months": _int(
            financing.get("term_months"), "financing_term_months", errors, minimum=1, maximum=MAX_TERM_MONTHS
        ),
        "financing_purpose": str(financing.get("purpose") or "").strip()[:200],
        "financing_collateral": str(financing.get("collateral") or "").strip()[:200],
        "financing_share_with_banks": bool(financing.get("share_with_banks")),
    }


# -- submitting --------------------------------------------------------------------------------------


def request_submit(
    *,
    actor: User | None,
    enterprise: Enterprise,
    category: str,
    title: str,
    description: str,
    channel: str = Channel.ONLINE,
    is_complex: bool = False,
    labour: dict | None = None,
    financing: dict | None = None,
    project=None,
    visit: Visit | None = None,
    attachments=(),
    on: dt.date | None = None,
) -> ServiceRequest:
    """Register a request: a firm user for its own firm (online), or district staff on a firm's
    behalf (by phone, visit, WeChat or at the counter). Routes it, sets its SLA deadlines in working
    days from the day received, and tells its owner.

    A 用工 request submitted online carries its labour need (positions, headcount, skills, needed by)
    and a 融资 request its financing need (amount in 万元, term, purpose, collateral, whether to
    publish it to banks); staff registering a request may leave the need for later.
    """
    firm = is_firm_user(actor)
    if actor is not None:
        if firm:
            if enterprise is None or enterprise.pk != actor.enterprise_id:
                raise PermissionDeniedError()
        elif actor.role not in INTAKE_ROLES:
            raise PermissionDeniedError()
    errors: dict[str, list[str]] = {}
    if enterprise is None:
        errors["enterprise"] = [_("This field is required.")]
    if category not in Category.values:
        errors["category"] = [_("Unknown category.")]
    if channel not in Channel.values:
        errors["channel"] = [_("Unknown channel.")]
    elif firm and channel != Channel.ONLINE:
        errors["channel"] = [_("A firm submits its own requests online.")]
    elif actor is not None and not firm and channel not in STAFF_CHANNELS:
        errors["channel"] = [_("Say how the request was received: by phone, on a visit, by WeChat or at the counter.")]
    description = _required(description, "description", errors)
    # Without a subject, the description's first line (shortened) stands for it.
    title = str(title or "").strip() or (description.splitlines()[0][:60] if description else "")
    if not title and description:
        errors.setdefault("title", []).append(_("This field is required."))
    elif len(title) > 200:
        errors.setdefault("title", []).append(_("Use at most 200 characters."))
    structured: dict[str, Any] = {}
    if labour is not None and category != Category.LABOUR:
        errors["labour"] = [_("Only a labour request has a labour need.")]
    elif category == Category.LABOUR and (labour is not None or channel == Channel.ONLINE):
        structured.update(_labour_fields(labour, errors))
    if financing is not None and category != Category.FINANCING:
        errors["financing"] = [_("Only a financing request has a financing need.")]
    elif category == Category.FINANCING and (financing is not None or channel == Channel.ONLINE):
        structured.update(_financing_fields(financing, errors))
    if enterprise is not None:
        if project is not None and project.enterprise_id and project.enterprise_id != enterprise.pk:
            errors["project"] = [_("This project belongs to another enterprise.")]
        if visit is not None and visit.enterprise_id != enterprise.pk:
            errors["visit"] = [_("This visit was to another enterprise.")]
    try:
        checked = _check_uploads(attachments, "attachments")
    except ValidationFailed as error:
        checked = []
        for name, messages in error.fields.items():
            errors.setdefault(name, []).extend(messages)
    day = _day(on)
    if errors:
        raise ValidationFailed(fields=errors)

    rule = _rule(category)
    department, assignee = route(enterprise, category)
    calendar = WorkCalendar()
    resolve_days = rule.resolve_days_complex if is_complex else rule.resolve_days
    request = ServiceRequest(
        enterprise=enterprise,
        category=category,
        channel=channel,
        title=title,
        description=description,
        is_complex=bool(is_complex),
        status=S.SUBMITTED,
        assignee=assignee,
        department=department,
        submitted_by=_person(actor),
        received_on=day,
        sign_for_due=calendar.add(day, rule.sign_for_days),
        reply_due=calendar.add(day, rule.reply_days),
        resolve_due=calendar.add(day, resolve_days),
        project=project,
        visit=visit,
        **structured,
    )
    with transaction.atomic():
        request.save()
        RequestEvent.objects.create(
            request=request, kind="submitted", to_status=S.SUBMITTED, on=day, actor=_person(actor), note=""
        )
        audit_record(
            actor=actor,
            action="servicedesk.request.created",
            obj=request,
            changes={
                **diff({}, snapshot(request, ["enterprise", "category", "channel", "title", *AUDITED_FIELDS])),
                **{k: [None, str(v)] for k, v in structured.items() if v not in (None, "", False)},
            },
        )
        _save_uploads(request, checked, actor)
        notify(
            recipients=_owners(request),
            title=_("New request from %(enterprise)s: %(title)s") % {"enterprise": enterprise, "title": title},
            body=_("Sign for it by %(date)s.") % {"date": request.sign_for_due},
            link=_link(request),
            key=f"servicedesk-new:{request.pk}",
        )
    return request


# -- the desk's steps --------------------------------------------------------------------------------


def request_sign_for(*, actor: User | None, request: ServiceRequest, on: dt.date | None = None) -> ServiceRequest:
    """Sign for a request (签收). Whoever signs for an unassigned request becomes its handler."""
    _require_handler(actor, request)
    day = _day(on, request)
    with _step(request, "sign_for", actor=actor, on=day) as locked:
        locked.signed_for_on = day
        if locked.assignee_id is None and _person(actor) is not None:
            locked.assignee = actor
    return locked


def request_reply(
    *, actor: User | None, request: ServiceRequest, note: str, on: dt.date | None = None
) -> ServiceRequest:
    """Reply to the firm; the first reply is what the reply rate counts. Moves the request in progress."""
    _require_handler(actor, request)
    errors: dict = {}
    note = _required(note, "note", errors)
    if errors:
        raise ValidationFailed(fields=errors)
    day = _day(on, request)
    with _step(request, "reply", actor=actor, on=day, note=note) as locked:
        locked.first_reply_on = locked.first_reply_on or day
        notify(
            recipients=_firm_users(locked),
            title=_("Reply to your request: %(title)s") % {"title": locked.title},
            body=note[:500],
            link=_link(locked),
        )
    return locked


def request_ask_firm(
    *, actor: User | None, request: ServiceRequest, note: str, on: dt.date | None = None
) -> ServiceRequest:
    """Ask the firm for more information; the clock pauses until it answers (it counts as a reply)."""
    _require_handler(actor, request)
    errors: dict = {}
    note = _required(note, "note", errors)
    if errors:
        raise ValidationFailed(fields=errors)
    day = _day(on, request)
    with _step(request, "ask_firm", actor=actor, on=day, note=note) as locked:
        locked.waiting_since = day
        locked.first_reply_on = locked.first_reply_on or day
        notify(
            recipients=_firm_users(locked),
            title=_("More information needed for your request: %(title)s") % {"title": locked.title},
            body=note[:500],
            link=_link(locked),
        )
    return locked


def request_add_information(
    *, actor: User | None, request: ServiceRequest, note: str, attachments=(), on: dt.date | None = None
) -> ServiceRequest:
    """The firm answers a question: the request goes back in progress and its open deadlines move
    back by the working days it waited (after the question, up to and including today)."""
    _require_firm(actor, request)
    errors: dict = {}
    note = _required(note, "note", errors)
    try:
        checked = _check_uploads(attachments, "attachments")
    except ValidationFailed as error:
        checked = []
        errors.update(error.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    day = _day(on, request)
    calendar = WorkCalendar()
    with _step(request, "add_information", actor=actor, on=day, note=note) as locked:
        since = locked.waiting_since or day
        if day < since:
            raise ValidationFailed(
                _("This date is before the firm was asked (%(date)s).") % {"date": since}, field="on"
            )
        paused = calendar.between(since, day)
        locked.paused_workdays += paused
        if paused:
            if locked.signed_for_on is None:
                locked.sign_for_due = calendar.add(locked.sign_for_due, paused)
            if locked.first_reply_on is None:
                locked.reply_due = calendar.add(locked.reply_due, paused)
            if locked.resolved_on is None:
                locked.resolve_due = calendar.add(locked.resolve_due, paused)
        locked.waiting_since = None
        _save_uploads(locked, checked, actor)
        notify(
            recipients=_owners(locked),
            title=_("%(enterprise)s answered: %(title)s") % {"enterprise": locked.enterprise, "title": locked.title},
            body=note[:500],
            link=_link(locked),
        )
    return locked


def request_transfer(
    *,
    actor: User | None,
    request: ServiceRequest,
    department: Organisation,
    note: str,
    on: dt.date | None = None,
) -> ServiceRequest:
    """Transfer (转办) to another department with a note: it becomes the owner (no person yet); the
    status and the deadlines stay as they are."""
    _require_handler(actor, request)
    errors: dict = {}
    note = _required(note, "note", errors)
    if department is None or department.kind != OrganisationKind.DISTRICT:
        errors["department"] = [_("Choose a district department.")]
    elif department.pk == request.department_id and request.assignee_id is None:
        errors["department"] = [_("The request is already with this department.")]
    if errors:
        raise ValidationFailed(fields=errors)
    day = _day(on, request)
    with transaction.atomic():
        locked = _lock(request)
        if locked.status not in TRANSFERABLE:
            raise ConflictError(
                _("A request that is “%(status)s” cannot be transferred.") % {"status": S(locked.status).label},
                field="status",
            )
        before = snapshot(locked, AUDITED_FIELDS)
        locked.department = department
        locked.assignee = None
        _record(
            locked,
            actor=actor,
            kind="transfer",
            on=day,
            before=before,
            from_status=locked.status,
            to_status=locked.status,
            note=note,
        )
        notify(
            recipients=[department.head],
            title=_("Request transferred to %(department)s: %(title)s")
            % {"department": department, "title": locked.title},
            body=note[:500],
            link=_link(locked),
        )
    return locked


def request_resolve(
    *, actor: User | None, request: ServiceRequest, resolution: str, on: dt.date | None = None
) -> ServiceRequest:
    """Mark the request resolved with a note of what was done; the firm then rates it or reopens it."""
    _require_handler(actor, request)
    errors: dict = {}
    if not str(resolution or "").strip():
        errors["resolution"] = [_("Say how it was resolved.")]
    if errors:
        raise ValidationFailed(fields=errors)
    resolution = str(resolution).strip()
    day = _day(on, request)
    with _step(request, "resolve", actor=actor, on=day, note=resolution) as locked:
        locked.resolution = resolution
        locked.resolved_on = day
        locked.first_reply_on = locked.first_reply_on or day
        notify(
            recipients=_firm_users(locked),
            title=_("Your request is resolved: %(title)s") % {"title": locked.title},
            body=_("Please rate it, or tell us it is not solved."),
            link=_link(locked),
        )
    return locked


def request_rate(
    *, actor: User | None, request: ServiceRequest, rating: Any, comment: str = "", on: dt.date | None = None
) -> ServiceRequest:
    """The firm rates a resolved request 1–5, which closes it."""
    _require_firm(actor, request)
    errors: dict = {}
    value = _int(rating, "rating", errors, minimum=1, maximum=5)
    if value is None and "rating" not in errors:
        errors["rating"] = [_("This field is required.")]
    if errors:
        raise ValidationFailed(fields=errors)
    day = _day(on, request)
    comment = str(comment or "").strip()
    with _step(request, "rate", actor=actor, on=day, note=comment) as locked:
        locked.rating = value
        locked.rating_comment = comment
        locked.closed_on = day
    return locked


def request_reopen(
    *, actor: User | None, request: ServiceRequest, reason: str, on: dt.date | None = None
) -> ServiceRequest:
    """The firm says "not solved": the request is reopened with a new resolution period from today,
    and goes back in progress with the handler's next reply."""
    _require_firm(actor, request)
    errors: dict = {}
    reason = _required(reason, "reason", errors)
    if errors:
        raise ValidationFailed(fields=errors)
    day = _day(on, request)
    calendar = WorkCalendar()
    with _step(request, "reopen", actor=actor, on=day, note=reason) as locked:
        rule = _rule(locked.category)
        locked.reopen_count += 1
        locked.resolved_on = None
        locked.escalation_level = 0
        locked.resolve_due = calendar.add(day, rule.resolve_days_complex if locked.is_complex else rule.resolve_days)
        notify(
            recipients=_owners(locked),
            title=_("Reopened by %(enterprise)s: %(title)s") % {"enterprise": locked.enterprise, "title": locked.title},
            body=reason[:500],
            link=_link(locked),
        )
    return locked


def request_attachment_add(*, actor: User | None, request: ServiceRequest, uploaded_file) -> RequestAttachment:
    """Attach a document or photo to an open request (the firm, or whoever handles it); the type and
    size are checked and the SHA-256 recorded."""
    if actor is not None and not (is_requesting_firm(actor, request) or can_handle(actor, request)):
        raise PermissionDeniedError()
    if not uploaded_file:
        raise ValidationFailed(_("Choose a file."), field="uploaded_file")
    checked = _check_uploads([uploaded_file], "uploaded_file")
    with transaction.atomic():
        locked = _lock(request)
        if locked.status not in OPEN_STATUSES:
            raise ConflictError(
                _("A request that is “%(status)s” takes no more attachments.") % {"status": S(locked.status).label},
                field="status",
            )
        (attachment,) = _save_uploads(locked, checked, actor)
    return attachment


def _close_cutoff(calendar: WorkCalendar, today: dt.date, workdays: int) -> dt.date:
    """The last resolution day that has had `workdays` working days after it by `today`."""
    if workdays <= 0:
        return today
    day, found = today, 0
    while True:
        if calendar.is_workday(day):
            found += 1
            if found == workdays:
                return day - dt.timedelta(days=1)
        day -= dt.timedelta(days=1)


def request_close_unrated(*, today: dt.date) -> int:
    """Close every request resolved ZHIYUAN_SERVICEDESK_AUTOCLOSE_WORKDAYS working days ago or more
    that the firm has neither rated nor reopened; returns how many were closed."""
    calendar = WorkCalendar()
    cutoff = _close_cutoff(calendar, today, settings.ZHIYUAN_SERVICEDESK_AUTOCLOSE_WORKDAYS)
    note = _("Closed without a rating after %(n)s working days.") % {
        "n": settings.ZHIYUAN_SERVICEDESK_AUTOCLOSE_WORKDAYS
    }
    with transaction.atomic():
        ids = list(
            ServiceRequest.objects.select_for_update(of=("self",))
            .filter(status=S.RESOLVED, resolved_on__lte=cutoff)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not ids:
            return 0
        ServiceRequest.objects.filter(pk__in=ids).update(status=S.CLOSED, closed_on=today, updated_at=timezone.now())
        RequestEvent.objects.bulk_create(
            [
                RequestEvent(
                    request_id=pk, kind="close_unrated", from_status=S.RESOLVED, to_status=S.CLOSED, note=note, on=today
                )
                for pk in ids
            ],
            batch_size=2000,
        )
        closed = list(ServiceRequest.objects.filter(pk__in=ids).only("pk", "title"))
        audit_record_many(
            actor=None,
            action="servicedesk.request.close_unrated",
            objs=closed,
            changes_for=lambda _r: {"status": [S.RESOLVED.value, S.CLOSED.value], "closed_on": [None, str(today)]},
        )
    return len(ids)


# -- visits ------------------------------------------------------------------------------------------


def visit_log(*, actor: User, enterprise: Enterprise, visited_on: dt.date, people_met: str, findings: str) -> Visit:
    """Log a visit to a firm (走访): when, whom the visitor met and what they found. The visitor's
    office is recorded so every office sees who has been there."""
    if actor is None or actor.role not in VISIT_ROLES:
        raise PermissionDeniedError()
    errors: dict = {}
    if enterprise is None:
        errors["enterprise"] = [_("This field is required.")]
    findings = _required(findings, "findings", errors)
    if visited_on is None:
        errors["visited_on"] = [_("This field is required.")]
    elif visited_on > timezone.localdate():
        errors["visited_on"] = [_("This date cannot be in the future.")]
    people_met = str(people_met or "").strip()
    if len(people_met) > 300:
        errors["people_met"] = [_("Use at most 300 characters.")]
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        visit = Visit.objects.create(
            enterprise=enterprise,
            visited_on=visited_on,
            visitor=actor,
            organisation=actor.organisation,
            people_met=people_met,
            findings=findings,
        )
        audit_record(
            actor=actor,
            action="servicedesk.visit.created",
            obj=visit,
            changes={
                "enterprise": [None, str(enterprise)],
                "visited_on": [None, str(visited_on)],
                "findings": [None, findings[:500]],
            },
        )
    return visit


def visit_create_requests(*, actor: User | None, visit: Visit, items: list[dict]) -> list[ServiceRequest]:
    """Create requests from a visit's findings in one step (channel: visit). All or nothing: an
    error in any item names it (`items.<n>.<field>`) and no request is created."""
    if actor is not None and actor.role not in INTAKE_ROLES:
        raise PermissionDeniedError()
    if not items:
        raise ValidationFailed(_("Add at least one request."), field="items")
    errors: dict[str, list[str]] = {}
    for index, item in enumerate(items, start=1):
        for key in sorted(set(item) - VISIT_ITEM_KEYS):
            errors[f"items.{index}.{key}"] = [_("This field cannot be set here.")]
    if errors:
        raise ValidationFailed(fields=errors)
    created = []
    with transaction.atomic():
        for index, item in enumerate(items, start=1):
            try:
                created.append(
                    request_submit(
                        actor=actor,
                        enterprise=visit.enterprise,
                        category=item.get("category", ""),
                        title=item.get("title", ""),
                        description=item.get("description", ""),
                        channel=Channel.VISIT,
                        is_complex=bool(item.get("is_complex")),
                        labour=item.get("labour"),
                        financing=item.get("financing"),
                        project=item.get("project"),
                        visit=visit,
                    )
                )
            except ValidationFailed as error:
                errors.update({f"items.{index}.{name}": messages for name, messages in error.fields.items()})
        if errors:
            transaction.set_rollback(True)
    if errors:
        raise ValidationFailed(_("Some requests from this visit are invalid; none was created."), fields=errors)
    return created


# -- escalation (督办) -------------------------------------------------------------------------------


@dataclass
class EscalationReport:
    """What one escalation sweep did."""

    overdue: int = 0
    level1: int = 0
    level2: int = 0
    notified: int = 0
    errors: list[str] = field(default_factory=list)


def missed_deadline(request: ServiceRequest, today: dt.date) -> dt.date | None:
    """The earliest SLA deadline the request has missed by `today` (None when none is missed)."""
    missed = []
    if request.signed_for_on is None and request.sign_for_due < today:
        missed.append(request.sign_for_due)
    if request.first_reply_on is None and request.reply_due < today:
        missed.append(request.reply_due)
    if request.resolved_on is None and request.resolve_due < today:
        missed.append(request.resolve_due)
    return min(missed) if missed else None


def escalation_level_due(calendar: WorkCalendar | WorkdayIndex, missed: dt.date, today: dt.date) -> int:
    """1 from the first working day after the missed deadline; 2 once a further
    ZHIYUAN_SERVICEDESK_ESCALATE_LEADER_WORKDAYS working days have passed."""
    late = calendar.between(missed, today)
    if late < 1:
        return 0
    return 2 if late >= 1 + settings.ZHIYUAN_SERVICEDESK_ESCALATE_LEADER_WORKDAYS else 1


def _department_head(request: ServiceRequest) -> User | None:
    if request.department_id:
        return request.department.head
    if request.assignee_id:
        return request.assignee.organisation.head
    return None


def escalations_run(*, today: dt.date) -> EscalationReport:
    """Escalate (督办) every open request that has missed a deadline and is not waiting for the firm:
    level 1 tells the owning department's head, level 2 the district leaders. A request is escalated
    to each level once (per reopening); the notifications carry keys, so a second run the same day,
    or any later day, repeats nothing."""
    report = EscalationReport()
    calendar = WorkCalendar()
    leaders = list(User.objects.filter(role=Role.LEADER, is_active=True))
    candidates = (
        ServiceRequest.objects.filter(
            status__in=OPEN_STATUSES - {S.WAITING_FOR_FIRM},
            escalation_level__lt=2,
        )
        .filter(
            Q(resolve_due__lt=today)
            | Q(signed_for_on__isnull=True, sign_for_due__lt=today)
            | Q(first_reply_on__isnull=True, reply_due__lt=today)
        )
        .select_related("enterprise", "department__head", "assignee__organisation__head")
        .order_by("pk")
    )
    overdue = []
    for request in candidates.iterator(chunk_size=2000):
        missed = missed_deadline(request, today)
        if missed is not None:
            overdue.append((request, missed))
    report.overdue = len(overdue)
    if not overdue:
        return report
    try:
        # One pass over the calendar from the oldest missed deadline; then O(1) a request.
        index = WorkdayIndex(calendar, min(missed for _r, missed in overdue), today)
    except CalendarNotCovered as error:
        report.errors.append(str(error.message))
        return report
    due = []
    for request, missed in overdue:
        level = escalation_level_due(index, missed, today)
        if level > request.escalation_level:
            due.append((request, missed, level))
    # Batches of requests share a transaction (one commit), each in its own savepoint, so one
    # request's failure is reported without undoing the others.
    for start in range(0, len(due), ESCALATION_BATCH):
        with transaction.atomic():
            for request, missed, level in due[start : start + ESCALATION_BATCH]:
                try:
                    with transaction.atomic():
                        # Locked and read again: a handler may have acted since the candidates were listed.
                        locked = (
                            ServiceRequest.objects.select_for_update(of=("self",))
                            .select_related("enterprise", "department__head", "assignee__organisation__head")
                            .get(pk=request.pk)
                        )
                        if locked.status in TRANSFERABLE and missed_deadline(locked, today) == missed:
                            report.notified += _escalate(locked, level, missed, today, leaders, report)
                except DomainError as error:
                    report.errors.append(f"{request.pk}: {error.message}")
    return report


def _escalate(request: ServiceRequest, level: int, missed: dt.date, today: dt.date, leaders: list[User], report) -> int:
    """Raise `request` to `level` (through level 1 first when it skipped it), notifying each level."""
    sent = 0
    link = _link(request)
    title = _("Overdue request: %(title)s (%(enterprise)s)") % {
        "title": request.title,
        "enterprise": request.enterprise,
    }
    body = _("Deadline %(date)s missed; handled by %(owner)s.") % {
        "date": missed,
        "owner": request.assignee or request.department or _("nobody"),
    }
    for step in range(request.escalation_level + 1, level + 1):
        before = snapshot(request, AUDITED_FIELDS)
        if step == 1:
            head = _department_head(request)
            recipients = [head] if head else []
            if head is None:
                report.errors.append(
                    _("Request %(pk)s: its department has no head to escalate to.") % {"pk": request.pk}
                )
            note = _("Escalated to the department head.")
            report.level1 += 1
        else:
            recipients = leaders
            note = _("Escalated to the district leaders.")
            report.level2 += 1
        sent += notify(
            recipients=recipients,
            title=(_("Escalated: %(title)s") % {"title": title}) if step == 2 else title,
            body=body,
            link=link,
            key=f"servicedesk-escalation:{request.pk}:{request.reopen_count}:{step}",
        )
        request.escalation_level = step
        _record(
            request,
            actor=None,
            kind="escalate",
            on=today,
            before=before,
            from_status=request.status,
            to_status=request.status,
            note=note,
            visible_to_firm=False,
        )
    return sent
