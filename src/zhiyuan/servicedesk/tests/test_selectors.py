"""Service-desk reads: scoping per role, the queue (order, time left, fixed query count), timelines,
the visit calendar, the dashboard's figures on a known data set, and what banks see."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from zhiyuan.core.errors import NotFoundError, PermissionDeniedError
from zhiyuan.servicedesk import selectors, services
from zhiyuan.servicedesk.models import Category, RequestStatus
from zhiyuan.servicedesk.tests.test_services import assign_specialist, make_specialist, request_in, submit

D = dt.date
S = RequestStatus
MONDAY = D(2026, 11, 2)


@pytest.fixture
def desk(personas, firm_a):
    assign_specialist(firm_a, personas["specialist"])
    return personas


# -- scoping -----------------------------------------------------------------------------------------


def test_who_sees_which_request(desk):
    mine = submit(desk, "firm_a")
    theirs = submit(desk, "firm_b")
    for role in ("admin", "leader", "service_staff", "specialist", "statistics", "window_clerk"):
        assert set(selectors.requests_visible_to(desk[role])) == {mine, theirs}, role
    assert list(selectors.requests_visible_to(desk["firm_a"])) == [mine]
    assert list(selectors.requests_visible_to(desk["firm_b"])) == [theirs]
    for role in ("bank", "city"):
        assert not selectors.requests_visible_to(desk[role]).exists()
    with pytest.raises(NotFoundError):
        selectors.request_get_for(desk["firm_b"], mine.pk)
    with pytest.raises(NotFoundError):
        selectors.request_get_for(desk["firm_b"], 999999)
    with pytest.raises(NotFoundError):
        selectors.request_get_for(desk["bank"], mine.pk)
    assert selectors.request_get_for(desk["firm_a"], mine.pk) == mine


def test_can_handle(desk):
    request = submit(desk)
    other = make_specialist("zhuanyuan2")
    assert selectors.can_handle(desk["specialist"], request)
    assert not selectors.can_handle(other, request)
    assert selectors.can_handle(desk["service_staff"], request)
    assert not selectors.can_handle(desk["leader"], request)
    assert not selectors.can_handle(desk["firm_a"], request)


def test_bank_sees_only_published_financing_needs(desk):
    published = submit(
        desk, category=Category.FINANCING, financing={"amount": 800, "purpose": "设备", "share_with_banks": True}
    )
    submit(desk, category=Category.FINANCING, financing={"amount": 300, "share_with_banks": False})
    submit(desk, category=Category.LABOUR, labour={"positions": "焊工", "headcount": 5})
    closed = request_in(
        S.CLOSED, desk, category=Category.FINANCING, financing={"amount": 100, "share_with_banks": True}
    )
    assert list(selectors.financing_needs_for_bank(desk["bank"])) == [published]
    assert closed not in selectors.financing_needs_for_bank(desk["leader"])
    for role in ("city", "firm_a"):
        assert not selectors.financing_needs_for_bank(desk[role]).exists()


# -- the queue ---------------------------------------------------------------------------------------


def test_queue_is_the_users_open_requests_most_urgent_first(desk, firm_b):
    other = make_specialist("zhuanyuan2")
    assign_specialist(firm_b, other)
    late = submit(desk, on=D(2026, 11, 2))  # sign for by 3 November
    later = submit(desk, on=D(2026, 11, 5))  # sign for by 6 November
    replied = submit(desk, on=D(2026, 11, 2))
    replied = services.request_sign_for(actor=desk["specialist"], request=replied, on=D(2026, 11, 2))
    replied = services.request_reply(actor=desk["specialist"], request=replied, note="ok", on=D(2026, 11, 2))  # 9 Nov
    waiting = request_in(S.WAITING_FOR_FIRM, desk)
    request_in(S.CLOSED, desk)
    submit(desk, "firm_b")  # the other specialist's
    rows = list(selectors.queue_for(desk["specialist"], today=D(2026, 11, 5)))
    assert rows == [late, later, replied, waiting]
    assert [r.workdays_left for r in rows[:3]] == [-2, 1, 2]
    assert rows[0].is_overdue and not rows[1].is_overdue
    assert rows[3].is_paused
    assert list(selectors.queue_for(other, today=D(2026, 11, 5))) != rows
    assert len(selectors.queue_for(desk["service_staff"])) == 5
    assert not selectors.queue_for(desk["firm_a"]).exists()


def test_queue_query_count_does_not_grow_with_rows(desk):
    for _ in range(3):
        submit(desk)
    with CaptureQueriesContext(connection) as small:
        list(selectors.queue_for(desk["specialist"])[:50])
    for _ in range(12):
        submit(desk)
    with CaptureQueriesContext(connection) as large:
        rows = list(selectors.queue_for(desk["specialist"])[:50])
    assert len(rows) == 15
    assert all(r.workdays_left is not None for r in rows)
    assert len(large.captured_queries) == len(small.captured_queries)


def test_department_queue(desk):
    from zhiyuan.accounts.models import Organisation, OrganisationKind

    development = Organisation.objects.create(name="荷塘区发改局", kind=OrganisationKind.DISTRICT)
    colleague = make_specialist("fagai", development)
    request = submit(desk)
    services.request_transfer(actor=desk["specialist"], request=request, department=development, note="转办")
    assert [r.pk for r in selectors.queue_for(colleague)] == [request.pk]
    assert list(selectors.queue_for(desk["specialist"])) == []


# -- timelines and visits ----------------------------------------------------------------------------


def test_firms_do_not_see_internal_events(desk):
    request = submit(desk, on=MONDAY)
    department = desk["specialist"].organisation
    department.head = desk["service_staff"]
    department.save()
    services.escalations_run(today=D(2026, 11, 5))
    kinds_staff = [e.kind for e in selectors.request_timeline(request, desk["leader"])]
    kinds_firm = [e.kind for e in selectors.request_timeline(request, desk["firm_a"])]
    assert kinds_staff == ["submitted", "escalate"]
    assert kinds_firm == ["submitted"]


def test_enterprise_timeline_and_visit_calendar(desk, firm_a):
    visit = services.visit_log(
        actor=desk["investment"], enterprise=firm_a, visited_on=D(2026, 11, 3), people_met="", findings="扩产"
    )
    early = submit(desk, on=D(2026, 11, 2))
    late = submit(desk, on=D(2026, 11, 4))
    entries = selectors.enterprise_timeline(firm_a)
    assert [(e.kind, e.on) for e in entries] == [
        ("request", D(2026, 11, 4)),
        ("visit", D(2026, 11, 3)),
        ("request", D(2026, 11, 2)),
    ]
    assert entries[0].request == late and entries[2].request == early
    assert entries[1].visit == visit and entries[1].office == desk["investment"].organisation
    assert list(selectors.visit_calendar(2026, 11, desk["leader"])) == [visit]
    assert list(selectors.visit_calendar(2026, 10, desk["leader"])) == []
    assert list(selectors.visit_calendar(2026, 11, desk["firm_b"])) == []
    assert list(selectors.visit_calendar(2026, 11, desk["bank"])) == []


# -- the dashboard -----------------------------------------------------------------------------------


@pytest.fixture
def known(desk):
    """Four requests received in November 2026 (Mon 2 Nov: sign by 3, reply by 4, resolve by 9)."""
    sp, firm = desk["specialist"], desk["firm_a"]
    r1 = submit(desk, on=MONDAY)  # replied on time, resolved on time (3 working days), rated 5
    services.request_sign_for(actor=sp, request=r1, on=D(2026, 11, 2))
    services.request_reply(actor=sp, request=r1, note="ok", on=D(2026, 11, 3))
    services.request_resolve(actor=sp, request=r1, resolution="done", on=D(2026, 11, 5))
    services.request_rate(actor=firm, request=r1, rating=5, on=D(2026, 11, 5))
    r2 = submit(
        desk, on=MONDAY, category=Category.LABOUR, labour={"positions": "焊工", "headcount": 7, "skills": "焊接"}
    )
    services.request_sign_for(actor=sp, request=r2, on=D(2026, 11, 3))
    services.request_reply(actor=sp, request=r2, note="late", on=D(2026, 11, 5))  # late reply
    services.request_resolve(actor=sp, request=r2, resolution="done", on=D(2026, 11, 12))  # late, 8 days
    services.request_rate(actor=firm, request=r2, rating=3, on=D(2026, 11, 12))
    r3 = submit(desk, on=MONDAY)  # on time, reopened, resolved again on time (4 days)
    services.request_sign_for(actor=sp, request=r3, on=D(2026, 11, 2))
    services.request_reply(actor=sp, request=r3, note="ok", on=D(2026, 11, 2))
    services.request_resolve(actor=sp, request=r3, resolution="done", on=D(2026, 11, 4))
    services.request_reopen(actor=firm, request=r3, reason="no", on=D(2026, 11, 5))
    services.request_resolve(actor=sp, request=r3, resolution="done again", on=D(2026, 11, 6))
    r4 = submit(  # firm_b, no specialist: unassigned; never touched, resolve by 23 Nov
        desk,
        "firm_b",
        on=D(2026, 11, 16),
        category=Category.FINANCING,
        financing={"amount": "250.5", "share_with_banks": True},
    )
    submit(desk, on=D(2025, 11, 3))  # another year: not counted
    return r1, r2, r3, r4


def test_dashboard_figures_on_a_known_data_set(desk, known):
    d = selectors.service_dashboard(user=desk["leader"], year=2026, today=D(2026, 11, 27))
    o = d["overall"]
    assert o["received"] == 4
    assert o["replied_on_time"] == 2
    assert o["reply_rate"] == Decimal("0.5000")
    assert (o["resolved"], o["due"], o["resolved_on_time"]) == (3, 4, 2)
    assert o["on_time_rate"] == Decimal("0.5000")
    assert o["median_days"] == 4.0  # 3, 4, 8
    assert o["average_rating"] == Decimal("4.00")
    assert (o["reopened"], o["resolved_ever"]) == (1, 3)
    assert o["reopen_rate"] == Decimal("0.3333")
    assert (o["open"], o["overdue"]) == (1, 1)
    assert d["volume"][Category.POLICY][10] == 2
    assert d["volume"][Category.LABOUR][10] == 1
    assert d["volume"][Category.FINANCING][10] == 1
    assert d["volume_total"][10] == 4 and sum(d["volume_total"]) == 4
    specialists = dict(d["by_specialist"])
    assert list(specialists) == [desk["specialist"]]
    assert specialists[desk["specialist"]]["received"] == 3
    assert specialists[desk["specialist"]]["reply_rate"] == Decimal("0.6667")
    assert specialists[desk["specialist"]]["on_time_rate"] == Decimal("0.6667")
    assert d["unassigned"]["received"] == 1
    categories = {c.value: f for c, f in d["by_category"]}
    assert categories[Category.POLICY]["median_days"] == 3.5
    departments = dict(d["by_department"])
    assert sum(f["received"] for f in departments.values()) == 4
    # Open needs: r2 (labour) is closed, r4 (financing) is open.
    assert d["labour_needs"] == [] and d["labour_headcount"] == 0
    assert d["financing_needs"]["count"] == 1
    assert d["financing_needs"]["amount"] == Decimal("250.50")
    assert d["financing_needs"]["shared"] == 1


def test_dashboard_open_labour_needs_by_skill(desk):
    submit(desk, category=Category.LABOUR, labour={"positions": "焊工", "headcount": 7, "skills": "焊接"})
    submit(desk, category=Category.LABOUR, labour={"positions": "焊工", "headcount": 5, "skills": "焊接"})
    submit(desk, "firm_b", category=Category.LABOUR, labour={"positions": "电工", "headcount": 3, "skills": "电工证"})
    d = selectors.service_dashboard(user=desk["leader"], year=2026, today=D(2026, 11, 27))
    assert d["labour_needs"] == [
        {"skills": "焊接", "headcount": 12, "requests": 2},
        {"skills": "电工证", "headcount": 3, "requests": 1},
    ]
    assert d["labour_headcount"] == 15


def test_dashboard_query_count_is_fixed(desk, known):
    with CaptureQueriesContext(connection) as few:
        selectors.service_dashboard(user=desk["leader"], year=2026)
    for _ in range(10):
        request_in(S.CLOSED, desk)
    with CaptureQueriesContext(connection) as many:
        selectors.service_dashboard(user=desk["leader"], year=2026)
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.parametrize("role", ["firm_a", "bank", "city"])
def test_dashboard_is_for_district_staff(desk, role):
    with pytest.raises(PermissionDeniedError):
        selectors.service_dashboard(user=desk[role], year=2026)


def test_empty_dashboard(desk):
    d = selectors.service_dashboard(user=desk["leader"], year=2020)
    assert d["overall"]["received"] == 0
    assert d["overall"]["reply_rate"] is None and d["overall"]["median_days"] is None
