"""Escalation (督办) with fixed dates — the department head first, the leaders after
ZHIYUAN_SERVICEDESK_ESCALATE_LEADER_WORKDAYS more working days, nothing twice — and the automatic
closing of requests left unrated."""

import datetime as dt

import pytest
from django.conf import settings

from zhiyuan.core.models import Notification
from zhiyuan.core.scheduler import enqueue_due_jobs
from zhiyuan.servicedesk import services
from zhiyuan.servicedesk.models import RequestEvent, RequestStatus, ServiceRequest
from zhiyuan.servicedesk.tasks import servicedesk_sweep
from zhiyuan.servicedesk.tests.test_services import assign_specialist, request_in, submit

D = dt.date
S = RequestStatus
RECEIVED = D(2026, 11, 2)  # Monday: sign for by 3, reply by 4, resolve by 9 November


@pytest.fixture
def desk(personas, firm_a):
    assign_specialist(firm_a, personas["specialist"])
    department = personas["specialist"].organisation
    department.head = personas["service_staff"]  # the centre's head
    department.save()
    return personas


def keys(user):
    return set(
        Notification.objects.filter(recipient=user, key__startswith="servicedesk-escalation").values_list(
            "key", flat=True
        )
    )


def test_head_first_then_leader_and_never_twice(desk):
    request = submit(desk, on=RECEIVED)
    head, leader = desk["service_staff"], desk["leader"]

    report = services.escalations_run(today=D(2026, 11, 3))  # nothing missed yet
    assert (report.overdue, report.level1, report.level2) == (0, 0, 0)

    report = services.escalations_run(today=D(2026, 11, 4))  # sign-for (3 Nov) missed, 1 working day late
    assert (report.overdue, report.level1, report.level2, report.notified) == (1, 1, 0, 1)
    assert keys(head) == {f"servicedesk-escalation:{request.pk}:0:1"}
    assert keys(leader) == set()
    request.refresh_from_db()
    assert request.escalation_level == 1

    for day in (D(2026, 11, 4), D(2026, 11, 5), D(2026, 11, 6), D(2026, 11, 7), D(2026, 11, 8)):
        report = services.escalations_run(today=day)
        assert (report.level1, report.level2, report.notified) == (0, 0, 0), day
    assert keys(leader) == set()

    # Monday 9 November: 4 working days late (4, 5, 6, 9) = 1 + 3 → the leaders.
    report = services.escalations_run(today=D(2026, 11, 9))
    assert (report.level1, report.level2, report.notified) == (0, 1, 1)
    assert keys(leader) == {f"servicedesk-escalation:{request.pk}:0:2"}
    request.refresh_from_db()
    assert request.escalation_level == 2

    report = services.escalations_run(today=D(2026, 11, 10))
    assert (report.level1, report.level2, report.notified) == (0, 0, 0)
    assert Notification.objects.filter(key__startswith="servicedesk-escalation").count() == 2
    events = RequestEvent.objects.filter(request=request, kind="escalate")
    assert events.count() == 2
    assert not events.filter(visible_to_firm=True).exists()


def test_a_late_first_sweep_does_both_levels_at_once(desk):
    request = submit(desk, on=RECEIVED)
    report = services.escalations_run(today=D(2026, 11, 20))
    assert (report.level1, report.level2) == (1, 1)
    assert keys(desk["service_staff"]) == {f"servicedesk-escalation:{request.pk}:0:1"}
    assert keys(desk["leader"]) == {f"servicedesk-escalation:{request.pk}:0:2"}


def test_weekends_do_not_count_as_late(desk):
    # Signed and replied on time; resolve by Friday 6 November (received Friday 30 October).
    request = submit(desk, on=D(2026, 10, 30))
    request = services.request_sign_for(actor=desk["specialist"], request=request, on=D(2026, 10, 30))
    request = services.request_reply(actor=desk["specialist"], request=request, note="受理", on=D(2026, 10, 30))
    assert request.resolve_due == D(2026, 11, 6)
    assert services.escalations_run(today=D(2026, 11, 7)).level1 == 0  # Saturday
    assert services.escalations_run(today=D(2026, 11, 8)).level1 == 0  # Sunday
    assert services.escalations_run(today=D(2026, 11, 9)).level1 == 1  # Monday


