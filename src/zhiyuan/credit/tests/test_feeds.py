"""The credit feed importers: a good import per feed, every kind of bad row (reported by row and
column, nothing written), dry runs, upserts, .xlsx and CSV files, headers, permissions, the
template round trip, the upload flow and the no-query-per-row rule."""

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from openpyxl import Workbook, load_workbook

from zhiyuan.conftest import make_uscc
from zhiyuan.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from zhiyuan.core.models import AuditEntry
from zhiyuan.credit import feeds
from zhiyuan.credit.feeds import (
    COLUMNS,
    LOAD_ACTION,
    feed_import,
    feed_template,
    feed_upload_check,
    feed_upload_confirm,
    feed_upload_create,
    feed_upload_discard,
    feed_upload_get_for,
)
from zhiyuan.credit.models import (
    CourtKind,
    CourtRecord,
    Feed,
    FeedLoad,
    FeedUpload,
    HeadcountRecord,
    HonourKind,
    HonourRecord,
    LoanRecord,
    Outcome,
    PenaltyRecord,
    PenaltySeverity,
    RepaymentRecord,
    TaxRecord,
    UtilityRecord,
)
from zhiyuan.enterprises.models import Enterprise

pytestmark = [pytest.mark.django_db, pytest.mark.collection_day]  # dates computed at import

RECORD_MODELS = [
    TaxRecord,
    HeadcountRecord,
    UtilityRecord,
    LoanRecord,
    RepaymentRecord,
    CourtRecord,
    PenaltyRecord,
    HonourRecord,
    Outcome,
    FeedLoad,
]
UNREGISTERED = make_uscc(999)
BAD_CHECK_DIGIT = make_uscc(1)[:-1] + ("0" if make_uscc(1)[-1] != "0" else "1")
TODAY = timezone.localdate()
THIS_YEAR = TODAY.year
NEXT_MONTH = (TODAY.replace(day=28) + dt.timedelta(days=5)).replace(day=1)
TOMORROW = TODAY + dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def english():
    """Messages are compared in English."""
    with translation.override("en"):
        yield


@pytest.fixture
def staff(personas):
    return personas["service_staff"]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in RECORD_MODELS}


def api(feed: str, rows: list, *, actor=None, dry_run: bool = False, source: str = "区税务局"):
    return feed_import(actor=actor, feed=feed, source=source, rows=rows, dry_run=dry_run, channel="api")


def xlsx_upload(headers: list, rows: list[list], name: str = "feed.xlsx") -> SimpleUploadedFile:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return SimpleUploadedFile(name, out.getvalue())


