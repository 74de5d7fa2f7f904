"""Service-desk services: the state machine (every legal and illegal step), routing, permissions,
bad input, attachments, visits. The helpers at the top are shared with the other test modules."""

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from zhiyuan.accounts.models import Organisation, OrganisationKind, Role
from zhiyuan.accounts.services import user_create
from zhiyuan.conftest import PASSWORD
from zhiyuan.core.errors import ConflictError, PermissionDeniedError, ValidationFailed
from zhiyuan.core.models import AuditEntry, Notification
from zhiyuan.core.selectors import audit_history
from zhiyuan.servicedesk import services
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

S = RequestStatus
MONDAY = dt.date(2026, 11, 2)  # no holiday in November 2026


# -- shared helpers ----------------------------------------------------------------------------------


def make_specialist(username: str, organisation=None):
    """Another service specialist (in the district organisation unless told)."""
    from zhiyuan.accounts.personas import DISTRICT_ORG

    organisation = (
        organisation
        or Organisation.objects.get_or_create(name=DISTRICT_ORG, defaults={"kind": OrganisationKind.DISTRICT})[0]
    )
    return user_create(
        actor=None,
        username=username,
        password=PASSWORD,
        role=Role.SPECIALIST,
        organisation=organisation,
        last_name="钱",
        first_name=username,
        validate=False,
    )


def assign_specialist(enterprise, specialist):
    enterprise.specialist = specialist
    enterprise.save(update_fields=["specialist"])
    return enterprise


def submit(personas, firm_key="firm_a", *, on=MONDAY, category=Category.POLICY, **kwargs) -> ServiceRequest:
    """A request submitted online by the firm persona `firm_key` for its own firm."""
    user = personas[firm_key]
    kwargs.setdefault("title", "政策咨询")
    kwargs.setdefault("description", "想了解高新技术企业认定的补贴政策。")
    return services.request_submit(
        actor=user, enterprise=user.organisation.enterprise, category=category, on=on, **kwargs
    )


def drive(request, step: str, personas, *, on=None, handler="specialist"):
    """Run one step of the machine with the right actor and arguments."""
    on = on or request.received_on
    desk = personas[handler]
    firm = next(u for u in personas.values() if u.role == Role.ENTERPRISE and u.enterprise_id == request.enterprise_id)
    calls = {
        "sign_for": lambda: services.request_sign_for(actor=desk, request=request, on=on),
        "reply": lambda: services.request_reply(actor=desk, request=request, note="已联系科技局", on=on),
        "ask_firm": lambda: services.request_ask_firm(actor=desk, request=request, note="请提供营业执照", on=on),
        "add_information": lambda: services.request_add_information(
            actor=firm, request=request, note="已上传营业执照", on=on
        ),
        "resolve": lambda: services.request_resolve(actor=desk, request=request, resolution="已兑现补贴", on=on),
        "rate": lambda: services.request_rate(actor=firm, request=request, rating=5, on=on),
        "reopen": lambda: services.request_reopen(actor=firm, request=request, reason="补贴未到账", on=on),
        "transfer": lambda: services.request_transfer(
            actor=desk, request=request, department=other_department(), note="转交发改局", on=on
        ),
    }
    return calls[step]()


def other_department():
    return Organisation.objects.get_or_create(name="荷塘区发改局", defaults={"kind": OrganisationKind.DISTRICT})[0]


# Steps that lead from `submitted` to each status.
PATHS = {
    S.SUBMITTED: [],
    S.SIGNED_FOR: ["sign_for"],
    S.IN_PROGRESS: ["sign_for", "reply"],
    S.WAITING_FOR_FIRM: ["sign_for", "ask_firm"],
    S.RESOLVED: ["sign_for", "reply", "resolve"],
    S.REOPENED: ["sign_for", "reply", "resolve", "reopen"],
    S.CLOSED: ["sign_for", "reply", "resolve", "rate"],
}


def request_in(status, personas, **kwargs) -> ServiceRequest:
    request = submit(personas, **kwargs)
    for step in PATHS[status]:
        request = drive(request, step, personas)
    assert request.status == status
    return request


