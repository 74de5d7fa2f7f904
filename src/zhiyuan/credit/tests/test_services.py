"""Credit services: consent and the bank's door (every combination of firm, bank, purpose, period and
revocation, each request logged once), objections (异议) and their deadline in working days, loan
products, offers on financing needs and their outcome. The clock is frozen on a working day of 2026,
the only year the working-day calendar covers without an administrator's help.

The helpers at the top are shared with test_selectors.py."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from zhiyuan.accounts.models import Organisation, OrganisationKind, Role
from zhiyuan.accounts.services import user_create
from zhiyuan.conftest import PASSWORD
from zhiyuan.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from zhiyuan.core.models import AuditEntry, CalendarOverride, Notification, WorkCalendarYear
from zhiyuan.credit import selectors, services
from zhiyuan.credit.models import (
    Consent,
    CreditScore,
    Feed,
    FeedLoad,
    FinancingOffer,
    LoanProduct,
    Objection,
    ObjectionStatus,
    OfferStatus,
    Purpose,
    ReportAccess,
    ScoreModel,
    ScoringRun,
    TaxRecord,
)
from zhiyuan.servicedesk import services as desk_services
from zhiyuan.servicedesk.models import Category, RequestStatus, ServiceRequest

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 6, 10)  # a Wednesday; 端午节 (Fri 19 – Sun 21 June 2026) lies within the next 20 working days
DAY = dt.timedelta(days=1)


def at(year: int, month: int, day: int, hour: int = 10, *, tick: bool = True):
    """Move the clock to that local (Beijing) time."""
    return time_machine.travel(dt.datetime(year, month, day, hour, 0, tzinfo=SHANGHAI), tick=tick)


@pytest.fixture(autouse=True)
def _clock():
    with at(TODAY.year, TODAY.month, TODAY.day):
        yield


# -- shared helpers ------------------------------------------------------------------------------------


def make_bank(name: str = "长沙银行株洲分行", username: str = "bank2"):
    """A second bank with one user; returns the user (its organisation is `.organisation`)."""
    organisation = Organisation.objects.create(name=name, kind=OrganisationKind.BANK)
    return user_create(
        actor=None,
        username=username,
        password=PASSWORD,
        role=Role.BANK,
        organisation=organisation,
        last_name="郑",
        first_name="信贷",
        validate=False,
    )


def make_consent(enterprise, bank_user, *, purpose=Purpose.LOAN_APPROVAL, start=None, end=None, revoked=False):
    """A consent row written directly (periods the service would refuse, such as one already over)."""
    granted_by = Organisation.objects.get(enterprise=enterprise).users.first()
    return Consent.objects.create(
        enterprise=enterprise,
        bank=bank_user.organisation,
        purpose=purpose,
        valid_from=start or TODAY,
        valid_until=end or TODAY + 90 * DAY,
        granted_by=granted_by,
        revoked_at=dt.datetime(2026, 6, 1, 9, tzinfo=SHANGHAI) if revoked else None,
        revoked_by=granted_by if revoked else None,
    )


def feed_load(feed: str = Feed.TAX, source: str = "区税务局") -> FeedLoad:
    return FeedLoad.objects.create(feed=feed, source=source, channel="file", rows=1)


def tax_record(enterprise, year: int = 2025, grade: str = "B", tax_paid: str = "120.50") -> TaxRecord:
    return TaxRecord.objects.create(
        enterprise=enterprise, load=feed_load(), year=year, grade=grade, tax_paid=Decimal(tax_paid)
    )


def scoring_run(as_of: dt.date = TODAY, *, version: int | None = None) -> ScoringRun:
    """A minimal model (empty spec) and a finished run of it, for CreditScore rows written directly."""
    version = version or (ScoreModel.objects.count() + 1)
    model = ScoreModel.objects.create(version=version, spec={}, sample_size=100, bad_count=10, auc=0.8, ks=0.45)
    return ScoringRun.objects.create(model=model, as_of=as_of, finished_at=dt.datetime.now(tz=SHANGHAI), firms=1)


def give_score(enterprise, grade: str, *, run: ScoringRun | None = None, points: float = 600.0) -> CreditScore:
    run = run or scoring_run()
    return CreditScore.objects.create(
        enterprise=enterprise, run=run, as_of=run.as_of, points=points, pd=0.02, grade=grade, reasons=[], features={}
    )


def financing_need(firm_user, *, amount="500", term_months=12, share=True, on: dt.date = TODAY) -> ServiceRequest:
    """A 融资 request the firm submits online through the service desk, published to banks when `share`."""
    return desk_services.request_submit(
        actor=firm_user,
        enterprise=firm_user.organisation.enterprise,
        category=Category.FINANCING,
        title="流动资金贷款",
        description="采购原材料需要流动资金。",
        financing={"amount": amount, "term_months": term_months, "purpose": "流动资金", "share_with_banks": share},
        on=on,
    )


PRODUCT = {
    "name": "科创贷",
    "description": "面向园区科技型中小企业",
    "amount_min": "100",
    "amount_max": "1000",
    "term_min_months": 6,
    "term_max_months": 36,
    "rate_min": "3.45",
    "rate_max": "6.00",
    "min_grade": "",
    "industry_sections": [],
    "collateral_required": False,
}


def make_product(bank_user, **changes) -> LoanProduct:
    return services.product_create(actor=bank_user, data={**PRODUCT, **changes})


def request_report(bank_user, enterprise, purpose: str = "") -> bool:
    """Ask for the report as the bank; True when it opened, False when refused (NotFoundError)."""
    try:
        services.report_access_for_bank(actor=bank_user, uscc=enterprise.uscc, purpose=purpose)
    except NotFoundError:
        return False
    return True


# -- consent: the bank's door ------------------------------------------------------------------------


def test_every_combination_of_firm_bank_and_purpose(personas, firm_a, firm_b):
    """firm_a authorised the bank persona for loan approval only: of firm × bank × purpose, exactly the
    bank persona asking for firm_a's report for loan approval (or naming no purpose) opens it."""
    bank, bank2 = personas["bank"], make_bank()
    consent = services.consent_grant(
        actor=personas["firm_a"], bank=bank.organisation, purpose=Purpose.LOAN_APPROVAL, valid_until=TODAY + 30 * DAY
    )
    expected_rows = 0
    for bank_user in (bank, bank2):
        for enterprise in (firm_a, firm_b):
            for purpose in ["", *Purpose.values]:
                opens = bank_user == bank and enterprise == firm_a and purpose in ("", Purpose.LOAN_APPROVAL)
                assert request_report(bank_user, enterprise, purpose) is opens, (bank_user, enterprise, purpose)
                expected_rows += 1
                row = ReportAccess.objects.order_by("-id").first()
                assert ReportAccess.objects.count() == expected_rows
                assert (row.enterprise, row.bank, row.user, row.granted) == (
                    enterprise,
                    bank_user.organisation,
                    bank_user,
                    opens,
                )
                assert row.consent == (consent if opens else None)
                # Named: the purpose asked for, granted or not; none named: the live consent's purpose.
                assert row.purpose == (purpose or (Purpose.LOAN_APPROVAL if opens else ""))
    assert ReportAccess.objects.filter(granted=True).count() == 2


