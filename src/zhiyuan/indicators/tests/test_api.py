"""The indicator API (/api/indicators/: definitions with their latest card, values, targets, the
bureau's sheet) and the cockpit API (/api/cockpit/): permissions, happy paths, every bad input
answered in the one error format with nothing written, and the OpenAPI schema."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook
from rest_framework.test import APIClient

from zhiyuan.core.models import AuditEntry
from zhiyuan.indicators import selectors
from zhiyuan.indicators.models import Indicator, IndicatorValue, Target
from zhiyuan.indicators.serializers import FigureValueField
from zhiyuan.investments.models import KeyProject, MonthlyInvestment, Pool, Project, Stage

INDICATORS = "/api/indicators/"
IMPORT = "/api/indicators/import/"
COCKPIT = "/api/cockpit/"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def api(personas):
    def _client(who: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(personas[who])
        return client

    return _client


@pytest.fixture
def stored(industry_output, value_factory, target_factory):
    """规模工业增加值 with June 2018 and January–June 2019 (累计) and a 2019 target of 60 亿元."""
    value_factory(industry_output, 2018, 6, "25", period_value="4.5")
    for month, amount in enumerate(["4", "9", "13.5", "18", "22.5", "27"], start=1):
        value_factory(industry_output, 2019, month, amount)
    target_factory(industry_output, 2019, value="60", growth="8")
    return industry_output


def counts() -> tuple[int, int, int]:
    return Indicator.objects.count(), IndicatorValue.objects.count(), Target.objects.count()


def sheet(rows, *, title="荷塘区2019年1-6月主要经济指标") -> SimpleUploadedFile:
    """A sheet in the statistics bureau's layout: a title row, the header row, then the rows."""
    workbook = Workbook()
    ws = workbook.active
    ws.append([title])
    ws.append(["指标", "单位", "本月", "累计", "同比增长(%)"])
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("2019年6月主要经济指标.xlsx", buffer.getvalue(), content_type=XLSX)


def assert_error(response, status: int, field: str) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert field in error["fields"], error
    assert all(isinstance(message, str) and message for message in error["fields"][field])
    return error


# -- permissions ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["leader", "investment", "specialist", "statistics", "admin"])
def test_district_staff_read_everything(api, stored, role):
    client = api(role)
    code = stored.code
    for url in (INDICATORS, f"{INDICATORS}{code}/", f"{INDICATORS}{code}/values/", f"{INDICATORS}{code}/targets/"):
        assert client.get(url).status_code == 200, url
    assert client.get(COCKPIT, {"month": "2019-06"}).status_code == 200


def _writes(code: str) -> list[tuple[str, str, dict]]:
    return [
        ("post", INDICATORS, {"code": "jobs", "name": "新增城镇就业", "unit": "人"}),
        ("patch", f"{INDICATORS}{code}/", {"name": "改名"}),
        ("post", f"{INDICATORS}{code}/values/", {"year": 2019, "period": 7, "value": "31"}),
        ("delete", f"{INDICATORS}{code}/values/2019/6/", {}),
        ("post", f"{INDICATORS}{code}/targets/", {"year": 2020, "value": "70"}),
        ("delete", f"{INDICATORS}{code}/targets/2019/", {}),
    ]


@pytest.mark.parametrize("role", ["leader", "investment", "specialist"])
def test_other_district_staff_may_not_write(api, stored, role):
    client = api(role)
    before = counts()
    for method, url, data in _writes(stored.code):
        response = getattr(client, method)(url, data, format="json")
        assert response.status_code == 403, (method, url)
        assert response.json()["error"]["code"] == "permission_denied"
    upload = client.post(IMPORT, {"file": sheet([["规模工业增加值", "亿元", 5, 27, 8]]), "dry_run": "false"})
    assert upload.status_code == 403
    assert counts() == before
    assert Indicator.objects.get(pk=stored.pk).name == "规模工业增加值"


