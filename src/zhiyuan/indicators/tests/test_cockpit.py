"""The leader cockpit: on a known data set spanning the other apps — projects, approvals, service
requests, financing offers, scoring runs, chain targets — each panel figure equals a count written
here directly against the tables, with rows inside and outside the year and after the day asked
about; the behind-plan count and the project list it links to agree; the cockpit is for district staff.

Rows of the other apps are built as their own read tests build them: projects, key listings and
monthly investment with the ORM (investments/tests/test_selectors.py), applications with the ORM
(investments/tests/test_start_permit.py), service requests through the service desk's services
(servicedesk/tests/test_services.py), offers and scoring runs with the ORM."""

import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, F, Q, Sum
from django.urls import resolve
from django.utils import timezone

from zhiyuan.accounts.models import Organisation, OrganisationKind
from zhiyuan.approvals.models import Application, ApplicationStatus, ApprovalItem
from zhiyuan.chains.models import MappingStatus, Node, NodeFirm
from zhiyuan.chains.models import Target as ChainTarget
from zhiyuan.core.errors import PermissionDeniedError
from zhiyuan.credit.models import FinancingOffer, OfferStatus, ScoreModel, ScoringRun
from zhiyuan.enterprises.models import Status as EnterpriseStatus
from zhiyuan.indicators.selectors import cockpit, project_panel
from zhiyuan.investments.models import KeyProject, Milestone, MonthlyInvestment, Pool, Project, Stage, Status
from zhiyuan.investments.tests.test_selectors import make, months
from zhiyuan.investments.tests.test_start_permit import make_application
from zhiyuan.servicedesk import services as desk_services
from zhiyuan.servicedesk.models import Category, RequestStatus, ServiceRequest
from zhiyuan.servicedesk.tests.test_services import assign_specialist, submit

D = dt.date
M = Decimal
AS_OF = D(2026, 9, 30)
YEAR_START = D(2026, 1, 1)
THIS_YEAR = (YEAR_START, AS_OF)
OPEN = [
    RequestStatus.SUBMITTED,
    RequestStatus.SIGNED_FOR,
    RequestStatus.IN_PROGRESS,
    RequestStatus.WAITING_FOR_FIRM,
    RequestStatus.REOPENED,
]


def figures_of(panel) -> dict:
    return {figure.key: figure for figure in panel["figures"]}


def rate(numerator: int, denominator: int) -> Decimal | None:
    return (M(numerator) / M(denominator)).quantize(M("0.0001")) if denominator else None


# -- the known data set -------------------------------------------------------------------------------------


