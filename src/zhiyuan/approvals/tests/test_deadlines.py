"""Deadlines in working days: the window's five days under 行政许可法 §32, the city's time limit, and
what happens when the working-day calendar does not cover a year — all with a frozen clock."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from zhiyuan.approvals import services as sv
from zhiyuan.approvals.models import Application, ApprovalItem, EventKind
from zhiyuan.approvals.models import ApplicationStatus as S
from zhiyuan.approvals.tasks import approvals_sweep, run_approvals_sweep
from zhiyuan.approvals.tests.test_services import Desk
from zhiyuan.core.models import CalendarOverride, Notification, WorkCalendarYear
from zhiyuan.datalink.models import OutboxMessage

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int = 10):
    """Freeze the clock at that local (Beijing) time."""
    return time_machine.travel(dt.datetime(year, month, day, hour, 0, tzinfo=SHANGHAI), tick=False)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def desk(personas, project_a, permit_item, datalink_keys):
    return Desk(personas, project_a, permit_item)


@pytest.fixture
def filing_desk(personas, project_a, datalink_keys):
    """企业投资项目备案 on the same project: 3 working days for the city."""
    return Desk(personas, project_a, ApprovalItem.objects.get(code="project_filing"))


# -- §32: the window decides within five working days of receipt, or the application counts as accepted ----


@pytest.mark.django_db
def test_section_32_across_the_national_day_holiday(desk, personas, settings):
    assert settings.ZHIYUAN_APPROVALS_ACCEPT_WORKDAYS == 5
    with at(2025, 9, 30):
        app = desk.walk(S.SUBMITTED)
    assert app.received_on == dt.date(2025, 9, 30)
    # Received Tue 30 Sep 2025, the last working day before 国庆节 + 中秋节 (1–8 Oct off, the make-up working
    # days being Sun 28 Sep and Sat 11 Oct). The receipt day itself does not count; the working days after it:
    #   Thu 9 Oct = 1, Fri 10 Oct = 2, Sat 11 Oct (调休 make-up day) = 3, (Sun 12 off) Mon 13 Oct = 4,
    #   Tue 14 Oct = 5  →  the window must decide by Tue 14 Oct 2025.
    assert app.accept_due == dt.date(2025, 10, 14)

    # On the due day itself the window still has time: nothing happens.
    with at(2025, 10, 14, hour=23):
        assert sv.applications_accept_overdue(today=dt.date(2025, 10, 14)) == 0
    app.refresh_from_db()
    assert app.status == S.SUBMITTED and not OutboxMessage.objects.exists()

    # The day after, the application counts as accepted from the day it was received.
    with at(2025, 10, 15, hour=7), translation.override("en"):  # the note's msgid, whatever the translation
        assert sv.applications_accept_overdue(today=dt.date(2025, 10, 15)) == 1
    app.refresh_from_db()
    assert app.status == S.ACCEPTED
    assert app.accepted_on == dt.date(2025, 9, 30) == app.received_on
    assert app.accepted_automatically is True and app.accepted_by is None
    event = app.events.get(kind=EventKind.AUTO_ACCEPTED)
    assert event.actor is None
    assert "§32" in event.note and "2025-10-14" in event.note and "2025-09-30" in event.note
    assert app.events.filter(kind=EventKind.FORWARDED).count() == 1
    message = OutboxMessage.objects.get()
    assert message.message_type == "application.submit" and message.status == "pending"
    assert message.message_id == app.forward_message_id
    assert message.payload["automatic"] is True and message.payload["application_number"] == app.number
    assert Notification.objects.filter(recipient=personas["window_clerk"], title__contains="§32").exists()

    # Run again (the sweep is daily): nothing more happens.
    with at(2025, 10, 16, hour=7):
        assert sv.applications_accept_overdue(today=dt.date(2025, 10, 16)) == 0
    assert OutboxMessage.objects.count() == 1


@pytest.mark.django_db
def test_decided_applications_are_left_alone_by_section_32(desk):
    with at(2025, 9, 30):
        rejected = desk.walk(S.SUBMITTED)
        sv.application_reject(actor=desk.clerk, application=rejected, reason="不属本窗口")
    with at(2025, 10, 20):
        assert sv.applications_accept_overdue(today=dt.date(2025, 10, 20)) == 0
    assert Application.objects.get(pk=rejected.pk).status == S.REJECTED
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_corrections_stop_the_window_clock_and_resubmission_restarts_it(desk):
    with at(2025, 9, 29):
        app = desk.request_correction(desk.walk(S.SUBMITTED))
    assert app.accept_due is None
    # While the firm corrects, no deadline runs: §32 cannot fire however late it is.
    with at(2025, 10, 9):
        assert sv.applications_accept_overdue(today=dt.date(2025, 10, 9)) == 0
    with at(2025, 10, 10):
        desk.upload_corrections(app)
        app = desk.submit(app)
    # Resubmitted Fri 10 Oct: Sat 11 Oct (make-up day) = 1, Mon 13 = 2, Tue 14 = 3, Wed 15 = 4, Thu 16 = 5.
    assert app.received_on == dt.date(2025, 10, 10) and app.accept_due == dt.date(2025, 10, 16)
    with at(2025, 10, 17):
        assert sv.applications_accept_overdue(today=dt.date(2025, 10, 17)) == 1
    app.refresh_from_db()
    assert app.accepted_on == dt.date(2025, 10, 10) and app.accepted_automatically


# -- the city's clock --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_city_deadline_counts_working_days_and_pauses_while_returned(desk):
    assert desk.item.time_limit_workdays == 7
    with at(2025, 9, 30):
        app = desk.walk(S.ACCEPTED)
    with at(2025, 10, 9):
        # 17:30 UTC on 8 Oct is 01:30 on 9 Oct in Beijing: the city's day of receipt is the local one.
        assert desk.ack(app, received_at="2025-10-08T17:30:00+00:00") == "delivered"
    app.refresh_from_db()
    assert app.status == S.CITY_RECEIVED and app.city_received_on == dt.date(2025, 10, 9)
    # 7 working days after Thu 9 Oct: Fri 10 = 1, Sat 11 (make-up) = 2, Mon 13 = 3, Tue 14 = 4, Wed 15 = 5,
    # Thu 16 = 6, Fri 17 = 7.
    assert app.city_due == dt.date(2025, 10, 17)

    with at(2025, 10, 10):
        assert desk.callback(app, "in_review").status == 200
    with at(2025, 10, 13):
        assert desk.callback(app, "returned", reason="缺少消防意见").status == 200
    app.refresh_from_db()
    assert app.status == S.RETURNED and app.returned_on == dt.date(2025, 10, 13)
    assert app.paused_workdays == 0 and app.city_due == dt.date(2025, 10, 17)

    with at(2025, 10, 16):
        assert desk.callback(app, "in_review").status == 200
    app.refresh_from_db()
    # With the firm from Mon 13 to Thu 16 Oct: Tue 14, Wed 15, Thu 16 = 3 working days, so the limit
    # becomes 7 + 3 = 10 working days after 9 Oct: …Fri 17 = 7, Mon 20 = 8, Tue 21 = 9, Wed 22 = 10.
    assert app.paused_workdays == 3 and app.returned_on is None
    assert app.city_due == dt.date(2025, 10, 22)

    # A second return adds to the pause: returned Mon 20, back Tue 21 → 1 more day → Thu 23 Oct.
    with at(2025, 10, 20):
        assert desk.callback(app, "returned").status == 200
    with at(2025, 10, 21):
        assert desk.callback(app, "in_review").status == 200
    app.refresh_from_db()
    assert app.paused_workdays == 4 and app.city_due == dt.date(2025, 10, 23)


# -- a year the calendar does not cover -------------------------------------------------------------------


@pytest.mark.django_db
def test_uncovered_year_leaves_deadlines_empty_until_declared(desk, filing_desk):
    with at(2031, 3, 3):  # a Monday; chinese-calendar has no data for 2031
        waiting = desk.walk(S.SUBMITTED)
        forwarded = filing_desk.walk(S.ACCEPTED)
        assert filing_desk.ack(forwarded, received_at="2031-03-03T02:00:00+00:00") == "delivered"
    waiting.refresh_from_db()
    forwarded.refresh_from_db()
    assert waiting.received_on == dt.date(2031, 3, 3) and waiting.accept_due is None
    assert forwarded.status == S.CITY_RECEIVED and forwarded.city_received_on == dt.date(2031, 3, 3)
    assert forwarded.city_due is None
    # Without a deadline §32 cannot be applied (no guessing), and nothing crashes.
    with at(2031, 4, 30):
        assert sv.applications_accept_overdue(today=dt.date(2031, 4, 30)) == 0
        assert sv.deadlines_refresh() == 0
    assert Application.objects.get(pk=waiting.pk).status == S.SUBMITTED

    # The administrator enters 2031's holidays (here one: Wed 5 March) and declares the year complete.
    CalendarOverride.objects.create(date=dt.date(2031, 3, 5), is_workday=False, name="test holiday")
    WorkCalendarYear.objects.create(year=2031, note="国务院办公厅通知")
    with at(2031, 3, 4):
        assert sv.deadlines_refresh() == 2
    waiting.refresh_from_db()
    forwarded.refresh_from_db()
    # After Mon 3 March: Tue 4 = 1, (Wed 5 holiday) Thu 6 = 2, Fri 7 = 3, Mon 10 = 4, Tue 11 = 5.
    assert waiting.accept_due == dt.date(2031, 3, 11)
    # The filing item's 3 working days: Tue 4 = 1, Thu 6 = 2, Fri 7 = 3.
    assert filing_desk.item.time_limit_workdays == 3 and forwarded.city_due == dt.date(2031, 3, 7)
    with at(2031, 3, 4):
        assert sv.deadlines_refresh() == 0


@pytest.mark.django_db
def test_approvals_sweep_fills_deadlines_then_applies_section_32(desk):
    with at(2031, 3, 3):
        app = desk.walk(S.SUBMITTED)
    assert app.accept_due is None
    with at(2031, 3, 12, hour=7):
        assert approvals_sweep(today=dt.date(2031, 3, 12)) == {
            "deadlines_filled": 0, "accepted_by_law": 0, "overdue_notices": 0
        }
    WorkCalendarYear.objects.create(year=2031)
    with at(2031, 3, 12, hour=7):
        # Due Mon 10 March (five weekdays after Mon 3 March), so overdue on the 12th.
        assert approvals_sweep(today=dt.date(2031, 3, 12)) == {
            "deadlines_filled": 1, "accepted_by_law": 1, "overdue_notices": 0
        }
    app.refresh_from_db()
    assert app.accept_due == dt.date(2031, 3, 10)
    assert app.status == S.ACCEPTED and app.accepted_on == dt.date(2031, 3, 3) and app.accepted_automatically
    with at(2031, 3, 13, hour=7):
        # The scheduled task runs the same sweep for today; nothing is left to do.
        assert run_approvals_sweep.call() == {"deadlines_filled": 0, "accepted_by_law": 0, "overdue_notices": 0}
    assert OutboxMessage.objects.count() == 1


@pytest.mark.django_db
def test_the_sweep_tells_the_window_once_about_late_cities_and_unacknowledged_forwards(desk, personas):
    with at(2025, 10, 13):
        late = desk.walk(S.IN_REVIEW)
        stuck = Desk(personas, late.project, ApprovalItem.objects.get(code="energy_review")).walk(S.ACCEPTED)
    assert late.city_due is not None
    clerk = personas["window_clerk"]
    with at(2025, 10, 13, hour=12):
        assert sv.applications_overdue_notify(today=dt.date(2025, 10, 13)) == 0
    day_after_due = late.city_due + dt.timedelta(days=1)
    with at(day_after_due.year, day_after_due.month, day_after_due.day):
        # One notice per clerk for the late case, and one per operator (clerk, admin) for the stuck forward.
        assert sv.applications_overdue_notify(today=day_after_due) == 1 + 2
        assert sv.applications_overdue_notify(today=day_after_due) == 0
    titles = list(Notification.objects.filter(recipient=clerk).values_list("title", flat=True))
    assert any(late.number in t for t in titles) and any(stuck.number in t for t in titles)