def csv_upload(text: str, encoding: str, name: str = "feed.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding))


def from_file(feed: str, upload, *, actor=None, dry_run: bool = False):
    return feed_import(actor=actor, feed=feed, source="区人社局", file=upload, dry_run=dry_run)


def loan_row(firm, **values) -> dict:
    row = {
        "uscc": firm.uscc,
        "lender": "株洲银行",
        "contract_no": "ZZ-001",
        "amount": 500,
        "start_on": "2023-01-10",
        "end_on": "2025-01-09",
    }
    row.update(values)
    return row


@pytest.fixture
def loan(firm_a):
    api(Feed.LOANS, [loan_row(firm_a)])
    return LoanRecord.objects.get()


# -- a good import per feed ------------------------------------------------------------------------


def test_tax_import_writes_records_one_load_and_one_audit_entry(staff, firm_a, firm_b):
    report = api(
        Feed.TAX,
        [
            {"uscc": firm_a.uscc, "year": 2023, "grade": "A", "tax_paid": "120.5"},
            {"uscc": firm_b.uscc.lower(), "year": "2024年", "grade": "b", "tax_paid": 8},
        ],
        actor=staff,
    )
    assert report.ok and report.written and (report.total, report.to_create, report.to_update) == (2, 2, 0)
    load = FeedLoad.objects.get()
    assert report.load == load
    assert (load.feed, load.source, load.channel, load.rows, load.loaded_by, load.is_synthetic) == (
        "tax",
        "区税务局",
        "api",
        2,
        staff,
        False,
    )
    a = TaxRecord.objects.get(enterprise=firm_a)
    assert (a.year, a.grade, a.tax_paid, a.load) == (2023, "A", Decimal("120.50"), load)
    b = TaxRecord.objects.get(enterprise=firm_b)
    assert (b.year, b.grade, b.tax_paid) == (2024, "B", Decimal("8.00"))
    entry = AuditEntry.objects.get(action=LOAD_ACTION)
    assert entry.object_id == str(load.pk) and entry.actor == staff
    assert entry.changes == {"created": [None, 2], "updated": [None, 0]}
    assert report.preview[0].action == "create" and report.preview[0].values[:3] == [firm_a.uscc, "2023", "A"]
    json.dumps(report.as_dict())


def test_headcount_accepts_every_month_spelling(firm_a):
    months = ["2024-01", "2024/2", "202403", 202404, dt.datetime(2024, 5, 17), "2024年6月", dt.date(2024, 7, 31)]
    report = api(Feed.HEADCOUNT, [{"uscc": firm_a.uscc, "month": m, "headcount": 10 + i} for i, m in enumerate(months)])
    assert report.ok, report.errors
    stored = dict(HeadcountRecord.objects.values_list("month", "headcount"))
    assert stored == {dt.date(2024, k, 1): 9 + k for k in range(1, 8)}


def test_utilities_update_only_the_given_amounts(firm_a):
    api(Feed.UTILITIES, [{"uscc": firm_a.uscc, "month": "2024-03", "water_m3": 100, "electricity_kwh": 5000}])
    first = FeedLoad.objects.get()
    report = api(Feed.UTILITIES, [{"uscc": firm_a.uscc, "month": "2024-03", "water_m3": 120}])
    assert (report.to_create, report.to_update) == (0, 1)
    record = UtilityRecord.objects.get()
    assert (record.water_m3, record.electricity_kwh) == (Decimal("120.00"), Decimal("5000.00"))
    assert record.load == report.load != first
    report = api(Feed.UTILITIES, [{"uscc": firm_a.uscc, "month": "2024-04", "electricity_kwh": 4000}])
    new = UtilityRecord.objects.get(month=dt.date(2024, 4, 1))
    assert (new.water_m3, new.electricity_kwh) == (None, Decimal("4000.00"))


def test_loans_are_written_with_their_dates(firm_a):
    report = api(Feed.LOANS, [loan_row(firm_a, settled_on="2024-12-20")])
    assert report.ok, report.errors
    loan = LoanRecord.objects.get()
    assert (loan.enterprise, loan.lender, loan.contract_no, loan.amount) == (firm_a, "株洲银行", "ZZ-001", 500)
    assert (loan.start_on, loan.end_on, loan.settled_on) == (
        dt.date(2023, 1, 10),
        dt.date(2025, 1, 9),
        dt.date(2024, 12, 20),
    )
    assert loan.load == report.load


def test_repayments_compute_overdue_days_and_retention(loan, settings):
    report = api(
        Feed.REPAYMENTS,
        [
            {
                "lender": "株洲银行",
                "contract_no": "ZZ-001",
                "due_on": "2023-02-10",
                "paid_on": "2023-02-10",
                "amount": 20,
            },
            {
                "lender": "株洲银行",
                "contract_no": "ZZ-001",
                "due_on": "2023-03-10",
                "paid_on": "2023-03-25",
                "amount": 20,
            },
            {
                "lender": "株洲银行",
                "contract_no": "ZZ-001",
                "due_on": "2023-04-10",
                "paid_on": "2023-04-01",
                "amount": 20,
            },
            {"lender": "株洲银行", "contract_no": "ZZ-001", "due_on": "2023-05-10", "amount": 20},
            {
                "uscc": loan.enterprise.uscc,
                "lender": "株洲银行",
                "contract_no": "ZZ-001",
                "due_on": "2023-06-10",
                "paid_on": "2023-06-12",
                "amount": 20,
                "overdue_days": 40,
            },
        ],
    )
    assert report.ok, report.errors
    by_due = {r.due_on.month: r for r in RepaymentRecord.objects.all()}
    assert all(
        r.loan == loan and r.enterprise_id == loan.enterprise_id and r.load == report.load for r in by_due.values()
    )
    assert (by_due[2].overdue_days, by_due[2].retain_until) == (0, None)
    retain = dt.timedelta(days=settings.ZHIYUAN_CREDIT_RETAIN_OVERDUE_DAYS)
    assert (by_due[3].overdue_days, by_due[3].retain_until) == (15, dt.date(2023, 3, 25) + retain)
    assert (by_due[4].overdue_days, by_due[4].retain_until) == (0, None)  # paid early
    assert (by_due[5].paid_on, by_due[5].overdue_days, by_due[5].retain_until) == (None, 0, None)  # unpaid
    assert (by_due[6].overdue_days, by_due[6].retain_until) == (40, dt.date(2023, 6, 12) + retain)


def test_court_records_accept_chinese_kinds_and_get_their_retention(firm_a, settings):
    report = api(
        Feed.COURT,
        [
            {
                "uscc": firm_a.uscc,
                "kind": "失信被执行人",
                "case_no": "(2023)湘0202执1号",
                "filed_on": "2023-01-05",
                "listed_on": "2023-02-01",
                "delisted_on": "2023-08-01",
            },
            {"uscc": firm_a.uscc, "kind": "失信", "case_no": "(2024)湘0202执9号", "filed_on": "2024-01-05"},
            {
                "uscc": firm_a.uscc,
                "kind": "判决",
                "case_no": "(2022)湘0202民3号",
                "filed_on": "2022-03-01",
                "closed_on": "2022-09-30",
                "amount": 30,
                "court": "荷塘区人民法院",
            },
            {"uscc": firm_a.uscc, "kind": "enforcement", "case_no": "(2024)湘0202执5号", "filed_on": "2024-02-01"},
        ],
    )
    assert report.ok, report.errors
    records = {r.case_no: r for r in CourtRecord.objects.all()}
    court_days = dt.timedelta(days=settings.ZHIYUAN_CREDIT_RETAIN_COURT_DAYS)
    delisted = records["(2023)湘0202执1号"]
    assert delisted.kind == CourtKind.DISHONEST
    assert delisted.retain_until == dt.date(2023, 8, 1) + dt.timedelta(
        days=settings.ZHIYUAN_CREDIT_RETAIN_DISHONEST_DAYS
    )
    assert records["(2024)湘0202执9号"].retain_until is None  # still listed
    judgment = records["(2022)湘0202民3号"]
    assert (judgment.kind, judgment.court, judgment.retain_until) == (
        CourtKind.JUDGMENT,
        "荷塘区人民法院",
        dt.date(2022, 9, 30) + court_days,
    )
    enforcement = records["(2024)湘0202执5号"]
    assert (enforcement.kind, enforcement.retain_until) == (CourtKind.ENFORCEMENT, dt.date(2024, 2, 1) + court_days)


def test_penalties_get_their_disclosure_period(firm_a, settings):
    report = api(
        Feed.PENALTIES,
        [
            {
                "uscc": firm_a.uscc,
                "authority": "市监局",
                "decision_no": "罚1",
                "severity": "严重",
                "decided_on": "2024-01-10",
            },
            {
                "uscc": firm_a.uscc,
                "authority": "市监局",
                "decision_no": "罚2",
                "severity": "一般",
                "decided_on": "2024-01-10",
                "amount": 1.5,
                "reason": "虚假宣传",
            },
            {
                "uscc": firm_a.uscc,
                "authority": "市监局",
                "decision_no": "罚3",
                "severity": "轻微",
                "decided_on": "2024-01-10",
            },
            {
                "uscc": firm_a.uscc,
                "authority": "环保局",
                "decision_no": "罚1",
                "severity": "ordinary",
                "decided_on": "2024-01-10",
                "disclosed_until": "2024-07-10",
            },
        ],
    )
    assert report.ok, report.errors
    got = {(p.authority, p.decision_no): p for p in PenaltyRecord.objects.all()}
    decided = dt.date(2024, 1, 10)
    serious = got[("市监局", "罚1")]
    assert (serious.severity, serious.disclosed_until) == (
        PenaltySeverity.SERIOUS,
        decided + dt.timedelta(days=settings.ZHIYUAN_CREDIT_DISCLOSE_SERIOUS_PENALTY_DAYS),
    )
    ordinary = got[("市监局", "罚2")]
    assert (ordinary.amount, ordinary.reason, ordinary.disclosed_until) == (
        Decimal("1.50"),
        "虚假宣传",
        decided + dt.timedelta(days=settings.ZHIYUAN_CREDIT_DISCLOSE_ORDINARY_PENALTY_DAYS),
    )
    assert got[("市监局", "罚3")].disclosed_until == decided
    assert got[("环保局", "罚1")].disclosed_until == dt.date(2024, 7, 10)


def test_honours_accept_chinese_kinds(firm_a):
    report = api(
        Feed.HONOURS,
        [
            {
                "uscc": firm_a.uscc,
                "kind": "高新技术企业",
                "name": "高新证书",
                "granted_on": "2023-11-01",
                "expires_on": "2026-10-31",
            },
            {"uscc": firm_a.uscc, "kind": "专精特新小巨人", "name": "第五批", "granted_on": "2023-07-01"},
            {"uscc": firm_a.uscc, "kind": "Award", "name": "市长质量奖", "granted_on": "2022-12-01"},
        ],
    )
    assert report.ok, report.errors
    kinds = dict(HonourRecord.objects.values_list("name", "kind"))
    assert kinds == {
        "高新证书": HonourKind.HIGH_TECH,
        "第五批": HonourKind.LITTLE_GIANT,
        "市长质量奖": HonourKind.AWARD,
    }
    assert HonourRecord.objects.get(name="高新证书").expires_on == dt.date(2026, 10, 31)


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        ("是", True),
        ("否", False),
        (1, True),
        (0, False),
        ("1", True),
        ("0", False),
        ("true", True),
        ("FALSE", False),
        (True, True),
        (False, False),
    ],
)
def test_outcome_default_flags(firm_a, flag, expected):
    report = api(Feed.OUTCOMES, [{"uscc": firm_a.uscc, "observed_on": "2023-06-30", "defaulted": flag}])
    assert report.ok, report.errors
    outcome = Outcome.objects.get()
    assert (outcome.observed_on, outcome.defaulted, outcome.load) == (dt.date(2023, 6, 30), expected, report.load)


