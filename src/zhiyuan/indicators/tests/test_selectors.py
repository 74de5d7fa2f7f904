"""Indicator reads: the cards (latest period reported as of a day, 同比 from the same period last year,
the published growth where last year is missing or preferred, progress against the target — set, or
implied by a growth rate from last year's result), period labels, the last period ended, the trend
series and the value rows. Rows are built with the ORM so each figure can be worked out by hand."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from zhiyuan.core.errors import NotFoundError, PermissionDeniedError
from zhiyuan.indicators import selectors
from zhiyuan.indicators.figures import GrowthBasis, Status
from zhiyuan.indicators.models import PeriodType
from zhiyuan.indicators.selectors import card_for, cards, last_period, period_label, series, value_rows

D = dt.date
M = Decimal


def card_of(indicator, **kwargs):
    found = [card for card in cards(**kwargs) if card.indicator == indicator]
    assert len(found) == 1
    return found[0]


# -- who may read and edit ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "view", "edit"),
    [
        ("admin", True, True),
        ("statistics", True, True),
        ("leader", True, False),
        ("investment", True, False),
        ("service_staff", True, False),
        ("firm_a", False, False),
        ("bank", False, False),
        ("city", False, False),
    ],
)
def test_who_may_view_and_edit(personas, role, view, edit):
    user = personas[role]
    assert (selectors.may_view(user), selectors.may_edit(user)) == (view, edit)
    if view:
        selectors.require_view(user)
    else:
        with pytest.raises(PermissionDeniedError):
            selectors.require_view(user)


def test_anonymous_may_do_nothing(db):
    assert not selectors.may_view(AnonymousUser()) and not selectors.may_edit(AnonymousUser())
    assert not selectors.may_view(None) and not selectors.may_edit(None)


def test_indicator_get(gdp):
    assert selectors.indicator_get("gdp") == gdp
    with pytest.raises(NotFoundError):
        selectors.indicator_get("no-such-code")


def test_value_and_target_get(gdp, value_factory, target_factory):
    stored = value_factory(gdp, 2019, 2, "100")
    target = target_factory(gdp, 2019, value="230")
    assert selectors.value_get(gdp, 2019, 2) == stored
    assert selectors.target_get(gdp, 2019) == target
    with pytest.raises(NotFoundError):
        selectors.value_get(gdp, 2019, 3)
    with pytest.raises(NotFoundError):
        selectors.target_get(gdp, 2020)


def test_targets_list(gdp, industry_output, target_factory):
    a = target_factory(gdp, 2019, value="230")
    b = target_factory(industry_output, 2019, growth="8")
    c = target_factory(gdp, 2018, value="219.4")
    assert list(selectors.targets_list()) == [a, b, c]  # newest year first, then indicator order
    assert list(selectors.targets_list(year=2018)) == [c]


def test_indicators_list_active_only(gdp, indicator_factory):
    retired = indicator_factory("工业用电量", is_active=False)
    assert set(selectors.indicators_list()) == {gdp, retired}
    assert list(selectors.indicators_list(active_only=True)) == [gdp]


# -- the last period ended -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period_type", "as_of", "expected"),
    [
        (PeriodType.MONTH, D(2019, 6, 30), (2019, 6)),
        (PeriodType.MONTH, D(2019, 6, 29), (2019, 5)),
        (PeriodType.MONTH, D(2019, 1, 31), (2019, 1)),
        (PeriodType.MONTH, D(2019, 1, 15), (2018, 12)),
        (PeriodType.MONTH, D(2019, 12, 31), (2019, 12)),
        (PeriodType.MONTH, D(2020, 2, 29), (2020, 2)),  # leap year
        (PeriodType.MONTH, D(2020, 2, 28), (2020, 1)),
        (PeriodType.QUARTER, D(2019, 6, 30), (2019, 2)),
        (PeriodType.QUARTER, D(2019, 7, 15), (2019, 2)),
        (PeriodType.QUARTER, D(2019, 3, 30), (2018, 4)),
        (PeriodType.QUARTER, D(2019, 12, 31), (2019, 4)),
        (PeriodType.YEAR, D(2019, 12, 31), (2019, 1)),
        (PeriodType.YEAR, D(2019, 12, 30), (2018, 1)),
        (PeriodType.YEAR, D(2019, 6, 30), (2018, 1)),
    ],
)
def test_last_period(period_type, as_of, expected):
    assert last_period(period_type, as_of) == expected


# -- period labels ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period_type", "is_cumulative", "period", "expected"),
    [
        (PeriodType.MONTH, True, 6, "2019, months 1–6"),
        (PeriodType.MONTH, True, 1, "2019-01"),  # January's year-to-date is January
        (PeriodType.MONTH, False, 6, "2019-06"),
        (PeriodType.QUARTER, True, 2, "2019, quarters 1–2"),
        (PeriodType.QUARTER, True, 1, "2019, quarter 1"),
        (PeriodType.QUARTER, False, 3, "2019, quarter 3"),
        (PeriodType.YEAR, True, 1, "2019"),
    ],
)
def test_period_label_in_english(indicator_factory, period_type, is_cumulative, period, expected):
    indicator = indicator_factory(period_type=period_type, cumulative=is_cumulative)
    with translation.override("en"):
        assert period_label(indicator, 2019, period) == expected


# The Chinese labels come from the zh_Hans catalogue (msgids "%(year)d, months 1–%(month)d",
# "%(year)d-%(month)02d", "%(year)d, quarters 1–%(quarter)d", "%(year)d, quarter %(quarter)d", "%(year)d").
@pytest.mark.parametrize(
    ("period_type", "is_cumulative", "period", "pattern"),
    [
        (PeriodType.MONTH, True, 6, r"^2019年1\s*[-—–~至]\s*6月$"),  # 2019年1—6月
        (PeriodType.MONTH, False, 6, r"^2019年0?6月$"),
        (PeriodType.MONTH, True, 1, r"^2019年0?1月$"),
        (PeriodType.QUARTER, True, 2, r"^2019年.*1\s*[-—–~至]\s*(2|二)\s*季度?$|^2019年.*[上]半年$"),
        (PeriodType.QUARTER, False, 3, r"^2019年.*(3|三)季度?$"),
        (PeriodType.YEAR, True, 1, r"^2019年?$"),
    ],
)
def test_period_label_in_chinese(indicator_factory, period_type, is_cumulative, period, pattern):
    indicator = indicator_factory(period_type=period_type, cumulative=is_cumulative)
    with translation.override("zh-hans"):
        label = period_label(indicator, 2019, period)
    assert re.search(pattern, label), label


# -- cards: which period -----------------------------------------------------------------------------------


@pytest.fixture
def monthly_2019(industry_output, value_factory):
    """规模工业增加值: 2018 months 1–12 (4.5 亿元 a month), 2019 months 1–8 (4.95 a month, +10 %), 累计."""
    for month in range(1, 13):
        value_factory(industry_output, 2018, month, M("4.5") * month, period_value="4.5")
    for month in range(1, 9):
        value_factory(industry_output, 2019, month, M("4.95") * month, period_value="4.95")
    return industry_output


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (D(2019, 6, 30), (2019, 6)),  # June has ended: its figure counts; July and August are later
        (D(2019, 6, 29), (2019, 5)),
        (D(2019, 12, 31), (2019, 8)),  # nothing reported after August
        (D(2019, 1, 20), (2018, 12)),
    ],
)
def test_card_shows_the_latest_period_reported_by_the_day(monthly_2019, as_of, expected):
    card = card_of(monthly_2019, as_of=as_of)
    assert (card.year, card.period) == expected
    assert card.value.value == (M("4.95") * expected[1] if expected[0] == 2019 else M("54"))


def test_card_growth_from_the_same_period_last_year(monthly_2019):
    card = card_of(monthly_2019, as_of=D(2019, 6, 30))
    assert card.value.value == M("29.7")
    assert card.prior == M("27")  # 2018 months 1–6
    assert card.growth == M("10")
    assert card.growth_basis == GrowthBasis.COMPUTED


def test_card_without_any_value_is_empty_for_the_last_period_ended(industry_output):
    card = card_of(industry_output, as_of=D(2019, 6, 30))
    assert (card.year, card.period) == (2019, 6)
    assert (card.value, card.prior, card.growth, card.growth_basis) == (None, None, None, None)
    assert card.progress.status == Status.NONE


def test_card_ignores_values_older_than_last_year(industry_output, value_factory):
    value_factory(industry_output, 2017, 12, "50")
    card = card_of(industry_output, as_of=D(2019, 6, 30))
    assert (card.year, card.period, card.value) == (2019, 6, None)


def test_cards_cockpit_only_and_active_only(gdp, industry_output, indicator_factory):
    hidden = indicator_factory("新增城镇就业", unit="人", on_cockpit=False, sequence=9)
    retired = indicator_factory("工业用电量", is_active=False, sequence=10)
    assert [c.indicator for c in cards(as_of=D(2019, 6, 30))] == [gdp, industry_output]
    every = [c.indicator for c in cards(as_of=D(2019, 6, 30), cockpit_only=False)]
    assert every == [gdp, industry_output, hidden]
    assert retired not in every


def test_cards_query_count_does_not_grow_with_indicators(gdp, industry_output, value_factory, indicator_factory):
    value_factory(gdp, 2019, 2, "100")
    with CaptureQueriesContext(connection) as few:
        cards(as_of=D(2019, 6, 30))
    for n in range(5):
        extra = indicator_factory(f"指标X{n}")
        value_factory(extra, 2019, 5, "1")
    with CaptureQueriesContext(connection) as many:
        assert len(cards(as_of=D(2019, 6, 30))) == 7
    assert len(many.captured_queries) == len(few.captured_queries) == 3


# -- cards: growth -----------------------------------------------------------------------------------------


def test_missing_prior_year_uses_the_published_growth(industry_output, value_factory):
    value_factory(industry_output, 2019, 6, "29.7", source_growth="8.3")
    card = card_of(industry_output, as_of=D(2019, 6, 30))
    assert card.prior is None
    assert (card.growth, card.growth_basis) == (M("8.3"), GrowthBasis.SOURCE)


def test_missing_prior_year_and_no_published_growth(industry_output, value_factory):
    value_factory(industry_output, 2019, 6, "29.7")
    value_factory(industry_output, 2018, 5, "22.5")  # another month last year does not stand in
    card = card_of(industry_output, as_of=D(2019, 6, 30))
    assert (card.prior, card.growth, card.growth_basis) == (None, None, None)


def test_computed_growth_wins_over_the_published_one_by_default(industry_output, value_factory):
    value_factory(industry_output, 2018, 6, "27")
    value_factory(industry_output, 2019, 6, "29.7", source_growth="8.3")
    card = card_of(industry_output, as_of=D(2019, 6, 30))
    assert (card.growth, card.growth_basis) == (M("10"), GrowthBasis.COMPUTED)


def test_an_indicator_that_prefers_the_published_growth(indicator_factory, value_factory):
    gdp = indicator_factory("地区生产总值", period_type=PeriodType.QUARTER, growth_from_source=True)
    value_factory(gdp, 2018, 2, "100")
    value_factory(gdp, 2019, 2, "110", source_growth="7.6")  # comparable prices: 7.6 %, nominal 10 %
    card = card_of(gdp, as_of=D(2019, 7, 15))
    assert card.prior == M("100")
    assert (card.growth, card.growth_basis) == (M("7.6"), GrowthBasis.SOURCE)
    # without a published figure it falls back on the computed one
    value_factory(gdp, 2018, 3, "150")
    value_factory(gdp, 2019, 3, "165")
    card = card_of(gdp, as_of=D(2019, 10, 1))
    assert (card.period, card.growth, card.growth_basis) == (3, M("10"), GrowthBasis.COMPUTED)


def test_growth_of_a_rate_is_the_change_in_percentage_points(unemployment, value_factory):
    value_factory(unemployment, 2018, 6, "4.0")
    value_factory(unemployment, 2019, 6, "4.2")
    card = card_of(unemployment, as_of=D(2019, 7, 10))
    assert card.growth == M("0.2")  # 4.0% → 4.2%: +0.2 points, not +5%


def test_growth_of_a_level_in_other_units_is_in_per_cent(indicator_factory, value_factory):
    loans = indicator_factory("贷款余额", unit="亿元", period_type="month", cumulative=False)
    value_factory(loans, 2018, 6, "40")
    value_factory(loans, 2019, 6, "42")
    assert card_of(loans, as_of=D(2019, 7, 10)).growth == M("5")


# -- cards: progress against the target ---------------------------------------------------------------------


def test_cumulative_progress_share_reached_vs_year_elapsed(monthly_2019, target_factory):
    target_factory(monthly_2019, 2019, value="60")
    card = card_of(monthly_2019, as_of=D(2019, 6, 30))
    assert card.progress.target == M("60")
    assert card.progress.reached == M("29.7") / M("60")  # 49.5 %
    assert card.progress.elapsed == M("0.5")
    assert card.progress.status == Status.WATCH  # half a point behind the calendar


def test_cumulative_progress_ahead_and_far_behind(monthly_2019, target_factory):
    target_factory(monthly_2019, 2019, value="50")
    assert card_of(monthly_2019, as_of=D(2019, 6, 30)).progress.status == Status.GOOD  # 59.4 % at 50 %
    target = monthly_2019.targets.get()
    target.value = M("80")
    target.save()
    assert card_of(monthly_2019, as_of=D(2019, 6, 30)).progress.status == Status.BAD  # 37 % at 50 %


@pytest.mark.parametrize(("rate", "status"), [("4.2", Status.GOOD), ("4.6", Status.WATCH), ("5.5", Status.BAD)])
def test_level_progress_compares_the_value_with_the_target(unemployment, value_factory, target_factory, rate, status):
    value_factory(unemployment, 2019, 2, rate)
    target_factory(unemployment, 2019, value="4.5")
    card = card_of(unemployment, as_of=D(2019, 3, 5))
    assert card.period == 2
    assert card.progress.elapsed == M(2) / M(12)
    assert card.progress.status == status  # February: the share of the year plays no part


def test_growth_only_target_implied_from_last_years_december(monthly_2019, target_factory):
    target_factory(monthly_2019, 2019, growth="10")  # 2018: 54 亿元 (12 × 4.5) → 59.4
    card = card_of(monthly_2019, as_of=D(2019, 6, 30))
    assert card.progress.target == M("59.4")
    assert card.progress.reached == M("0.5")
    assert card.progress.status == Status.GOOD


def test_growth_only_target_of_a_quarterly_indicator_from_last_years_fourth_quarter(
    gdp, value_factory, target_factory
):
    value_factory(gdp, 2018, 2, "100")
    value_factory(gdp, 2018, 4, "219.4")
    value_factory(gdp, 2019, 1, "52")
    value_factory(gdp, 2019, 2, "116")
    target_factory(gdp, 2019, growth="8")
    card = card_of(gdp, as_of=D(2019, 7, 15))
    assert (card.year, card.period) == (2019, 2)
    assert card.progress.elapsed == M("0.5")  # 2 of 4 quarters
    assert card.progress.target == M("236.952")
    assert card.progress.reached == M("116") / M("236.952")
    assert card.progress.status == Status.WATCH  # 48.96 %: about one point behind the calendar
    assert card.growth == M("16")


def test_growth_only_target_without_last_years_result_compares_the_growth(industry_output, value_factory,
                                                                           target_factory):
    value_factory(industry_output, 2019, 6, "29.7", source_growth="7.5")
    target_factory(industry_output, 2019, growth="8")
    card = card_of(industry_output, as_of=D(2019, 6, 30))
    assert card.progress.target is None
    assert card.progress.status == Status.WATCH  # 7.5 % growth against a +8 % target


def test_a_target_value_and_growth_use_the_value(monthly_2019, target_factory):
    target_factory(monthly_2019, 2019, value="70", growth="10")
    assert card_of(monthly_2019, as_of=D(2019, 6, 30)).progress.target == M("70")


def test_last_years_target_does_not_apply(monthly_2019, target_factory):
    target_factory(monthly_2019, 2018, value="60")
    card = card_of(monthly_2019, as_of=D(2019, 6, 30))
    assert card.target is None and card.progress.status == Status.NONE


def test_card_for_a_given_period(monthly_2019, target_factory):
    target_factory(monthly_2019, 2019, value="60")
    card = card_for(monthly_2019, 2019, 3)
    assert card.value.value == M("14.85")
    assert card.prior == M("13.5")
    assert card.growth == M("10")
    assert card.progress.elapsed == M("0.25")
    assert card.progress.reached == M("14.85") / M("60")
    with translation.override("en"):
        assert card.label == "2019, months 1–3"
        assert card.status_label == "Slightly behind"  # 24.75 % at 25 %


# -- series and value rows -------------------------------------------------------------------------------


def test_series_by_year_with_growth(monthly_2019, value_factory):
    points = series(monthly_2019, years=range(2018, 2020))
    assert list(points) == [2018, 2019]
    assert [p.period for p in points[2018]] == list(range(1, 13))
    assert [p.period for p in points[2019]] == list(range(1, 9))
    assert points[2019][5].value == M("29.7")
    assert all(p.growth == M("10") for p in points[2019])
    assert all(p.growth is None for p in points[2018])  # 2017 is not known


def test_series_uses_the_published_growth_where_last_year_is_missing(industry_output, value_factory):
    value_factory(industry_output, 2019, 1, "5", source_growth="6.1")
    value_factory(industry_output, 2019, 2, "10")
    points = series(industry_output, years=range(2019, 2020))[2019]
    assert [(p.period, p.growth) for p in points] == [(1, M("6.1")), (2, None)]


def test_series_of_a_year_without_values_is_empty(industry_output):
    assert series(industry_output, years=range(2019, 2021)) == {2019: [], 2020: []}


def test_value_rows_newest_first(gdp, value_factory, target_factory):
    value_factory(gdp, 2018, 1, "50")
    value_factory(gdp, 2018, 2, "100")
    value_factory(gdp, 2019, 1, "55")
    value_factory(gdp, 2019, 2, "112")
    target_factory(gdp, 2019, value="230")
    rows = value_rows(gdp)
    assert [(r.year, r.period) for r in rows] == [(2019, 2), (2019, 1), (2018, 2), (2018, 1)]
    assert [r.growth for r in rows] == [M("12"), M("10"), None, None]
    assert rows[0].target.value == M("230") and rows[0].progress.reached == M("112") / M("230")
    assert rows[3].target is None


def test_value_rows_of_an_indicator_without_values(gdp):
    assert value_rows(gdp) == []
