"""Background tasks of the credit system (run by the worker; scheduled daily by `zhiyuan scheduler`)."""

import datetime as dt
import logging

from django.utils import timezone
from django_tasks import task

from zhiyuan.credit.models import ScoringRun
from zhiyuan.credit.retention import purge_expired
from zhiyuan.credit.scoring import active_model, scoring_run_create
from zhiyuan.credit.services import objections_overdue_notify

logger = logging.getLogger(__name__)


def credit_nightly(*, today: dt.date) -> dict:
    """Purge the adverse records past their retention or disclosure period (logged), remind the credit
    administrators of overdue objections, then score every firm as of `today` with the active model
    (unless it has already been done today with that model, or no model is active)."""
    purged = purge_expired(today=today)
    notices = objections_overdue_notify(today=today)
    result: dict = {"purged": purged, "objection_notices": notices, "scoring_run": None}
    model = active_model()
    if model is None:
        result["scoring"] = "no active model"
    elif ScoringRun.objects.filter(model=model, as_of=today, finished_at__isnull=False).exists():
        result["scoring"] = "already scored today"
    else:
        run = scoring_run_create(actor=None, as_of=today, model=model)
        result.update(
            scoring="scored",
            scoring_run=run.pk,
            firms_scored=run.firms,
            psi_score=run.psi_score,
            drift_alert=run.drift_alert,
        )
    return result


@task()
def run_credit_nightly() -> dict:
    """The nightly credit run."""
    result = credit_nightly(today=timezone.localdate())
    logger.info("credit nightly: %s", result)
    return result
