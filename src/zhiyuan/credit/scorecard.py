"""The scorecard engine: monotone optimal binning (optbinning), logistic regression on the bins'
weights of evidence, points scaling, and the model as plain JSON. No Django here: the same code
trains the district's model (`zhiyuan credit train`) and the benchmark's on public data.

How a model is built (`train`):

1. every variable is binned on its own with optbinning's `OptimalBinning` — numerical variables
   under the monotonic trend they are declared with (event rate ascending or descending with the
   value), categorical ones grouped by event rate; a variable whose information value is below
   `min_iv` is dropped as too weak;
2. each value is replaced by its bin's weight of evidence, WoE = ln(share of goods / share of bads)
   (optbinning's convention: a higher WoE means fewer defaults);
3. a logistic regression on the WoE columns gives logit(PD) = b0 + Σ bᵢ·WoEᵢ. Every bᵢ must be
   negative — a positive one would make a better bin cost points, which nobody can explain — so
   the variable with the most positive coefficient is dropped and the regression refitted until
   all are negative;
4. points: score = offset + factor·ln(odds of good) with factor = PDO / ln 2 and
   offset = base score − factor·ln(base odds), so that a firm at the base odds scores the base
   score and every PDO points double the odds. That makes each bin worth
   −factor·bᵢ·WoEᵢⱼ + (offset − factor·b0)/n points, and a firm's score the sum of its bins' points,
   exactly the regression's prediction. PD = 1 / (1 + e^((score − offset)/factor)).

Cross-validation (`cross_validate`) refits the whole pipeline — binning included — inside every
fold of a repeated stratified k-fold, so the reported AUC and KS are out-of-sample.
"""

from __future__ import annotations

import math
import warnings
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

FORMAT = 1
MISSING = "missing"
# PD upper bound of each grade on the master scale; above the last bound is C.
GRADE_SCALE: list[tuple[str, float]] = [
    ("AAA", 0.0025),
    ("AA", 0.005),
    ("A", 0.01),
    ("BBB", 0.02),
    ("BB", 0.04),
    ("B", 0.08),
    ("CCC", 0.16),
    ("CC", 0.32),
]
GRADES = [grade for grade, _ in GRADE_SCALE] + ["C"]
PSI_BUCKETS = 10
PSI_EPSILON = 1e-4


@dataclass(frozen=True)
class Variable:
    """A candidate variable: its column, numerical or categorical, and (numerical only) the
    monotonic trend of the default rate as the value grows: "ascending", "descending", or
    "auto_asc_desc" to let the data choose one of the two."""

    name: str
    dtype: str = "numerical"
    monotonic_trend: str = "auto_asc_desc"


@dataclass(frozen=True)
class Scaling:
    """Points scaling: `base_score` points at odds of `base_odds` goods per bad; every `pdo` points
    double the odds."""

    base_score: float = 600.0
    base_odds: float = 50.0
    pdo: float = 20.0

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2)

    @property
    def offset(self) -> float:
        return self.base_score - self.factor * math.log(self.base_odds)


class TrainingError(ValueError):
    """The sample cannot give a model (too small, one class only, no variable left)."""


# -- binning ----------------------------------------------------------------------------------


def _fit_binning(values: pd.Series, y: np.ndarray, variable: Variable, min_bin_size: float):
    from optbinning import OptimalBinning  # imported here: it takes ~2 s and only training needs it

    if variable.dtype == "categorical":
        binning = OptimalBinning(name=variable.name, dtype="categorical", min_bin_size=min_bin_size)
        binning.fit(values.astype(object).where(values.notna(), np.nan).to_numpy(), y)
    else:
        binning = OptimalBinning(
            name=variable.name, dtype="numerical", monotonic_trend=variable.monotonic_trend, min_bin_size=min_bin_size
        )
        binning.fit(pd.to_numeric(values, errors="coerce").to_numpy(dtype=float), y)
    return binning


