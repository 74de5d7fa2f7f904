"""How long adverse records count, and the purge that deletes them once they no longer do.

Each adverse record stores the last day it counts (`retain_until` / `disclosed_until`), computed
when it is loaded from the periods in settings (see config/settings.py for their legal sources):

- a late instalment: five years after it was paid (征信业管理条例 §16); an unpaid one keeps counting;
- a judgment or enforcement case: five years after it was closed (or filed, when no closing date);
- a 失信被执行人 listing: until it is delisted (plus a configurable margin, default none);
- a penalty: to the end of its disclosure period, one year for ordinary and three for serious ones,
  unless the feed gives the period; a minor penalty is not disclosed, so it stops counting at once.

`purge_expired` runs in the nightly credit task; it deletes what expired before today, records one
audit entry listing every record removed (feed, id, firm, reference), and answers open objections
on removed records.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhiyuan.core.services import audit_record
from zhiyuan.credit.models import (
    CourtKind,
    CourtRecord,
    Feed,
    Objection,
    ObjectionStatus,
    PenaltyRecord,
    PenaltySeverity,
    PurgeLog,
    RepaymentRecord,
)

PURGE_ACTION = "credit.records.purged"


def _days(setting: str) -> dt.timedelta:
    return dt.timedelta(days=getattr(settings, setting))


def repayment_retain_until(*, overdue_days: int, paid_on: dt.date | None) -> dt.date | None:
    """The last day a late instalment counts; None for one paid on time (nothing adverse) or unpaid."""
    if overdue_days <= 0 or paid_on is None:
        return None
    return paid_on + _days("ZHIYUAN_CREDIT_RETAIN_OVERDUE_DAYS")


def court_retain_until(
    *, kind: str, filed_on: dt.date, closed_on: dt.date | None, delisted_on: dt.date | None
) -> dt.date | None:
    """The last day a court record counts; None while a listing lasts."""
    if kind == CourtKind.DISHONEST:
        if delisted_on is None:
            return None
        return delisted_on + _days("ZHIYUAN_CREDIT_RETAIN_DISHONEST_DAYS")
    return (closed_on or filed_on) + _days("ZHIYUAN_CREDIT_RETAIN_COURT_DAYS")


def penalty_disclosed_until(*, severity: str, decided_on: dt.date) -> dt.date:
    """The end of a penalty's disclosure period by default; a minor penalty is not disclosed, so
    its period ends the day it is decided."""
    if severity == PenaltySeverity.SERIOUS:
        return decided_on + _days("ZHIYUAN_CREDIT_DISCLOSE_SERIOUS_PENALTY_DAYS")
    if severity == PenaltySeverity.ORDINARY:
        return decided_on + _days("ZHIYUAN_CREDIT_DISCLOSE_ORDINARY_PENALTY_DAYS")
    return decided_on


def _expired(today: dt.date) -> list[tuple[str, Any]]:
    return [
        (Feed.REPAYMENTS, RepaymentRecord.objects.filter(retain_until__lt=today).select_related("loan")),
        (Feed.COURT, CourtRecord.objects.filter(retain_until__lt=today)),
        (Feed.PENALTIES, PenaltyRecord.objects.filter(disclosed_until__lt=today)),
    ]


def _reference(feed: str, record) -> str:
    if feed == Feed.REPAYMENTS:
        return f"{record.loan.lender} {record.loan.contract_no} {record.due_on}"
    if feed == Feed.COURT:
        return record.case_no
    return f"{record.authority} {record.decision_no}"


def purge_expired(*, today: dt.date | None = None) -> dict[str, int]:
    """Delete the adverse records that stopped counting before `today`; log what was removed.

    Returns the number removed per feed. One transaction: a failure removes nothing."""
    today = today or timezone.localdate()
    removed: dict[str, list[dict[str, Any]]] = {}
    with transaction.atomic():
        for feed, queryset in _expired(today):
            rows = list(queryset)
            if not rows:
                continue
            removed.setdefault(feed, []).extend(
                {"id": row.pk, "enterprise_id": row.enterprise_id, "reference": _reference(feed, row)} for row in rows
            )
            queryset.model.objects.filter(pk__in=[row.pk for row in rows]).delete()
            Objection.objects.filter(
                feed=feed, record_id__in=[row.pk for row in rows], status=ObjectionStatus.OPEN
            ).update(
                status=ObjectionStatus.UPHELD,
                answer=_("The record reached the end of its retention period and was removed."),
                answered_at=timezone.now(),
            )
        if removed:
            log = PurgeLog.objects.create(
                cutoff=today, removed=removed, total=sum(len(rows) for rows in removed.values())
            )
            audit_record(
                actor=None,
                action=PURGE_ACTION,
                obj=log,
                changes={"removed": {feed: len(rows) for feed, rows in removed.items()}},
            )
    return {feed: len(rows) for feed, rows in removed.items()}
