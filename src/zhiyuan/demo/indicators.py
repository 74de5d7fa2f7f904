"""Demo economic indicators (经济指标) for `zhiyuan demo`, written through the indicators services.

Dating, as for the projects (see projects.py): the source's 2018 is the previous year of the day the
demo is loaded (`today`), its 2019 the current year, and the year before the previous one is
generated so that the previous year has a 同比 to show. The source gives for 2018:

* 地区生产总值 219.4亿元 +8%, 规模工业增加值 54.5亿元 +8%, 固定资产投资 168亿元 +8.4%,
  社会消费品零售总额 57.9亿元 +9.9%, 一般公共预算总收入 8.6亿元 with 税收收入 7.97亿元 +15.28%,
  民生支出 13.9亿元 +13.9% — 69.3% of the general budget's spending (so 一般公共预算支出 ≈ 20.06亿元),
  and 327 new beds in old-age care;

and for 2019 the targets: 高新技术增加值 86.6亿元, +20% or more (so 2018's is taken as 86.6 / 1.2),
新增城镇就业 8,000, 新增农村劳动力转移就业 300, 城镇登记失业率 within 4.5%, 征拆集体土地 3,500亩 and
国有房屋 60,000 m², 新增学位 2,300 and 大班额率 within 4%.

So: the previous year's December (or fourth-quarter) year-to-date figure is exactly the source's 2018
figure, and its growth over the year before is exactly the stated growth (stored with it as the
published growth); every other figure is generated, month by month (GDP by quarter) with each
indicator's seasonality — investment back-loaded, fiscal revenue lumpy (January's settlement, May's
annual income tax), school places arriving with the autumn term — and a growth that wanders a little
from month to month before settling on the year's figure. The current year runs up to the last
period that has ended by `today`, at about its target pace, some indicators ahead and some behind, so
the cockpit shows every status colour. The land acquisition figures of the current year are the same
month-by-month progress the projects demo records (projects.land_progress), so the cockpit's indicator
card and the project figures agree. For GDP and 规模工业增加值 the bureau's comparable-price growth is
published every period (the cards show it rather than the nominal growth).

Targets: the current year's are the source's 2019 targets plus growth targets for the main economic
indicators (GDP +8%, 规模工业 +8%, 固投 +10%, 社消零 +10%, 财政总收入 +8%, 税收 +10%); the previous
year has the targets its results were measured against, so the cockpit shows colours in January too.

Everything is written as the statistics officer (`tongji`) through indicator_create, value_record and
target_set, flagged `is_demo`, so every row is validated and audited. Deterministic: one seeded
generator, and the figures of a past period do not depend on the day the demo is loaded. Idempotent:
an indicator whose code or name already exists is left alone with its values and targets, so a second
run writes nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import TextIO

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhiyuan.accounts.models import User
from zhiyuan.accounts.personas import PERSONAS, ensure_persona
from zhiyuan.demo.data import DEMO_PASSWORD, SEED
from zhiyuan.demo.projects import land_progress
from zhiyuan.indicators.models import PERIODS_PER_YEAR, Group, Indicator, PeriodType, period_end
from zhiyuan.indicators.services import indicator_create, name_key, target_set, value_record

STATISTICS_USERNAME = "tongji"
SOURCE_REPORT = "区政府工作报告"
SOURCE_BUREAU = "区统计局月报"
SOURCE_FINANCE = "区财政局月报"
SOURCE_HRSS = "区人社局"
SOURCE_EDUCATION = "区教育局"
SOURCE_CIVIL = "区民政局"
SOURCE_ACQUISITION = "区征拆办"
DEMO_NOTE = "演示数据"

# The source's 2018 figures (the previous year) and the 2019 targets (the current year).
GDP_2018 = Decimal("219.4")
INDUSTRY_2018 = Decimal("54.5")
INVESTMENT_2018 = Decimal("168")
RETAIL_2018 = Decimal("57.9")
REVENUE_2018 = Decimal("8.6")
TAX_2018 = Decimal("7.97")
LIVELIHOOD_2018 = Decimal("13.9")
LIVELIHOOD_SHARE = Decimal("0.693")
SPENDING_2018 = (LIVELIHOOD_2018 / LIVELIHOOD_SHARE).quantize(Decimal("0.01"))  # 20.06亿元
HIGH_TECH_TARGET = Decimal("86.6")
HIGH_TECH_TARGET_GROWTH = Decimal("20")
HIGH_TECH_2018 = (HIGH_TECH_TARGET / (1 + HIGH_TECH_TARGET_GROWTH / 100)).quantize(Decimal("0.01"))  # 72.17亿元
BEDS_2018 = Decimal("327")

# Seasonal shares of the year's total, by month (by quarter for GDP).
INDUSTRY = (0.070, 0.062, 0.085, 0.083, 0.086, 0.090, 0.082, 0.083, 0.087, 0.086, 0.088, 0.098)
INVESTMENT = (0.035, 0.045, 0.070, 0.072, 0.080, 0.098, 0.082, 0.085, 0.100, 0.090, 0.100, 0.143)
RETAIL = (0.093, 0.086, 0.078, 0.077, 0.082, 0.083, 0.078, 0.079, 0.084, 0.088, 0.084, 0.088)
REVENUE = (0.125, 0.055, 0.070, 0.100, 0.092, 0.088, 0.098, 0.060, 0.072, 0.090, 0.055, 0.095)
SPENDING = (0.060, 0.060, 0.080, 0.075, 0.080, 0.095, 0.070, 0.070, 0.085, 0.070, 0.080, 0.175)
JOBS = (0.060, 0.085, 0.110, 0.100, 0.090, 0.085, 0.080, 0.080, 0.085, 0.075, 0.075, 0.075)
RURAL = (0.050, 0.180, 0.160, 0.100, 0.070, 0.060, 0.060, 0.060, 0.060, 0.060, 0.070, 0.070)
LAND = (0.075, 0.065, 0.085, 0.085, 0.085, 0.090, 0.080, 0.080, 0.085, 0.085, 0.085, 0.100)
SCHOOL = (0.0, 0.0, 0.020, 0.0, 0.0, 0.030, 0.040, 0.450, 0.380, 0.0, 0.0, 0.080)
BEDS = (0.0, 0.0, 0.150, 0.0, 0.0, 0.250, 0.0, 0.0, 0.300, 0.0, 0.0, 0.300)
GDP_QUARTERS = (0.225, 0.250, 0.250, 0.275)
# This year's land acquisition comes from the projects demo (column of projects.land_progress's rows).
LAND_CODES = {"land_collective": 0, "housing_state": 1}
# Totals the source gives without a growth rate: the previous year's year-end figure is the report's.
STATED_TOTALS = {"fiscal_revenue", "fiscal_spending", "elderly_beds"}


@dataclass(frozen=True)
class DemoTarget:
    """A year's target: a value, a growth rate (%), or both."""

    value: Decimal | None = None
    growth: Decimal | None = None
    note: str = ""