# -- bad input: every error names the row and the column, and nothing is written ---------------------


def _bad_cases():
    a = make_uscc(1)
    loan = {"lender": "株洲银行", "contract_no": "ZZ-001", "amount": 20}
    return [
        (
            "unknown uscc",
            Feed.TAX,
            {"uscc": UNREGISTERED, "year": 2023, "grade": "A"},
            "uscc",
            "no enterprise with this USCC",
        ),
        ("check digit", Feed.TAX, {"uscc": BAD_CHECK_DIGIT, "year": 2023, "grade": "A"}, "uscc", "check character"),
        ("blank uscc", Feed.TAX, {"uscc": "", "year": 2023, "grade": "A"}, "uscc", "required"),
        ("grade", Feed.TAX, {"uscc": a, "year": 2023, "grade": "E"}, "grade", "A/B/M/C/D"),
        ("negative tax", Feed.TAX, {"uscc": a, "year": 2023, "tax_paid": -1}, "tax_paid", "negative"),
        ("year too early", Feed.TAX, {"uscc": a, "year": 1989, "grade": "A"}, "year", "between 1990"),
        ("year in future", Feed.TAX, {"uscc": a, "year": THIS_YEAR + 1, "grade": "A"}, "year", "between 1990"),
        ("year not a year", Feed.TAX, {"uscc": a, "year": "去年", "grade": "A"}, "year", "Enter a year"),
        ("no tax values", Feed.TAX, {"uscc": a, "year": 2023}, "grade", "Give the tax credit grade"),
        (
            "negative headcount",
            Feed.HEADCOUNT,
            {"uscc": a, "month": "2024-01", "headcount": -3},
            "headcount",
            "negative",
        ),
        (
            "fractional headcount",
            Feed.HEADCOUNT,
            {"uscc": a, "month": "2024-01", "headcount": 2.5},
            "headcount",
            "whole number",
        ),
        ("bad month", Feed.HEADCOUNT, {"uscc": a, "month": "2024-13", "headcount": 3}, "month", "Enter a month"),
        ("month text", Feed.HEADCOUNT, {"uscc": a, "month": "三月", "headcount": 3}, "month", "Enter a month"),
        (
            "future month",
            Feed.HEADCOUNT,
            {"uscc": a, "month": NEXT_MONTH.strftime("%Y-%m"), "headcount": 3},
            "month",
            "future",
        ),
        ("negative water", Feed.UTILITIES, {"uscc": a, "month": "2024-01", "water_m3": -1}, "water_m3", "negative"),
        ("no utility values", Feed.UTILITIES, {"uscc": a, "month": "2024-01"}, "water_m3", "Give the water use"),
        (
            "loan end before start",
            Feed.LOANS,
            {**loan_row_dict(a), "end_on": "2022-12-31"},
            "end_on",
            "before the start",
        ),
        ("negative loan", Feed.LOANS, {**loan_row_dict(a), "amount": -100}, "amount", "negative"),
        (
            "future loan",
            Feed.LOANS,
            {
                **loan_row_dict(a),
                "start_on": TOMORROW.isoformat(),
                "end_on": (TOMORROW + dt.timedelta(days=400)).isoformat(),
            },
            "start_on",
            "future",
        ),
        (
            "settled before start",
            Feed.LOANS,
            {**loan_row_dict(a), "settled_on": "2022-01-01"},
            "settled_on",
            "before it started",
        ),
        ("bad date", Feed.LOANS, {**loan_row_dict(a), "start_on": "2023-02-30"}, "start_on", "valid date"),
        (
            "unknown loan",
            Feed.REPAYMENTS,
            {**loan, "contract_no": "NOPE", "due_on": "2023-03-01"},
            "contract_no",
            "No loan with this lender",
        ),
        (
            "unknown lender",
            Feed.REPAYMENTS,
            {**loan, "lender": "别的银行", "due_on": "2023-03-01"},
            "contract_no",
            "No loan with this lender",
        ),
        (
            "future payment",
            Feed.REPAYMENTS,
            {**loan, "due_on": "2023-03-01", "paid_on": TOMORROW.isoformat()},
            "paid_on",
            "future",
        ),
        (
            "negative overdue",
            Feed.REPAYMENTS,
            {**loan, "due_on": "2023-03-01", "overdue_days": -1},
            "overdue_days",
            "negative",
        ),
        ("negative instalment", Feed.REPAYMENTS, {**loan, "due_on": "2023-03-01", "amount": -5}, "amount", "negative"),
        ("due before loan", Feed.REPAYMENTS, {**loan, "due_on": "2022-03-01"}, "due_on", "before the loan started"),
        (
            "other firm's loan",
            Feed.REPAYMENTS,
            {**loan, "due_on": "2023-03-01", "uscc": make_uscc(2)},
            "uscc",
            "another enterprise",
        ),
        (
            "court kind",
            Feed.COURT,
            {"uscc": a, "kind": "调解", "case_no": "X1", "filed_on": "2023-01-01"},
            "kind",
            "Unknown value",
        ),
        (
            "closed before filed",
            Feed.COURT,
            {"uscc": a, "kind": "判决", "case_no": "X1", "filed_on": "2023-01-01", "closed_on": "2022-12-01"},
            "closed_on",
            "closed before",
        ),
        (
            "delisted before listed",
            Feed.COURT,
            {
                "uscc": a,
                "kind": "失信被执行人",
                "case_no": "X1",
                "filed_on": "2023-01-01",
                "listed_on": "2023-03-01",
                "delisted_on": "2023-02-01",
            },
            "delisted_on",
            "before the listing",
        ),
        (
            "future filing",
            Feed.COURT,
            {"uscc": a, "kind": "判决", "case_no": "X1", "filed_on": TOMORROW.isoformat()},
            "filed_on",
            "future",
        ),
        (
            "negative case amount",
            Feed.COURT,
            {"uscc": a, "kind": "判决", "case_no": "X1", "filed_on": "2023-01-01", "amount": -1},
            "amount",
            "negative",
        ),
        (
            "severity",
            Feed.PENALTIES,
            {"uscc": a, "authority": "市监局", "decision_no": "罚1", "severity": "很严重", "decided_on": "2024-01-10"},
            "severity",
            "Unknown value",
        ),
        (
            "disclosure before decision",
            Feed.PENALTIES,
            {
                "uscc": a,
                "authority": "市监局",
                "decision_no": "罚1",
                "severity": "一般",
                "decided_on": "2024-01-10",
                "disclosed_until": "2023-12-31",
            },
            "disclosed_until",
            "ends before the decision",
        ),
        (
            "negative fine",
            Feed.PENALTIES,
            {
                "uscc": a,
                "authority": "市监局",
                "decision_no": "罚1",
                "severity": "一般",
                "decided_on": "2024-01-10",
                "amount": -2,
            },
            "amount",
            "negative",
        ),
        (
            "honour kind",
            Feed.HONOURS,
            {"uscc": a, "kind": "先进个人", "name": "X", "granted_on": "2023-01-01"},
            "kind",
            "Unknown value",
        ),
        (
            "expires before granted",
            Feed.HONOURS,
            {"uscc": a, "kind": "高新技术企业", "name": "X", "granted_on": "2023-01-01", "expires_on": "2022-01-01"},
            "expires_on",
            "expires before",
        ),
        (
            "default flag",
            Feed.OUTCOMES,
            {"uscc": a, "observed_on": "2023-06-30", "defaulted": "也许"},
            "defaulted",
            "yes or no",
        ),
        (
            "blank default flag",
            Feed.OUTCOMES,
            {"uscc": a, "observed_on": "2023-06-30", "defaulted": ""},
            "defaulted",
            "required",
        ),
        (
            "future observation",
            Feed.OUTCOMES,
            {"uscc": a, "observed_on": TOMORROW.isoformat(), "defaulted": "否"},
            "observed_on",
            "future",
        ),
    ]


