"""Service-desk reads: who may see which request, the desk's queue with SLA time left, timelines,
the visit calendar, the service dashboard and the financing needs published to banks.

Scoping (one function per model, DESIGN.md §2): district staff read every request and visit; a firm
user only its own firm's; a bank only the financing needs firms chose to publish to banks (through
`financing_needs_for_bank`, never through `requests_visible_to`); the city client nothing.

Who *acts* on a request (`can_handle`): service-centre staff and the administrator on all of them;
a specialist on those assigned to them, or owned by their department and not yet assigned to a
person; everyone else reads only. The services ask the same function.

Dashboard figures are computed in the database with grouped aggregates, so the page costs the same
number of queries whatever the number of requests; working-day spans (median time to resolve) are
computed over the distinct (received, resolved) date pairs with one cumulative working-day index.
"""

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DateField,
    DecimalField,
    F,
    IntegerField,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, ExtractMonth
from django.utils import timezone

from zhiyuan.accounts.models import Organisation, Role, User
from zhiyuan.accounts.permissions import is_authenticated, is_district_staff
from zhiyuan.core.errors import NotFoundError, PermissionDeniedError
from zhiyuan.core.workdays import CalendarNotCovered, WorkCalendar
from zhiyuan.enterprises.models import Enterprise
from zhiyuan.servicedesk.models import (
    Category,
    RequestEvent,
    RequestStatus,
    ServiceRequest,
    Visit,
)

OPEN_STATUSES = frozenset(
    {
        RequestStatus.SUBMITTED,
        RequestStatus.SIGNED_FOR,
        RequestStatus.IN_PROGRESS,
        RequestStatus.WAITING_FOR_FIRM,
        RequestStatus.REOPENED,
    }
)
# Service-centre staff and the administrator act on every request.
ACT_ON_ALL_ROLES = frozenset({Role.ADMIN, Role.SERVICE_STAFF})
ZERO_MONEY = Value(Decimal("0"), output_field=DecimalField(max_digits=16, decimal_places=2))


def is_firm_user(user) -> bool:
    """An enterprise user acting for one firm."""
    return is_authenticated(user) and user.role == Role.ENTERPRISE and bool(user.enterprise_id)


# -- scoping -----------------------------------------------------------------------------------------


def requests_visible_to(user: User) -> QuerySet[ServiceRequest]:
    """The one scoping function for requests: district staff see all, a firm user its own firm's,
    banks and the city none (banks see published financing needs via `financing_needs_for_bank`)."""
    base = ServiceRequest.objects.select_related("enterprise", "assignee", "department")
    if is_district_staff(user):
        return base
    if is_firm_user(user):
        return base.filter(enterprise_id=user.enterprise_id)
    return base.none()


def request_get_for(user: User, pk) -> ServiceRequest:
    """One request the user may see; NotFoundError for a foreign request exactly as for a missing one."""
    try:
        return requests_visible_to(user).get(pk=pk)
    except (ServiceRequest.DoesNotExist, ValueError, TypeError):
        raise NotFoundError() from None


def visits_visible_to(user: User) -> QuerySet[Visit]:
    """Visits: district staff see all (so no office visits blind), a firm user its own firm's."""
    base = Visit.objects.select_related("enterprise", "visitor", "organisation")
    if is_district_staff(user):
        return base
    if is_firm_user(user):
        return base.filter(enterprise_id=user.enterprise_id)
    return base.none()


def visit_get_for(user: User, pk) -> Visit:
    """One visit the user may see; NotFoundError otherwise."""
    try:
        return visits_visible_to(user).get(pk=pk)
    except (Visit.DoesNotExist, ValueError, TypeError):
        raise NotFoundError() from None


