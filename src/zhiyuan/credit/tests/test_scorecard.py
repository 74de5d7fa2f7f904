"""The scorecard engine on generated samples: monotone bins, points scaling, PD, PSI (no database)."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from zhiyuan.credit import scorecard
from zhiyuan.credit.scorecard import Scaling, Variable

VARIABLES = [
    Variable("income", "numerical", "descending"),
    Variable("late_payments", "numerical", "ascending"),
    Variable("leverage", "numerical", "auto_asc_desc"),
    Variable("noise", "numerical", "auto_asc_desc"),
    Variable("sector", "categorical"),
]


def sample(n: int = 3000, seed: int = 7) -> tuple[pd.DataFrame, np.ndarray]:
    """A latent risk drives the default and (with noise) every variable but `noise`."""
    rng = np.random.default_rng(seed)
    risk = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-2.6 + 1.4 * risk)))).astype(int)
    frame = pd.DataFrame(
        {
            "income": np.exp(3 - 0.6 * risk + rng.normal(0, 0.5, n)),
            "late_payments": rng.poisson(np.exp(-1 + 0.8 * risk)).astype(float),
            "leverage": 0.5 + 0.15 * risk + rng.normal(0, 0.2, n),
            "noise": rng.normal(size=n),
            "sector": np.where(
                risk + rng.normal(0, 1, n) > 0.5, "retail", np.where(rng.random(n) < 0.5, "tech", "mfg")
            ),
        }
    )
    frame.loc[rng.random(n) < 0.05, "income"] = np.nan  # some missing values
    return frame, y


@pytest.fixture(scope="module")
def trained():
    frame, y = sample()
    spec = scorecard.train(frame, y, VARIABLES, scaling=Scaling(600, 50, 20), folds=3)
    return frame, y, spec


def test_numerical_bins_are_monotone_and_points_run_the_other_way(trained):
    _frame, _y, spec = trained
    numerical = [v for v in spec["variables"] if v["dtype"] == "numerical"]
    assert {"income", "late_payments", "leverage"} <= {v["name"] for v in numerical}
    declared = {v.name: v.monotonic_trend for v in VARIABLES}
    for variable in numerical:
        trend = variable["monotonic_trend"]
        assert trend in ("ascending", "descending")
        if declared[variable["name"]] != "auto_asc_desc":
            assert trend == declared[variable["name"]], variable["name"]
        bins = [b for b in variable["bins"] if b["count"]]
        assert len(bins) >= 2, variable["name"]
        rates = [b["event_rate"] for b in bins]
        points = [b["points"] for b in bins]
        pairs = list(zip(rates, rates[1:], strict=False))
        point_pairs = list(zip(points, points[1:], strict=False))
        if trend == "ascending":
            assert all(a <= b for a, b in pairs), (variable["name"], rates)
            assert all(a >= b for a, b in point_pairs), (variable["name"], points)
        else:
            assert all(a >= b for a, b in pairs), (variable["name"], rates)
            assert all(a <= b for a, b in point_pairs), (variable["name"], points)
    # The learned direction is the true one: more income, fewer defaults; more leverage, more.
    by_name = {v["name"]: v for v in numerical}
    assert by_name["leverage"]["monotonic_trend"] == "ascending"
    # Every coefficient is negative, so a better bin (higher WoE) is never worth fewer points.
    assert all(v["coef"] < 0 for v in spec["variables"])


def test_the_model_is_plain_json(trained):
    _frame, _y, spec = trained
    again = json.loads(json.dumps(spec))
    assert again["variables"][0]["bins"] == spec["variables"][0]["bins"]
    assert set(spec["metrics"]) >= {"auc", "ks", "gini", "cv", "bad_rate_by_grade"}
    assert 0.5 < spec["metrics"]["cv"]["auc_mean"] <= 1
    assert spec["metrics"]["gini"] == pytest.approx(2 * spec["metrics"]["auc"] - 1)


def test_scaling_base_odds_and_pdo():
    scaling = Scaling(base_score=600, base_odds=50, pdo=20)
    # A firm at the base odds (50 goods per bad) scores the base score…
    assert scaling.offset + scaling.factor * math.log(50) == pytest.approx(600)
    assert scorecard.points_to_pd(600.0, scaling) == pytest.approx(1 / 51)
    # …and every PDO points double the odds of good (halve the odds of bad).
    for points in (480.0, 600.0, 655.5):
        pd_now, pd_up = scorecard.points_to_pd(points, scaling), scorecard.points_to_pd(points + 20, scaling)
        assert (pd_up / (1 - pd_up)) == pytest.approx((pd_now / (1 - pd_now)) / 2)
    other = Scaling(base_score=500, base_odds=20, pdo=50)
    assert scorecard.points_to_pd(500.0, other) == pytest.approx(1 / 21)
    assert scorecard.points_to_pd(np.array([500.0, 550.0]), other) == pytest.approx([1 / 21, 1 / 41])


def test_a_models_points_give_the_regressions_pd(trained):
    frame, y, spec = trained
    scaling = scorecard.scaling_of(spec)
    assert scaling == Scaling(600, 50, 20)
    points = scorecard.score(spec, frame)
    pd_points = scorecard.points_to_pd(points, scaling)

    woe = np.column_stack(
        [scorecard._woe_column(variable, scorecard._column_values(frame, variable)) for variable in spec["variables"]]
    )
    # Recomputed from the stored coefficients…
    logit = spec["intercept"] + woe @ np.array([variable["coef"] for variable in spec["variables"]])
    assert np.max(np.abs(pd_points - 1 / (1 + np.exp(-logit)))) < 1e-6
    # …and from scikit-learn refitted on the same weights of evidence.
    regression = LogisticRegression(C=spec["training"]["c"], max_iter=1000).fit(woe, y)
    assert np.max(np.abs(pd_points - regression.predict_proba(woe)[:, 1])) < 1e-6

    # A firm whose points make the base score is at the base odds, whatever its bins.
    assert scorecard.points_to_pd(scaling.base_score, scaling) * (1 + scaling.base_odds) == pytest.approx(1)
    # The per-variable points add up to the score.
    table = scorecard.points_table(spec, frame)
    assert table.shape == (len(frame), len(spec["variables"]))
    assert np.allclose(table.sum(axis=1), points)


def test_bin_lookup_missing_and_unseen_values(trained):
    _frame, _y, spec = trained
    income = next(v for v in spec["variables"] if v["name"] == "income")
    assert scorecard.bin_index(income, None) == -1
    assert scorecard.bin_index(income, float("nan")) == -1
    first_split = income["splits"][0]
    # optbinning's bins are [a, b): a value on a split belongs to the bin on its right.
    assert scorecard.bin_index(income, first_split) == 1
    assert scorecard.bin_index(income, first_split - 1e-9) == 0
    sector = next((v for v in spec["variables"] if v["name"] == "sector"), None)
    if sector is not None:
        assert scorecard.bin_index(sector, "never-seen") == -2
        assert scorecard._variable_points(sector, "never-seen") == sector["neutral_points"]


def test_grades_on_the_master_scale():
    assert scorecard.pd_to_grade(0.001) == "AAA"
    assert scorecard.pd_to_grade(0.0025) == "AAA"
    assert scorecard.pd_to_grade(0.0026) == "AA"
    assert scorecard.pd_to_grade(0.05) == "B"
    assert scorecard.pd_to_grade(0.32) == "CC"
    assert scorecard.pd_to_grade(0.9) == "C"
    assert scorecard.GRADES == ["AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C"]


def test_too_small_or_one_sided_samples_are_refused():
    frame, y = sample(n=40)
    with pytest.raises(scorecard.TrainingError):
        scorecard.train(frame, np.zeros(len(frame), dtype=int), VARIABLES)
    with pytest.raises(scorecard.TrainingError):
        scorecard.train(frame.iloc[:8], y[:8], VARIABLES)


# -- PSI --------------------------------------------------------------------------------------------


def test_psi_of_identical_distributions_is_zero():
    shares = [0.1] * 10
    assert scorecard.psi(shares, shares) == 0.0
    assert scorecard.psi([1, 2, 3], [2, 4, 6]) == pytest.approx(0.0)  # counts are renormalised


def test_psi_hand_computed():
    # (0.25 − 0.5)·ln(0.25/0.5) + (0.75 − 0.5)·ln(0.75/0.5)
    expected = 0.25 * math.log(2) + 0.25 * math.log(1.5)
    assert scorecard.psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(expected)
    assert expected == pytest.approx(0.2747, abs=1e-4)
    # Symmetric in this sense: swapping the two gives the same value.
    assert scorecard.psi([0.25, 0.75], [0.5, 0.5]) == pytest.approx(expected)


def test_psi_with_an_empty_bucket_stays_finite():
    value = scorecard.psi([0.5, 0.5, 0.0], [0.4, 0.4, 0.2])
    assert math.isfinite(value)
    eps = scorecard.PSI_EPSILON
    hand = 2 * (0.4 - 0.5) * math.log(0.4 / 0.5) + (0.2 - eps) * math.log(0.2 / eps)
    assert value == pytest.approx(hand, rel=1e-3)
    assert math.isfinite(scorecard.psi([0.0, 1.0], [1.0, 0.0]))
    assert scorecard.psi([0, 0], [0.5, 0.5]) == 0.0  # nothing to compare with


def test_score_buckets_split_the_training_score_into_deciles():
    points = np.arange(1000, dtype=float)
    edges = scorecard.score_buckets(points)
    assert len(edges) == 9
    assert scorecard.score_shares(points, edges) == pytest.approx([0.1] * 10)
    shifted = scorecard.score_shares(points + 500, edges)
    assert shifted[-1] > 0.5
    assert scorecard.psi(scorecard.score_shares(points, edges), shifted) > 0.25


def test_variable_shares_count_missing_and_unseen_as_missing(trained):
    _frame, _y, spec = trained
    income = next(v for v in spec["variables"] if v["name"] == "income")
    shares = scorecard.variable_shares(income, [None, float("nan"), income["splits"][0]])
    assert len(shares) == len(income["bins"]) + 1
    assert shares[-1] == pytest.approx(2 / 3) and shares[1] == pytest.approx(1 / 3)
    assert sum(scorecard.training_shares(income)) == pytest.approx(1)