def loan_row_dict(uscc: str) -> dict:
    return {
        "uscc": uscc,
        "lender": "株洲银行",
        "contract_no": "ZZ-002",
        "amount": 100,
        "start_on": "2023-01-10",
        "end_on": "2025-01-09",
    }


GOOD_ROWS = {
    Feed.TAX: lambda a: {"uscc": a, "year": 2022, "grade": "B"},
    Feed.HEADCOUNT: lambda a: {"uscc": a, "month": "2023-12", "headcount": 7},
    Feed.UTILITIES: lambda a: {"uscc": a, "month": "2023-12", "water_m3": 7},
    Feed.LOANS: lambda a: {**loan_row_dict(a), "contract_no": "ZZ-GOOD"},
    Feed.REPAYMENTS: lambda a: {"lender": "株洲银行", "contract_no": "ZZ-001", "due_on": "2023-12-10", "amount": 20},
    Feed.COURT: lambda a: {"uscc": a, "kind": "判决", "case_no": "GOOD", "filed_on": "2023-01-01"},
    Feed.PENALTIES: lambda a: {
        "uscc": a,
        "authority": "市监局",
        "decision_no": "GOOD",
        "severity": "一般",
        "decided_on": "2023-01-01",
    },
    Feed.HONOURS: lambda a: {"uscc": a, "kind": "award", "name": "GOOD", "granted_on": "2023-01-01"},
    Feed.OUTCOMES: lambda a: {"uscc": a, "observed_on": "2022-12-31", "defaulted": 0},
}


