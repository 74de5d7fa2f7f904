"""Indicator pages and the leader cockpit: who sees and does what, entering values and targets from
the pages, the month's sheet (check, then import), the cockpit's cards and the links behind its
figures, and the credit page of loans granted that the cockpit's financing figures open."""

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from zhiyuan.credit import services as credit_services
from zhiyuan.credit.models import FinancingOffer, OfferStatus
from zhiyuan.indicators.models import Indicator, IndicatorValue, PeriodType, Target
from zhiyuan.investments import services as project_services
from zhiyuan.servicedesk import services as desk_services
from zhiyuan.servicedesk.models import Category

pytestmark = pytest.mark.collection_day  # dates computed at import

DISTRICT = ["admin", "leader", "investment", "project", "service_staff", "specialist", "window_clerk", "statistics"]
OUTSIDERS = ["firm_a", "firm_b", "bank", "city"]
EDITORS = ["statistics", "admin"]
TODAY = timezone.localdate()
YEAR = TODAY.year - 1  # a year whose every period has ended, whatever day the tests run
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _en(client):
    client.cookies["django_language"] = "en"
    return client


def _text(response) -> str:
    return response.content.decode()


@pytest.fixture
def series(gdp, industry_output, unemployment, value_factory, target_factory):
    """Two years of figures: 规模工业增加值 monthly (累计) with a value target, 地区生产总值 quarterly
    with a growth target, 城镇登记失业率 a level (lower is better) with a published growth only."""
    for month in range(1, 7):
        value_factory(industry_output, YEAR - 1, month, 4 * month)
        value_factory(industry_output, YEAR, month, 5 * month, period_value=5)
    target_factory(industry_output, YEAR, value=60)
    value_factory(gdp, YEAR - 1, 4, 200)
    value_factory(gdp, YEAR, 1, 50)
    value_factory(gdp, YEAR, 2, 110)
    target_factory(gdp, YEAR, growth=8)
    value_factory(unemployment, YEAR, 6, "3.9", source_growth="-2.5")
    target_factory(unemployment, YEAR, value="4.5")
    return {"gdp": gdp, "industry": industry_output, "unemployment": unemployment}


def _pages(code: str) -> list[str]:
    return [
        reverse("cockpit"),
        reverse("indicators:list"),
        reverse("indicators:detail", args=[code]),
        reverse("indicators:targets"),
        reverse("credit:granted"),
    ]


def _editor_pages(code: str) -> list[str]:
    return [
        reverse("indicators:create"),
        reverse("indicators:edit", args=[code]),
        reverse("indicators:import"),
        reverse("indicators:import_template"),
    ]


# -- permissions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", DISTRICT)
def test_district_staff_read_every_page(login, series, role):
    client = login(role)
    for url in _pages("gdp"):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", OUTSIDERS)
def test_firms_banks_and_the_city_are_refused(login, series, role):
    client = login(role)
    for url in [*_pages("gdp"), *_editor_pages("gdp")]:
        assert client.get(url).status_code == 403, url
    response = client.post(reverse("indicators:value_record", args=["gdp"]), {"year": YEAR, "period": 3, "value": 1})
    assert response.status_code == 403
    assert not IndicatorValue.objects.filter(indicator=series["gdp"], period=3).exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, series):
    for url in [*_pages("gdp"), *_editor_pages("gdp")]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login")), url


@pytest.mark.parametrize("role", EDITORS)
def test_editors_open_the_editing_pages(login, series, role):
    client = login(role)
    for url in _editor_pages("gdp"):
        assert client.get(url).status_code == 200, url