@dataclass(frozen=True)
class DemoIndicator:
    """One demo indicator: its definition (passed to indicator_create) and how its series is generated.

    Cumulative indicators: `last_year` is the previous year's year-end total, `last_growth` its growth
    over the year before (%), `stated` whether the source states the growth (then stored as the
    published growth), `shares` the seasonality, `this_growth` the current year's pace (%).
    Levels: `levels` gives the base level of the year before last, last year and this year."""

    data: dict
    source: str
    last_year: Decimal | None = None
    last_growth: Decimal = Decimal("0")
    stated: bool = False
    shares: tuple[float, ...] = ()
    this_growth: float = 0.0
    levels: tuple[float, float, float] = (0.0, 0.0, 0.0)
    target: DemoTarget | None = None
    last_target: DemoTarget | None = None

    @property
    def code(self) -> str:
        return self.data["code"]

    @property
    def cumulative(self) -> bool:
        return self.data.get("cumulative", True)

    @property
    def period_type(self) -> str:
        return self.data.get("period_type", PeriodType.MONTH)

    @property
    def decimals(self) -> int:
        return self.data.get("decimals", 2)


def _definition(code, name, aliases, unit, group, sequence, description, **extra) -> dict:
    return {
        "code": code,
        "name": name,
        "aliases": "\n".join(aliases),
        "unit": unit,
        "group": group,
        "sequence": sequence,
        "description": description,
        **extra,
    }


