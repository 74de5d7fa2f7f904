"""Features from hand-built records, knock-outs, reason codes, and model training, activation and
scoring end to end (on synthetic feeds for a few hundred firms)."""

import datetime as dt
import json
import math
from dataclasses import asdict

import pytest
from django.utils import translation

from zhiyuan.conftest import make_uscc
from zhiyuan.core.errors import PermissionDeniedError
from zhiyuan.core.models import AuditEntry
from zhiyuan.credit import scorecard
from zhiyuan.credit.features import (
    FEATURES,
    KNOCKOUT_BY_CODE,
    KNOCKOUTS,
    build_features,
    cap_grade,
    reason_text,
)
from zhiyuan.credit.models import (
    CourtKind,
    CourtRecord,
    CreditScore,
    Feed,
    FeedLoad,
    HeadcountRecord,
    HonourKind,
    HonourRecord,
    LoanRecord,
    PenaltyRecord,
    PenaltySeverity,
    RepaymentRecord,
    ScoreModel,
    ScoringRun,
    TaxRecord,
    UtilityRecord,
)
from zhiyuan.credit.scoring import model_activate, model_train, scoring_run_create
from zhiyuan.credit.synth import synth_feeds
from zhiyuan.credit.tasks import credit_nightly
from zhiyuan.enterprises.models import Enterprise, SizeClass
from zhiyuan.enterprises.services import enterprise_create

AS_OF = dt.date(2025, 6, 15)
D = dt.date


# -- hand-built records --------------------------------------------------------------------------


def _load(feed: str) -> FeedLoad:
    return FeedLoad.objects.create(feed=feed, source="测试数据", channel="file")


def make_firm(serial: int, **data) -> Enterprise:
    return enterprise_create(
        actor=None, data={"uscc": make_uscc(serial), "name": f"株洲测试{serial}号有限公司", "industry": "3240", **data}
    )


def tax(firm, year, grade, paid=None):
    return TaxRecord.objects.create(enterprise=firm, load=_load(Feed.TAX), year=year, grade=grade, tax_paid=paid)


def headcount(firm, month, count):
    return HeadcountRecord.objects.create(enterprise=firm, load=_load(Feed.HEADCOUNT), month=month, headcount=count)


def electricity(firm, month, kwh):
    return UtilityRecord.objects.create(enterprise=firm, load=_load(Feed.UTILITIES), month=month, electricity_kwh=kwh)


def loan(firm, contract="L-1"):
    return LoanRecord.objects.create(
        enterprise=firm,
        load=_load(Feed.LOANS),
        lender="长沙银行株洲分行",
        contract_no=contract,
        amount=100,
        start_on=D(2022, 1, 10),
        end_on=D(2026, 1, 10),
    )


def instalment(the_loan, due, paid, overdue, retain_until=None):
    return RepaymentRecord.objects.create(
        enterprise=the_loan.enterprise,
        load=_load(Feed.REPAYMENTS),
        loan=the_loan,
        due_on=due,
        paid_on=paid,
        amount=5,
        overdue_days=overdue,
        retain_until=retain_until,
    )


def court(firm, kind, case_no, filed, *, listed=None, delisted=None, retain_until=None):
    return CourtRecord.objects.create(
        enterprise=firm,
        load=_load(Feed.COURT),
        kind=kind,
        case_no=case_no,
        filed_on=filed,
        listed_on=listed,
        delisted_on=delisted,
        retain_until=retain_until,
    )


def penalty(firm, number, severity, decided, disclosed_until):
    return PenaltyRecord.objects.create(
        enterprise=firm,
        load=_load(Feed.PENALTIES),
        authority="株洲市荷塘区市场监督管理局",
        decision_no=number,
        severity=severity,
        decided_on=decided,
        disclosed_until=disclosed_until,
    )


def honour(firm, kind, name, granted, expires=None):
    return HonourRecord.objects.create(
        enterprise=firm, load=_load(Feed.HONOURS), kind=kind, name=name, granted_on=granted, expires_on=expires
    )


