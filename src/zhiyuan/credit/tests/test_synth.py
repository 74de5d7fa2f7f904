"""The synthetic data generator and `zhiyuan credit`: labelled, reproducible, idempotent, never touching
real loads; and every subcommand of the command."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from zhiyuan.core.models import AuditEntry
from zhiyuan.credit import retention
from zhiyuan.credit.models import (
    CourtKind,
    CourtRecord,
    Feed,
    FeedLoad,
    HeadcountRecord,
    HonourRecord,
    LoanRecord,
    Objection,
    ObjectionStatus,
    Outcome,
    PenaltyRecord,
    PurgeLog,
    RepaymentRecord,
    ScoreModel,
    ScoringRun,
    TaxRecord,
    UtilityRecord,
)
from zhiyuan.credit.synth import CHANNEL, SOURCE, previous_month_ends, synth_feeds
from zhiyuan.credit.tests.test_scoring import synthetic_firms
from zhiyuan.enterprises.models import Enterprise

AS_OF = dt.date(2025, 6, 15)
RECORDS = [TaxRecord, HeadcountRecord, UtilityRecord, LoanRecord, RepaymentRecord, CourtRecord, PenaltyRecord]


def snapshot() -> dict:
    """Every synthetic record's content (not its id)."""
    return {
        "tax": sorted(TaxRecord.objects.values_list("enterprise_id", "year", "grade", "tax_paid")),
        "headcount": sorted(HeadcountRecord.objects.values_list("enterprise_id", "month", "headcount")),
        "utilities": sorted(UtilityRecord.objects.values_list("enterprise_id", "month", "water_m3", "electricity_kwh")),
        "loans": sorted(LoanRecord.objects.values_list("contract_no", "amount", "start_on", "end_on", "settled_on")),
        "repayments": sorted(
            RepaymentRecord.objects.values_list("loan__contract_no", "due_on", "paid_on", "overdue_days")
        ),
        "court": sorted(CourtRecord.objects.values_list("enterprise_id", "kind", "case_no", "filed_on", "delisted_on")),
        "penalties": sorted(PenaltyRecord.objects.values_list("decision_no", "severity", "decided_on")),
        "honours": sorted(HonourRecord.objects.values_list("enterprise_id", "kind", "granted_on")),
        "outcomes": sorted(Outcome.objects.values_list("enterprise_id", "observed_on", "defaulted")),
    }


def test_synth_is_labelled_reproducible_and_leaves_real_data_alone(personas, firm_a, firm_b):
    ids = synthetic_firms(120)
    real_load = FeedLoad.objects.create(feed=Feed.TAX, source="区税务局", channel="file")
    real = TaxRecord.objects.create(enterprise=firm_a, load=real_load, year=2024, grade="A", tax_paid=88)

    first = synth_feeds(as_of=AS_OF, seed=5)  # every firm in the registry without real data
    assert first.firms == 121 and first.skipped == 1  # firm_b is in, firm_a (real tax data) is not
    assert first.observation_dates == [dt.date(2023, 6, 15), dt.date(2024, 6, 15)]
    assert first.months == 39  # 36, stretched to 15 months before the first observation date
    synthetic = FeedLoad.objects.filter(is_synthetic=True)
    assert synthetic.count() == 9
    assert set(synthetic.values_list("channel", "source")) == {(CHANNEL, SOURCE)}
    for load in synthetic:
        assert load.rows == first.rows[load.feed] > 0, load.feed
    assert HeadcountRecord.objects.count() == first.rows[Feed.HEADCOUNT]
    # The real record and its load are untouched; firm_a got nothing synthetic.
    real.refresh_from_db()
    assert (real.load_id, real.grade, real.tax_paid) == (real_load.pk, "A", 88)
    for model in [*RECORDS, Outcome]:
        assert not model.objects.filter(enterprise=firm_a, load__is_synthetic=True).exists(), model

    # One outcome per firm and observation date; a bad rate in the intended range.
    assert first.outcomes == Outcome.objects.count() == 2 * 121
    assert 0.03 <= first.bad_rate <= 0.18
    assert set(Outcome.objects.values_list("observed_on", flat=True)) == set(first.observation_dates)
    # Monthly feeds cover the window, and nothing is dated after as_of.
    months = HeadcountRecord.objects.values_list("month", flat=True)
    assert min(months) == dt.date(2022, 3, 1) and max(months) == dt.date(2025, 5, 1)
    assert not PenaltyRecord.objects.filter(decided_on__gt=AS_OF).exists()
    assert not RepaymentRecord.objects.filter(paid_on__gt=AS_OF).exists()
    # Retention dates as retention.py computes them.
    for record in CourtRecord.objects.all():
        assert record.retain_until == retention.court_retain_until(
            kind=record.kind, filed_on=record.filed_on, closed_on=record.closed_on, delisted_on=record.delisted_on
        )
    for record in PenaltyRecord.objects.all():
        assert record.disclosed_until == retention.penalty_disclosed_until(
            severity=record.severity, decided_on=record.decided_on
        )
    for record in RepaymentRecord.objects.filter(overdue_days__gt=0).exclude(paid_on=None):
        assert record.retain_until == retention.repayment_retain_until(
            overdue_days=record.overdue_days, paid_on=record.paid_on
        )
    assert RepaymentRecord.objects.filter(overdue_days__gt=90).exists()  # defaults show in the later feeds
    assert CourtRecord.objects.filter(kind=CourtKind.DISHONEST).exists()
    assert LoanRecord.objects.exclude(settled_on=None).exists()

    # An open objection on a synthetic record is answered when the record is regenerated.
    record = HeadcountRecord.objects.filter(load__is_synthetic=True).first()
    objection = Objection.objects.create(
        enterprise=record.enterprise,
        feed=Feed.HEADCOUNT,
        record_id=record.pk,
        record_label=str(record),
        reason="人数有误",
        raised_by=personas["admin"],
    )
    before = snapshot()
    again = synth_feeds(as_of=AS_OF, seed=5)
    assert snapshot() == before  # the same arguments give the same data…
    assert again.deleted == first.total_rows and again.rows == first.rows
    assert FeedLoad.objects.filter(is_synthetic=True).count() == 9  # …replacing, not adding to, the old loads
    assert FeedLoad.objects.filter(pk=real_load.pk).exists() and TaxRecord.objects.filter(pk=real.pk).exists()
    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.UPHELD

    # Another seed, other data; a subset of firms, only those.
    synth_feeds(as_of=AS_OF, seed=6)
    assert snapshot() != before
    subset = synth_feeds(enterprise_ids=ids[:10] + [firm_a.pk], as_of=AS_OF, months=12, seed=5)
    assert (subset.firms, subset.skipped) == (10, 1)
    assert set(Outcome.objects.values_list("enterprise_id", flat=True)) == set(ids[:10])
    assert subset.months == 39  # the observation dates still need their history


