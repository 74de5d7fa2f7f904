"""Synthetic credit data (`zhiyuan credit synth`): feeds and default outcomes for a set of firms, drawn
from the generative process below, so the demo and the benchmark have something to train and score.

Everything written here is labelled synthetic: one `FeedLoad` per feed with channel "synth", source
"合成数据 (synthetic)" and `is_synthetic=True`; every reference number starts with "SYN-". A re-run
first deletes what earlier synthetic loads brought (and nothing else: real loads are never touched),
so the result depends only on the arguments. Firms that already hold real feed data are left out.

The generative process
----------------------
Time runs in months t = 0 … M−1, the M complete months before `as_of` (t = M−1 is the month before
`as_of`'s own): `months`, or more when the features at the earliest observation date need more
history (15 months before it: 39 with the defaults). A firm has records only from the month it was
established.

1. **Latent risk.** Each firm draws r₀ ~ N(0, 1), shifted by size (micro +0.35, small +0.1,
   medium −0.2, large −0.5, unknown +0.2) and age (+0.3·(1 − min(age, 20)/10): +0.3 for a new firm,
   −0.3 for one twenty years old; +0.1 when the age is unknown), and a drift s ~ N(0, 0.25) a year.
   Its risk in month t is r(t) = r₀ + s·(t − (M−1))/12 + 1.2·[t ≥ its default month, if any].
2. **Outcomes.** At each observation date d (oldest first; by default `as_of` − 24 and − 12 months)
   each firm established by d defaults within the next 12 months with probability
   logistic(a + b·r(d)), a = −3.2, b = 1.3 (a bad rate of about 9 %). The default month is drawn
   uniformly from the 12 months after d, and from it on the firm's risk is 1.2 higher — so defaults
   show in the later feeds (late instalments of 90 days and more, enforcement, 失信 listings).
   The outcome at d depends on the firm only through r(d), which also drove its feeds up to d:
   the features as of d are informative of the outcome, as they are in real data.
3. **Tax** (per calendar year, from two years before the first month to the year before `as_of`):
   a firm established that year or the year before is graded M (new); otherwise the grade is cut
   from r(mid-year) + N(0, 0.45) at −0.9 / 1.1 / 1.9 into A / B / C / D. Tax paid grows
   0.06 − 0.15·r + N(0, 0.12) a year (log scale) towards a current level of about 3 % of revenue
   (or 12,000 yuan per insured employee when revenue is unknown).
4. **Social-insurance headcount** (monthly): the current level is 60–95 % of the registry's staff
   (or a size-typical number), and the log headcount grows (0.03 − 0.10·r(t))/12 + N(0, 0.015) a
   month. 3 % of firms are missing from the feed.
5. **Water and electricity** (monthly): electricity ∝ headcount × a firm's kWh per employee
   (log-normal around 600), with log growth (0.03 − 0.12·r(t))/12 + N(0, 0.02) a month, a seasonal
   swing (summer peak of 5–20 %, a Spring Festival dip of 15 % in February) and 4 % monthly noise;
   water likewise with half the risk trend and a 10 % summer swing. 3 % of firms are missing.
6. **Loans and instalments**: 60 % of firms borrow 1 + Poisson(0.5) loans, starting any month from
   two years before the window, for 12, 24 or 36 months, repaid in monthly instalments due on the
   20th. An instalment is late with probability logistic(−4 + 1.4·r(t)), by 1 + Exp(6·e^(0.6·r(t)))
   days (at most 89); from the default month on every instalment is 91 + Exp(120) days late, and
   still unpaid if that reaches past `as_of`.
7. **Court records**: judgments and enforcement cases arrive at 0.3 %·e^(r(t)) a month (plus an
   enforcement case within four months of a default, with probability 0.6), closed 1–18 months
   later; a 失信被执行人 listing arrives at 0.04 %·e^(1.6·r(t)) a month (at most 5 %; and with
   probability 0.35 three to eight months after a default), at most once, and is lifted after 2–18
   months with probability 0.45.
8. **Penalties**: at 1 %·e^(0.8·r(t)) a month; serious with probability 3 % + 15 %·logistic(2·(r − 1.5)),
   minor 50 %, ordinary otherwise, fined by severity.
9. **Honours** for the safest: a firm holds one (or, with probability 0.35, two) with probability
   logistic(−2.2 − 1.6·r₀): 高新技术企业 and 专精特新 certificates (valid three years), awards, and
   专精特新小巨人 for firms with r₀ < −1.2.

Retention dates (`retain_until`, `disclosed_until`) come from retention.py, as for real loads.
Rows are generated with numpy per chunk of firms and inserted with `executemany` in batches, so a
hundred thousand firms over 36 months (about 9 million rows) take minutes, in bounded memory.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np
from django.db import connection, transaction
from django.db.models import Model, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from zhiyuan.credit import retention
from zhiyuan.credit.features import add_months, month_start
from zhiyuan.credit.models import (
    CourtKind,
    CourtRecord,
    Feed,
    FeedLoad,
    HeadcountRecord,
    HonourKind,
    HonourRecord,
    LoanRecord,
    Objection,
    ObjectionStatus,
    Outcome,
    PenaltyRecord,
    PenaltySeverity,
    RepaymentRecord,
    TaxRecord,
    UtilityRecord,
)
from zhiyuan.enterprises.models import Enterprise

SOURCE = "合成数据 (synthetic)"
CHANNEL = "synth"
CHUNK = 2000  # firms generated at a time
BATCH = 5000  # rows per executemany
NO_DEFAULT = 10**6  # "never" as a month index
# Months of history the features look back from a date (electricity: three months against the same
# three a year earlier), generated before the earliest observation date.
FEATURE_HISTORY = 15

# 1. latent risk
SIZE_SHIFT = {"micro": 0.35, "small": 0.1, "medium": -0.2, "large": -0.5, "unknown": 0.2}
SIZE_STAFF = {"micro": 6, "small": 45, "medium": 250, "large": 1200, "unknown": 20}
AGE_SHIFT = 0.3
UNKNOWN_AGE_SHIFT = 0.1
DRIFT_SD = 0.25
DEFAULT_SHOCK = 1.2
# 2. outcomes
DEFAULT_A = -3.2
DEFAULT_B = 1.3
# 3. tax
TAX_NOISE = 0.45
TAX_CUTS = [(-0.9, "A"), (1.1, "B"), (1.9, "C")]  # else D
# 4.–5. headcount and utilities
MISSING_FEED = 0.03
# 6. loans
BORROWERS = 0.6
LATE_A, LATE_B = -4.0, 1.4
DUE_DAY = 20
LENDERS = [
    "中国工商银行株洲分行",
    "中国建设银行株洲分行",
    "中国农业银行株洲分行",
    "长沙银行株洲分行",
    "株洲农村商业银行",
    "湖南银行株洲分行",
]
COURTS = ["株洲市荷塘区人民法院", "株洲市中级人民法院", "株洲市天元区人民法院"]
AUTHORITIES = [
    ("株洲市荷塘区市场监督管理局", "荷市监", "销售不合格产品"),
    ("株洲市生态环境局荷塘分局", "株环", "超标排放大气污染物"),
    ("株洲市荷塘区应急管理局", "荷应急", "未按规定开展安全生产培训"),
    ("国家税务总局株洲市荷塘区税务局", "荷税", "未按期申报纳税"),
    ("株洲市荷塘区消防救援大队", "荷消", "消防设施未保持完好有效"),
]
HONOURS = [
    (HonourKind.HIGH_TECH, "高新技术企业证书", 0.45),
    (HonourKind.SPECIALISED, "湖南省专精特新中小企业", 0.30),
    (HonourKind.AWARD, "株洲市科技进步奖", 0.25),
]
LITTLE_GIANT = (HonourKind.LITTLE_GIANT, "国家级专精特新“小巨人”企业")

FEED_MODELS: list[tuple[str, type[Model]]] = [
    (Feed.TAX, TaxRecord),
    (Feed.HEADCOUNT, HeadcountRecord),
    (Feed.UTILITIES, UtilityRecord),
    (Feed.LOANS, LoanRecord),
    (Feed.REPAYMENTS, RepaymentRecord),
    (Feed.COURT, CourtRecord),
    (Feed.PENALTIES, PenaltyRecord),
    (Feed.HONOURS, HonourRecord),
    (Feed.OUTCOMES, Outcome),
]


@dataclass
class SynthReport:
    """What a run of `synth_feeds` wrote."""

    as_of: dt.date
    months: int
    seed: int
    observation_dates: list[dt.date]
    firms: int = 0
    skipped: int = 0  # firms holding real (non-synthetic) feed data, left alone
    deleted: int = 0  # rows of earlier synthetic loads removed first
    rows: dict[str, int] = field(default_factory=dict)
    outcomes: int = 0
    defaults: int = 0
    seconds: float = 0.0

    @property
    def bad_rate(self) -> float:
        return self.defaults / self.outcomes if self.outcomes else 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def __str__(self) -> str:
        rows = " ".join(f"{feed}={count}" for feed, count in self.rows.items())
        return (
            f"{self.firms} firms ({self.skipped} skipped), {self.months} months to {self.as_of}: {rows}; "
            f"bad rate {self.bad_rate:.1%}; {self.seconds:.1f}s"
        )


# -- helpers ------------------------------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _years_back(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _month_end(day: dt.date) -> dt.date:
    return add_months(day, 1) - dt.timedelta(days=1)


def previous_month_ends(as_of: dt.date, count: int) -> list[dt.date]:
    """The last days of the `count` months before `as_of`'s month, oldest first."""
    return [_month_end(add_months(month_start(as_of), -k)) for k in range(count, 0, -1)]