def test_purpose_mismatch_is_refused_and_logged_with_the_purpose_asked(personas, firm_a):
    make_consent(firm_a, personas["bank"], purpose=Purpose.LOAN_APPROVAL)
    with pytest.raises(NotFoundError):
        services.report_access_for_bank(actor=personas["bank"], uscc=firm_a.uscc, purpose=Purpose.CREDIT_LINE)
    row = ReportAccess.objects.get()
    assert (row.granted, row.purpose, row.consent) == (False, Purpose.CREDIT_LINE, None)


def test_no_purpose_named_logs_the_live_consents_purpose(personas, firm_a):
    consent = make_consent(firm_a, personas["bank"], purpose=Purpose.POST_LOAN)
    enterprise, used = services.report_access_for_bank(actor=personas["bank"], uscc=firm_a.uscc)
    assert (enterprise, used) == (firm_a, consent)
    row = ReportAccess.objects.get()
    assert (row.granted, row.purpose, row.consent, row.channel) == (True, Purpose.POST_LOAN, consent, "web")


def test_with_two_live_consents_the_named_purpose_picks_its_own(personas, firm_a):
    loan = make_consent(firm_a, personas["bank"], purpose=Purpose.LOAN_APPROVAL, end=TODAY + 10 * DAY)
    line = make_consent(firm_a, personas["bank"], purpose=Purpose.CREDIT_LINE, end=TODAY + 20 * DAY)
    assert services.report_access_for_bank(actor=personas["bank"], uscc=firm_a.uscc, purpose="loan_approval")[1] == loan
    assert services.report_access_for_bank(actor=personas["bank"], uscc=firm_a.uscc, purpose="credit_line")[1] == line
    # None named: the consent that lasts longest.
    assert services.report_access_for_bank(actor=personas["bank"], uscc=firm_a.uscc)[1] == line
    assert list(ReportAccess.objects.order_by("id").values_list("purpose", flat=True)) == [
        "loan_approval",
        "credit_line",
        "credit_line",
    ]


@pytest.mark.parametrize(
    ("start", "end", "revoked", "opens"),
    [
        pytest.param(TODAY - 30 * DAY, TODAY - DAY, False, False, id="expired-yesterday"),
        pytest.param(TODAY - 30 * DAY, TODAY, False, True, id="last-day"),
        pytest.param(TODAY, TODAY + 30 * DAY, False, True, id="first-day"),
        pytest.param(TODAY + DAY, TODAY + 30 * DAY, False, False, id="starts-tomorrow"),
        pytest.param(TODAY - 30 * DAY, TODAY + 30 * DAY, True, False, id="revoked"),
    ],
)
@pytest.mark.parametrize("purpose", ["", Purpose.LOAN_APPROVAL])
def test_consent_period_and_revocation(personas, firm_a, start, end, revoked, opens, purpose):
    make_consent(firm_a, personas["bank"], start=start, end=end, revoked=revoked)
    assert request_report(personas["bank"], firm_a, purpose) is opens
    row = ReportAccess.objects.get()
    assert row.granted is opens
    assert (row.consent is not None) is opens


def test_a_consent_expires_with_the_clock(personas, firm_a):
    services.consent_grant(
        actor=personas["firm_a"], bank=personas["bank"].organisation, purpose="loan_approval", valid_until=TODAY + DAY
    )
    assert request_report(personas["bank"], firm_a)
    with at(2026, 6, 11, hour=23):
        assert request_report(personas["bank"], firm_a)
    with at(2026, 6, 12, hour=0):
        assert not request_report(personas["bank"], firm_a)
    assert list(ReportAccess.objects.order_by("id").values_list("granted", flat=True)) == [True, True, False]


