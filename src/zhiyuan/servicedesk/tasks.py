"""Background tasks of the service desk (run by the worker; scheduled daily by `zhiyuan scheduler`)."""

import logging

from django.utils import timezone
from django_tasks import task

from zhiyuan.core.workdays import CalendarNotCovered
from zhiyuan.servicedesk.services import escalations_run, request_close_unrated

logger = logging.getLogger(__name__)


def servicedesk_sweep(*, today) -> dict:
    """Escalate overdue requests (督办) and close requests left unrated; what was done, as a dict."""
    report = escalations_run(today=today)
    errors = [str(e) for e in report.errors]
    try:
        closed = request_close_unrated(today=today)
    except CalendarNotCovered as error:
        # Without the year's calendar no working-day cut-off can be computed: close nothing and say why.
        closed = 0
        errors.append(str(error.message))
    return {
        "overdue": report.overdue,
        "escalated_to_head": report.level1,
        "escalated_to_leader": report.level2,
        "notified": report.notified,
        "closed_unrated": closed,
        "errors": errors,
    }


@task()
def run_servicedesk_sweep() -> dict:
    """The daily service-desk sweep: escalations, then unrated requests closed."""
    result = servicedesk_sweep(today=timezone.localdate())
    logger.info("servicedesk sweep: %s", result)
    return result
