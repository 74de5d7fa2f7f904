"""The monthly economic report (经济运行月报): a known data set (indicators, two years of values and
targets entered through the services; two key projects, one behind plan) rendered as Word and Excel,
opened again with python-docx and openpyxl and checked figure by figure; the command, the download
view and its permissions; and the refusals — a month that has not ended, no font with Chinese
characters (configured or installed) — each with its clear message and no file written."""

import datetime as dt
import io
import warnings
from decimal import Decimal
from pathlib import Path

import docx
import matplotlib
import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation
from matplotlib import ft2font

from zhiyuan.core.errors import PermissionDeniedError, ValidationFailed
from zhiyuan.indicators import report
from zhiyuan.indicators.models import PeriodType
from zhiyuan.indicators.services import indicator_create, target_set, value_record
from zhiyuan.investments.models import KeyProject, MonthlyInvestment, Pool, Project, Stage

D = dt.date
PNG = b"\x89PNG\r\n\x1a\n"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_CJK_FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
INDICATOR_HEADERS = [
    "Indicator",
    "Unit",
    "This month",
    "Year to date / period",
    "Year on year %",
    "Annual target",
    "Target reached %",
    "Year elapsed %",
    "Status",
]


@pytest.fixture
def economy(personas):
    """Five indicators as the statistics officer enters them, and the key projects of 2019.

    地区生产总值 (quarterly, 累计): 2018 Q1–Q4 50/100/150/200, 2019 Q1–Q2 54/108, target 216 →
    June: 108 (本季 54), +8.0 %, 50.0 % of the target with 50.0 % of the year gone.
    规模工业增加值 (monthly, 累计): 2018 10 × month, 2019 11 × month up to July, target +8 % →
    June: 66 (本月 11), +10.0 %, target 120 × 1.08 = 129.6, 50.9 % reached; July is after the report.
    社会消费品零售总额: only 2019 June, 30 with the published growth 9.9 %.
    城镇登记失业率 (a level, lower is better): 4.0 against a target of 4.5 → 88.9 %.
    新增城镇就业: a target of 8000 and nothing reported yet."""
    officer = personas["statistics"]

    def define(code, name, unit, sequence, **fields):
        data = {"code": code, "name": name, "unit": unit, "sequence": sequence, **fields}
        return indicator_create(actor=officer, data=data)

    def put(indicator, year, period, value, **data):
        value_record(actor=officer, indicator=indicator, year=year, period=period, data={"value": value, **data})

    gdp = define("gdp", "地区生产总值", "亿元", 1, period_type=PeriodType.QUARTER)
    industry = define("industry", "规模工业增加值", "亿元", 2)
    retail = define("retail", "社会消费品零售总额", "亿元", 3)
    jobless = define("jobless", "城镇登记失业率", "%", 4, cumulative=False, higher_is_better=False, decimals=1)
    jobs = define("jobs", "新增城镇就业", "人", 5, decimals=0)
    for quarter, value in enumerate(["50", "100", "150", "200"], start=1):
        put(gdp, 2018, quarter, value)
    put(gdp, 2019, 1, "54")
    put(gdp, 2019, 2, "108")
    for month in range(1, 13):
        put(industry, 2018, month, str(10 * month))
    for month in range(1, 8):
        put(industry, 2019, month, str(11 * month))
    put(retail, 2019, 6, "30", source_growth="9.9")
    put(jobless, 2019, 6, "4.0")
    target_set(actor=officer, indicator=gdp, year=2019, data={"value": "216"})
    target_set(actor=officer, indicator=industry, year=2019, data={"growth": "8"})
    target_set(actor=officer, indicator=jobless, year=2019, data={"value": "4.5"})
    target_set(actor=officer, indicator=jobs, year=2019, data={"value": "8000"})

    # Key projects (read-side rows with the ORM, as the investments read tests build them): by the
    # end of June the first has done 10 % of its plan (behind), the second all of it.
    building = {"stage": Stage.UNDER_CONSTRUCTION, "pool": Pool.CONSTRUCTION}
    late = Project.objects.create(name="好媳妇日用品智能制造基地", **building)
    ahead = Project.objects.create(name="怡亚通金巢现代工业园", **building)
    KeyProject.objects.create(project=late, year=2019, sequence=1, planned_investment=Decimal("1000"))
    KeyProject.objects.create(project=ahead, year=2019, sequence=2, planned_investment=Decimal("100"))
    MonthlyInvestment.objects.create(project=late, month=D(2019, 3, 1), amount=Decimal("100"))
    MonthlyInvestment.objects.create(project=ahead, month=D(2019, 5, 1), amount=Decimal("100"))
    MonthlyInvestment.objects.create(project=late, month=D(2019, 7, 1), amount=Decimal("900"))  # after June
    return {"gdp": gdp, "industry": industry, "retail": retail, "jobless": jobless, "jobs": jobs}