def test_a_consent_not_started_opens_on_its_first_day(personas, firm_a):
    services.consent_grant(
        actor=personas["firm_a"],
        bank=personas["bank"].organisation,
        purpose="credit_line",
        valid_from=TODAY + 3 * DAY,
        valid_until=TODAY + 30 * DAY,
    )
    assert not request_report(personas["bank"], firm_a, "credit_line")
    with at(2026, 6, 13):
        assert request_report(personas["bank"], firm_a, "credit_line")


def test_revocation_is_effective_on_the_very_next_request(personas, firm_a):
    bank = personas["bank"]
    consent = services.consent_grant(
        actor=personas["firm_a"], bank=bank.organisation, purpose="loan_approval", valid_until=TODAY + 60 * DAY
    )
    assert request_report(bank, firm_a, "loan_approval")
    revoked = services.consent_revoke(actor=personas["firm_a"], consent=consent)
    assert revoked.revoked_at is not None and revoked.revoked_by == personas["firm_a"]
    assert not request_report(bank, firm_a, "loan_approval")
    assert not request_report(bank, firm_a)
    rows = list(ReportAccess.objects.order_by("id"))
    assert [(row.granted, row.consent_id) for row in rows] == [(True, consent.pk), (False, None), (False, None)]
    assert AuditEntry.objects.filter(action="credit.consent.revoked", object_id=str(consent.pk)).count() == 1


def test_another_banks_consent_opens_nothing_for_this_bank(personas, firm_a):
    bank2 = make_bank()
    make_consent(firm_a, bank2)
    assert not request_report(personas["bank"], firm_a)
    assert request_report(bank2, firm_a)
    refused, granted = ReportAccess.objects.order_by("id")
    assert (refused.bank, refused.granted) == (personas["bank"].organisation, False)
    assert (granted.bank, granted.granted) == (bank2.organisation, True)


def test_unknown_uscc_is_not_found_and_nothing_is_logged(personas, firm_a):
    from zhiyuan.conftest import make_uscc

    make_consent(firm_a, personas["bank"])
    with pytest.raises(NotFoundError):
        services.report_access_for_bank(actor=personas["bank"], uscc=make_uscc(999))
    with pytest.raises(NotFoundError):
        services.report_access_for_bank(actor=personas["bank"], uscc="not-a-uscc")
    assert not ReportAccess.objects.exists()


def test_the_uscc_is_matched_whatever_its_case_and_spacing(personas, firm_a):
    make_consent(firm_a, personas["bank"])
    enterprise, _consent = services.report_access_for_bank(actor=personas["bank"], uscc=f"  {firm_a.uscc.lower()} ")
    assert enterprise == firm_a


def test_an_unknown_purpose_is_a_validation_error(personas, firm_a):
    make_consent(firm_a, personas["bank"])
    with pytest.raises(ValidationFailed) as error:
        services.report_access_for_bank(actor=personas["bank"], uscc=firm_a.uscc, purpose="marketing")
    assert "purpose" in error.value.fields
    assert not ReportAccess.objects.exists()


@pytest.mark.parametrize("key", ["firm_a", "firm_b", "admin", "service_staff", "leader", "city"])
def test_only_bank_users_go_through_the_bank_door(personas, firm_a, key):
    make_consent(firm_a, personas["bank"])
    with pytest.raises(PermissionDeniedError):
        services.report_access_for_bank(actor=personas[key], uscc=firm_a.uscc)
    assert not ReportAccess.objects.exists()


def test_the_firm_sees_the_log_of_its_own_report_only(personas, firm_a, firm_b):
    bank = personas["bank"]
    make_consent(firm_a, bank)
    request_report(bank, firm_a)
    request_report(bank, firm_a, "credit_line")  # refused, still logged
    request_report(bank, firm_b)  # refused: firm_b consented to nothing
    seen_by_a = selectors.accesses_visible_to(personas["firm_a"])
    assert {(row.enterprise, row.granted) for row in seen_by_a} == {(firm_a, True), (firm_a, False)}
    assert seen_by_a.count() == 2
    seen_by_b = selectors.accesses_visible_to(personas["firm_b"])
    assert [(row.enterprise, row.granted) for row in seen_by_b] == [(firm_b, False)]
    assert not seen_by_b.filter(enterprise=firm_a).exists()
    assert selectors.accesses_visible_to(bank).count() == 3
    assert selectors.accesses_visible_to(make_bank()).count() == 0
    assert selectors.accesses_visible_to(personas["service_staff"]).count() == 3
    assert selectors.accesses_visible_to(personas["city"]).count() == 0


# -- consent: granting and revoking ------------------------------------------------------------------


