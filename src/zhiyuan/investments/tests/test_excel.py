"""The key-project table in and out of Excel: a good file, each kind of bad row (reported as Excel row,
column header and reason), a mixed file that writes nothing, file-level refusals, the command, the
pages (upload → preview → confirm → result), and the 推进表 export read back with openpyxl."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone, translation
from openpyxl import Workbook, load_workbook

from zhiyuan.accounts.models import Organisation, OrganisationKind
from zhiyuan.conftest import make_uscc
from zhiyuan.core.errors import PermissionDeniedError, ValidationFailed
from zhiyuan.core.models import AuditEntry
from zhiyuan.investments import imports
from zhiyuan.investments.imports import (
    ANNUAL,
    BUILDER,
    CHAIN,
    CODE,
    COMPLETION,
    CONTENT,
    HEADERS,
    LEADER,
    NAME,
    REPORT_HEADERS,
    SEQUENCE,
    START,
    TOTAL,
    UNIT,
    key_projects_import,
)
from zhiyuan.investments.models import (
    Blocker,
    KeyProject,
    MonthlyInvestment,
    Pool,
    Project,
    Stage,
    StageChange,
    Status,
)
from zhiyuan.investments.services import (
    blocker_raise,
    blocker_resolve,
    decision_record,
    key_project_set,
    lead_create,
    monthly_investment_record,
    project_transition,
)

pytestmark = pytest.mark.django_db

D = dt.date
YEAR = 2026
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def units(db):
    return {
        "fgj": Organisation.objects.create(name="荷塘区发展和改革局", kind=OrganisationKind.DISTRICT),
        "zjj": Organisation.objects.create(name="荷塘区住房和城乡建设局", kind=OrganisationKind.DISTRICT),
    }


@pytest.fixture
def setup(personas, units, firm_a, firm_b):
    return {"personas": personas, "units": units, "firm_a": firm_a, "firm_b": firm_b}


def good_rows(firm_a, firm_b) -> list[dict]:
    """Three correct rows: a registered firm by name, one by its USCC, and a builder not registered."""
    return [
        {
            SEQUENCE: 1,
            NAME: "株硬集团硬质合金配套产业园",
            BUILDER: firm_a.name,
            CONTENT: "厂房及生产线",
            TOTAL: 120000,
            ANNUAL: 30000,
            UNIT: "荷塘区发展和改革局",
            LEADER: "周区长",
            START: dt.datetime(2026, 3, 1),
            COMPLETION: dt.datetime(2027, 12, 31),
            CODE: "2026-430202-34-03-000001",
            CHAIN: "新材料",
        },
        {
            SEQUENCE: 2,
            NAME: "飞鹿新材料扩产项目",
            BUILDER: firm_b.uscc,
            CONTENT: "涂料生产线",
            TOTAL: "8,500.50",
            ANNUAL: "2000",
            UNIT: "荷塘区住房和城乡建设局",
            LEADER: "leader",
            START: "2026年4月",
            COMPLETION: "2026/12/15",
            CODE: None,
            CHAIN: "rail",
        },
        {
            SEQUENCE: 3,
            NAME: "怡亚通金巢现代工业园",
            BUILDER: "深圳市怡亚通供应链股份有限公司",
            CONTENT: "标准厂房",
            TOTAL: 50000,
            ANNUAL: 10000,
            UNIT: None,
            LEADER: None,
            START: None,
            COMPLETION: None,
            CODE: None,
            CHAIN: None,
        },
    ]


def sheet(rows: list[dict], *, headers: list[str] = HEADERS, title: str | None = "2026年荷塘区重点项目表") -> bytes:
    """A workbook like the district's: a title row, the header row, one row per dict (keyed by header)."""
    workbook = Workbook()
    ws = workbook.active
    if title:
        ws.append([title])
    ws.append(headers)
    for row in rows:
        ws.append([row.get(h) for h in headers])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def first_row() -> int:
    """The Excel row number of the first data row in `sheet()` (title row 1, headers row 2)."""
    return 3


def nothing_written(audit_before: int) -> bool:
    return (
        not Project.objects.exists()
        and not KeyProject.objects.exists()
        and not StageChange.objects.exists()
        and AuditEntry.objects.count() == audit_before
    )