@pytest.mark.parametrize(("case", "feed", "row", "column", "fragment"), _bad_cases(), ids=[c[0] for c in _bad_cases()])
def test_a_bad_row_is_reported_by_row_and_column_and_nothing_is_written(
    firm_a, firm_b, loan, case, feed, row, column, fragment
):
    before = counts()
    report = api(feed, [GOOD_ROWS[feed](firm_a.uscc), row])
    assert not report.ok and not report.written and report.load is None
    assert [(e.row, e.column) for e in report.errors] == [(2, column)], report.errors
    assert fragment.lower() in report.errors[0].message.lower()
    assert report.bad_rows == [2]
    assert counts() == before


@pytest.mark.parametrize("feed", list(Feed.values))
def test_a_duplicate_natural_key_in_one_upload_is_an_error(firm_a, loan, feed):
    row = GOOD_ROWS[feed](firm_a.uscc)
    before = counts()
    report = api(feed, [row, dict(row)])
    assert len(report.errors) == 1 and report.errors[0].row == 2
    assert "already on row 1" in report.errors[0].message
    assert counts() == before


def test_every_error_of_every_row_is_collected(firm_a):
    report = api(
        Feed.LOANS,
        [
            loan_row(firm_a),
            {
                "uscc": UNREGISTERED,
                "lender": "",
                "contract_no": "C2",
                "amount": -1,
                "start_on": "2023-05-01",
                "end_on": "2023-04-01",
            },
            {
                "uscc": firm_a.uscc,
                "lender": "银行",
                "contract_no": "C3",
                "amount": "很多",
                "start_on": "昨天",
                "end_on": "2024-01-01",
            },
        ],
    )
    assert [(e.row, e.column) for e in report.errors] == [
        (2, "uscc"),
        (2, "lender"),
        (2, "amount"),
        (2, "end_on"),
        (3, "amount"),
        (3, "start_on"),
    ]
    assert LoanRecord.objects.count() == 0 and FeedLoad.objects.count() == 0


def test_a_loan_or_penalty_cannot_move_to_another_firm(firm_a, firm_b, loan):
    report = api(Feed.LOANS, [loan_row(firm_b)])
    assert [(e.row, e.column) for e in report.errors] == [(1, "uscc")]
    assert "another enterprise" in report.errors[0].message
    assert LoanRecord.objects.get().enterprise == firm_a and FeedLoad.objects.count() == 1
    penalty = GOOD_ROWS[Feed.PENALTIES]
    api(Feed.PENALTIES, [penalty(firm_a.uscc)])
    report = api(Feed.PENALTIES, [penalty(firm_b.uscc)])
    assert [(e.row, e.column) for e in report.errors] == [(1, "uscc")]
    assert PenaltyRecord.objects.get().enterprise == firm_a and FeedLoad.objects.count() == 2


def test_api_rows_that_are_not_objects_are_errors(firm_a):
    report = api(Feed.TAX, [GOOD_ROWS[Feed.TAX](firm_a.uscc), "A,2023"])
    assert report.total == 2 and [e.row for e in report.errors] == [2] and TaxRecord.objects.count() == 0
    with pytest.raises(ValidationFailed) as raised:
        api(Feed.TAX, [])
    assert "rows" in raised.value.fields


@pytest.mark.parametrize(("source", "message"), [("", "source"), ("   ", "source"), ("x" * 101, "100")])
def test_the_source_is_required_and_short(firm_a, source, message):
    with pytest.raises(ValidationFailed) as raised:
        api(Feed.TAX, [GOOD_ROWS[Feed.TAX](firm_a.uscc)], source=source)
    assert "source" in raised.value.fields and message in str(raised.value.fields["source"][0])
    assert FeedLoad.objects.count() == 0


