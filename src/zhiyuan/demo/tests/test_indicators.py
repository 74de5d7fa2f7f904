"""The demo indicators: the source's 2018 figures are last year's year-end figures with their stated
growth, this year runs up to the last month that has ended with targets and every status colour, the
land figures are the projects demo's, everything went through the services, and a second run writes
nothing."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from zhiyuan.core.models import AuditEntry
from zhiyuan.demo.indicators import (
    GDP_2018,
    HIGH_TECH_TARGET,
    INVESTMENT_2018,
    RETAIL_2018,
    TAX_2018,
    demo_indicators,
    demo_indicators_load,
    demo_values,
)
from zhiyuan.demo.projects import land_progress
from zhiyuan.indicators import figures
from zhiyuan.indicators.models import Indicator, IndicatorValue, Target, period_end
from zhiyuan.indicators.selectors import card_for, cards, indicator_get
from zhiyuan.indicators.services import indicator_create

pytestmark = [pytest.mark.django_db, pytest.mark.collection_day]  # dates computed at import

THIS_YEAR = timezone.localdate().year
LAST_YEAR = THIS_YEAR - 1
# A fixed day late in the year, so that the statuses do not depend on when the tests run.
LATE = dt.date(THIS_YEAR, 11, 29)
STATED = {
    "gdp": (GDP_2018, Decimal("8")),
    "fixed_investment": (INVESTMENT_2018, Decimal("8.4")),
    "retail_sales": (RETAIL_2018, Decimal("9.9")),
    "tax_revenue": (TAX_2018, Decimal("15.28")),
    "industry_va": (Decimal("54.5"), Decimal("8")),
    "livelihood_spending": (Decimal("13.9"), Decimal("13.9")),
}


def counts() -> dict[str, int]:
    return {
        "indicators": Indicator.objects.count(),
        "values": IndicatorValue.objects.count(),
        "targets": Target.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def test_the_loader_defines_the_indicators_through_the_services(personas):
    report = demo_indicators_load(today=LATE)
    specs = demo_indicators()
    assert report.loaded and report.indicators_created == len(specs) >= 15
    assert set(Indicator.objects.values_list("code", flat=True)) == {spec.code for spec in specs}
    assert not Indicator.objects.filter(is_demo=False).exists()
    assert not IndicatorValue.objects.filter(is_demo=False).exists()
    assert not Target.objects.filter(is_demo=False).exists()
    assert IndicatorValue.objects.count() == report.values > 400
    assert Target.objects.count() == report.targets
    tongji = personas["statistics"]
    assert set(IndicatorValue.objects.values_list("entered_by", flat=True)) == {tongji.pk}
    assert AuditEntry.objects.filter(action="indicators.indicator.created", actor=tongji).count() == len(specs)
    assert AuditEntry.objects.filter(action="indicators.value.recorded").count() == report.values
    assert AuditEntry.objects.filter(action="indicators.target.set").count() == report.targets

    gdp = indicator_get("gdp")
    assert (gdp.period_type, gdp.cumulative, gdp.growth_from_source, gdp.unit) == ("quarter", True, True, "亿元")
    assert "地区生产总值(GDP)" in gdp.alias_list()
    assert indicator_get("industry_va").growth_from_source
    assert "规模以上工业增加值" in indicator_get("industry_va").alias_list()
    unemployment = indicator_get("urban_unemployment")
    assert (unemployment.cumulative, unemployment.higher_is_better) == (False, False)
    assert indicator_get("large_class_rate").period_type == "year"


def test_last_years_year_end_is_the_source_with_its_stated_growth(personas):
    demo_indicators_load(today=LATE)
    for code, (total, stated) in STATED.items():
        indicator = indicator_get(code)
        last_period = indicator.periods_per_year
        row = IndicatorValue.objects.get(indicator=indicator, year=LAST_YEAR, period=last_period)
        assert row.value == total, code
        assert row.source_growth == stated, code
        before = IndicatorValue.objects.get(indicator=indicator, year=LAST_YEAR - 1, period=last_period)
        computed = figures.growth(row.value, before.value)
        assert computed.quantize(Decimal("0.01")) == stated, code
        assert card_for(indicator, LAST_YEAR, last_period).growth.quantize(Decimal("0.01")) == stated, code
    spending = IndicatorValue.objects.get(indicator__code="fiscal_spending", year=LAST_YEAR, period=12).value
    livelihood = IndicatorValue.objects.get(indicator__code="livelihood_spending", year=LAST_YEAR, period=12).value
    assert round(livelihood / spending, 3) == Decimal("0.693")
    year_end = {
        row.indicator.code: row.value
        for row in IndicatorValue.objects.filter(year=LAST_YEAR, period=12).select_related("indicator")
    }
    assert (year_end["fiscal_revenue"], year_end["elderly_beds"]) == (Decimal("8.6"), 327)


def test_the_series_are_seasonal_year_to_date_figures_up_to_the_last_month_ended(personas):
    demo_indicators_load(today=LATE)
    for spec in demo_indicators():
        indicator = indicator_get(spec.code)
        rows = list(IndicatorValue.objects.filter(indicator=indicator).order_by("year", "period"))
        assert {row.year for row in rows} == {LAST_YEAR - 1, LAST_YEAR, THIS_YEAR} or spec.code == "large_class_rate"
        assert all(period_end(indicator.period_type, row.year, row.period) < LATE for row in rows)
        this_year = [row.period for row in rows if row.year == THIS_YEAR]
        expected = {"month": list(range(1, 11)), "quarter": [1, 2, 3], "year": []}[indicator.period_type]
        assert this_year == expected, spec.code
        if indicator.cumulative:
            for row in rows:
                assert row.period_value is not None and row.period_value >= 0, (spec.code, row)
    # Investment is back-loaded: last year's first half is well under half the year.
    investment = {r.period: r.value for r in IndicatorValue.objects.filter(indicator__code="fixed_investment",
                                                                          year=LAST_YEAR)}
    assert investment[6] < Decimal("0.45") * investment[12]
    # The bureau's comparable-price growth is published with every GDP figure of the last two years.
    published = IndicatorValue.objects.filter(indicator__code="gdp", year__gte=LAST_YEAR)
    assert not published.filter(source_growth=None).exists()


def test_this_years_cards_show_targets_and_every_status(personas):
    demo_indicators_load(today=LATE)
    shown = cards(as_of=LATE)
    statuses = {card.indicator.code: card.progress.status for card in shown}
    assert {figures.Status.GOOD, figures.Status.WATCH, figures.Status.BAD} <= set(statuses.values())
    gdp = next(card for card in shown if card.indicator.code == "gdp")
    assert (gdp.year, gdp.period) == (THIS_YEAR, 3)
    assert gdp.target is not None and gdp.target.growth == Decimal("8")
    assert gdp.progress.target is not None and gdp.progress.status != figures.Status.NONE
    assert gdp.growth_basis == figures.GrowthBasis.SOURCE
    high_tech = card_for(indicator_get("high_tech_va"), THIS_YEAR, 10)
    assert high_tech.target.value == HIGH_TECH_TARGET and high_tech.progress.reached is not None
    assert high_tech.progress.status in {figures.Status.GOOD, figures.Status.WATCH, figures.Status.BAD}
    # The land acquisition card counts the same month-by-month progress as the projects demo.
    land = sum(row[1] for row in land_progress(LATE) if row[0].month <= 10)
    assert card_for(indicator_get("land_collective"), THIS_YEAR, 10).value.value == land


def test_loading_twice_writes_nothing(personas):
    out = StringIO()
    demo_indicators_load(today=LATE, stdout=out)
    first = counts()
    again = demo_indicators_load(today=LATE, stdout=out)
    assert not again.loaded and again.indicators_created == again.values == again.targets == 0
    assert again.indicators_existing == first["indicators"]
    assert counts() == first
    assert len(out.getvalue().splitlines()) == 2


def test_an_indicator_already_defined_is_left_alone(personas):
    own = indicator_create(
        actor=personas["statistics"], data={"code": "local_gdp", "name": "GDP", "unit": "万元"}
    )
    report = demo_indicators_load(today=LATE)
    assert report.indicators_existing == 1 and "gdp" not in report.codes
    assert not own.values.exists() and indicator_get("local_gdp").unit == "万元"
    assert report.indicators_created == len(demo_indicators()) - 1


def test_the_figures_of_the_past_do_not_depend_on_the_day_of_loading():
    for spec in demo_indicators():
        early = demo_values(spec, dt.date(THIS_YEAR, 2, 10))
        late = demo_values(spec, LATE)
        past = [row for row in late if row.year < THIS_YEAR]
        assert [row for row in early if row.year < THIS_YEAR] == past, spec.code
        assert not [row for row in early if row.year == THIS_YEAR and row.period > 1], spec.code


def test_zhiyuan_demo_loads_the_indicators_once():
    out = StringIO()
    call_command("demo", "--count", "0", stdout=out)
    assert Indicator.objects.filter(is_demo=True).count() == len(demo_indicators())
    first = counts()
    call_command("demo", "--count", "0", stdout=out)
    assert counts() == first
    call_command("demo", "--if-empty", stdout=out)
    assert counts() == first
