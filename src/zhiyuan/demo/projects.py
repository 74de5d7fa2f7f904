"""Demo investment projects (项目库) for `zhiyuan demo`, loaded through the investments services.

Dating. The source (DESIGN.md §1) is a February 2019 article on 荷塘区's government work report: it
gives the district's results for 2018 and its plans for 2019. The demo is dated relative to the day it
is loaded (`today`, normally `timezone.localdate()`): the source's 2019 is the current year and its 2018
the previous year, so a demo loaded on 2026-11-29 reads 2019 as 2026 and 2018 as 2025. Accordingly:

* The previous year holds what the report says happened in 2018: 18 projects signed (广州好媳妇日用品
  among them) for 231亿元, 12 of them of 5亿元 or more; 25 projects started (汉德车桥株洲智能制造基地
  and 稀美泰新材料 among them); 22 completed or in production (飞鹿高分子涂料 and 朗润磁电科技 among them).
* The current year holds the 2019 plan: 135 key projects in the three pools (在建项目促竣工、招商项目
  促落地、储备项目促前期), 汉德车桥一期 and the 农副产品物流中心一期 to be built, 好媳妇, 怡亚通金巢
  and 宏远机械 to start, the three 园中园, land acquisition targets of 3,500 亩 of collective land and
  60,000 m² of state-owned housing, and a handful of the 停缓调撤 decisions the report mentions. So that
  the current year's dashboard shows a year like the report's, the current year up to `today` has the
  same results again: 18 signed for 231亿元 (12 of 5亿元 or more), 25 started, 22 completed or in
  production (every project that went into production this year also completed this year).

Infrastructure and public-service projects the report names (青塘变电站, 金山污水处理厂, roads,
schools, 中美医院) are not industrial investment projects and are left out. Figures, codes, dates
and every generated project are invented but plausible, and every project is flagged `is_demo`.

`demo_projects(today)` is plain data (deterministic for a given day); `demo_projects_load()` writes
it through the real services (lead_create, project_transition, decision_record, milestones, monthly
investment, blockers, key-project list, land acquisition), so every row is validated and audited.
Idempotent: projects are keyed by name and an existing one is left alone; the land target and land
progress of the year are only written when the year has none.
"""

import datetime as dt
import math
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TextIO

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhiyuan.accounts.models import Organisation, OrganisationKind, Role, User
from zhiyuan.accounts.personas import Persona, ensure_persona
from zhiyuan.accounts.services import organisation_get_or_create
from zhiyuan.core.errors import ValidationFailed
from zhiyuan.demo.data import (
    DEFAULT_GENERATED_COUNT,
    DEMO_PASSWORD,
    HETANG_REGION,
    INDUSTRY_LINES,
    SEED,
    TRADE_NAMES,
    DemoFirm,
    generated_firms,
    make_mobile,
    make_person_name,
    named_firms,
)
from zhiyuan.demo.selectors import DemoLogin
from zhiyuan.enterprises.models import Chain, Enterprise, Industry
from zhiyuan.enterprises.models import Status as FirmStatus
from zhiyuan.investments.models import DecisionKind, LandProgress, LandTarget, Project, Stage
from zhiyuan.investments.selectors import year_elapsed_share
from zhiyuan.investments.services import (
    blocker_raise,
    blocker_resolve,
    decision_record,
    first_of_month,
    follow_up_add,
    key_project_set,
    land_progress_record,
    land_target_set,
    lead_create,
    milestone_add,
    milestone_complete,
    monthly_investment_record,
    project_transition,
)

# The year's key-project list and results, as the source gives them.
KEY_PROJECT_COUNT = 135
SIGNED_COUNT = 18
SIGNED_BIG_COUNT = 12  # of 5亿元 (50,000 万元) or more
SIGNED_TOTAL = Decimal("2310000")  # 231亿元 in 万元
STARTED_COUNT = 25
COMPLETED_COUNT = 22
BIG = Decimal("50000")
LAND_TARGET_MU = Decimal("3500")
HOUSING_TARGET_M2 = Decimal("60000")

INVESTMENT_OFFICER = "zhaoshang"
PROJECT_OFFICER = "xiangmu"
LEADER = "leader"
# District leaders who answer for key projects (联点领导), besides the `leader` persona.
DEMO_LEADERS = [
    Persona("leader_2", "leader2", Role.LEADER, "刘", "常务副区长"),
    Persona("leader_3", "leader3", Role.LEADER, "贺", "副区长"),
    Persona("leader_4", "leader4", Role.LEADER, "邓", "副区长"),
]
LEADER_USERNAMES = [LEADER, *(p.username for p in DEMO_LEADERS)]

# District units responsible for key projects or assigned problems (责任单位).
UNIT_NDRC = "区发改局"
UNIT_INDUSTRY = "区工信局"
UNIT_HOUSING = "区住建局"
UNIT_COMMERCE = "区商务局"
UNIT_HEALTH = "区卫健局"
UNIT_ATTRACTION = "区招商服务中心"
UNIT_LAND = "区自然资源分局"
UNIT_ACQUISITION = "区征拆办"
UNIT_JINSHAN = "金山新城管委会"
UNIT_HIGH_TECH = "荷塘高新区管委会"
UNITS = [
    UNIT_NDRC, UNIT_INDUSTRY, UNIT_HOUSING, UNIT_COMMERCE, UNIT_HEALTH, UNIT_ATTRACTION, UNIT_LAND,
    UNIT_ACQUISITION, UNIT_JINSHAN, UNIT_HIGH_TECH,
]
CONSTRUCTION_UNITS = [UNIT_NDRC, UNIT_INDUSTRY, UNIT_HOUSING, UNIT_JINSHAN, UNIT_HIGH_TECH]
RESERVE_UNITS = [UNIT_NDRC, UNIT_LAND, UNIT_JINSHAN, UNIT_HIGH_TECH]
ATTRACTION_UNITS = [UNIT_ATTRACTION, UNIT_ATTRACTION, UNIT_COMMERCE]

SOURCES = [
    "产业链定向招商", "以商招商", "驻深圳招商联络处", "驻上海招商联络处", "展会招商", "商协会推介", "企业增资扩产",
]
INVESTOR_CITIES = ["深圳", "广州", "长沙", "杭州", "苏州", "上海", "北京", "东莞", "宁波", "武汉", "成都", "厦门"]
CHAIN_WEIGHTS = {Chain.NEW_MATERIALS: 30, Chain.RAIL: 25, Chain.HEALTH: 15, Chain.PREFAB: 12, Chain.OTHER: 18}
PROJECT_SUFFIXES = {
    Chain.NEW_MATERIALS: ["新材料产业化项目", "生产基地建设项目", "扩能改造项目", "智能制造项目"],
    Chain.RAIL: ["轨道交通配套产业化项目", "智能制造项目", "扩能改造项目", "生产线技术改造项目"],
    Chain.HEALTH: ["产业化项目", "生产基地建设项目", "研发及生产基地项目"],
    Chain.PREFAB: ["装配式建筑生产基地项目", "生产线建设项目", "扩能项目"],
    Chain.OTHER: ["生产基地建设项目", "智能化改造项目", "产业园项目", "扩能项目"],
}
CONSTRUCTION_MILESTONES = ("场地平整及桩基工程", "主体结构封顶", "设备安装调试", "竣工验收")
RESERVE_MILESTONES = ("用地调规", "土地报批", "征拆交地", "施工许可")
SIGNED_MILESTONES = ("项目备案", "用地预审")
FOLLOW_UP_NOTES = [
    "赴投资方总部拜访,洽谈用地需求和建设内容",
    "投资方来荷塘考察金山新城备选地块",
    "就投资强度、亩均税收进行第二轮洽谈",
    "投资方提交项目投资意向书,待区招商工作领导小组研究",
]

