"""The approval desk's state machine, walked through the real services.

`Desk.walk(label)` brings a fresh application to a given point of its life by calling the same services
the pages and the city call (no status is ever set by hand). The table test then tries every step from
every point: a legal step must end in the right status with the right timeline events and audit
entries; an illegal one must be refused with ConflictError and leave the application untouched.
"""

import datetime as dt
import hashlib
import json
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from zhiyuan.approvals import services as sv
from zhiyuan.approvals.models import Application, ApprovalItem, EventKind
from zhiyuan.approvals.models import ApplicationStatus as S
from zhiyuan.approvals.tests.conftest import pdf
from zhiyuan.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from zhiyuan.core.models import AuditEntry
from zhiyuan.datalink import keys
from zhiyuan.datalink.adapters import DeliveryOutcome
from zhiyuan.datalink.models import InboundMessage, OutboxMessage
from zhiyuan.datalink.protocol import build_body, new_message_id, sign
from zhiyuan.datalink.services import InboundReply, delivery_record, inbound_receive, message_enqueue
from zhiyuan.investments.models import Project, Stage

SHANGHAI = ZoneInfo("Asia/Shanghai")
CASE = "ZZSP-2026-000001"

# The label of an application resubmitted after corrections: status submitted, corrections already used.
RESUBMITTED = "resubmitted"


@pytest.fixture(autouse=True)
def _media_and_clock(settings, tmp_path):
    """Uploads go to a temporary directory; the clock runs from a fixed working day (Wed 10 June 2026) so
    the deadlines do not depend on when the suite runs or on how far the calendar reaches."""
    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(dt.datetime(2026, 6, 10, 10, 0, tzinfo=SHANGHAI), tick=True):
        yield


class Desk:
    """Drives applications of one project and item through the real services (firm A and the clerk)."""

    def __init__(self, personas, project: Project, item: ApprovalItem):
        self.firm = personas["firm_a"]
        self.clerk = personas["window_clerk"]
        self.project = project
        self.item = item

    # -- the firm and the window ----------------------------------------------------------------------

    def required(self):
        return list(self.item.materials.filter(required=True))

    def create(self, actor=None) -> Application:
        return sv.application_create(
            actor=actor or self.firm, item=self.item, project=self.project,
            contact_name="张三", contact_phone="13812341234",
        )

    def upload(self, application: Application, requirements=None, actor=None) -> None:
        for requirement in self.required() if requirements is None else requirements:
            sv.material_add(actor=actor or self.firm, application=application, requirement=requirement,
                            uploaded_file=pdf(f"m{requirement.pk}.pdf", f"%PDF-1.4 {requirement.pk}".encode()))

    def correction_items(self) -> list[dict]:
        first, second = self.required()[:2]
        return [{"requirement": first.pk, "problem": "盖章不清"}, {"requirement": second.pk, "problem": "缺页"}]

    def upload_corrections(self, application: Application) -> None:
        requirements = {r.pk: r for r in self.item.materials.all()}
        for entry in application.correction_items:
            sv.material_add(actor=self.firm, application=application, requirement=requirements[entry["requirement"]],
                            uploaded_file=pdf(f"fix{entry['requirement']}.pdf", b"%PDF-1.4 corrected"))

    def submit(self, application: Application) -> Application:
        return sv.application_submit(actor=self.firm, application=application)

    def request_correction(self, application: Application) -> Application:
        return sv.application_request_correction(actor=self.clerk, application=application,
                                                 items=self.correction_items(), note="请补正")

    # -- the city ------------------------------------------------------------------------------------

    def ack(self, application: Application, *, case_number: str = CASE, received_at: str | None = None) -> str | None:
        """The city's acknowledgement of the forwarding message, recorded as the worker records it."""
        message = OutboxMessage.objects.get(message_id=application.forward_message_id)
        return deliver_ack(message, case_number=case_number, received_at=received_at)

    def callback(self, application: Application, status: str, *, version: int | None = None,
                 case_number: str = CASE, message_id: str | None = None, **extra) -> InboundReply:
        """A signed case.status message from the city, received as the endpoint receives it."""
        application.refresh_from_db()
        return inbound_receive(**city_message(
            application.number, status, version=application.city_version + 1 if version is None else version,
            case_number=case_number, message_id=message_id, **extra,
        ))

    # -- getting somewhere ---------------------------------------------------------------------------

    def walk(self, label: str) -> Application:
        """A fresh application at `label` (a status, or RESUBMITTED), reached through the services."""
        if label == S.DRAFT:
            application = self.create()
            self.upload(application)
        else:
            before, step = ROUTE[label]
            application = self.walk(before)
            step(self, application)
        application = Application.objects.get(pk=application.pk)
        assert application.status == (S.SUBMITTED if label == RESUBMITTED else label)
        return application


