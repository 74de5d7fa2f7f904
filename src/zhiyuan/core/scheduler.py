"""Daily jobs: enqueue each task named in settings.ZHIYUAN_DAILY_TASKS once a day.

Any number of `zhiyuan scheduler` processes may run; the DailyRun unique row decides which one
enqueues a job on a given day, so a job runs once per day however many schedulers there are.
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from zhiyuan.core.models import DailyRun

logger = logging.getLogger(__name__)


def enqueue_due_jobs(*, today: dt.date | None = None, now_hour: int | None = None) -> list[str]:
    """Enqueue every daily task not yet enqueued today whose hour has come; returns their names."""
    today = today or timezone.localdate()
    hour = timezone.localtime().hour if now_hour is None else now_hour
    if hour < settings.ZHIYUAN_DAILY_TASKS_HOUR:
        return []
    enqueued = []
    for name in settings.ZHIYUAN_DAILY_TASKS:
        try:
            with transaction.atomic():
                DailyRun.objects.create(name=name, day=today)
                import_string(name).enqueue()
        except IntegrityError:
            continue
        logger.info("enqueued daily job %s for %s", name, today)
        enqueued.append(name)
    return enqueued