# --- a good file ----------------------------------------------------------------------------------


def test_dry_run_checks_every_row_and_writes_nothing(setup):
    content = sheet(good_rows(setup["firm_a"], setup["firm_b"]))
    audit_before = AuditEntry.objects.count()
    report = key_projects_import(actor=setup["personas"]["project"], source=content, year=YEAR)
    assert report.ok, report.errors
    assert (report.created, report.updated, report.written) == (3, 0, False)
    assert [r.row for r in report.rows] == [3, 4, 5]
    assert nothing_written(audit_before)


def test_a_good_file_creates_signed_projects_on_the_years_list(setup):
    personas, units, firm_a, firm_b = setup["personas"], setup["units"], setup["firm_a"], setup["firm_b"]
    report = key_projects_import(
        actor=personas["project"], source=sheet(good_rows(firm_a, firm_b)), year=YEAR, dry_run=False
    )
    assert report.written and (report.created, report.updated) == (3, 0)
    names = ("株硬集团硬质合金配套产业园", "飞鹿新材料扩产项目", "怡亚通金巢现代工业园")
    hard, feilu, yiyatong = (Project.objects.get(name=n) for n in names)
    for project in (hard, feilu, yiyatong):
        assert (project.stage, project.pool, project.status) == (Stage.SIGNED, Pool.RESERVE, Status.ACTIVE)
        assert project.project_officer == personas["project"]
        change = StageChange.objects.get(project=project)
        assert (change.from_stage, change.to_stage, change.on) == (Stage.LEAD, Stage.SIGNED, timezone.localdate())
        assert str(YEAR) in change.note
        for action in ("investments.project.imported", "investments.project.key_listed"):
            assert AuditEntry.objects.filter(action=action, object_id=str(project.pk)).count() == 1
    assert (hard.enterprise, hard.code, hard.chain, hard.total_investment) == (
        firm_a,
        "2026-430202-34-03-000001",
        "new_materials",
        Decimal("120000"),
    )
    assert (hard.description, hard.planned_start, hard.planned_completion) == (
        "厂房及生产线",
        D(2026, 3, 1),
        D(2027, 12, 31),
    )
    assert (feilu.enterprise, feilu.investor_name, feilu.total_investment, feilu.chain) == (
        firm_b,
        firm_b.name,
        Decimal("8500.50"),
        "rail",
    )
    assert (feilu.planned_start, feilu.planned_completion, feilu.code) == (D(2026, 4, 1), D(2026, 12, 15), None)
    assert (yiyatong.enterprise, yiyatong.investor_name, yiyatong.chain) == (
        None,
        "深圳市怡亚通供应链股份有限公司",
        "other",
    )
    listings = {k.project.name: k for k in KeyProject.objects.filter(year=YEAR).select_related("project")}
    assert (listings[hard.name].sequence, listings[hard.name].planned_investment) == (1, Decimal("30000"))
    assert (listings[hard.name].liaison_leader, listings[hard.name].responsible_unit) == (
        personas["leader"],
        units["fgj"],
    )
    assert (listings[feilu.name].liaison_leader, listings[feilu.name].responsible_unit) == (
        personas["leader"],
        units["zjj"],
    )
    assert (listings[yiyatong.name].liaison_leader, listings[yiyatong.name].responsible_unit) == (None, None)


def test_importing_again_updates_the_listings_instead_of_duplicating(setup):
    rows = good_rows(setup["firm_a"], setup["firm_b"])
    key_projects_import(actor=None, source=sheet(rows), year=YEAR, dry_run=False)
    rows[0][ANNUAL] = 45000
    rows[1][UNIT] = "荷塘区发展和改革局"
    report = key_projects_import(actor=None, source=sheet(rows), year=YEAR, dry_run=False)
    assert (report.created, report.updated) == (0, 3)
    assert Project.objects.count() == 3
    assert KeyProject.objects.count() == 3
    assert KeyProject.objects.get(project__name=rows[0][NAME]).planned_investment == Decimal("45000")
    assert KeyProject.objects.get(project__name=rows[1][NAME]).responsible_unit == setup["units"]["fgj"]
    hard = Project.objects.get(name=rows[0][NAME])
    entry = AuditEntry.objects.filter(action="investments.project.key_listed", object_id=str(hard.pk)).latest("pk")
    assert entry.changes == {f"key project {YEAR}": ["30000.00", "45000.00"]}


