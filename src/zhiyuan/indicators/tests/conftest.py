"""Fixtures of the indicator tests: indicators and their values and targets built with the ORM (the
write rules are tested through the services in test_services.py and test_import.py)."""

from decimal import Decimal

import pytest

from zhiyuan.indicators.models import Indicator, IndicatorValue, PeriodType, Target

_serial = iter(range(1, 100_000))


@pytest.fixture
def indicator_factory(db):
    """indicator_factory(name, **fields) → an Indicator (monthly, cumulative, higher is better unless told)."""

    def _make(name: str | None = None, **fields) -> Indicator:
        number = next(_serial)
        fields.setdefault("code", f"ind-{number}")
        fields.setdefault("unit", "亿元")
        return Indicator.objects.create(name=name or f"指标{number}", **fields)

    return _make


@pytest.fixture
def value_factory(db):
    """value_factory(indicator, year, period, value, **fields) → a stored IndicatorValue."""

    def _put(indicator: Indicator, year: int, period: int, value, **fields) -> IndicatorValue:
        for name in ("period_value", "source_growth"):
            if fields.get(name) is not None:
                fields[name] = Decimal(str(fields[name]))
        return IndicatorValue.objects.create(
            indicator=indicator, year=year, period=period, value=Decimal(str(value)), **fields
        )

    return _put


@pytest.fixture
def target_factory(db):
    """target_factory(indicator, year, value=None, growth=None) → a stored Target."""

    def _set(indicator: Indicator, year: int, value=None, growth=None) -> Target:
        return Target.objects.create(
            indicator=indicator,
            year=year,
            value=None if value is None else Decimal(str(value)),
            growth=None if growth is None else Decimal(str(growth)),
        )

    return _set


@pytest.fixture
def gdp(indicator_factory):
    """地区生产总值: quarterly, cumulative (累计), 亿元, with the name the bureau's sheets also use."""
    return indicator_factory(
        "地区生产总值", code="gdp", period_type=PeriodType.QUARTER, aliases="地区生产总值(GDP)\nGDP", sequence=1
    )


@pytest.fixture
def industry_output(indicator_factory):
    """规模工业增加值: monthly, cumulative, 亿元."""
    return indicator_factory("规模工业增加值", code="industry-value-added", sequence=2)


@pytest.fixture
def retail_sales(indicator_factory):
    """社会消费品零售总额: monthly, cumulative, 亿元."""
    return indicator_factory("社会消费品零售总额", code="retail-sales", sequence=3)


@pytest.fixture
def unemployment(indicator_factory):
    """城镇登记失业率: a monthly level in per cent, lower is better."""
    return indicator_factory(
        "城镇登记失业率", code="unemployment-rate", unit="%", cumulative=False, higher_is_better=False, sequence=4
    )