def city_message(number: str, status: str, *, version: int, case_number: str = CASE, message_id: str | None = None,
                 sent_at: dt.datetime | None = None, private_key=None, **extra) -> dict:
    """body and signature of a case.status message from the city (for inbound_receive)."""
    payload = {
        "application_number": number, "case_number": case_number, "version": version, "status": status,
        "reason": extra.get("reason", ""), "certificate_number": extra.get("certificate_number", ""),
        "certificate_date": extra.get("certificate_date", ""), "at": timezone.now().isoformat(),
    }
    body = build_body(message_id=message_id or new_message_id(), message_type="case.status", sender="city",
                      payload=payload, sent_at=sent_at)
    return {"body": body, "signature": sign(body, private_key or keys.citysim_private_key())}


def deliver_ack(message: OutboxMessage, *, case_number: str = CASE, received_at: str | None = None) -> str | None:
    outcome = DeliveryOutcome(
        ok=True, retryable=False, status=200,
        result={"case_number": case_number, "received_at": received_at or timezone.now().isoformat()},
    )
    return delivery_record(message=message, outcome=outcome)


def _accepted(desk: Desk, app: Application) -> None:
    sv.application_accept(actor=desk.clerk, application=app)


def _callback(status: str, **extra):
    def step(desk: Desk, app: Application) -> None:
        reply = desk.callback(app, status, **extra)
        assert reply.status == 200, reply.body

    return step


ROUTE = {
    S.SUBMITTED: (S.DRAFT, lambda d, a: d.submit(a)),
    S.CORRECTION: (S.SUBMITTED, lambda d, a: d.request_correction(a)),
    RESUBMITTED: (S.CORRECTION, lambda d, a: (d.upload_corrections(a), d.submit(a))),
    S.REJECTED: (S.SUBMITTED, lambda d, a: sv.application_reject(actor=d.clerk, application=a, reason="不属本窗口")),
    S.WITHDRAWN: (S.DRAFT, lambda d, a: sv.application_withdraw(actor=d.firm, application=a, reason="暂缓")),
    S.ACCEPTED: (S.SUBMITTED, _accepted),
    S.CITY_RECEIVED: (S.ACCEPTED, lambda d, a: d.ack(a)),
    S.IN_REVIEW: (S.CITY_RECEIVED, _callback("in_review")),
    S.RETURNED: (S.IN_REVIEW, _callback("returned", reason="缺少消防意见")),
    S.GRANTED: (S.IN_REVIEW, _callback("granted", certificate_number="430202202606100101",
                                        certificate_date="2026-06-10")),
    S.DENIED: (S.IN_REVIEW, _callback("denied", reason="不符合规划")),
    S.COLLECTED: (S.GRANTED, lambda d, a: sv.application_collect(actor=d.clerk, application=a, collected_by="李四")),
}
LABELS = [*S.values, RESUBMITTED]


@pytest.fixture
def desk(personas, project_a, permit_item, datalink_keys):
    return Desk(personas, project_a, permit_item)


# -- the table --------------------------------------------------------------------------------------------

