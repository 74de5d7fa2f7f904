"""The working-day calendar (工作日): deadlines under 行政许可法 §82 are counted in working days.

A date is a working day according to, in order:
1. an admin CalendarOverride row for that date (a holiday, or a 调休 make-up working day);
2. chinese-calendar, for the years its release covers;
3. for a year the admin declared complete (WorkCalendarYear): Monday to Friday.
A date in a year that none of these covers raises CalendarNotCovered — never a silent
"weekends only" guess, since a wrong deadline is worse than a visible error.
"""

import datetime as dt

import chinese_calendar
from django.utils.translation import gettext_lazy as _

from zhiyuan.core.errors import DomainError
from zhiyuan.core.models import CalendarOverride, WorkCalendarYear

# Guard against runaway loops from absurd inputs (e.g. n = 10**9): 20 years of working days.
MAX_WORKDAYS = 5000


class CalendarNotCovered(DomainError):
    """The working-day calendar has no data for the year of the date asked about."""

    code = "calendar_not_covered"

    def __init__(self, year: int):
        super().__init__(
            _(
                "The working-day calendar does not cover the year %(year)s: an administrator must enter "
                "that year's holidays and make-up working days (日历管理) first."
            )
            % {"year": year}
        )
        self.year = year


class WorkCalendar:
    """Answers is-working-day questions, loading the admin overrides once per instance."""

    def __init__(self) -> None:
        self._overrides = dict(CalendarOverride.objects.values_list("date", "is_workday"))
        self._declared_years = set(WorkCalendarYear.objects.values_list("year", flat=True))

    def is_workday(self, day: dt.date) -> bool:
        """Whether `day` is a working day; raises CalendarNotCovered for an uncovered year."""
        if day in self._overrides:
            return self._overrides[day]
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            if day.year in self._declared_years:
                return day.weekday() < 5
            raise CalendarNotCovered(day.year) from None

    def add(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day after `start` (before it for negative n); `start` itself is not counted."""
        if abs(n) > MAX_WORKDAYS:
            raise DomainError(_("A span of %(n)s working days is out of range.") % {"n": n})
        step = dt.timedelta(days=1 if n >= 0 else -1)
        day, remaining = start, abs(n)
        while remaining:
            day += step
            if self.is_workday(day):
                remaining -= 1
        return day

    def between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end`; negative when `end` is before `start`."""
        if end < start:
            return -self.between(end, start)
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_workday(day)
        return count


def is_workday(day: dt.date) -> bool:
    """Whether `day` is a working day (see the module docstring for the sources)."""
    return WorkCalendar().is_workday(day)


def workdays_add(start: dt.date, n: int) -> dt.date:
    """The n-th working day after `start`: a time limit of n working days counted from `start`."""
    return WorkCalendar().add(start, n)


def workdays_between(start: dt.date, end: dt.date) -> int:
    """How many working days lie after `start` up to and including `end`."""
    return WorkCalendar().between(start, end)


def calendar_covered_until() -> dt.date:
    """The last day the working-day calendar covers without a gap: the end of chinese-calendar's last
    year, extended by each following year an administrator has declared complete."""
    last_year = max(day.year for day in chinese_calendar.holidays)
    declared = set(WorkCalendarYear.objects.values_list("year", flat=True))
    while last_year + 1 in declared:
        last_year += 1
    return dt.date(last_year, 12, 31)


def calendar_warning(today: dt.date, *, within_days: int = 60) -> str | None:
    """A message for administrators when the calendar runs out within `within_days` (deadlines of new
    requests and applications reach into the next year weeks before it starts), else None."""
    until = calendar_covered_until()
    if (until - today).days > within_days:
        return None
    return _(
        "The working-day calendar ends on %(date)s. Enter the holidays and make-up working days of %(year)s "
        "(calendar overrides) and declare the year complete, or deadlines that reach into %(year)s cannot be computed."
    ) % {"date": until.isoformat(), "year": until.year + 1}