def test_another_years_list_is_separate(setup):
    rows = good_rows(setup["firm_a"], setup["firm_b"])
    key_projects_import(actor=None, source=sheet(rows), year=YEAR - 1, dry_run=False)
    report = key_projects_import(actor=None, source=sheet(rows), year=YEAR, dry_run=False)
    assert (report.created, report.updated) == (0, 3)
    assert sorted(KeyProject.objects.values_list("year", flat=True)) == [YEAR - 1] * 3 + [YEAR] * 3


def test_an_existing_project_by_name_gets_its_listing_and_its_missing_code(setup):
    existing = lead_create(actor=None, data={"name": "飞鹿新材料扩产项目", "enterprise": setup["firm_b"]})
    rows = good_rows(setup["firm_a"], setup["firm_b"])
    rows[1][CODE] = "2026-430202-34-03-000002"
    report = key_projects_import(actor=None, source=sheet(rows), year=YEAR, dry_run=False)
    assert (report.created, report.updated) == (2, 1)
    existing.refresh_from_db()
    assert (existing.stage, existing.code) == (Stage.LEAD, "2026-430202-34-03-000002")
    assert KeyProject.objects.get(project=existing).planned_investment == Decimal("2000")
    assert StageChange.objects.filter(project=existing).count() == 0


def test_an_existing_project_by_code_is_updated_even_with_a_title_less_sheet(setup):
    existing = lead_create(actor=None, data={"name": "株硬集团硬质合金配套产业园", "code": "2026-430202-34-03-000001"})
    rows = good_rows(setup["firm_a"], setup["firm_b"])[:1]
    report = key_projects_import(actor=None, source=sheet(rows, title=None), year=YEAR, dry_run=False)
    assert (report.created, report.updated) == (0, 1)
    assert KeyProject.objects.get().project == existing


def test_header_spellings_and_skipped_rows(setup):
    rows = good_rows(setup["firm_a"], setup["firm_b"])
    headers = [
        "序 号",
        "项目名称",
        "建设单位",
        "建设内容及规模",
        "总投资（万元）",
        "年度计划投资",
        "责任单位",
        "联点领导",
        "计划开工时间",
        "计划竣工时间",
        "投资项目代码",
        "产业链",
    ]
    workbook = Workbook()
    ws = workbook.active
    ws.append(["2026年重点项目"])
    ws.append([])
    ws.append(headers + ["备注"])
    ws.append(["一、在建项目"])
    for row in rows:
        ws.append([row.get(h) for h in HEADERS] + ["备注内容"])
    ws.append(["合计", None, None, None, 178500.5, 42000])
    out = io.BytesIO()
    workbook.save(out)
    report = key_projects_import(actor=None, source=out.getvalue(), year=YEAR)
    assert report.ok, report.errors
    assert [r.row for r in report.rows] == [5, 6, 7]
    assert [r.sequence for r in report.rows] == [1, 2, 3]


# --- bad rows -------------------------------------------------------------------------------------


BAD_CELLS = [
    ("negative-total", {TOTAL: -5}, TOTAL, None),
    ("text-total", {TOTAL: "十二亿"}, TOTAL, None),
    ("negative-annual", {ANNUAL: "-1"}, ANNUAL, None),
    ("text-annual", {ANNUAL: "abc"}, ANNUAL, None),
    ("blank-annual", {ANNUAL: None}, ANNUAL, None),
    ("blank-total-new", {TOTAL: None}, TOTAL, None),
    ("blank-name", {NAME: None}, NAME, None),
    ("malformed-code", {CODE: "2019-43"}, CODE, None),
    ("code-bad-region", {CODE: "2026-000000-34-03-000001"}, CODE, None),
    ("unknown-unit", {UNIT: "荷塘区不存在局"}, UNIT, "荷塘区发展和改革局"),
    ("unit-not-district", {UNIT: "株洲农村商业银行荷塘支行"}, UNIT, "荷塘区住房和城乡建设局"),
    ("unknown-leader", {LEADER: "李四"}, LEADER, "周区长"),
    ("leader-not-a-leader", {LEADER: "王项目"}, LEADER, "周区长"),
    ("bad-start", {START: "明年春天"}, START, None),
    ("bad-completion", {COMPLETION: "2026-13-45"}, COMPLETION, None),
    ("completion-before-start", {START: "2026-06-01", COMPLETION: "2026-05-31"}, COMPLETION, None),
    ("unknown-chain", {CHAIN: "航空航天"}, CHAIN, None),
    ("bad-sequence", {SEQUENCE: "第一"}, SEQUENCE, None),
]