class _Dates:
    """numpy day numbers (datetime64[D]) to values the database driver takes."""

    def __init__(self) -> None:
        self.sqlite = connection.vendor == "sqlite"

    def __call__(self, days: np.ndarray) -> list[Any]:
        text = np.datetime_as_string(np.asarray(days, dtype="datetime64[D]"), unit="D").tolist()
        if self.sqlite:
            return [None if value == "NaT" else value for value in text]
        return [None if value == "NaT" else dt.date.fromisoformat(value) for value in text]

    def one(self, day: dt.date | None) -> Any:
        if day is None:
            return None
        return day.isoformat() if self.sqlite else day


def _d64(day: dt.date) -> np.datetime64:
    return np.datetime64(day, "D")


def _to_date(day: np.datetime64) -> dt.date:
    return day.astype("datetime64[D]").astype(dt.date)


class _Inserter:
    """INSERT … executemany in batches for one model, with the columns named once."""

    def __init__(self, model: type[Model], fields: Sequence[str]) -> None:
        meta = model._meta
        quote = connection.ops.quote_name
        columns = ", ".join(quote(meta.get_field(name).column) for name in fields)
        marks = ", ".join(["%s"] * len(fields))
        self.sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})"
        self.count = 0

    def insert(self, rows: list[tuple]) -> None:
        if not rows:
            return
        with connection.cursor() as cursor:
            for start in range(0, len(rows), BATCH):
                cursor.executemany(self.sql, rows[start : start + BATCH])
        self.count += len(rows)


