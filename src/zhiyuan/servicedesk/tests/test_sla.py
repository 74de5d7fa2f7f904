"""SLA deadlines in working days: across the 2026 National Day holiday and Spring Festival (with
their 调休 make-up Saturdays and Sunday), admin overrides, complex requests, and the pause while
waiting for the firm."""

import datetime as dt

import pytest

from zhiyuan.core.models import CalendarOverride
from zhiyuan.servicedesk import services
from zhiyuan.servicedesk.models import Category, CategoryRule
from zhiyuan.servicedesk.tests.test_services import assign_specialist, submit

D = dt.date


@pytest.fixture
def desk(personas, firm_a):
    assign_specialist(firm_a, personas["specialist"])
    return personas


def test_national_day_2026(desk):
    # Wednesday 30 September; 1–7 October are holidays, Saturday 10 October is a working day.
    request = submit(desk, on=D(2026, 9, 30))
    assert request.sign_for_due == D(2026, 10, 8)
    assert request.reply_due == D(2026, 10, 9)
    assert request.resolve_due == D(2026, 10, 13)  # 8, 9, 10 (Sat), 12, 13


def test_national_day_complex(desk):
    request = submit(desk, on=D(2026, 9, 30), is_complex=False)
    complex_request = services.request_submit(
        actor=desk["service_staff"],
        enterprise=request.enterprise,
        category=Category.POLICY,
        title="复杂",
        description="跨部门协调",
        channel="counter",
        is_complex=True,
        on=D(2026, 9, 30),
    )
    # 8, 9, 10, 12–16, 19–23, 26, 27 October
    assert complex_request.resolve_due == D(2026, 10, 27)


def test_spring_festival_2026(desk):
    # Friday 13 February; Saturday 14 February is a 调休 working day; 15–23 February are holidays.
    request = submit(desk, on=D(2026, 2, 13))
    assert request.sign_for_due == D(2026, 2, 14)
    assert request.reply_due == D(2026, 2, 24)
    assert request.resolve_due == D(2026, 2, 27)


def test_category_rules_and_admin_overrides_apply(desk):
    CategoryRule.objects.filter(category=Category.POLICY).update(sign_for_days=2, reply_days=3, resolve_days=10)
    CalendarOverride.objects.create(date=D(2026, 11, 4), is_workday=False, name="停电检修日")
    request = submit(desk, on=D(2026, 11, 2))  # Monday
    assert request.sign_for_due == D(2026, 11, 5)  # 3, (4 off), 5
    assert request.reply_due == D(2026, 11, 6)
    assert request.resolve_due == D(2026, 11, 17)  # 3, 5, 6, 9, 10, 11, 12, 13, 16, 17


def test_the_pause_moves_the_resolution_back_across_the_holiday(desk):
    # Monday 28 September: resolve by 29, 30 Sep, 8, 9, 10 Oct → Saturday 10 October.
    request = submit(desk, on=D(2026, 9, 28))
    assert request.resolve_due == D(2026, 10, 10)
    request = services.request_sign_for(actor=desk["specialist"], request=request, on=D(2026, 9, 28))
    request = services.request_ask_firm(
        actor=desk["specialist"], request=request, note="请补充用工计划", on=D(2026, 9, 29)
    )
    assert request.waiting_since == D(2026, 9, 29)
    # The firm answers on Friday 9 October: paused 30 Sep, 8 and 9 Oct = 3 working days.
    request = services.request_add_information(
        actor=desk["firm_a"], request=request, note="用工计划见附件", on=D(2026, 10, 9)
    )
    assert request.paused_workdays == 3
    assert request.waiting_since is None
    assert request.resolve_due == D(2026, 10, 14)
    # Equal to counting days + pause from receipt.
    assert request.resolve_due == services.WorkCalendar().add(request.received_on, 5 + request.paused_workdays)
    # Met deadlines do not move: the first reply (the question) was on time and stays so.
    assert request.first_reply_on == D(2026, 9, 29)
    assert request.reply_due == D(2026, 9, 30)
    assert request.sign_for_due == D(2026, 9, 29)


def test_two_pauses_add_up(desk):
    request = submit(desk, on=D(2026, 11, 2))  # resolve by Monday 9 November
    request = services.request_sign_for(actor=desk["specialist"], request=request, on=D(2026, 11, 2))
    request = services.request_ask_firm(actor=desk["specialist"], request=request, note="?", on=D(2026, 11, 2))
    request = services.request_add_information(actor=desk["firm_a"], request=request, note="!", on=D(2026, 11, 4))
    assert request.paused_workdays == 2
    assert request.resolve_due == D(2026, 11, 11)
    request = services.request_ask_firm(actor=desk["specialist"], request=request, note="?", on=D(2026, 11, 6))
    # Asked Friday, answered Monday: the weekend does not count.
    request = services.request_add_information(actor=desk["firm_a"], request=request, note="!", on=D(2026, 11, 9))
    assert request.paused_workdays == 3
    assert request.resolve_due == D(2026, 11, 12)


def test_an_answer_the_same_day_pauses_nothing(desk):
    request = submit(desk, on=D(2026, 11, 2))
    request = services.request_sign_for(actor=desk["specialist"], request=request, on=D(2026, 11, 2))
    request = services.request_ask_firm(actor=desk["specialist"], request=request, note="?", on=D(2026, 11, 3))
    request = services.request_add_information(actor=desk["firm_a"], request=request, note="!", on=D(2026, 11, 3))
    assert request.paused_workdays == 0
    assert request.resolve_due == D(2026, 11, 9)