def test_grant_records_audits_and_tells_the_banks_users(personas, firm_a):
    bank = personas["bank"]
    colleague = user_create(
        actor=None,
        username="bank_colleague",
        password=PASSWORD,
        role=Role.BANK,
        organisation=bank.organisation,
        validate=False,
    )
    bank2 = make_bank()
    consent = services.consent_grant(
        actor=personas["firm_a"], bank=str(bank.organisation.pk), purpose="loan_approval", valid_until="2026-09-30"
    )
    assert (consent.enterprise, consent.bank, consent.purpose) == (firm_a, bank.organisation, "loan_approval")
    assert (consent.valid_from, consent.valid_until) == (TODAY, dt.date(2026, 9, 30))
    assert consent.granted_by == personas["firm_a"] and consent.revoked_at is None
    assert services.consent_is_live(consent)
    assert AuditEntry.objects.filter(action="credit.consent.granted", object_id=str(consent.pk)).exists()
    told = Notification.objects.filter(link=f"/credit/reports/{firm_a.uscc}/")
    assert set(told.values_list("recipient", flat=True)) == {bank.pk, colleague.pk}
    assert not Notification.objects.filter(recipient=bank2).exists()
    services.consent_revoke(actor=personas["firm_a"], consent=consent)
    assert set(Notification.objects.filter(link="/credit/bank/").values_list("recipient", flat=True)) == {
        bank.pk,
        colleague.pk,
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"valid_until": None}, "valid_until", id="no-end-date"),
        pytest.param({"valid_until": ""}, "valid_until", id="empty-end-date"),
        pytest.param({"valid_until": "30/09/2026"}, "valid_until", id="end-date-not-iso"),
        pytest.param({"valid_from": TODAY + 10 * DAY, "valid_until": TODAY + 5 * DAY}, "valid_until", id="end-first"),
        pytest.param({"valid_from": TODAY - DAY}, "valid_from", id="starts-in-the-past"),
        pytest.param({"valid_from": "tomorrow"}, "valid_from", id="start-not-a-date"),
        pytest.param({"purpose": "marketing"}, "purpose", id="unknown-purpose"),
        pytest.param({"purpose": ""}, "purpose", id="no-purpose"),
        pytest.param({"bank": None}, "bank", id="no-bank"),
        pytest.param({"bank": 999999}, "bank", id="unknown-bank"),
        pytest.param({"bank": "abc"}, "bank", id="bank-not-an-id"),
        pytest.param({"bank": "district"}, "bank", id="district-organisation"),
        pytest.param({"bank": "firm_b"}, "bank", id="an-enterprise"),
    ],
)
def test_grant_refuses_bad_input_naming_the_field(personas, changes, field):
    organisations = {
        "district": personas["admin"].organisation.pk,
        "firm_b": personas["firm_b"].organisation.pk,
    }
    data = {
        "bank": personas["bank"].organisation.pk,
        "purpose": "loan_approval",
        "valid_until": TODAY + 30 * DAY,
        **changes,
    }
    data["bank"] = organisations.get(data["bank"], data["bank"])
    with pytest.raises(ValidationFailed) as error:
        services.consent_grant(actor=personas["firm_a"], **data)
    assert field in error.value.fields
    assert not Consent.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="credit.").exists()
    assert not Notification.objects.filter(recipient=personas["bank"]).exists()


def test_grant_is_limited_to_the_configured_length(personas, settings):
    settings.ZHIYUAN_CREDIT_CONSENT_MAX_DAYS = 30
    bank = personas["bank"].organisation
    with pytest.raises(ValidationFailed) as error:
        services.consent_grant(actor=personas["firm_a"], bank=bank, purpose="post_loan", valid_until=TODAY + 31 * DAY)
    assert list(error.value.fields) == ["valid_until"]
    assert not Consent.objects.exists()
    consent = services.consent_grant(
        actor=personas["firm_a"], bank=bank, purpose="post_loan", valid_until=TODAY + 30 * DAY
    )
    assert consent.valid_until == TODAY + 30 * DAY


def test_grant_reports_every_bad_field_at_once(personas):
    with pytest.raises(ValidationFailed) as error:
        services.consent_grant(actor=personas["firm_a"], bank=None, purpose="x", valid_until=None)
    assert set(error.value.fields) == {"bank", "purpose", "valid_until"}


@pytest.mark.parametrize("key", ["bank", "admin", "service_staff", "leader", "city"])
def test_only_a_firm_user_can_grant(personas, key):
    with pytest.raises(PermissionDeniedError):
        services.consent_grant(
            actor=personas[key], bank=personas["bank"].organisation, purpose="loan_approval", valid_until=TODAY + DAY
        )
    assert not Consent.objects.exists()


def test_revoke_another_firms_consent_is_not_found(personas, firm_a):
    consent = make_consent(firm_a, personas["bank"])
    with pytest.raises(NotFoundError):
        services.consent_revoke(actor=personas["firm_b"], consent=consent)
    with pytest.raises(PermissionDeniedError):
        services.consent_revoke(actor=personas["bank"], consent=consent)
    consent.refresh_from_db()
    assert consent.revoked_at is None


def test_revoke_twice_is_a_conflict(personas, firm_a):
    consent = make_consent(firm_a, personas["bank"])
    first = services.consent_revoke(actor=personas["firm_a"], consent=consent)
    with pytest.raises(ConflictError):
        services.consent_revoke(actor=personas["firm_a"], consent=consent)
    consent.refresh_from_db()
    assert consent.revoked_at == first.revoked_at
    assert AuditEntry.objects.filter(action="credit.consent.revoked").count() == 1


# -- objections ----------------------------------------------------------------------------------


def test_objection_flags_the_record_in_the_report(personas, firm_a):
    disputed = tax_record(firm_a, 2025, "C")
    other = tax_record(firm_a, 2024, "B")
    objection = services.objection_raise(
        actor=personas["firm_a"], feed=Feed.TAX, record_id=disputed.pk, reason="  2025年已补缴，等级应为B  "
    )
    assert (objection.enterprise, objection.status, objection.reason) == (
        firm_a,
        ObjectionStatus.OPEN,
        "2025年已补缴，等级应为B",
    )
    assert objection.raised_by == personas["firm_a"]
    assert objection.record_label.endswith(str(disputed))
    # 20 working days after Wed 10 June 2026, 端午节 (19–21 June) not counted: Thu 9 July (not Wed 8 July).
    assert objection.due_on == dt.date(2026, 7, 9)
    report = selectors.report_build(firm_a)
    flags = {record.id: record.disputed for record in report.records[Feed.TAX]}
    assert flags == {disputed.pk: True, other.pk: False}
    assert report.disputed_count == 1
    assert AuditEntry.objects.filter(action="credit.objection.raised", object_id=str(objection.pk)).exists()
    managers = set(
        Notification.objects.filter(link=f"/credit/objections/{objection.pk}/").values_list("recipient", flat=True)
    )
    assert managers == {personas["admin"].pk, personas["service_staff"].pk}


