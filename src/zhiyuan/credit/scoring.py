"""Training, activating and running scorecard models over the registry (services).

- `model_train` builds the training sample from the known outcomes (features as of each outcome's
  observation date), runs `scorecard.train` (cross-validated), and stores the result as a new
  version — JSON, never pickle.
- `model_activate` makes one version the active one (audited; exactly one is active).
- `scoring_run_create` scores every firm as of a date with the active model: points, PD, grade on
  the master scale, the knock-out rule that capped it, the top reason codes; and measures drift
  (PSI of the score and of each variable against the training sample), alerting when it is high.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from zhiyuan.accounts.models import Role, User
from zhiyuan.core.errors import ConflictError, PermissionDeniedError, ValidationFailed
from zhiyuan.core.services import audit_record, notify
from zhiyuan.credit import scorecard
from zhiyuan.credit.features import (
    FEATURE_BY_NAME,
    FEATURES,
    KNOCKOUT_FLAGS,
    build_features,
    cap_grade,
    clean_value,
    knockout_of,
)
from zhiyuan.credit.models import CreditScore, Outcome, ScoreModel, ScoringRun
from zhiyuan.credit.permissions import can_manage_credit

TOP_REASONS = 4
# A variable whose points fall short of its best bin by less than this is not a reason: with the
# default PDO of 20, 3 points are about a tenth more odds of default.
MIN_POINTS_LOST = 3.0
SCORE_BATCH = 5000


def _check_manager(actor: User | None) -> None:
    if actor is not None and not can_manage_credit(actor):
        raise PermissionDeniedError(_("Only the credit administrators may train, activate or run scorecard models."))


def default_scaling() -> scorecard.Scaling:
    return scorecard.Scaling(
        base_score=float(settings.ZHIYUAN_CREDIT_BASE_SCORE),
        base_odds=float(settings.ZHIYUAN_CREDIT_BASE_ODDS),
        pdo=float(settings.ZHIYUAN_CREDIT_PDO),
    )


def training_sample() -> tuple[pd.DataFrame, np.ndarray]:
    """Features as of each outcome's observation date, and the outcomes (1 = defaulted)."""
    outcomes = list(
        Outcome.objects.order_by("observed_on", "enterprise_id").values_list(
            "observed_on", "enterprise_id", "defaulted"
        )
    )
    if not outcomes:
        raise ValidationFailed(_("There are no default outcomes to train on: load the outcomes feed first."))
    frames = []
    targets = []
    by_date: dict[dt.date, list[tuple[int, bool]]] = {}
    for observed_on, enterprise_id, defaulted in outcomes:
        by_date.setdefault(observed_on, []).append((enterprise_id, defaulted))
    for observed_on, rows in by_date.items():
        frame = build_features(observed_on, [pk for pk, _defaulted in rows])
        outcome = dict(rows)
        frames.append(frame.reset_index())
        targets.extend(int(outcome[pk]) for pk in frame.index)
    return pd.concat(frames, ignore_index=True), np.asarray(targets, dtype=int)


def model_train(
    *,
    actor: User | None,
    scaling: scorecard.Scaling | None = None,
    folds: int = 5,
    repeats: int = 1,
    note: str = "",
    activate: bool = False,
    synthetic: bool = False,
) -> ScoreModel:
    """Train a new scorecard version on the known outcomes and store it (inactive unless asked)."""
    _check_manager(actor)
    if folds < 2 or repeats < 1:
        raise ValidationFailed(_("Cross-validation needs at least 2 folds and 1 repeat."), field="folds")
    frame, y = training_sample()
    try:
        spec = scorecard.train(
            frame,
            y,
            [feature.variable() for feature in FEATURES],
            scaling=scaling or default_scaling(),
            folds=folds,
            repeats=repeats,
        )
    except scorecard.TrainingError as error:
        raise ValidationFailed(_("The model could not be trained: %(reason)s") % {"reason": error}) from error
    with transaction.atomic():
        version = (ScoreModel.objects.aggregate(last=Max("version"))["last"] or 0) + 1
        model = ScoreModel.objects.create(
            version=version,
            spec=spec,
            trained_by=actor,
            sample_size=len(y),
            bad_count=int(y.sum()),
            auc=spec["metrics"]["cv"]["auc_mean"],
            ks=spec["metrics"]["cv"]["ks_mean"],
            is_synthetic=synthetic,
            note=note[:200],
        )
        audit_record(
            actor=actor, action="credit.model.trained", obj=model, changes={"auc": [None, round(model.auc, 4)]}
        )
        if activate:
            model_activate(actor=actor, model=model)
    return model


def model_activate(*, actor: User | None, model: ScoreModel) -> ScoreModel:
    """Make `model` the active scorecard; the previous one is deactivated. Audited."""
    _check_manager(actor)
    with transaction.atomic():
        previous = ScoreModel.objects.select_for_update().filter(is_active=True).exclude(pk=model.pk).first()
        if previous is not None:
            previous.is_active = False
            previous.save(update_fields=["is_active"])
        if not model.is_active:
            model.is_active = True
            model.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="credit.model.activated",
            obj=model,
            changes={"active model": [str(previous) if previous else None, str(model)]},
        )
    return model