def demo_indicators() -> list[DemoIndicator]:
    """The demo indicators in cockpit order, as plain data."""
    quarterly = {"period_type": PeriodType.QUARTER}
    return [
        DemoIndicator(
            _definition("gdp", "地区生产总值", ["地区生产总值(GDP)", "GDP", "生产总值"], "亿元", Group.ECONOMY, 10,
                        "按季度核算,增速按可比价格计算。", growth_from_source=True, **quarterly),
            SOURCE_BUREAU, GDP_2018, Decimal("8"), True, GDP_QUARTERS, 7.6,
            target=DemoTarget(growth=Decimal("8"), note="预期目标"),
            last_target=DemoTarget(growth=Decimal("8.5"), note="预期目标"),
        ),
        DemoIndicator(
            _definition("industry_va", "规模工业增加值",
                        ["规模以上工业增加值", "规上工业增加值", "规模工业增加值(可比价)"], "亿元", Group.INDUSTRY, 20,
                        "规模以上工业企业,增速按可比价格计算。", growth_from_source=True),
            SOURCE_BUREAU, INDUSTRY_2018, Decimal("8"), True, INDUSTRY, 8.6,
            target=DemoTarget(growth=Decimal("8"), note="预期目标"),
            last_target=DemoTarget(growth=Decimal("8"), note="预期目标"),
        ),
        DemoIndicator(
            _definition("high_tech_va", "高新技术产业增加值", ["高新技术增加值", "高新技术产业实现增加值"], "亿元",
                        Group.INDUSTRY, 30, "高新技术产业实现的增加值。"),
            SOURCE_BUREAU, HIGH_TECH_2018, Decimal("17.5"), False, INDUSTRY, 15.5,
            target=DemoTarget(value=HIGH_TECH_TARGET, growth=HIGH_TECH_TARGET_GROWTH, note="全年力争完成"),
        ),
        DemoIndicator(
            _definition("fixed_investment", "固定资产投资", ["固定资产投资(不含农户)", "全社会固定资产投资", "固投"],
                        "亿元", Group.INVESTMENT, 40, "不含农户。"),
            SOURCE_BUREAU, INVESTMENT_2018, Decimal("8.4"), True, INVESTMENT, 7.0,
            target=DemoTarget(growth=Decimal("10"), note="预期目标"),
            last_target=DemoTarget(growth=Decimal("10"), note="预期目标"),
        ),
        DemoIndicator(
            _definition("retail_sales", "社会消费品零售总额",
                        ["社消零", "社会消费品零售额", "社会消费品零售总额(社零)"], "亿元", Group.CONSUMPTION, 50, ""),
            SOURCE_BUREAU, RETAIL_2018, Decimal("9.9"), True, RETAIL, 10.4,
            target=DemoTarget(growth=Decimal("10"), note="预期目标"),
            last_target=DemoTarget(growth=Decimal("10"), note="预期目标"),
        ),
        DemoIndicator(
            _definition("fiscal_revenue", "一般公共预算总收入", ["财政总收入", "公共财政预算总收入"], "亿元",
                        Group.FISCAL, 60, ""),
            SOURCE_FINANCE, REVENUE_2018, Decimal("11.2"), False, REVENUE, 9.5,
            target=DemoTarget(growth=Decimal("8"), note="预期目标"),
            last_target=DemoTarget(growth=Decimal("8"), note="预期目标"),
        ),
        DemoIndicator(
            _definition("tax_revenue", "税收收入", ["其中:税收收入", "税收"], "亿元", Group.FISCAL, 70,
                        "一般公共预算总收入中的税收收入。"),
            SOURCE_FINANCE, TAX_2018, Decimal("15.28"), True, REVENUE, 8.2,
            target=DemoTarget(growth=Decimal("10"), note="预期目标"),
            last_target=DemoTarget(growth=Decimal("10"), note="预期目标"),
        ),
        DemoIndicator(
            _definition("fiscal_spending", "一般公共预算支出", ["公共财政预算支出", "财政支出"], "亿元",
                        Group.FISCAL, 80, "民生支出占其69.3%。", on_cockpit=False),
            SOURCE_FINANCE, SPENDING_2018, Decimal("10.6"), False, SPENDING, 9.0,
        ),
        DemoIndicator(
            _definition("livelihood_spending", "民生支出", ["民生类支出"], "亿元", Group.FISCAL, 90,
                        "教育、社保就业、卫生健康等民生领域支出,约占一般公共预算支出的七成。"),
            SOURCE_FINANCE, LIVELIHOOD_2018, Decimal("13.9"), True, SPENDING, 11.0,
        ),
        DemoIndicator(
            _definition("urban_jobs", "新增城镇就业", ["城镇新增就业", "新增城镇就业人数"], "人", Group.SOCIAL, 100, "",
                        decimals=0),
            SOURCE_HRSS, Decimal("7860"), Decimal("4.2"), False, JOBS, 3.5,
            target=DemoTarget(value=Decimal("8000"), note="全年力争"),
            last_target=DemoTarget(value=Decimal("7500")),
        ),
        DemoIndicator(
            _definition("rural_labour_transfer", "新增农村劳动力转移就业", ["农村劳动力转移就业", "新增农村劳动力转移"],
                        "人", Group.SOCIAL, 110, "", decimals=0),
            SOURCE_HRSS, Decimal("312"), Decimal("3.3"), False, RURAL, -6.0,
            target=DemoTarget(value=Decimal("300"), note="全年力争"),
            last_target=DemoTarget(value=Decimal("300")),
        ),
        DemoIndicator(
            _definition("urban_unemployment", "城镇登记失业率", ["登记失业率", "城镇登记失业率(%)"], "%",
                        Group.SOCIAL, 120, "季末时点数。", cumulative=False, higher_is_better=False, **quarterly),
            SOURCE_HRSS, levels=(4.28, 4.08, 4.16),
            target=DemoTarget(value=Decimal("4.5"), note="控制在4.5%以内"),
            last_target=DemoTarget(value=Decimal("4.5"), note="控制在4.5%以内"),
        ),
        DemoIndicator(
            _definition("land_collective", "征收集体土地", ["征拆集体土地", "集体土地征收"], "亩",
                        Group.DEVELOPMENT, 130, "与项目库的征地拆迁进度同源。"),
            SOURCE_ACQUISITION, Decimal("3120"), Decimal("12.6"), False, LAND,
            target=DemoTarget(value=Decimal("3500"), note="全年力争"),
        ),
        DemoIndicator(
            _definition("housing_state", "征收国有房屋", ["国有土地上房屋征收", "征收国有房屋面积"], "平方米",
                        Group.DEVELOPMENT, 140, "与项目库的征地拆迁进度同源。"),
            SOURCE_ACQUISITION, Decimal("52400"), Decimal("9.7"), False, LAND,
            target=DemoTarget(value=Decimal("60000"), note="全年力争"),
        ),
        DemoIndicator(
            _definition("school_places", "新增学位", ["新增中小学学位", "新增公办学位"], "个", Group.SOCIAL, 150,
                        "学校新建和改扩建,主要在秋季开学前投用。", decimals=0),
            SOURCE_EDUCATION, Decimal("1980"), Decimal("10"), False, SCHOOL, 16.0,
            target=DemoTarget(value=Decimal("2300"), note="力争"),
            last_target=DemoTarget(value=Decimal("1800")),
        ),
        DemoIndicator(
            _definition("large_class_rate", "大班额率", ["中小学大班额比例", "大班额比例"], "%", Group.SOCIAL, 160,
                        "学年末统计。", cumulative=False, higher_is_better=False, period_type=PeriodType.YEAR),
            SOURCE_EDUCATION, levels=(9.6, 5.8, 3.9),
            target=DemoTarget(value=Decimal("4"), note="控制在4%以内"),
            last_target=DemoTarget(value=Decimal("6")),
        ),
        DemoIndicator(
            _definition("elderly_beds", "新增养老床位", ["养老床位新增", "新增养老服务床位"], "张", Group.SOCIAL, 170,
                        "社区养老场所和敬老院新增床位。", decimals=0),
            SOURCE_CIVIL, BEDS_2018, Decimal("21"), False, BEDS, 5.0,
        ),
    ]