def test_waiting_for_the_firm_and_resolved_are_not_escalated(desk):
    waiting = request_in(S.WAITING_FOR_FIRM, desk, on=RECEIVED)
    resolved = request_in(S.RESOLVED, desk, on=RECEIVED)
    report = services.escalations_run(today=D(2026, 11, 25))
    assert report.overdue == 0
    assert ServiceRequest.objects.filter(pk__in=[waiting.pk, resolved.pk], escalation_level__gt=0).count() == 0


def test_a_missing_head_is_reported(personas, firm_a):
    assign_specialist(firm_a, personas["specialist"])
    submit(personas, on=RECEIVED)
    report = services.escalations_run(today=D(2026, 11, 4))
    assert report.level1 == 1 and report.notified == 0
    assert len(report.errors) == 1


def test_reopening_escalates_afresh(desk):
    request = submit(desk, on=RECEIVED)
    services.escalations_run(today=D(2026, 11, 4))
    request.refresh_from_db()
    request = services.request_sign_for(actor=desk["specialist"], request=request, on=D(2026, 11, 4))
    request = services.request_resolve(actor=desk["specialist"], request=request, resolution="已办", on=D(2026, 11, 4))
    request = services.request_reopen(actor=desk["firm_a"], request=request, reason="未解决", on=D(2026, 11, 5))
    assert request.escalation_level == 0
    assert request.resolve_due == D(2026, 11, 12)
    report = services.escalations_run(today=D(2026, 11, 13))
    assert report.level1 == 1
    assert f"servicedesk-escalation:{request.pk}:1:1" in keys(desk["service_staff"])


# -- auto-close --------------------------------------------------------------------------------------


def test_unrated_requests_close_after_five_working_days(desk):
    assert settings.ZHIYUAN_SERVICEDESK_AUTOCLOSE_WORKDAYS == 5
    request = request_in(S.RESOLVED, desk, on=RECEIVED)  # resolved Monday 2 November
    rated = request_in(S.CLOSED, desk, on=RECEIVED)
    reopened = request_in(S.REOPENED, desk, on=RECEIVED)
    assert services.request_close_unrated(today=D(2026, 11, 6)) == 0
    assert services.request_close_unrated(today=D(2026, 11, 8)) == 0  # Sunday: 4 working days
    assert services.request_close_unrated(today=D(2026, 11, 9)) == 1  # 3, 4, 5, 6, 9
    request.refresh_from_db()
    assert (request.status, request.closed_on, request.rating) == (S.CLOSED, D(2026, 11, 9), None)
    event = RequestEvent.objects.filter(request=request).latest("id")
    assert (event.kind, event.from_status, event.to_status) == ("close_unrated", S.RESOLVED, S.CLOSED)
    assert services.request_close_unrated(today=D(2026, 11, 10)) == 0
    rated.refresh_from_db()
    reopened.refresh_from_db()
    assert rated.closed_on == RECEIVED and reopened.status == S.REOPENED


def test_autoclose_counts_working_days_across_the_holiday(desk):
    request = request_in(S.RESOLVED, desk, on=D(2026, 9, 30))
    assert services.request_close_unrated(today=D(2026, 10, 12)) == 0  # 8, 9, 10, 12 = 4
    assert services.request_close_unrated(today=D(2026, 10, 13)) == 1
    request.refresh_from_db()
    assert request.status == S.CLOSED


def test_the_sweep_is_a_daily_task(desk):
    assert "zhiyuan.servicedesk.tasks.run_servicedesk_sweep" in settings.ZHIYUAN_DAILY_TASKS
    submit(desk, on=RECEIVED)
    request_in(S.RESOLVED, desk, on=RECEIVED)
    result = servicedesk_sweep(today=D(2026, 11, 20))
    assert result["escalated_to_head"] == 1 and result["escalated_to_leader"] == 1
    assert result["closed_unrated"] == 1
    assert "zhiyuan.servicedesk.tasks.run_servicedesk_sweep" in enqueue_due_jobs(today=D(2026, 11, 20), now_hour=23)


@pytest.mark.django_db
def test_sweep_reports_an_uncovered_calendar_instead_of_failing():
    import datetime as dt

    from zhiyuan.servicedesk.tasks import servicedesk_sweep

    result = servicedesk_sweep(today=dt.date(2031, 3, 3))
    assert result["closed_unrated"] == 0
    assert any("2031" in e for e in result["errors"])