def test_build_features_on_hand_built_records(firm_a, firm_b):
    firm = make_firm(3, established_on=D(2015, 6, 15), staff=80)
    # Tax: the latest year before the current one (2024) carries the grade; growth on 2023.
    tax(firm, 2023, "A", 100)
    tax(firm, 2024, "B", 120)
    tax(firm, 2025, "D", 10)  # the current year is not final: ignored
    # Headcount: the latest month of the last three (May) against May a year earlier.
    headcount(firm, D(2024, 5, 1), 100)
    headcount(firm, D(2025, 3, 1), 70)
    headcount(firm, D(2025, 5, 1), 62)
    headcount(firm, D(2025, 7, 1), 10)  # a month after the date: ignored
    # Electricity: March–May 2025 against March–May 2024.
    for month in (3, 4, 5):
        electricity(firm, D(2025, month, 1), 90)
        electricity(firm, D(2024, month, 1), 100)
    # Repayments due in the last 24 months that were late, or are still unpaid.
    the_loan = loan(firm)
    instalment(the_loan, D(2025, 1, 20), D(2025, 1, 30), 10)
    instalment(the_loan, D(2024, 8, 20), D(2024, 9, 19), 30)
    instalment(the_loan, D(2025, 2, 20), D(2025, 2, 18), 0)  # on time
    instalment(the_loan, D(2023, 3, 20), D(2023, 4, 4), 15)  # more than 24 months ago
    instalment(the_loan, D(2024, 10, 20), D(2024, 10, 25), 5, retain_until=D(2025, 1, 1))  # no longer counts
    instalment(the_loan, D(2025, 3, 1), None, 0)  # unpaid: 106 days overdue on the date
    # Court: one judgment in the last 36 months; older, expired and lifted records do not count.
    court(firm, CourtKind.JUDGMENT, "(2024)湘0202民初1号", D(2024, 8, 1))
    court(firm, CourtKind.ENFORCEMENT, "(2022)湘0202执1号", D(2022, 1, 10))
    court(firm, CourtKind.JUDGMENT, "(2024)湘0202民初2号", D(2024, 9, 1), retain_until=D(2025, 1, 1))
    court(firm, CourtKind.DISHONEST, "(2022)湘0202执9号", D(2022, 12, 1), listed=D(2023, 1, 1), delisted=D(2024, 1, 1))
    # Penalties still disclosed, minor ones never.
    penalty(firm, "罚1", PenaltySeverity.ORDINARY, D(2025, 1, 1), D(2026, 1, 1))
    penalty(firm, "罚2", PenaltySeverity.MINOR, D(2025, 2, 1), D(2025, 2, 1))
    penalty(firm, "罚3", PenaltySeverity.ORDINARY, D(2024, 1, 1), D(2025, 1, 1))
    penalty(firm, "罚4", PenaltySeverity.SERIOUS, D(2025, 7, 1), D(2028, 7, 1))  # after the date
    # Honours valid on the date.
    honour(firm, HonourKind.HIGH_TECH, "高新技术企业证书", D(2023, 1, 1), D(2025, 12, 31))
    honour(firm, HonourKind.AWARD, "株洲市科技进步奖", D(2020, 1, 1))
    honour(firm, HonourKind.SPECIALISED, "湖南省专精特新中小企业", D(2020, 1, 1), D(2022, 12, 31))
    honour(firm, HonourKind.LITTLE_GIANT, "小巨人", D(2025, 7, 1))

    frame = build_features(AS_OF)
    assert list(frame.index) == sorted([firm_a.pk, firm_b.pk, firm.pk])
    row = frame.loc[firm.pk]
    assert row["age_years"] == round((AS_OF - D(2015, 6, 15)).days / 365.25, 2) == 10.0
    assert row["tax_grade"] == 4
    assert row["tax_growth"] == 20.0
    assert row["headcount"] == 62
    assert row["headcount_change"] == -38.0
    assert row["electricity_change"] == -10.0
    assert row["overdue_events"] == 3
    assert row["max_overdue_days"] == (AS_OF - D(2025, 3, 1)).days == 106
    assert row["court_cases"] == 1
    assert row["penalties"] == 1
    assert row["honours"] == 2
    assert bool(row["overdue_90_open"]) is True
    assert not row["dishonest_listed"] and not row["tax_grade_d"] and not row["serious_penalty"]

    # A firm without records: levels unknown, counts zero, no flags.
    empty = frame.loc[firm_b.pk]
    for name in ("age_years", "tax_grade", "tax_growth", "headcount", "headcount_change", "electricity_change"):
        assert math.isnan(empty[name]), name
    for name in ("overdue_events", "max_overdue_days", "court_cases", "penalties", "honours"):
        assert empty[name] == 0, name
    assert not empty[["dishonest_listed", "overdue_90_open", "tax_grade_d", "serious_penalty"]].any()

    # Only the given firms, and the same values.
    only = build_features(AS_OF, [firm.pk])
    assert list(only.index) == [firm.pk]
    assert only.loc[firm.pk, "headcount_change"] == -38.0

    # A year earlier the picture differs: the 2023 grade, no overdue yet.
    before = build_features(D(2024, 6, 15), [firm.pk]).loc[firm.pk]
    assert before["tax_grade"] == 5 and before["overdue_events"] == 1 and before["max_overdue_days"] == 15