def test_objection_due_date_follows_the_setting(personas, firm_a, settings):
    settings.ZHIYUAN_CREDIT_OBJECTION_WORKDAYS = 5
    record = tax_record(firm_a)
    objection = services.objection_raise(actor=personas["firm_a"], feed="tax", record_id=record.pk, reason="错误")
    assert objection.due_on == dt.date(2026, 6, 17)  # Thu 11, Fri 12, Mon 15, Tue 16, Wed 17


def test_objection_on_another_firms_record_is_not_found(personas, firm_a, firm_b):
    record = tax_record(firm_b)
    with pytest.raises(NotFoundError):
        services.objection_raise(actor=personas["firm_a"], feed=Feed.TAX, record_id=record.pk, reason="不是我们的")
    with pytest.raises(NotFoundError):
        services.objection_raise(actor=personas["firm_a"], feed=Feed.TAX, record_id=record.pk + 1000, reason="x")
    with pytest.raises(NotFoundError):  # the right id in the wrong feed
        services.objection_raise(actor=personas["firm_a"], feed=Feed.COURT, record_id=record.pk, reason="x")
    assert not Objection.objects.exists()


@pytest.mark.parametrize(
    ("feed", "reason", "field"), [("tax", "", "reason"), ("tax", "   ", "reason"), ("gossip", "x", "feed")]
)
def test_objection_bad_input(personas, firm_a, feed, reason, field):
    record = tax_record(firm_a)
    with pytest.raises(ValidationFailed) as error:
        services.objection_raise(actor=personas["firm_a"], feed=feed, record_id=record.pk, reason=reason)
    assert field in error.value.fields
    assert not Objection.objects.exists()


@pytest.mark.parametrize("key", ["bank", "service_staff", "admin"])
def test_only_the_firm_raises_objections(personas, firm_a, key):
    record = tax_record(firm_a)
    with pytest.raises(PermissionDeniedError):
        services.objection_raise(actor=personas[key], feed="tax", record_id=record.pk, reason="x")


def test_a_second_open_objection_on_the_same_record_is_a_conflict(personas, firm_a):
    record = tax_record(firm_a)
    first = services.objection_raise(actor=personas["firm_a"], feed="tax", record_id=record.pk, reason="一")
    with pytest.raises(ConflictError):
        services.objection_raise(actor=personas["firm_a"], feed="tax", record_id=record.pk, reason="二")
    assert Objection.objects.count() == 1
    # Once the first is closed, the firm may object again.
    services.objection_answer(actor=personas["service_staff"], objection=first, upheld=False, answer="数据核实无误")
    again = services.objection_raise(actor=personas["firm_a"], feed="tax", record_id=record.pk, reason="补充证据")
    assert again.status == ObjectionStatus.OPEN
    assert selectors.report_build(firm_a).disputed_count == 1


def test_upheld_objection_removes_the_record_and_audits_it(personas, firm_a):
    record = tax_record(firm_a, 2025, "D")
    objection = services.objection_raise(actor=personas["firm_a"], feed="tax", record_id=record.pk, reason="错录")
    answered = services.objection_answer(
        actor=personas["service_staff"], objection=objection, upheld=True, answer="经核实为录入错误，已删除"
    )
    assert answered.status == ObjectionStatus.UPHELD
    assert answered.answered_by == personas["service_staff"] and answered.answered_at is not None
    assert not TaxRecord.objects.filter(pk=record.pk).exists()
    removed = AuditEntry.objects.get(action="credit.record.removed")
    assert removed.object_id == str(record.pk)
    assert removed.changes["grade"] == ["D", None]
    assert removed.changes["year"] == [2025, None]
    report = selectors.report_build(firm_a)
    assert Feed.TAX not in report.records and report.disputed_count == 0
    told = Notification.objects.filter(recipient=personas["firm_a"], link="/credit/my/")
    assert told.count() == 1 and told.get().body == "经核实为录入错误，已删除"


def test_rejected_objection_keeps_the_record_and_lifts_the_flag(personas, firm_a):
    record = tax_record(firm_a, 2025, "C")
    objection = services.objection_raise(actor=personas["firm_a"], feed="tax", record_id=record.pk, reason="不认可")
    answered = services.objection_answer(
        actor=personas["admin"], objection=objection, upheld=False, answer="税务局确认等级无误"
    )
    assert answered.status == ObjectionStatus.REJECTED
    assert TaxRecord.objects.filter(pk=record.pk).exists()
    assert not AuditEntry.objects.filter(action="credit.record.removed").exists()
    report = selectors.report_build(firm_a)
    assert [(row.id, row.disputed) for row in report.records[Feed.TAX]] == [(record.pk, False)]
    assert report.disputed_count == 0


@pytest.mark.parametrize("key", ["firm_a", "firm_b", "bank", "specialist", "leader"])
def test_only_credit_managers_answer(personas, firm_a, key):
    record = tax_record(firm_a)
    objection = services.objection_raise(actor=personas["firm_a"], feed="tax", record_id=record.pk, reason="x")
    with pytest.raises(PermissionDeniedError):
        services.objection_answer(actor=personas[key], objection=objection, upheld=True, answer="好")
    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.OPEN
    assert TaxRecord.objects.filter(pk=record.pk).exists()