def active_model() -> ScoreModel | None:
    return ScoreModel.objects.filter(is_active=True).first()


def _reasons(
    spec: dict[str, Any], points_row: np.ndarray, values: dict[str, float | None], knockout: str
) -> list[dict[str, Any]]:
    lost = []
    for variable, points in zip(spec["variables"], points_row, strict=True):
        shortfall = float(variable["max_points"] - points)  # a Python float: round() on numpy ones is slow
        if shortfall >= MIN_POINTS_LOST:
            lost.append((shortfall, variable["name"]))
    lost.sort(reverse=True)
    reasons: list[dict[str, Any]] = []
    if knockout:
        reasons.append({"code": knockout, "feature": "", "value": None, "points_lost": None})
    for shortfall, name in lost[: TOP_REASONS - len(reasons)]:
        reasons.append(
            {
                "code": FEATURE_BY_NAME[name].code,
                "feature": name,
                "value": values.get(name),
                "points_lost": round(shortfall, 1),
            }
        )
    return reasons


def score_frame(spec: dict[str, Any], frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Score every row of a feature frame: points, PD, grade (capped by knock-outs), reasons."""
    scaling = scorecard.scaling_of(spec)
    table = scorecard.points_table(spec, frame)
    totals = table.sum(axis=1)
    pds = scorecard.points_to_pd(totals, scaling)
    names = [feature.name for feature in FEATURES]
    flags = list(KNOCKOUT_FLAGS.values())
    records = frame[names + flags].to_dict("index")
    results = []
    for row, (pk, record) in enumerate(records.items()):
        values = {name: clean_value(record[name]) for name in names}
        rule = knockout_of(record)
        grade = cap_grade(scorecard.pd_to_grade(float(pds[row])), rule)
        results.append(
            {
                "enterprise_id": int(pk),
                "points": round(float(totals[row]), 2),
                "pd": float(pds[row]),
                "grade": grade,
                "knockout": rule.code if rule else "",
                "reasons": _reasons(spec, table[row], values, rule.code if rule else ""),
                "features": values,
            }
        )
    return results


def _drift(spec: dict[str, Any], frame: pd.DataFrame, totals: np.ndarray) -> tuple[float, dict[str, float]]:
    distribution = spec["score_distribution"]
    psi_score = scorecard.psi(distribution["shares"], scorecard.score_shares(totals, distribution["edges"]))
    per_variable = {}
    for variable in spec["variables"]:
        values = frame[variable["name"]].tolist()
        values = [
            None if value is None or (isinstance(value, float) and math.isnan(value)) else value for value in values
        ]
        per_variable[variable["name"]] = round(
            scorecard.psi(variable["train_shares"], scorecard.variable_shares(variable, values)), 4
        )
    return round(psi_score, 4), per_variable


def scoring_run_create(
    *, actor: User | None, as_of: dt.date | None = None, model: ScoreModel | None = None
) -> ScoringRun:
    """Score every firm in the registry as of `as_of` (today) with `model` (the active one)."""
    _check_manager(actor)
    model = model or active_model()
    if model is None:
        raise ConflictError(_("No scorecard model is active: train one with `zhiyuan credit train` and activate it."))
    as_of = as_of or timezone.localdate()
    frame = build_features(as_of)
    results = score_frame(model.spec, frame)
    totals = np.array([result["points"] for result in results], dtype=float)
    psi_score, psi_features = _drift(model.spec, frame, totals) if results else (None, {})
    threshold = settings.ZHIYUAN_CREDIT_PSI_ALERT
    watched = [value for name, value in psi_features.items() if not FEATURE_BY_NAME[name].drifts_by_design]
    alert = bool(results) and (psi_score >= threshold or any(value >= threshold for value in watched))
    with transaction.atomic():
        run = ScoringRun.objects.create(model=model, as_of=as_of)
        for start in range(0, len(results), SCORE_BATCH):
            CreditScore.objects.bulk_create(
                CreditScore(run=run, as_of=as_of, **dict(result.items()))
                for result in results[start : start + SCORE_BATCH]
            )
        run.firms = len(results)
        run.psi_score = psi_score
        run.psi_features = psi_features
        run.grade_counts = dict(Counter(result["grade"] for result in results))
        run.drift_alert = alert
        run.finished_at = timezone.now()
        run.save()
        audit_record(actor=actor, action="credit.scoring.run", obj=run, changes={"firms": [None, run.firms]})
        if alert:
            notify(
                recipients=User.objects.filter(role__in=[Role.ADMIN, Role.SERVICE_STAFF], is_active=True),
                title=_("Credit model drift: PSI %(psi)s on %(date)s")
                % {"psi": f"{max([psi_score, *psi_features.values()]):.2f}", "date": as_of},
                body=_(
                    "The population scored no longer looks like the training sample. "
                    "Review the model and consider retraining."
                ),
                link="/credit/models/",
                key=f"credit-drift-{run.pk}",
            )
    return run
