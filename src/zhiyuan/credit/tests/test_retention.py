"""Retention: the day each adverse record stops counting, and the purge that removes it (frozen clock)."""

import datetime as dt
import zoneinfo

import pytest
import time_machine

from zhiyuan.core.models import AuditEntry
from zhiyuan.credit import retention
from zhiyuan.credit.features import build_features
from zhiyuan.credit.models import (
    CourtKind,
    CourtRecord,
    Feed,
    FeedLoad,
    LoanRecord,
    Objection,
    ObjectionStatus,
    PenaltyRecord,
    PenaltySeverity,
    PurgeLog,
    RepaymentRecord,
)

D = dt.date
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
LAST_DAY = D(2025, 3, 31)  # the last day the expiring records count


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def test_retention_periods_follow_the_settings(settings):
    settings.ZHIYUAN_CREDIT_RETAIN_OVERDUE_DAYS = 5 * 365
    settings.ZHIYUAN_CREDIT_RETAIN_COURT_DAYS = 5 * 365
    settings.ZHIYUAN_CREDIT_RETAIN_DISHONEST_DAYS = 0
    settings.ZHIYUAN_CREDIT_DISCLOSE_ORDINARY_PENALTY_DAYS = 365
    settings.ZHIYUAN_CREDIT_DISCLOSE_SERIOUS_PENALTY_DAYS = 3 * 365
    paid = D(2020, 3, 10)
    assert retention.repayment_retain_until(overdue_days=10, paid_on=paid) == D(2025, 3, 9)
    assert retention.repayment_retain_until(overdue_days=0, paid_on=paid) is None  # nothing adverse
    assert retention.repayment_retain_until(overdue_days=40, paid_on=None) is None  # counts while unpaid
    judgment = {"kind": CourtKind.JUDGMENT, "filed_on": D(2019, 1, 1), "delisted_on": None}
    assert retention.court_retain_until(**judgment, closed_on=D(2020, 3, 10)) == D(2025, 3, 9)
    assert retention.court_retain_until(**judgment, closed_on=None) == D(2023, 12, 31)
    listing = {"kind": CourtKind.DISHONEST, "filed_on": D(2019, 1, 1), "closed_on": None}
    assert retention.court_retain_until(**listing, delisted_on=None) is None
    assert retention.court_retain_until(**listing, delisted_on=D(2024, 5, 1)) == D(2024, 5, 1)
    decided = D(2024, 3, 31)
    assert retention.penalty_disclosed_until(severity=PenaltySeverity.ORDINARY, decided_on=decided) == D(2025, 3, 31)
    assert retention.penalty_disclosed_until(severity=PenaltySeverity.SERIOUS, decided_on=decided) == D(2027, 3, 31)
    assert retention.penalty_disclosed_until(severity=PenaltySeverity.MINOR, decided_on=decided) == decided
    # Configurable per type.
    settings.ZHIYUAN_CREDIT_DISCLOSE_ORDINARY_PENALTY_DAYS = 30
    settings.ZHIYUAN_CREDIT_RETAIN_DISHONEST_DAYS = 10
    assert retention.penalty_disclosed_until(severity=PenaltySeverity.ORDINARY, decided_on=decided) == D(2024, 4, 30)
    assert retention.court_retain_until(**listing, delisted_on=D(2024, 5, 1)) == D(2024, 5, 11)


@pytest.fixture
def records(settings, personas, firm_a, firm_b):
    """Adverse records for firm_a, three of which count for the last time on LAST_DAY, with retention
    periods short enough for them to sit inside the features' windows."""
    settings.ZHIYUAN_CREDIT_RETAIN_OVERDUE_DAYS = 200
    settings.ZHIYUAN_CREDIT_RETAIN_COURT_DAYS = 400
    settings.ZHIYUAN_CREDIT_DISCLOSE_ORDINARY_PENALTY_DAYS = 365
    settings.ZHIYUAN_CREDIT_DISCLOSE_SERIOUS_PENALTY_DAYS = 3 * 365

    def load(feed):
        return FeedLoad.objects.create(feed=feed, source="测试数据", channel="file")

    loan = LoanRecord.objects.create(
        enterprise=firm_a,
        load=load(Feed.LOANS),
        lender="株洲农村商业银行",
        contract_no="C-1",
        amount=50,
        start_on=D(2024, 1, 1),
        end_on=D(2026, 1, 1),
    )

    def instalment(due, paid, overdue):
        return RepaymentRecord.objects.create(
            enterprise=firm_a,
            load=load(Feed.REPAYMENTS),
            loan=loan,
            due_on=due,
            paid_on=paid,
            amount=2,
            overdue_days=overdue,
            retain_until=retention.repayment_retain_until(overdue_days=overdue, paid_on=paid),
        )

    def case(kind, number, filed, closed=None, listed=None, delisted=None):
        return CourtRecord.objects.create(
            enterprise=firm_a,
            load=load(Feed.COURT),
            kind=kind,
            case_no=number,
            filed_on=filed,
            closed_on=closed,
            listed_on=listed,
            delisted_on=delisted,
            retain_until=retention.court_retain_until(
                kind=kind, filed_on=filed, closed_on=closed, delisted_on=delisted
            ),
        )

    def penalty(number, severity, decided):
        return PenaltyRecord.objects.create(
            enterprise=firm_a,
            load=load(Feed.PENALTIES),
            authority="株洲市生态环境局荷塘分局",
            decision_no=number,
            severity=severity,
            decided_on=decided,
            disclosed_until=retention.penalty_disclosed_until(severity=severity, decided_on=decided),
        )

    made = {
        # expire after LAST_DAY
        "late": instalment(D(2024, 9, 1), LAST_DAY - dt.timedelta(days=200), 11),
        "judgment": case(
            CourtKind.JUDGMENT, "(2023)湘0202民初5号", D(2023, 12, 1), closed=LAST_DAY - dt.timedelta(400)
        ),
        "penalty": penalty("株环罚〔2024〕1号", PenaltySeverity.ORDINARY, LAST_DAY - dt.timedelta(days=365)),
        # count longer
        "late_later": instalment(D(2024, 11, 20), D(2024, 12, 1), 11),
        "on_time": instalment(D(2024, 10, 1), D(2024, 9, 30), 0),
        "listing": case(CourtKind.DISHONEST, "(2024)湘0202执3号", D(2024, 5, 1), listed=D(2024, 6, 1)),
        "serious": penalty("株环罚〔2024〕2号", PenaltySeverity.SERIOUS, D(2024, 6, 1)),
    }
    for key in ("late", "late_later"):
        Objection.objects.create(
            enterprise=firm_a,
            feed=Feed.REPAYMENTS,
            record_id=made[key].pk,
            record_label=str(made[key]),
            reason="已按期还款",
            raised_by=personas["firm_a"],
            due_on=D(2025, 4, 30),
        )
    return made