@pytest.mark.parametrize("role", ["statistics", "admin"])
def test_statistics_officers_and_administrators_write(api, stored, role):
    client = api(role)
    expected = {"post": 201, "patch": 200, "delete": 204}
    for method, url, data in _writes(stored.code):
        response = getattr(client, method)(url, data, format="json")
        assert response.status_code == expected[method], (method, url, response.content)
    assert Indicator.objects.filter(code="jobs").exists()
    assert not IndicatorValue.objects.filter(indicator=stored, year=2019, period=6).exists()
    assert IndicatorValue.objects.filter(indicator=stored, year=2019, period=7).exists()
    assert list(Target.objects.filter(indicator=stored).values_list("year", flat=True)) == [2020]


@pytest.mark.parametrize("role", ["firm_a", "firm_b", "bank", "city"])
def test_firms_banks_and_the_city_get_403_everywhere(api, stored, role):
    client = api(role)
    code = stored.code
    for url in (INDICATORS, f"{INDICATORS}{code}/", f"{INDICATORS}{code}/values/", f"{INDICATORS}{code}/targets/",
                COCKPIT):
        assert client.get(url).status_code == 403, url
    before = counts()
    for method, url, data in _writes(code):
        assert getattr(client, method)(url, data, format="json").status_code == 403, (method, url)
    assert client.post(IMPORT, {"file": sheet([["规模工业增加值", "亿元", 5, 27, 8]])}).status_code == 403
    assert counts() == before


def test_anonymous_callers_are_refused(stored):
    client = APIClient()
    for url in (INDICATORS, f"{INDICATORS}{stored.code}/values/", COCKPIT):
        assert client.get(url).status_code in (401, 403), url
    response = client.post(f"{INDICATORS}{stored.code}/values/", {"year": 2019, "period": 7, "value": 1}, format="json")
    assert response.status_code in (401, 403)
    assert not IndicatorValue.objects.filter(period=7).exists()


# -- definitions ----------------------------------------------------------------------------------------


def test_the_list_carries_each_indicators_latest_card(api, stored, indicator_factory):
    indicator_factory("已停用指标", code="retired", is_active=False, group="fiscal")
    response = api("leader").get(INDICATORS, {"month": "2019-06"})
    assert response.status_code == 200
    rows = {row["code"]: row for row in response.json()}
    assert set(rows) == {stored.code, "retired"}
    row = rows[stored.code]
    assert row["name"] == "规模工业增加值" and row["unit"] == "亿元" and row["period_type"] == "month"
    latest = row["latest"]
    assert (latest["year"], latest["period"]) == (2019, 6)
    assert latest["value"] == "27.0000" and latest["prior"] == "25.0000"
    assert latest["growth"] == "8.00" and latest["growth_basis"] == "computed"
    assert latest["target"] == "60.0000" and latest["target_growth"] == "8.00"
    assert latest["reached"] == "0.4500" and latest["elapsed"] == "0.5000"
    assert latest["status"] == "watch"  # 45% of the target with half the year gone: within 10 points
    assert latest["label"] == selectors.period_label(stored, 2019, 6)
    assert rows["retired"]["latest"] is None

    assert [r["code"] for r in api("leader").get(INDICATORS, {"active": "false"}).json()] == ["retired"]
    assert [r["code"] for r in api("leader").get(INDICATORS, {"active": "true"}).json()] == [stored.code]
    assert [r["code"] for r in api("leader").get(INDICATORS, {"group": "fiscal"}).json()] == ["retired"]
    assert_error(api("leader").get(INDICATORS, {"group": "nonsense"}), 400, "group")


def test_the_latest_card_is_as_of_today_unless_a_month_is_given(api, stored, value_factory):
    last_month = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    value_factory(stored, last_month.year, last_month.month, "5")
    latest = api("leader").get(INDICATORS).json()[0]["latest"]
    assert (latest["year"], latest["period"], latest["value"]) == (last_month.year, last_month.month, "5.0000")
    march = api("leader").get(f"{INDICATORS}{stored.code}/", {"month": "2019-03"}).json()["latest"]
    assert (march["year"], march["period"], march["value"]) == (2019, 3, "13.5000")
    assert_error(api("leader").get(INDICATORS, {"month": "2019-6-1"}), 400, "month")