# Profiles of projects under construction: on plan, ahead, behind on investment, or with an overdue milestone.
ON_PLAN, AHEAD, LAGGING, OVERDUE = "on_plan", "ahead", "lagging", "overdue"


@dataclass(frozen=True)
class DemoMilestone:
    """A schedule node: planned date, and the date reached (None while not reached)."""

    name: str
    planned_on: dt.date
    reached_on: dt.date | None = None


@dataclass(frozen=True)
class DemoBlocker:
    """A problem assigned to a district unit; resolved when `resolved_on` is set."""

    description: str
    unit: str
    due_on: dt.date
    resolved_on: dt.date | None = None
    resolution: str = ""


@dataclass(frozen=True)
class DemoDecision:
    """A 停缓调撤 decision (or a resumption) by the project's liaison leader."""

    kind: str
    reason: str
    decided_on: dt.date
    resume_on: dt.date | None = None
    adjustments: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class DemoKeyListing:
    """The project's place on the current year's key-project list."""

    sequence: int
    planned_investment: Decimal
    unit: str
    leader: str


@dataclass(frozen=True)
class DemoProject:
    """One demo project as plain data: its lead, the date of each stage it reached, and what hangs off it."""

    name: str
    chain: str
    industry: str
    description: str
    source: str
    investor_name: str
    firm: str | None  # registry name of the investor enterprise, linked on signing
    estimated_investment: Decimal
    contact_name: str = ""
    contact_phone: str = ""
    negotiating_on: dt.date | None = None
    contract_on: dt.date | None = None
    total_investment: Decimal | None = None
    land_area_mu: Decimal | None = None
    code: str | None = None
    planned_start: dt.date | None = None
    planned_completion: dt.date | None = None
    preparing_on: dt.date | None = None
    start_on: dt.date | None = None
    completion_on: dt.date | None = None
    production_on: dt.date | None = None
    first_year_output: Decimal | None = None
    key: DemoKeyListing | None = None
    monthly: tuple[tuple[dt.date, Decimal], ...] = ()
    milestones: tuple[DemoMilestone, ...] = ()
    blockers: tuple[DemoBlocker, ...] = ()
    decisions: tuple[DemoDecision, ...] = ()
    follow_ups: tuple[tuple[dt.date, str], ...] = ()

    @property
    def stage(self) -> str:
        """The stage the project ends in, from the last stage date it has."""
        for stage, on in (
            (Stage.IN_PRODUCTION, self.production_on),
            (Stage.COMPLETED, self.completion_on),
            (Stage.UNDER_CONSTRUCTION, self.start_on),
            (Stage.PREPARING, self.preparing_on),
            (Stage.SIGNED, self.contract_on),
            (Stage.NEGOTIATING, self.negotiating_on),
        ):
            if on is not None:
                return stage
        return Stage.LEAD

    def stage_dates(self) -> list[tuple[str, dt.date]]:
        """(stage, date) of every stage the project reached after the lead, in order."""
        steps = [
            (Stage.NEGOTIATING, self.negotiating_on),
            (Stage.SIGNED, self.contract_on),
            (Stage.PREPARING, self.preparing_on),
            (Stage.UNDER_CONSTRUCTION, self.start_on),
            (Stage.COMPLETED, self.completion_on),
            (Stage.IN_PRODUCTION, self.production_on),
        ]
        return [(stage, on) for stage, on in steps if on is not None]


def _money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def _hundreds(value: float) -> Decimal:
    """Rounded to 100 万元, as plans and totals are usually written."""
    return Decimal(int(round(value / 100.0)) * 100)


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    """The first day of every month from `first`'s month to `last`'s month, inclusive."""
    month, end, result = first_of_month(first), first_of_month(last), []
    while month <= end:
        result.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return result


def _add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    return dt.date(day.year + year, month + 1, min(day.day, 28))