@pytest.fixture
def desk(personas, firm_a):
    """firm_a is served by the specialist persona."""
    assign_specialist(firm_a, personas["specialist"])
    return personas


# -- the state machine -------------------------------------------------------------------------------

STEPS = ["sign_for", "reply", "ask_firm", "add_information", "resolve", "rate", "reopen"]


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("step", STEPS)
def test_every_step_from_every_status(desk, status, step):
    """A step is legal exactly from the statuses TRANSITIONS lists; otherwise ConflictError naming
    both statuses, and nothing changes."""
    request = request_in(status, desk)
    sources, target = services.TRANSITIONS[step]
    events_before = RequestEvent.objects.filter(request=request).count()
    audits_before = AuditEntry.objects.count()
    if status in sources:
        after = drive(request, step, desk)
        assert after.status == target
        event = RequestEvent.objects.filter(request=request).latest("id")
        assert (event.kind, event.from_status, event.to_status) == (step, status, target)
        assert audit_history(request).first().action == f"servicedesk.request.{step}"
    else:
        with pytest.raises(ConflictError) as caught:
            drive(request, step, desk)
        assert str(status.label) in str(caught.value.message)
        assert str(target.label) in str(caught.value.message)
        request.refresh_from_db()
        assert request.status == status
        assert RequestEvent.objects.filter(request=request).count() == events_before
        assert AuditEntry.objects.count() == audits_before


def test_the_table_is_the_issue_machine():
    pairs = services.LEGAL_PAIRS
    expected = {
        (S.SUBMITTED, S.SIGNED_FOR),
        (S.SIGNED_FOR, S.IN_PROGRESS),
        (S.SIGNED_FOR, S.WAITING_FOR_FIRM),
        (S.SIGNED_FOR, S.RESOLVED),
        (S.IN_PROGRESS, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.WAITING_FOR_FIRM),
        (S.IN_PROGRESS, S.RESOLVED),
        (S.WAITING_FOR_FIRM, S.IN_PROGRESS),
        (S.RESOLVED, S.CLOSED),
        (S.RESOLVED, S.REOPENED),
        (S.REOPENED, S.IN_PROGRESS),
        (S.REOPENED, S.WAITING_FOR_FIRM),
        (S.REOPENED, S.RESOLVED),
    }
    assert pairs == expected
    # Nothing leaves closed; nothing goes back to submitted.
    assert not any(source == S.CLOSED for source, _ in pairs)
    assert not any(target == S.SUBMITTED for _, target in pairs)


@pytest.mark.parametrize("status", list(S))
def test_transfer_from_every_status(desk, status):
    request = request_in(status, desk)
    if status in services.TRANSFERABLE:
        after = drive(request, "transfer", desk)
        assert after.status == status
        assert after.department == other_department()
        assert after.assignee is None
        assert (after.sign_for_due, after.reply_due, after.resolve_due) == (
            request.sign_for_due,
            request.reply_due,
            request.resolve_due,
        )
        event = RequestEvent.objects.filter(request=request).latest("id")
        assert event.kind == "transfer" and "转交发改局" in event.note
    else:
        with pytest.raises(ConflictError):
            drive(request, "transfer", desk)
        request.refresh_from_db()
        assert request.department != other_department()


def test_a_full_life_fills_the_dates(desk):
    request = submit(desk)
    request = services.request_sign_for(actor=desk["specialist"], request=request, on=MONDAY)
    request = services.request_reply(
        actor=desk["specialist"], request=request, note="已受理", on=MONDAY + dt.timedelta(days=1)
    )
    request = services.request_resolve(
        actor=desk["specialist"], request=request, resolution="已办结", on=MONDAY + dt.timedelta(days=3)
    )
    request = services.request_rate(
        actor=desk["firm_a"], request=request, rating=4, comment="满意", on=MONDAY + dt.timedelta(days=4)
    )
    assert request.status == S.CLOSED
    assert request.signed_for_on == MONDAY
    assert request.first_reply_on == MONDAY + dt.timedelta(days=1)
    assert request.resolved_on == MONDAY + dt.timedelta(days=3)
    assert request.closed_on == MONDAY + dt.timedelta(days=4)
    assert (request.rating, request.rating_comment, request.resolution) == (4, "满意", "已办结")
    kinds = list(RequestEvent.objects.filter(request=request).values_list("kind", flat=True))
    assert kinds == ["submitted", "sign_for", "reply", "resolve", "rate"]
    actions = set(audit_history(request).values_list("action", flat=True))
    assert {"servicedesk.request.created", "servicedesk.request.rate"} <= actions