@pytest.mark.parametrize(("change", "column", "mentions"), [c[1:] for c in BAD_CELLS], ids=[c[0] for c in BAD_CELLS])
def test_each_bad_cell_is_reported_with_row_and_column_and_nothing_is_written(setup, change, column, mentions):
    rows = good_rows(setup["firm_a"], setup["firm_b"])
    rows[1].update(change)
    audit_before = AuditEntry.objects.count()
    report = key_projects_import(actor=setup["personas"]["project"], source=sheet(rows), year=YEAR, dry_run=False)
    assert [(e.row, e.column) for e in report.errors] == [(first_row() + 1, column)]
    assert report.errors[0].message
    if mentions:
        assert mentions in report.errors[0].message
    assert not report.written
    assert nothing_written(audit_before)


def test_a_code_used_twice_in_the_file_is_reported_on_the_second_row(setup):
    rows = good_rows(setup["firm_a"], setup["firm_b"])
    rows[2][CODE] = rows[0][CODE]
    report = key_projects_import(actor=None, source=sheet(rows), year=YEAR, dry_run=False)
    assert [(e.row, e.column) for e in report.errors] == [(5, CODE)]
    assert "3" in report.errors[0].message
    assert not Project.objects.exists()


def test_a_project_listed_twice_in_the_file_is_reported(setup):
    rows = good_rows(setup["firm_a"], setup["firm_b"])
    rows[2][NAME] = rows[1][NAME]
    report = key_projects_import(actor=None, source=sheet(rows), year=YEAR, dry_run=False)
    assert [(e.row, e.column) for e in report.errors] == [(5, NAME)]
    assert not Project.objects.exists()


def test_a_code_that_belongs_to_another_project_is_reported(setup):
    lead_create(actor=None, data={"name": "别的项目", "code": "2026-430202-34-03-000001"})
    rows = good_rows(setup["firm_a"], setup["firm_b"])
    report = key_projects_import(actor=None, source=sheet(rows), year=YEAR, dry_run=False)
    assert [(e.row, e.column) for e in report.errors] == [(3, CODE)]
    assert "别的项目" in report.errors[0].message
    assert Project.objects.count() == 1 and not KeyProject.objects.exists()


def test_a_project_whose_code_differs_from_the_sheets_is_reported(setup):
    lead_create(actor=None, data={"name": "株硬集团硬质合金配套产业园", "code": "2026-430202-34-03-000009"})
    report = key_projects_import(actor=None, source=sheet(good_rows(setup["firm_a"], setup["firm_b"])), year=YEAR)
    assert [(e.row, e.column) for e in report.errors] == [(3, CODE)]


def test_several_projects_with_the_rows_name_need_the_code(setup):
    for _n in range(2):
        lead_create(actor=None, data={"name": "怡亚通金巢现代工业园"})
    report = key_projects_import(actor=None, source=sheet(good_rows(setup["firm_a"], setup["firm_b"])), year=YEAR)
    assert [(e.row, e.column) for e in report.errors] == [(5, NAME)]


def test_a_withdrawn_project_cannot_be_listed(setup):
    project = lead_create(actor=None, data={"name": "怡亚通金巢现代工业园"})
    decision_record(actor=setup["personas"]["leader"], project=project, kind="withdraw", reason="企业撤资")
    report = key_projects_import(actor=None, source=sheet(good_rows(setup["firm_a"], setup["firm_b"])), year=YEAR)
    assert [(e.row, e.column) for e in report.errors] == [(5, NAME)]