@pytest.fixture
def known(personas, firm_a, firm_b, indicator_factory, value_factory):
    """Rows of every app around 30 September 2026; the comments say which count each one enters."""
    # Projects (S = signed, St = started, C = completed, P = in production, in 2026 up to 30 September).
    signed_a = make("签约A", Stage.SIGNED, enterprise=firm_a, code="2026-430202-34-03-000001",
                    contract_date=D(2026, 3, 1), total_investment=M("60000"))  # S
    make("签约B", Stage.SIGNED, contract_date=D(2026, 10, 15), total_investment=M("8000"))  # after the day
    make("前期C", Stage.PREPARING, contract_date=D(2025, 6, 1), total_investment=M("5000"))  # last year
    building = make("在建D", contract_date=D(2025, 5, 1), actual_start=D(2026, 4, 1),
                    total_investment=M("30000"))  # St
    make("在建E", contract_date=D(2026, 1, 10), actual_start=D(2026, 10, 8), total_investment=M("12000"))  # S only
    done = make("竣工F", Stage.COMPLETED, contract_date=D(2024, 1, 1), actual_start=D(2024, 6, 1),
                actual_completion=D(2026, 5, 1), total_investment=M("20000"))  # C
    make("投产G", Stage.IN_PRODUCTION, contract_date=D(2023, 1, 1), actual_start=D(2023, 3, 1),
         actual_completion=D(2025, 12, 1), production_date=D(2026, 8, 1), total_investment=M("15000"))  # P
    make("投产H", Stage.IN_PRODUCTION, contract_date=D(2024, 2, 1), actual_start=D(2024, 3, 1),
         actual_completion=D(2026, 9, 30), production_date=D(2026, 10, 1), total_investment=M("9000"))  # C (last day)
    withdrawn = make("撤I", status=Status.WITHDRAWN, contract_date=D(2026, 2, 1), actual_start=D(2026, 3, 1),
                     total_investment=M("80000"))  # counted nowhere
    stopped = make("停J", Stage.SIGNED, status=Status.STOPPED, contract_date=D(2026, 4, 1),
                   total_investment=M("10000"))  # S
    lead = make("线索K", Stage.LEAD)
    # The 2026 key-project list: D has done 600 of 2000 by September (behind); F all of its 1000.
    KeyProject.objects.create(project=building, year=2026, sequence=1, planned_investment=M("2000"))
    KeyProject.objects.create(project=done, year=2026, sequence=2, planned_investment=M("1000"))
    KeyProject.objects.create(project=withdrawn, year=2026, sequence=3, planned_investment=M("500"))
    KeyProject.objects.create(project=stopped, year=2026, sequence=4, planned_investment=M("500"))
    KeyProject.objects.create(project=done, year=2025, sequence=1, planned_investment=M("9999"))
    months(building, {(2026, m): "100" for m in range(4, 10)} | {(2026, 10): "5000"})  # October: after the day
    months(done, {(2025, 12): "700", (2026, 1): "250", (2026, 2): "250", (2026, 3): "250", (2026, 4): "250"})

    # Applications at the window (accepted → received by the city → decided, against the city's due date).
    item = ApprovalItem.objects.get(code="construction_permit")
    A = ApplicationStatus
    for status, accepted, received, due, decided in [
        (A.GRANTED, D(2026, 2, 2), D(2026, 2, 4), D(2026, 3, 4), D(2026, 2, 27)),  # decided in time
        (A.DENIED, D(2026, 3, 2), D(2026, 3, 4), D(2026, 3, 25), D(2026, 4, 3)),  # decided late
        (A.IN_REVIEW, D(2026, 9, 1), D(2026, 9, 3), D(2026, 9, 25), None),  # with the city, overdue
        (A.CITY_RECEIVED, D(2025, 12, 22), D(2026, 1, 5), D(2026, 10, 30), None),  # accepted last year
        (A.IN_REVIEW, D(2026, 9, 29), D(2026, 10, 9), D(2026, 10, 30), None),  # received after the day
        (A.GRANTED, D(2025, 11, 3), D(2025, 11, 5), D(2025, 12, 1), D(2025, 11, 28)),  # last year
        (A.GRANTED, D(2026, 9, 10), D(2026, 9, 12), D(2026, 10, 15), D(2026, 10, 10)),  # decided after the day
        (A.SUBMITTED, None, None, None, None),
    ]:
        make_application(signed_a, item, status=status, accepted_on=accepted, city_received_on=received,
                         city_due=due, decided_on=decided)

    # Service requests: firm A is served by the specialist; firm B's financing needs are unassigned.
    assign_specialist(firm_a, personas["specialist"])
    specialist, firm_user = personas["specialist"], personas["firm_a"]
    r1 = submit(personas, on=D(2026, 3, 2))  # replied and resolved in time, rated 5
    desk_services.request_sign_for(actor=specialist, request=r1, on=D(2026, 3, 2))
    desk_services.request_reply(actor=specialist, request=r1, note="已联系", on=D(2026, 3, 3))
    desk_services.request_resolve(actor=specialist, request=r1, resolution="已解决", on=D(2026, 3, 5))
    desk_services.request_rate(actor=firm_user, request=r1, rating=5, on=D(2026, 3, 5))
    r2 = submit(personas, on=D(2026, 6, 1))  # replied late, resolved late, rated 3
    desk_services.request_sign_for(actor=specialist, request=r2, on=D(2026, 6, 2))
    desk_services.request_reply(actor=specialist, request=r2, note="迟复", on=D(2026, 6, 8))
    desk_services.request_resolve(actor=specialist, request=r2, resolution="已解决", on=D(2026, 6, 22))
    desk_services.request_rate(actor=firm_user, request=r2, rating=3, on=D(2026, 6, 22))
    submit(personas, on=D(2026, 9, 7))  # untouched, overdue by the end of September
    submit(personas, on=D(2026, 10, 12))  # after the day
    needs = [
        submit(personas, "firm_b", on=D(2026, 1, 5), category=Category.FINANCING,
               financing={"amount": amount, "share_with_banks": True})
        for amount in ("500", "300", "1000")
    ]

    # Financing offers: granted in 2026 up to the day count, with their amount.
    bank, bank_user = personas["bank"].organisation, personas["bank"]
    other_bank = Organisation.objects.create(name="长沙银行株洲分行", kind=OrganisationKind.BANK)
    for need, lender, status, amount, granted_on in [
        (needs[0], bank, OfferStatus.GRANTED, "300", D(2026, 5, 10)),
        (needs[1], bank, OfferStatus.GRANTED, "200", D(2026, 9, 30)),  # on the day: counted
        (needs[2], bank, OfferStatus.GRANTED, "999", D(2026, 10, 10)),  # after the day
        (needs[0], other_bank, OfferStatus.GRANTED, "50", D(2025, 12, 1)),  # last year
        (needs[1], other_bank, OfferStatus.ACCEPTED, None, None),  # not granted (yet)
    ]:
        FinancingOffer.objects.create(
            need=need, bank=lender, amount=M("400"), term_months=12, rate=M("4.2"), status=status,
            granted_amount=None if amount is None else M(amount), granted_on=granted_on, created_by=bank_user,
        )

    # Scoring runs: the latest finished one as of the day grades AA once and BBB twice (mean rank 2.33 → A).
    model = ScoreModel.objects.create(version=1, spec={}, sample_size=100, bad_count=10, auc=0.8, ks=0.4)
    finished = timezone.now()
    ScoringRun.objects.create(model=model, as_of=D(2026, 6, 30), finished_at=finished, grade_counts={"CCC": 4})
    ScoringRun.objects.create(model=model, as_of=D(2026, 9, 1), finished_at=finished,
                              grade_counts={"AA": 1, "BBB": 2})
    ScoringRun.objects.create(model=model, as_of=D(2026, 9, 20), grade_counts={"C": 9})  # not finished
    ScoringRun.objects.create(model=model, as_of=D(2026, 10, 15), finished_at=finished, grade_counts={"C": 5})

    # Chains: two firms on one node (no longer a gap), three targets — one a lead, one signed.
    nodes = list(Node.objects.order_by("pk")[:3])
    for firm in (firm_a, firm_b):
        NodeFirm.objects.update_or_create(node=nodes[0], enterprise=firm, defaults={"status": MappingStatus.CONFIRMED})
    ChainTarget.objects.create(node=nodes[1], name="中车株洲电力机车配套厂")
    ChainTarget.objects.create(node=nodes[1], name="外地刀具企业", project=lead)
    ChainTarget.objects.create(node=nodes[2], name="外地涂料企业", project=signed_a)

    # An indicator reported up to August.
    output = indicator_factory("规模工业增加值", code="industry")
    value_factory(output, 2026, 8, "40")
    value_factory(output, 2025, 8, "36")
    return {"output": output}