def test_answer_needs_words_and_an_open_objection(personas, firm_a):
    record = tax_record(firm_a)
    objection = services.objection_raise(actor=personas["firm_a"], feed="tax", record_id=record.pk, reason="x")
    with pytest.raises(ValidationFailed) as error:
        services.objection_answer(actor=personas["admin"], objection=objection, upheld=True, answer="  ")
    assert "answer" in error.value.fields
    assert TaxRecord.objects.filter(pk=record.pk).exists()
    services.objection_answer(actor=personas["admin"], objection=objection, upheld=False, answer="维持")
    with pytest.raises(ConflictError):
        services.objection_answer(actor=personas["admin"], objection=objection, upheld=True, answer="改判")
    assert TaxRecord.objects.filter(pk=record.pk).exists()


def test_withdraw(personas, firm_a):
    record = tax_record(firm_a)
    objection = services.objection_raise(actor=personas["firm_a"], feed="tax", record_id=record.pk, reason="x")
    with pytest.raises(NotFoundError):
        services.objection_withdraw(actor=personas["firm_b"], objection=objection)
    with pytest.raises(PermissionDeniedError):
        services.objection_withdraw(actor=personas["service_staff"], objection=objection)
    withdrawn = services.objection_withdraw(actor=personas["firm_a"], objection=objection)
    assert withdrawn.status == ObjectionStatus.WITHDRAWN
    assert selectors.report_build(firm_a).disputed_count == 0
    assert TaxRecord.objects.filter(pk=record.pk).exists()
    with pytest.raises(ConflictError):
        services.objection_withdraw(actor=personas["firm_a"], objection=objection)
    with pytest.raises(ConflictError):
        services.objection_answer(actor=personas["admin"], objection=objection, upheld=True, answer="迟到的答复")


def test_overdue_objections_are_notified_once(personas, firm_a):
    record = tax_record(firm_a)
    objection = services.objection_raise(actor=personas["firm_a"], feed="tax", record_id=record.pk, reason="x")
    answered = services.objection_raise(
        actor=personas["firm_a"], feed="tax", record_id=tax_record(firm_a, 2024).pk, reason="y"
    )
    services.objection_answer(actor=personas["admin"], objection=answered, upheld=False, answer="维持")
    assert objection.due_on == dt.date(2026, 7, 9)
    # On the due day itself staff still have time.
    assert services.objections_overdue_notify(today=dt.date(2026, 7, 9)) == 0
    # The day after: each credit manager (admin, service staff) told once; not again the next day.
    assert services.objections_overdue_notify(today=dt.date(2026, 7, 10)) == 2
    assert services.objections_overdue_notify(today=dt.date(2026, 7, 11)) == 0
    notices = Notification.objects.filter(key=f"credit-objection-overdue-{objection.pk}")
    assert set(notices.values_list("recipient", flat=True)) == {personas["admin"].pk, personas["service_staff"].pk}
    assert not Notification.objects.filter(key=f"credit-objection-overdue-{answered.pk}").exists()
    objection.refresh_from_db()
    assert objection.reminded


def test_overdue_notice_fills_deadlines_the_calendar_could_not_compute(personas, firm_a):
    """Raised before dawn on Mon 21 Dec 2026 (Beijing; still Sunday in UTC), 20 working days reach into
    2027, which the calendar does not cover: no deadline. Once the administrator has entered 2027, the
    daily run fills it in, counting from the Beijing date of the objection."""
    record = tax_record(firm_a)
    with at(2026, 12, 21, hour=7):
        objection = services.objection_raise(actor=personas["firm_a"], feed="tax", record_id=record.pk, reason="x")
    assert objection.due_on is None
    with at(2026, 12, 22):
        assert services.objections_overdue_notify() == 0
    objection.refresh_from_db()
    assert objection.due_on is None
    CalendarOverride.objects.create(date=dt.date(2027, 1, 1), is_workday=False, name="元旦")
    WorkCalendarYear.objects.create(year=2027, note="国务院办公厅通知")
    with at(2026, 12, 23):
        assert services.objections_overdue_notify() == 0
    objection.refresh_from_db()
    # From Mon 21 Dec: 22–25 Dec (4), 28–31 Dec (8), 1 Jan 2027 off, 4–8 Jan (13), 11–15 Jan (18), 18, 19 Jan.
    assert objection.due_on == dt.date(2027, 1, 19)
    assert services.objections_overdue_notify(today=dt.date(2027, 1, 20)) == 2


# -- loan products --------------------------------------------------------------------------------