# -- knock-outs and reasons, with a model built by hand -------------------------------------------


def _variable(name, trend, splits, points, missing_points):
    bins = [
        {"label": str(index), "count": 10, "event_rate": 0.1, "woe": 0.0, "points": value}
        for index, value in enumerate(points)
    ]
    return {
        "name": name,
        "dtype": "numerical",
        "monotonic_trend": trend,
        "splits": splits,
        "bins": bins,
        "missing": {"label": "missing", "count": 10, "event_rate": 0.1, "woe": 0.0, "points": missing_points},
        "neutral_points": missing_points,
        "max_points": max([*points, missing_points]),
        "train_shares": [1 / (len(points) + 1)] * (len(points) + 1),
    }


def hand_model(**extra) -> ScoreModel:
    """Two variables; a firm with no adverse data scores 680 points (PD 0.12 %: AAA), one whose
    headcount fell more than 20 % loses 100 of them."""
    spec = {
        "scaling": asdict(scorecard.Scaling(600, 50, 20)),
        "variables": [
            _variable("headcount_change", "descending", [-20.0, 0.0], [230.0, 320.0, 330.0], 330.0),
            _variable("court_cases", "ascending", [0.5], [350.0, 300.0], 350.0),
        ],
        "score_distribution": {"edges": [600.0, 650.0], "shares": [0.2, 0.3, 0.5]},
    }
    return ScoreModel.objects.create(
        version=ScoreModel.objects.count() + 1, spec=spec, sample_size=100, bad_count=10, auc=0.8, ks=0.4, **extra
    )


def test_knockouts_cap_the_grade_in_order_of_severity(personas, firm_a, firm_b):
    model = hand_model(is_active=True)
    # firm_a: a live 失信 listing and a D tax grade → the listing wins, grade C.
    court(firm_a, CourtKind.DISHONEST, "(2025)湘0202执1号", D(2025, 1, 2), listed=D(2025, 1, 10))
    tax(firm_a, 2024, "D", 1)
    # firm_b: tax D alone → at most CC.
    tax(firm_b, 2024, "D", 1)
    serious = make_firm(3)  # a serious penalty still disclosed → at most CCC
    penalty(serious, "罚9", PenaltySeverity.SERIOUS, D(2024, 12, 1), D(2027, 12, 1))
    lifted = make_firm(4)  # a listing lifted before the date → no knock-out
    court(
        lifted, CourtKind.DISHONEST, "(2023)湘0202执2号", D(2023, 1, 2), listed=D(2023, 1, 10), delisted=D(2024, 3, 1)
    )
    both = make_firm(5)  # tax D and a serious penalty → the tax rule comes first
    tax(both, 2024, "D", 1)
    penalty(both, "罚10", PenaltySeverity.SERIOUS, D(2025, 2, 1), D(2028, 2, 1))
    overdue = make_firm(6)  # an instalment unpaid for more than 90 days
    instalment(loan(overdue, "L-9"), D(2025, 2, 20), None, 0)
    clean = make_firm(7)

    run = scoring_run_create(actor=personas["admin"], as_of=AS_OF)
    scores = {score.enterprise_id: score for score in CreditScore.objects.filter(run=run)}
    assert run.firms == Enterprise.objects.count() == len(scores)

    def check(firm, code, grade):
        score = scores[firm.pk]
        assert (score.knockout, score.grade) == (code, grade), firm
        if code:
            assert score.reasons[0]["code"] == code  # the knock-out is the first reason
        return score

    check(firm_a, "KO_DISHONEST", "C")
    check(firm_b, "KO_TAX_D", "CC")
    check(serious, "KO_SERIOUS_PENALTY", "CCC")
    check(both, "KO_TAX_D", "CC")
    check(overdue, "KO_OVERDUE_90", "CC")
    assert check(lifted, "", "AAA").points == 680
    assert check(clean, "", "AAA").reasons == []
    # The points still say what the firm would score without the rule.
    assert scores[firm_b.pk].points == 680 and scores[firm_b.pk].pd < 0.0025
    assert model.runs.count() == 1

    # The cap never improves a grade, and the rules are ordered as documented.
    assert cap_grade("C", KNOCKOUT_BY_CODE["KO_SERIOUS_PENALTY"]) == "C"
    assert cap_grade("AAA", None) == "AAA"
    assert [rule.code for rule in KNOCKOUTS] == ["KO_DISHONEST", "KO_OVERDUE_90", "KO_TAX_D", "KO_SERIOUS_PENALTY"]