@dataclass
class _Window:
    as_of: dt.date
    months: int
    first: dt.date  # month t = 0
    month_days: np.ndarray  # datetime64[D] of the first of each month t
    month_of_year: np.ndarray
    observations: list[tuple[dt.date, int]]  # (date, month index)

    def index(self, day: dt.date) -> int:
        return (day.year - self.first.year) * 12 + day.month - self.first.month

    def month_date(self, t: int) -> dt.date:
        return add_months(self.first, t)


@dataclass
class _Firms:
    ids: np.ndarray
    established: list[dt.date | None]
    est_t: np.ndarray  # month index of establishment (very negative when unknown)
    size: list[str]
    staff: np.ndarray  # nan when unknown
    revenue: np.ndarray  # nan when unknown


def _delete_synthetic() -> int:
    """Remove every record earlier synthetic loads brought, and the loads; real loads stay."""
    loads = list(FeedLoad.objects.filter(is_synthetic=True).values_list("pk", flat=True))
    if not loads:
        return 0
    deleted = 0
    # An open objection on a record about to go is answered: the record is gone.
    for feed, model in FEED_MODELS:
        records = model.objects.filter(load_id__in=loads)
        Objection.objects.filter(
            feed=feed, status=ObjectionStatus.OPEN, record_id__in=Subquery(records.values("pk"))
        ).update(
            status=ObjectionStatus.UPHELD,
            answer=_("The synthetic record was replaced when the demo data was regenerated."),
            answered_at=timezone.now(),
        )
    # Instalments first (also any on a synthetic loan), so the loans go without a cascade.
    deleted += RepaymentRecord.objects.filter(load_id__in=loads).delete()[0]
    deleted += RepaymentRecord.objects.filter(loan__load_id__in=loads).delete()[0]
    for _feed, model in FEED_MODELS:
        if model is not RepaymentRecord:
            deleted += model.objects.filter(load_id__in=loads).delete()[0]
    FeedLoad.objects.filter(pk__in=loads).delete()
    return deleted


def _firms_with_real_data(ids: set[int] | None) -> set[int]:
    found: set[int] = set()
    for _feed, model in FEED_MODELS:
        queryset = model.objects.filter(load__is_synthetic=False).values_list("enterprise_id", flat=True).distinct()
        found.update(pk for pk in queryset if ids is None or pk in ids)
    return found


def _load_firms(enterprise_ids: list[int] | None, window: _Window) -> tuple[list[tuple], int]:
    wanted = None if enterprise_ids is None else set(enterprise_ids)
    real = _firms_with_real_data(wanted)
    rows = []
    queryset = Enterprise.objects.order_by("pk").values_list("pk", "established_on", "size_class", "staff", "revenue")
    for row in queryset.iterator(chunk_size=5000):
        chosen = (wanted is None or row[0] in wanted) and row[0] not in real
        if chosen and (row[1] is None or row[1] <= window.as_of):
            rows.append(row)
    return rows, len(real)


def _firms_of(rows: list[tuple], window: _Window) -> _Firms:
    est_t = np.array([window.index(month_start(row[1])) if row[1] else -NO_DEFAULT for row in rows], dtype=np.int64)
    return _Firms(
        ids=np.array([row[0] for row in rows], dtype=np.int64),
        established=[row[1] for row in rows],
        est_t=est_t,
        size=[row[2] or "unknown" for row in rows],
        staff=np.array([float(row[3]) if row[3] else np.nan for row in rows]),
        revenue=np.array([float(row[4]) if row[4] else np.nan for row in rows]),
    )


# -- the generator ------------------------------------------------------------------------------