# Each step: what it prepares first (uploads the step needs), then the call. A refusal is reported as
# ConflictError for every kind of step: the city's callback answers 409 (a ConflictError in the handler),
# an acknowledgement the handler refuses leaves the message delivered with the reason as its last error.


def _step_submit(desk: Desk, app: Application) -> None:
    desk.submit(app)


def _prepare_submit(desk: Desk, app: Application) -> None:
    if app.status == S.CORRECTION:
        desk.upload_corrections(app)


def _prepare_supplement(desk: Desk, app: Application) -> None:
    if app.status == S.RETURNED:
        sv.material_add(actor=desk.firm, application=app, requirement=None,
                        uploaded_file=pdf("消防意见.pdf", b"%PDF-1.4 supplement"))


def _step_ack(desk: Desk, app: Application) -> None:
    # A fresh application.submit message for this application, as a dead letter retried or corrected by an
    # operator would be, acknowledged by the city with the case number it already gave.
    message = message_enqueue(message_type="application.submit", payload={"application_number": app.number},
                              subject=f"approvals.application:{app.pk}")
    assert deliver_ack(message) == "delivered"
    message.refresh_from_db()
    if message.last_error:
        raise ConflictError(message.last_error)


def _step_city(status: str):
    def step(desk: Desk, app: Application) -> None:
        inbound_before = InboundMessage.objects.count()
        reply = desk.callback(app, status)
        body = json.loads(reply.body)
        if reply.status == 409:
            assert body["error"]["code"] == "conflict"
            assert InboundMessage.objects.count() == inbound_before, "a refused callback must not be recorded"
            raise ConflictError(body["error"]["message"])
        assert reply.status == 200, reply.body
        assert body["result"]["applied"] is (app.status not in (S.GRANTED, S.DENIED, S.COLLECTED))

    return step


STEPS = {
    "submit": (_prepare_submit, _step_submit),
    "withdraw": (None, lambda d, a: sv.application_withdraw(actor=d.firm, application=a, reason="改期")),
    "request_correction": (None, lambda d, a: d.request_correction(a)),
    "reject": (None, lambda d, a: sv.application_reject(actor=d.clerk, application=a, reason="材料不实")),
    "accept": (None, lambda d, a: sv.application_accept(actor=d.clerk, application=a)),
    "supplement_forward": (_prepare_supplement,
                           lambda d, a: sv.application_supplement_forward(actor=d.clerk, application=a, note="补充")),
    "collect": (None, lambda d, a: sv.application_collect(actor=d.clerk, application=a, collected_by="王五")),
    "city_acknowledged": (None, _step_ack),
    **{f"city_{status}": (None, _step_city(status)) for status in sv.CITY_STATUS_TO_APPLICATION},
}

WITH_CITY = [S.ACCEPTED, S.CITY_RECEIVED, S.IN_REVIEW, S.RETURNED]
DECIDED = [S.GRANTED, S.DENIED, S.COLLECTED]
K = EventKind
# (step, from label) → (status after, the timeline events the step adds). Every pair not listed is illegal.
LEGAL: dict[tuple[str, str], tuple[str, list[str]]] = {
    ("submit", S.DRAFT): (S.SUBMITTED, [K.SUBMITTED]),
    ("submit", S.CORRECTION): (S.SUBMITTED, [K.RESUBMITTED]),
    **{("withdraw", label): (S.WITHDRAWN, [K.WITHDRAWN])
       for label in (S.DRAFT, S.SUBMITTED, RESUBMITTED, S.CORRECTION)},
    # Corrections once: not again after the resubmission.
    ("request_correction", S.SUBMITTED): (S.CORRECTION, [K.CORRECTION_REQUESTED]),
    **{("reject", label): (S.REJECTED, [K.REJECTED]) for label in (S.SUBMITTED, RESUBMITTED)},
    **{("accept", label): (S.ACCEPTED, [K.ACCEPTED, K.FORWARDED]) for label in (S.SUBMITTED, RESUBMITTED)},
    ("supplement_forward", S.RETURNED): (S.RETURNED, [K.SUPPLEMENT_FORWARDED]),
    **{("collect", label): (S.COLLECTED, [K.COLLECTED]) for label in (S.GRANTED, S.DENIED)},
    # The acknowledgement moves an accepted application on; later it only completes the record.
    ("city_acknowledged", S.ACCEPTED): (S.CITY_RECEIVED, [K.CITY_RECEIVED]),
    # A delayed acknowledgement of a case the application already knows adds nothing, not even a line.
    **{("city_acknowledged", label): (label, []) for label in [*WITH_CITY[1:], *DECIDED]},
    # While the city has the case, the newest status wins; after the decision updates are kept but ignored.
    **{(f"city_{status}", label): (target, [K.CITY_STATUS])
       for status, target in sv.CITY_STATUS_TO_APPLICATION.items() for label in WITH_CITY},
    **{(f"city_{status}", label): (label, [K.STALE_UPDATE])
       for status in sv.CITY_STATUS_TO_APPLICATION for label in DECIDED},
}
# Steps that queue a message to the city.
QUEUES = {"accept": "application.submit", "supplement_forward": "application.supplement"}