def test_the_firm_is_told_of_a_reply_and_the_owner_of_a_new_request(desk):
    request = submit(desk)
    assert Notification.objects.filter(recipient=desk["specialist"], key=f"servicedesk-new:{request.pk}").exists()
    request = drive(request, "sign_for", desk)
    drive(request, "reply", desk)
    assert Notification.objects.filter(recipient=desk["firm_a"], body="已联系科技局").exists()


def test_reopen_counts_and_restarts_the_resolution_clock(desk):
    request = request_in(S.RESOLVED, desk)
    reopened = services.request_reopen(
        actor=desk["firm_a"], request=request, reason="问题依旧", on=MONDAY + dt.timedelta(days=2)
    )
    assert reopened.status == S.REOPENED
    assert reopened.reopen_count == 1
    assert reopened.resolved_on is None
    assert reopened.resolve_due == dt.date(2026, 11, 11)  # 5 working days after Wednesday 4 November
    again = drive(reopened, "reply", desk, on=MONDAY + dt.timedelta(days=2))
    assert again.status == S.IN_PROGRESS


# -- routing -----------------------------------------------------------------------------------------


def test_routes_to_the_firms_specialist(desk):
    request = submit(desk)
    assert request.assignee == desk["specialist"]
    assert request.department == desk["specialist"].organisation


def test_routes_to_the_categorys_department_when_configured(desk):
    land_office = Organisation.objects.create(name="荷塘区自然资源局", kind=OrganisationKind.DISTRICT)
    CategoryRule.objects.filter(category=Category.LAND).update(department=land_office)
    request = submit(desk, category=Category.LAND)
    assert request.department == land_office
    assert request.assignee is None


def test_without_specialist_or_department_goes_to_the_service_centre(personas, firm_b):
    centre = Organisation.objects.create(name="荷塘区企业服务中心", kind=OrganisationKind.DISTRICT)
    personas["service_staff"].organisation = centre
    personas["service_staff"].save()
    request = submit(personas, "firm_b")
    assert request.assignee is None
    assert request.department == centre
    # Whoever signs for it becomes its handler.
    signed = services.request_sign_for(actor=personas["service_staff"], request=request, on=MONDAY)
    assert signed.assignee == personas["service_staff"]


def test_the_eight_categories_are_seeded_with_the_issue_defaults(db):
    rules = {r.category: r for r in CategoryRule.objects.all()}
    assert set(rules) == set(Category.values)
    for rule in rules.values():
        assert (rule.sign_for_days, rule.reply_days, rule.resolve_days, rule.resolve_days_complex) == (1, 2, 5, 15)
        assert rule.department is None


# -- who may do what ---------------------------------------------------------------------------------


def test_a_firm_submits_only_for_itself(personas, firm_b):
    with pytest.raises(PermissionDeniedError):
        services.request_submit(
            actor=personas["firm_a"], enterprise=firm_b, category=Category.POLICY, title="x", description="y"
        )
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize("role", ["leader", "statistics", "bank", "city"])
def test_readers_and_outsiders_cannot_register_requests(personas, firm_a, role):
    with pytest.raises(PermissionDeniedError):
        services.request_submit(
            actor=personas[role],
            enterprise=firm_a,
            category=Category.POLICY,
            title="x",
            description="y",
            channel="phone",
        )