def test_product_create(personas):
    product = make_product(personas["bank"], min_grade="bbb", industry_sections="c, m，C")
    assert product.bank == personas["bank"].organisation and product.created_by == personas["bank"]
    assert (product.amount_min, product.amount_max, product.rate_max) == (Decimal("100"), Decimal("1000"), Decimal("6"))
    assert product.min_grade == "BBB"
    assert product.industry_sections == ["C", "M"]
    assert product.is_active
    assert AuditEntry.objects.filter(action="credit.product.created", object_id=str(product.pk)).exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"amount_min": "2000"}, "amount_max", id="min-above-max"),
        pytest.param({"amount_min": "-5"}, "amount_min", id="negative-amount"),
        pytest.param({"amount_max": "0"}, "amount_max", id="zero-amount"),
        pytest.param({"amount_max": "abc"}, "amount_max", id="amount-not-a-number"),
        pytest.param({"amount_max": "NaN"}, "amount_max", id="amount-nan"),
        pytest.param({"term_min_months": 48}, "term_max_months", id="term-min-above-max"),
        pytest.param({"term_min_months": 0}, "term_min_months", id="zero-term"),
        pytest.param({"rate_max": "36.01"}, "rate_max", id="rate-above-36"),
        pytest.param({"rate_min": "7"}, "rate_max", id="rate-min-above-max"),
        pytest.param({"rate_min": "-1"}, "rate_min", id="negative-rate"),
        pytest.param({"min_grade": "AAAA"}, "min_grade", id="unknown-grade"),
        pytest.param({"min_grade": "D"}, "min_grade", id="tax-grade-is-not-a-credit-grade"),
        pytest.param({"industry_sections": ["C", "Z"]}, "industry_sections", id="unknown-section"),
        pytest.param({"industry_sections": ["3240"]}, "industry_sections", id="class-not-section"),
        pytest.param({"name": "  "}, "name", id="no-name"),
    ],
)
def test_product_create_bad_input(personas, changes, field):
    with pytest.raises(ValidationFailed) as error:
        make_product(personas["bank"], **changes)
    assert field in error.value.fields
    assert not LoanProduct.objects.exists()


@pytest.mark.parametrize("key", ["firm_a", "service_staff", "admin"])
def test_only_banks_publish_products(personas, key):
    with pytest.raises(PermissionDeniedError):
        make_product(personas[key])
    assert not LoanProduct.objects.exists()


def test_product_update(personas):
    product = make_product(personas["bank"])
    updated = services.product_update(
        actor=personas["bank"], product=product, data={"amount_max": "800", "is_active": False}
    )
    updated.refresh_from_db()
    assert (updated.amount_max, updated.amount_min, updated.is_active, updated.name) == (
        Decimal("800"),
        Decimal("100"),
        False,
        "科创贷",
    )
    entry = AuditEntry.objects.get(action="credit.product.updated")
    assert set(entry.changes) == {"amount_max", "is_active"}
    with pytest.raises(ValidationFailed) as error:
        services.product_update(actor=personas["bank"], product=product, data={"amount_min": "900"})
    assert "amount_max" in error.value.fields
    product.refresh_from_db()
    assert product.amount_min == Decimal("100")


def test_product_update_by_another_bank_is_not_found(personas):
    product = make_product(personas["bank"])
    with pytest.raises(NotFoundError):
        services.product_update(actor=make_bank(), product=product, data={"name": "抢来的"})
    with pytest.raises(PermissionDeniedError):
        services.product_update(actor=personas["firm_a"], product=product, data={"name": "x"})
    product.refresh_from_db()
    assert product.name == "科创贷"


# -- offers on financing needs ------------------------------------------------------------------------


@pytest.fixture
def need(personas):
    """firm_a's published financing need: 500 (10k yuan) for 12 months."""
    return financing_need(personas["firm_a"])


def offer(bank_user, need, **changes) -> FinancingOffer:
    data = {"amount": "400", "term_months": 12, "rate": "4.2", "message": "可三日内放款", **changes}
    return services.offer_create(actor=bank_user, need=need, **data)


def test_offer_on_a_published_need(personas, need):
    product = make_product(personas["bank"])
    made = offer(personas["bank"], need, product=product)
    assert (made.need, made.bank, made.product, made.status) == (
        need,
        personas["bank"].organisation,
        product,
        OfferStatus.OFFERED,
    )
    assert (made.amount, made.term_months, made.rate) == (Decimal("400"), 12, Decimal("4.2"))
    assert Notification.objects.filter(recipient=personas["firm_a"], link=f"/credit/needs/{need.pk}/").exists()
    assert AuditEntry.objects.filter(action="credit.offer.created", object_id=str(made.pk)).exists()


def test_offer_on_an_unpublished_or_closed_need_is_not_found(personas, need):
    private = financing_need(personas["firm_b"], share=False)
    with pytest.raises(NotFoundError):
        offer(personas["bank"], private)
    ServiceRequest.objects.filter(pk=need.pk).update(status=RequestStatus.CLOSED)
    with pytest.raises(NotFoundError):
        offer(personas["bank"], need)
    assert not FinancingOffer.objects.exists()


def test_only_banks_make_offers(personas, need):
    for key in ("firm_a", "firm_b"):
        with pytest.raises(PermissionDeniedError):
            offer(personas[key], need)
    assert not FinancingOffer.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-1"}, "amount"),
        ({"term_months": "x"}, "term_months"),
        ({"rate": "36.5"}, "rate"),
    ],
)
def test_offer_bad_input(personas, need, changes, field):
    with pytest.raises(ValidationFailed) as error:
        offer(personas["bank"], need, **changes)
    assert field in error.value.fields
    assert not FinancingOffer.objects.exists()


def test_offer_with_another_banks_or_an_unpublished_product(personas, need):
    theirs = make_product(make_bank())
    mine_unpublished = make_product(personas["bank"], is_active=False)
    for product in (theirs, mine_unpublished):
        with pytest.raises(ValidationFailed) as error:
            offer(personas["bank"], need, product=product)
        assert "product" in error.value.fields
    assert not FinancingOffer.objects.exists()