def test_a_mixed_file_reports_every_bad_row_and_writes_nothing(setup):
    rows = good_rows(setup["firm_a"], setup["firm_b"])
    rows[0][TOTAL] = -1
    rows[0][UNIT] = "不存在的单位"
    rows[2][START] = "2026-09-01"
    rows[2][COMPLETION] = "2026-01-01"
    audit_before = AuditEntry.objects.count()
    report = key_projects_import(actor=setup["personas"]["admin"], source=sheet(rows), year=YEAR, dry_run=False)
    assert [(e.row, e.column) for e in report.errors] == [(3, TOTAL), (3, UNIT), (5, COMPLETION)]
    assert [r.row for r in report.rows] == [4]
    assert not report.written
    assert nothing_written(audit_before)


# --- file-level refusals --------------------------------------------------------------------------


def test_not_a_spreadsheet_is_refused_naming_the_file(setup):
    for content in (b"hello, world", b"\xd0\xcf\x11\xe0" + b"\0" * 100, b"PK\x03\x04broken"):
        with pytest.raises(ValidationFailed) as excinfo:
            key_projects_import(actor=None, source=content, year=YEAR)
        assert set(excinfo.value.fields) == {"file"}


def test_missing_columns_are_listed(setup):
    headers = [h for h in HEADERS if h not in (UNIT, LEADER)]
    with pytest.raises(ValidationFailed) as excinfo:
        key_projects_import(actor=None, source=sheet([], headers=headers), year=YEAR)
    message = excinfo.value.fields["file"][0]
    assert UNIT in message and LEADER in message


def test_a_sheet_without_the_header_row_is_refused(setup):
    with pytest.raises(ValidationFailed) as excinfo:
        key_projects_import(actor=None, source=sheet([{}], headers=["甲", "乙"]), year=YEAR)
    assert NAME in excinfo.value.fields["file"][0]


def test_a_file_over_the_size_limit_is_refused(setup, settings):
    settings.ZHIYUAN_IMPORT_MAX_BYTES = 1000
    with pytest.raises(ValidationFailed) as excinfo:
        key_projects_import(actor=None, source=sheet(good_rows(setup["firm_a"], setup["firm_b"])), year=YEAR)
    assert "file" in excinfo.value.fields


@pytest.mark.parametrize("year", ["twenty", 1999, timezone.localdate().year + 2])
def test_an_implausible_year_is_refused(setup, year):
    with pytest.raises(ValidationFailed) as excinfo:
        key_projects_import(actor=None, source=sheet(good_rows(setup["firm_a"], setup["firm_b"])), year=year)
    assert set(excinfo.value.fields) == {"year"}


@pytest.mark.parametrize("key", ["leader", "specialist", "statistics", "firm_a", "bank"])
def test_only_the_project_and_investment_offices_import(setup, key):
    with pytest.raises(PermissionDeniedError):
        key_projects_import(
            actor=setup["personas"][key], source=sheet(good_rows(setup["firm_a"], setup["firm_b"])), year=YEAR
        )


# --- the command ----------------------------------------------------------------------------------


def test_the_command_dry_runs_then_imports(setup, tmp_path):
    path = tmp_path / "重点项目.xlsx"
    path.write_bytes(sheet(good_rows(setup["firm_a"], setup["firm_b"])))
    out = io.StringIO()
    call_command("import_projects", str(path), "--year", str(YEAR), "--dry-run", stdout=out)
    assert "3" in out.getvalue()
    assert not Project.objects.exists()
    call_command("import_projects", str(path), "--year", str(YEAR), "--user", "xiangmu", stdout=io.StringIO())
    assert KeyProject.objects.filter(year=YEAR).count() == 3
    entry = AuditEntry.objects.filter(action="investments.project.imported").first()
    assert entry.actor == setup["personas"]["project"]


def test_the_command_lists_bad_rows_and_fails(setup, tmp_path):
    rows = good_rows(setup["firm_a"], setup["firm_b"])
    rows[1][ANNUAL] = "abc"
    path = tmp_path / "bad.xlsx"
    path.write_bytes(sheet(rows))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_projects", str(path), "--year", str(YEAR), stderr=err)
    assert "4" in err.getvalue() and ANNUAL in err.getvalue()
    assert not Project.objects.exists()


