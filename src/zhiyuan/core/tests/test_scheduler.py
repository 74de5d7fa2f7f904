"""The daily scheduler: nothing before the configured hour, each job once a day however often it runs."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from zhiyuan.core.models import DailyRun
from zhiyuan.core.scheduler import enqueue_due_jobs

pytestmark = pytest.mark.django_db

ALERTS = "zhiyuan.investments.tasks.run_project_alerts"
SECOND = "zhiyuan.core.tests.test_scheduler.second_daily_job"
D = dt.date


@task()
def second_daily_job() -> str:
    """A second daily job, so that the scheduler is seen handling more than one."""
    return "done"


@pytest.fixture(autouse=True)
def database_backend(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.ZHIYUAN_DAILY_TASKS_HOUR = 7
    settings.ZHIYUAN_DAILY_TASKS = [ALERTS, SECOND]


def queued() -> list[tuple[str, str]]:
    return sorted(DBTaskResult.objects.values_list("task_path", "status"))


def runs() -> list[tuple[str, dt.date]]:
    return sorted(DailyRun.objects.values_list("name", "day"))


@pytest.mark.parametrize("hour", [0, 6])
def test_nothing_before_the_hour(hour):
    assert enqueue_due_jobs(today=D(2026, 3, 9), now_hour=hour) == []
    assert queued() == []
    assert runs() == []


@pytest.mark.parametrize("hour", [7, 8, 23])
def test_at_or_after_the_hour_each_job_is_enqueued(hour):
    assert enqueue_due_jobs(today=D(2026, 3, 9), now_hour=hour) == [ALERTS, SECOND]
    assert queued() == sorted([(ALERTS, "READY"), (SECOND, "READY")])
    assert runs() == sorted([(ALERTS, D(2026, 3, 9)), (SECOND, D(2026, 3, 9))])


def test_each_job_once_per_day_however_often_called():
    assert enqueue_due_jobs(today=D(2026, 3, 9), now_hour=7) == [ALERTS, SECOND]
    assert enqueue_due_jobs(today=D(2026, 3, 9), now_hour=7) == []
    assert enqueue_due_jobs(today=D(2026, 3, 9), now_hour=22) == []
    assert len(queued()) == 2


def test_an_early_call_does_not_use_up_the_day():
    assert enqueue_due_jobs(today=D(2026, 3, 9), now_hour=6) == []
    assert enqueue_due_jobs(today=D(2026, 3, 9), now_hour=7) == [ALERTS, SECOND]


def test_next_day_enqueues_again():
    enqueue_due_jobs(today=D(2026, 3, 9), now_hour=7)
    assert enqueue_due_jobs(today=D(2026, 3, 10), now_hour=6) == []
    assert enqueue_due_jobs(today=D(2026, 3, 10), now_hour=9) == [ALERTS, SECOND]
    assert queued() == sorted([(ALERTS, "READY"), (ALERTS, "READY"), (SECOND, "READY"), (SECOND, "READY")])
    assert [day for _name, day in runs()] == [D(2026, 3, 9), D(2026, 3, 10)] * 2


def test_a_job_already_enqueued_today_is_skipped_while_the_others_run(settings):
    settings.ZHIYUAN_DAILY_TASKS = [ALERTS]
    assert enqueue_due_jobs(today=D(2026, 3, 9), now_hour=7) == [ALERTS]
    settings.ZHIYUAN_DAILY_TASKS = [ALERTS, SECOND]
    assert enqueue_due_jobs(today=D(2026, 3, 9), now_hour=7) == [SECOND]
    assert queued() == sorted([(ALERTS, "READY"), (SECOND, "READY")])


def test_configured_hour_is_respected(settings):
    settings.ZHIYUAN_DAILY_TASKS_HOUR = 18
    assert enqueue_due_jobs(today=D(2026, 3, 9), now_hour=17) == []
    assert enqueue_due_jobs(today=D(2026, 3, 9), now_hour=18) == [ALERTS, SECOND]


def test_scheduler_command_once(settings):
    settings.ZHIYUAN_DAILY_TASKS_HOUR = 0  # whatever the time of day the test runs
    out = StringIO()
    call_command("scheduler", "--once", stdout=out)
    assert out.getvalue().splitlines() == [f"enqueued {ALERTS}", f"enqueued {SECOND}"]
    call_command("scheduler", "--once", stdout=out)
    assert len(queued()) == 2