@pytest.fixture
def board(known, personas):
    return cockpit(user=personas["leader"], as_of=AS_OF)


def test_the_cockpit_is_as_of_the_day(board):
    assert (board["as_of"], board["year"]) == (AS_OF, 2026)
    assert board["elapsed"] == M(273) / M(365)


def test_project_figures_equal_direct_counts(board):
    live = Project.objects.exclude(status=Status.WITHDRAWN)
    signed = live.filter(contract_date__range=THIS_YEAR)
    expected = {
        "signed": signed.count(),
        "signed_investment": signed.aggregate(s=Sum("total_investment"))["s"],
        "started": live.filter(actual_start__range=THIS_YEAR).count(),
        "completed": live.filter(actual_completion__range=THIS_YEAR).count(),
        "in_production": live.filter(production_date__range=THIS_YEAR).count(),
        "key": KeyProject.objects.filter(year=2026).count(),
        "key_done": MonthlyInvestment.objects.filter(
            project__key_listings__year=2026, month__range=THIS_YEAR
        ).aggregate(s=Sum("amount"))["s"],
    }
    # the same, worked out by hand from the fixture's comments
    assert expected == {
        "signed": 3, "signed_investment": M("82000"), "started": 1, "completed": 2, "in_production": 1,
        "key": 4, "key_done": M("1600"),
    }
    got = figures_of(board["projects"])
    assert {key: got[key].value for key in expected} == expected
    assert board["projects"]["key_done"] == expected["key_done"]
    assert board["projects"]["key_plan"] == KeyProject.objects.filter(year=2026).aggregate(
        s=Sum("planned_investment")
    )["s"]