def can_handle(user: User | None, request: ServiceRequest) -> bool:
    """Whether `user` works this request (signs for, replies, asks the firm, transfers, resolves).

    Service staff and the admin: every request. A specialist: the requests assigned to them, and the
    unassigned requests of their own department. Other specialists' firms are read-only to them.
    """
    if not is_authenticated(user):
        return False
    if user.role in ACT_ON_ALL_ROLES:
        return True
    if user.role != Role.SPECIALIST:
        return False
    if request.assignee_id:
        return request.assignee_id == user.pk
    return bool(request.department_id) and request.department_id == user.organisation_id


def is_requesting_firm(user: User | None, request: ServiceRequest) -> bool:
    """Whether `user` is a user of the firm the request is about."""
    return is_firm_user(user) and user.enterprise_id == request.enterprise_id


# -- the queue ---------------------------------------------------------------------------------------


def next_due_expression() -> Case:
    """The deadline a request runs against now: sign for, then first reply, then resolution."""
    return Case(
        When(signed_for_on__isnull=True, then=F("sign_for_due")),
        When(first_reply_on__isnull=True, then=F("reply_due")),
        default=F("resolve_due"),
        output_field=DateField(),
    )


def next_due_of(request: ServiceRequest) -> dt.date:
    """The same deadline as `next_due_expression`, for one loaded request."""
    if request.signed_for_on is None:
        return request.sign_for_due
    if request.first_reply_on is None:
        return request.reply_due
    return request.resolve_due


def with_time_left(rows, *, today: dt.date | None = None, calendar: WorkCalendar | None = None) -> list:
    """Set `workdays_left` on each request of `rows` (working days from today to its next deadline,
    negative when overdue; None when the calendar does not cover the dates). One WorkCalendar for the
    whole page: its overrides are loaded once, and no query is made per row."""
    rows = list(rows)
    if not rows:
        return rows
    today = today or timezone.localdate()
    dues = [getattr(row, "next_due", None) or next_due_of(row) for row in rows]
    # One pass over the page's date span (a long-overdue request may be years back), then O(1) a row.
    try:
        index = WorkdayIndex(calendar or WorkCalendar(), min(*dues, today), max(*dues, today))
    except CalendarNotCovered:
        index = None
    for row, due in zip(rows, dues, strict=True):
        row.workdays_left = index.between(today, due) if index else None
        row.is_paused = row.status == RequestStatus.WAITING_FOR_FIRM
        row.is_overdue = not row.is_paused and due < today
    return rows


class QueueQuerySet(QuerySet):
    """A queryset of requests whose rows come out with `workdays_left` set (see `with_time_left`),
    computed once per fetched page; slicing and paginating keep the behaviour."""

    _queue_today: dt.date | None = None

    def _clone(self):
        clone = super()._clone()
        clone._queue_today = self._queue_today
        return clone

    def _fetch_all(self):
        fetched = self._result_cache is not None
        super()._fetch_all()
        if not fetched and self._result_cache and isinstance(self._result_cache[0], ServiceRequest):
            with_time_left(self._result_cache, today=self._queue_today)


def queue_for(user: User, *, today: dt.date | None = None) -> QuerySet[ServiceRequest]:
    """The desk's queue: open requests the user works, most urgent first.

    A specialist (or any other district user) gets the requests assigned to them and the unassigned
    ones of their department; service staff and the admin get every open request. Rows are annotated
    with `next_due` (in the database) and, when fetched, `workdays_left`; requests waiting for the
    firm (clock paused) come last.
    """
    if not is_district_staff(user):
        return ServiceRequest.objects.none()
    rows = QueueQuerySet(model=ServiceRequest).select_related("enterprise", "assignee", "department")
    rows._queue_today = today
    rows = rows.filter(status__in=OPEN_STATUSES)
    if user.role not in ACT_ON_ALL_ROLES:
        rows = rows.filter(Q(assignee=user) | Q(assignee__isnull=True, department_id=user.organisation_id))
    return rows.annotate(
        next_due=next_due_expression(),
        paused=Case(
            When(status=RequestStatus.WAITING_FOR_FIRM, then=Value(1)), default=Value(0), output_field=IntegerField()
        ),
    ).order_by("paused", "next_due", "id")