# -- the series ----------------------------------------------------------------------------------


def _quantize(value: float | Decimal, places: int) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _cumulate(shares: list[float]) -> list[float]:
    total, result = 0.0, []
    for share in shares:
        total += share
        result.append(total)
    return result


@dataclass(frozen=True)
class DemoValue:
    """One period's figure as it is written: year-to-date (or level) value, the period's own value,
    the published growth where there is one."""

    year: int
    period: int
    value: Decimal
    period_value: Decimal | None
    source_growth: Decimal | None
    source: str


def _drift(rng: random.Random, periods: int, spread: float) -> list[float]:
    """A small wandering of the growth rate, period by period, that ends at zero in the last period."""
    walk, value = [], rng.uniform(-spread, spread)
    for period in range(1, periods + 1):
        value = 0.6 * value + rng.uniform(-spread, spread) * 0.5
        walk.append(value * (periods - period) / (periods - 1 or 1))
    return walk


def _grown(base: list[float], rates: list[float]) -> list[float]:
    """A cumulative series grown period by period from `base`, kept non-decreasing."""
    result: list[float] = []
    for index, (value, rate) in enumerate(zip(base, rates, strict=True)):
        grown = value * (1 + rate)
        if result and grown < result[-1]:
            grown = result[-1] + (value - base[index - 1]) * (1 + rate)
        result.append(grown)
    return result