class _Chunk:
    """Generates one chunk of firms' feeds (rows ready for the database)."""

    def __init__(self, firms: _Firms, window: _Window, rng: np.random.Generator, dates: _Dates, seq: list[int]):
        self.f = firms
        self.w = window
        self.rng = rng
        self.dates = dates
        self.seq = seq  # running reference-number counter, shared across chunks
        n, m = len(firms.ids), window.months
        self.n, self.m = n, m
        self.t = np.arange(m)
        self.alive = self.t[None, :] >= firms.est_t[:, None]
        ages = np.array(
            [(window.as_of - day).days / 365.25 if day else np.nan for day in firms.established], dtype=float
        )
        age_shift = np.where(np.isnan(ages), UNKNOWN_AGE_SHIFT, AGE_SHIFT * (1 - np.clip(ages, 0, 20) / 10))
        size_shift = np.array([SIZE_SHIFT.get(size, SIZE_SHIFT["unknown"]) for size in firms.size])
        self.r0 = rng.normal(0.0, 1.0, n) + size_shift + np.nan_to_num(age_shift)
        self.drift = rng.normal(0.0, DRIFT_SD, n)
        self.default_t = np.full(n, NO_DEFAULT, dtype=np.int64)
        # Insured staff in the last month: 60–95 % of the registry's staff, or a size-typical number.
        typical = np.array([SIZE_STAFF.get(size, SIZE_STAFF["unknown"]) for size in firms.size], dtype=float)
        staff = np.where(np.isnan(firms.staff), typical * np.exp(rng.normal(0.0, 0.5, n)), firms.staff)
        self.hc_end = np.maximum(staff * rng.uniform(0.6, 0.95, n), 1.0)
        self.month_values = dates(window.month_days)

    def _next_ref(self) -> int:
        self.seq[0] += 1
        return self.seq[0]

    def risk(self, t: np.ndarray | int) -> np.ndarray:
        """r(t) for every firm (t a scalar) or per firm and month (t a 1-d array of months)."""
        t_arr = np.asarray(t)
        if t_arr.ndim == 0:
            return self.r0 + self.drift * (t_arr - (self.m - 1)) / 12 + DEFAULT_SHOCK * (t_arr >= self.default_t)
        tt = t_arr[None, :]
        return (
            self.r0[:, None]
            + self.drift[:, None] * (tt - (self.m - 1)) / 12
            + DEFAULT_SHOCK * (tt >= self.default_t[:, None])
        )

    # outcomes first: a default changes the risk the later feeds are drawn from
    def outcomes(self, load: int) -> tuple[list[tuple], int]:
        rows, defaults = [], 0
        for day, t_obs in self.w.observations:
            eligible = np.array([est is None or est <= day for est in self.f.established], dtype=bool)
            p = _sigmoid(DEFAULT_A + DEFAULT_B * self.risk(t_obs))
            defaulted = (self.rng.random(self.n) < p) & eligible
            when = t_obs + self.rng.integers(1, 13, self.n)
            self.default_t = np.where(defaulted, np.minimum(self.default_t, when), self.default_t)
            value = self.dates.one(day)
            for pk, flag in zip(self.f.ids[eligible].tolist(), defaulted[eligible].tolist(), strict=True):
                rows.append((pk, load, value, flag))
            defaults += int(defaulted.sum())
        return rows, defaults

    def tax(self, load: int) -> list[tuple]:
        rng, w = self.rng, self.w
        years = list(range(w.first.year - 2, w.as_of.year))
        mid = np.array([w.index(dt.date(year, 7, 1)) for year in years])
        risk = self.risk(mid)  # n × years
        score = risk + rng.normal(0.0, TAX_NOISE, risk.shape)
        grades = np.full(risk.shape, "D", dtype="<U1")
        for cut, grade in reversed(TAX_CUTS):
            grades[score < cut] = grade
        est_year = np.array([day.year if day else -9999 for day in self.f.established])
        year_arr = np.array(years)[None, :]
        grades[(est_year[:, None] >= year_arr - 1)] = "M"
        exists = est_year[:, None] <= year_arr
        growth = 0.06 - 0.15 * risk + rng.normal(0.0, 0.12, risk.shape)
        per_staff = self.hc_end * np.exp(rng.normal(math.log(1.2), 0.5, self.n))
        level = np.where(
            np.isnan(self.f.revenue),
            per_staff,
            np.nan_to_num(self.f.revenue) * np.exp(rng.normal(math.log(0.03), 0.3, self.n)),
        )
        # log tax paid: the current level in the last year, earlier years by undoing the growth
        back = np.concatenate([np.cumsum(growth[:, :0:-1], axis=1)[:, ::-1], np.zeros((self.n, 1))], axis=1)
        paid = np.round(np.maximum(np.exp(np.log(np.maximum(level, 0.5))[:, None] - back), 0.01), 2)
        rows = []
        for i, j in zip(*np.nonzero(exists), strict=True):
            rows.append((int(self.f.ids[i]), load, years[j], str(grades[i, j]), float(paid[i, j])))
        return rows

    def _path(self, end: np.ndarray, growth: np.ndarray) -> np.ndarray:
        """Monthly levels ending at `end` in month M−1, each month `growth` (log) above the one before."""
        after = np.concatenate([np.cumsum(growth[:, :0:-1], axis=1)[:, ::-1], np.zeros((self.n, 1))], axis=1)
        return np.exp(np.log(end)[:, None] - after)

    def headcount(self, load: int, risk: np.ndarray) -> list[tuple]:
        rng = self.rng
        growth = (0.03 - 0.10 * risk) / 12 + rng.normal(0.0, 0.015, risk.shape)
        counts = np.rint(self._path(self.hc_end, growth)).astype(np.int64)
        present = self.alive & (rng.random(self.n) >= MISSING_FEED)[:, None]
        i, j = np.nonzero(present)
        months = self.month_values
        return list(
            zip(
                self.f.ids[i].tolist(),
                [load] * len(i),
                [months[k] for k in j.tolist()],
                np.maximum(counts[i, j], 0).tolist(),
                strict=True,
            )
        )

    def utilities(self, load: int, risk: np.ndarray) -> list[tuple]:
        rng, moy = self.rng, self.w.month_of_year[None, :]
        staff = self.hc_end
        kwh_end = staff * np.exp(rng.normal(math.log(600), 0.6, self.n))
        water_end = staff * np.exp(rng.normal(math.log(3), 0.5, self.n))
        summer = np.cos(2 * np.pi * (moy - 7) / 12)
        festival = np.where(moy == 2, 0.85, 1.0)
        amp = rng.uniform(0.05, 0.2, self.n)[:, None]
        e_growth = (0.03 - 0.12 * risk) / 12 + rng.normal(0.0, 0.02, risk.shape)
        w_growth = (0.03 - 0.06 * risk) / 12 + rng.normal(0.0, 0.02, risk.shape)
        kwh = self._path(kwh_end, e_growth) * (1 + amp * summer) * festival
        kwh *= np.exp(rng.normal(0.0, 0.04, risk.shape))
        water = self._path(water_end, w_growth) * (1 + 0.1 * summer) * np.exp(rng.normal(0.0, 0.04, risk.shape))
        present = self.alive & (rng.random(self.n) >= MISSING_FEED)[:, None]
        i, j = np.nonzero(present)
        months = self.month_values
        return list(
            zip(
                self.f.ids[i].tolist(),
                [load] * len(i),
                [months[k] for k in j.tolist()],
                np.round(water[i, j], 2).tolist(),
                np.round(kwh[i, j], 2).tolist(),
                strict=True,
            )
        )

    def loans(self, risk: np.ndarray) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
        """The loans (as dicts for LoanRecord) and their instalments (arrays, by loan position)."""
        rng, w, m = self.rng, self.w, self.m
        count = (rng.random(self.n) < BORROWERS) * (1 + rng.poisson(0.5, self.n))
        count[self.f.est_t >= m - 1] = 0  # established last month or this one: no loan on record yet
        firm = np.repeat(np.arange(self.n), count)
        k = len(firm)
        start = np.maximum(rng.integers(-24, m - 2, k), self.f.est_t[firm])
        term = rng.choice([12, 24, 36], size=k, p=[0.5, 0.3, 0.2])
        amount = np.round(np.exp(rng.normal(np.log(30 + 0.5 * self.hc_end[firm]), 0.5)), -1)
        amount = np.maximum(amount, 10.0)
        lender = rng.integers(0, len(LENDERS), k)
        start_day = rng.integers(1, 29, k)
        # instalments: loan l, number 1 … term[l], due in month start + number
        loan_of = np.repeat(np.arange(k), term)
        number = np.arange(len(loan_of)) - np.repeat(np.cumsum(term) - term, term) + 1
        due_t = start[loan_of] + number
        keep = (due_t >= 0) & (due_t < m)
        loan_of, due_t = loan_of[keep], due_t[keep]
        owner = firm[loan_of]
        r = risk[owner, due_t]
        late = rng.random(len(r)) < _sigmoid(LATE_A + LATE_B * r)
        days = np.minimum(1 + np.floor(rng.exponential(6 * np.exp(0.6 * r))), 89).astype(np.int64)
        overdue = np.where(late, days, 0)
        defaulted = due_t >= self.default_t[owner]
        overdue = np.where(defaulted, 91 + np.floor(rng.exponential(120, len(r))).astype(np.int64), overdue)
        due = w.month_days[due_t] + np.timedelta64(DUE_DAY - 1, "D")
        early = rng.integers(0, 6, len(r))
        paid = due + np.where(overdue > 0, overdue, -early).astype("timedelta64[D]")
        as_of = _d64(w.as_of)
        unpaid = paid >= as_of
        overdue = np.where(unpaid, np.maximum((as_of - due).astype(np.int64), 0), overdue)
        paid = np.where(unpaid, np.datetime64("NaT"), paid)
        # a loan is settled when it has run its term and nothing is unpaid
        open_loans = np.zeros(k, dtype=bool)
        open_loans[loan_of[unpaid]] = True
        last_paid = np.full(k, np.datetime64("NaT"), dtype="datetime64[D]")
        order = np.argsort(due_t, kind="stable")
        last_paid[loan_of[order]] = paid[order]  # the latest due instalment's payment wins
        loans = []
        for index in range(k):
            start_on = add_months(w.first, int(start[index])).replace(day=int(start_day[index]))
            end_on = add_months(w.first, int(start[index] + term[index])).replace(day=DUE_DAY)
            settled = None
            if not open_loans[index] and start[index] + term[index] < m and not np.isnat(last_paid[index]):
                settled = max(_to_date(last_paid[index]), end_on - dt.timedelta(days=5))
            loans.append(
                {
                    "enterprise_id": int(self.f.ids[firm[index]]),
                    "lender": LENDERS[int(lender[index])],
                    "contract_no": f"SYN-{int(self.f.ids[firm[index]])}-{index + 1}",
                    "amount": float(amount[index]),
                    "start_on": start_on,
                    "end_on": end_on,
                    "settled_on": settled,
                }
            )
        instalments = {
            "loan": loan_of,
            "owner": self.f.ids[owner].tolist(),
            "due": due,
            "paid": paid,
            "overdue": overdue,
            "amount": np.round(amount[loan_of] / term[loan_of], 2),
        }
        return loans, instalments

    def repayments(self, load: int, loan_ids: list[int], instalments: dict[str, np.ndarray]) -> list[tuple]:
        due = self.dates(instalments["due"])
        paid_days = instalments["paid"]
        paid = self.dates(paid_days)
        overdue = instalments["overdue"].tolist()
        owners = instalments["owner"]
        rows = []
        for index, loan in enumerate(instalments["loan"].tolist()):
            retain = None
            if overdue[index] > 0 and paid[index] is not None:
                retain = self.dates.one(
                    retention.repayment_retain_until(overdue_days=overdue[index], paid_on=_to_date(paid_days[index]))
                )
            rows.append(
                (
                    owners[index],
                    loan_ids[loan],
                    load,
                    due[index],
                    paid[index],
                    float(instalments["amount"][index]),
                    overdue[index],
                    retain,
                )
            )
        return rows

    def _day_in(self, t: int) -> dt.date:
        day = self.w.month_date(t).replace(day=int(self.rng.integers(1, 29)))
        return min(day, self.w.as_of - dt.timedelta(days=1))

    def court(self, load: int, risk: np.ndarray) -> list[tuple]:
        rng, w, m = self.rng, self.w, self.m
        records: list[tuple[int, str, dt.date, dt.date | None]] = []  # firm, kind, filed, listed
        cases = rng.poisson(0.003 * np.exp(risk)) * self.alive
        for i, t in zip(*np.nonzero(cases), strict=True):
            for _case in range(int(cases[i, t])):
                kind = CourtKind.JUDGMENT if rng.random() < 0.55 else CourtKind.ENFORCEMENT
                records.append((int(i), kind, self._day_in(int(t)), None))
        after_default = (self.default_t < m - 1) & (rng.random(self.n) < 0.6)
        for i in np.nonzero(after_default)[0]:
            t = int(self.default_t[i] + rng.integers(1, 5))
            if t < m:
                records.append((int(i), CourtKind.ENFORCEMENT, self._day_in(t), None))
        hazard = np.minimum(0.0004 * np.exp(1.6 * risk), 0.05) * self.alive
        events = rng.random(risk.shape) < hazard
        first = np.where(events.any(axis=1), events.argmax(axis=1), NO_DEFAULT)
        listed_after_default = np.where(
            (self.default_t < m) & (rng.random(self.n) < 0.35), self.default_t + rng.integers(3, 9, self.n), NO_DEFAULT
        )
        listing = np.minimum(first, listed_after_default)
        for i in np.nonzero(listing < m)[0]:
            listed = self._day_in(int(listing[i]))
            filed = listed - dt.timedelta(days=int(rng.integers(30, 181)))  # the enforcement case behind it
            records.append((int(i), CourtKind.DISHONEST, filed, listed))
        rows = []
        words = {CourtKind.JUDGMENT: "民初", CourtKind.ENFORCEMENT: "执", CourtKind.DISHONEST: "执"}
        for i, kind, filed, listed in records:
            closed = delisted = None
            if kind == CourtKind.DISHONEST:
                if rng.random() < 0.45:
                    lifted = listed + dt.timedelta(days=int(rng.integers(60, 541)))
                    delisted = lifted if lifted < w.as_of else None
            else:
                ends = filed + dt.timedelta(days=int(rng.integers(30, 541)))
                closed = ends if ends < w.as_of else None
            amount = round(float(np.exp(rng.normal(math.log(20), 1.0))), 2)
            case_no = f"SYN-({filed.year})湘0202{words[kind]}{self._next_ref()}号"
            retain = retention.court_retain_until(kind=kind, filed_on=filed, closed_on=closed, delisted_on=delisted)
            rows.append(
                (
                    int(self.f.ids[i]),
                    load,
                    str(kind),
                    case_no,
                    COURTS[int(rng.integers(0, len(COURTS)))],
                    self.dates.one(filed),
                    amount,
                    self.dates.one(listed),
                    self.dates.one(delisted),
                    self.dates.one(closed),
                    self.dates.one(retain),
                )
            )
        return rows

    def penalties(self, load: int, risk: np.ndarray) -> list[tuple]:
        rng = self.rng
        counts = rng.poisson(0.01 * np.exp(0.8 * risk)) * self.alive
        rows = []
        for i, t in zip(*np.nonzero(counts), strict=True):
            for _penalty in range(int(counts[i, t])):
                serious = 0.03 + 0.15 * _sigmoid(2 * (risk[i, t] - 1.5))
                draw = rng.random()
                if draw < serious:
                    severity, fine = PenaltySeverity.SERIOUS, rng.uniform(5, 50)
                elif draw < serious + 0.5:
                    severity, fine = PenaltySeverity.MINOR, rng.uniform(0.05, 0.5)
                else:
                    severity, fine = PenaltySeverity.ORDINARY, rng.uniform(0.5, 5)
                authority, code, reason = AUTHORITIES[int(rng.integers(0, len(AUTHORITIES)))]
                decided = self._day_in(int(t))
                rows.append(
                    (
                        int(self.f.ids[i]),
                        load,
                        authority,
                        f"SYN-{code}罚〔{decided.year}〕{self._next_ref()}号",
                        str(severity),
                        self.dates.one(decided),
                        round(float(fine), 2),
                        reason,
                        self.dates.one(retention.penalty_disclosed_until(severity=severity, decided_on=decided)),
                    )
                )
        return rows

    def honours(self, load: int) -> list[tuple]:
        rng = self.rng
        held = rng.random(self.n) < _sigmoid(-2.2 - 1.6 * self.r0)
        rows = []
        for i in np.nonzero(held)[0]:
            kinds = [(kind, name) for kind, name, _p in HONOURS]
            weights = np.array([p for _kind, _name, p in HONOURS])
            if self.r0[i] < -1.2:
                kinds.append(LITTLE_GIANT)
                weights = np.append(weights, 0.3)
            number = 2 if rng.random() < 0.35 else 1
            chosen = rng.choice(len(kinds), size=number, replace=False, p=weights / weights.sum())
            for index in chosen.tolist():
                kind, name = kinds[index]
                t = int(max(rng.integers(-30, self.m), self.f.est_t[i]))
                granted = self._day_in(t)
                expires = None if kind == HonourKind.AWARD else _years_back(granted, -3) - dt.timedelta(days=1)
                rows.append(
                    (int(self.f.ids[i]), load, str(kind), name, self.dates.one(granted), self.dates.one(expires))
                )
        return rows