def test_observation_dates_and_their_history(db):
    synthetic_firms(20)
    dates = [dt.date(2024, 12, 31)]
    report = synth_feeds(as_of=AS_OF, months=6, observation_dates=dates, seed=1)
    assert report.outcomes == 20 and report.observation_dates == dates
    assert report.months == 21  # 15 months before December 2024, up to May 2025
    with pytest.raises(ValueError):
        synth_feeds(as_of=AS_OF, observation_dates=[dt.date(2025, 7, 1)])


def test_previous_month_ends():
    assert previous_month_ends(dt.date(2025, 3, 15), 3) == [
        dt.date(2024, 12, 31),
        dt.date(2025, 1, 31),
        dt.date(2025, 2, 28),
    ]
    assert previous_month_ends(dt.date(2024, 3, 31), 1) == [dt.date(2024, 2, 29)]


def run(*args: str) -> str:
    out = StringIO()
    with translation.override("en"):
        call_command("credit", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_the_credit_command(personas, firm_a, tmp_path):
    synthetic_firms(300, demo=True)
    with pytest.raises(CommandError, match="No scorecard model is active"):
        run("score")
    assert "No model has been trained yet" in run("models")

    out = run("synth", "--demo-only", "--as-of", "2025-06-15", "--seed", "3")
    assert "for 300 firms" in out and "Model v1 trained and activated" in out
    assert Outcome.objects.count() == 600 and not Outcome.objects.filter(enterprise=firm_a).exists()
    runs = list(ScoringRun.objects.order_by("pk").values_list("as_of", flat=True))
    assert runs == [*previous_month_ends(AS_OF, 5), AS_OF]  # the trend's history, oldest first
    assert ScoringRun.objects.get(as_of=AS_OF).firms == Enterprise.objects.count()
    v1 = ScoreModel.objects.get(version=1)
    assert v1.is_active and v1.is_synthetic and v1.note == "合成数据演示模型"

    out = run("train", "--folds", "3", "--pdo", "40", "--note", "by hand")
    assert "Model v2 trained" in out and "Cross-validated (3 folds × 1)" in out and "AUC" in out
    assert "Dropped:" in out and "Not activated" in out
    v2 = ScoreModel.objects.get(version=2)
    assert not v2.is_active and v2.spec["scaling"]["pdo"] == 40 and v2.note == "by hand" and v2.is_synthetic

    assert "Model v2 is now active" in run("activate", "2")
    assert list(ScoreModel.objects.filter(is_active=True)) == [v2]
    assert AuditEntry.objects.filter(action="credit.model.activated", object_id=str(v2.pk)).exists()
    with pytest.raises(CommandError, match="no model version 9"):
        run("activate", "9")
    listing = run("models")
    assert "v2" in listing and "active" in listing and "v1" in listing and "synthetic" in listing

    out = run("score", "--as-of", "2025-06-30")
    assert f"Scored {Enterprise.objects.count()} firms as of 2025-06-30 with model v2" in out
    assert "Grades: AAA" in out and "PSI of the score" in out
    with pytest.raises(CommandError, match="Not a date"):
        run("score", "--as-of", "30/06/2025")

    assert "Nothing has expired" in run("purge", "--today", "2022-01-01")
    out = run("purge", "--today", "2031-01-01")
    assert "records purged and logged" in out and PurgeLog.objects.count() == 1

    # Import: all rows or none, through the feeds' importer.
    good = tmp_path / "tax.csv"
    good.write_text(f"统一社会信用代码,年度,纳税信用等级,纳税额(万元)\n{firm_a.uscc},2024,B,12.5\n", encoding="utf-8")
    out = run("import", "tax", str(good), "--source", "区税务局", "--dry-run")
    assert "1 rows: 1 new, 0 updated" in out and "Dry run" in out
    assert not TaxRecord.objects.filter(enterprise=firm_a).exists()
    bad = tmp_path / "bad.csv"
    bad.write_text(f"统一社会信用代码,年度,纳税信用等级\n{firm_a.uscc},2024,Z\n", encoding="utf-8")
    with pytest.raises(CommandError, match="nothing was imported"):
        run("import", "tax", str(bad), "--source", "区税务局")
    run("import", "tax", str(good), "--source", "区税务局")
    assert TaxRecord.objects.filter(enterprise=firm_a, load__is_synthetic=False).count() == 1
    with pytest.raises(CommandError, match="File not found"):
        run("import", "tax", str(tmp_path / "missing.csv"), "--source", "区税务局")


def test_synth_refuses_in_production_without_the_flag(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        run("synth")