def test_an_indicator_is_created_read_and_corrected_by_code(api):
    client = api("statistics")
    data = {
        "code": "unemployment-rate", "name": "城镇登记失业率", "unit": "%", "period_type": "quarter",
        "cumulative": False, "higher_is_better": False, "group": "social", "aliases": ["登记失业率"],
    }
    response = client.post(INDICATORS, data, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["code"] == "unemployment-rate" and body["aliases"] == ["登记失业率"]
    assert body["cumulative"] is False and body["group"] == "social"
    assert body["latest"]["value"] is None and body["latest"]["status"] == "none"
    assert AuditEntry.objects.filter(action="indicators.indicator.created").count() == 1

    got = api("leader").get(f"{INDICATORS}unemployment-rate/")
    assert got.status_code == 200 and got.json()["name"] == "城镇登记失业率"

    patched = client.patch(f"{INDICATORS}unemployment-rate/", {"decimals": 1, "aliases": ["失业率", "登记失业率"]},
                           format="json")
    assert patched.status_code == 200, patched.json()
    assert patched.json()["decimals"] == 1 and patched.json()["aliases"] == ["失业率", "登记失业率"]
    assert Indicator.objects.get(code="unemployment-rate").aliases == "失业率\n登记失业率"


def test_bad_definitions_are_refused_and_nothing_changes(api, stored):
    client = api("statistics")
    before = counts()
    assert_error(client.post(INDICATORS, {"code": "Bad Code", "name": "甲", "unit": "人"}, format="json"), 400, "code")
    assert_error(client.post(INDICATORS, {"code": stored.code, "name": "乙", "unit": "人"}, format="json"), 400, "code")
    assert_error(client.post(INDICATORS, {"code": "c", "name": "丙"}, format="json"), 400, "unit")
    assert_error(client.post(INDICATORS, {"code": "d", "name": "丁", "unit": "人", "x": 1}, format="json"), 400, "x")
    assert_error(client.patch(f"{INDICATORS}{stored.code}/", {"period_type": "quarter"}, format="json"), 400,
                 "period_type")
    assert counts() == before
    assert Indicator.objects.get(pk=stored.pk).period_type == "month"


def test_an_undefined_indicator_is_404_everywhere(api, stored):
    client = api("statistics")
    before = counts()
    for method, url, data in [
        ("get", f"{INDICATORS}nosuch/", {}),
        ("patch", f"{INDICATORS}nosuch/", {"name": "甲"}),
        ("get", f"{INDICATORS}nosuch/values/", {}),
        ("post", f"{INDICATORS}nosuch/values/", {"year": 2019, "period": 6, "value": "1"}),
        ("delete", f"{INDICATORS}nosuch/values/2019/6/", {}),
        ("get", f"{INDICATORS}nosuch/targets/", {}),
        ("post", f"{INDICATORS}nosuch/targets/", {"year": 2019, "value": "1"}),
        ("delete", f"{INDICATORS}nosuch/targets/2019/", {}),
    ]:
        response = getattr(client, method)(url, data, format="json")
        assert response.status_code == 404, (method, url)
        assert response.json()["error"]["code"] == "not_found"
    assert counts() == before


# -- values ---------------------------------------------------------------------------------------------


def test_values_are_listed_newest_first_with_growth_and_progress(api, stored):
    rows = api("leader").get(f"{INDICATORS}{stored.code}/values/").json()
    assert [(r["year"], r["period"]) for r in rows] == [(2019, m) for m in range(6, 0, -1)] + [(2018, 6)]
    june = rows[0]
    assert june["indicator"] == stored.code and june["value"] == "27.0000" and june["growth"] == "8.00"
    assert june["reached"] == "0.4500" and june["status"] == "watch"
    last_year = rows[-1]
    assert last_year["period_value"] == "4.5000" and last_year["growth"] is None
    assert last_year["growth_basis"] is None and last_year["status"] == "none"


def test_a_value_is_recorded_corrected_and_deleted(api, stored, personas):
    client = api("statistics")
    url = f"{INDICATORS}{stored.code}/values/"
    response = client.post(url, {"year": 2018, "period": 7, "value": "1,234.5", "source_growth": "9.9%",
                                 "note": "统计局快报"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["year"], body["period"], body["value"]) == (2018, 7, "1234.5000")
    assert body["growth"] == "9.90" and body["growth_basis"] == "source"  # no July 2017 to compute from
    assert body["note"] == "统计局快报" and body["entered_by"] == personas["statistics"].pk

    corrected = client.post(url, {"year": 2018, "period": 7, "value": 29.5}, format="json")
    assert corrected.status_code == 201 and corrected.json()["value"] == "29.5000"
    assert IndicatorValue.objects.filter(indicator=stored, year=2018, period=7).count() == 1

    assert client.delete(f"{url}2018/7/").status_code == 204
    assert not IndicatorValue.objects.filter(indicator=stored, year=2018, period=7).exists()
    assert client.delete(f"{url}2018/7/").status_code == 404
    assert AuditEntry.objects.filter(action="indicators.value.deleted").count() == 1


@pytest.mark.parametrize(
    "data, field",
    [
        ({"year": 2019, "period": 6, "value": "约二十七"}, "value"),
        ({"year": 2019, "period": 6, "value": "abc"}, "value"),
        ({"year": 2019, "period": 6, "value": True}, "value"),
        ({"year": 2019, "period": 6, "value": ""}, "value"),
        ({"year": 2019, "period": 6}, "value"),
        ({"year": 2019, "period": 6, "value": "27", "source_growth": "快"}, "source_growth"),
        ({"year": 2019, "period": 6, "value": "27", "source_growth": "-100"}, "source_growth"),
        ({"year": 2019, "period": 13, "value": "27"}, "period"),
        ({"year": 2019, "period": 0, "value": "27"}, "period"),
        ({"year": 1900, "period": 6, "value": "27"}, "year"),
        ({"year": "二〇一九", "period": 6, "value": "27"}, "year"),
        ({"year": 2019, "period": 6, "value": "27", "entered_by": 1}, "entered_by"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_written(api, stored, data, field):
    before = counts()
    june = IndicatorValue.objects.get(indicator=stored, year=2019, period=6)
    assert_error(api("statistics").post(f"{INDICATORS}{stored.code}/values/", data, format="json"), 400, field)
    assert counts() == before
    assert IndicatorValue.objects.get(pk=june.pk).value == Decimal("27")


def next_month() -> dt.date:
    return (timezone.localdate().replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def test_a_value_for_a_month_that_has_not_ended_is_refused(api, stored):
    coming, today = next_month(), timezone.localdate()
    before = counts()
    for year, period in ((coming.year, coming.month), (today.year + 1, 12)):
        response = api("statistics").post(
            f"{INDICATORS}{stored.code}/values/", {"year": year, "period": period, "value": "1"}, format="json"
        )
        assert_error(response, 400, "period")
    assert counts() == before


def test_a_quarterly_indicator_has_no_fifth_quarter(api, gdp):
    response = api("statistics").post(f"{INDICATORS}gdp/values/", {"year": 2019, "period": 5, "value": "100"},
                                      format="json")
    assert_error(response, 400, "period")
    assert not IndicatorValue.objects.exists()


# -- targets --------------------------------------------------------------------------------------------


def test_targets_are_set_listed_and_deleted(api, stored):
    client = api("statistics")
    url = f"{INDICATORS}{stored.code}/targets/"
    response = client.post(url, {"year": 2020, "growth": "10%", "note": "区政府工作报告"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["growth"] == "10.00" and response.json()["value"] is None

    changed = client.post(url, {"year": 2019, "value": 54}, format="json")
    assert changed.status_code == 201 and changed.json()["value"] == "54.0000"
    assert Target.objects.filter(indicator=stored).count() == 2

    listed = api("leader").get(url).json()
    # Setting a year's target replaces it whole: the 8% growth given with the old value is gone.
    assert [(t["year"], t["value"], t["growth"]) for t in listed] == [(2020, None, "10.00"), (2019, "54.0000", None)]
    card = api("leader").get(f"{INDICATORS}{stored.code}/", {"month": "2019-06"}).json()["latest"]
    assert card["reached"] == "0.5000" and card["status"] == "good"

    assert client.delete(f"{url}2020/").status_code == 204
    assert client.delete(f"{url}2020/").status_code == 404
    assert list(Target.objects.filter(indicator=stored).values_list("year", flat=True)) == [2019]


@pytest.mark.parametrize(
    "data, field",
    [
        ({"year": 2019, "growth": "-100"}, "growth"),
        ({"year": 2019, "growth": -150}, "growth"),
        ({"year": 2019, "growth": "高"}, "growth"),
        ({"year": 2019, "value": "六十"}, "value"),
        ({"year": 2019}, "value"),
        ({"year": 2019, "value": None, "growth": ""}, "value"),
        ({"year": 1999, "value": "60"}, "year"),
        ({"value": "60"}, "year"),
    ],
)
def test_bad_targets_are_refused_and_nothing_is_written(api, stored, data, field):
    before = counts()
    assert_error(api("statistics").post(f"{INDICATORS}{stored.code}/targets/", data, format="json"), 400, field)
    assert counts() == before
    target = Target.objects.get(indicator=stored, year=2019)
    assert (target.value, target.growth) == (Decimal("60"), Decimal("8"))


# -- the bureau's sheet ---------------------------------------------------------------------------------

ROWS = [
    ["一、工业", None, None, None, None],
    ["规模工业增加值", "亿元", 5.1, 27.3, 8.2],
    ["社会消费品零售总额", "亿元", 2.6, 15.4, "9.9%"],
]


def test_an_import_is_a_dry_run_unless_told_otherwise(api, stored, retail_sales):
    client = api("statistics")
    before = counts()
    response = client.post(IMPORT, {"file": sheet(ROWS)})
    assert response.status_code == 200, response.json()
    report = response.json()
    assert report["dry_run"] is True and report["ok"] is True and report["written"] is False
    assert (report["year"], report["month"]) == (2019, 6)
    assert report["skipped"] == [3]
    assert [(r["row"], r["indicator"], r["period"]) for r in report["rows"]] == [
        (4, stored.code, 6), (5, "retail-sales", 6),
    ]
    first = report["rows"][0]
    assert first["value"] == "27.3000" and first["period_value"] == "5.1000" and first["previous"] == "27.0000"
    assert report["errors"] == [] and report["unknown_names"] == []
    assert (report["created"], report["updated"]) == (1, 1)
    assert counts() == before
    assert IndicatorValue.objects.get(indicator=stored, year=2019, period=6).value == Decimal("27")


def test_an_import_writes_every_row(api, stored, retail_sales):
    response = api("statistics").post(IMPORT, {"file": sheet(ROWS), "dry_run": "false"})
    assert response.status_code == 201, response.json()
    report = response.json()
    assert report["written"] is True and (report["created"], report["updated"]) == (1, 1)
    june = IndicatorValue.objects.get(indicator=stored, year=2019, period=6)
    assert (june.value, june.period_value, june.source_growth) == (Decimal("27.3"), Decimal("5.1"), Decimal("8.2"))
    retail = IndicatorValue.objects.get(indicator=retail_sales, year=2019, period=6)
    assert (retail.value, retail.source_growth) == (Decimal("15.4"), Decimal("9.9"))


def test_an_import_for_a_month_given_in_the_form(api, stored):
    response = api("statistics").post(
        IMPORT,
        {"file": sheet([["规模工业增加值", "亿元", 4.5, 31.5, 8]], title="主要经济指标"), "year": 2019, "month": 7,
         "dry_run": "false"},
    )
    assert response.status_code == 201, response.json()
    assert IndicatorValue.objects.get(indicator=stored, year=2019, period=7).value == Decimal("31.5")


def test_an_import_with_unknown_names_lists_them_and_writes_nothing(api, stored):
    rows = [
        ["规模工业增加值", "亿元", 5.1, 27.3, 8.2],
        ["高新技术产业增加值", "亿元", 7, 40, 20],
        ["新增城镇就业", "人", 700, 4100, None],
    ]
    before = counts()
    response = api("statistics").post(IMPORT, {"file": sheet(rows), "dry_run": "false"})
    error = assert_error(response, 400, "file")
    assert any("高新技术产业增加值" in m and "新增城镇就业" in m for m in error["fields"]["file"])
    report = response.json()["report"]
    assert report["unknown_names"] == ["高新技术产业增加值", "新增城镇就业"]
    assert report["written"] is False and report["ok"] is False
    assert {(e["row"], e["column"]) for e in report["errors"]} >= {(4, "指标"), (5, "指标")}
    assert counts() == before
    assert IndicatorValue.objects.get(indicator=stored, year=2019, period=6).value == Decimal("27")


@pytest.mark.parametrize(
    "rows, form, field",
    [
        ([["规模工业增加值", "亿元", "五", 27.3, 8.2]], {}, "file"),  # a non-numeric 本月
        ([["规模工业增加值", "亿元", 5, 27.3, -100]], {}, "file"),  # growth at −100%
        ([["规模工业增加值", "万元", 5, 27.3, 8]], {}, "file"),  # the wrong unit
        ([["规模工业增加值", "亿元", 5, 27.3, 8]], {"month": 13, "year": 2019}, "month"),
        ([["规模工业增加值", "亿元", 5, 27.3, 8]], {"month": 12, "year": 2999}, "month"),
    ],
)
def test_bad_sheets_are_refused_and_nothing_is_written(api, stored, rows, form, field):
    before = counts()
    response = api("statistics").post(IMPORT, {"file": sheet(rows), "dry_run": "false", **form})
    assert_error(response, 400, field)
    assert counts() == before
    assert IndicatorValue.objects.get(indicator=stored, year=2019, period=6).value == Decimal("27")


def test_a_sheet_for_a_month_still_to_come_is_refused(api, stored):
    coming = next_month()
    title = f"荷塘区{coming.year}年1-{coming.month}月主要经济指标"
    before = counts()
    response = api("statistics").post(IMPORT, {"file": sheet(ROWS[1:2], title=title), "dry_run": "false"})
    assert_error(response, 400, "month")
    assert counts() == before


def test_an_upload_that_is_not_a_workbook_or_missing(api, stored):
    client = api("statistics")
    not_excel = SimpleUploadedFile("a.xlsx", b"just text", content_type=XLSX)
    assert_error(client.post(IMPORT, {"file": not_excel, "dry_run": "false"}), 400, "file")
    assert_error(client.post(IMPORT, {"dry_run": "false"}), 400, "file")
    assert_error(client.post(IMPORT, {"file": sheet(ROWS[1:2]), "dry_run": "maybe"}), 400, "dry_run")


# -- the cockpit ----------------------------------------------------------------------------------------


@pytest.fixture
def behind_project(db):
    """A key project of 2019 with 100 of its 1,000 (10k yuan) planned done by the end of June."""
    project = Project.objects.create(
        name="荷塘智能制造产业园",
        stage=Stage.UNDER_CONSTRUCTION,
        pool=Pool.CONSTRUCTION,
        actual_start=dt.date(2019, 1, 2),
    )
    KeyProject.objects.create(project=project, year=2019, planned_investment=Decimal("1000"))
    MonthlyInvestment.objects.create(project=project, month=dt.date(2019, 3, 1), amount=Decimal("100"))
    return project


def _figures(panel: dict) -> dict:
    return {figure["key"]: figure for figure in panel["figures"]}


def test_the_cockpit_of_a_past_month(api, personas, stored, behind_project):
    response = api("leader").get(COCKPIT, {"month": "2019-06"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["as_of"] == "2019-06-30" and body["year"] == 2019
    assert set(body) == {"as_of", "year", "elapsed", "cards", "projects", "approvals", "services", "financing",
                         "chains"}

    card = next(card for card in body["cards"] if card["indicator"] == stored.code)
    assert (card["period"], card["value"], card["growth"], card["reached"]) == (6, "27.0000", "8.00", "0.4500")
    assert card["elapsed"] == "0.5000" and card["status"] == "watch" and card["name"] == "规模工业增加值"

    projects = body["projects"]
    assert projects["behind"] == [{
        "project": behind_project.pk, "name": "荷塘智能制造产业园", "plan": "1000.00", "done": "100.00",
        "share": "0.1000", "link": f"/projects/{behind_project.pk}/",
    }]
    behind = _figures(projects)["behind"]
    assert behind["value"] == 1 and "behind_plan=2019" in behind["link"]
    assert projects["key_plan"] == "1000.00" and projects["key_done"] == "100.00"

    # Every figure is the selector's, rendered: integers stay integers, decimals become strings.
    direct = selectors.cockpit(user=personas["leader"], as_of=dt.date(2019, 6, 30))
    render = FigureValueField().to_representation
    for panel in ("projects", "approvals", "services", "financing", "chains"):
        expected = [(f.key, f.label, render(f.value), f.unit, f.link) for f in direct[panel]["figures"]]
        got = [(f["key"], f["label"], f["value"], f["unit"], f["link"]) for f in body[panel]["figures"]]
        assert got == expected, panel
        assert all(figure["link"].startswith("/") for figure in body[panel]["figures"]), panel
    pools = {p["key"]: p["value"] for p in projects["pools"]}
    assert pools == {f.key: f.value for f in direct["projects"]["pools"]}
    assert pools[Pool.CONSTRUCTION] == 1
    chains = body["chains"]["chains"]
    assert [row["code"] for row in chains] == [row["code"] for row in direct["chains"]["chains"]]
    assert all({"nodes", "gaps", "coverage", "targets", "leads", "signed", "link"} <= set(row) for row in chains)


def test_the_cockpit_defaults_to_today(api, stored):
    body = api("statistics").get(COCKPIT).json()
    assert body["as_of"] == timezone.localdate().isoformat()
    this_month = timezone.localdate().strftime("%Y-%m")
    assert api("statistics").get(COCKPIT, {"month": this_month}).json()["as_of"] == timezone.localdate().isoformat()


@pytest.mark.parametrize("month", ["2019-13", "2019-00", "June", "2019/06", "1999-06", "next"])
def test_a_bad_month_is_400_naming_month(api, stored, month):
    assert_error(api("leader").get(COCKPIT, {"month": month}), 400, "month")


def test_a_month_still_to_come_is_400(api, stored):
    today = timezone.localdate()
    future = f"{today.year + 1}-{today.month:02d}"
    assert_error(api("leader").get(COCKPIT, {"month": future}), 400, "month")


def test_figure_values_render_consistently():
    render = FigureValueField().to_representation
    assert render(3) == 3 and render(None) is None and render("AA") == "AA"
    assert render(Decimal("0.8500")) == "0.8500" and render(Decimal("1E+3")) == "1000"


# -- the schema -----------------------------------------------------------------------------------------


def test_the_schema_documents_the_indicator_and_cockpit_api(api):
    response = api("admin").get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path, methods in [
        ("/api/indicators/", {"get", "post"}),
        ("/api/indicators/{code}/", {"get", "patch"}),
        ("/api/indicators/{code}/values/", {"get", "post"}),
        ("/api/indicators/{code}/values/{year}/{period}/", {"delete"}),
        ("/api/indicators/{code}/targets/", {"get", "post"}),
        ("/api/indicators/{code}/targets/{year}/", {"delete"}),
        ("/api/indicators/import/", {"post"}),
        ("/api/cockpit/", {"get"}),
    ]:
        assert methods <= set(paths[path]), path
    assert "put" not in paths["/api/indicators/{code}/"]
    assert {"200", "201", "400", "403"} <= set(paths["/api/indicators/import/"]["post"]["responses"])
    assert "multipart/form-data" in paths["/api/indicators/import/"]["post"]["requestBody"]["content"]
    assert {"400", "403", "404"} <= set(paths["/api/indicators/{code}/values/"]["post"]["responses"])
    assert "month" in {p["name"] for p in paths["/api/cockpit/"]["get"]["parameters"]}
    components = schema["components"]["schemas"]
    assert {"Cockpit", "IndicatorCard", "IndicatorList", "IndicatorImportReport", "CockpitFigure"} <= set(components)