class _Generator:
    """Builds the demo projects for one `today`; all randomness comes from one seeded generator."""

    def __init__(self, today: dt.date):
        self.today = today
        self.year = today.year
        self.jan1 = dt.date(self.year, 1, 1)
        self.elapsed = float(year_elapsed_share(self.year, today))
        self.rng = random.Random(f"{SEED}-projects")
        self.names: set[str] = set()
        self.serials: set[str] = set()
        named = named_firms()
        pool = [
            firm
            for firm in generated_firms(DEFAULT_GENERATED_COUNT, taken_usccs={f.uscc for f in named})
            if firm.status == FirmStatus.OPERATING
        ]
        self.rng.shuffle(pool)
        self.firms: dict[str, list[DemoFirm]] = {chain: [f for f in pool if f.chain == chain] for chain in Chain.values}
        self.drafts: list[dict[str, Any]] = []

    # Dates ---------------------------------------------------------------------------------------

    def at(self, years_back: int, month: int, day: int) -> dt.date:
        """A fixed day `years_back` years before the current year, never later than today."""
        return min(dt.date(self.year - years_back, month, day), self.today)

    def between(self, low: dt.date, high: dt.date, a: float = 0.0, b: float = 1.0) -> dt.date:
        """A day in the part [a, b] of the span from `low` to `high` (never past today, never before `low`)."""
        high = min(high, self.today)
        if high <= low:
            return low
        span = (high - low).days
        return low + dt.timedelta(days=round(span * self.rng.uniform(a, b)))

    def year_span(self, years_back: int) -> tuple[dt.date, dt.date]:
        return dt.date(self.year - years_back, 1, 1), min(dt.date(self.year - years_back, 12, 31), self.today)

    def in_year(self, years_back: int, a: float = 0.0, b: float = 1.0) -> dt.date:
        low, high = self.year_span(years_back)
        return self.between(low, high, a, b)

    def before(self, day: dt.date, low_days: int, high_days: int) -> dt.date:
        return day - dt.timedelta(days=self.rng.randint(low_days, high_days))

    def after(self, day: dt.date, low_days: int, high_days: int) -> dt.date:
        """A day some days after `day`, but not past today (nor before `day`)."""
        return max(day, min(day + dt.timedelta(days=self.rng.randint(low_days, high_days)), self.today))

    def ahead(self, low_days: int, high_days: int) -> dt.date:
        return self.today + dt.timedelta(days=self.rng.randint(low_days, high_days))

    # Identity ------------------------------------------------------------------------------------

    def unique(self, name: str) -> bool:
        if name in self.names:
            return False
        self.names.add(name)
        return True

    def code(self, year: int, industry: str) -> str:
        """A 投资项目代码: assigned year, 荷塘区, the industry's 2-digit division, 03 (备案), a serial."""
        while True:
            serial = f"{self.rng.randrange(10**5):05d}{self.rng.randrange(10)}"
            if serial not in self.serials:
                self.serials.add(serial)
                return f"{year}-{HETANG_REGION}-{industry[:2]}-03-{serial}"

    def firm(self) -> DemoFirm:
        """A generated firm (used once) for a generated signed project, drawn by chain weight."""
        chains = [c for c in CHAIN_WEIGHTS if self.firms[c]]
        chain = self.rng.choices(chains, weights=[CHAIN_WEIGHTS[c] for c in chains], k=1)[0]
        return self.firms[chain].pop()

    def total(self, low: float = 8000, high: float = 200000) -> Decimal:
        return _hundreds(math.exp(self.rng.uniform(math.log(low), math.log(high))))

    # Building blocks -----------------------------------------------------------------------------

    def firm_draft(self, firm: DemoFirm, total: Decimal) -> dict[str, Any]:
        """The lead of a generated project by a registered (generated) firm."""
        product = firm.short_name[2:] or firm.short_name
        suffixes = list(PROJECT_SUFFIXES[firm.chain])
        self.rng.shuffle(suffixes)
        names = [firm.short_name + suffix for suffix in suffixes]
        name = next((n for n in names if self.unique(n)), None)
        while name is None:
            name = next((n for n in (f"{firm.short_name}{suffixes[0][:-2]}{phase}项目" for phase in "二三四五六七八九")
                         if self.unique(n)), None)
        return {
            "name": name,
            "chain": firm.chain,
            "industry": firm.industry,
            "description": self.description(product, total),
            "source": self.rng.choice(SOURCES),
            "investor_name": firm.name,
            "firm": firm.name,
            "estimated_investment": _hundreds(float(total) * self.rng.uniform(0.8, 1.3)),
            "contact_name": make_person_name(self.rng),
            "contact_phone": make_mobile(self.rng),
            "total_investment": total,
            "land_area_mu": _money(max(10.0, float(total) / self.rng.uniform(150, 450))),
        }

    def lead_draft(self) -> dict[str, Any]:
        """A lead from an investor outside the district (no enterprise in the registry yet)."""
        line = self.rng.choices(INDUSTRY_LINES, weights=[line.weight for line in INDUSTRY_LINES], k=1)[0]
        while True:
            trade, word = self.rng.choice(TRADE_NAMES), self.rng.choice(line.words)
            name = f"{trade}{word}{self.rng.choice(PROJECT_SUFFIXES[line.chain])}"
            if self.unique(name):
                break
        estimate = self.total(5000, 300000)
        kind = "股份有限公司" if estimate >= BIG else "有限公司"
        return {
            "name": name,
            "chain": line.chain,
            "industry": line.code,
            "description": self.description(word, estimate),
            "source": self.rng.choice(SOURCES[:-1]),
            "investor_name": f"{self.rng.choice(INVESTOR_CITIES)}{trade}{word}{kind}",
            "firm": None,
            "estimated_investment": estimate,
            "contact_name": make_person_name(self.rng),
            "contact_phone": make_mobile(self.rng),
        }

    def description(self, product: str, total: Decimal) -> str:
        area = max(0.5, round(float(total) / self.rng.uniform(8000, 20000), 1))
        lines = self.rng.randint(1, 6)
        return f"新建标准厂房及配套用房约{area}万平方米,建设{product}生产线{lines}条及配套设施"

    def signed(self, draft: dict[str, Any], contract: dt.date, *, negotiating_days=(30, 150)) -> None:
        draft["negotiating_on"] = self.before(contract, *negotiating_days)
        draft["contract_on"] = contract
        draft["code"] = self.code(contract.year, draft["industry"])

    def construction(self, draft, start, *, completion=None, production=None, months=(14, 30), profile=ON_PLAN):
        """Fill the construction dates, monthly investment and milestones of a started project."""
        draft["start_on"] = start
        draft.setdefault("preparing_on", self.between(draft["contract_on"], start, 0.05, 0.6))
        planned_completion = draft.get("planned_completion") or _add_months(start, self.rng.randint(*months))
        if completion is None and profile != OVERDUE and planned_completion <= self.today:
            planned_completion = self.ahead(30, 400)
        draft["planned_start"] = draft.get("planned_start") or self.before(start, -20, 40)
        draft["planned_completion"] = max(planned_completion, draft["planned_start"])
        draft["completion_on"] = completion
        draft["production_on"] = production
        if production is not None:
            draft["first_year_output"] = _hundreds(float(draft["total_investment"]) * self.rng.uniform(0.6, 1.5))
        self.monthly(draft, profile)
        self.construction_milestones(draft, profile)

    def monthly(self, draft: dict[str, Any], profile: str) -> None:
        """Monthly investment from the start month to the completion month (or this month); this
        year's amounts against the key-project plan follow the profile (ahead, on plan, lagging)."""
        start, completion = draft["start_on"], draft["completion_on"]
        months = _months(start, completion or self.today)
        total = float(draft["total_investment"])
        weights = [self.rng.uniform(0.6, 1.4) for _ in months]
        earlier = [i for i, m in enumerate(months) if m.year < self.year]
        current = [i for i, m in enumerate(months) if m.year == self.year]
        amounts = [0.0] * len(months)
        if completion is not None:
            spent = total * self.rng.uniform(0.85, 1.0)
            scale = spent / sum(weights)
            amounts = [w * scale for w in weights]
            done = sum(amounts[i] for i in current)
            plan = done / self.rng.uniform(0.95, 1.08) if current else 0.0
        else:
            duration = max(1, len(_months(start, draft["planned_completion"])))
            rate = total * self.rng.uniform(0.45, 0.7) / duration
            for i in earlier:
                amounts[i] = rate * weights[i]
            history = sum(amounts)
            plan = total * self.rng.uniform(0.15, 0.35)
            plan = max(min(plan, (total * 0.95 - history) / 1.25), total * 0.05)
            factor = {AHEAD: (1.02, 1.2), LAGGING: (0.45, 0.75)}.get(profile, (0.93, 1.0))
            done = plan * self.elapsed * self.rng.uniform(*factor)
            share = sum(weights[i] for i in current)
            for i in current:
                amounts[i] = done * weights[i] / share
        draft["monthly"] = tuple((months[i], _money(amounts[i])) for i in range(len(months)))
        draft["plan"] = _hundreds(plan) if plan >= 5000 else Decimal(round(plan / 10) * 10)

    def construction_milestones(self, draft: dict[str, Any], profile: str) -> None:
        start, completion = draft["start_on"], draft["completion_on"]
        end = completion or draft["planned_completion"]
        span = (end - start).days
        planned = [start + dt.timedelta(days=round(span * f)) for f in (0.2, 0.5, 0.8, 1.0)]
        if profile == OVERDUE and not any(day < self.today for day in planned):
            planned[0] = max(start, self.today - dt.timedelta(days=self.rng.randint(5, 40)))
            planned = [max(day, planned[0]) for day in planned]
        overdue_from = None
        if completion is None and profile == OVERDUE:
            late = [i for i, day in enumerate(planned) if day < self.today]
            overdue_from = late[-1] if late else None
        milestones, last = [], start
        for i, (name, day) in enumerate(zip(CONSTRUCTION_MILESTONES, planned, strict=True)):
            reached = None
            if completion is not None:
                reached = completion if i == len(planned) - 1 else min(max(self.after(day, -10, 15), last), completion)
            elif day <= self.today and (overdue_from is None or i < overdue_from):
                reached = min(max(day + dt.timedelta(days=self.rng.randint(-10, 15)), last), self.today)
            last = reached or last
            milestones.append(DemoMilestone(name, day, reached))
        draft["milestones"] = tuple(milestones)

    def reserve(self, draft: dict[str, Any], *, preparing: bool = True, overdue: bool = False) -> None:
        """A signed project not started yet: planned dates, and its 前期 milestones."""
        contract = draft["contract_on"]
        if preparing:
            draft["preparing_on"] = self.after(contract, 10, 90)
        draft.setdefault("planned_start", max(self.after(contract, 90, 300), self.ahead(20, 240)))
        draft.setdefault("planned_completion", _add_months(draft["planned_start"], self.rng.randint(12, 30)))
        names = RESERVE_MILESTONES if preparing else SIGNED_MILESTONES
        span = (draft["planned_start"] - contract).days
        fractions = [0.15, 0.4, 0.7, 0.95][: len(names)] if preparing else [0.05, 0.5]
        milestones, late = [], False
        for name, fraction in zip(names, fractions, strict=True):
            day = contract + dt.timedelta(days=round(span * fraction))
            if overdue and not late and day < self.today and name != names[0]:
                late = True
            reached = None if late or day > self.today else min(max(day, contract), self.today)
            milestones.append(DemoMilestone(name, day, reached))
        if overdue and not late:  # make sure something is overdue
            day = max(contract, self.today - dt.timedelta(days=self.rng.randint(5, 30)))
            milestones.append(DemoMilestone("项目前期手续", day))
        draft["milestones"] = tuple(milestones)
        draft.setdefault("plan", Decimal(0))

    def listed(self, draft: dict[str, Any], group: int, unit: str, leader: str | None = None) -> None:
        draft["key_group"] = group
        draft["key_unit"] = unit
        draft["key_leader"] = leader or self.rng.choice(LEADER_USERNAMES)

    def amounts(self, count_big: int, count_small: int, total: Decimal) -> list[Decimal]:
        """`count_big` amounts of 5亿元 or more and `count_small` below it, summing to `total`, shuffled."""
        small = [_hundreds(self.rng.uniform(8000, 45000)) for _ in range(count_small)]
        rest = total - sum(small) - BIG * count_big
        weights = [self.rng.uniform(0.3, 2.0) for _ in range(count_big)]
        big = [BIG + _hundreds(float(rest) * w / sum(weights)) for w in weights]
        big[-1] += total - sum(small) - sum(big)
        values = big + small
        self.rng.shuffle(values)
        return values

    # The projects --------------------------------------------------------------------------------

    def build(self) -> list[DemoProject]:
        self.named()
        self.completed_last_year()
        self.started_last_year()
        self.started_earlier()
        # Last year's 18 signings include four named ones (好媳妇, 怡亚通, 宏远, 硬质合金配套产业园).
        named = [d["total_investment"] for d in self.drafts if d.get("contract_on", self.today).year == self.year - 1]
        big = sum(total >= BIG for total in named)
        signed_last_year = self.amounts(
            SIGNED_BIG_COUNT - big, SIGNED_COUNT - SIGNED_BIG_COUNT - (len(named) - big), SIGNED_TOTAL - sum(named)
        )
        assert len(signed_last_year) == 14, "the generated signings of last year are split 8 started / 6 waiting"
        signed_this_year = self.amounts(SIGNED_BIG_COUNT, SIGNED_COUNT - SIGNED_BIG_COUNT, SIGNED_TOTAL)
        self.started_this_year(signed_last_year[:8], signed_this_year[:5])
        self.reserve_projects(signed_last_year[8:], signed_this_year[5:])
        self.leads()
        return self.freeze()

    def named(self) -> None:
        """The projects the source names, with their firms from the demo registry."""
        at = self.at

        def draft(name, firm, chain, industry, total, land, description, source="产业链定向招商"):
            self.unique(name)
            return {
                "name": name, "chain": chain, "industry": industry, "description": description, "source": source,
                "investor_name": firm, "firm": firm, "estimated_investment": total,
                "contact_name": make_person_name(self.rng), "contact_phone": make_mobile(self.rng),
                "total_investment": total, "land_area_mu": Decimal(land),
            }

        hande = draft(
            "汉德车桥株洲智能制造基地一期", "汉德车桥(株洲)齿轮有限公司", Chain.OTHER, "3670", Decimal("200000"), 680,
            "建设车桥齿轮、桥壳及总成智能制造生产线和配套设施;80多天挖平四座山头,提前半年实现干净交地",
        )
        self.signed(hande, at(2, 9, 26))
        hande["planned_completion"] = dt.date(self.year + 1, 6, 30)
        self.construction(hande, at(1, 3, 18), profile=ON_PLAN)
        hande["blockers"] = (
            DemoBlocker("110kV高压线迁改滞后,影响厂房基础施工", UNIT_NDRC, at(1, 6, 30), at(1, 6, 20),
                        "区发改局协调供电公司完成高压线迁改"),
        )
        self.listed(hande, 2, UNIT_JINSHAN, LEADER)

        ximeitai = draft(
            "稀美泰新材料项目", "湖南稀美泰新材料科技有限公司", Chain.NEW_MATERIALS, "3239", Decimal("60000"), 120,
            "建设钽铌等稀有金属材料冶炼及深加工生产线,新建厂房及研发检测中心",
        )
        self.signed(ximeitai, at(2, 12, 8))
        ximeitai["planned_completion"] = dt.date(self.year, 9, 30)
        self.construction(ximeitai, at(1, 8, 16), profile=OVERDUE)
        self.listed(ximeitai, 2, UNIT_INDUSTRY, "leader2")

        zhongtian = draft(
            "中天杭萧钢构装配式建筑产业基地", "株洲中天杭萧钢构科技有限公司", Chain.PREFAB, "3311", Decimal("50000"),
            160, "建设钢结构住宅体系构件生产线,完成厂房主体施工后进行设备安装",
        )
        self.signed(zhongtian, at(2, 12, 20))
        zhongtian["planned_completion"] = max(dt.date(self.year, 12, 25), self.ahead(15, 30))
        self.construction(zhongtian, at(1, 2, 26), profile=ON_PLAN)
        self.listed(zhongtian, 2, UNIT_JINSHAN, "leader3")

        market = draft(
            "株洲市农副产品批发交易物流中心一期", "株洲市农副产品批发交易物流中心有限公司", Chain.OTHER, "5119",
            Decimal("120000"), 350, "建设农副产品交易大厅、冷链仓储及物流配送中心",
        )
        self.signed(market, at(3, 5, 20))
        self.construction(market, at(2, 4, 8), completion=at(0, 9, 26), production=at(0, 10, 28))
        self.listed(market, 1, UNIT_COMMERCE, "leader2")

        hunan_jiangong = draft(
            "湖南建工集团装配式建筑基地", "湖南建工集团株洲装配式建筑有限公司", Chain.PREFAB, "3022",
            Decimal("80000"), 150, "建设预制混凝土构件生产线及堆场,全市唯一的装配式建筑产业示范园",
        )
        self.signed(hunan_jiangong, at(3, 10, 9))
        self.construction(hunan_jiangong, at(2, 3, 15), completion=at(0, 3, 28), production=at(0, 5, 18))
        self.listed(hunan_jiangong, 1, UNIT_JINSHAN, LEADER)

        feilu = draft(
            "飞鹿高分子涂料生产基地", "株洲飞鹿高新材料技术股份有限公司", Chain.NEW_MATERIALS, "2641",
            Decimal("30000"), 60, "建设轨道交通防护涂料、高分子防水材料生产线", source="企业增资扩产",
        )
        self.signed(feilu, at(3, 3, 16))
        self.construction(feilu, at(2, 5, 10), completion=at(1, 6, 28), production=at(1, 9, 18))

        langrun = draft(
            "朗润磁电科技磁性材料生产项目", "株洲朗润磁电科技有限公司", Chain.NEW_MATERIALS, "3985", Decimal("15000"),
            40, "建设磁性材料及磁电元器件生产线", source="企业增资扩产",
        )
        self.signed(langrun, at(3, 8, 11))
        self.construction(langrun, at(2, 9, 6), completion=at(1, 8, 30), production=at(1, 11, 16))

        apparel = draft(
            "金城华亿电商服饰产业园", "株洲金城华亿服饰电子商务有限公司", Chain.OTHER, "5292", Decimal("45000"), 90,
            "引进社会资本合作开发“园中园”,建设电商服饰设计、生产、仓储及直播基地",
        )
        self.signed(apparel, at(2, 8, 22))
        self.construction(apparel, at(0, 4, 16), profile=AHEAD)
        self.listed(apparel, 3, UNIT_COMMERCE, "leader4")

        carbide = draft(
            "硬质合金配套产业园", "株洲硬质合金集团有限公司", Chain.NEW_MATERIALS, "3240", Decimal("150000"), 400,
            "引进社会资本合作开发“园中园”,建设硬质合金上下游配套企业标准厂房",
        )
        self.signed(carbide, at(1, 5, 12))
        self.construction(carbide, at(0, 3, 20), profile=LAGGING)
        self.listed(carbide, 3, UNIT_INDUSTRY, LEADER)

        haoxifu = draft(
            "好媳妇日用品智能制造基地", "好媳妇日用品(株洲)有限公司", Chain.OTHER, "2927", Decimal("100000"), 200,
            "广州好媳妇日用品建设清洁用品、日用塑料制品智能制造基地", source="以商招商",
        )
        self.signed(haoxifu, at(1, 6, 18))
        haoxifu["planned_start"] = max(haoxifu["contract_on"], at(0, 6, 30))
        self.reserve(haoxifu, overdue=True)
        haoxifu["plan"] = Decimal("15000")
        haoxifu["blockers"] = (
            DemoBlocker("地块用地调规尚未获批,无法办理土地挂牌", UNIT_LAND, self.today - dt.timedelta(days=20)),
        )
        self.listed(haoxifu, 4, UNIT_LAND, "leader3")

        eternal_asia = draft(
            "怡亚通金巢现代工业园", "株洲怡亚通金巢供应链管理有限公司", Chain.OTHER, "7224", Decimal("300000"), 520,
            "建设标准厂房、供应链集配中心及配套设施的现代工业园",
        )
        self.signed(eternal_asia, at(1, 4, 26))
        eternal_asia["planned_start"] = max(eternal_asia["contract_on"], at(0, 9, 30))
        self.reserve(eternal_asia)
        eternal_asia["plan"] = Decimal("30000")
        eternal_asia["blockers"] = (
            DemoBlocker("征拆扫尾尚有3户未签约,影响交地", UNIT_ACQUISITION, self.today - dt.timedelta(days=10)),
        )
        self.listed(eternal_asia, 4, UNIT_JINSHAN, LEADER)

        hongyuan = draft(
            "宏远机械轨道交通零部件生产项目", "株洲宏远机械有限公司", Chain.RAIL, "3484", Decimal("18000"), 45,
            "建设轨道交通装备机械零部件精密加工生产线", source="企业增资扩产",
        )
        self.signed(hongyuan, at(1, 10, 25))
        hongyuan["planned_start"] = self.ahead(30, 60)
        self.reserve(hongyuan, preparing=False)
        hongyuan["blockers"] = (
            DemoBlocker("施工图审查及施工许可办理", UNIT_HOUSING, self.today + dt.timedelta(days=20)),
        )
        self.listed(hongyuan, 4, UNIT_INDUSTRY, "leader4")

        health_park = {
            "name": "医学健康产业园", "chain": Chain.HEALTH, "industry": "7340",
            "description": "引进社会资本合作开发“园中园”,建设医疗器械、生物医药标准厂房及研发中心",
            "source": "产业链定向招商", "investor_name": "拟合作社会资本方(园中园开发)", "firm": None,
            "estimated_investment": Decimal("500000"),
            "contact_name": make_person_name(self.rng), "contact_phone": make_mobile(self.rng),
            "negotiating_on": self.in_year(1, 0.7, 1.0),
        }
        self.unique(health_park["name"])
        health_park["follow_ups"] = self.follow_ups(health_park["negotiating_on"])
        self.listed(health_park, 5, UNIT_HEALTH, "leader2")

        self.drafts += [
            hande, ximeitai, zhongtian, market, hunan_jiangong, feilu, langrun, apparel, carbide, haoxifu,
            eternal_asia, hongyuan, health_park,
        ]

    def follow_ups(self, since: dt.date) -> tuple[tuple[dt.date, str], ...]:
        count = self.rng.randint(1, 3)
        days = sorted(self.between(since, self.today) for _ in range(count))
        return tuple((day, FOLLOW_UP_NOTES[i]) for i, day in enumerate(days))

    def completed_last_year(self) -> None:
        """Completed last year (22 with 飞鹿 and 朗润), most of them in production; not on this year's list."""
        for i in range(COMPLETED_COUNT - 2):
            draft = self.firm_draft(self.firm(), self.total(5000, 120000))
            start = self.in_year(2, 0.0, 0.9)
            self.signed(draft, self.before(start, 60, 300))
            completion = self.in_year(1, 0.1, 1.0)
            production = self.after(completion, 20, 90) if i < 14 else None
            if production is not None and production.year != completion.year:
                production = completion
            self.construction(draft, start, completion=completion, production=production)
            self.drafts.append(draft)

    def started_last_year(self) -> None:
        """Started last year (25 with 汉德车桥, 稀美泰 and 中天杭萧): 12 completed this year, the rest building."""
        for i in range(STARTED_COUNT - 3):
            done = i < 12
            draft = self.firm_draft(self.firm(), self.total(8000, 150000 if done else 250000))
            start = self.in_year(1)
            self.signed(draft, min(self.before(start, 90, 400), self.at(2, 12, 20)))
            if done:
                completion = self.in_year(0, 0.0, 0.9)
                production = self.after(completion, 15, 60) if i < 8 else None
                self.construction(draft, start, completion=completion, production=production)
                self.listed(draft, 1, self.rng.choice(CONSTRUCTION_UNITS))
            else:
                profile = self.rng.choices([ON_PLAN, AHEAD, LAGGING, OVERDUE], weights=[50, 28, 12, 10], k=1)[0]
                self.construction(draft, start, profile=profile)
                self.listed(draft, 2, self.rng.choice(CONSTRUCTION_UNITS))
            if i == 12:
                draft["blockers"] = (
                    DemoBlocker("园区道路及雨污管网未接通", UNIT_JINSHAN, self.ahead(10, 45)),
                )
            self.drafts.append(draft)

    def started_earlier(self) -> None:
        """Started two years ago, still building (22) or completed this year (4, plus the named two)."""
        for i in range(26):
            done = i < 4
            draft = self.firm_draft(self.firm(), self.total(20000, 300000))
            start = self.in_year(2, 0.3, 1.0)
            self.signed(draft, self.before(start, 60, 360))
            if done:
                completion = self.in_year(0, 0.0, 0.9)
                production = self.after(completion, 20, 60) if i < 2 else None
                self.construction(draft, start, completion=completion, production=production)
                self.listed(draft, 1, self.rng.choice(CONSTRUCTION_UNITS))
            else:
                profile = self.rng.choices([ON_PLAN, AHEAD, LAGGING, OVERDUE], weights=[55, 20, 12, 13], k=1)[0]
                if i == 4:
                    profile = ON_PLAN
                self.construction(draft, start, months=(30, 40), profile=profile)
                self.listed(draft, 2, self.rng.choice(CONSTRUCTION_UNITS))
                if i == 4:  # 调: the construction period is extended by six months
                    new_completion = _add_months(draft["planned_completion"], 6)
                    draft["decisions"] = (
                        DemoDecision(
                            DecisionKind.ADJUST, "受设备供货周期影响,经区政府研究调整建设工期",
                            self.between(max(self.jan1, start), self.today),
                            adjustments=(("planned_completion", new_completion),),
                        ),
                    )
                if i == 5:
                    draft["blockers"] = (
                        DemoBlocker("新增用电负荷需增容,需协调供电公司", UNIT_NDRC, self.today - dt.timedelta(days=15)),
                    )
                if i == 6:
                    raised = self.between(max(self.jan1, start), self.today, 0.0, 0.5)
                    draft["blockers"] = (
                        DemoBlocker("项目贷款未到位,需协调银行授信", UNIT_NDRC, self.after(raised, 20, 40),
                                    self.after(raised, 10, 30), "协调株洲农商银行荷塘支行完成授信"),
                    )
            self.drafts.append(draft)

    def started_this_year(self, signed_last_year: list[Decimal], signed_this_year: list[Decimal]) -> None:
        """Started this year (25 with the two 园中园): signed this year (5), last year (8) or earlier (10);
        four small ones already completed."""
        plans = (
            [(total, "this") for total in signed_this_year]
            + [(total, "last") for total in signed_last_year]
            + [(self.total(8000, 40000 if i < 4 else 200000), "earlier") for i in range(10)]
        )
        for i, (total, when) in enumerate(plans):
            draft = self.firm_draft(self.firm(), total)
            if when == "this":
                contract = self.in_year(0, 0.0, 0.4)
                self.signed(draft, contract)
                start = self.between(contract, self.today, 0.1, 0.5)
            elif when == "last":
                self.signed(draft, self.in_year(1))
                start = self.in_year(0, 0.0, 0.85)
            else:
                self.signed(draft, self.in_year(2))
                start = self.in_year(0, 0.0, 0.3 if i >= 13 and i < 17 else 0.85)
            if when == "earlier" and i < 17:
                completion = self.between(start, self.today, 0.4, 1.0)
                production = self.after(completion, 10, 40) if i == 13 else None
                self.construction(draft, start, completion=completion, production=production, months=(4, 8))
                self.listed(draft, 1, self.rng.choice(CONSTRUCTION_UNITS))
            else:
                profile = self.rng.choices([ON_PLAN, AHEAD, LAGGING], weights=[55, 30, 15], k=1)[0]
                self.construction(draft, start, profile=profile)
                self.listed(draft, 3, self.rng.choice(CONSTRUCTION_UNITS))
            if i == 5:
                raised = self.between(draft["contract_on"], start)
                draft["blockers"] = (
                    DemoBlocker("施工许可证办理材料不全", UNIT_HOUSING, self.after(raised, 15, 30),
                                self.after(raised, 5, 25), "区住建局开通绿色通道,三个工作日内办结"),
                )
            self.drafts.append(draft)

    def reserve_projects(self, signed_last_year: list[Decimal], signed_this_year: list[Decimal]) -> None:
        """Signed, not started: this year's (13), last year's (6), earlier ones (6, with 停缓调), one withdrawn."""
        for i, total in enumerate(signed_this_year):
            draft = self.firm_draft(self.firm(), total)
            self.signed(draft, self.in_year(0))
            if i < 2:  # planned to start by now, but not started: behind plan
                draft["planned_start"] = self.between(draft["contract_on"], self.today, 0.3, 1.0)
                draft["plan"] = _hundreds(float(total) * 0.1)
            self.reserve(draft, preparing=i % 2 == 0)
            if i == 0:
                draft["blockers"] = (
                    DemoBlocker("环评批复待市生态环境局审批", UNIT_NDRC, self.ahead(15, 40)),
                )
            self.listed(draft, 4, self.rng.choice(RESERVE_UNITS))
            self.drafts.append(draft)
        for i, total in enumerate(signed_last_year):
            draft = self.firm_draft(self.firm(), total)
            self.signed(draft, self.in_year(1))
            self.reserve(draft, overdue=i < 2)
            self.listed(draft, 4, self.rng.choice(RESERVE_UNITS))
            self.drafts.append(draft)
        for i in range(7):
            draft = self.firm_draft(self.firm(), self.total(10000, 150000))
            self.signed(draft, self.in_year(2, 0.0, 0.8))
            self.reserve(draft)
            prepared = draft["preparing_on"]
            if i == 0:
                draft["decisions"] = (
                    DemoDecision(DecisionKind.STOP, "投资方资金链紧张,经区政府研究暂停推进",
                                 self.between(max(self.jan1, prepared), self.today)),
                )
            elif i == 1:
                decided = self.between(max(self.jan1, prepared), self.today, 0.3, 1.0)
                draft["decisions"] = (
                    DemoDecision(DecisionKind.POSTPONE, "受用地指标限制,缓建至用地指标落实", decided,
                                 resume_on=self.ahead(60, 200)),
                )
            elif i == 2:
                decided = self.between(prepared, dt.date(self.year - 1, 12, 31), 0.3, 1.0)
                resumed = self.in_year(0, 0.0, 0.6)
                draft["decisions"] = (
                    DemoDecision(DecisionKind.POSTPONE, "征拆未完成,缓建一年", decided, resume_on=resumed),
                    DemoDecision(DecisionKind.RESUME, "征拆已完成,恢复推进", resumed),
                )
            elif i == 3:
                adjusted = _hundreds(float(draft["total_investment"]) * 0.7)
                land = _money(float(draft["land_area_mu"]) * 0.7)
                draft["decisions"] = (
                    DemoDecision(DecisionKind.ADJUST, "调减建设规模,核减投资和用地",
                                 self.between(max(self.jan1, prepared), self.today),
                                 adjustments=(("total_investment", adjusted), ("land_area_mu", land))),
                )
            elif i == 6:  # withdrawn: not on this year's list
                draft["decisions"] = (
                    DemoDecision(DecisionKind.WITHDRAW, "投资方战略调整,项目撤出",
                                 self.between(prepared, self.today, 0.5, 1.0)),
                )
            if i < 6:
                self.listed(draft, 4, self.rng.choice(RESERVE_UNITS))
            self.drafts.append(draft)

    def leads(self) -> None:
        """招商 pool: leads and projects in negotiation, 28 on the list besides 医学健康产业园, 8 not listed."""
        for i in range(36):
            draft = self.lead_draft()
            if i % 3 != 0:
                draft["negotiating_on"] = self.between(self.today - dt.timedelta(days=400), self.today)
                if i % 3 == 1:
                    draft["follow_ups"] = self.follow_ups(draft["negotiating_on"])
            if i < 28:
                self.listed(draft, 5, self.rng.choice(ATTRACTION_UNITS))
            elif i == 35:
                draft["decisions"] = (
                    DemoDecision(DecisionKind.WITHDRAW, "投资方另行选址,终止洽谈",
                                 self.between(draft.get("negotiating_on") or self.jan1, self.today)),
                )
            self.drafts.append(draft)

    def freeze(self) -> list[DemoProject]:
        """Number this year's list (completed, continuing, new, reserve, attraction) and freeze the drafts."""
        listed = sorted((d for d in self.drafts if "key_group" in d), key=lambda d: d["key_group"])
        for sequence, draft in enumerate(listed, start=1):
            draft["key"] = DemoKeyListing(
                sequence=sequence,
                planned_investment=draft.get("plan", Decimal(0)),
                unit=draft["key_unit"],
                leader=draft["key_leader"],
            )
        fields = set(DemoProject.__dataclass_fields__)
        return [DemoProject(**{k: v for k, v in d.items() if k in fields}) for d in self.drafts]


