"""Background tasks of the investments app (run by the worker; scheduled daily by `zhiyuan scheduler`)."""

import logging

from django.utils import timezone
from django_tasks import task

from zhiyuan.investments.alerts import alerts_run

logger = logging.getLogger(__name__)


@task()
def run_project_alerts() -> dict:
    """The daily overdue-milestone and blocker alerts."""
    report = alerts_run(today=timezone.localdate())
    logger.info("project alerts: %s", report)
    return {
        "milestones": report.milestones,
        "blockers": report.blockers,
        "notified": report.notified,
        "escalated": report.escalated,
        "errors": report.errors,
    }