def _cumulative_series(spec: DemoIndicator, year: int, today: dt.date, rng: random.Random) -> list[DemoValue]:
    """Three years of year-to-date figures: the year before last, last year (ending exactly on the
    source's figure and growth) and this year up to the last period ended by `today`."""
    periods = PERIODS_PER_YEAR[PeriodType(spec.period_type)]
    places = spec.decimals
    growth = float(spec.last_growth) / 100
    # The year before last: the seasonal shares with a little noise, ending on last year's total / (1 + growth).
    before_total = spec.last_year / (1 + spec.last_growth / 100)
    shares = [share * rng.uniform(0.93, 1.07) for share in spec.shares]
    before = [float(before_total) * c / sum(shares) for c in _cumulate(shares)]
    # Last year: grown from the year before, the growth wandering, ending exactly on the source's figures.
    drift = _drift(rng, periods, 0.03)
    last = _grown(before, [growth + d for d in drift])
    # This year: grown from last year at the indicator's pace, up to the last period that has ended.
    pace = spec.this_growth / 100
    drift = _drift(rng, periods, 0.025)
    ended = [p for p in range(1, periods + 1) if period_end(spec.period_type, year, p) < today]
    this = _grown(last, [pace + d for d in drift])[: len(ended)]
    if spec.code in LAND_CODES:
        this = _land_this_year(spec.code, year, today)[: len(ended)]

    before_values = [_quantize(v, places if places == 0 else 4) for v in before]
    # Rounded down, so that last year's growth is the stated one or a hair above it (never below).
    before_values[-1] = before_total.quantize(Decimal("0.0001") if places else Decimal(1), rounding=ROUND_DOWN)
    last_values = [_quantize(v, places) for v in last]
    last_values[-1] = spec.last_year
    this_values = [_quantize(v, places) for v in this]

    rows: list[DemoValue] = []
    for offset, values in ((2, before_values), (1, last_values), (0, this_values)):
        for index, value in enumerate(values):
            period = index + 1
            period_value = value - values[index - 1] if index else value
            published = None
            if offset < 2 and spec.data.get("growth_from_source"):
                prior = (before_values if offset == 1 else last_values)[index]
                published = _quantize((value / prior - 1) * 100, 1) if prior else None
            if offset == 1 and period == periods and spec.stated:
                published = spec.last_growth
            reported = offset == 1 and period == periods and (spec.stated or spec.code in STATED_TOTALS)
            source = SOURCE_REPORT if reported else spec.source
            rows.append(DemoValue(year - offset, period, value, period_value, published, source))
    return rows


def _level_series(spec: DemoIndicator, year: int, today: dt.date, rng: random.Random) -> list[DemoValue]:
    """Three years of a level (a rate at the period's end) around each year's base level."""
    periods = PERIODS_PER_YEAR[PeriodType(spec.period_type)]
    rows = []
    for offset, base in zip((2, 1, 0), spec.levels, strict=True):
        for period in range(1, periods + 1):
            if period_end(spec.period_type, year - offset, period) >= today:
                break
            wobble = rng.uniform(-0.08, 0.08) if periods > 1 else 0.0
            value = _quantize(base + wobble + (0.06 if period == 1 and periods > 1 else 0.0), spec.decimals)
            rows.append(DemoValue(year - offset, period, value, None, None, spec.source))
    return rows


