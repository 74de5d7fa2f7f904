"""The demo service desk: last year's dashboard shows the source's figures (242 problems solved, a
100% reply rate, 5,000万元 of loans with 瑞美包装 among them); this year has open, overdue and
escalated requests; loaded through the services; a second run writes nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from zhiyuan.accounts.models import User
from zhiyuan.core.models import AuditEntry
from zhiyuan.demo.servicedesk import LOANS_LAST_YEAR, RUIMEI, SOLVED_LAST_YEAR, demo_servicedesk_load
from zhiyuan.demo.services import demo_load
from zhiyuan.servicedesk.models import Category, Channel, RequestEvent, RequestStatus, ServiceRequest, Visit
from zhiyuan.servicedesk.selectors import OPEN_STATUSES, financing_needs_for_bank, service_dashboard

pytestmark = [pytest.mark.django_db, pytest.mark.collection_day]  # dates computed at import

TODAY = timezone.localdate()


def _last_years_dashboard_shows_the_source_figures(loaded):
    assert loaded.servicedesk.loaded
    leader = User.objects.get(username="leader")
    d = service_dashboard(user=leader, year=TODAY.year - 1)
    overall = d["overall"]
    assert overall["resolved"] == SOLVED_LAST_YEAR == overall["received"]
    assert overall["reply_rate"] == Decimal("1")
    assert Decimal("0.85") < overall["on_time_rate"] < Decimal("1")
    assert overall["reopened"] > 0 and overall["average_rating"] > Decimal("4")
    assert sum(d["volume_total"]) == SOLVED_LAST_YEAR
    assert {category for category, _f in d["by_category"]} == set(Category)
    assert len(d["by_specialist"]) >= 3


def _last_years_loans_add_up_to_five_thousand_wan_with_ruimei_among_them(loaded):
    financing = ServiceRequest.objects.filter(
        is_demo=True, category=Category.FINANCING, received_on__year=TODAY.year - 1
    )
    assert financing.exclude(resolved_on=None).count() == financing.count() == 30
    assert financing.aggregate(total=Sum("financing_amount"))["total"] == LOANS_LAST_YEAR
    # 瑞美包装 may also draw another, generated financing request on some days: pick the source's case by its title.
    ruimei = financing.get(enterprise__name=RUIMEI, title="扩产流动资金贷款")
    assert ruimei.financing_amount == Decimal("1000") and "1000万元" in ruimei.resolution
    assert ruimei.status == RequestStatus.CLOSED and ruimei.paused_workdays > 0


def _this_year_has_open_overdue_and_one_escalated_request(loaded):
    open_ = ServiceRequest.objects.filter(is_demo=True, status__in=OPEN_STATUSES)
    assert open_.count() >= 10
    late = open_.exclude(status=RequestStatus.WAITING_FOR_FIRM).filter(resolve_due__lt=TODAY)
    assert late.count() >= 3
    assert open_.filter(escalation_level__gt=0).count() == loaded.servicedesk.escalated == 1
    assert open_.filter(status=RequestStatus.WAITING_FOR_FIRM).exists()
    leader = User.objects.get(username="leader")
    d = service_dashboard(user=leader, year=TODAY.year)
    assert d["labour_headcount"] > 0 and d["financing_needs"]["count"] >= 3
    assert financing_needs_for_bank(User.objects.get(username="bank")).count() >= 2


def _visits_and_requests_raised_on_them(loaded):
    visits = Visit.objects.filter(is_demo=True)
    assert visits.filter(visited_on__year=TODAY.year - 1).count() >= 150
    assert visits.filter(visitor__role="investment").exists() or visits.filter(visitor__role="project").exists()
    raised = ServiceRequest.objects.filter(is_demo=True, visit__isnull=False)
    assert raised.exists() and set(raised.values_list("channel", flat=True)) == {Channel.VISIT}
    assert all(r.visit.enterprise_id == r.enterprise_id for r in raised.select_related("visit"))


def _every_step_went_through_the_services(loaded):
    demo = ServiceRequest.objects.filter(is_demo=True)
    assert RequestEvent.objects.filter(request__in=demo, kind="submitted").count() == demo.count()
    assert AuditEntry.objects.filter(action="servicedesk.request.created").count() >= demo.count()
    assert not demo.filter(received_on__gt=TODAY).exists()
    assert not demo.exclude(first_reply_on=None).filter(first_reply_on__lt=dt.date(TODAY.year - 1, 1, 1)).exists()


def _a_second_run_writes_nothing(loaded):
    before = (ServiceRequest.objects.count(), Visit.objects.count(), AuditEntry.objects.count())
    report = demo_servicedesk_load()
    assert not report.loaded
    assert (ServiceRequest.objects.count(), Visit.objects.count(), AuditEntry.objects.count()) == before


def test_demo_service_desk():
    """One load (the service desk is part of `demo_load`; the named firms only, to keep it quick)."""
    loaded = demo_load(count=0)
    _last_years_dashboard_shows_the_source_figures(loaded)
    _last_years_loans_add_up_to_five_thousand_wan_with_ruimei_among_them(loaded)
    _this_year_has_open_overdue_and_one_escalated_request(loaded)
    _visits_and_requests_raised_on_them(loaded)
    _every_step_went_through_the_services(loaded)
    _a_second_run_writes_nothing(loaded)
