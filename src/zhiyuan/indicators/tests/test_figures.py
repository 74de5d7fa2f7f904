"""The arithmetic of indicators without the database: 同比 growth, which growth is shown, the target a
growth rate implies, the share of the year elapsed, and the status of a figure against its target —
cumulative (share reached vs share elapsed) and levels (value vs target), either direction, with a
growth target only, without a target, and exactly at the edges of the watch margin."""

from decimal import Decimal

import pytest

from zhiyuan.indicators.figures import (
    GrowthBasis,
    Status,
    choose_growth,
    elapsed_share,
    growth,
    implied_target,
    progress,
)

D = Decimal
WATCH = D(5)  # the default ZHIYUAN_INDICATOR_WATCH_POINTS: 5 percentage points (levels: 5 %; growth: 1 point)


# -- growth (同比) ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "prior", "expected"),
    [
        (D("110"), D("100"), D("10")),
        (D("90"), D("100"), D("-10")),
        (D("100"), D("100"), D("0")),
        (D("0"), D("100"), D("-100")),
        (D("236.95"), D("219.4"), (D("236.95") / D("219.4") - 1) * 100),  # 2018 GDP grown by 8 %
    ],
)
def test_growth_over_the_same_period_last_year(value, prior, expected):
    assert growth(value, prior) == expected


@pytest.mark.parametrize(
    ("value", "prior"),
    [(D("110"), D("0")), (D("110"), None), (D("110"), D("-5")), (None, D("100")), (None, None)],
    ids=["prior-zero", "prior-missing", "prior-negative", "value-missing", "both-missing"],
)
def test_growth_needs_a_positive_prior_value(value, prior):
    assert growth(value, prior) is None


def test_growth_accepts_plain_numbers():
    assert growth(110, 100) == D("10")


# -- which growth is shown -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("computed", "published", "prefer", "expected"),
    [
        (D("10"), D("9"), False, (D("10"), GrowthBasis.COMPUTED)),  # last year known: computed
        (D("10"), D("9"), True, (D("9"), GrowthBasis.SOURCE)),  # comparable prices preferred
        (None, D("9"), False, (D("9"), GrowthBasis.SOURCE)),  # last year missing: as published
        (None, D("9"), True, (D("9"), GrowthBasis.SOURCE)),
        (D("10"), None, True, (D("10"), GrowthBasis.COMPUTED)),  # preferred but not given
        (D("10"), None, False, (D("10"), GrowthBasis.COMPUTED)),
        (None, None, False, (None, None)),
        (None, None, True, (None, None)),
    ],
)
def test_choose_growth(computed, published, prefer, expected):
    assert choose_growth(computed=computed, published=published, prefer_published=prefer) == expected


def test_a_published_growth_of_zero_is_a_growth():
    assert choose_growth(computed=None, published=D("0"), prefer_published=False) == (D("0"), GrowthBasis.SOURCE)


# -- the target ----------------------------------------------------------------------------------------


def test_implied_target_from_a_growth_rate():
    # 高新技术增加值 2019: +20 % on 2018's 72.17 亿元 → 86.604 亿元
    assert implied_target(value=None, growth_rate=D("20"), last_year=D("72.17")) == D("86.604")


def test_a_target_value_wins_over_the_growth_rate():
    assert implied_target(value=D("86.6"), growth_rate=D("20"), last_year=D("72.17")) == D("86.6")


def test_a_falling_target():
    assert implied_target(value=None, growth_rate=D("-10"), last_year=D("200")) == D("180")


@pytest.mark.parametrize(
    ("value", "growth_rate", "last_year"),
    [(None, D("20"), None), (None, None, D("72.17")), (None, None, None)],
    ids=["no-last-year", "no-growth", "nothing"],
)
def test_no_implied_target(value, growth_rate, last_year):
    assert implied_target(value=value, growth_rate=growth_rate, last_year=last_year) is None


@pytest.mark.parametrize(
    ("period", "periods", "expected"),
    [(6, 12, D("0.5")), (1, 12, D(1) / D(12)), (12, 12, D(1)), (2, 4, D("0.5")), (3, 4, D("0.75")), (1, 1, D(1))],
)
def test_elapsed_share(period, periods, expected):
    assert elapsed_share(period, periods) == expected


# -- progress: cumulative (累计) -------------------------------------------------------------------------


TARGET = D("200")
MID_YEAR = D("0.5")


def cumulative(value, *, target=TARGET, elapsed=MID_YEAR, higher_is_better=True, **extra):
    return progress(
        value=None if value is None else D(value),
        cumulative=True,
        higher_is_better=higher_is_better,
        target=target,
        target_growth=extra.get("target_growth"),
        growth_now=extra.get("growth_now"),
        elapsed=elapsed,
        watch_points=WATCH,
    )


def test_cumulative_progress_reports_the_shares():
    result = cumulative("110")
    assert (result.target, result.reached, result.elapsed) == (D("200"), D("0.55"), D("0.5"))
    assert result.status == Status.GOOD


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("150", Status.GOOD),  # 75 % of the target at mid-year
        ("100", Status.GOOD),  # exactly on time
        ("99.98", Status.WATCH),  # a hair behind
        ("90", Status.WATCH),  # exactly 5 points behind: still only slightly behind
        ("89.98", Status.BAD),  # just beyond the margin
        ("40", Status.BAD),
    ],
)
def test_cumulative_higher_is_better(value, status):
    assert cumulative(value).status == status


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("40", Status.GOOD),  # e.g. energy use: 20 % of the ceiling at mid-year
        ("100", Status.GOOD),
        ("110", Status.WATCH),  # exactly 5 points ahead of time
        ("110.02", Status.BAD),
        ("150", Status.BAD),
    ],
)
def test_cumulative_lower_is_better(value, status):
    assert cumulative(value, higher_is_better=False).status == status


