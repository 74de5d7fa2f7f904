"""Indicator writes: who may write, indicator definitions (code, names and other names, period type),
values (the period must exist and have ended, numbers in the forms people type them, growth above
−100 %, corrections update in place) and targets; every write audited, nothing written on bad input."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone, translation

from zhiyuan.core.errors import PermissionDeniedError, ValidationFailed
from zhiyuan.core.models import AuditEntry
from zhiyuan.indicators import services
from zhiyuan.indicators.models import Indicator, IndicatorValue, PeriodType, Target

D = dt.date
M = Decimal
TODAY = D(2019, 7, 10)

GDP = {
    "code": "gdp",
    "name": "地区生产总值",
    "aliases": "地区生产总值(GDP)\nGDP",
    "unit": "亿元",
    "period_type": PeriodType.QUARTER,
    "cumulative": True,
    "higher_is_better": True,
}


def audits(obj, action=None):
    entries = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
    )
    return entries.filter(action=action) if action else entries


@pytest.fixture
def officer(personas):
    return personas["statistics"]


@pytest.fixture
def defined_gdp(officer):
    return services.indicator_create(actor=officer, data=GDP)


@pytest.fixture
def defined_output(officer):
    """规模工业增加值: monthly, cumulative."""
    return services.indicator_create(
        actor=officer, data={"code": "industry", "name": "规模工业增加值", "unit": "亿元", "period_type": "month"}
    )


def row_counts() -> tuple[int, int, int, int]:
    return tuple(model.objects.count() for model in (Indicator, IndicatorValue, Target, AuditEntry))


def record(actor, indicator, year=2019, period=6, today=TODAY, **data):
    data.setdefault("value", "29.7")
    return services.value_record(actor=actor, indicator=indicator, year=year, period=period, data=data, today=today)


# -- permissions -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["statistics", "admin"])
def test_statistics_officers_and_administrators_write(personas, role):
    actor = personas[role]
    indicator = services.indicator_create(actor=actor, data=GDP)
    services.indicator_update(actor=actor, indicator=indicator, data={"unit": "亿元", "sequence": 3})
    value = record(actor, indicator, period=2)
    target = services.target_set(actor=actor, indicator=indicator, year=2019, data={"growth": "8"})
    services.value_delete(actor=actor, value=value)
    services.target_delete(actor=actor, target=target)
    assert not IndicatorValue.objects.exists() and not Target.objects.exists()


@pytest.mark.parametrize("role", ["leader", "investment", "service_staff", "firm_a", "bank", "city"])
def test_everyone_else_is_refused(personas, defined_gdp, role):
    actor = personas[role]
    value = record(personas["statistics"], defined_gdp, period=2)
    target = services.target_set(actor=personas["statistics"], indicator=defined_gdp, year=2019, data={"value": "230"})
    before = row_counts()
    calls = [
        lambda: services.indicator_create(actor=actor, data={**GDP, "code": "gdp2", "name": "GDP2", "aliases": ""}),
        lambda: services.indicator_update(actor=actor, indicator=defined_gdp, data={"unit": "万元"}),
        lambda: record(actor, defined_gdp, period=1),
        lambda: services.value_delete(actor=actor, value=value),
        lambda: services.target_set(actor=actor, indicator=defined_gdp, year=2020, data={"growth": "8"}),
        lambda: services.target_delete(actor=actor, target=target),
        lambda: services.values_import(actor=actor, file=b"not read", dry_run=True),
    ]
    for call in calls:
        with pytest.raises(PermissionDeniedError):
            call()
    assert row_counts() == before
    defined_gdp.refresh_from_db()
    assert defined_gdp.unit == "亿元"


def test_anonymous_is_refused(db):
    with pytest.raises(PermissionDeniedError):
        services.indicator_create(actor=None, data=GDP)


# -- definitions -----------------------------------------------------------------------------------------


def test_indicator_create_is_audited(officer):
    indicator = services.indicator_create(actor=officer, data={**GDP, "aliases": "  地区生产总值(GDP) \n\n GDP  "})
    assert (indicator.code, indicator.name, indicator.unit, indicator.period_type) == (
        "gdp", "地区生产总值", "亿元", PeriodType.QUARTER
    )
    assert indicator.alias_list() == ["地区生产总值(GDP)", "GDP"]
    entry = audits(indicator, "indicators.indicator.created").get()
    assert entry.actor == officer
    assert entry.changes["name"][1] == "地区生产总值"


@pytest.mark.parametrize(
    "code",
    ["GDP", "gdp total", "地区生产总值", "-gdp", "g" * 41, "gdp.q", ""],
)
def test_indicator_code_format(officer, code):
    with pytest.raises(ValidationFailed) as error:
        services.indicator_create(actor=officer, data={**GDP, "code": code})
    assert "code" in error.value.fields
    assert not Indicator.objects.exists()


@pytest.mark.parametrize("code", ["gdp", "g", "gdp_2019", "tax-revenue", "9a", "g" * 40])
def test_good_codes(officer, code):
    assert services.indicator_create(actor=officer, data={**GDP, "code": code}).code == code


def test_name_and_unit_are_required(officer):
    with pytest.raises(ValidationFailed) as error:
        services.indicator_create(actor=officer, data={"code": "x", "name": "  ", "period_type": "month"})
    assert {"name", "unit"} <= set(error.value.fields)
    assert not Indicator.objects.exists()


@pytest.mark.parametrize(("field", "value"), [("period_type", "week"), ("group", "weather")])
def test_choices_are_checked(officer, field, value):
    with pytest.raises(ValidationFailed) as error:
        services.indicator_create(actor=officer, data={**GDP, field: value})
    assert field in error.value.fields


def test_duplicate_code(officer, defined_gdp):
    with pytest.raises(ValidationFailed) as error:
        services.indicator_create(actor=officer, data={**GDP, "name": "另一个", "aliases": ""})
    assert list(error.value.fields) == ["code"]
    assert Indicator.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "地区生产总值"}, "name"),  # another's name
        ({"name": "地区生产总值（GDP）"}, "name"),  # another's other name, full-width brackets
        ({"name": "gdp"}, "name"),  # another's other name, other case
        ({"name": "国内生产总值", "aliases": "地区 生产总值"}, "aliases"),  # an other name clashing with a name
        ({"name": "国内生产总值", "aliases": "新名字\nGDP"}, "aliases"),  # with another's other name
    ],
)
def test_names_and_other_names_are_unique_across_indicators(officer, defined_gdp, data, field):
    with pytest.raises(ValidationFailed) as error:
        services.indicator_create(actor=officer, data={"code": "other", "unit": "亿元", **data})
    assert field in error.value.fields
    with translation.override("en"):
        assert "地区生产总值" in str(error.value.fields[field][0])  # names the indicator it clashes with
    assert Indicator.objects.count() == 1


def test_an_indicator_may_keep_its_own_names(officer, defined_gdp):
    updated = services.indicator_update(
        actor=officer, indicator=defined_gdp, data={"name": "地区生产总值", "aliases": "GDP\n地区生产总值(GDP)"}
    )
    assert updated.alias_list() == ["GDP", "地区生产总值(GDP)"]


def test_indicator_update_is_audited_with_the_change(officer, defined_gdp):
    updated = services.indicator_update(actor=officer, indicator=defined_gdp, data={"unit": "万元", "decimals": 1})
    assert (updated.unit, updated.decimals) == ("万元", 1)
    entry = audits(defined_gdp, "indicators.indicator.updated").get()
    assert entry.changes["unit"] == ["亿元", "万元"]
    # nothing changed → nothing audited
    services.indicator_update(actor=officer, indicator=updated, data={"unit": "万元"})
    assert audits(defined_gdp, "indicators.indicator.updated").count() == 1


def test_update_refuses_a_name_clash(officer, defined_gdp, defined_output):
    with pytest.raises(ValidationFailed) as error:
        services.indicator_update(actor=officer, indicator=defined_output, data={"aliases": "GDP"})
    assert "aliases" in error.value.fields
    defined_output.refresh_from_db()
    assert defined_output.aliases == ""


def test_period_type_changes_until_values_exist(officer, defined_gdp):
    changed = services.indicator_update(actor=officer, indicator=defined_gdp, data={"period_type": "month"})
    assert changed.period_type == PeriodType.MONTH
    record(officer, changed, period=5)
    with pytest.raises(ValidationFailed) as error:
        services.indicator_update(actor=officer, indicator=changed, data={"period_type": "quarter"})
    assert list(error.value.fields) == ["period_type"]
    changed.refresh_from_db()
    assert changed.period_type == PeriodType.MONTH
    # other changes are still allowed
    assert services.indicator_update(actor=officer, indicator=changed, data={"period_type": "month", "sequence": 2})


# -- values ----------------------------------------------------------------------------------------------


def test_value_record_is_stored_and_audited(officer, defined_output):
    value = record(officer, defined_output, value="29.7", period_value="4.95", source_growth="8.3%",
                   source="统计局月报", note="初步数")
    value.refresh_from_db()
    assert (value.year, value.period, value.value, value.period_value, value.source_growth) == (
        2019, 6, M("29.7"), M("4.95"), M("8.3")
    )
    assert (value.source, value.note, value.entered_by) == ("统计局月报", "初步数", officer)
    entry = audits(value, "indicators.value.recorded").get()
    assert entry.actor == officer and entry.changes["value"][1] is not None


def test_a_second_entry_for_the_period_updates_it(officer, defined_output):
    first = record(officer, defined_output, value="29.7")
    second = record(officer, defined_output, value="30.1", source_growth="9")
    assert first.pk == second.pk
    assert IndicatorValue.objects.count() == 1
    second.refresh_from_db()
    assert (second.value, second.source_growth) == (M("30.1"), M("9"))
    assert audits(second, "indicators.value.recorded").count() == 1
    update = audits(second, "indicators.value.updated").get()
    assert set(update.changes) == {"value", "source_growth"}
    # the same figures again change nothing and add no entry
    record(officer, defined_output, value="30.1", source_growth="9")
    assert audits(second).count() == 2


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1,234.5", M("1234.5")),
        ("１２３４.５", M("1234.5")),  # full-width digits
        ("１，２３４．５", M("1234.5")),  # full-width comma and point
        (" 29.7 ", M("29.7")),
        (42, M("42")),
        (29.7, M("29.7")),
        (M("0"), M("0")),
        ("-3.5", M("-3.5")),  # a loss, a fall
    ],
)
def test_numbers_as_people_type_them(officer, defined_output, raw, expected):
    assert record(officer, defined_output, value=raw).value == expected


@pytest.mark.parametrize("raw", ["abc", True, False, "12亿", "1.2.3", "NaN", "Infinity", "1e20", [1]])
def test_a_value_that_is_not_a_number(officer, defined_output, raw):
    count = IndicatorValue.objects.count()
    with pytest.raises(ValidationFailed) as error:
        record(officer, defined_output, value=raw)
    assert "value" in error.value.fields
    assert IndicatorValue.objects.count() == count
    assert not AuditEntry.objects.filter(action__startswith="indicators.value").exists()


@pytest.mark.parametrize("raw", [None, "", "  ", "-"])
def test_a_value_is_required(officer, defined_output, raw):
    with pytest.raises(ValidationFailed) as error:
        record(officer, defined_output, value=raw)
    assert list(error.value.fields) == ["value"]
    assert not IndicatorValue.objects.exists()


def test_non_numeric_error_names_the_value_in_english(officer, defined_output):
    with translation.override("en"), pytest.raises(ValidationFailed) as error:
        record(officer, defined_output, value="abc")
    assert str(error.value.fields["value"][0]) == "Value must be a number, not “abc”."


@pytest.mark.parametrize(
    ("indicator_fixture", "year", "period"),
    [
        ("defined_output", 2019, 13),
        ("defined_output", 2019, 0),
        ("defined_output", 2019, -1),
        ("defined_output", 2019, "six"),
        ("defined_output", 2019, None),
        ("defined_gdp", 2019, 5),
        ("defined_gdp", 2019, 0),
        ("defined_output", 1999, 6),
        ("defined_output", "x", 6),
    ],
)
def test_an_undefined_period(request, officer, indicator_fixture, year, period):
    indicator = request.getfixturevalue(indicator_fixture)
    with pytest.raises(ValidationFailed) as error:
        record(officer, indicator, year=year, period=period)
    assert set(error.value.fields) <= {"year", "period"} and error.value.fields
    assert not IndicatorValue.objects.exists()


def test_a_yearly_indicator_has_one_period(officer):
    tax = services.indicator_create(
        actor=officer, data={"code": "tax", "name": "税收收入", "unit": "亿元", "period_type": "year"}
    )
    assert record(officer, tax, year=2018, period=1, value="7.97").period == 1
    with pytest.raises(ValidationFailed):
        record(officer, tax, year=2018, period=2)


@pytest.mark.parametrize(
    ("indicator_fixture", "year", "period", "today", "ok"),
    [
        ("defined_output", 2019, 6, D(2019, 7, 1), True),  # the day after the month ends
        ("defined_output", 2019, 6, D(2019, 6, 30), False),  # its last day: not known yet
        ("defined_output", 2019, 7, D(2019, 7, 10), False),  # July has not ended
        ("defined_output", 2020, 1, D(2019, 7, 10), False),
        ("defined_gdp", 2019, 2, D(2019, 7, 10), True),
        ("defined_gdp", 2019, 3, D(2019, 7, 10), False),  # the third quarter ends on 30 September
        ("defined_gdp", 2019, 3, D(2019, 9, 30), False),
        ("defined_gdp", 2019, 3, D(2019, 10, 1), True),
    ],
)
def test_a_future_period(request, officer, indicator_fixture, year, period, today, ok):
    indicator = request.getfixturevalue(indicator_fixture)
    if ok:
        assert record(officer, indicator, year=year, period=period, today=today).period == period
        return
    with pytest.raises(ValidationFailed) as error:
        record(officer, indicator, year=year, period=period, today=today)
    assert list(error.value.fields) == ["period"]
    assert not IndicatorValue.objects.exists()


def test_the_future_is_judged_against_today_by_default(officer, defined_output):
    today = timezone.localdate()
    with pytest.raises(ValidationFailed):
        services.value_record(actor=officer, indicator=defined_output, year=today.year + 1, period=today.month,
                              data={"value": "1"})
    if today.month < 12:
        with pytest.raises(ValidationFailed):
            services.value_record(actor=officer, indicator=defined_output, year=today.year, period=today.month + 1,
                                  data={"value": "1"})
    last = today.replace(day=1) - dt.timedelta(days=1)
    services.value_record(actor=officer, indicator=defined_output, year=last.year, period=last.month,
                          data={"value": "1"})


@pytest.mark.parametrize(("growth", "ok"), [("-100", False), ("-150", False), ("-100%", False), ("-99.9", True),
                                              ("250", True), ("0", True)])
def test_published_growth_must_be_above_minus_100(officer, defined_output, growth, ok):
    if ok:
        assert record(officer, defined_output, source_growth=growth).source_growth == M(growth)
        return
    with pytest.raises(ValidationFailed) as error:
        record(officer, defined_output, source_growth=growth)
    assert list(error.value.fields) == ["source_growth"]
    assert not IndicatorValue.objects.exists()


def test_every_bad_field_is_reported_at_once(officer, defined_output):
    with pytest.raises(ValidationFailed) as error:
        record(officer, defined_output, value="abc", period_value="x", source_growth="-120")
    assert set(error.value.fields) == {"value", "period_value", "source_growth"}


def test_a_bad_correction_leaves_the_stored_value(officer, defined_output):
    stored = record(officer, defined_output, value="29.7")
    audit_count = AuditEntry.objects.count()
    with pytest.raises(ValidationFailed):
        record(officer, defined_output, value="abc")
    stored.refresh_from_db()
    assert stored.value == M("29.7")
    assert (IndicatorValue.objects.count(), AuditEntry.objects.count()) == (1, audit_count)


def test_value_delete_is_audited_with_what_it_was(officer, defined_output):
    value = record(officer, defined_output, value="29.7")
    pk = value.pk
    services.value_delete(actor=officer, value=value)
    assert not IndicatorValue.objects.filter(pk=pk).exists()
    entry = AuditEntry.objects.get(action="indicators.value.deleted", object_id=str(pk))
    assert entry.changes["value"][0] is not None and entry.changes["value"][1] is None
    assert entry.actor == officer


# -- targets -----------------------------------------------------------------------------------------------


def test_target_set_value_growth_or_both(officer, defined_gdp, defined_output):
    a = services.target_set(actor=officer, indicator=defined_gdp, year=2019, data={"value": "236.95"})
    b = services.target_set(actor=officer, indicator=defined_output, year=2019, data={"growth": "8%"})
    assert (a.value, a.growth, b.value, b.growth) == (M("236.95"), None, None, M("8"))
    c = services.target_set(actor=officer, indicator=defined_output, year=2020,
                            data={"value": "1,000", "growth": "+10", "note": "区政府工作报告"})
    assert (c.value, c.growth, c.note, c.set_by) == (M("1000"), M("10"), "区政府工作报告", officer)
    assert audits(c, "indicators.target.set").count() == 1


@pytest.mark.parametrize("data", [{}, {"value": "", "growth": None}, {"value": " ", "growth": "-"}, {"note": "x"}])
def test_target_needs_a_value_or_a_growth(officer, defined_gdp, data):
    with pytest.raises(ValidationFailed) as error:
        services.target_set(actor=officer, indicator=defined_gdp, year=2019, data=data)
    assert list(error.value.fields) == ["value"]
    assert not Target.objects.exists()


@pytest.mark.parametrize(("growth", "ok"), [("-100", False), ("-100.5", False), ("-99.9", True), ("-0.5", True)])
def test_target_growth_must_be_above_minus_100(officer, defined_gdp, growth, ok):
    if ok:
        assert services.target_set(actor=officer, indicator=defined_gdp, year=2019,
                                   data={"growth": growth}).growth == M(growth)
        return
    with pytest.raises(ValidationFailed) as error:
        services.target_set(actor=officer, indicator=defined_gdp, year=2019, data={"growth": growth})
    assert list(error.value.fields) == ["growth"]
    assert not Target.objects.exists()
    assert not AuditEntry.objects.filter(action="indicators.target.set").exists()


@pytest.mark.parametrize(
    ("year", "data", "field"),
    [
        ("twenty", {"value": "1"}, "year"),
        (1999, {"value": "1"}, "year"),
        (2101, {"value": "1"}, "year"),
        (2019, {"value": "abc"}, "value"),
        (2019, {"value": True}, "value"),
        (2019, {"growth": "eight"}, "growth"),
    ],
)
def test_target_bad_input(officer, defined_gdp, year, data, field):
    with pytest.raises(ValidationFailed) as error:
        services.target_set(actor=officer, indicator=defined_gdp, year=year, data=data)
    assert field in error.value.fields
    assert not Target.objects.exists()


def test_target_set_twice_updates_the_years_target(officer, defined_gdp):
    first = services.target_set(actor=officer, indicator=defined_gdp, year=2019, data={"growth": "8"})
    second = services.target_set(actor=officer, indicator=defined_gdp, year=2019, data={"value": "236.95"})
    assert first.pk == second.pk and Target.objects.count() == 1
    second.refresh_from_db()
    assert (second.value, second.growth) == (M("236.95"), None)  # the form sets both: the growth is cleared
    entries = audits(second, "indicators.target.set").order_by("id")
    assert entries.count() == 2
    assert set(entries.last().changes) == {"value", "growth"}
    services.target_set(actor=officer, indicator=defined_gdp, year=2020, data={"growth": "7.5"})
    assert Target.objects.count() == 2


def test_target_delete_is_audited(officer, defined_gdp):
    target = services.target_set(actor=officer, indicator=defined_gdp, year=2019, data={"growth": "8"})
    pk = target.pk
    services.target_delete(actor=officer, target=target)
    assert not Target.objects.exists()
    entry = AuditEntry.objects.get(action="indicators.target.deleted", object_id=str(pk))
    assert entry.changes["growth"][1] is None and entry.changes["growth"][0] is not None


# -- parse_number and check_period on their own ------------------------------------------------------------


def test_parse_number_percent_only_where_allowed():
    assert services.parse_number("8.5%", label="g", field_name="g", percent=True) == M("8.5")
    with pytest.raises(ValidationFailed):
        services.parse_number("8.5%", label="v", field_name="v")
    assert services.parse_number("—", label="v", field_name="v") is None


def test_check_period_returns_integers(defined_output):
    assert services.check_period(defined_output, "2019", "6", today=TODAY) == (2019, 6)
