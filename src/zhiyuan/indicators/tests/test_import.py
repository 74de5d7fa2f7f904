"""Importing a month's sheet in the statistics bureau's layout: title rows naming the month above the
header 指标 | 单位 | 本月 | 累计 | 同比增长(%), section headings without numbers, the bureau's other names
for indicators. The dry run lists what would be written (and what it replaces) and writes nothing;
every bad row is reported by row and column, unknown names together; nothing is written while any
row is bad; otherwise every value is written in one go, each audited."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from openpyxl import Workbook, load_workbook

from zhiyuan.core.errors import PermissionDeniedError, ValidationFailed
from zhiyuan.core.models import AuditEntry
from zhiyuan.indicators import services
from zhiyuan.indicators.models import IndicatorValue

D = dt.date
M = Decimal
TODAY = D(2019, 7, 10)
TITLE = "荷塘区2019年1-6月主要经济指标"
HEADER = ["指标", "单位", "本月", "累计", "同比增长(%)"]

# The June 2019 sheet: rows 1–3 are titles and the header, the body starts on row 4.
JUNE = [
    ["一、工业", None, None, None, None],  # row 4
    ["规模工业增加值", "亿元", 4.95, 29.7, 8.3],  # row 5
    ["二、经济总量", None, None, None, None],  # row 6
    ["地区生产总值(GDP)", "亿元", None, 116, 7.6],  # row 7: quarterly; June closes the second quarter
    ["社会消费品零售总额", "亿元", "5.2", "31.0", "9.9"],  # row 8
    ["城镇登记失业率", "%", 4.2, None, None],  # row 9: a level
]


def sheet(rows, *, title=TITLE, header=HEADER, subtitle="填报单位：荷塘区统计局") -> bytes:
    """An .xlsx in the bureau's layout: a title row, an optional subtitle, the header, the rows."""
    workbook = Workbook()
    ws = workbook.active
    if title is not None:
        ws.append([title])
    if subtitle is not None:
        ws.append([subtitle])
    ws.append(header)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def officer(personas):
    return personas["statistics"]


@pytest.fixture
def bureau(gdp, industry_output, retail_sales, unemployment):
    """The four indicators the June sheet reports."""
    return {"gdp": gdp, "industry": industry_output, "retail": retail_sales, "unemployment": unemployment}


def run(officer, content, *, dry_run=False, today=TODAY, **kwargs):
    return services.values_import(actor=officer, file=content, dry_run=dry_run, today=today, **kwargs)


def stored():
    return {(v.indicator.code, v.year, v.period): v.value for v in IndicatorValue.objects.select_related("indicator")}


def error_at(report, row, column):
    found = [e for e in report.errors if (e.row, e.column) == (row, column)]
    assert found, [str(e) for e in report.errors]
    return found[0]


# -- the dry run -------------------------------------------------------------------------------------------


def test_dry_run_lists_the_rows_and_writes_nothing(officer, bureau, value_factory):
    value_factory(bureau["industry"], 2019, 6, "29.0")  # an earlier entry the sheet corrects
    audits = AuditEntry.objects.count()
    report = run(officer, sheet(JUNE), dry_run=True)
    assert report.ok and report.dry_run and not report.written
    assert (report.year, report.month) == (2019, 6)  # from the title
    assert report.skipped == [4, 6]  # the section headings
    planned = {(p.row, p.indicator.code, p.year, p.period): p for p in report.rows}
    assert set(planned) == {
        (5, "industry-value-added", 2019, 6),
        (7, "gdp", 2019, 2),
        (8, "retail-sales", 2019, 6),
        (9, "unemployment-rate", 2019, 6),
    }
    industry = planned[(5, "industry-value-added", 2019, 6)]
    assert industry.data == {"value": M("29.7"), "period_value": M("4.95"), "source_growth": M("8.3")}
    assert industry.previous == M("29.0")
    gdp = planned[(7, "gdp", 2019, 2)]
    assert gdp.data == {"value": M("116"), "period_value": None, "source_growth": M("7.6")}
    assert gdp.previous is None
    assert planned[(9, "unemployment-rate", 2019, 6)].data["value"] == M("4.2")
    assert (report.created, report.updated) == (3, 1)
    assert stored() == {("industry-value-added", 2019, 6): M("29.0")}
    assert AuditEntry.objects.count() == audits