def test_staff_register_on_the_firms_behalf_with_the_channel(desk, firm_a):
    request = services.request_submit(
        actor=desk["service_staff"],
        enterprise=firm_a,
        category=Category.UTILITIES,
        title="停电",
        description="厂区频繁停电",
        channel=Channel.PHONE,
        on=MONDAY,
    )
    assert request.channel == Channel.PHONE
    assert request.submitted_by == desk["service_staff"]
    with pytest.raises(ValidationFailed) as caught:
        services.request_submit(
            actor=desk["service_staff"], enterprise=firm_a, category=Category.UTILITIES, title="x", description="y"
        )
    assert "channel" in caught.value.fields
    with pytest.raises(ValidationFailed) as caught:
        submit(desk, channel=Channel.PHONE)
    assert "channel" in caught.value.fields


def test_another_specialists_firm_is_read_only(desk):
    request = submit(desk)
    other = make_specialist("zhuanyuan2")
    for call in (
        lambda: services.request_sign_for(actor=other, request=request, on=MONDAY),
        lambda: services.request_transfer(actor=other, request=request, department=other_department(), note="x"),
    ):
        with pytest.raises(PermissionDeniedError):
            call()
    request = drive(request, "sign_for", desk)
    for call in (
        lambda: services.request_reply(actor=other, request=request, note="x", on=MONDAY),
        lambda: services.request_resolve(actor=other, request=request, resolution="x", on=MONDAY),
        lambda: services.request_ask_firm(actor=other, request=request, note="x", on=MONDAY),
    ):
        with pytest.raises(PermissionDeniedError):
            call()
    request.refresh_from_db()
    assert request.status == S.SIGNED_FOR


@pytest.mark.parametrize("role", ["service_staff", "admin"])
def test_service_staff_and_admin_act_on_every_request(desk, role):
    request = submit(desk)
    signed = services.request_sign_for(actor=desk[role], request=request, on=MONDAY)
    # The firm's specialist stays the handler.
    assert signed.assignee == desk["specialist"]
    resolved = services.request_resolve(actor=desk[role], request=signed, resolution="已处理", on=MONDAY)
    assert resolved.status == S.RESOLVED


@pytest.mark.parametrize("role", ["leader", "statistics", "window_clerk", "investment", "bank", "city", "firm_a"])
def test_other_roles_do_not_handle(desk, role):
    request = submit(desk)
    with pytest.raises(PermissionDeniedError):
        services.request_sign_for(actor=desk[role], request=request, on=MONDAY)


def test_after_transfer_the_departments_specialist_handles_it(desk):
    development = other_department()
    colleague = make_specialist("fagai", development)
    request = drive(submit(desk), "sign_for", desk)
    moved = services.request_transfer(
        actor=desk["specialist"], request=request, department=development, note="属发改局职能", on=MONDAY
    )
    with pytest.raises(PermissionDeniedError):
        services.request_reply(actor=desk["specialist"], request=moved, note="x", on=MONDAY)
    replied = services.request_reply(actor=colleague, request=moved, note="发改局已受理", on=MONDAY)
    assert replied.status == S.IN_PROGRESS


def test_firm_steps_belong_to_the_firm(desk, firm_b):
    request = request_in(S.RESOLVED, desk)
    for actor in (desk["firm_b"], desk["specialist"], desk["leader"]):
        with pytest.raises(PermissionDeniedError):
            services.request_rate(actor=actor, request=request, rating=5, on=MONDAY)
        with pytest.raises(PermissionDeniedError):
            services.request_reopen(actor=actor, request=request, reason="x", on=MONDAY)
    request.refresh_from_db()
    assert request.status == S.RESOLVED and request.rating is None