def english_files(user, formats=("docx", "xlsx")) -> dict[str, report.ReportFile]:
    with translation.override("en"):
        files = report.report_files(user=user, year=2019, month=6, formats=formats)
    return {file.filename.rsplit(".", 1)[1]: file for file in files}


def table_rows(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def image_blobs(document) -> list[bytes]:
    blobs = []
    for shape in document.inline_shapes:
        embed = shape._inline.graphic.graphicData.pic.blipFill.blip.embed
        blobs.append(document.part.related_parts[embed].blob)
    return blobs


# -- Word ----------------------------------------------------------------------------------------------


def test_docx_title_summary_and_indicator_table(economy, personas):
    files = english_files(personas["leader"])
    assert files["docx"].filename == "monthly-report-2019-06.docx"
    assert files["docx"].content_type == DOCX_TYPE
    document = docx.Document(io.BytesIO(files["docx"].content))
    assert document.paragraphs[0].text == "株洲市荷塘区 monthly economic report (2019-06)"
    assert document.paragraphs[0].style.name == "Title"
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Figures as of 2019-06-30" in text
    assert (
        "In 2019, quarters 1–2, 地区生产总值 reached 108.00 亿元, up 8.0% year on year, "
        "50.0% of the annual target (50.0% of the year elapsed)"
    ) in text
    assert "in 2019, months 1–6, 规模工业增加值 reached 66.00 亿元, up 10.0% year on year" in text
    assert (
        "2 key projects completed 200.00 10k yuan of the 1,100.00 10k yuan planned for the year (18.2%), "
        "1 of them is behind plan."
    ) in text

    rows = table_rows(document.tables[0])
    assert rows[0] == INDICATOR_HEADERS
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["地区生产总值"] == ["地区生产总值", "亿元", "54.00", "108.00", "8.0", "216.00", "50.0", "50.0",
                                       "On track"]
    # July (77) is after the report's month; the growth target +8 % implies 120 × 1.08.
    assert by_name["规模工业增加值"] == ["规模工业增加值", "亿元", "11.00", "66.00", "10.0", "129.60", "50.9", "50.0",
                                         "On track"]
    assert by_name["社会消费品零售总额"][3:5] == ["30.00", "9.9*"]  # published growth, marked
    assert by_name["城镇登记失业率"][2:8] == ["—", "4.0", "—", "4.5", "88.9", "—"]
    assert by_name["新增城镇就业"][3:] == ["—", "—", "8,000", "—", "50.0", "Not reported"]
    assert "* Growth as published by the statistics bureau." in text


def test_docx_charts_are_png_images(economy, personas):
    document = docx.Document(io.BytesIO(english_files(personas["leader"], ["docx"])["docx"].content))
    blobs = image_blobs(document)
    assert len(blobs) >= 2
    for blob in blobs:
        assert blob.startswith(PNG) and len(blob) > 5000
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    assert "Year to date: 2019 against 2018" in captions
    assert "Target progress, 2019-06" in captions


def test_docx_key_project_and_figure_tables(economy, personas):
    document = docx.Document(io.BytesIO(english_files(personas["leader"], ["docx"])["docx"].content))
    projects = table_rows(document.tables[1])
    assert projects[0][:2] == ["No.", "Project"]
    assert [row[1] for row in projects[1:]] == ["好媳妇日用品智能制造基地", "怡亚通金巢现代工业园"]
    assert [row[3:] for row in projects[1:]] == [
        ["1,000.00", "100.00", "10.0", "Yes"],
        ["100.00", "100.00", "100.0", "No"],
    ]
    figures = {row[1]: row for row in table_rows(document.tables[2])[1:]}
    assert figures["Key projects"][0] == "Investment projects" and figures["Key projects"][2] == "2"
    assert figures["Key projects behind plan"][2] == "1"
    assert figures["Applications accepted"][0] == "Approvals"
    assert figures["Requests received"][2] == "0"


def test_docx_styles_name_chinese_fonts(economy, personas):
    document = docx.Document(io.BytesIO(english_files(personas["leader"], ["docx"])["docx"].content))
    qn = docx.oxml.ns.qn
    normal = document.styles["Normal"].element.rPr.rFonts
    heading = document.styles["Heading 1"].element.rPr.rFonts
    assert normal.get(qn("w:eastAsia")) == "宋体"
    assert heading.get(qn("w:eastAsia")) == "黑体"
    assert heading.get(qn("w:eastAsiaTheme")) is None  # the theme font would override it


def test_report_in_chinese_is_named_in_chinese_and_draws_no_missing_glyph(economy, personas):
    with translation.override("zh-hans"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        files = report.report_files(user=personas["leader"], year=2019, month=6, formats=["docx", "xlsx"])
    assert [file.filename for file in files] == ["经济运行月报-2019-06.docx", "经济运行月报-2019-06.xlsx"]
    assert not [w for w in caught if "missing from font" in str(w.message)]
    document = docx.Document(io.BytesIO(files[0].content))
    assert document.paragraphs[0].text.startswith("株洲市荷塘区")


# -- Excel ---------------------------------------------------------------------------------------------


def test_xlsx_sheets_headers_and_numbers(economy, personas):
    file = english_files(personas["leader"], ["xlsx"])["xlsx"]
    assert (file.filename, file.content_type) == ("monthly-report-2019-06.xlsx", XLSX_TYPE)
    workbook = openpyxl.load_workbook(io.BytesIO(file.content))
    assert workbook.sheetnames == ["Indicators", "Key projects", "Services and approvals", "Charts"]
    sheet = workbook["Indicators"]
    assert [cell.value for cell in sheet[1]] == INDICATOR_HEADERS
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    gdp = rows["地区生产总值"]
    assert gdp[1:4] == ("亿元", 54, 108)
    assert gdp[4] == pytest.approx(8.0) and gdp[5] == 216
    assert gdp[6] == pytest.approx(50.0) and gdp[7] == pytest.approx(50.0)
    industry = rows["规模工业增加值"]
    assert industry[3] == 66 and industry[4] == pytest.approx(10.0) and industry[5] == pytest.approx(129.6)
    assert industry[6] == pytest.approx(100 * 66 / 129.6)
    assert rows["城镇登记失业率"][6] == pytest.approx(100 * 4.0 / 4.5) and rows["城镇登记失业率"][7] is None
    assert sheet.cell(row=2, column=4).number_format == "#,##0.00"

    projects = list(workbook["Key projects"].iter_rows(min_row=2, values_only=True))
    assert [(row[1], row[3], row[4], row[6]) for row in projects] == [
        ("好媳妇日用品智能制造基地", 1000, 100, "Yes"),
        ("怡亚通金巢现代工业园", 100, 100, "No"),
    ]
    figures = {row[1]: row for row in workbook["Services and approvals"].iter_rows(min_row=2, values_only=True)}
    assert figures["Key projects"][2] == 2 and figures["Projects signed"][0] == "Investment projects"
    assert len(workbook["Charts"]._images) >= 2


# -- the figures and their refusals --------------------------------------------------------------------


def test_figures_only_for_district_staff(economy, personas):
    for key in ("firm_a", "bank", "city"):
        with pytest.raises(PermissionDeniedError):
            report.monthly_figures(user=personas[key], year=2019, month=6)


@pytest.mark.parametrize(
    ("year", "month", "today"),
    [(2019, 6, D(2019, 6, 30)), (2019, 7, D(2019, 6, 30)), (2020, 1, D(2019, 7, 1)), (2019, 13, D(2020, 1, 1)),
     (2019, 0, D(2020, 1, 1)), (1999, 12, D(2020, 1, 1))],
    ids=["last-day", "next-month", "next-year", "month-13", "month-0", "too-early"],
)
def test_a_month_that_has_not_ended_or_does_not_exist_is_refused(personas, year, month, today):
    with pytest.raises(ValidationFailed) as raised:
        report.monthly_figures(user=personas["leader"], year=year, month=month, today=today)
    assert "month" in raised.value.fields


def test_the_day_after_the_month_ends_is_enough(personas):
    made = report.monthly_figures(user=personas["leader"], year=2019, month=6, today=D(2019, 7, 1))
    assert made.as_of == D(2019, 6, 30)


def test_without_any_figures_the_report_says_so(personas):
    with translation.override("en"):
        made = report.monthly_figures(user=personas["leader"], year=2019, month=6)
        content = report.render_docx(made)
    assert made.rows == [] and made.projects == []
    # The chains (loaded by a data migration) are the only figures: no sentence for the others.
    assert "reached" not in made.summary and "key project" not in made.summary and "requests" not in made.summary
    document = docx.Document(io.BytesIO(content))
    assert "No key projects are listed for 2019." in [p.text for p in document.paragraphs]


def test_configured_font_that_does_not_exist(personas, tmp_path):
    missing = tmp_path / "no-such-font.ttc"
    with override_settings(ZHIYUAN_REPORT_FONT=str(missing)), translation.override("en"):
        with pytest.raises(report.ReportFontMissing) as raised:
            report.find_cjk_font()
        assert str(missing) in str(raised.value.message) and raised.value.status == 503
        with pytest.raises(report.ReportFontMissing):
            report.monthly_figures(user=personas["leader"], year=2019, month=6)


def test_configured_font_without_chinese_characters(personas):
    with (
        override_settings(ZHIYUAN_REPORT_FONT=str(NO_CJK_FONT)),
        translation.override("en"),
        pytest.raises(report.ReportFontMissing) as raised,
    ):
        report.find_cjk_font()
    assert "has no Chinese characters" in str(raised.value.message)


def test_configured_font_is_used(db):
    installed = report.find_cjk_font()
    with override_settings(ZHIYUAN_REPORT_FONT=str(installed)):
        assert report.find_cjk_font() == installed


def test_found_font_has_chinese_characters(db):
    path = report.find_cjk_font()
    faces = [ft2font.FT2Font(str(path), face_index=index) for index in range(ft2font.FT2Font(str(path)).num_faces)]
    assert any(all(face.get_char_index(ord(char)) for char in "经济运行月报") for face in faces)


def test_no_installed_cjk_font_is_a_clear_error_and_no_file(economy, personas, monkeypatch, tmp_path):
    # Only the machine's font list is replaced: a system with no CJK font, the default fonts kept.
    monkeypatch.setattr(report, "system_fonts", lambda: [("DejaVu Sans", NO_CJK_FONT)])
    with translation.override("en"), pytest.raises(report.ReportFontMissing) as raised:
        report.monthly_figures(user=personas["leader"], year=2019, month=6)
    assert "apt-get install fonts-noto-cjk" in str(raised.value.message)
    assert "ZHIYUAN_REPORT_FONT" in str(raised.value.message)
    with pytest.raises(CommandError, match="fonts-noto-cjk"):
        call_command("report", "monthly", "--month", "2019-06", "--out", str(tmp_path), "--language", "en")
    assert list(tmp_path.iterdir()) == []


# -- the command ---------------------------------------------------------------------------------------


def test_command_writes_both_files(economy, personas, tmp_path):
    out = io.StringIO()
    call_command("report", "monthly", "--month", "2019-06", "--out", str(tmp_path), "--language", "en",
                 stdout=out, stderr=io.StringIO())
    written = sorted(path.name for path in tmp_path.iterdir())
    assert written == ["monthly-report-2019-06.docx", "monthly-report-2019-06.xlsx"]
    assert out.getvalue().split() == [str(tmp_path / name) for name in written]
    document = docx.Document(str(tmp_path / "monthly-report-2019-06.docx"))
    assert document.paragraphs[0].text.endswith("(2019-06)")
    openpyxl.load_workbook(tmp_path / "monthly-report-2019-06.xlsx")


def test_command_in_chinese_one_format_as_a_named_user(economy, personas, tmp_path):
    call_command("report", "monthly", "--month", "2019-06", "--out", str(tmp_path / "new"), "--format", "xlsx",
                 "--user", personas["statistics"].username, stdout=io.StringIO(), stderr=io.StringIO())
    assert [path.name for path in (tmp_path / "new").iterdir()] == ["经济运行月报-2019-06.xlsx"]


@pytest.mark.parametrize(
    ("month", "message"),
    [("2019/06", r"Not a month \(YYYY-MM\): 2019/06"), ("June", r"Not a month \(YYYY-MM\)"),
     ("2019-13", "Not a month: 2019-13"), ("2099-01", "2099-01 has not ended yet")],
)
def test_command_refuses_a_bad_month(personas, tmp_path, month, message):
    with pytest.raises(CommandError, match=message):
        call_command("report", "monthly", "--month", month, "--out", str(tmp_path), "--language", "en")
    assert list(tmp_path.iterdir()) == []


def test_command_refuses_a_user_who_may_not_see_the_figures(personas, tmp_path):
    with pytest.raises(CommandError):
        call_command("report", "monthly", "--month", "2019-06", "--out", str(tmp_path), "--user",
                     personas["firm_a"].username, "--language", "en")
    with pytest.raises(CommandError, match="No active user named nobody"):
        call_command("report", "monthly", "--month", "2019-06", "--out", str(tmp_path), "--user", "nobody",
                     "--language", "en")


def test_command_default_user_is_a_leader(personas):
    assert report.report_user().role == "leader"


# -- the download --------------------------------------------------------------------------------------


def url(year=2019, month=6, fmt="docx") -> str:
    return reverse("indicators:report", kwargs={"year": year, "month": month, "fmt": fmt})


def test_download_for_the_leader(economy, login):
    response = login("leader").get(url())
    assert response.status_code == 200
    assert response["Content-Type"] == DOCX_TYPE
    assert response["Content-Disposition"] == (
        "attachment; filename=\"monthly-report-2019-06.docx\"; "
        "filename*=utf-8''%E7%BB%8F%E6%B5%8E%E8%BF%90%E8%A1%8C%E6%9C%88%E6%8A%A5-2019-06.docx"
    )
    assert docx.Document(io.BytesIO(response.content)).tables
    response = login("statistics").get(url(fmt="xlsx"))
    assert response.status_code == 200 and response["Content-Type"] == XLSX_TYPE
    assert openpyxl.load_workbook(io.BytesIO(response.content)).sheetnames


@pytest.mark.parametrize("key", ["firm_a", "bank", "city"])
def test_download_refused_outside_the_district(login, key):
    assert login(key).get(url()).status_code == 403


def test_download_needs_a_login(db, client):
    response = client.get(url())
    assert response.status_code == 302 and "login" in response["Location"]


def test_download_of_an_unknown_format_is_404(login):
    assert login("leader").get(url(fmt="pdf")).status_code == 404


def test_download_of_a_month_that_has_not_ended_is_400(login):
    today = timezone.localdate()
    client = login("leader")
    client.cookies["django_language"] = "en"
    response = client.get(url(today.year, today.month))
    assert response.status_code == 400
    assert f"{today.year}-{today.month:02d} has not ended yet" in response.content.decode()
    assert client.get(url(2019, 13)).status_code == 400


def test_download_without_a_cjk_font_is_503(login, tmp_path):
    client = login("leader")
    client.cookies["django_language"] = "en"
    with override_settings(ZHIYUAN_REPORT_FONT=str(tmp_path / "gone.ttf")):
        response = client.get(url())
    assert response.status_code == 503
    assert "gone.ttf, which does not exist" in response.content.decode()


def test_the_summary_writes_amounts_of_1亿元_and_more_in_亿元():
    from zhiyuan.indicators.report import _amount

    with translation.override("zh-hans"):
        assert _amount(Decimal("2027050")) == "202.71亿元"
        assert _amount(Decimal("1547164.62"), scale_from=Decimal("2027050")) == "154.72亿元"
        assert _amount(Decimal("1100")) == "1,100.00万元"
        assert _amount(Decimal("200"), scale_from=Decimal("1100")) == "200.00万元"