def test_reason_codes_on_hand_built_firms(personas, firm_a):
    hand_model(is_active=True)
    headcount(firm_a, D(2024, 5, 1), 100)
    headcount(firm_a, D(2025, 5, 1), 62)
    court(firm_a, CourtKind.JUDGMENT, "(2024)湘0202民初7号", D(2024, 10, 1))
    run = scoring_run_create(actor=personas["admin"], as_of=AS_OF)
    score = CreditScore.objects.get(run=run, enterprise=firm_a)
    assert score.points == 230 + 300
    codes = [reason["code"] for reason in score.reasons]
    assert codes == ["HEADCOUNT_CHANGE", "COURT"]  # by points lost: 100, then 50
    first = score.reasons[0]
    assert (first["feature"], first["value"], first["points_lost"]) == ("headcount_change", -38.0, 100.0)
    assert score.features["headcount_change"] == -38.0
    with translation.override("en"):
        assert reason_text(first["code"], first["value"]) == "Social-insurance headcount fell 38% in the last 12 months"
        assert reason_text("HEADCOUNT_CHANGE", 4.5) == "Social-insurance headcount grew only 4.5% in the last 12 months"
        assert reason_text("COURT", 1.0) == "1 court judgments or enforcement cases in the last 36 months"
        assert reason_text("KO_TAX_D", None) == "Tax credit grade D"
        assert reason_text("HEADCOUNT_CHANGE", None).startswith("No social-insurance record")
    # The codes are stable identifiers, stored with every score: renaming one breaks old reports.
    assert {feature.name: feature.code for feature in FEATURES} == {
        "age_years": "AGE",
        "tax_grade": "TAX_GRADE",
        "tax_growth": "TAX_GROWTH",
        "headcount": "HEADCOUNT",
        "headcount_change": "HEADCOUNT_CHANGE",
        "electricity_change": "ELECTRICITY_CHANGE",
        "overdue_events": "OVERDUE",
        "max_overdue_days": "OVERDUE_DAYS",
        "court_cases": "COURT",
        "penalties": "PENALTY",
        "honours": "HONOURS",
    }


def test_the_nightly_task_purges_reminds_and_scores_once_a_day(personas, firm_a):
    result = credit_nightly(today=AS_OF)
    assert result["scoring_run"] is None and result["scoring"] == "no active model"
    expired = penalty(firm_a, "罚5", PenaltySeverity.ORDINARY, D(2024, 1, 1), D(2025, 1, 1))
    model = hand_model(is_active=True)
    result = credit_nightly(today=AS_OF)
    assert result["purged"] == {Feed.PENALTIES: 1} and not PenaltyRecord.objects.filter(pk=expired.pk).exists()
    assert result["objection_notices"] == 0
    run = ScoringRun.objects.get(pk=result["scoring_run"])
    assert (run.model, run.as_of, run.firms) == (model, AS_OF, Enterprise.objects.count())
    again = credit_nightly(today=AS_OF)
    assert again["scoring_run"] is None and again["purged"] == {}
    assert ScoringRun.objects.count() == 1
    assert credit_nightly(today=AS_OF + dt.timedelta(days=1))["scoring_run"] is not None


# -- training, activation and scoring on synthetic data ------------------------------------------