def test_unknown_feed_and_channel_are_refused(firm_a):
    with pytest.raises(ValidationFailed) as raised:
        api("weather", [GOOD_ROWS[Feed.TAX](firm_a.uscc)])
    assert "feed" in raised.value.fields
    with pytest.raises(ValidationFailed) as raised:
        feed_import(actor=None, feed="tax", source="x", rows=[{}], dry_run=True, channel="fax")
    assert "channel" in raised.value.fields


# -- dry run and upsert ----------------------------------------------------------------------------


def test_dry_run_writes_nothing_and_counts_what_it_would_do(firm_a, firm_b):
    api(Feed.TAX, [{"uscc": firm_a.uscc, "year": 2023, "grade": "A"}])
    before = counts()
    report = api(
        Feed.TAX,
        [{"uscc": firm_a.uscc, "year": 2023, "grade": "B"}, {"uscc": firm_b.uscc, "year": 2023, "grade": "C"}],
        dry_run=True,
    )
    assert report.ok and report.dry_run and not report.written and report.load is None
    assert (report.to_create, report.to_update) == (1, 1)
    assert [p.action for p in report.preview] == ["update", "create"]
    assert counts() == before and TaxRecord.objects.get().grade == "A"


def test_upsert_updates_and_repoints_the_load(firm_a, staff):
    first = api(Feed.TAX, [{"uscc": firm_a.uscc, "year": 2023, "grade": "A", "tax_paid": 10}])
    second = api(Feed.TAX, [{"uscc": firm_a.uscc, "year": 2023, "grade": "C"}], actor=staff)
    assert (second.to_create, second.to_update) == (0, 1)
    record = TaxRecord.objects.get()
    assert (record.grade, record.tax_paid, record.load) == ("C", Decimal("10.00"), second.load)
    assert first.load != second.load and FeedLoad.objects.count() == 2
    entry = AuditEntry.objects.filter(action=LOAD_ACTION).order_by("-pk").first()
    assert entry.changes == {"created": [None, 0], "updated": [None, 1]}


def test_upsert_recomputes_retention(loan, settings):
    row = {"lender": "株洲银行", "contract_no": "ZZ-001", "due_on": "2023-03-10", "amount": 20}
    api(Feed.REPAYMENTS, [row])
    assert RepaymentRecord.objects.get().retain_until is None
    report = api(Feed.REPAYMENTS, [{**row, "paid_on": "2023-04-09"}])
    record = RepaymentRecord.objects.get()
    assert (record.overdue_days, record.load) == (30, report.load)
    assert record.retain_until == dt.date(2023, 4, 9) + dt.timedelta(days=settings.ZHIYUAN_CREDIT_RETAIN_OVERDUE_DAYS)


# -- files -----------------------------------------------------------------------------------------


def test_xlsx_with_chinese_headers_extra_columns_and_excel_row_numbers(firm_a, firm_b):
    upload = xlsx_upload(
        ["序号", "统一社会信用代码", "企业名称", "月份", "社保缴纳人数"],
        [
            [1, firm_a.uscc, "株硬", dt.datetime(2024, 1, 1), 100],
            [None, None, None, None, None],
            [2, firm_b.uscc, "飞鹿", "2024-01", 40.0],
            [3, UNREGISTERED, "无名", 202401, 5],
        ],
    )
    report = from_file(Feed.HEADCOUNT, upload)
    assert [(e.row, e.column) for e in report.errors] == [(5, "统一社会信用代码")]
    assert report.total == 3 and HeadcountRecord.objects.count() == 0
    good = xlsx_upload(
        ["统一社会信用代码", "月份", "社保缴纳人数"],
        [[firm_a.uscc, dt.datetime(2024, 1, 1), 100], [firm_b.uscc, "2024-01", 40.0]],
        name="人社.xlsx",
    )
    report = from_file(Feed.HEADCOUNT, good)
    assert report.ok and report.written
    assert report.load.file_name == "人社.xlsx" and report.load.channel == "file"
    assert dict(HeadcountRecord.objects.values_list("enterprise_id", "headcount")) == {firm_a.pk: 100, firm_b.pk: 40}


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_in_utf8_with_or_without_bom_and_gb18030(firm_a, encoding):
    text = (
        "统一社会信用代码,年度,纳税信用等级,纳税额（万元）,备注\r\n"
        f"{firm_a.uscc},2023,A,88.8,好企业\r\n"
        "\r\n"
        f"{firm_a.uscc},2022,M,,\r\n"
    )
    report = from_file(Feed.TAX, csv_upload(text, encoding))
    assert report.ok, report.errors
    assert dict(TaxRecord.objects.values_list("year", "grade")) == {2023: "A", 2022: "M"}
    assert TaxRecord.objects.get(year=2022).tax_paid is None


def test_csv_row_numbers_count_the_header_as_row_1(firm_a):
    text = f"uscc,year,grade\n{firm_a.uscc},2023,A\n\n{firm_a.uscc},2024,Z\n"
    report = from_file(Feed.TAX, csv_upload(text, "utf-8"))
    assert [(e.row, e.column) for e in report.errors] == [(4, "纳税信用等级")]


def test_a_missing_required_column_is_a_file_error_naming_it(firm_a):
    upload = xlsx_upload(["统一社会信用代码", "月份"], [[firm_a.uscc, "2024-01"]])
    with pytest.raises(ValidationFailed) as raised:
        from_file(Feed.HEADCOUNT, upload)
    assert "file" in raised.value.fields and "社保缴纳人数" in str(raised.value.message)
    with pytest.raises(ValidationFailed) as raised:
        from_file(Feed.UTILITIES, csv_upload(f"统一社会信用代码,月份,用气量\n{firm_a.uscc},2024-01,3\n", "utf-8"))
    assert "用水量(立方米)" in str(raised.value.message) and "用电量(千瓦时)" in str(raised.value.message)
    assert FeedLoad.objects.count() == 0


