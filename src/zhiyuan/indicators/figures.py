"""The arithmetic of indicators, without the database: year-on-year growth (同比), the target a
growth rate implies, the share of the target reached against the share of the year elapsed, and the
status colour that follows. `selectors` feeds these with stored values; tests call them directly.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

HUNDRED = Decimal(100)


class Status(models.TextChoices):
    """How an indicator stands against its target (the card's colour)."""

    GOOD = "good", _("On track")
    WATCH = "watch", _("Slightly behind")
    BAD = "bad", _("Behind")
    NONE = "none", _("No target")


class GrowthBasis(models.TextChoices):
    COMPUTED = "computed", _("Computed from last year")
    SOURCE = "source", _("As published")


def growth(value: Decimal | None, prior: Decimal | None) -> Decimal | None:
    """Growth in per cent over the same period last year; None without a positive prior value."""
    if value is None or prior is None or prior <= 0:
        return None
    return (Decimal(value) / Decimal(prior) - 1) * HUNDRED


def change(value: Decimal | None, prior: Decimal | None, *, in_points: bool) -> Decimal | None:
    """同比 for an indicator: growth in per cent, or for a rate (unemployment 4.15% against 4.08%) the
    change in percentage points (+0.07), as the statistics bureau writes it."""
    if not in_points:
        return growth(value, prior)
    if value is None or prior is None:
        return None
    return Decimal(value) - Decimal(prior)


def choose_growth(
    *, computed: Decimal | None, published: Decimal | None, prefer_published: bool
) -> tuple[Decimal | None, str | None]:
    """The growth to show and its basis: the computed one where last year is known, the published one
    where it is not (or where the indicator prefers the published, comparable-price figure)."""
    if published is not None and (prefer_published or computed is None):
        return published, GrowthBasis.SOURCE
    if computed is not None:
        return computed, GrowthBasis.COMPUTED
    return None, None


def implied_target(*, value: Decimal | None, growth_rate: Decimal | None, last_year: Decimal | None) -> Decimal | None:
    """The target value: the one set, or last year's result grown by the target rate."""
    if value is not None:
        return Decimal(value)
    if growth_rate is not None and last_year is not None:
        return Decimal(last_year) * (1 + Decimal(growth_rate) / HUNDRED)
    return None


def elapsed_share(period: int, periods_per_year: int) -> Decimal:
    """The share of the year a period closes: June → 6/12, the second quarter → 2/4."""
    return Decimal(period) / Decimal(periods_per_year)


@dataclass(frozen=True)
class Progress:
    """A figure against its target: `reached` is value / target (None without a target value),
    `elapsed` the share of the year the period closes, `status` the resulting colour."""

    target: Decimal | None
    reached: Decimal | None
    elapsed: Decimal
    status: str


def progress(
    *,
    value: Decimal | None,
    cumulative: bool,
    higher_is_better: bool,
    target: Decimal | None,
    target_growth: Decimal | None,
    growth_now: Decimal | None,
    elapsed: Decimal,
    watch_points: Decimal,
) -> Progress:
    """Where a figure stands against its target.

    Cumulative indicators compare the share of the annual target reached with the share of the year
    elapsed: on track at or ahead of time, slightly behind within `watch_points` percentage points,
    behind beyond. Levels (rates, balances) compare the value with the target itself, within
    `watch_points` per cent of it. Without a target value, a growth target is compared with the
    growth achieved, within `watch_points` / 5 percentage points. `higher_is_better=False` turns
    every comparison round."""
    margin = Decimal(watch_points) / HUNDRED
    if value is not None and target:
        reached = Decimal(value) / Decimal(target)
        if cumulative:
            gap = (reached - elapsed) if higher_is_better else (elapsed - reached)
        else:
            gap = (reached - 1) if higher_is_better else (1 - reached)
        return Progress(target=Decimal(target), reached=reached, elapsed=elapsed, status=_status(gap, margin))
    if target_growth is not None and growth_now is not None:
        gap = (growth_now - target_growth) if higher_is_better else (target_growth - growth_now)
        return Progress(target=None, reached=None, elapsed=elapsed, status=_status(gap / HUNDRED, margin / 5))
    return Progress(target=target, reached=None, elapsed=elapsed, status=Status.NONE)


def _status(gap: Decimal, margin: Decimal) -> str:
    if gap >= 0:
        return Status.GOOD
    if gap >= -margin:
        return Status.WATCH
    return Status.BAD
