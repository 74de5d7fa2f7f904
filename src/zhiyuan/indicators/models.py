"""Economic indicators (经济指标): their definitions, the figures reported for each period (monthly or
quarterly, year-to-date 累计 or a level such as a rate), and the yearly targets they are measured
against. Year-on-year growth (同比) and target progress are computed on read (`figures`, `selectors`).
"""

import calendar
import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PeriodType(models.TextChoices):
    MONTH = "month", _("Monthly")
    QUARTER = "quarter", _("Quarterly")
    YEAR = "year", _("Yearly")


PERIODS_PER_YEAR = {PeriodType.MONTH: 12, PeriodType.QUARTER: 4, PeriodType.YEAR: 1}


class Group(models.TextChoices):
    ECONOMY = "economy", _("Overall economy")
    INDUSTRY = "industry", _("Industrial economy")
    INVESTMENT = "investment", _("Investment")
    CONSUMPTION = "consumption", _("Consumption")
    FISCAL = "fiscal", _("Public finance")
    SOCIAL = "social", _("Employment and livelihood")
    DEVELOPMENT = "development", _("Land and construction")


class Indicator(models.Model):
    """An indicator the district reports, e.g. 地区生产总值 (亿元, quarterly, cumulative).

    `cumulative`: a period's value is the total since the start of the year (累计), so the share of the
    annual target reached is compared with the share of the year elapsed; otherwise a value is a level
    (a rate, a balance) compared with the target directly. `higher_is_better` turns the comparisons
    round for indicators such as the unemployment rate. `growth_from_source`: the growth published by
    the statistics bureau (at comparable prices) is shown where given, rather than the nominal growth
    computed from the values. `aliases` are other names the bureau's sheets use, one per line."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    aliases = models.TextField(_("other names"), blank=True, help_text=_("One per line, as they appear in sheets."))
    unit = models.CharField(_("unit"), max_length=20)
    period_type = models.CharField(_("period"), max_length=10, choices=PeriodType.choices, default=PeriodType.MONTH)
    cumulative = models.BooleanField(_("cumulative (累计)"), default=True)
    higher_is_better = models.BooleanField(_("higher is better"), default=True)
    growth_from_source = models.BooleanField(
        _("use the published growth"),
        default=False,
        help_text=_("Show the growth rate published by the statistics bureau (e.g. at comparable prices) where given."),
    )
    decimals = models.PositiveSmallIntegerField(_("decimal places"), default=2)
    group = models.CharField(_("group"), max_length=20, choices=Group.choices, default=Group.ECONOMY)
    on_cockpit = models.BooleanField(_("on the cockpit"), default=True)
    sequence = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    is_demo = models.BooleanField(_("demo data"), default=False)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["sequence", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def periods_per_year(self) -> int:
        return PERIODS_PER_YEAR[PeriodType(self.period_type)]

    @property
    def is_rate(self) -> bool:
        """A level measured in per cent (a rate): its 同比 is a change in percentage points."""
        return not self.cumulative and self.unit.strip() in ("%", "‰", "％")

    def alias_list(self) -> list[str]:
        return [line.strip() for line in self.aliases.splitlines() if line.strip()]


def period_end(period_type: str, year: int, period: int) -> dt.date:
    """The last day of a period: month `period`, quarter `period`, or the year (period 1)."""
    month = {PeriodType.MONTH: period, PeriodType.QUARTER: 3 * period, PeriodType.YEAR: 12}[PeriodType(period_type)]
    return dt.date(year, month, calendar.monthrange(year, month)[1])


class IndicatorValue(models.Model):
    """One period's figure of one indicator. `value` is the headline figure: the year-to-date total
    (累计) for a cumulative indicator, the period's level otherwise. `period_value` is the period's
    own figure (本月/本季) where the source gives it; `source_growth` the 同比 growth in per cent as
    published. `period` is the month (1–12), the quarter (1–4) or 1 for a yearly indicator."""

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicator"), on_delete=models.PROTECT, related_name="values"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    period = models.PositiveSmallIntegerField(_("period"))
    value = models.DecimalField(_("value"), max_digits=18, decimal_places=4)
    period_value = models.DecimalField(_("this period"), max_digits=18, decimal_places=4, null=True, blank=True)
    source_growth = models.DecimalField(
        _("published growth (%)"), max_digits=9, decimal_places=2, null=True, blank=True
    )
    source = models.CharField(_("source"), max_length=200, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("entered by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    entered_at = models.DateTimeField(_("entered at"), auto_now=True)
    is_demo = models.BooleanField(_("demo data"), default=False)

    class Meta:
        verbose_name = _("indicator value")
        verbose_name_plural = _("indicator values")
        ordering = ["indicator", "year", "period"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "year", "period"], name="indicators_value_unique_period"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {self.year}/{self.period}: {self.value}"

    @property
    def period_end(self) -> dt.date:
        return period_end(self.indicator.period_type, self.year, self.period)


class Target(models.Model):
    """An indicator's target for a year: a value (e.g. 86.6 亿元), a growth rate in per cent over last
    year (e.g. +20%), or both; with a growth rate only, the value is implied from last year's result."""

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicator"), on_delete=models.PROTECT, related_name="targets"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    value = models.DecimalField(_("target value"), max_digits=18, decimal_places=4, null=True, blank=True)
    growth = models.DecimalField(_("target growth (%)"), max_digits=9, decimal_places=2, null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("set by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    set_at = models.DateTimeField(_("set at"), auto_now=True)
    is_demo = models.BooleanField(_("demo data"), default=False)

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["indicator", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "year"], name="indicators_target_unique_year"),
            models.CheckConstraint(
                condition=models.Q(value__isnull=False) | models.Q(growth__isnull=False),
                name="indicators_target_value_or_growth",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {self.year}"