def test_the_command_refuses_a_missing_file_and_a_user_without_the_role(setup, tmp_path):
    with pytest.raises(CommandError):
        call_command("import_projects", str(tmp_path / "none.xlsx"), "--year", str(YEAR))
    path = tmp_path / "ok.xlsx"
    path.write_bytes(sheet(good_rows(setup["firm_a"], setup["firm_b"])))
    with pytest.raises(CommandError):
        call_command("import_projects", str(path), "--year", str(YEAR), "--user", "leader")
    assert not Project.objects.exists()


# --- the pages ------------------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload(client, content: bytes, year=YEAR, name="重点项目.xlsx"):
    return client.post(
        "/projects/excel/import/", {"year": year, "file": SimpleUploadedFile(name, content, content_type=XLSX)}
    )


def test_upload_preview_confirm_result(setup, login, media):
    client = login("project")
    assert client.get("/projects/excel/import/").status_code == 200
    response = upload(client, sheet(good_rows(setup["firm_a"], setup["firm_b"])))
    assert response.status_code == 302
    preview_url = response["Location"]
    token = preview_url.rstrip("/").rsplit("/", 1)[-1]
    assert len(list((media / "imports" / "projects").iterdir())) == 1
    preview = client.get(preview_url)
    assert preview.status_code == 200
    text = preview.content.decode()
    assert 'data-testid="import-preview"' in text and "怡亚通金巢现代工业园" in text
    assert not Project.objects.exists()
    response = client.post(f"/projects/excel/import/{token}/confirm/")
    assert response.status_code == 302
    result = client.get(response["Location"])
    assert result.status_code == 200 and 'data-testid="import-result"' in result.content.decode()
    assert KeyProject.objects.filter(year=YEAR).count() == 3
    assert list((media / "imports" / "projects").iterdir()) == []
    # The token is spent.
    assert client.post(f"/projects/excel/import/{token}/confirm/").status_code == 404


def test_the_preview_lists_bad_rows_and_confirm_writes_nothing(setup, login, media):
    rows = good_rows(setup["firm_a"], setup["firm_b"])
    rows[2][UNIT] = "不存在的单位"
    client = login("investment")
    preview_url = upload(client, sheet(rows))["Location"]
    token = preview_url.rstrip("/").rsplit("/", 1)[-1]
    preview = client.get(preview_url)
    assert preview.status_code == 400
    text = preview.content.decode()
    assert 'data-testid="import-errors"' in text and "<td>5</td><td>责任单位</td>" in text
    assert 'data-testid="confirm-import"' not in text
    response = client.post(f"/projects/excel/import/{token}/confirm/")
    assert response.status_code == 400
    assert not Project.objects.exists()


def test_an_unreadable_upload_stays_on_the_form(setup, login, media):
    client = login("project")
    response = upload(client, b"not a workbook", name="x.xlsx")
    assert response.status_code == 400
    assert 'data-field="file"' in response.content.decode()
    assert not (media / "imports" / "projects").exists() or not list((media / "imports" / "projects").iterdir())
    response = client.post("/projects/excel/import/", {"year": "abc"})
    assert response.status_code == 400
    text = response.content.decode()
    assert 'data-field="year"' in text and 'data-field="file"' in text


def test_another_users_upload_is_not_theirs_to_see(setup, login, media):
    owner, other = login("project"), login("investment")
    preview_url = upload(owner, sheet(good_rows(setup["firm_a"], setup["firm_b"])))["Location"]
    token = preview_url.rstrip("/").rsplit("/", 1)[-1]
    assert other.get(preview_url).status_code == 404
    assert other.post(f"/projects/excel/import/{token}/confirm/").status_code == 404
    assert not Project.objects.exists()


@pytest.mark.parametrize("key", ["leader", "specialist", "firm_a", "bank"])
def test_import_pages_are_for_the_offices(setup, login, media, key):
    client = login(key)
    assert client.get("/projects/excel/import/").status_code == 403
    assert client.get("/projects/excel/import/template/").status_code == 403
    assert upload(client, sheet(good_rows(setup["firm_a"], setup["firm_b"]))).status_code == 403


def test_the_template_has_the_headers_and_a_correct_example_row(setup, login):
    response = login("project").get("/projects/excel/import/template/")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    ws = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in ws[1]] == HEADERS
    report = key_projects_import(actor=None, source=response.content, year=YEAR)
    assert report.ok, report.errors
    assert report.created == 1