def demo_projects(today: dt.date) -> list[DemoProject]:
    """The demo projects dated relative to `today` (the same list for the same day)."""
    return _Generator(today).build()


def land_progress(today: dt.date) -> list[tuple[dt.date, Decimal, Decimal, str | None, str]]:
    """This year's land acquisition month by month: (month, 亩, m², project name or None, note),
    a little behind the share of the year elapsed."""
    rng = random.Random(f"{SEED}-land")
    months = _months(dt.date(today.year, 1, 1), today)
    share = float(year_elapsed_share(today.year, today)) * rng.uniform(0.85, 0.98)
    weights = [rng.uniform(0.5, 1.5) for _ in months]
    notes = [
        (None, "金山新城片区集体土地征收"),
        ("怡亚通金巢现代工业园", "怡亚通金巢现代工业园征拆"),
        (None, "中粮锦云地产项目征拆扫尾清零"),
        (None, "跨线桥二期征拆扫尾清零"),
        ("好媳妇日用品智能制造基地", "好媳妇日用品智能制造基地用地征收"),
    ]
    rows = []
    for i, month in enumerate(months):
        part = weights[i] / sum(weights) * share
        project, note = notes[i % len(notes)]
        rows.append((month, _money(float(LAND_TARGET_MU) * part), _money(float(HOUSING_TARGET_M2) * part), project,
                     note))
    return rows