def test_pool_figures_equal_direct_counts(board):
    live = Project.objects.exclude(status=Status.WITHDRAWN)
    pools = {figure.key: figure.value for figure in board["projects"]["pools"]}
    assert pools == {pool.value: live.filter(pool=pool).count() for pool in Pool}
    assert sum(pools.values()) == 10  # every project but the withdrawn one
    investment = dict(board["projects"]["pool_investment"])
    for pool in Pool:
        total = live.filter(pool=pool).aggregate(s=Sum("total_investment"))["s"] or 0
        assert investment[str(pool.label)] == total


def test_behind_plan_on_the_known_data_set(board):
    # D lags (600 of 2000 with three quarters of the year gone); F is done; withdrawn I and stopped J
    # are left out however far behind.
    assert [listing.project.name for listing, _progress in board["projects"]["behind"]] == ["在建D"]
    assert figures_of(board["projects"])["behind"].value == 1


def test_approval_figures_equal_direct_counts(board):
    apps = Application.objects
    decided = apps.filter(decided_on__range=THIS_YEAR)
    expected = {
        "accepted": apps.filter(accepted_on__range=THIS_YEAR).count(),
        "forwarded": apps.filter(city_received_on__range=THIS_YEAR).count(),
        "decided": decided.count(),
        "on_time_rate": rate(decided.filter(decided_on__lte=F("city_due")).count(), decided.count()),
        "with_city": apps.filter(status__in=["accepted", "city_received", "in_review", "returned"]).count(),
        "overdue_city": apps.filter(status__in=["city_received", "in_review"], city_due__lt=AS_OF).count(),
    }
    assert expected == {
        "accepted": 5, "forwarded": 5, "decided": 2, "on_time_rate": M("0.5"), "with_city": 3, "overdue_city": 1,
    }
    got = figures_of(board["approvals"])
    assert {key: got[key].value for key in expected} == expected


def test_service_figures_equal_direct_counts(board):
    received = ServiceRequest.objects.filter(received_on__range=THIS_YEAR)
    resolved = Q(resolved_on__isnull=False)
    due = received.filter(resolved | Q(resolve_due__lt=AS_OF)).count()
    ratings = received.filter(rating__isnull=False).values_list("rating", flat=True)
    expected = {
        "received": received.count(),
        "reply_rate": rate(received.filter(first_reply_on__lte=F("reply_due")).count(), received.count()),
        "on_time_rate": rate(received.filter(resolved_on__lte=F("resolve_due")).count(), due),
        "average_rating": (M(sum(ratings)) / len(ratings)).quantize(M("0.01")),
        "open": received.filter(status__in=OPEN).count(),
    }
    # three requests of firm A and three financing needs of firm B; one reply and one resolution in time
    assert expected == {
        "received": 6, "reply_rate": M("0.1667"), "on_time_rate": M("0.1667"), "average_rating": M("4.00"),
        "open": 4,
    }
    got = figures_of(board["services"])
    assert {key: got[key].value for key in expected} == expected


def test_financing_figures_equal_direct_counts(board):
    granted = FinancingOffer.objects.filter(status=OfferStatus.GRANTED, granted_on__range=THIS_YEAR)
    expected = {
        "loans": granted.count(),
        "amount": granted.aggregate(s=Sum("granted_amount"))["s"],
        "average_grade": "A",  # the 1 September run: AA, BBB, BBB
    }
    assert (expected["loans"], expected["amount"]) == (2, M("500"))
    got = figures_of(board["financing"])
    assert {key: got[key].value for key in expected} == expected