# -- timelines and visits ----------------------------------------------------------------------------


def request_timeline(request: ServiceRequest, user: User) -> QuerySet[RequestEvent]:
    """The request's events, oldest first; a firm user does not see internal ones (escalations)."""
    events = request.events.select_related("actor")
    if not is_district_staff(user):
        events = events.filter(visible_to_firm=True)
    return events


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a firm's timeline: a visit or a request, with the office behind it."""

    on: dt.date
    kind: str  # "visit" or "request"
    visit: Visit | None = None
    request: ServiceRequest | None = None
    office: Organisation | None = None


def enterprise_timeline(enterprise: Enterprise) -> list[TimelineEntry]:
    """Every visit and request about the firm, by every office, newest first (2 queries).

    The caller has checked that the user may see the firm; the timeline is for district staff."""
    visits = Visit.objects.filter(enterprise=enterprise).select_related("visitor", "organisation")
    requests = ServiceRequest.objects.filter(enterprise=enterprise).select_related(
        "assignee", "department", "submitted_by"
    )
    entries = [TimelineEntry(on=v.visited_on, kind="visit", visit=v, office=v.organisation) for v in visits]
    entries += [TimelineEntry(on=r.received_on, kind="request", request=r, office=r.department) for r in requests]
    entries.sort(key=lambda e: (e.on, e.kind == "request", (e.visit or e.request).pk), reverse=True)
    return entries


def visit_calendar(year: int, month: int, user: User) -> QuerySet[Visit]:
    """The visits of one month the user may see (who visited whom when), by date."""
    return visits_visible_to(user).filter(visited_on__year=year, visited_on__month=month).order_by("visited_on", "id")


# -- the dashboard -----------------------------------------------------------------------------------


class WorkdayIndex:
    """Working days between any two dates of a range in O(1): a cumulative count built once."""

    def __init__(self, calendar: WorkCalendar, start: dt.date, end: dt.date) -> None:
        self.start = start
        self.cumulative = [0]
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            self.cumulative.append(self.cumulative[-1] + calendar.is_workday(day))

    def between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (as WorkCalendar.between)."""
        return self.cumulative[(end - self.start).days] - self.cumulative[(start - self.start).days]


FIGURE_COUNTS = (
    "received",
    "replied_on_time",
    "replied",
    "resolved",
    "due",
    "resolved_on_time",
    "rated",
    "rating_sum",
    "reopened",
    "resolved_ever",
    "open",
    "overdue",
)


def _figures_aggregates(today: dt.date) -> dict:
    resolved = Q(resolved_on__isnull=False)
    return {
        "received": Count("id"),
        "replied_on_time": Count("id", filter=Q(first_reply_on__isnull=False, first_reply_on__lte=F("reply_due"))),
        "replied": Count("id", filter=Q(first_reply_on__isnull=False)),
        "resolved": Count("id", filter=resolved),
        "due": Count("id", filter=resolved | Q(resolve_due__lt=today)),
        "resolved_on_time": Count("id", filter=Q(resolved_on__isnull=False, resolved_on__lte=F("resolve_due"))),
        "rated": Count("rating"),
        "rating_sum": Coalesce(Sum("rating"), 0),
        "reopened": Count("id", filter=Q(reopen_count__gt=0)),
        "resolved_ever": Count("id", filter=resolved | Q(reopen_count__gt=0)),
        "open": Count("id", filter=Q(status__in=OPEN_STATUSES)),
        "overdue": Count(
            "id",
            filter=Q(status__in=OPEN_STATUSES - {RequestStatus.WAITING_FOR_FIRM}, resolve_due__lt=today),
        ),
    }


def _ratio(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.0001"))


def _finish(counts: dict, durations: Counter | None) -> dict:
    """Add the rates, the average rating and the median time to resolve to a group's counts."""
    figures = {key: counts.get(key) or 0 for key in FIGURE_COUNTS}
    figures["reply_rate"] = _ratio(figures["replied_on_time"], figures["received"])
    figures["on_time_rate"] = _ratio(figures["resolved_on_time"], figures["due"])
    figures["reopen_rate"] = _ratio(figures["reopened"], figures["resolved_ever"])
    figures["average_rating"] = (
        (Decimal(figures["rating_sum"]) / figures["rated"]).quantize(Decimal("0.01")) if figures["rated"] else None
    )
    figures["median_days"] = weighted_median(durations or Counter())
    return figures