def test_confirm_writes_every_value_in_one_go(officer, bureau, value_factory):
    value_factory(bureau["industry"], 2019, 6, "29.0")
    report = run(officer, sheet(JUNE), source="2019年6月统计月报")
    assert report.ok and report.written and not report.dry_run
    assert stored() == {
        ("industry-value-added", 2019, 6): M("29.7"),
        ("gdp", 2019, 2): M("116"),
        ("retail-sales", 2019, 6): M("31"),
        ("unemployment-rate", 2019, 6): M("4.2"),
    }
    industry = IndicatorValue.objects.get(indicator=bureau["industry"])
    assert (industry.period_value, industry.source_growth) == (M("4.95"), M("8.3"))
    assert industry.source == "2019年6月统计月报"
    assert industry.entered_by == officer
    assert AuditEntry.objects.filter(action="indicators.value.recorded").count() == 3
    assert AuditEntry.objects.filter(action="indicators.value.updated").count() == 1


def test_the_source_defaults_to_the_import(officer, bureau):
    with translation.override("en"):
        run(officer, sheet(JUNE))
    assert set(IndicatorValue.objects.values_list("source", flat=True)) == {"Excel import"}


def test_the_same_sheet_twice_updates_in_place(officer, bureau):
    run(officer, sheet(JUNE))
    again = run(officer, sheet(JUNE), dry_run=True)
    assert (again.created, again.updated) == (0, 4)
    assert {p.previous for p in again.rows} == {M("29.7"), M("116"), M("31"), M("4.2")}
    run(officer, sheet(JUNE))
    assert IndicatorValue.objects.count() == 4


def test_an_uploaded_file_is_read_like_bytes(officer, bureau):
    upload = SimpleUploadedFile("2019年6月.xlsx", sheet(JUNE))
    assert len(run(officer, upload, dry_run=True).rows) == 4


# -- the month ---------------------------------------------------------------------------------------------


def test_the_month_given_wins_over_the_title(officer, bureau):
    report = run(officer, sheet(JUNE, title="荷塘区2019年1-5月主要经济指标"), dry_run=True, year=2019, month=6)
    assert (report.year, report.month) == (2019, 6)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("荷塘区2019年1-6月主要经济指标", (2019, 6)),
        ("荷塘区2019年1—6月主要经济指标", (2019, 6)),
        ("荷塘区２０１９年１～６月主要经济指标", (2019, 6)),  # full width
        ("2019年6月荷塘区经济运行情况", (2019, 6)),
        ("荷塘区 2019 年 1-12 月主要经济指标", (2019, 12)),
        ("荷塘区2019年1月主要经济指标", (2019, 1)),
    ],
)
def test_the_month_from_the_title(officer, bureau, title, expected):
    report = run(officer, sheet(JUNE[:2], title=title), dry_run=True, today=D(2020, 1, 31))
    assert (report.year, report.month) == expected


def test_without_a_month_in_the_title_the_month_must_be_given(officer, bureau):
    with pytest.raises(ValidationFailed) as error:
        run(officer, sheet(JUNE, title="主要经济指标"), dry_run=True)
    assert list(error.value.fields) == ["month"]
    with pytest.raises(ValidationFailed) as error:
        run(officer, sheet(JUNE, title=None, subtitle=None))
    assert list(error.value.fields) == ["month"]
    assert not IndicatorValue.objects.exists()
    assert run(officer, sheet(JUNE, title=None, subtitle=None), dry_run=True, year=2019, month=6).ok


@pytest.mark.parametrize(
    ("today", "kwargs"),
    [
        (D(2019, 6, 29), {}),  # June, from the title, has not ended
        (D(2019, 7, 10), {"year": 2019, "month": 7}),
        (D(2019, 7, 10), {"year": 2020, "month": 1}),
    ],
)
def test_a_future_month(officer, bureau, today, kwargs):
    with pytest.raises(ValidationFailed) as error:
        run(officer, sheet(JUNE), today=today, **kwargs)
    assert list(error.value.fields) == ["month"]
    assert not IndicatorValue.objects.exists()


@pytest.mark.parametrize(("year", "month"), [(2019, 13), (2019, 0), (1999, 6), ("x", 6)])
def test_no_such_month(officer, bureau, year, month):
    with pytest.raises(ValidationFailed) as error:
        run(officer, sheet(JUNE), year=year, month=month)
    assert list(error.value.fields) == ["month"]