# -- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"description": "  "}, "description"),
        ({"category": "tea"}, "category"),
        ({"channel": "fax"}, "channel"),
        ({"category": Category.LABOUR}, "labour_headcount"),
        ({"category": Category.LABOUR, "labour": {"positions": "焊工", "headcount": 0}}, "labour_headcount"),
        ({"category": Category.LABOUR, "labour": {"positions": "", "headcount": 3}}, "labour_positions"),
        ({"category": Category.FINANCING, "financing": {"amount": "-5"}}, "financing_amount"),
        ({"category": Category.FINANCING, "financing": {"amount": "abc"}}, "financing_amount"),
        ({"category": Category.FINANCING, "financing": {"amount": 100, "term_months": 0}}, "financing_term_months"),
        ({"labour": {"positions": "焊工", "headcount": 3}}, "labour"),
        ({"title": "长" * 201}, "title"),
    ],
)
def test_bad_submissions_name_the_field_and_change_nothing(personas, changes, field):
    with pytest.raises(ValidationFailed) as caught:
        submit(personas, **changes)
    assert field in caught.value.fields
    assert not ServiceRequest.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="servicedesk").exists()


def test_structured_needs_are_stored(desk):
    labour = submit(
        desk,
        category=Category.LABOUR,
        labour={"positions": "数控车工", "headcount": 12, "skills": "数控", "needed_by": dt.date(2026, 12, 31)},
    )
    assert (labour.labour_positions, labour.labour_headcount, labour.labour_skills) == ("数控车工", 12, "数控")
    financing = submit(
        desk,
        category=Category.FINANCING,
        financing={"amount": "500", "term_months": 12, "purpose": "流动资金", "share_with_banks": True},
    )
    assert financing.financing_amount == Decimal("500")
    assert financing.financing_term_months == 12
    assert financing.financing_share_with_banks is True


def test_an_empty_title_is_taken_from_the_description(personas):
    request = submit(personas, title="", description="用电增容申请\n详情见附件")
    assert request.title == "用电增容申请"


def test_a_future_date_is_refused(personas):
    with pytest.raises(ValidationFailed) as caught:
        submit(personas, on=dt.date.today() + dt.timedelta(days=400))
    assert "on" in caught.value.fields


def test_rating_out_of_range_changes_nothing(desk):
    request = request_in(S.RESOLVED, desk)
    for rating in (0, 6, "five", None, 3.5):
        with pytest.raises(ValidationFailed) as caught:
            services.request_rate(actor=desk["firm_a"], request=request, rating=rating, on=MONDAY)
        assert "rating" in caught.value.fields
    request.refresh_from_db()
    assert request.status == S.RESOLVED and request.rating is None


def test_resolving_without_a_note_changes_nothing(desk):
    request = request_in(S.IN_PROGRESS, desk)
    with pytest.raises(ValidationFailed) as caught:
        services.request_resolve(actor=desk["specialist"], request=request, resolution="   ", on=MONDAY)
    assert "resolution" in caught.value.fields
    request.refresh_from_db()
    assert request.status == S.IN_PROGRESS and request.resolved_on is None


@pytest.mark.parametrize("step", ["reply", "ask_firm"])
def test_replies_need_a_note(desk, step):
    request = request_in(S.SIGNED_FOR, desk)
    call = getattr(services, f"request_{step}")
    with pytest.raises(ValidationFailed) as caught:
        call(actor=desk["specialist"], request=request, note="", on=MONDAY)
    assert "note" in caught.value.fields


def test_transfer_needs_a_district_department_and_a_note(desk):
    request = request_in(S.SIGNED_FOR, desk)
    bank = Organisation.objects.get(kind=OrganisationKind.BANK)
    with pytest.raises(ValidationFailed) as caught:
        services.request_transfer(actor=desk["specialist"], request=request, department=bank, note="")
    assert set(caught.value.fields) == {"department", "note"}


# -- attachments -------------------------------------------------------------------------------------


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_attachments_are_hashed(desk, media_root):
    request = submit(desk, attachments=[SimpleUploadedFile("执照.pdf", b"%PDF-1.4 licence")])
    attachment = request.attachments.get()
    assert attachment.name == "执照.pdf"
    assert attachment.sha256 == hashlib.sha256(b"%PDF-1.4 licence").hexdigest()
    more = services.request_attachment_add(
        actor=desk["specialist"], request=request, uploaded_file=SimpleUploadedFile("回复.docx", b"doc")
    )
    assert more.uploaded_by == desk["specialist"]
    assert request.attachments.count() == 2


