"""Background tasks of the approval desk (run by the worker; scheduled daily by `zhiyuan scheduler`)."""

import logging

from django.utils import timezone
from django_tasks import task

from zhiyuan.approvals.services import applications_accept_overdue, applications_overdue_notify, deadlines_refresh

logger = logging.getLogger(__name__)


def approvals_sweep(*, today) -> dict:
    """Fill in deadlines the calendar now covers, apply 行政许可法 §32 to applications the window left
    undecided, and tell the clerks about cases the city is late on or has not acknowledged."""
    refreshed = deadlines_refresh()
    accepted = applications_accept_overdue(today=today)
    notified = applications_overdue_notify(today=today)
    return {"deadlines_filled": refreshed, "accepted_by_law": accepted, "overdue_notices": notified}


@task()
def run_approvals_sweep() -> dict:
    """The daily approvals sweep."""
    result = approvals_sweep(today=timezone.localdate())
    logger.info("approvals sweep: %s", result)
    return result