def test_chain_figures_equal_direct_counts(board):
    counted = Q(firms__status__in=[MappingStatus.CONFIRMED, MappingStatus.SUGGESTED],
                firms__enterprise__status=EnterpriseStatus.OPERATING)
    gaps = Node.objects.annotate(n=Count("firms", filter=counted)).filter(n__lt=F("weak_below")).count()
    signed_stages = [s.value for s in list(Stage)[list(Stage).index(Stage.SIGNED):]]
    expected = {
        "gaps": gaps,
        "targets": ChainTarget.objects.count(),
        "leads": ChainTarget.objects.filter(project__isnull=False).count(),
        "signed": ChainTarget.objects.filter(project__stage__in=signed_stages).count(),
    }
    assert (expected["targets"], expected["leads"], expected["signed"]) == (3, 2, 1)
    assert 0 < expected["gaps"] < Node.objects.count()
    got = figures_of(board["chains"])
    assert {key: got[key].value for key in expected} == expected
    rows = board["chains"]["chains"]
    assert sum(row["nodes"] for row in rows) == Node.objects.count()
    assert sum(row["gaps"] for row in rows) == gaps


def test_indicator_cards_on_the_cockpit(board, known):
    [card] = [c for c in board["cards"] if c.indicator == known["output"]]
    assert (card.year, card.period, card.value.value) == (2026, 8, M("40"))
    assert card.growth == (M("40") / M("36") - 1) * 100


def test_every_figure_links_to_a_list(board):
    for panel in ("projects", "approvals", "services", "financing", "chains"):
        for figure in board[panel]["figures"]:
            assert figure.link, figure.key
            resolve(urlparse(figure.link).path)  # raises when the link leads nowhere
    link = urlparse(figures_of(board["projects"])["behind"].link)
    # a past day: the list is bounded at it, as the figure is
    assert parse_qs(link.query) == {"behind_plan": ["2026"], "until": ["2026-09-30"]}


def _listed(link: str, user) -> int:
    """How many rows the list page behind `link` shows, through the list's own FilterSet."""
    from django.http import QueryDict
    from django.test import RequestFactory

    from zhiyuan.approvals.filters import ApplicationFilter
    from zhiyuan.approvals.selectors import applications_visible_to
    from zhiyuan.investments.filters import ProjectFilter
    from zhiyuan.investments.selectors import projects_visible_to
    from zhiyuan.servicedesk.filters import RequestFilter
    from zhiyuan.servicedesk.selectors import requests_visible_to

    url = urlparse(link)
    request = RequestFactory().get(link)
    request.user = user
    lists = {
        "investments:list": (ProjectFilter, projects_visible_to),
        "approvals:list": (ApplicationFilter, applications_visible_to),
        "servicedesk:list": (RequestFilter, requests_visible_to),
    }
    filter_class, visible = lists[resolve(url.path).view_name]
    filterset = filter_class(QueryDict(url.query), queryset=visible(user), request=request)
    assert filterset.is_valid(), filterset.errors
    return filterset.qs.count()


@pytest.mark.parametrize(
    ("panel", "keys"),
    [
        ("projects", ["signed", "started", "completed", "in_production", "key", "behind"]),
        # (with_city and overdue_city describe the applications' state now, not the day asked about)
        ("approvals", ["accepted", "forwarded", "decided"]),
        ("services", ["received", "open"]),
    ],
)
def test_a_past_days_figures_equal_the_lists_they_link_to(board, personas, panel, keys):
    # The data set has rows after AS_OF; the links carry `until` so the lists leave them out too.
    figures = figures_of(board[panel])
    assert {key: _listed(figures[key].link, personas["leader"]) for key in keys} == {
        key: figures[key].value for key in keys
    }


def test_a_past_days_loans_link_lists_the_loans_counted(board, login):
    figure = figures_of(board["financing"])["loans"]
    page = login("leader").get(figure.link)
    assert page.status_code == 200
    assert len(page.context["offers"]) == figure.value