def _bins_of(binning, variable: Variable) -> dict[str, Any]:
    """The fitted bins as JSON: splits or category groups, and per bin its count, event rate, WoE."""
    table = binning.binning_table.build()
    # Rows by position: the regular bins, then Special, Missing and Totals.
    n_regular = len(binning.splits) + (0 if variable.dtype == "categorical" else 1)
    regular = table.iloc[:n_regular]
    missing = table.iloc[n_regular + 1]

    def _bin(row, label: str) -> dict[str, Any]:
        return {
            "label": label,
            "count": int(row["Count"]),
            "event_rate": float(row["Event rate"]) if row["Count"] else 0.0,
            "woe": float(row["WoE"]),
        }

    spec: dict[str, Any] = {"name": variable.name, "dtype": variable.dtype, "monotonic_trend": variable.monotonic_trend}
    if variable.dtype == "categorical":
        groups = [[str(value) for value in group] for group in binning.splits]
        spec["categories"] = groups
        spec["bins"] = [
            _bin(row, " / ".join(group)) for (_, row), group in zip(regular.iterrows(), groups, strict=True)
        ]
    else:
        splits = [float(value) for value in binning.splits]
        spec["splits"] = splits
        spec["bins"] = [_bin(row, str(row["Bin"])) for _, row in regular.iterrows()]
        if binning.monotonic_trend in ("ascending", "descending"):
            spec["monotonic_trend"] = binning.monotonic_trend
        else:
            spec["monotonic_trend"] = _observed_trend(spec["bins"]) or variable.monotonic_trend
    spec["missing"] = _bin(missing, MISSING)
    spec["iv"] = float(table.iloc[: n_regular + 2]["IV"].sum())
    return spec


def _observed_trend(bins: list[dict[str, Any]]) -> str | None:
    rates = [b["event_rate"] for b in bins]
    if all(a <= b for a, b in zip(rates, rates[1:], strict=False)):
        return "ascending"
    if all(a >= b for a, b in zip(rates, rates[1:], strict=False)):
        return "descending"
    return None