def test_a_leader_reads_but_does_not_edit(login, series):
    client = _en(login("leader"))
    for url in _editor_pages("gdp"):
        assert client.get(url).status_code == 403, url
    detail = _text(client.get(reverse("indicators:detail", args=["gdp"])))
    assert 'data-testid="value-form"' not in detail and 'data-testid="edit-link"' not in detail
    listing = _text(client.get(reverse("indicators:list")))
    assert 'data-testid="create-link"' not in listing and 'data-testid="import-link"' not in listing
    posts = [
        (reverse("indicators:value_record", args=["gdp"]), {"year": YEAR, "period": 3, "value": "170"}),
        (reverse("indicators:target_set", args=["gdp"]), {"year": YEAR + 1, "growth": "7"}),
        (reverse("indicators:targets"), {"indicator": "gdp", "year": YEAR + 1, "growth": "7"}),
        (reverse("indicators:create"), {"code": "x", "name": "新指标", "unit": "个"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert IndicatorValue.objects.count() == 16 and Target.objects.count() == 3 and Indicator.objects.count() == 3


# -- the list and one indicator --------------------------------------------------------------------------


def test_the_list_groups_every_indicator_with_its_latest_card(login, series, indicator_factory):
    indicator_factory("新增城镇就业", code="jobs", unit="人", group="social", on_cockpit=False)
    page = _text(_en(login("statistics")).get(reverse("indicators:list")))
    assert 'data-testid="group-economy"' in page and 'data-testid="group-social"' in page
    for code in ("gdp", "industry-value-added", "unemployment-rate", "jobs"):
        assert f'data-testid="card-{code}"' in page
    assert 'data-testid="create-link"' in page and 'data-testid="import-link"' in page


def test_the_detail_page_shows_every_value_with_growth_and_progress(login, series):
    page = _text(_en(login("leader")).get(reverse("indicators:detail", args=["industry-value-added"])))
    rows = re.findall(r'data-testid="value-row" data-period="([\d-]+)"', page)
    assert rows[:2] == [f"{YEAR}-6", f"{YEAR}-5"] and len(rows) == 12
    # June: 30 against 24 a year before (+25.0%), half of the 60 target reached with half the year gone.
    june = page.split(f'data-period="{YEAR}-6"')[1].split("</tr>")[0]
    assert "30.00" in june and "+25.0%" in june and "50.0%" in june and "On track" in june
    assert 'data-testid="trend-chart"' in page


def test_a_published_growth_is_marked_as_such(login, series):
    page = _text(_en(login("leader")).get(reverse("indicators:detail", args=["unemployment-rate"])))
    row = page.split('data-testid="value-row"')[1].split("</tr>")[0]
    assert "-2.50 percentage points" in row and "published" in row


def test_an_unknown_indicator_is_not_found(login, series):
    assert login("leader").get(reverse("indicators:detail", args=["nope"])).status_code == 404


# -- entering values and targets -------------------------------------------------------------------------


def test_the_statistics_officer_enters_and_corrects_a_value(login, series, personas):
    client = login("statistics")
    url = reverse("indicators:value_record", args=["gdp"])
    response = client.post(url, {"year": YEAR, "period": 3, "value": "1,70.5", "note": "快报"})
    assert response.status_code == 302 and response["Location"].endswith("/indicators/gdp/#values")
    row = IndicatorValue.objects.get(indicator=series["gdp"], year=YEAR, period=3)
    assert (row.value, row.note, row.entered_by) == (Decimal("170.5"), "快报", personas["statistics"])
    client.post(url, {"year": YEAR, "period": 3, "value": "171", "source_growth": "8.1%"})
    row.refresh_from_db()
    assert (row.value, row.source_growth) == (Decimal("171"), Decimal("8.1"))


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"year": YEAR, "period": 3, "value": "abc"}, "value"),
        ({"year": YEAR, "period": 3, "value": ""}, "value"),
        ({"year": YEAR, "period": 5, "value": "10"}, "period"),  # a quarterly indicator has no fifth quarter
        ({"year": TODAY.year + 1, "period": 1, "value": "10"}, "period"),  # not ended yet
        ({"year": YEAR, "period": 3, "value": "10", "source_growth": "-120"}, "source_growth"),
    ],
    ids=["not-a-number", "missing", "no-such-period", "future", "growth-below-minus-100"],
)
def test_bad_values_are_refused_on_their_field_and_nothing_is_written(login, series, data, field):
    before = IndicatorValue.objects.count()
    response = _en(login("statistics")).post(reverse("indicators:value_record", args=["gdp"]), data)
    assert response.status_code == 400
    assert re.search(rf'class="invalid-feedback d-block" data-field="{field}"', _text(response)), _text(response)
    assert IndicatorValue.objects.count() == before