def test_cumulative_progress_early_in_the_year():
    # January: 1/12 of the year gone, 8 % of the target reached (0.33 points behind) → slightly behind.
    assert cumulative("16", elapsed=D(1) / D(12)).status == Status.WATCH
    assert cumulative("17", elapsed=D(1) / D(12)).status == Status.GOOD


# -- progress: levels ------------------------------------------------------------------------------------


def level(value, target, *, higher_is_better=True):
    return progress(
        value=D(value),
        cumulative=False,
        higher_is_better=higher_is_better,
        target=D(target),
        target_growth=None,
        growth_now=None,
        elapsed=D("0.5"),
        watch_points=WATCH,
    )


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("4.2", Status.GOOD),  # 城镇登记失业率 ≤ 4.5 %
        ("4.5", Status.GOOD),
        ("4.6", Status.WATCH),  # 2.2 % above the ceiling
        ("5.5", Status.BAD),  # 22 % above
    ],
)
def test_unemployment_rate_lower_is_better(value, status):
    result = level(value, "4.5", higher_is_better=False)
    assert result.status == status
    assert result.reached == D(value) / D("4.5")


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("100", Status.GOOD),
        ("105", Status.WATCH),  # exactly 5 % above the ceiling
        ("105.01", Status.BAD),
        ("90", Status.GOOD),
    ],
)
def test_level_lower_is_better_at_the_margin(value, status):
    assert level(value, "100", higher_is_better=False).status == status


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("69.3", Status.GOOD),  # 民生支出 share of spending, target 69 %
        ("69", Status.GOOD),
        ("65.55", Status.WATCH),  # exactly 5 % below
        ("65.54", Status.BAD),
        ("50", Status.BAD),
    ],
)
def test_level_higher_is_better(value, status):
    assert level(value, "69").status == status


def test_a_level_is_not_compared_with_the_share_of_the_year():
    # A rate at the target in January is on track; as a cumulative figure it would be far ahead.
    result = level("4.5", "4.5", higher_is_better=False)
    assert result.reached == D(1) and result.status == Status.GOOD


# -- progress: a growth target only, or no target --------------------------------------------------------


def growth_only(growth_now, target_growth, *, higher_is_better=True):
    return progress(
        value=D("50"),
        cumulative=True,
        higher_is_better=higher_is_better,
        target=None,
        target_growth=None if target_growth is None else D(target_growth),
        growth_now=None if growth_now is None else D(growth_now),
        elapsed=D("0.5"),
        watch_points=WATCH,
    )


@pytest.mark.parametrize(
    ("growth_now", "status"),
    [
        ("9.9", Status.GOOD),
        ("8", Status.GOOD),
        ("7.5", Status.WATCH),
        ("7", Status.WATCH),  # exactly one point (5 / 5) below the target growth
        ("6.99", Status.BAD),
        ("-2", Status.BAD),
    ],
)
def test_growth_target_only(growth_now, status):
    result = growth_only(growth_now, "8")
    assert result.status == status
    assert (result.target, result.reached) == (None, None)


@pytest.mark.parametrize(
    ("growth_now", "status"),
    [("-4", Status.GOOD), ("-3", Status.GOOD), ("-2", Status.WATCH), ("-1.99", Status.BAD)],
)
def test_growth_target_lower_is_better(growth_now, status):
    # e.g. energy use per unit of output to fall by 3 %
    assert growth_only(growth_now, "-3", higher_is_better=False).status == status


@pytest.mark.parametrize(
    ("growth_now", "target_growth"),
    [(None, "8"), ("8", None), (None, None)],
    ids=["growth-unknown", "no-target", "neither"],
)
def test_without_a_comparable_target_there_is_no_status(growth_now, target_growth):
    result = growth_only(growth_now, target_growth)
    assert result.status == Status.NONE
    assert result.reached is None


def test_no_target_at_all():
    result = progress(
        value=D("110"),
        cumulative=True,
        higher_is_better=True,
        target=None,
        target_growth=None,
        growth_now=D("10"),
        elapsed=D("0.5"),
        watch_points=WATCH,
    )
    assert (result.target, result.reached, result.status) == (None, None, Status.NONE)
    assert result.elapsed == D("0.5")


def test_nothing_reported_yet_has_no_status_even_with_a_target():
    result = cumulative(None)
    assert (result.reached, result.status) == (None, Status.NONE)
    assert result.target == D("200")


def test_a_target_value_is_used_before_the_growth_target():
    # 60 % reached at mid-year is on track even though the growth lags the growth target.
    result = cumulative("120", target_growth=D("20"), growth_now=D("5"))
    assert result.status == Status.GOOD and result.reached == D("0.6")


def test_a_wider_margin():
    narrow = cumulative("85")
    wide = progress(
        value=D("85"),
        cumulative=True,
        higher_is_better=True,
        target=D("200"),
        target_growth=None,
        growth_now=None,
        elapsed=D("0.5"),
        watch_points=D(10),
    )
    assert (narrow.status, wide.status) == (Status.BAD, Status.WATCH)