def _row(application: Application) -> dict:
    fresh = Application.objects.get(pk=application.pk)
    return {f.attname: getattr(fresh, f.attname) for f in Application._meta.concrete_fields}


def _audit_count(application: Application, kind: str) -> int:
    return AuditEntry.objects.filter(object_id=str(application.pk), action=f"approvals.application.{kind}").count()


class _Undo(Exception):
    """Rolls a step back so the next step starts from the same walked application."""


def _try_step(desk: Desk, start: Application, label: str, step: str) -> str | None:
    """Run one step from `start` and check its outcome against the table; the problem, or None."""
    prepare, call = STEPS[step]
    app = Application.objects.get(pk=start.pk)
    if prepare:
        prepare(desk, app)
        app = Application.objects.get(pk=start.pk)
    before = _row(app)
    last_event = app.events.order_by("-id").values_list("id", flat=True).first()
    outbox_before = {t: OutboxMessage.objects.filter(message_type=t).count() for t in set(QUEUES.values())}
    audits_before = {kind: _audit_count(app, kind) for kind in EventKind.values}
    expected = LEGAL.get((step, label))
    if expected is None:
        try:
            call(desk, app)
        except ConflictError:
            pass
        else:
            return f"{step} from {label}: not refused"
        if _row(app) != before:
            return f"{step} from {label}: refused but the application changed"
        if app.events.filter(id__gt=last_event).exists():
            return f"{step} from {label}: refused but the timeline changed"
        return None
    call(desk, app)
    status, kinds = expected
    after = Application.objects.get(pk=app.pk)
    added = list(after.events.filter(id__gt=last_event).order_by("id").values_list("kind", flat=True))
    problems = []
    if after.status != status:
        problems.append(f"ended {after.status}, expected {status}")
    if added != kinds:
        problems.append(f"events {added}, expected {kinds}")
    for kind in set(kinds):
        if _audit_count(app, kind) != audits_before[kind] + kinds.count(kind):
            problems.append(f"no audit entry for {kind}")
    if kinds == [K.STALE_UPDATE] or (step == "city_acknowledged" and status == label):
        # An update after the decision is kept on the timeline and changes nothing else; an
        # acknowledgement of a case the application already knows changes nothing at all.
        after_row = _row(app)
        changed = sorted(k for k in before if before[k] != after_row[k])
        if changed:
            problems.append(f"should change nothing but changed {changed}")
    for message_type in outbox_before:
        queued = OutboxMessage.objects.filter(message_type=message_type).count() - outbox_before[message_type]
        want = 1 if QUEUES.get(step) == message_type else 0
        if step == "city_acknowledged" and message_type == "application.submit":
            want = 1  # the step itself queued the message it acknowledges
        if queued != want:
            problems.append(f"{queued} {message_type} message(s) queued, expected {want}")
    return f"{step} from {label}: " + "; ".join(problems) if problems else None