def test_an_empty_cockpit(personas):
    board = cockpit(user=personas["leader"], as_of=AS_OF)
    assert figures_of(board["projects"])["signed"].value == 0
    assert figures_of(board["approvals"])["on_time_rate"].value is None
    assert figures_of(board["services"])["reply_rate"].value is None
    assert figures_of(board["financing"])["loans"].value == 0
    assert figures_of(board["financing"])["average_grade"].value is None
    assert board["projects"]["behind"] == []


# -- the behind-plan count and the list it links to -----------------------------------------------------------


@pytest.fixture
def key_projects_today(personas):
    """This year's key projects as of today: two behind (investment lagging; a milestone overdue), one
    ahead, one withdrawn and one stopped that are behind but left out, one listed for last year."""
    today = timezone.localdate()
    year = today.year
    first = D(year, 1, 1)
    lagging = make("滞后甲")
    KeyProject.objects.create(project=lagging, year=year, sequence=1, planned_investment=M("100000"))
    MonthlyInvestment.objects.create(project=lagging, month=first, amount=M("1"))
    late_milestone = make("节点逾期乙")
    KeyProject.objects.create(project=late_milestone, year=year, sequence=2, planned_investment=M("10"))
    MonthlyInvestment.objects.create(project=late_milestone, month=first, amount=M("10"))
    Milestone.objects.create(project=late_milestone, name="主体封顶", planned_on=today - dt.timedelta(days=1))
    ahead = make("超前丙")
    KeyProject.objects.create(project=ahead, year=year, sequence=3, planned_investment=M("10"))
    MonthlyInvestment.objects.create(project=ahead, month=first, amount=M("10"))
    for name, status in (("撤丁", Status.WITHDRAWN), ("停戊", Status.STOPPED)):
        project = make(name, status=status)
        KeyProject.objects.create(project=project, year=year, sequence=9, planned_investment=M("100000"))
    last_year = make("去年己")
    KeyProject.objects.create(project=last_year, year=year - 1, sequence=1, planned_investment=M("100000"))
    return year


def test_the_behind_plan_list_shows_exactly_the_projects_the_panel_counts(login, personas, key_projects_today):
    year = key_projects_today
    panel = project_panel(user=personas["leader"], as_of=timezone.localdate())
    counted = {listing.project.pk for listing, _progress in panel["behind"]}
    assert {Project.objects.get(pk=pk).name for pk in counted} == {"滞后甲", "节点逾期乙"}
    behind = figures_of(panel)["behind"]
    assert behind.value == 2
    response = login("leader").get(behind.link)
    assert response.status_code == 200
    assert behind.link == f"/projects/?behind_plan={year}"
    listed = {project.pk for project in response.context["table"].data}
    assert listed == counted
    assert response.context["total"] == behind.value


def test_the_behind_plan_list_of_another_year(login, key_projects_today):
    response = login("leader").get(f"/projects/?behind_plan={key_projects_today + 1}")
    assert response.status_code == 200 and response.context["total"] == 0


# -- who sees the cockpit ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["firm_a", "firm_b", "bank", "city"])
def test_the_cockpit_is_not_for_firms_banks_or_the_city(personas, role):
    with pytest.raises(PermissionDeniedError):
        cockpit(user=personas[role], as_of=AS_OF)


def test_the_cockpit_is_not_for_anonymous_users(db):
    with pytest.raises(PermissionDeniedError):
        cockpit(user=AnonymousUser(), as_of=AS_OF)


@pytest.mark.parametrize("role", ["leader", "statistics", "investment", "service_staff", "admin"])
def test_district_staff_see_the_cockpit(personas, role):
    board = cockpit(user=personas[role], as_of=AS_OF)
    assert set(board) >= {"cards", "projects", "approvals", "services", "financing", "chains"}


def test_a_past_days_behind_plan_list_shows_each_row_as_of_that_day(board, login):
    # The list's rows carry the flag and the plan-vs-done figures as of the day the cockpit showed.
    link = figures_of(board["projects"])["behind"].link
    page = login("leader").get(link).content.decode()
    assert page.count('data-testid="behind-flag"') == 1
    assert "在建D" in page