def test_the_year_target_is_set_from_the_indicator_page(login, series):
    client = _en(login("statistics"))
    url = reverse("indicators:target_set", args=["gdp"])
    assert client.post(url, {"year": YEAR + 1, "value": "240", "growth": "8.5%"}).status_code == 302
    target = Target.objects.get(indicator=series["gdp"], year=YEAR + 1)
    assert (target.value, target.growth) == (Decimal("240"), Decimal("8.5"))
    bad = client.post(url, {"year": YEAR + 2, "growth": "-150"})
    assert bad.status_code == 400 and 'data-field="growth"' in _text(bad)
    empty = client.post(url, {"year": YEAR + 2})
    assert empty.status_code == 400 and "Give a target value, a target growth rate, or both." in _text(empty)
    assert not Target.objects.filter(year=YEAR + 2).exists()


def test_the_targets_page_lists_a_year_and_sets_a_target(login, series):
    client = _en(login("statistics"))
    page = _text(client.get(reverse("indicators:targets"), {"year": YEAR}))
    for code in ("gdp", "industry-value-added", "unemployment-rate"):
        assert f'data-testid="target-{code}"' in page
    assert "50.0%" in page.split('data-testid="target-industry-value-added"')[1].split("</tr>")[0]
    response = client.post(f"{reverse('indicators:targets')}?year={YEAR}",
                           {"indicator": "unemployment-rate", "year": YEAR + 1, "value": "4.2"})
    assert response.status_code == 302 and response["Location"].endswith(f"?year={YEAR + 1}")
    assert Target.objects.get(indicator=series["unemployment"], year=YEAR + 1).value == Decimal("4.2")
    bad = client.post(reverse("indicators:targets"), {"indicator": "unemployment-rate", "year": YEAR + 1,
                                                      "value": "many"})
    assert bad.status_code == 400 and 'data-field="value"' in _text(bad)
    assert Target.objects.get(indicator=series["unemployment"], year=YEAR + 1).value == Decimal("4.2")
    other_year = _text(client.get(reverse("indicators:targets"), {"year": YEAR + 5}))
    assert 'data-testid="no-targets"' in other_year


# -- definitions -----------------------------------------------------------------------------------------


def test_an_indicator_is_defined_and_edited(login, series):
    client = _en(login("statistics"))
    data = {
        "code": "high-tech", "name": "高新技术产业增加值", "aliases": "高新技术增加值", "unit": "亿元",
        "period_type": "month", "cumulative": "on", "higher_is_better": "on", "decimals": 1, "group": "industry",
        "on_cockpit": "on", "sequence": 5, "is_active": "on",
    }
    response = client.post(reverse("indicators:create"), data)
    assert response.status_code == 302 and response["Location"] == reverse("indicators:detail", args=["high-tech"])
    indicator = Indicator.objects.get(code="high-tech")
    assert (indicator.aliases, indicator.decimals, indicator.cumulative) == ("高新技术增加值", 1, True)
    duplicate = client.post(reverse("indicators:create"), {**data, "code": "high-tech-2"})
    assert duplicate.status_code == 400 and 'data-field="name"' in _text(duplicate)
    bad_code = client.post(reverse("indicators:create"), {**data, "code": "高新", "name": "另一个"})
    assert bad_code.status_code == 400 and 'data-field="code"' in _text(bad_code)
    assert Indicator.objects.count() == 4

    edit = client.post(reverse("indicators:edit", args=["high-tech"]), {**data, "unit": "万元", "cumulative": ""})
    assert edit.status_code == 302
    indicator.refresh_from_db()
    assert (indicator.unit, indicator.cumulative) == ("万元", False)
    # The period cannot change once values exist.
    gdp = {**data, "code": "gdp", "name": "地区生产总值", "aliases": "", "period_type": "month"}
    refused = client.post(reverse("indicators:edit", args=["gdp"]), gdp)
    assert refused.status_code == 400 and 'data-field="period_type"' in _text(refused)
    assert Indicator.objects.get(code="gdp").period_type == PeriodType.QUARTER


# -- a month's sheet -------------------------------------------------------------------------------------