@pytest.mark.django_db
@pytest.mark.parametrize("label", LABELS)
def test_every_step_from_every_status(desk, label):
    start = desk.walk(label)
    problems = []
    for step in STEPS:
        try:
            with transaction.atomic():
                problem = _try_step(desk, start, label, step)
                raise _Undo
        except _Undo:
            pass
        if problem:
            problems.append(problem)
    assert not problems, "\n".join(problems)


def test_the_table_exercises_exactly_the_machine():
    """Every edge of TRANSITIONS is taken by some legal step, and no legal step takes any other edge."""
    taken = set()
    for (_step, label), (status, _kinds) in LEGAL.items():
        start = S.SUBMITTED if label == RESUBMITTED else label
        if status != start:
            taken.add((start, status))
    machine = {(source, target) for source, targets in sv.TRANSITIONS.items() for target in targets}
    assert taken == machine
    assert set(sv.TRANSITIONS) == set(S.values)


# -- the rules --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_submit_lists_every_missing_required_material(desk):
    app = desk.create()
    required = desk.required()
    assert len(required) == 5
    with pytest.raises(ValidationFailed) as caught:
        desk.submit(app)
    messages = caught.value.fields["materials"]
    assert len(messages) == 5
    for requirement in required:
        assert any(requirement.name in str(m) for m in messages), requirement.name
    desk.upload(app, required[:2])
    with pytest.raises(ValidationFailed) as caught:
        desk.submit(app)
    listed = " ".join(str(m) for m in caught.value.fields["materials"])
    assert len(caught.value.fields["materials"]) == 3
    assert all(r.name in listed for r in required[2:]) and not any(r.name in listed for r in required[:2])
    assert Application.objects.get(pk=app.pk).status == S.DRAFT
    # The optional material is not asked for.
    desk.upload(app, required[2:])
    assert desk.submit(app).status == S.SUBMITTED


@pytest.mark.django_db
def test_resubmission_needs_every_listed_material_uploaded_again(desk):
    app = desk.request_correction(desk.walk(S.SUBMITTED))
    assert app.status == S.CORRECTION and app.corrections_requested and app.accept_due is None
    first, second = desk.required()[:2]
    assert [e["requirement"] for e in app.correction_items] == [first.pk, second.pk]
    with pytest.raises(ValidationFailed) as caught:
        desk.submit(app)
    listed = " ".join(str(m) for m in caught.value.fields["materials"])
    assert first.name in listed and second.name in listed
    desk.upload(app, [first])
    with pytest.raises(ValidationFailed) as caught:
        desk.submit(app)
    listed = " ".join(str(m) for m in caught.value.fields["materials"])
    assert second.name in listed and first.name not in listed
    desk.upload(app, [second])
    app = desk.submit(app)
    assert app.status == S.SUBMITTED and app.accept_due is not None
    assert app.events.order_by("-id").first().kind == EventKind.RESUBMITTED
    # The corrected files replace the first ones; the rest stay current.
    current = app.materials.filter(is_current=True)
    assert current.filter(round=1).count() == 2 and current.filter(round=0).count() == 3


@pytest.mark.django_db
def test_corrections_may_be_requested_only_once(desk):
    app = desk.walk(RESUBMITTED)
    before = _row(app)
    with pytest.raises(ConflictError):
        desk.request_correction(app)
    assert _row(app) == before
    # The window must now accept or reject.
    assert sv.application_accept(actor=desk.clerk, application=app).status == S.ACCEPTED


@pytest.mark.django_db
def test_request_correction_checks_its_list(desk):
    app = desk.walk(S.SUBMITTED)
    other_item = ApprovalItem.objects.get(code="project_filing").materials.first()
    for items in ([], [{"requirement": desk.required()[0].pk, "problem": " "}],
                  [{"requirement": other_item.pk, "problem": "不对"}], [{"requirement": "x", "problem": "不对"}]):
        with pytest.raises(ValidationFailed) as caught:
            sv.application_request_correction(actor=desk.clerk, application=app, items=items)
        assert caught.value.fields["items"]
    # A general problem (no particular material) is allowed.
    app = sv.application_request_correction(actor=desk.clerk, application=app,
                                            items=[{"requirement": None, "problem": "联系人电话有误"}])
    assert app.correction_items[0]["requirement"] is None