@dataclass
class ProjectsReport:
    """What `demo_projects_load` wrote."""

    year: int = 0
    projects_created: int = 0
    projects_existing: int = 0
    key_listed: int = 0
    monthly_entries: int = 0
    milestones: int = 0
    blockers: int = 0
    decisions: int = 0
    users_created: int = 0
    units_created: int = 0
    land_entries: int = 0


def demo_leader_logins() -> list[DemoLogin]:
    """The logins of the extra demo leaders that exist, to print with the other demo logins."""
    users = {
        u.username: u
        for u in User.objects.filter(username__in=[p.username for p in DEMO_LEADERS]).select_related("organisation")
    }
    return [
        DemoLogin(username=p.username, role=str(Role(users[p.username].role).label),
                  organisation=users[p.username].organisation.name)
        for p in DEMO_LEADERS
        if p.username in users
    ]


def _enterprises(projects: list[DemoProject]) -> dict[str, Enterprise]:
    """The investor enterprise of each signed project, by the firm name it asks for; a firm the
    registry lacks (a demo loaded with fewer generated firms) is replaced by a named demo firm of the
    same chain, or any firm of that chain."""
    wanted = {p.firm for p in projects if p.firm}
    found = {e.name: e for e in Enterprise.objects.filter(name__in=wanted)}
    fallback_names = [f.name for f in named_firms() if f.persona is None]
    fallbacks = {e.name: e for e in Enterprise.objects.filter(name__in=fallback_names)}
    by_chain: dict[str, list[Enterprise]] = {}
    for name in fallback_names:
        if name in fallbacks:
            by_chain.setdefault(fallbacks[name].chain, []).append(fallbacks[name])
    result, turn = {}, 0
    for project in projects:
        if not project.firm or project.firm in result:
            continue
        if project.firm in found:
            result[project.firm] = found[project.firm]
            continue
        candidates = by_chain.get(project.chain) or list(
            Enterprise.objects.filter(chain=project.chain).order_by("uscc")[:5]
        )
        candidates = candidates or list(Enterprise.objects.order_by("uscc")[:5])
        if not candidates:
            raise ValidationFailed(_("The demo projects need firms in the registry; load the demo firms first."))
        result[project.firm] = candidates[turn % len(candidates)]
        turn += 1
    return result