def test_one_live_offer_per_bank_and_need(personas, need):
    first = offer(personas["bank"], need)
    with pytest.raises(ConflictError):
        offer(personas["bank"], need, amount="450")
    assert FinancingOffer.objects.count() == 1
    offer(make_bank(), need)  # another bank may
    services.offer_withdraw(actor=personas["bank"], offer=first)
    again = offer(personas["bank"], need, amount="450")  # after withdrawing, a new offer
    assert again.status == OfferStatus.OFFERED
    assert FinancingOffer.objects.filter(bank=personas["bank"].organisation).count() == 2


def test_only_the_needs_firm_accepts_or_declines(personas, need):
    made = offer(personas["bank"], need)
    with pytest.raises(NotFoundError):
        services.offer_accept(actor=personas["firm_b"], offer=made)
    with pytest.raises(PermissionDeniedError):
        services.offer_accept(actor=personas["bank"], offer=made)
    with pytest.raises(PermissionDeniedError):
        services.offer_decline(actor=personas["service_staff"], offer=made)
    made.refresh_from_db()
    assert made.status == OfferStatus.OFFERED
    accepted = services.offer_accept(actor=personas["firm_a"], offer=made)
    assert accepted.status == OfferStatus.ACCEPTED
    assert Notification.objects.filter(recipient=personas["bank"], link=f"/credit/needs/{need.pk}/").exists()
    with pytest.raises(ConflictError):
        services.offer_decline(actor=personas["firm_a"], offer=made)
    with pytest.raises(ConflictError):
        services.offer_withdraw(actor=personas["bank"], offer=made)


def test_decline(personas, need):
    made = offer(personas["bank"], need)
    declined = services.offer_decline(actor=personas["firm_a"], offer=made)
    assert declined.status == OfferStatus.DECLINED
    with pytest.raises(ConflictError):
        services.offer_accept(actor=personas["firm_a"], offer=made)
    with pytest.raises(ConflictError):
        services.offer_record_outcome(actor=personas["bank"], offer=made, granted=True, amount="100")


def test_outcome_only_after_acceptance_and_only_by_the_bank(personas, need):
    made = offer(personas["bank"], need)
    with pytest.raises(ConflictError):
        services.offer_record_outcome(actor=personas["bank"], offer=made, granted=True, amount="400")
    with pytest.raises(ConflictError):
        services.offer_record_outcome(actor=personas["bank"], offer=made, granted=False)
    services.offer_accept(actor=personas["firm_a"], offer=made)
    with pytest.raises(PermissionDeniedError):
        services.offer_record_outcome(actor=personas["firm_a"], offer=made, granted=True, amount="400")
    with pytest.raises(NotFoundError):
        services.offer_record_outcome(actor=make_bank(), offer=made, granted=True, amount="400")
    made.refresh_from_db()
    assert made.status == OfferStatus.ACCEPTED and made.granted_amount is None
    granted = services.offer_record_outcome(
        actor=personas["bank"], offer=made, granted=True, amount="380", granted_on="2026-06-09"
    )
    assert (granted.status, granted.granted_amount, granted.granted_on) == (
        OfferStatus.GRANTED,
        Decimal("380"),
        dt.date(2026, 6, 9),
    )
    with pytest.raises(ConflictError):
        services.offer_record_outcome(actor=personas["bank"], offer=made, granted=True, amount="1")


@pytest.mark.parametrize(
    ("amount", "granted_on", "field"),
    [
        ("0", None, "granted_amount"),
        ("-10", None, "granted_amount"),
        ("", None, "granted_amount"),
        ("100", TODAY + DAY, "granted_on"),
        ("100", "2026-13-01", "granted_on"),
    ],
)
def test_outcome_bad_input(personas, need, amount, granted_on, field):
    made = offer(personas["bank"], need)
    services.offer_accept(actor=personas["firm_a"], offer=made)
    with pytest.raises(ValidationFailed) as error:
        services.offer_record_outcome(
            actor=personas["bank"], offer=made, granted=True, amount=amount, granted_on=granted_on
        )
    assert field in error.value.fields
    made.refresh_from_db()
    assert made.status == OfferStatus.ACCEPTED


def test_outcome_date_defaults_to_today(personas, need):
    made = offer(personas["bank"], need)
    services.offer_accept(actor=personas["firm_a"], offer=made)
    granted = services.offer_record_outcome(actor=personas["bank"], offer=made, granted=True, amount="400")
    assert granted.granted_on == TODAY


def test_financing_facilitated_sums_granted_offers(personas, need):
    bank2 = make_bank()
    other_need = financing_need(personas["firm_b"], amount="200")
    first = offer(personas["bank"], need)
    second = offer(bank2, other_need, amount="200")
    third = offer(personas["bank"], other_need, amount="150")
    for made, firm in ((first, "firm_a"), (second, "firm_b"), (third, "firm_b")):
        services.offer_accept(actor=personas[firm], offer=made)
    assert selectors.financing_facilitated() == {"count": 0, "amount": Decimal("0")}
    services.offer_record_outcome(
        actor=personas["bank"], offer=first, granted=True, amount="350.5", granted_on="2025-12-30"
    )
    services.offer_record_outcome(actor=bank2, offer=second, granted=True, amount="200")
    services.offer_record_outcome(actor=personas["bank"], offer=third, granted=False)
    assert selectors.financing_facilitated() == {"count": 2, "amount": Decimal("550.5")}
    assert selectors.financing_facilitated(year=2026) == {"count": 1, "amount": Decimal("200")}
    assert selectors.financing_facilitated(year=2025) == {"count": 1, "amount": Decimal("350.5")}
    assert FinancingOffer.objects.get(pk=third.pk).status == OfferStatus.NOT_GRANTED