def test_a_header_with_another_unit_is_not_taken_for_ours(firm_a):
    text = f"统一社会信用代码,年度,纳税额(元)\n{firm_a.uscc},2023,880000\n"
    with pytest.raises(ValidationFailed) as raised:
        from_file(Feed.TAX, csv_upload(text, "utf-8"))
    assert "纳税额(万元)" in str(raised.value.message)


def test_headers_only_and_empty_files_are_refused(firm_a):
    with pytest.raises(ValidationFailed, match="no rows"):
        from_file(Feed.TAX, csv_upload("uscc,year,grade\n", "utf-8"))
    with pytest.raises(ValidationFailed, match="empty"):
        from_file(Feed.TAX, csv_upload("", "utf-8"))


def test_oversize_and_non_spreadsheet_files_are_refused(firm_a, settings):
    upload = xlsx_upload(["统一社会信用代码", "年度", "纳税信用等级"], [[firm_a.uscc, 2023, "A"]])
    settings.ZHIYUAN_IMPORT_MAX_BYTES = upload.size - 1
    with pytest.raises(ValidationFailed) as raised:
        from_file(Feed.TAX, upload)
    assert "largest spreadsheet accepted" in str(raised.value.message)
    settings.ZHIYUAN_IMPORT_MAX_BYTES = 10 * 1024 * 1024
    with pytest.raises(ValidationFailed, match="not an Excel"):
        from_file(Feed.TAX, SimpleUploadedFile("feed.xlsx", b"PK\x03\x04 not really a workbook"))
    with pytest.raises(ValidationFailed, match=r"\.xls"):
        from_file(Feed.TAX, SimpleUploadedFile("feed.xls", b"\xd0\xcf\x11\xe0 old excel"))
    assert FeedLoad.objects.count() == 0


# -- permissions -----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["firm_a", "bank", "specialist", "leader"])
def test_who_may_not_import(personas, firm_a, persona):
    with pytest.raises(PermissionDeniedError):
        api(Feed.TAX, [GOOD_ROWS[Feed.TAX](firm_a.uscc)], actor=personas[persona], dry_run=True)
    assert FeedLoad.objects.count() == 0


@pytest.mark.parametrize("persona", ["service_staff", "admin"])
def test_who_may_import(personas, firm_a, persona):
    report = api(Feed.TAX, [GOOD_ROWS[Feed.TAX](firm_a.uscc)], actor=personas[persona])
    assert report.written and report.load.loaded_by == personas[persona]


# -- the template ----------------------------------------------------------------------------------


@pytest.mark.parametrize("feed", list(Feed.values))
def test_template_round_trip(firm_a, feed):
    if feed == Feed.REPAYMENTS:
        fill_and_import(Feed.LOANS, firm_a)
    report = fill_and_import(feed, firm_a)
    assert report.ok, report.errors
    assert report.written and report.to_create == 1
    model = feeds.SPECS[feed].model
    assert model.objects.filter(load=report.load).count() == 1


def fill_and_import(feed: str, firm):
    workbook = load_workbook(io.BytesIO(feed_template(feed)))
    sheet = workbook.active
    headers = [cell.value for cell in sheet[1]]
    assert headers == [column.header for column in COLUMNS[feed]]
    assert sheet.max_row == 2
    sheet.cell(row=2, column=headers.index("统一社会信用代码") + 1).value = firm.uscc
    out = io.BytesIO()
    workbook.save(out)
    return from_file(feed, SimpleUploadedFile(f"{feed}.xlsx", out.getvalue()))


def test_template_example_is_importable_but_names_an_unregistered_firm(firm_a):
    report = from_file(Feed.TAX, SimpleUploadedFile("tax.xlsx", feed_template(Feed.TAX)))
    assert [(e.row, e.column) for e in report.errors] == [(2, "统一社会信用代码")]
    assert "no enterprise" in report.errors[0].message


# -- the upload flow -------------------------------------------------------------------------------


def test_upload_check_then_confirm(staff, firm_a, media, django_capture_on_commit_callbacks):
    upload_file = xlsx_upload(["统一社会信用代码", "观察日期", "是否违约"], [[firm_a.uscc, dt.date(2023, 6, 30), "否"]])
    upload = feed_upload_create(actor=staff, feed=Feed.OUTCOMES, source="人行征信", file=upload_file)
    assert upload.state == FeedUpload.State.PENDING and upload.original_name == "feed.xlsx"
    stored = media / upload.file.name
    assert stored.exists() and upload.file.name.startswith("credit/uploads/")
    report = feed_upload_check(actor=staff, upload=upload)
    assert report.ok and report.dry_run and report.to_create == 1 and Outcome.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        report = feed_upload_confirm(actor=staff, upload=upload)
    assert report.written and Outcome.objects.get().load == report.load
    assert (upload.state, upload.load) == (FeedUpload.State.IMPORTED, report.load)
    assert report.load.source == "人行征信" and report.load.file_name == "feed.xlsx"
    assert not stored.exists()
    with pytest.raises(ConflictError):
        feed_upload_confirm(actor=staff, upload=upload)