@pytest.mark.django_db
def test_file_type_and_size_are_checked(desk, settings):
    app = desk.create()
    form, permit = desk.required()[:2]  # 申请表: PDF only; 规划许可证: PDF or image
    assert form.extensions == {".pdf"} and ".jpg" in permit.extensions
    for name in ("申请表.exe", "申请表.docx", "申请表"):
        with pytest.raises(ValidationFailed) as caught:
            sv.material_add(actor=desk.firm, application=app, requirement=form, uploaded_file=pdf(name))
        assert "file" in caught.value.fields
    material = sv.material_add(actor=desk.firm, application=app, requirement=permit,
                               uploaded_file=pdf("许可证.JPG", b"\xff\xd8\xff jpeg"))
    assert material.sha256 == hashlib.sha256(b"\xff\xd8\xff jpeg").hexdigest()
    assert material.size == 8
    settings.ZHIYUAN_APPROVALS_MATERIAL_MAX_BYTES = 10
    with pytest.raises(ValidationFailed) as caught:
        sv.material_add(actor=desk.firm, application=app, requirement=form, uploaded_file=pdf("a.pdf", b"x" * 11))
    assert "file" in caught.value.fields
    sv.material_add(actor=desk.firm, application=app, requirement=form, uploaded_file=pdf("a.pdf", b"x" * 10))
    assert app.materials.count() == 2


@pytest.mark.django_db
def test_a_material_of_another_item_is_refused(desk):
    app = desk.create()
    other = ApprovalItem.objects.get(code="project_filing").materials.first()
    with pytest.raises(ValidationFailed) as caught:
        sv.material_add(actor=desk.firm, application=app, requirement=other, uploaded_file=pdf())
    assert "requirement" in caught.value.fields
    with pytest.raises(ValidationFailed):
        sv.material_add(actor=desk.firm, application=app, requirement=None, uploaded_file=pdf())
    assert not app.materials.exists()


@pytest.mark.django_db
def test_materials_are_frozen_once_submitted(desk):
    app = desk.walk(S.SUBMITTED)
    with pytest.raises(ConflictError):
        desk.upload(app, desk.required()[:1])
    with pytest.raises(ConflictError):
        sv.material_remove(actor=desk.firm, material=app.materials.first())
    assert app.materials.count() == 5


@pytest.mark.django_db
def test_a_project_without_code_cannot_apply(desk, firm_a):
    project = Project.objects.create(name="无代码项目", stage=Stage.PREPARING, pool="reserve", enterprise=firm_a,
                                     contract_date=dt.date(2026, 1, 5), total_investment=1000)
    with pytest.raises(ValidationFailed) as caught:
        sv.application_create(actor=desk.firm, item=desk.item, project=project, contact_name="张三",
                              contact_phone="138")
    assert "project" in caught.value.fields
    assert not Application.objects.exists()


@pytest.mark.django_db
def test_contact_fields_are_required(desk):
    with pytest.raises(ValidationFailed) as caught:
        sv.application_create(actor=desk.firm, item=desk.item, project=desk.project, contact_name=" ",
                              contact_phone="")
    assert set(caught.value.fields) == {"contact_name", "contact_phone"}


@pytest.mark.django_db
def test_one_open_application_per_project_and_item(desk):
    first = desk.create()
    with pytest.raises(ConflictError):
        desk.create()
    assert Application.objects.count() == 1
    # Another item on the same project is fine.
    other = sv.application_create(actor=desk.firm, item=ApprovalItem.objects.get(code="project_filing"),
                                  project=desk.project, contact_name="张三", contact_phone="138")
    assert other.pk != first.pk
    # Once the first is closed, a new application for the item may start.
    sv.application_withdraw(actor=desk.firm, application=first, reason="重新申请")
    assert desk.create().status == S.DRAFT