# --- the 推进表 export -------------------------------------------------------------------------------


@pytest.fixture
def tracked(setup):
    """Two key projects with monthly entries (Jan–Jun), blockers (one resolved) and one stopped project."""
    personas, units, firm_a = setup["personas"], setup["units"], setup["firm_a"]

    def started(name: str, enterprise=None, investor: str = "") -> Project:
        project = lead_create(actor=None, data={"name": name, "enterprise": enterprise, "investor_name": investor})
        project = project_transition(actor=None, project=project, to_stage="negotiating", on=D(2026, 1, 2))
        if enterprise is None:
            data = {"contract_date": D(2026, 1, 3), "total_investment": "9000"}
            project = project_transition(
                actor=None,
                project=project,
                to_stage="signed",
                data=data,
                new_enterprise={"uscc": make_uscc(55), "name": investor, "industry": "3311"},
            )
        else:
            data = {"contract_date": D(2026, 1, 3), "total_investment": "9000"}
            project = project_transition(actor=None, project=project, to_stage="signed", data=data)
        project = project_transition(actor=None, project=project, to_stage="preparing", on=D(2026, 1, 4))
        return project_transition(
            actor=None, project=project, to_stage="under_construction", data={"actual_start": D(2026, 1, 5)}
        )

    hande = started("汉德车桥株洲智能制造基地一期", enterprise=firm_a)
    hongyuan = started("宏远机械", investor="株洲宏远机械有限公司")
    key_project_set(
        actor=None,
        project=hande,
        year=YEAR,
        planned_investment="1200",
        liaison_leader=personas["leader"],
        responsible_unit=units["fgj"],
        sequence=1,
    )
    key_project_set(
        actor=None, project=hongyuan, year=YEAR, planned_investment="800", responsible_unit=units["zjj"], sequence=2
    )
    for month, amount in [(1, "100"), (2, "110"), (3, "120"), (4, "130"), (5, "140"), (6, "150")]:
        monthly_investment_record(actor=None, project=hande, month=D(YEAR, month, 1), amount=amount)
    monthly_investment_record(actor=None, project=hongyuan, month=D(YEAR, 3, 1), amount="55.5")
    blocker_raise(actor=None, project=hande, description="征拆未完成", unit=units["fgj"], due_on=D(2026, 5, 1))
    blocker_raise(actor=None, project=hande, description="用电报装", unit=units["zjj"], due_on=D(2026, 6, 1))
    done = blocker_raise(actor=None, project=hande, description="已解决的问题", unit=units["zjj"], due_on=D(2026, 4, 1))
    blocker_resolve(actor=None, blocker=done, resolution="协调解决")
    decision_record(actor=personas["leader"], project=hongyuan, kind="stop", reason="资金未到位")
    return {"hande": hande, "hongyuan": Project.objects.get(pk=hongyuan.pk)}


def read_report(content: bytes):
    return load_workbook(io.BytesIO(content)).active


def test_the_progress_report_round_trip(setup, tracked, login):
    response = login("leader").get("/projects/excel/progress/?year=2026&month=5")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert "2026-05" in response["Content-Disposition"]
    ws = read_report(response.content)
    assert "2026" in ws["A1"].value and "05" in ws["A1"].value
    assert "A1:K1" in {str(r) for r in ws.merged_cells.ranges}
    assert [c.value for c in ws[3]] == REPORT_HEADERS
    with translation.override("zh-hans"):
        stage = str(Stage.UNDER_CONSTRUCTION.label)
        stopped = str(Status.STOPPED.label)
    hande = [c.value for c in ws[4]]
    assert hande[:3] == [1, "汉德车桥株洲智能制造基地一期", "株洲硬质合金集团有限公司"]
    assert [Decimal(str(v)) for v in hande[3:7]] == [Decimal("1200"), Decimal("140"), Decimal("600"), Decimal("0.5")]
    assert hande[7] == stage
    assert hande[8] == "征拆未完成；用电报装"
    assert hande[9:] == ["周区长", "荷塘区发展和改革局"]
    hongyuan = [c.value for c in ws[5]]
    assert hongyuan[:3] == [2, "宏远机械", "株洲宏远机械有限公司"]
    assert [Decimal(str(v)) for v in hongyuan[3:7]] == [
        Decimal("800"),
        Decimal("0"),
        Decimal("55.5"),
        Decimal("55.5") / Decimal("800"),
    ]
    assert hongyuan[7] == f"{stage}（{stopped}）"
    assert hongyuan[8] is None or hongyuan[8] == ""
    assert hongyuan[9] is None or hongyuan[9] == ""
    assert hongyuan[10] == "荷塘区住房和城乡建设局"
    total = [c.value for c in ws[6]]
    assert [Decimal(str(v)) for v in total[3:6]] == [Decimal("2000"), Decimal("140"), Decimal("655.5")]
    assert Decimal(str(total[6])).quantize(Decimal("0.0001")) == Decimal("0.3278")
    assert ws.max_row == 6
    # Number formats and widths.
    assert ws["D4"].number_format == "#,##0.00" and ws["F5"].number_format == "#,##0.00"
    assert ws["G4"].number_format == "0.0%"
    assert ws.column_dimensions["B"].width >= 30 and ws.column_dimensions["I"].width >= 40