def weighted_median(counts: Counter) -> float | None:
    """The median of values given as {value: how many times} (the mean of the two middle ones when
    the total is even), without expanding them."""
    total = sum(counts.values())
    if not total:
        return None
    middle = ((total - 1) // 2, total // 2)  # 0-based positions of the middle value(s)
    found, seen = [], 0
    for value in sorted(counts):
        seen += counts[value]
        while len(found) < 2 and middle[len(found)] < seen:
            found.append(value)
        if len(found) == 2:
            break
    return (found[0] + found[1]) / 2


GROUP_KEYS = ("category", "assignee", "department")


def _counts(requests: QuerySet, key: str | None, today: dt.date) -> dict:
    """The counts of `requests` grouped by `key` (None: one group): one query."""
    if key is None:
        return {None: requests.order_by().aggregate(**_figures_aggregates(today))}
    return {row[key]: row for row in requests.order_by().values(key).annotate(**_figures_aggregates(today))}


def _durations(requests: QuerySet) -> tuple[dict[str, dict], str | None]:
    """Working days from receipt to resolution (minus the days paused), counted per value, for every
    grouping at once: {"overall"|key: {group value: Counter(days → requests)}}, and the calendar's
    complaint if it does not cover the dates. Two queries: the date span, and the resolved requests
    grouped by (category, assignee, department, received, resolved, paused)."""
    durations: dict[str, dict] = {name: defaultdict(Counter) for name in ("overall", *GROUP_KEYS)}
    resolved = requests.filter(resolved_on__isnull=False).order_by()
    span = resolved.aggregate(first=Min("received_on"), last=Max("resolved_on"))
    if span["first"] is None:
        return durations, None
    try:
        index = WorkdayIndex(WorkCalendar(), span["first"], max(span["last"], span["first"]))
    except CalendarNotCovered as error:
        return durations, error.message
    fields = [*GROUP_KEYS, "received_on", "resolved_on", "paused_workdays"]
    rows = resolved.values(*fields).annotate(n=Count("id")).values_list(*fields, "n")
    for category, assignee, department, received, done, paused, n in rows:
        days = max(index.between(received, done) - paused, 0) if done >= received else 0
        durations["overall"][None][days] += n
        durations["category"][category][days] += n
        durations["assignee"][assignee][days] += n
        durations["department"][department][days] += n
    return durations, None


def service_dashboard(*, user: User, year: int, today: dt.date | None = None) -> dict:
    """The service dashboard for requests received in `year` (district staff only).

    Figures, overall and per category, per specialist (the person handling) and per department:
    received; reply rate = replied within the SLA / received; on-time resolution rate = resolved by
    the resolution deadline / requests whose resolution is due (resolved, or past the deadline by
    `today`); median working days from receipt to resolution, not counting the days paused waiting
    for the firm; average rating (1–5) over rated requests; reopen rate = reopened at least once /
    resolved at least once. Also the volume by category and month, and the open labour needs
    (headcount by skill) and financing needs (count, total amount in 万元) across all firms.

    Returns a dict: year, months (first day of each month), volume {category: [12 counts]},
    volume_total [12], overall {figures}, by_category [(Category, figures)], by_specialist
    [(User, figures)], by_department [(Organisation, figures)], labour_needs [{skills, headcount,
    requests}], labour_headcount, financing_needs {count, amount, shared}, calendar_error.
    """
    if not is_district_staff(user):
        raise PermissionDeniedError()
    today = today or timezone.localdate()
    requests = requests_visible_to(user).filter(received_on__year=year)
    durations, calendar_error = _durations(requests)

    volume = {c.value: [0] * 12 for c in Category}
    for row in (
        requests.order_by().annotate(m=ExtractMonth("received_on")).values("category", "m").annotate(n=Count("id"))
    ):
        volume.setdefault(row["category"], [0] * 12)[row["m"] - 1] = row["n"]

    overall = _finish(_counts(requests, None, today)[None], durations["overall"][None])
    by_category_raw, by_assignee_raw, by_department_raw = (
        {k: _finish(v, durations[key].get(k)) for k, v in _counts(requests, key, today).items()} for key in GROUP_KEYS
    )
    people = User.objects.in_bulk([k for k in by_assignee_raw if k is not None])
    departments = Organisation.objects.in_bulk([k for k in by_department_raw if k is not None])

    open_requests = ServiceRequest.objects.filter(status__in=OPEN_STATUSES)
    labour = list(
        open_requests.filter(category=Category.LABOUR, labour_headcount__isnull=False)
        .order_by()
        .values("labour_skills")
        .annotate(headcount=Sum("labour_headcount"), requests=Count("id"))
        .order_by("-headcount", "labour_skills")
    )
    financing = open_requests.filter(category=Category.FINANCING, financing_amount__isnull=False).aggregate(
        count=Count("id"),
        amount=Coalesce(Sum("financing_amount"), ZERO_MONEY),
        shared=Count("id", filter=Q(financing_share_with_banks=True)),
    )
    return {
        "year": year,
        "months": [dt.date(year, m, 1) for m in range(1, 13)],
        "volume": volume,
        "volume_total": [sum(counts[m] for counts in volume.values()) for m in range(12)],
        "overall": overall,
        "by_category": [(c, by_category_raw[c.value]) for c in Category if c.value in by_category_raw],
        "by_specialist": sorted(
            ((people[k], v) for k, v in by_assignee_raw.items() if k in people), key=lambda item: str(item[0])
        ),
        "unassigned": by_assignee_raw.get(None),
        "by_department": sorted(
            ((departments[k], v) for k, v in by_department_raw.items() if k in departments),
            key=lambda item: item[0].name,
        ),
        "labour_needs": [
            {"skills": row["labour_skills"], "headcount": row["headcount"], "requests": row["requests"]}
            for row in labour
        ],
        "labour_headcount": sum(row["headcount"] for row in labour),
        "financing_needs": financing,
        "calendar_error": calendar_error,
    }


def service_figures(*, user: User, year: int, today: dt.date | None = None) -> dict:
    """The service dashboard's overall figures (without the median time, which needs the calendar)
    for requests received from 1 January of `year` up to `today`: one query, for the cockpit and the
    monthly report. Same definitions as `service_dashboard`."""
    if not is_district_staff(user):
        raise PermissionDeniedError()
    today = today or timezone.localdate()
    requests = requests_visible_to(user).filter(received_on__year=year, received_on__lte=today)
    return _finish(_counts(requests, None, today)[None], None)


# -- banks -------------------------------------------------------------------------------------------


def financing_needs_for_bank(user: User) -> QuerySet[ServiceRequest]:
    """Open financing needs whose firm chose to publish them to banks: all a bank sees of the desk.

    District staff see the same list (to know what the banks see); everyone else nothing."""
    if not (is_district_staff(user) or (is_authenticated(user) and user.role == Role.BANK)):
        return ServiceRequest.objects.none()
    return (
        ServiceRequest.objects.filter(
            category=Category.FINANCING, financing_share_with_banks=True, status__in=OPEN_STATUSES
        )
        .select_related("enterprise")
        .order_by("-received_on", "-id")
    )