def synth_feeds(
    *,
    enterprise_ids: list[int] | None = None,
    as_of: dt.date,
    months: int = 36,
    seed: int = 2019,
    observation_dates: list[dt.date] | None = None,
    progress: Callable[[int, int], Any] | None = None,
) -> SynthReport:
    """Generate `months` months of every feed and the default outcomes for the given firms (default:
    every firm in the registry without real feed data) up to `as_of`, replacing earlier synthetic
    data. `progress(done, total)` is called after each chunk of firms. One transaction."""
    if months < 1:
        raise ValueError("months must be at least 1")
    started = time.perf_counter()
    observations = sorted(set(observation_dates or [_years_back(as_of, 2), _years_back(as_of, 1)]))
    if any(day > as_of for day in observations):
        raise ValueError("observation dates must not be after as_of")
    this_month = month_start(as_of)
    first = min(add_months(this_month, -months), add_months(month_start(observations[0]), -FEATURE_HISTORY))
    months = (this_month.year - first.year) * 12 + this_month.month - first.month
    month_dates = [add_months(first, t) for t in range(months)]
    window = _Window(
        as_of=as_of,
        months=months,
        first=first,
        month_days=np.array(month_dates, dtype="datetime64[D]"),
        month_of_year=np.array([day.month for day in month_dates]),
        observations=[],
    )
    window.observations = [(day, window.index(month_start(day))) for day in observations]
    report = SynthReport(as_of=as_of, months=months, seed=seed, observation_dates=observations)
    dates = _Dates()
    with transaction.atomic():
        report.deleted = _delete_synthetic()
        rows, report.skipped = _load_firms(enterprise_ids, window)
        report.firms = len(rows)
        loads = {
            feed: FeedLoad.objects.create(
                feed=feed, source=SOURCE, channel=CHANNEL, is_synthetic=True, file_name=f"合成数据 seed={seed}"
            )
            for feed, _model in FEED_MODELS
        }
        inserters = {
            Feed.OUTCOMES: _Inserter(Outcome, ["enterprise", "load", "observed_on", "defaulted"]),
            Feed.TAX: _Inserter(TaxRecord, ["enterprise", "load", "year", "grade", "tax_paid"]),
            Feed.HEADCOUNT: _Inserter(HeadcountRecord, ["enterprise", "load", "month", "headcount"]),
            Feed.UTILITIES: _Inserter(UtilityRecord, ["enterprise", "load", "month", "water_m3", "electricity_kwh"]),
            Feed.REPAYMENTS: _Inserter(
                RepaymentRecord,
                ["enterprise", "loan", "load", "due_on", "paid_on", "amount", "overdue_days", "retain_until"],
            ),
            Feed.COURT: _Inserter(
                CourtRecord,
                [
                    "enterprise",
                    "load",
                    "kind",
                    "case_no",
                    "court",
                    "filed_on",
                    "amount",
                    "listed_on",
                    "delisted_on",
                    "closed_on",
                    "retain_until",
                ],
            ),
            Feed.PENALTIES: _Inserter(
                PenaltyRecord,
                [
                    "enterprise",
                    "load",
                    "authority",
                    "decision_no",
                    "severity",
                    "decided_on",
                    "amount",
                    "reason",
                    "disclosed_until",
                ],
            ),
            Feed.HONOURS: _Inserter(HonourRecord, ["enterprise", "load", "kind", "name", "granted_on", "expires_on"]),
        }
        loan_count = 0
        seq = [0]
        ids = {feed: load.pk for feed, load in loads.items()}
        for number, begin in enumerate(range(0, len(rows), CHUNK)):
            firms = _firms_of(rows[begin : begin + CHUNK], window)
            chunk = _Chunk(firms, window, np.random.default_rng([seed, number]), dates, seq)
            outcome_rows, defaults = chunk.outcomes(ids[Feed.OUTCOMES])
            inserters[Feed.OUTCOMES].insert(outcome_rows)
            report.outcomes += len(outcome_rows)
            report.defaults += defaults
            risk = chunk.risk(chunk.t)
            inserters[Feed.TAX].insert(chunk.tax(ids[Feed.TAX]))
            inserters[Feed.HEADCOUNT].insert(chunk.headcount(ids[Feed.HEADCOUNT], risk))
            inserters[Feed.UTILITIES].insert(chunk.utilities(ids[Feed.UTILITIES], risk))
            loans, instalments = chunk.loans(risk)
            created = LoanRecord.objects.bulk_create(
                [LoanRecord(load_id=ids[Feed.LOANS], **loan) for loan in loans], batch_size=BATCH
            )
            loan_count += len(created)
            loan_ids = [loan.pk for loan in created]
            if any(pk is None for pk in loan_ids):  # a backend that cannot return the new keys
                by_contract = dict(LoanRecord.objects.filter(load_id=ids[Feed.LOANS]).values_list("contract_no", "pk"))
                loan_ids = [by_contract[loan["contract_no"]] for loan in loans]
            inserters[Feed.REPAYMENTS].insert(chunk.repayments(ids[Feed.REPAYMENTS], loan_ids, instalments))
            inserters[Feed.COURT].insert(chunk.court(ids[Feed.COURT], risk))
            inserters[Feed.PENALTIES].insert(chunk.penalties(ids[Feed.PENALTIES], risk))
            inserters[Feed.HONOURS].insert(chunk.honours(ids[Feed.HONOURS]))
            if progress is not None:
                progress(min(begin + CHUNK, len(rows)), len(rows))
        counts = {feed: inserter.count for feed, inserter in inserters.items()}
        counts[Feed.LOANS] = loan_count
        for feed, load in loads.items():
            load.rows = counts[feed]
            load.save(update_fields=["rows"])
        report.rows = {str(feed): counts[feed] for feed, _model in FEED_MODELS}
    report.seconds = time.perf_counter() - started
    return report