def _sheet(rows, *, title=f"荷塘区{YEAR}年1-6月主要经济指标") -> SimpleUploadedFile:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([title])
    sheet.append(["指标", "单位", "本月", "累计", "同比增长(%)"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("6月指标.xlsx", buffer.getvalue(), content_type=XLSX)


def test_a_month_sheet_is_checked_then_imported(login, series, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = _en(login("statistics"))
    template = client.get(reverse("indicators:import_template"))
    assert template.status_code == 200 and template.content[:2] == b"PK"

    rows = [["一、主要指标", None, None, None, None], ["地区生产总值(GDP)", "亿元", 60, 170, 8.2],
            ["规模工业增加值", "亿元", 5.5, 31, 9.1]]
    upload = client.post(reverse("indicators:import"), {"file": _sheet(rows)})
    assert upload.status_code == 302
    preview = client.get(upload["Location"])
    page = _text(preview)
    assert preview.status_code == 200 and 'data-testid="confirm-import"' in page
    assert page.count('data-testid="preview-row"') == 2
    assert "170.00" in page and "31.00" in page and "30.00" in page  # 30.00 was June's value before
    assert IndicatorValue.objects.get(indicator=series["industry"], year=YEAR, period=6).value == Decimal("30")
    assert not IndicatorValue.objects.filter(indicator=series["gdp"], period=2, value=170).exists()

    token = upload["Location"].rstrip("/").rsplit("/", 1)[-1]
    confirmed = client.post(reverse("indicators:import_confirm", args=[token]))
    assert confirmed.status_code == 302
    assert IndicatorValue.objects.get(indicator=series["gdp"], year=YEAR, period=2).value == Decimal("170")
    june = IndicatorValue.objects.get(indicator=series["industry"], year=YEAR, period=6)
    assert (june.value, june.period_value, june.source_growth) == (Decimal("31"), Decimal("5.5"), Decimal("9.1"))
    assert client.post(reverse("indicators:import_confirm", args=[token])).status_code == 404
    assert not list(tmp_path.rglob("*.xlsx"))


def test_the_month_can_be_given_when_the_title_does_not_name_it(login, series, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = _en(login("statistics"))
    sheet = _sheet([["规模工业增加值", "亿元", 4, 34, 9]], title="主要经济指标")
    no_month = client.post(reverse("indicators:import"), {"file": sheet})
    assert no_month.status_code == 400 and 'data-field="month"' in _text(no_month)
    sheet.seek(0)
    upload = client.post(reverse("indicators:import"), {"file": sheet, "year": YEAR, "month": 7})
    preview = _text(client.get(upload["Location"]))
    assert f"{YEAR}, months 1–7" in preview
    client.post(reverse("indicators:import_confirm", args=[upload["Location"].rstrip("/").rsplit("/", 1)[-1]]))
    assert IndicatorValue.objects.get(indicator=series["industry"], year=YEAR, period=7).value == Decimal("34")


def test_unknown_names_and_bad_numbers_are_listed_and_nothing_is_written(login, series, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = _en(login("statistics"))
    before = list(IndicatorValue.objects.values_list("pk", "value"))
    rows = [
        ["地区生产总值", "亿元", 60, 170, 8.2],
        ["神秘指标", "亿元", 1, 2, 3],
        ["规模工业增加值", "亿元", "多", 31, 9],
    ]
    upload = client.post(reverse("indicators:import"), {"file": _sheet(rows)})
    preview = client.get(upload["Location"])
    page = _text(preview)
    assert preview.status_code == 400
    assert 'data-testid="unknown-names"' in page and "神秘指标" in page
    errors = re.findall(r"<tr><td class=\"text-end\">(\d+)</td><td>([^<]+)</td>", page)
    assert ("4", "指标") in errors and ("5", "本月") in errors
    assert 'data-testid="confirm-import"' not in page
    token = upload["Location"].rstrip("/").rsplit("/", 1)[-1]
    assert client.post(reverse("indicators:import_confirm", args=[token])).status_code == 400
    assert list(IndicatorValue.objects.values_list("pk", "value")) == before


def test_a_file_that_is_not_a_sheet_is_refused_on_the_form(login, series, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = _en(login("statistics"))
    response = client.post(reverse("indicators:import"), {"file": SimpleUploadedFile("a.xlsx", b"nope")})
    assert response.status_code == 400 and 'data-field="file"' in _text(response)
    half = client.post(reverse("indicators:import"), {"file": _sheet([]), "year": YEAR})
    assert half.status_code == 400 and "Give both the year and the month, or neither." in _text(half)
    one_row = _sheet([["地区生产总值", "亿元", 60, 170, 8.2]])
    future = client.post(reverse("indicators:import"), {"file": one_row, "year": TODAY.year + 1, "month": 1})
    assert future.status_code == 400 and 'data-field="month"' in _text(future)
    assert not list(tmp_path.rglob("*.xlsx"))


def test_a_checked_sheet_can_be_discarded(login, series, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = login("statistics")
    upload = client.post(reverse("indicators:import"), {"file": _sheet([["地区生产总值", "亿元", 60, 170, 8.2]])})
    token = upload["Location"].rstrip("/").rsplit("/", 1)[-1]
    assert list(tmp_path.rglob("*.xlsx"))
    assert client.post(reverse("indicators:import_discard", args=[token])).status_code == 302
    assert not list(tmp_path.rglob("*.xlsx"))
    assert client.post(reverse("indicators:import_confirm", args=[token])).status_code == 404
    assert not IndicatorValue.objects.filter(indicator=series["gdp"], period=2, value=170).exists()


# -- the cockpit -----------------------------------------------------------------------------------------


@pytest.fixture
def behind_project(personas):
    """A key project of this year with an overdue milestone (behind plan), and a project with an
    overdue milestone that is not on the key list (not counted)."""
    officer = personas["investment"]
    late = project_services.lead_create(actor=officer, data={"name": "好媳妇日用品智能制造基地"})
    project_services.key_project_set(actor=officer, project=late, year=TODAY.year, planned_investment="1000")
    overdue = TODAY - dt.timedelta(days=3)
    project_services.milestone_add(actor=officer, project=late, name="主体封顶", planned_on=overdue)
    other = project_services.lead_create(actor=officer, data={"name": "怡亚通金巢现代工业园"})
    project_services.milestone_add(actor=officer, project=other, name="土地摘牌", planned_on=overdue)
    return late


def test_the_cockpit_shows_cards_charts_panels_and_report_buttons(login, series, behind_project):
    page = _text(_en(login("leader")).get(reverse("cockpit")))
    for code in ("gdp", "industry-value-added", "unemployment-rate"):
        assert f'data-testid="card-{code}"' in page
    industry = page.split('data-testid="card-industry-value-added"')[1].split("</a>")[0]
    assert "30.00" in industry and "▲ +25.0%" in industry and 'data-status="good"' in page
    assert 'data-testid="growth-published"' in page.split('data-testid="card-unemployment-rate"')[1].split("</a>")[0]
    assert 'data-testid="trend-industry-value-added"' in page and "plotly/plotly.min.js" in page
    for panel in ("projects", "approvals", "services", "financing", "chains"):
        assert f'data-testid="panel-{panel}"' in page
    month = TODAY.replace(day=1) - dt.timedelta(days=1)
    docx = reverse("indicators:report", args=[month.year, month.month, "docx"])
    assert f'href="{docx}"' in page and reverse("indicators:report", args=[month.year, month.month, "xlsx"]) in page
    assert f'data-as-of="{TODAY:%Y-%m-%d}"' in page


def test_the_behind_plan_count_links_to_the_filtered_project_list(login, behind_project):
    client = login("leader")
    page = _text(client.get(reverse("cockpit")))
    found = re.search(r'<a class="behind-count[^"]*" href="([^"]+)" data-testid="figure-behind">(\d+)</a>', page)
    assert found, page
    link, count = found.group(1), int(found.group(2))
    assert link == f"/projects/?behind_plan={TODAY.year}" and count == 1
    listing = _text(client.get(link))
    assert "好媳妇日用品智能制造基地" in listing and "怡亚通金巢现代工业园" not in listing
    assert f'href="{reverse("investments:detail", args=[behind_project.pk])}"' in page


def test_every_cockpit_figure_is_a_link(login, series, behind_project):
    page = _text(login("leader").get(reverse("cockpit")))
    figures = re.findall(r'<a class="(?:figure-number|behind-count)[^"]*" href="([^"]*)" data-testid="(figure-[^"]+)"',
                         page)
    keys = {key for _link, key in figures}
    for key in ("figure-behind", "figure-signed", "figure-pool-reserve", "figure-approvals-accepted",
                "figure-services-reply_rate", "figure-financing-loans", "figure-financing-amount",
                "figure-chains-gaps"):
        assert key in keys, key
    assert all(link.startswith("/") for link, _key in figures)
    links = {key: link for link, key in figures}
    assert links["figure-financing-loans"] == f"/credit/granted/?year={TODAY.year}"
    assert links["figure-approvals-accepted"] == f"/approvals/list/?accepted_year={TODAY.year}"


def test_the_cockpit_as_of_a_past_month(login, series):
    client = _en(login("leader"))
    page = _text(client.get(reverse("cockpit"), {"month": f"{YEAR}-03"}))
    assert f'data-as-of="{YEAR}-03-31"' in page and 'data-testid="month-error"' not in page
    industry = page.split('data-testid="card-industry-value-added"')[1].split("</a>")[0]
    assert "15.00" in industry and f"{YEAR}, months 1–3" in industry
    docx = reverse("indicators:report", args=[YEAR, 3, "docx"])
    assert f'href="{docx}"' in page


@pytest.mark.parametrize("month", ["2019-13", "june", f"{TODAY.year + 1}-01", "1999-01"])
def test_a_bad_or_future_month_shows_today_with_a_message(login, series, month):
    response = _en(login("leader")).get(reverse("cockpit"), {"month": month})
    page = _text(response)
    assert response.status_code == 200 and 'data-testid="month-error"' in page
    assert f'data-as-of="{TODAY:%Y-%m-%d}"' in page


def test_the_wall_screen_is_dark_and_refreshes(login, series):
    page = _text(login("leader").get(reverse("cockpit"), {"wall": "1"}))
    assert 'data-bs-theme="dark"' in page and '<meta http-equiv="refresh" content="300">' in page
    assert "cockpit-wall" in page and 'data-testid="wall-exit"' in page
    normal = _text(login("leader").get(reverse("cockpit")))
    assert 'data-bs-theme="dark"' not in normal and 'http-equiv="refresh"' not in normal


def test_the_navigation_offers_the_cockpit_first_to_leaders(login):
    leader = _text(_en(login("leader")).get(reverse("core:home")))
    nav = re.findall(r'<li class="nav-item"><a class="nav-link[^"]*" href="([^"]+)"', leader)
    assert nav[0] == reverse("cockpit") and reverse("indicators:list") in nav
    statistics = re.findall(r'<li class="nav-item"><a class="nav-link[^"]*" href="([^"]+)"',
                            _text(login("statistics").get(reverse("core:home"))))
    assert statistics[0] == reverse("core:home") and reverse("cockpit") in statistics
    firm = _text(login("firm_a").get(reverse("core:home")))
    assert reverse("cockpit") not in firm and reverse("indicators:list") not in firm


# -- the credit page behind the financing figures ------------------------------------------------------------


def _granted_loan(personas, *, amount: str, on: dt.date) -> FinancingOffer:
    need = desk_services.request_submit(
        actor=personas["firm_a"],
        enterprise=personas["firm_a"].organisation.enterprise,
        category=Category.FINANCING,
        title="流动资金贷款",
        description="采购原材料需要流动资金。",
        financing={"amount": "500", "term_months": 12, "purpose": "流动资金", "share_with_banks": True},
        on=dt.date(2026, 6, 10),
    )
    offer = credit_services.offer_create(actor=personas["bank"], need=need, amount="400", term_months=12, rate="4.2")
    credit_services.offer_accept(actor=personas["firm_a"], offer=offer)
    return credit_services.offer_record_outcome(
        actor=personas["bank"], offer=offer, granted=True, amount=amount, granted_on=on.isoformat()
    )


def test_the_granted_loans_page_lists_a_year_with_its_total(login, personas):
    _granted_loan(personas, amount="380", on=dt.date(2026, 6, 12))
    client = _en(login("leader"))
    page = _text(client.get(reverse("credit:granted"), {"year": 2026}))
    assert page.count('data-testid="granted-row"') == 1
    assert "株洲硬质合金集团有限公司" in page and "380.00" in page
    assert re.search(r'data-testid="granted-total">380.00<', page)
    assert "1 loan" in page
    other = _text(client.get(reverse("credit:granted"), {"year": 2025}))
    assert 'data-testid="granted-row"' not in other
    assert FinancingOffer.objects.get().status == OfferStatus.GRANTED
    for role in ("firm_a", "bank", "city"):
        assert login(role).get(reverse("credit:granted")).status_code == 403