def test_the_report_figures_match_the_stored_entries(setup, tracked):
    """Every figure of every month's report equals a sum over the stored monthly entries."""
    user = setup["personas"]["project"]
    for month in range(1, 7):
        ws = read_report(imports.progress_report_workbook(user=user, year=YEAR, month=month))
        for row in ws.iter_rows(min_row=4, max_row=5, values_only=True):
            project = Project.objects.get(name=row[1])
            entries = MonthlyInvestment.objects.filter(project=project, month__year=YEAR)
            this_month = sum((e.amount for e in entries if e.month.month == month), Decimal(0))
            cumulative = sum((e.amount for e in entries if e.month.month <= month), Decimal(0))
            plan = KeyProject.objects.get(project=project, year=YEAR).planned_investment
            assert Decimal(str(row[4])) == this_month
            assert Decimal(str(row[5])) == cumulative
            assert Decimal(str(row[6])).quantize(Decimal("0.000001")) == (cumulative / plan).quantize(
                Decimal("0.000001")
            )


def test_import_then_report(setup, login):
    """The plan imported from the district's table is the plan the report shows."""
    rows = good_rows(setup["firm_a"], setup["firm_b"])
    key_projects_import(actor=None, source=sheet(rows), year=YEAR, dry_run=False)
    ws = read_report(login("leader").get(f"/projects/excel/progress/?year={YEAR}&month=3").content)
    figures = {
        row[1]: (row[0], Decimal(str(row[3])), row[9], row[10])
        for row in ws.iter_rows(min_row=4, max_row=6, values_only=True)
    }
    assert figures == {
        "株硬集团硬质合金配套产业园": (1, Decimal("30000"), "周区长", "荷塘区发展和改革局"),
        "飞鹿新材料扩产项目": (2, Decimal("2000"), "周区长", "荷塘区住房和城乡建设局"),
        "怡亚通金巢现代工业园": (3, Decimal("10000"), None, None),
    }


def test_the_report_form_and_its_errors(setup, login):
    client = login("statistics")
    page = client.get("/projects/excel/progress/")
    assert page.status_code == 200 and 'data-testid="progress-form"' in page.content.decode()
    for query, field in [("year=2026&month=13", "month"), ("year=abc&month=5", "year"), ("month=5", "year")]:
        response = client.get(f"/projects/excel/progress/?{query}")
        assert response.status_code == 400
        assert f'data-field="{field}"' in response.content.decode()


@pytest.mark.parametrize("key", ["firm_a", "bank", "city"])
def test_the_report_is_for_district_staff(setup, tracked, login, key):
    assert login(key).get("/projects/excel/progress/?year=2026&month=5").status_code == 403
    with pytest.raises(PermissionDeniedError):
        imports.progress_report_workbook(user=setup["personas"][key], year=YEAR, month=5)


def test_an_empty_year_gives_a_report_with_only_the_total(setup, login):
    ws = read_report(login("leader").get("/projects/excel/progress/?year=2025&month=12").content)
    assert [c.value for c in ws[3]] == REPORT_HEADERS
    assert ws.max_row == 4
    assert not Blocker.objects.exists()