def test_records_stop_counting_on_the_right_day_even_before_the_purge(records, firm_a):
    assert records["late"].retain_until == LAST_DAY
    assert records["judgment"].retain_until == LAST_DAY
    assert records["penalty"].disclosed_until == LAST_DAY
    assert records["listing"].retain_until is None and records["on_time"].retain_until is None

    on_last_day = build_features(LAST_DAY, [firm_a.pk]).loc[firm_a.pk]
    assert (on_last_day["overdue_events"], on_last_day["court_cases"], on_last_day["penalties"]) == (2, 1, 2)
    day_after = build_features(LAST_DAY + dt.timedelta(days=1), [firm_a.pk]).loc[firm_a.pk]
    assert (day_after["overdue_events"], day_after["court_cases"], day_after["penalties"]) == (1, 0, 1)
    assert day_after["dishonest_listed"] and day_after["serious_penalty"]
    # Nothing was purged: the records are still there, they just no longer count.
    assert RepaymentRecord.objects.filter(pk=records["late"].pk).exists()


def test_the_purge_removes_exactly_the_expired_records_and_logs_them(records, firm_a):
    kept = [records[key] for key in ("late_later", "on_time", "listing", "serious")]
    with time_machine.travel(at(LAST_DAY, 23), tick=False):
        assert retention.purge_expired() == {}
    assert not PurgeLog.objects.exists()
    assert RepaymentRecord.objects.filter(pk=records["late"].pk).exists()

    with time_machine.travel(at(LAST_DAY + dt.timedelta(days=1), 0), tick=False):
        removed = retention.purge_expired()
    assert removed == {Feed.REPAYMENTS: 1, Feed.COURT: 1, Feed.PENALTIES: 1}
    assert not RepaymentRecord.objects.filter(pk=records["late"].pk).exists()
    assert not CourtRecord.objects.filter(pk=records["judgment"].pk).exists()
    assert not PenaltyRecord.objects.filter(pk=records["penalty"].pk).exists()
    for record in kept:
        assert type(record).objects.filter(pk=record.pk).exists(), record

    log = PurgeLog.objects.get()
    assert log.cutoff == LAST_DAY + dt.timedelta(days=1) and log.total == 3
    assert log.removed[Feed.REPAYMENTS] == [
        {"id": records["late"].pk, "enterprise_id": firm_a.pk, "reference": "株洲农村商业银行 C-1 2024-09-01"}
    ]
    assert log.removed[Feed.COURT] == [
        {"id": records["judgment"].pk, "enterprise_id": firm_a.pk, "reference": "(2023)湘0202民初5号"}
    ]
    assert log.removed[Feed.PENALTIES][0]["reference"] == "株洲市生态环境局荷塘分局 株环罚〔2024〕1号"
    entry = AuditEntry.objects.get(action=retention.PURGE_ACTION)
    assert entry.object_id == str(log.pk) and entry.actor is None
    assert entry.changes == {"removed": {Feed.REPAYMENTS: 1, Feed.COURT: 1, Feed.PENALTIES: 1}}

    # The open objection on the removed record is answered; the one on a kept record stays open.
    answered = Objection.objects.get(record_id=records["late"].pk)
    assert answered.status == ObjectionStatus.UPHELD and answered.answer and answered.answered_at
    assert Objection.objects.get(record_id=records["late_later"].pk).status == ObjectionStatus.OPEN

    # A second run the same day finds nothing more.
    with time_machine.travel(at(LAST_DAY + dt.timedelta(days=1), 18), tick=False):
        assert retention.purge_expired() == {}
    assert PurgeLog.objects.count() == 1

    # Years later the rest expires too, except the live listing and unpaid/on-time instalments.
    removed = retention.purge_expired(today=D(2030, 1, 1))
    assert removed == {Feed.REPAYMENTS: 1, Feed.PENALTIES: 1}
    assert CourtRecord.objects.filter(pk=records["listing"].pk).exists()
    assert RepaymentRecord.objects.filter(pk=records["on_time"].pk).exists()