def test_a_month_is_read_from_the_day_after_it_ends(officer, bureau):
    # On 30 June the bureau cannot know June's figures yet; on 1 July it can.
    with pytest.raises(ValidationFailed):
        run(officer, sheet(JUNE), today=D(2019, 6, 30))
    assert not IndicatorValue.objects.exists()
    assert run(officer, sheet(JUNE), today=D(2019, 7, 1)).written


# -- bad rows: reported by row and column, nothing written ---------------------------------------------------


def test_unknown_names_are_listed_together_and_nothing_is_written(officer, bureau):
    rows = [*JUNE, ["高新技术产业增加值", "亿元", 7, 40, 20], ["工业用电量", "万千瓦时", 100, 600, 3]]
    with translation.override("en"):
        report = run(officer, sheet(rows))
        messages = [str(e) for e in report.errors]
    assert not report.written
    assert report.unknown_names == ["高新技术产业增加值", "工业用电量"]
    assert report.errors[0].row == 3  # on the header row, first
    assert "高新技术产业增加值" in messages[0] and "工业用电量" in messages[0]
    assert messages[0].startswith("Row 3, 指标: Unknown indicators:")
    assert error_at(report, 10, "指标") and error_at(report, 11, "指标")
    assert not IndicatorValue.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="indicators.value").exists()


def test_a_non_numeric_cell_names_its_row_and_column(officer, bureau):
    rows = [list(row) for row in JUNE]
    rows[1][3] = "29.7亿"  # row 5, 累计
    rows[4][4] = "n/a"  # row 8, 同比增长(%)
    with translation.override("en"):
        report = run(officer, sheet(rows))
        first = str(error_at(report, 5, "累计"))
    assert first == "Row 5, 累计: 累计 must be a number, not “29.7亿”."
    assert error_at(report, 8, "同比增长(%)")
    assert len(report.errors) == 2
    assert {p.row for p in report.rows} == {7, 9}  # the good rows are still checked
    assert not report.written and not IndicatorValue.objects.exists()


def test_the_unit_must_match(officer, bureau):
    rows = [list(row) for row in JUNE]
    rows[1][1] = "万元"
    with translation.override("en"):
        report = run(officer, sheet(rows))
        message = error_at(report, 5, "单位").message
    assert message == "规模工业增加值 is kept in 亿元, not 万元."
    assert not IndicatorValue.objects.exists()


def test_a_blank_unit_is_accepted(officer, bureau):
    rows = [list(row) for row in JUNE]
    rows[1][1] = None
    assert run(officer, sheet(rows), dry_run=True).ok


def test_an_indicator_repeated(officer, bureau):
    rows = [*JUNE, ["地区生产总值", "亿元", None, 117, 7.7]]  # the same indicator by its own name
    with translation.override("en"):
        report = run(officer, sheet(rows))
        message = error_at(report, 10, "指标").message
    assert message == "Repeats row 7 of this file."
    assert not IndicatorValue.objects.exists()


def test_a_quarterly_indicator_in_a_month_that_closes_no_quarter(officer, bureau):
    may = [["地区生产总值(GDP)", "亿元", None, 60, 7.5], ["规模工业增加值", "亿元", 4.9, 24.75, 8.2]]
    report = run(officer, sheet(may, title="荷塘区2019年1-5月主要经济指标"))
    assert error_at(report, 4, "指标")
    assert not IndicatorValue.objects.exists()
    # left blank in May, as the bureau does, the row is passed over
    may[0] = ["地区生产总值(GDP)", "亿元", None, None, None]
    report = run(officer, sheet(may, title="荷塘区2019年1-5月主要经济指标"))
    assert report.written and report.skipped == [4]
    assert stored() == {("industry-value-added", 2019, 5): M("24.75")}


def test_a_growth_at_or_below_minus_100(officer, bureau):
    rows = [list(row) for row in JUNE]
    rows[1][4] = -100
    report = run(officer, sheet(rows))
    assert error_at(report, 5, "同比增长(%)")
    assert not IndicatorValue.objects.exists()


def test_a_row_without_a_name(officer, bureau):
    report = run(officer, sheet([*JUNE, [None, "亿元", 1, 2, 3]]))
    assert error_at(report, 10, "指标")
    assert not IndicatorValue.objects.exists()


# -- cumulative indicators with only 本月 ------------------------------------------------------------------------


def test_january_this_month_is_the_cumulative(officer, bureau):
    report = run(officer, sheet([["规模工业增加值", "亿元", 4.8, None, 7.9]], title="荷塘区2019年1月主要经济指标"))
    assert report.written
    value = IndicatorValue.objects.get()
    assert (value.period, value.value, value.period_value) == (1, M("4.8"), M("4.8"))