@pytest.mark.django_db
def test_firm_b_cannot_touch_firm_a_applications(desk, personas):
    firm_b = personas["firm_b"]
    with pytest.raises(NotFoundError):
        sv.application_create(actor=firm_b, item=desk.item, project=desk.project, contact_name="赵", contact_phone="1")
    draft = desk.walk(S.DRAFT)
    before = _row(draft)
    with pytest.raises(PermissionDeniedError):
        sv.material_add(actor=firm_b, application=draft, requirement=desk.required()[0], uploaded_file=pdf())
    with pytest.raises(PermissionDeniedError):
        sv.material_remove(actor=firm_b, material=draft.materials.first())
    with pytest.raises(PermissionDeniedError):
        sv.application_submit(actor=firm_b, application=draft)
    with pytest.raises(PermissionDeniedError):
        sv.application_withdraw(actor=firm_b, application=draft, reason="恶意撤回")
    assert _row(draft) == before and draft.materials.count() == 5


@pytest.mark.django_db
def test_firms_and_other_staff_cannot_take_the_window_steps(desk, personas):
    app = desk.walk(S.SUBMITTED)
    before = _row(app)
    window_steps = (
        lambda actor: sv.application_accept(actor=actor, application=app),
        lambda actor: sv.application_reject(actor=actor, application=app, reason="x"),
        lambda actor: sv.application_request_correction(actor=actor, application=app, items=desk.correction_items()),
        lambda actor: sv.application_collect(actor=actor, application=app, collected_by="x"),
        lambda actor: sv.application_supplement_forward(actor=actor, application=app),
    )
    for key in ("firm_a", "investment", "service_staff", "city"):
        for step in window_steps:
            with pytest.raises(PermissionDeniedError):
                step(personas[key])
    assert _row(app) == before
    assert not OutboxMessage.objects.exists()
    # Nor may district staff other than the window apply on a firm's behalf.
    with pytest.raises(PermissionDeniedError):
        sv.application_create(actor=personas["investment"], item=ApprovalItem.objects.get(code="project_filing"),
                              project=desk.project, contact_name="张三", contact_phone="138")


@pytest.mark.django_db
def test_clerk_can_apply_on_a_firms_behalf(desk):
    app = desk.create(actor=desk.clerk)
    assert app.enterprise == desk.project.enterprise and app.created_by == desk.clerk
    assert app.project_code == desk.project.code and app.number.startswith("HT2026")
    desk.upload(app, actor=desk.clerk)
    app = sv.application_submit(actor=desk.clerk, application=app)
    assert app.status == S.SUBMITTED
    # The firm can take over (here: withdraw) the application made on its behalf.
    assert sv.application_withdraw(actor=desk.firm, application=app, reason="自行办理").status == S.WITHDRAWN


@pytest.mark.django_db
def test_rejection_and_withdrawal_need_a_reason(desk):
    app = desk.walk(S.SUBMITTED)
    with pytest.raises(ValidationFailed):
        sv.application_reject(actor=desk.clerk, application=app, reason=" ")
    with pytest.raises(ValidationFailed):
        sv.application_withdraw(actor=desk.firm, application=app, reason="")
    with pytest.raises(ValidationFailed):
        sv.application_collect(actor=desk.clerk, application=app, collected_by="")
    assert Application.objects.get(pk=app.pk).status == S.SUBMITTED


@pytest.mark.django_db
def test_accept_writes_the_forwarding_message(desk):
    app = sv.application_accept(actor=desk.clerk, application=desk.walk(S.SUBMITTED))
    message = OutboxMessage.objects.get()
    assert app.forward_message_id == message.message_id and app.accepted_by == desk.clerk
    assert app.accepted_on == dt.date(2026, 6, 10) and not app.accepted_automatically
    payload = message.payload
    assert payload["application_number"] == app.number and payload["project_code"] == desk.project.code
    assert payload["automatic"] is False and len(payload["materials"]) == 5
    assert all(len(m["sha256"]) == 64 for m in payload["materials"])
    # Accepting twice is refused and queues nothing more.
    with pytest.raises(ConflictError):
        sv.application_accept(actor=desk.clerk, application=app)
    assert OutboxMessage.objects.count() == 1