def _load_one(
    spec: DemoProject,
    *,
    enterprise: Enterprise | None,
    industries: dict[str, Industry],
    units: dict[str, Organisation],
    users: dict[str, User],
    year: int,
    report: ProjectsReport,
) -> None:
    signed = spec.contract_on is not None
    project = lead_create(
        actor=None,
        data={
            "name": spec.name,
            "source": spec.source,
            "investor_name": spec.investor_name,
            "chain": spec.chain,
            "industry": industries.get(spec.industry, spec.industry),
            "description": spec.description,
            "estimated_investment": spec.estimated_investment,
            "contact_name": spec.contact_name,
            "contact_phone": spec.contact_phone,
            "investment_officer": users.get(INVESTMENT_OFFICER),
            "project_officer": users.get(PROJECT_OFFICER) if signed else None,
        },
        is_demo=True,
    )
    stage_data = {
        Stage.SIGNED: {
            "contract_date": spec.contract_on,
            "total_investment": spec.total_investment,
            "land_area_mu": spec.land_area_mu,
            "enterprise": enterprise,
            "code": spec.code if not Project.objects.filter(code=spec.code).exists() else None,
            "planned_start": spec.planned_start,
            "planned_completion": spec.planned_completion,
        },
        Stage.UNDER_CONSTRUCTION: {"actual_start": spec.start_on},
        Stage.COMPLETED: {"actual_completion": spec.completion_on},
        Stage.IN_PRODUCTION: {"production_date": spec.production_on, "first_year_output": spec.first_year_output},
    }
    for stage, on in spec.stage_dates():
        project = project_transition(actor=None, project=project, to_stage=stage, on=on, data=stage_data.get(stage))
        if stage == Stage.NEGOTIATING:
            for day, note in spec.follow_ups:
                follow_up_add(actor=None, project=project, on=day, note=note)
    if spec.key is not None:
        key_project_set(
            actor=None,
            project=project,
            year=year,
            planned_investment=spec.key.planned_investment,
            liaison_leader=users.get(spec.key.leader),
            responsible_unit=units[spec.key.unit],
            sequence=spec.key.sequence,
        )
        report.key_listed += 1
    for month, amount in spec.monthly:
        monthly_investment_record(actor=None, project=project, month=month, amount=amount)
    report.monthly_entries += len(spec.monthly)
    for node in spec.milestones:
        milestone = milestone_add(actor=None, project=project, name=node.name, planned_on=node.planned_on)
        if node.reached_on is not None:
            milestone_complete(actor=None, milestone=milestone, actual_on=node.reached_on)
    report.milestones += len(spec.milestones)
    for problem in spec.blockers:
        blocker = blocker_raise(
            actor=None, project=project, description=problem.description, unit=units[problem.unit],
            due_on=problem.due_on,
        )
        if problem.resolved_on is not None:
            blocker_resolve(actor=None, blocker=blocker, resolution=problem.resolution,
                            resolved_on=problem.resolved_on)
    report.blockers += len(spec.blockers)
    approver = users.get(spec.key.leader if spec.key else LEADER) or users.get(LEADER)
    for decision in spec.decisions:
        decision_record(
            actor=approver,
            project=project,
            kind=decision.kind,
            reason=decision.reason,
            decided_on=decision.decided_on,
            resume_on=decision.resume_on,
            adjustments=dict(decision.adjustments),
        )
    report.decisions += len(spec.decisions)


