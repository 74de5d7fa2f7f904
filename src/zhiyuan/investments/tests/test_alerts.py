"""The daily project alerts with a fixed `today` and the real working-day calendar.

The dates sit around National Day 2026: Tuesday 29 September is the due date; after it the working
days are 30 Sep (1), 8 Oct (2), 9 Oct (3), Saturday 10 Oct — a 调休 make-up day — (4) and Monday
12 Oct (5). With the escalation threshold at 5 working days the liaison leader hears on 12 October,
not earlier (a count of calendar days or of plain weekdays would escalate during the holiday).
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from zhiyuan.accounts.models import Organisation, OrganisationKind, Role
from zhiyuan.accounts.services import user_create
from zhiyuan.core.models import Notification
from zhiyuan.investments.alerts import alerts_run
from zhiyuan.investments.models import (
    Blocker,
    BlockerStatus,
    KeyProject,
    Milestone,
    Pool,
    Project,
    Stage,
    Status,
)
from zhiyuan.investments.tasks import run_project_alerts

pytestmark = pytest.mark.django_db

D = dt.date
DUE = D(2026, 9, 29)


@pytest.fixture(autouse=True)
def threshold(settings):
    settings.ZHIYUAN_ESCALATE_AFTER_WORKDAYS = 5
    settings.ZHIYUAN_NOTIFY_BY_EMAIL = False


@pytest.fixture
def other_leader(personas):
    return user_create(
        actor=None,
        username="leader2",
        password="unused-pass-123",
        role=Role.LEADER,
        organisation=personas["leader"].organisation,
        last_name="吴",
        first_name="副区长",
        validate=False,
    )


@pytest.fixture
def project(personas, other_leader):
    """A project under construction on the 2026 key list (联点领导: the leader persona); in 2025 it had another."""
    project = Project.objects.create(
        name="株洲市农副产品批发交易物流中心一期",
        stage=Stage.UNDER_CONSTRUCTION,
        pool=Pool.CONSTRUCTION,
        actual_start=D(2026, 3, 1),
        project_officer=personas["project"],
        investment_officer=personas["investment"],
    )
    KeyProject.objects.create(
        project=project, year=2026, planned_investment=Decimal("1000"), liaison_leader=personas["leader"]
    )
    KeyProject.objects.create(
        project=project, year=2025, planned_investment=Decimal("1000"), liaison_leader=other_leader
    )
    return project


@pytest.fixture
def unit(db):
    return Organisation.objects.create(name="荷塘区自然资源局", kind=OrganisationKind.DISTRICT)


def inbox(user) -> list[tuple[str, str]]:
    return list(Notification.objects.filter(recipient=user).order_by("id").values_list("key", "link"))


# --- Overdue milestones ------------------------------------------------------------------------


def test_milestone_due_today_is_not_yet_overdue(project, personas):
    Milestone.objects.create(project=project, name="主体封顶", planned_on=DUE)
    report = alerts_run(today=DUE)
    assert (report.milestones, report.notified, report.escalated) == (0, 0, 0)
    assert not Notification.objects.exists()


def test_overdue_milestone_notifies_the_project_officer_once(project, personas):
    milestone = Milestone.objects.create(project=project, name="主体封顶", planned_on=DUE)
    first = alerts_run(today=D(2026, 9, 30))
    second = alerts_run(today=D(2026, 9, 30))
    third = alerts_run(today=D(2026, 10, 8))
    assert (first.milestones, first.notified, first.escalated) == (1, 1, 0)
    assert (second.milestones, second.notified) == (1, 0)
    assert third.notified == 0
    link = reverse("investments:detail", args=[project.pk])
    assert inbox(personas["project"]) == [(f"milestone-overdue:{milestone.pk}", link)]
    note = Notification.objects.get(recipient=personas["project"])
    assert "主体封顶" in note.title and project.name in note.title
    assert "2026-09-29" in note.body
    assert inbox(personas["investment"]) == []  # the project officer answers once a project has one
    assert inbox(personas["leader"]) == []


def test_without_a_project_officer_the_investment_officer_is_told(project, personas):
    project.project_officer = None
    project.save()
    Milestone.objects.create(project=project, name="土地摘牌", planned_on=DUE)
    alerts_run(today=D(2026, 9, 30))
    assert len(inbox(personas["investment"])) == 1


def test_no_officer_at_all_notifies_nobody(project):
    project.project_officer = None
    project.investment_officer = None
    project.save()
    Milestone.objects.create(project=project, name="土地摘牌", planned_on=DUE)
    report = alerts_run(today=D(2026, 9, 30))
    assert (report.milestones, report.notified) == (1, 0)
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    ("today", "escalated"),
    [
        (D(2026, 9, 30), False),  # 1 working day late
        (D(2026, 10, 7), False),  # still 1: the holiday week does not count
        (D(2026, 10, 9), False),  # 3 (plain weekdays would give 7)
        (D(2026, 10, 10), False),  # 4: the make-up Saturday counts
        (D(2026, 10, 11), False),  # Sunday: still 4
        (D(2026, 10, 12), True),  # 5
        (D(2026, 10, 20), True),
    ],
)
def test_escalation_after_the_working_day_threshold(project, personas, today, escalated):
    milestone = Milestone.objects.create(project=project, name="主体封顶", planned_on=DUE)
    report = alerts_run(today=today)
    assert report.escalated == int(escalated)
    leader_keys = [key for key, _link in inbox(personas["leader"])]
    assert leader_keys == ([f"milestone-escalated:{milestone.pk}"] if escalated else [])


def test_escalation_reaches_this_years_liaison_leader_once(project, personas, other_leader):
    Milestone.objects.create(project=project, name="主体封顶", planned_on=DUE)
    alerts_run(today=D(2026, 10, 12))
    alerts_run(today=D(2026, 10, 12))
    alerts_run(today=D(2026, 10, 13))
    assert Notification.objects.filter(recipient=personas["leader"]).count() == 1
    note = Notification.objects.get(recipient=personas["leader"])
    assert "主体封顶" in note.title
    assert "5" in note.body  # late by 5 working days
    assert inbox(other_leader) == []  # the 2025 liaison leader is not this year's
    assert Notification.objects.filter(recipient=personas["project"]).count() == 1


def test_threshold_comes_from_settings(project, personas, settings):
    settings.ZHIYUAN_ESCALATE_AFTER_WORKDAYS = 3
    Milestone.objects.create(project=project, name="主体封顶", planned_on=DUE)
    assert alerts_run(today=D(2026, 10, 8)).escalated == 0  # 2
    assert alerts_run(today=D(2026, 10, 9)).escalated == 1  # 3


def test_no_escalation_for_a_project_not_on_this_years_list(project, personas):
    KeyProject.objects.filter(project=project, year=2026).delete()
    Milestone.objects.create(project=project, name="主体封顶", planned_on=DUE)
    report = alerts_run(today=D(2026, 10, 20))
    assert (report.notified, report.escalated) == (1, 0)
    assert not Notification.objects.filter(recipient__role=Role.LEADER).exists()


def test_reached_milestone_triggers_nothing(project):
    Milestone.objects.create(project=project, name="主体封顶", planned_on=DUE, actual_on=D(2026, 10, 9))
    report = alerts_run(today=D(2026, 10, 20))
    assert (report.milestones, report.notified, report.escalated) == (0, 0, 0)
    assert not Notification.objects.exists()


@pytest.mark.parametrize("status", [Status.STOPPED, Status.POSTPONED, Status.WITHDRAWN])
def test_milestones_of_halted_projects_are_skipped(project, status):
    project.status = status
    project.save()
    Milestone.objects.create(project=project, name="主体封顶", planned_on=DUE)
    report = alerts_run(today=D(2026, 10, 20))
    assert (report.milestones, report.notified, report.escalated) == (0, 0, 0)
    assert not Notification.objects.exists()


def test_uncovered_calendar_year_still_notifies_the_officer_and_reports_the_gap(project, personas):
    KeyProject.objects.create(
        project=project, year=2031, planned_investment=Decimal("1"), liaison_leader=personas["leader"]
    )
    Milestone.objects.create(project=project, name="二期开工", planned_on=D(2031, 3, 2))
    report = alerts_run(today=D(2031, 3, 20))
    assert (report.notified, report.escalated) == (1, 0)
    assert len(report.errors) == 1 and "2031" in report.errors[0]
    assert inbox(personas["leader"]) == []


# --- Blockers ----------------------------------------------------------------------------------


def test_blocker_past_due_notifies_officer_and_raiser_then_escalates(project, personas, unit):
    blocker = Blocker.objects.create(
        project=project, description="征拆协议未签", unit=unit, due_on=DUE, raised_by=personas["specialist"]
    )
    assert alerts_run(today=DUE).blockers == 0  # due today: not late yet
    first = alerts_run(today=D(2026, 9, 30))
    assert (first.blockers, first.notified, first.escalated) == (1, 2, 0)
    assert [k for k, _l in inbox(personas["project"])] == [f"blocker-overdue:{blocker.pk}"]
    assert [k for k, _l in inbox(personas["specialist"])] == [f"blocker-overdue:{blocker.pk}"]
    note = Notification.objects.get(recipient=personas["specialist"])
    assert "征拆协议未签" in note.body and unit.name in note.body
    assert alerts_run(today=D(2026, 10, 10)).escalated == 0
    assert alerts_run(today=D(2026, 10, 12)).escalated == 1
    assert alerts_run(today=D(2026, 10, 13)).escalated == 0
    assert [k for k, _l in inbox(personas["leader"])] == [f"blocker-escalated:{blocker.pk}"]
    assert Notification.objects.count() == 3


def test_raiser_who_is_the_officer_is_told_once(project, personas, unit):
    Blocker.objects.create(
        project=project, description="用电报装", unit=unit, due_on=DUE, raised_by=personas["project"]
    )
    assert alerts_run(today=D(2026, 9, 30)).notified == 1
    assert Notification.objects.filter(recipient=personas["project"]).count() == 1


def test_resolved_blocker_triggers_nothing(project, personas, unit):
    Blocker.objects.create(
        project=project,
        description="用电报装",
        unit=unit,
        due_on=DUE,
        raised_by=personas["project"],
        status=BlockerStatus.RESOLVED,
        resolution="已通电",
        resolved_on=D(2026, 9, 28),
    )
    report = alerts_run(today=D(2026, 10, 20))
    assert (report.blockers, report.notified, report.escalated) == (0, 0, 0)
    assert not Notification.objects.exists()


def test_blockers_of_a_withdrawn_project_trigger_nothing(project, personas, unit):
    project.status = Status.WITHDRAWN
    project.save()
    Blocker.objects.create(
        project=project, description="用电报装", unit=unit, due_on=DUE, raised_by=personas["project"]
    )
    report = alerts_run(today=D(2026, 10, 20))
    assert (report.blockers, report.notified, report.escalated) == (0, 0, 0)
    assert not Notification.objects.exists()


# --- The background task -----------------------------------------------------------------------


def test_run_project_alerts_runs_through_the_task_backend(project, personas, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    milestone = Milestone.objects.create(project=project, name="设备安装", planned_on=yesterday)
    result = run_project_alerts.enqueue()
    assert result.status == "SUCCESSFUL", result.errors
    figures = result.return_value
    assert (figures["milestones"], figures["blockers"], figures["notified"]) == (1, 0, 1)
    assert inbox(personas["project"]) == [
        (f"milestone-overdue:{milestone.pk}", reverse("investments:detail", args=[project.pk]))
    ]
    again = run_project_alerts.enqueue()
    assert again.return_value["notified"] == 0
    assert Notification.objects.filter(recipient=personas["project"]).count() == 1