def synth_demo(
    *,
    as_of: dt.date | None = None,
    seed: int = 2019,
    months: int = 36,
    demo_only: bool = True,
    stdout: TextIO | None = None,
    if_absent: bool = False,
) -> dict[str, Any]:
    """The credit demo: synthetic feeds for every demo firm (every firm without real feed data when
    not `demo_only`), a model trained on them and activated, and scoring runs at the last five
    month-ends and at `as_of` (today), oldest first, so the score trend and the PSI series have history.

    With `if_absent`, nothing is done when synthetic data is already loaded (so `zhiyuan demo` stays
    idempotent). Returns a summary: firms, rows, outcomes, bad rate, model version and CV AUC, runs."""
    from zhiyuan.core.errors import ValidationFailed
    from zhiyuan.credit import scoring

    as_of = as_of or timezone.localdate()
    summary: dict[str, Any] = {"loaded": False, "firms": 0, "model": None, "runs": []}
    if if_absent and FeedLoad.objects.filter(is_synthetic=True).exists():
        return summary

    def say(text: str) -> None:
        if stdout is not None:
            stdout.write(text + "\n")

    ids = None
    if demo_only:
        ids = list(Enterprise.objects.filter(is_demo=True).order_by("pk").values_list("pk", flat=True))
        if not ids:
            return summary

    def chunk_done(done: int, total: int) -> None:
        say(_("Synthetic credit feeds: %(done)s of %(total)s firms") % {"done": done, "total": total})

    report = synth_feeds(enterprise_ids=ids, as_of=as_of, months=months, seed=seed, progress=chunk_done)
    if not report.firms:
        return summary
    summary.update(loaded=True, firms=report.firms, skipped=report.skipped, rows=report.total_rows)
    summary.update(outcomes=report.outcomes, bad_rate=report.bad_rate)
    say(
        _("Synthetic credit feeds: %(rows)s records for %(firms)s firms, bad rate %(rate).1f%%")
        % {"rows": report.total_rows, "firms": report.firms, "rate": report.bad_rate * 100}
    )
    try:
        model = scoring.model_train(actor=None, synthetic=True, activate=True, note="合成数据演示模型")
    except ValidationFailed as error:
        summary["error"] = str(error.message)
        say(_("No credit model trained: %(reason)s") % {"reason": error.message})
        return summary
    summary["model"] = model.version
    summary["auc"] = round(model.auc, 4)
    say(_("Credit model v%(version)s trained: CV AUC %(auc).3f") % {"version": model.version, "auc": model.auc})
    for day in [*previous_month_ends(as_of, 5), as_of]:
        run = scoring.scoring_run_create(actor=None, as_of=day, model=model)
        summary["runs"].append({"as_of": day.isoformat(), "firms": run.firms, "psi": run.psi_score})
        say(_("Credit scoring as of %(date)s: %(firms)s firms") % {"date": day, "firms": run.firms})
    return summary