def demo_projects_load(*, today: dt.date | None = None, stdout: TextIO | None = None) -> ProjectsReport:
    """Load the demo projects through the investments services as the system (decisions by the
    project's liaison leader, who must approve them): district units, the extra leaders, the projects
    with their stages, key listing, monthly investment, milestones, problems and 停缓调撤 decisions,
    and this year's land targets and progress. Projects that exist (by name) are left alone.

    `today` is the day the demo is dated to (default today; an earlier day works, a later one is
    refused by the services). Needs the demo firms and personas (`demo_load` creates them first).
    """
    today = today or timezone.localdate()
    report = ProjectsReport(year=today.year)
    specs = demo_projects(today)
    with transaction.atomic():
        existing_units = set(Organisation.objects.filter(name__in=UNITS).values_list("name", flat=True))
        units = {
            name: organisation_get_or_create(actor=None, name=name, kind=OrganisationKind.DISTRICT) for name in UNITS
        }
        report.units_created = len(set(UNITS) - existing_units)
        for persona in DEMO_LEADERS:
            if not User.objects.filter(username=persona.username).exists():
                report.users_created += 1
            ensure_persona(persona, password=DEMO_PASSWORD)
        usernames = [INVESTMENT_OFFICER, PROJECT_OFFICER, *LEADER_USERNAMES]
        users = {u.username: u for u in User.objects.filter(username__in=usernames)}

        existing = set(Project.objects.filter(name__in=[s.name for s in specs]).values_list("name", flat=True))
        todo = [s for s in specs if s.name not in existing]
        report.projects_existing = len(specs) - len(todo)
        enterprises = _enterprises([s for s in todo if s.contract_on])
        industries = {i.code: i for i in Industry.objects.filter(code__in={s.industry for s in todo})}
        for index, spec in enumerate(todo, start=1):
            _load_one(
                spec,
                enterprise=enterprises.get(spec.firm) if spec.firm else None,
                industries=industries,
                units=units,
                users=users,
                year=today.year,
                report=report,
            )
            report.projects_created += 1
            if stdout is not None and (index % 50 == 0 or index == len(todo)):
                stdout.write(_("Projects: %(done)s of %(total)s") % {"done": index, "total": len(todo)} + "\n")

        if not LandTarget.objects.filter(year=today.year).exists():
            land_target_set(
                actor=None, year=today.year, collective_land_mu=LAND_TARGET_MU, state_housing_m2=HOUSING_TARGET_M2
            )
        if not LandProgress.objects.filter(month__year=today.year).exists():
            projects = {p.name: p for p in Project.objects.filter(name__in=[r[3] for r in land_progress(today)])}
            for month, land, housing, project, note in land_progress(today):
                land_progress_record(
                    actor=None, month=month, collective_land_mu=land, state_housing_m2=housing,
                    project=projects.get(project), note=note,
                )
                report.land_entries += 1
    return report