@pytest.mark.django_db
def test_the_city_flow_records_case_decision_and_certificate(desk):
    app = desk.walk(S.CITY_RECEIVED)
    assert app.city_case_number == CASE and app.city_received_on == dt.date(2026, 6, 10)
    assert app.city_due is not None
    reply = desk.callback(app, "granted", certificate_number="C-1", certificate_date="2026-06-10")
    assert reply.status == 200
    app.refresh_from_db()
    assert (app.status, app.decision, app.certificate_number) == (S.GRANTED, "granted", "C-1")
    assert app.certificate_date == dt.date(2026, 6, 10) and app.decided_on == dt.date(2026, 6, 10)
    assert desk.firm.notifications.filter(title__contains=app.number).exists()


@pytest.mark.django_db
def test_a_callback_before_the_acknowledgement_fills_in_the_case(desk):
    """The acknowledgement was lost on the way back; the first callback carries the same facts, and the
    acknowledgement arriving afterwards changes only the record."""
    app = desk.walk(S.ACCEPTED)
    assert desk.callback(app, "in_review").status == 200
    app.refresh_from_db()
    assert (app.status, app.city_case_number) == (S.IN_REVIEW, CASE) and app.city_received_on
    assert desk.ack(app) == "delivered"
    app.refresh_from_db()
    assert app.status == S.IN_REVIEW and app.city_case_number == CASE


@pytest.mark.django_db
def test_an_acknowledgement_with_another_case_number_is_not_applied(desk):
    app = desk.walk(S.CITY_RECEIVED)
    before = _row(app)
    message = message_enqueue(message_type="application.submit", payload={"application_number": app.number},
                              subject="x")
    assert deliver_ack(message, case_number="ZZSP-2026-999999") == "delivered"
    message.refresh_from_db()
    assert "ZZSP-2026-999999" in message.last_error
    assert _row(app) == before


@pytest.mark.django_db
def test_a_callback_for_another_case_is_refused(desk):
    app = desk.walk(S.CITY_RECEIVED)
    before = _row(app)
    reply = desk.callback(app, "granted", case_number="ZZSP-2026-000999")
    assert reply.status == 409
    assert _row(app) == before


@pytest.mark.django_db
def test_bad_callback_payloads_are_refused(desk):
    app = desk.walk(S.CITY_RECEIVED)
    before = _row(app)
    assert desk.callback(app, "lost").status == 400
    assert desk.callback(app, "in_review", version="v2").status == 400
    assert desk.callback(app, "granted", certificate_date="2026-13-40").status == 400
    assert _row(app) == before and not InboundMessage.objects.exists()


@pytest.mark.django_db
def test_the_firm_uploads_supplements_while_returned(desk):
    app = desk.walk(S.RETURNED)
    assert app.returned_on == dt.date(2026, 6, 10) and app.city_reason == "缺少消防意见"
    with pytest.raises(ValidationFailed):
        sv.application_supplement_forward(actor=desk.clerk, application=app)
    material = sv.material_add(actor=desk.firm, application=app, requirement=None,
                               uploaded_file=pdf("消防意见.pdf"))
    assert material.round == 2
    app = sv.application_supplement_forward(actor=desk.clerk, application=app, note="已补充")
    message = OutboxMessage.objects.get(message_type="application.supplement")
    assert message.payload["case_number"] == CASE and len(message.payload["materials"]) == 1
    assert app.supplement_forwarded_at is not None
    # The next supplement round starts after a forward.
    material = sv.material_add(actor=desk.firm, application=app, requirement=None, uploaded_file=pdf("又一份.pdf"))
    assert material.round == 3