def _land_this_year(code: str, year: int, today: dt.date) -> list[float]:
    """This year's land acquisition, month by month, as the projects demo records it (cumulative)."""
    column = 1 + LAND_CODES[code]
    total, result = Decimal(0), []
    for row in land_progress(today):
        if row[0].year == year:
            total += row[column]
            result.append(float(total))
    return result


def demo_values(spec: DemoIndicator, today: dt.date) -> list[DemoValue]:
    """The figures of one demo indicator for the year before last, last year and this year up to
    the last period ended by `today` (deterministic: the past does not depend on `today`)."""
    rng = random.Random(f"{SEED}-indicators-{spec.code}")
    if spec.cumulative:
        return _cumulative_series(spec, today.year, today, rng)
    return _level_series(spec, today.year, today, rng)


# -- loading -------------------------------------------------------------------------------------


@dataclass
class IndicatorsReport:
    """What a run of `demo_indicators_load` wrote."""

    loaded: bool = True
    indicators_created: int = 0
    indicators_existing: int = 0
    values: int = 0
    targets: int = 0
    codes: list[str] = field(default_factory=list)


def _statistics_officer() -> User:
    user = User.objects.filter(username=STATISTICS_USERNAME).first()
    if user is not None:
        return user
    persona = next(p for p in PERSONAS if p.username == STATISTICS_USERNAME)
    return ensure_persona(persona, password=DEMO_PASSWORD)


def _taken_names() -> set[str]:
    taken = set()
    for indicator in Indicator.objects.all():
        taken.update(name_key(name) for name in [indicator.name, *indicator.alias_list()])
    return taken


def demo_indicators_load(*, today: dt.date | None = None, stdout: TextIO | None = None) -> IndicatorsReport:
    """Define the demo indicators and write their figures of the last three years and their targets
    of this year and the last, as the statistics officer through the indicators services (every row
    validated and audited, flagged `is_demo`). An indicator whose code, name or other names are
    already taken is left alone (report.indicators_existing); when none is new, nothing is written
    (report.loaded is False). `today` is the day the demo is dated to (default today)."""
    today = today or timezone.localdate()
    year = today.year
    report = IndicatorsReport()
    with transaction.atomic():
        actor = _statistics_officer()
        codes = set(Indicator.objects.values_list("code", flat=True))
        taken = _taken_names()
        todo = []
        for spec in demo_indicators():
            names = [spec.data["name"], *spec.data["aliases"].splitlines()]
            if spec.code in codes or any(name_key(name) in taken for name in names):
                report.indicators_existing += 1
            else:
                todo.append(spec)
        if not todo:
            report.loaded = False
            if stdout is not None:
                stdout.write(_("Indicators: the demo indicators are already defined, left as they are.") + "\n")
            return report
        for spec in todo:
            indicator = indicator_create(actor=actor, data=spec.data, is_demo=True)
            report.indicators_created += 1
            report.codes.append(spec.code)
            for row in demo_values(spec, today):
                value_record(
                    actor=actor,
                    indicator=indicator,
                    year=row.year,
                    period=row.period,
                    data={
                        "value": row.value,
                        "period_value": row.period_value,
                        "source_growth": row.source_growth,
                        "source": row.source,
                        "note": DEMO_NOTE,
                    },
                    today=today,
                    is_demo=True,
                )
                report.values += 1
            for offset, target in ((0, spec.target), (1, spec.last_target)):
                if target is None:
                    continue
                target_set(
                    actor=actor,
                    indicator=indicator,
                    year=year - offset,
                    data={"value": target.value, "growth": target.growth, "note": target.note},
                    is_demo=True,
                )
                report.targets += 1
        if stdout is not None:
            stdout.write(
                _("Indicators: %(indicators)s defined, %(values)s values, %(targets)s targets")
                % {"indicators": report.indicators_created, "values": report.values, "targets": report.targets}
                + "\n"
            )
    return report