def test_a_bad_upload_stays_pending_and_can_be_discarded(staff, firm_a, media, django_capture_on_commit_callbacks):
    text = f"统一社会信用代码,观察日期,是否违约\n{firm_a.uscc},2023-06-30,也许\n"
    upload = feed_upload_create(actor=staff, feed=Feed.OUTCOMES, source="人行", file=csv_upload(text, "gb18030"))
    assert upload.file.name.endswith(".csv")
    report = feed_upload_confirm(actor=staff, upload=upload)
    assert [(e.row, e.column) for e in report.errors] == [(2, "是否违约")]
    assert upload.state == FeedUpload.State.PENDING and FeedLoad.objects.count() == 0
    stored = media / upload.file.name
    with django_capture_on_commit_callbacks(execute=True):
        feed_upload_discard(actor=staff, upload=upload)
    assert upload.state == FeedUpload.State.DISCARDED and not stored.exists()
    with pytest.raises(ConflictError):
        feed_upload_check(actor=staff, upload=upload)


def test_upload_access_is_for_credit_managers_only(personas, staff, firm_a, media):
    upload = feed_upload_create(
        actor=staff, feed=Feed.TAX, source="税务", file=csv_upload(f"uscc,year,grade\n{firm_a.uscc},2023,A\n", "utf-8")
    )
    assert feed_upload_get_for(personas["admin"], upload.pk) == upload
    for persona in ("firm_a", "bank", "leader"):
        with pytest.raises(NotFoundError):
            feed_upload_get_for(personas[persona], upload.pk)
        with pytest.raises(PermissionDeniedError):
            feed_upload_check(actor=personas[persona], upload=upload)
    with pytest.raises(NotFoundError):
        feed_upload_get_for(staff, 987654)
    with pytest.raises(PermissionDeniedError):
        feed_upload_create(actor=personas["bank"], feed=Feed.TAX, source="税务", file=csv_upload("uscc\n", "utf-8"))
    with pytest.raises(ValidationFailed) as raised:
        feed_upload_create(actor=staff, feed=Feed.TAX, source=" ", file=csv_upload("uscc\n", "utf-8"))
    assert "source" in raised.value.fields


# -- no query per row -------------------------------------------------------------------------------


def make_firms(count: int, industry) -> list[Enterprise]:
    firms = [Enterprise(uscc=make_uscc(10_000 + k), name=f"测试企业{k}", industry=industry) for k in range(count)]
    Enterprise.objects.bulk_create(firms)
    return list(Enterprise.objects.filter(uscc__in=[f.uscc for f in firms]))


def test_a_large_import_takes_a_few_queries_whatever_its_size(firm_a, django_assert_max_num_queries):
    firms = make_firms(1000, firm_a.industry)
    rows = [
        {"uscc": firm.uscc, "month": f"2024-{month:02d}", "headcount": 10 + month}
        for firm in firms
        for month in range(1, 3)
    ]
    with django_assert_max_num_queries(40):
        report = api(Feed.HEADCOUNT, rows)
    assert report.ok and report.to_create == 2000 and HeadcountRecord.objects.count() == 2000
    rows = [{**row, "headcount": 99} for row in rows]
    with django_assert_max_num_queries(60):
        report = api(Feed.HEADCOUNT, rows)
    assert report.to_update == 2000
    assert set(HeadcountRecord.objects.values_list("headcount", "load_id").distinct()) == {(99, report.load.pk)}


def test_upsert_of_many_rows_writes_each_rows_own_values(firm_a, firm_b):
    """Many rows updated at once, with different dates, amounts and blanks per row."""
    api(
        Feed.LOANS,
        [loan_row(firm_a, contract_no=f"C{k}", amount=100 + k) for k in range(5)]
        + [loan_row(firm_b, contract_no="B1", settled_on="2024-06-30")],
    )
    report = api(
        Feed.LOANS,
        [
            loan_row(firm_a, contract_no="C0", amount="1,234.5", settled_on="2024-03-01"),
            loan_row(firm_a, contract_no="C1", amount=0, end_on="2026-01-31"),
            loan_row(firm_a, contract_no="C2", amount=102, start_on="2023-02-01"),
            loan_row(firm_b, contract_no="B1"),
            loan_row(firm_b, contract_no="B2", amount=7),
        ],
    )
    assert (report.to_create, report.to_update) == (1, 4)
    loans = {loan.contract_no: loan for loan in LoanRecord.objects.all()}
    assert (loans["C0"].amount, loans["C0"].settled_on) == (Decimal("1234.50"), dt.date(2024, 3, 1))
    assert (loans["C1"].amount, loans["C1"].end_on) == (Decimal("0.00"), dt.date(2026, 1, 31))
    assert (loans["C2"].amount, loans["C2"].start_on) == (Decimal("102.00"), dt.date(2023, 2, 1))
    assert loans["B1"].settled_on is None and loans["B1"].load == report.load
    assert loans["C3"].amount == Decimal("103.00") and loans["C3"].load != report.load
    assert {loans[c].load for c in ("C0", "C1", "C2", "B1", "B2")} == {report.load}


def test_a_confirmation_that_loses_the_race_writes_nothing(staff, firm_a, media, monkeypatch):
    text = f"uscc,year,grade\n{firm_a.uscc},2023,A\n"
    upload = feed_upload_create(actor=staff, feed=Feed.TAX, source="税务", file=csv_upload(text, "utf-8"))
    FeedUpload.objects.filter(pk=upload.pk).update(state=FeedUpload.State.DISCARDED)
    monkeypatch.setattr(feeds, "_refresh_pending", lambda upload: None)  # as if discarded just after the check
    with pytest.raises(ConflictError):
        feed_upload_confirm(actor=staff, upload=upload)
    assert FeedLoad.objects.count() == 0 and TaxRecord.objects.count() == 0
    assert not AuditEntry.objects.filter(action=LOAD_ACTION).exists()