def test_an_attachment_over_the_limit_changes_nothing(desk, media_root, settings):
    settings.ZHIYUAN_SERVICEDESK_ATTACHMENT_MAX_BYTES = 1024 * 1024
    big = SimpleUploadedFile("scan.pdf", b"x" * (1024 * 1024 + 1))
    with pytest.raises(ValidationFailed) as caught:
        submit(desk, attachments=[big])
    assert "attachments" in caught.value.fields
    assert "1 MB" in caught.value.fields["attachments"][0]
    assert not ServiceRequest.objects.exists()
    request = submit(desk)
    with pytest.raises(ValidationFailed) as caught:
        services.request_attachment_add(
            actor=desk["firm_a"],
            request=request,
            uploaded_file=SimpleUploadedFile("scan.pdf", b"x" * (1024 * 1024 + 1)),
        )
    assert "uploaded_file" in caught.value.fields
    with pytest.raises(ValidationFailed):
        services.request_attachment_add(
            actor=desk["firm_a"], request=request, uploaded_file=SimpleUploadedFile("run.exe", b"MZ")
        )
    assert not RequestAttachment.objects.exists()


def test_strangers_cannot_attach(desk, media_root):
    request = submit(desk)
    for role in ("firm_b", "leader", "bank"):
        with pytest.raises(PermissionDeniedError):
            services.request_attachment_add(
                actor=desk[role], request=request, uploaded_file=SimpleUploadedFile("a.pdf", b"x")
            )


def test_no_attachment_on_a_closed_request(desk, media_root):
    request = request_in(S.CLOSED, desk)
    with pytest.raises(ConflictError):
        services.request_attachment_add(
            actor=desk["firm_a"], request=request, uploaded_file=SimpleUploadedFile("a.pdf", b"x")
        )


# -- visits ------------------------------------------------------------------------------------------


def test_a_visit_and_its_requests_in_one_step(desk, firm_a):
    visit = services.visit_log(
        actor=desk["specialist"],
        enterprise=firm_a,
        visited_on=MONDAY,
        people_met="总经理张三",
        findings="缺数控工人;需要流动资金贷款",
    )
    assert visit.organisation == desk["specialist"].organisation
    requests = services.visit_create_requests(
        actor=desk["specialist"],
        visit=visit,
        items=[
            {
                "category": Category.LABOUR,
                "title": "招工",
                "description": "缺数控工人",
                "labour": {"positions": "数控车工", "headcount": 20},
            },
            {"category": Category.FINANCING, "title": "贷款", "description": "流动资金贷款"},
        ],
    )
    assert [r.channel for r in requests] == [Channel.VISIT, Channel.VISIT]
    assert all(r.visit == visit and r.enterprise == firm_a for r in requests)
    assert requests[0].labour_headcount == 20
    assert AuditEntry.objects.filter(action="servicedesk.visit.created").count() == 1


def test_one_bad_finding_creates_no_request(desk, firm_a):
    visit = services.visit_log(
        actor=desk["specialist"], enterprise=firm_a, visited_on=MONDAY, people_met="", findings="用地"
    )
    with pytest.raises(ValidationFailed) as caught:
        services.visit_create_requests(
            actor=desk["specialist"],
            visit=visit,
            items=[
                {"category": Category.LAND, "title": "用地", "description": "扩建用地"},
                {"category": "nonsense", "title": "x", "description": ""},
            ],
        )
    assert set(caught.value.fields) == {"items.2.category", "items.2.description"}
    assert not ServiceRequest.objects.exists()


def test_visit_bad_input_and_roles(desk, firm_a):
    with pytest.raises(ValidationFailed) as caught:
        services.visit_log(actor=desk["specialist"], enterprise=firm_a, visited_on=None, people_met="", findings="")
    assert set(caught.value.fields) == {"visited_on", "findings"}
    for role in ("leader", "firm_a", "bank"):
        with pytest.raises(PermissionDeniedError):
            services.visit_log(actor=desk[role], enterprise=firm_a, visited_on=MONDAY, people_met="", findings="x")
    assert not Visit.objects.exists()
