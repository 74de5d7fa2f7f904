import datetime as dt

import pytest

from zhiyuan.core.models import CalendarOverride, WorkCalendarYear
from zhiyuan.core.workdays import CalendarNotCovered, is_workday, workdays_add, workdays_between

D = dt.date


@pytest.mark.django_db
class TestPublishedCalendar:
    def test_spring_festival_2026_make_up_saturdays_are_working_days(self):
        assert is_workday(D(2026, 2, 14))  # Saturday, 调休
        assert is_workday(D(2026, 2, 28))  # Saturday, 调休

    def test_national_day_week_2026_is_off(self):
        for day in range(1, 8):
            assert not is_workday(D(2026, 10, day)), day

    def test_ordinary_weekend_is_off_and_weekday_on(self):
        assert not is_workday(D(2026, 3, 7))  # Saturday
        assert is_workday(D(2026, 3, 9))  # Monday

    def test_add_skips_national_day(self):
        # Wednesday 30 September + 1 working day jumps the holiday week to Thursday 8 October.
        assert workdays_add(D(2026, 9, 30), 1) == D(2026, 10, 8)

    def test_add_counts_make_up_saturday(self):
        # Friday 13 Feb 2026 + 1 is Saturday 14 Feb, a 调休 working day.
        assert workdays_add(D(2026, 2, 13), 1) == D(2026, 2, 14)

    def test_add_zero_and_negative(self):
        assert workdays_add(D(2026, 3, 9), 0) == D(2026, 3, 9)
        assert workdays_add(D(2026, 3, 9), -1) == D(2026, 3, 6)

    def test_between_excludes_start_includes_end(self):
        # Mon 9 → Fri 13 March 2026: 10, 11, 12, 13.
        assert workdays_between(D(2026, 3, 9), D(2026, 3, 13)) == 4
        assert workdays_between(D(2026, 3, 13), D(2026, 3, 9)) == -4
        assert workdays_between(D(2026, 3, 9), D(2026, 3, 9)) == 0

    def test_between_across_spring_festival(self):
        # 13 Feb (Fri) → 28 Feb (Sat): 14 (调休), 15–23 holiday, 24, 25, 26, 27, 28 (调休).
        assert workdays_between(D(2026, 2, 13), D(2026, 2, 28)) == 6


@pytest.mark.django_db
class TestOverrides:
    def test_override_row_wins_over_published_calendar(self):
        CalendarOverride.objects.create(date=D(2026, 3, 10), is_workday=False, name="本地停工")
        assert not is_workday(D(2026, 3, 10))
        assert workdays_add(D(2026, 3, 9), 1) == D(2026, 3, 11)

    def test_override_can_make_a_sunday_a_working_day(self):
        CalendarOverride.objects.create(date=D(2026, 3, 8), is_workday=True, name="调休")
        assert is_workday(D(2026, 3, 8))

    def test_uncovered_year_raises_clear_error(self):
        with pytest.raises(CalendarNotCovered) as excinfo:
            is_workday(D(2031, 5, 6))
        assert "2031" in str(excinfo.value)

    def test_uncovered_year_raises_even_on_an_apparent_weekday(self):
        with pytest.raises(CalendarNotCovered):
            workdays_add(D(2026, 12, 30), 5)

    def test_declared_year_uses_weekdays_plus_overrides(self):
        WorkCalendarYear.objects.create(year=2031, note="国办发明电〔2030〕")
        CalendarOverride.objects.create(date=D(2031, 1, 1), is_workday=False, name="元旦")
        assert not is_workday(D(2031, 1, 1))  # Wednesday, holiday by override
        assert is_workday(D(2031, 1, 2))
        assert not is_workday(D(2031, 1, 4))  # Saturday


@pytest.mark.django_db
class TestCoverageWarning:
    def test_coverage_ends_with_the_published_calendar(self):
        from zhiyuan.core.workdays import calendar_covered_until

        assert calendar_covered_until() == D(2026, 12, 31)

    def test_declared_years_extend_coverage(self):
        from zhiyuan.core.workdays import calendar_covered_until

        WorkCalendarYear.objects.create(year=2027)
        WorkCalendarYear.objects.create(year=2029)  # a gap at 2028 stops the extension
        assert calendar_covered_until() == D(2027, 12, 31)

    def test_warning_only_when_the_end_is_near(self):
        from zhiyuan.core.workdays import calendar_warning

        assert calendar_warning(D(2026, 6, 1)) is None
        assert "2027" in calendar_warning(D(2026, 11, 29))

    def test_admin_sees_the_warning_banner(self, login):
        from django.utils import timezone

        from zhiyuan.core.workdays import calendar_warning

        # Today (the calendar ends 2026-12-31) the warning is due; the banner follows it, for admins only.
        due = calendar_warning(timezone.localdate()) is not None
        assert (b"calendar-warning" in login("admin").get("/").content) == due
        assert b"calendar-warning" not in login("specialist").get("/").content

    def test_banner_disappears_once_the_next_year_is_declared(self, login):
        WorkCalendarYear.objects.create(year=2027)
        WorkCalendarYear.objects.create(year=2028)
        assert b"calendar-warning" not in login("admin").get("/").content