def bin_index(variable: dict[str, Any], value: Any) -> int:
    """Which bin of `variable` a raw value falls in: 0…n-1 for the regular bins, -1 for missing,
    -2 for a category the training sample never saw."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return -1
    if variable["dtype"] == "categorical":
        text = str(value)
        for index, group in enumerate(variable["categories"]):
            if text in group:
                return index
        return -2
    # optbinning's bins are [a, b): a value equal to a split belongs to the bin on its right.
    return bisect_right(variable["splits"], float(value))


def _woe_column(variable: dict[str, Any], values: Sequence[Any]) -> np.ndarray:
    woes = [b["woe"] for b in variable["bins"]]
    missing = variable["missing"]["woe"]
    out = np.empty(len(values), dtype=float)
    for row, value in enumerate(values):
        index = bin_index(variable, value)
        out[row] = missing if index == -1 else 0.0 if index == -2 else woes[index]
    return out


def _column_values(frame: pd.DataFrame, variable: dict[str, Any]) -> list[Any]:
    column = frame[variable["name"]]
    if variable["dtype"] == "categorical":
        return [None if pd.isna(value) else value for value in column.tolist()]
    return pd.to_numeric(column, errors="coerce").tolist()


# -- fitting ----------------------------------------------------------------------------------


@dataclass
class _Fit:
    variables: list[dict[str, Any]]
    intercept: float
    dropped: list[dict[str, str]]


def _fit(
    frame: pd.DataFrame, y: np.ndarray, variables: Sequence[Variable], *, min_bin_size: float, min_iv: float, c: float
) -> _Fit:
    from sklearn.linear_model import LogisticRegression

    if len(np.unique(y)) < 2:
        raise TrainingError("The sample holds only one outcome; a model needs both defaults and non-defaults.")
    binned: list[dict[str, Any]] = []
    dropped: list[dict[str, str]] = []
    for variable in variables:
        if frame[variable.name].notna().sum() == 0:
            dropped.append({"name": variable.name, "code": "no_values", "value": None, "reason": "no values"})
            continue
        with warnings.catch_warnings():
            # optbinning 1.0 trips pandas' and numpy's deprecation and divide-by-zero warnings on
            # its own internals (an empty prebin, a dtype change in its table); the results are right.
            warnings.filterwarnings("ignore", module="optbinning")
            spec = _bins_of(_fit_binning(frame[variable.name], y, variable, min_bin_size), variable)
        if len(spec["bins"]) < 2 and spec["missing"]["count"] == 0:
            dropped.append({"name": variable.name, "code": "single_bin", "value": None, "reason": "single bin"})
        elif spec["iv"] < min_iv:
            dropped.append(
                {
                    "name": variable.name,
                    "code": "weak",
                    "value": spec["iv"],
                    "reason": f"IV {spec['iv']:.3f} < {min_iv}",
                }
            )
        else:
            binned.append(spec)
    while binned:
        matrix = np.column_stack([_woe_column(spec, _column_values(frame, spec)) for spec in binned])
        regression = LogisticRegression(C=c, max_iter=1000)
        regression.fit(matrix, y)
        coefs = regression.coef_[0]
        worst = int(np.argmax(coefs))
        if coefs[worst] < 0:
            for spec, coef in zip(binned, coefs, strict=True):
                spec["coef"] = float(coef)
            return _Fit(binned, float(regression.intercept_[0]), dropped)
        dropped.append(
            {
                "name": binned[worst]["name"],
                "code": "wrong_sign",
                "value": float(coefs[worst]),
                "reason": f"coefficient {coefs[worst]:+.3f} has the wrong sign",
            }
        )
        del binned[worst]
    raise TrainingError("No variable carries enough information to build a scorecard.")


def _add_points(fit: _Fit, scaling: Scaling) -> None:
    n = len(fit.variables)
    share = (scaling.offset - scaling.factor * fit.intercept) / n
    for spec in fit.variables:
        coef = spec["coef"]
        for b in [*spec["bins"], spec["missing"]]:
            b["points"] = -scaling.factor * coef * b["woe"] + share
        spec["neutral_points"] = share  # a category the sample never saw: WoE 0
        spec["max_points"] = max(
            b["points"] for b in [*spec["bins"], spec["missing"]] if b["count"] or b is spec["missing"]
        )


def _variable_points(variable: dict[str, Any], value: Any) -> float:
    index = bin_index(variable, value)
    if index == -1:
        return variable["missing"]["points"]
    if index == -2:
        return variable["neutral_points"]
    return variable["bins"][index]["points"]


# -- scoring ----------------------------------------------------------------------------------


def points_table(spec: dict[str, Any], frame: pd.DataFrame) -> np.ndarray:
    """Points per firm (rows) and model variable (columns, in `spec["variables"]` order)."""
    columns = []
    for variable in spec["variables"]:
        values = _column_values(frame, variable) if variable["name"] in frame else [None] * len(frame)
        columns.append([_variable_points(variable, value) for value in values])
    return np.array(columns, dtype=float).T.reshape(len(frame), len(spec["variables"]))


def score(spec: dict[str, Any], frame: pd.DataFrame) -> np.ndarray:
    """Total points per row of `frame`."""
    return points_table(spec, frame).sum(axis=1)


def scaling_of(spec: dict[str, Any]) -> Scaling:
    return Scaling(**spec["scaling"])


def points_to_pd(points: np.ndarray | float, scaling: Scaling) -> np.ndarray | float:
    """The probability of default a score stands for (the inverse of the points scaling)."""
    exponent = np.clip((np.asarray(points, dtype=float) - scaling.offset) / scaling.factor, -700, 700)
    result = 1.0 / (1.0 + np.exp(exponent))
    return float(result) if np.ndim(result) == 0 else result


def pd_to_grade(pd_value: float) -> str:
    """The master-scale grade of a probability of default."""
    for grade, bound in GRADE_SCALE:
        if pd_value <= bound:
            return grade
    return "C"


# -- evaluation -------------------------------------------------------------------------------


def auc_ks(y: np.ndarray, points: np.ndarray) -> tuple[float, float]:
    """AUC and KS of a score where *lower* points mean riskier."""
    from sklearn.metrics import roc_auc_score, roc_curve

    risk = -np.asarray(points, dtype=float)
    auc = float(roc_auc_score(y, risk))
    fpr, tpr, _ = roc_curve(y, risk)
    return auc, float(np.max(tpr - fpr))


def cross_validate(
    frame: pd.DataFrame,
    y: np.ndarray,
    variables: Sequence[Variable],
    *,
    folds: int = 5,
    repeats: int = 1,
    seed: int = 2019,
    min_bin_size: float = 0.05,
    min_iv: float = 0.02,
    c: float = 1.0,
    scaling: Scaling | None = None,
) -> dict[str, Any]:
    """Repeated stratified k-fold: the whole pipeline refitted per fold. Returns the mean and
    standard deviation of AUC and KS and the out-of-fold points of the first repeat."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    scaling = scaling or Scaling()
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    aucs, kss = [], []
    out_of_fold = np.full(len(y), np.nan)
    for number, (train_rows, test_rows) in enumerate(splitter.split(frame, y)):
        fit = _fit(frame.iloc[train_rows], y[train_rows], variables, min_bin_size=min_bin_size, min_iv=min_iv, c=c)
        _add_points(fit, scaling)
        spec = {"variables": fit.variables}
        test_points = score(spec, frame.iloc[test_rows])
        auc, ks = auc_ks(y[test_rows], test_points)
        aucs.append(auc)
        kss.append(ks)
        if number < folds:
            out_of_fold[test_rows] = test_points
    return {
        "folds": folds,
        "repeats": repeats,
        "auc_mean": float(np.mean(aucs)),
        "auc_std": float(np.std(aucs)),
        "ks_mean": float(np.mean(kss)),
        "ks_std": float(np.std(kss)),
        "oof_points": out_of_fold,
    }