def synthetic_firms(count: int, *, demo: bool = False) -> list[int]:
    """`count` firms in bulk, of every size and age (the registry's own services are tested elsewhere)."""
    sizes = [SizeClass.MICRO, SizeClass.SMALL, SizeClass.SMALL, SizeClass.MEDIUM, SizeClass.LARGE]
    Enterprise.objects.bulk_create(
        Enterprise(
            uscc=make_uscc(1000 + serial),
            name=f"株洲合成{serial}号有限公司",
            industry_id="3240",
            established_on=D(1995, 1, 1) + dt.timedelta(days=97 * serial % 9000),
            staff=[5, 40, 120, 400, 1500][serial % 5],
            size_class=sizes[serial % 5],
            is_demo=demo,
        )
        for serial in range(count)
    )
    return list(Enterprise.objects.filter(name__startswith="株洲合成").values_list("pk", flat=True))


def test_train_activate_and_score_end_to_end(personas):
    ids = synthetic_firms(300)
    report = synth_feeds(enterprise_ids=ids, as_of=AS_OF, seed=11)
    assert report.firms == 300 and report.outcomes == 600

    first = model_train(actor=personas["admin"], note="first", folds=4)
    assert (first.version, first.is_active, first.is_synthetic) == (1, False, False)
    assert first.sample_size == 600 and first.bad_count == report.defaults
    # Plain JSON, stored and read back as such (no pickle anywhere).
    text = json.dumps(first.spec)
    first.refresh_from_db()
    assert json.loads(text) == first.spec
    assert set(first.spec["metrics"]) >= {"auc", "ks", "gini", "cv", "bad_rate_by_grade"}
    # The features as of the observation dates predict the synthetic outcomes out of sample.
    assert first.auc == first.spec["metrics"]["cv"]["auc_mean"] > 0.65
    assert first.spec["metrics"]["cv"]["folds"] == 4
    # Every kept variable's bins are monotone in the trend the feature declares.
    declared = {feature.name: feature.trend for feature in FEATURES}
    for variable in first.spec["variables"]:
        rates = [b["event_rate"] for b in variable["bins"] if b["count"]]
        steps = list(zip(rates, rates[1:], strict=False))
        if declared[variable["name"]] == "ascending":
            assert all(a <= b for a, b in steps), variable["name"]
        else:
            assert all(a >= b for a, b in steps), variable["name"]

    activated = AuditEntry.objects.filter(action="credit.model.activated")
    model_activate(actor=personas["admin"], model=first)
    second = model_train(actor=personas["service_staff"], activate=True, synthetic=True, folds=3)
    assert second.version == 2 and second.is_synthetic
    assert list(ScoreModel.objects.filter(is_active=True)) == [second]
    first.refresh_from_db()
    assert not first.is_active
    entry = activated.latest("pk")
    assert activated.count() == 2 and entry.object_id == str(second.pk)
    assert entry.changes["active model"] == ["v1", "v2"]
    model_activate(actor=personas["admin"], model=first)
    assert list(ScoreModel.objects.filter(is_active=True).values_list("version", flat=True)) == [1]

    run = scoring_run_create(actor=personas["admin"], as_of=AS_OF)
    assert run.model == first and run.finished_at is not None
    firms = Enterprise.objects.count()
    assert run.firms == firms == CreditScore.objects.filter(run=run).count()
    assert sum(run.grade_counts.values()) == firms
    assert run.psi_score is not None and run.psi_score >= 0
    assert set(run.psi_features) == {variable["name"] for variable in first.spec["variables"]}
    score = CreditScore.objects.filter(run=run, enterprise_id=ids[0]).get()
    assert score.grade == scorecard.pd_to_grade(score.pd) or score.knockout
    assert score.pd == pytest.approx(scorecard.points_to_pd(score.points, scorecard.scaling_of(first.spec)), rel=1e-3)
    assert all(len(s.reasons) <= 4 for s in CreditScore.objects.filter(run=run))
    assert AuditEntry.objects.filter(action="credit.scoring.run", object_id=str(run.pk)).exists()


@pytest.mark.parametrize("key", ["firm_a", "firm_b", "bank"])
def test_firm_and_bank_users_may_not_train_activate_or_score(personas, key):
    model = hand_model()
    user = personas[key]
    with pytest.raises(PermissionDeniedError):
        model_train(actor=user)
    with pytest.raises(PermissionDeniedError):
        model_activate(actor=user, model=model)
    with pytest.raises(PermissionDeniedError):
        scoring_run_create(actor=user, as_of=AS_OF, model=model)
    model.refresh_from_db()
    assert not model.is_active and not ScoringRun.objects.exists()