def test_a_later_month_adds_to_the_previous_months_cumulative(officer, bureau, value_factory):
    value_factory(bureau["industry"], 2019, 5, "24.75")
    report = run(officer, sheet([["规模工业增加值", "亿元", 4.95, None, 8.3]]))
    assert report.written
    june = IndicatorValue.objects.get(indicator=bureau["industry"], period=6)
    assert (june.value, june.period_value) == (M("29.70"), M("4.95"))


def test_a_later_month_without_the_previous_month_cannot_be_cumulated(officer, bureau, value_factory):
    value_factory(bureau["industry"], 2018, 5, "22.5")  # last year's May does not count
    value_factory(bureau["industry"], 2019, 4, "19.8")  # nor April
    report = run(officer, sheet([["规模工业增加值", "亿元", 4.95, None, 8.3]]))
    assert error_at(report, 4, "累计")
    assert IndicatorValue.objects.count() == 2


def test_a_level_uses_this_month_or_else_the_cumulative_column(officer, bureau):
    report = run(officer, sheet([["城镇登记失业率", "%", None, 4.3, None]]), dry_run=True)
    assert report.rows[0].data["value"] == M("4.3")


# -- the sheet's shape -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"\xd0\xcf\x11\xe0 an old .xls", "指标,单位,本月\n规模工业增加值,亿元,4.95\n".encode(), b""],
    ids=["xls", "csv", "empty"],
)
def test_not_an_xlsx(officer, bureau, content):
    with pytest.raises(ValidationFailed) as error:
        run(officer, content)
    assert list(error.value.fields) == ["file"]
    assert not IndicatorValue.objects.exists()


def test_a_header_without_numbers_columns(officer, bureau):
    with pytest.raises(ValidationFailed) as error:
        run(officer, sheet([["规模工业增加值", "亿元"]], header=["指标", "单位"]))
    assert list(error.value.fields) == ["file"]


def test_header_spellings_and_separate_growth_columns(officer, bureau):
    header = ["指标名称", "计量单位", "当月", "本年累计", "本月同比(%)", "累计增长(%)"]
    rows = [
        ["1.规模工业增加值", "亿元", "4.95", "29.7", "12.1", "8.3"],
        ["城镇登记失业率", "%", "4.2", None, "-2", None],
    ]
    report = run(officer, sheet(rows, header=header), dry_run=True)
    assert report.ok
    by_code = {p.indicator.code: p.data for p in report.rows}
    assert by_code["industry-value-added"]["source_growth"] == M("8.3")  # cumulative: the 累计 growth
    assert by_code["unemployment-rate"]["source_growth"] == M("-2")  # a level: this month's growth


def test_names_are_matched_without_width_spaces_or_case(officer, bureau):
    rows = [["地区生产总值（ＧＤＰ）", "亿元", None, 116, 7.6], [" 社会消费品 零售总额 ", "亿元", 5.2, 31, 9.9]]
    report = run(officer, sheet(rows), dry_run=True)
    assert report.ok and len(report.rows) == 2


def test_inactive_indicators_are_unknown(officer, bureau):
    bureau["retail"].is_active = False
    bureau["retail"].save()
    report = run(officer, sheet(JUNE))
    assert report.unknown_names == ["社会消费品零售总额"]
    assert not IndicatorValue.objects.exists()


def test_only_editors_import(personas, bureau):
    with pytest.raises(PermissionDeniedError):
        run(personas["leader"], sheet(JUNE))
    assert not IndicatorValue.objects.exists()


def test_the_template_lists_every_active_indicator_and_imports_once_filled(officer, bureau):
    workbook = load_workbook(io.BytesIO(services.sheet_template_workbook()))
    ws = workbook.active
    rows = [list(row) for row in ws.iter_rows(values_only=True)]
    assert rows[1] == HEADER
    names = [row[0] for row in rows[2:]]
    assert names == ["地区生产总值", "规模工业增加值", "社会消费品零售总额", "城镇登记失业率"]
    ws["A1"] = TITLE
    ws["D3"], ws["E3"] = 116, 7.6
    ws["C4"], ws["D4"], ws["E4"] = 4.95, 29.7, 8.3
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = run(officer, buffer.getvalue())
    assert report.written and report.skipped == [5, 6]
    assert stored() == {("gdp", 2019, 2): M("116"), ("industry-value-added", 2019, 6): M("29.7")}