def bad_rate_by_grade(y: np.ndarray, points: np.ndarray, scaling: Scaling) -> dict[str, dict[str, float]]:
    """For each grade: how many of the sample fell in it and what share of them defaulted."""
    grades = [pd_to_grade(value) for value in points_to_pd(points, scaling)]
    table: dict[str, dict[str, float]] = {}
    for grade in GRADES:
        members = [outcome for g, outcome in zip(grades, y, strict=True) if g == grade]
        table[grade] = {"count": len(members), "bad_rate": (sum(members) / len(members)) if members else 0.0}
    return table


# -- drift ------------------------------------------------------------------------------------


def psi(expected: Sequence[float], actual: Sequence[float]) -> float:
    """Population stability index Σ (a − e)·ln(a / e) over matching buckets of two distributions
    (shares; each is renormalised, empty buckets floored at a small epsilon)."""
    e = np.maximum(np.asarray(expected, dtype=float), 0)
    a = np.maximum(np.asarray(actual, dtype=float), 0)
    if e.sum() == 0 or a.sum() == 0:
        return 0.0
    e = np.maximum(e / e.sum(), PSI_EPSILON)
    a = np.maximum(a / a.sum(), PSI_EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))


def score_buckets(points: np.ndarray) -> list[float]:
    """Inner edges of the training score's deciles (the PSI buckets of the score)."""
    edges = np.unique(np.quantile(np.asarray(points, dtype=float), np.linspace(0, 1, PSI_BUCKETS + 1)[1:-1]))
    return [float(edge) for edge in edges]


def score_shares(points: np.ndarray, edges: Sequence[float]) -> list[float]:
    counts = np.bincount(
        np.searchsorted(np.asarray(edges), np.asarray(points, dtype=float), side="right"), minlength=len(edges) + 1
    )
    total = counts.sum() or 1
    return [float(count / total) for count in counts]


def variable_shares(variable: dict[str, Any], values: Sequence[Any]) -> list[float]:
    """Share of values per bin: the regular bins, then missing (unseen categories count as missing)."""
    counts = [0] * (len(variable["bins"]) + 1)
    for value in values:
        index = bin_index(variable, value)
        counts[index if index >= 0 else -1] += 1
    total = sum(counts) or 1
    return [count / total for count in counts]


def training_shares(variable: dict[str, Any]) -> list[float]:
    counts = [b["count"] for b in variable["bins"]] + [variable["missing"]["count"]]
    total = sum(counts) or 1
    return [count / total for count in counts]


# -- the whole model --------------------------------------------------------------------------


def train(
    frame: pd.DataFrame,
    y: np.ndarray,
    variables: Sequence[Variable],
    *,
    scaling: Scaling | None = None,
    folds: int = 5,
    repeats: int = 1,
    seed: int = 2019,
    min_bin_size: float = 0.05,
    min_iv: float = 0.02,
    c: float = 1.0,
) -> dict[str, Any]:
    """Cross-validate, then fit on the whole sample; the model as a JSON-ready dict."""
    scaling = scaling or Scaling()
    y = np.asarray(y, dtype=int)
    if len(y) < folds * 2 or min(int(y.sum()), int(len(y) - y.sum())) < folds:
        raise TrainingError(
            f"The sample is too small: {len(y)} firms, {int(y.sum())} defaults; each fold needs both outcomes."
        )
    cv = cross_validate(
        frame,
        y,
        variables,
        folds=folds,
        repeats=repeats,
        seed=seed,
        min_bin_size=min_bin_size,
        min_iv=min_iv,
        c=c,
        scaling=scaling,
    )
    fit = _fit(frame, y, variables, min_bin_size=min_bin_size, min_iv=min_iv, c=c)
    _add_points(fit, scaling)
    spec: dict[str, Any] = {
        "format": FORMAT,
        "scaling": asdict(scaling),
        "intercept": fit.intercept,
        "variables": fit.variables,
        "dropped": fit.dropped,
        "grade_scale": [list(item) for item in GRADE_SCALE],
        "training": {
            "min_bin_size": min_bin_size,
            "min_iv": min_iv,
            "c": c,
            "seed": seed,
            "size": len(y),
            "bads": int(y.sum()),
        },
    }
    points = score(spec, frame)
    auc, ks = auc_ks(y, points)
    oof = cv.pop("oof_points")
    spec["metrics"] = {
        "auc": auc,
        "ks": ks,
        "gini": 2 * auc - 1,
        "cv": {**cv, "gini_mean": 2 * cv["auc_mean"] - 1},
        "bad_rate_by_grade": bad_rate_by_grade(y, oof, scaling),
    }
    edges = score_buckets(points)
    spec["score_distribution"] = {"edges": edges, "shares": score_shares(points, edges)}
    for variable in spec["variables"]:
        variable["train_shares"] = training_shares(variable)
    return spec
