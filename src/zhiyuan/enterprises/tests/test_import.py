"""Registry Excel import/export: good, bad and mixed files, file-level errors, the page flow, the
command, the export's masking, and who may import."""

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
import tablib
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import Workbook, load_workbook

from zhiyuan.conftest import make_uscc
from zhiyuan.core.errors import PermissionDeniedError, ValidationFailed
from zhiyuan.core.models import AuditEntry
from zhiyuan.enterprises.imports import IMPORT_ACTION, RowError, enterprise_import
from zhiyuan.enterprises.models import Chain, Enterprise, ImportBatch, ParkZone, SizeClass, Status, Tag
from zhiyuan.enterprises.resources import IMPORT_FIELDS, EnterpriseResource, column_label
from zhiyuan.enterprises.sizeclass import classify

pytestmark = [pytest.mark.django_db, pytest.mark.collection_day]  # dates computed at import


# -- helpers -------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def english():
    """Service-level messages are compared in English; pages are Chinese (see zh_label)."""
    with translation.override("en"):
        yield


def label(name: str) -> str:
    return str(column_label(name))


def zh_label(name: str) -> str:
    """A header as the (Chinese) pages and exports show it."""
    with translation.override("zh-hans"):
        return str(column_label(name))


def good_row(serial: int, **values) -> dict:
    """A valid row for a new firm; `values` override cells by field name."""
    row = {
        "uscc": make_uscc(serial),
        "name": f"株洲测试{serial}号新材料有限公司",
        "short_name": f"测试{serial}",
        "legal_representative": "王五",
        "established_on": dt.date(2016, 5, 20),
        "registered_capital": 1000,
        "industry": "3311",
        "staff": 150,
        "revenue": 9000,
        "total_assets": 12000.5,
        "chain": str(Chain.NEW_MATERIALS.label),
        "zone": "金山新城",
        "tags": "高新技术企业、专精特新",
        "status": str(Status.OPERATING.label),
        "specialist": "zhuanyuan",
        "address": "株洲市荷塘区金山路1号",
        "business_scope": "金属结构制造",
        "contact_name": "赵六",
        "contact_phone": "13912345678",
        "contact_id_number": "",
    }
    row.update(values)
    return row


def xlsx(rows: list[dict], headers: list[str] | None = None, fields: list[str] | None = None) -> bytes:
    """An .xlsx workbook with `headers` (default: the import's) and one line per row dict."""
    fields = fields or IMPORT_FIELDS
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers or EnterpriseResource.import_headers())
    for row in rows:
        sheet.append([row.get(name) for name in fields])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(content: bytes, name: str = "firms.xlsx") -> ContentFile:
    return ContentFile(content, name=name)


def run(personas, rows: list[dict], *, dry_run: bool = False, actor: str = "specialist"):
    return enterprise_import(actor=personas[actor], file=upload(xlsx(rows)), dry_run=dry_run)


@pytest.fixture
def reference(db):
    zones = [ParkZone.objects.create(name=name) for name in ["金山新城", "电商产业园"]]
    tags = [Tag.objects.create(name=name) for name in ["高新技术企业", "专精特新", "规上企业"]]
    return {"zones": zones, "tags": tags}


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def snapshot_db() -> tuple:
    """Everything an import could write, to prove that nothing was."""
    return (
        list(Enterprise.objects.order_by("pk").values()),
        list(Enterprise.tags.through.objects.order_by("pk").values_list("enterprise_id", "tag_id")),
        AuditEntry.objects.count(),
    )


# -- good files ----------------------------------------------------------------------------------


def test_good_file_creates_new_firms_and_updates_known_ones(personas, reference, firm_a):
    rows = [
        good_row(101),
        good_row(1, name=firm_a.name, industry="3240", staff=5200, revenue=500000, total_assets=900000,
                 zone="电商产业园", tags="规上企业", short_name="株硬集团", established_on=dt.date(1954, 1, 1),
                 registered_capital=None, legal_representative="", chain="", status="", specialist="",
                 address="", business_scope="", contact_name="张三", contact_phone="13812341234"),
        good_row(102, staff=8, revenue=150, industry="5211", chain="rail"),
    ]
    before_audit = AuditEntry.objects.count()

    report = run(personas, rows)

    assert report.ok and report.written
    assert (report.total, report.new, report.updated, report.unchanged) == (3, 2, 1, 0)
    new = Enterprise.objects.get(uscc=make_uscc(101))
    assert new.name == "株洲测试101号新材料有限公司"
    assert new.total_assets == Decimal("12000.50")
    assert new.zone.name == "金山新城"
    assert sorted(t.name for t in new.tags.all()) == ["专精特新", "高新技术企业"]
    assert new.specialist == personas["specialist"]
    assert new.chain == Chain.NEW_MATERIALS and new.status == Status.OPERATING
    assert new.size_class == classify("3311", staff=150, revenue=Decimal(9000), total_assets=Decimal("12000.5"))
    retail = Enterprise.objects.get(uscc=make_uscc(102))
    assert retail.chain == Chain.RAIL
    assert retail.size_class == SizeClass.MICRO  # 零售业 (52): fewer than 10 staff is micro
    firm_a.refresh_from_db()
    assert firm_a.staff == 5200
    assert firm_a.zone.name == "电商产业园"
    assert [t.name for t in firm_a.tags.all()] == ["规上企业"]

    entries = AuditEntry.objects.filter(action=IMPORT_ACTION)
    assert entries.count() == 3 == AuditEntry.objects.count() - before_audit
    update_entry = entries.get(object_id=str(firm_a.pk))
    assert update_entry.changes["staff"] == [5000, 5200]
    assert update_entry.changes["tags"] == [[], ["规上企业"]]
    assert update_entry.actor == personas["specialist"]
    created_entry = entries.get(object_id=str(new.pk))
    assert created_entry.changes["uscc"] == [None, make_uscc(101)]
    assert created_entry.changes["tags"] == [None, ["专精特新", "高新技术企业"]]


def test_reimporting_the_same_file_changes_nothing(personas, reference):
    rows = [good_row(101), good_row(102)]
    run(personas, rows)
    audited = AuditEntry.objects.count()
    state = snapshot_db()

    report = run(personas, rows)

    assert (report.new, report.updated, report.unchanged) == (0, 0, 2)
    assert snapshot_db()[:2] == state[:2]
    assert AuditEntry.objects.count() == audited


def test_dry_run_reports_but_writes_nothing(personas, reference, firm_a):
    state = snapshot_db()
    report = run(personas, [good_row(101), good_row(1, name=firm_a.name, industry="3240", staff=7)], dry_run=True)
    assert report.ok and not report.written
    assert (report.new, report.updated) == (1, 1)
    assert [(p.row, p.action) for p in report.preview] == [(2, "new"), (3, "updated")]
    assert label("staff") in report.preview[1].changed and label("size_class") in report.preview[1].changed
    assert snapshot_db() == state


def test_cells_in_other_shapes_are_understood(personas, reference):
    row = good_row(
        103, established_on="2016年5月20日", staff="1,200", revenue="45,000.456", industry=3311,
        contact_phone=13912345678, chain="new_materials", status="operating",
        tags="高新技术企业,专精特新", specialist="陈专员",
    )
    report = run(personas, [row])
    assert report.ok, report.errors
    firm = Enterprise.objects.get(uscc=make_uscc(103))
    assert firm.established_on == dt.date(2016, 5, 20)
    assert firm.staff == 1200 and firm.revenue == Decimal("45000.46")
    assert firm.contact_phone == "13912345678"
    assert firm.specialist == personas["specialist"]
    assert firm.tags.count() == 2


def test_headers_in_english_are_accepted_whatever_the_language(personas, reference):
    with translation.override("en"):
        headers = EnterpriseResource.import_headers()
    with translation.override("zh-hans"):
        report = enterprise_import(
            actor=personas["specialist"], file=upload(xlsx([good_row(104)], headers=headers)), dry_run=False
        )
    assert report.ok and Enterprise.objects.filter(uscc=make_uscc(104)).exists()


def test_uscc_with_spaces_and_dashes_is_normalized(personas, reference):
    code = make_uscc(106)
    report = run(personas, [good_row(106, uscc=f"{code[:8]}-{code[8:]} ".lower())])
    assert report.ok, report.errors
    assert Enterprise.objects.filter(uscc=code).exists()


def test_the_resource_refuses_its_own_per_row_import():
    with pytest.raises(TypeError):
        EnterpriseResource().import_data(tablib.Dataset(headers=EnterpriseResource.import_headers()))


def test_blank_lines_are_skipped_and_row_numbers_stay_those_of_excel(personas, reference):
    report = run(personas, [good_row(105), {}, good_row(106, staff=-1)], dry_run=True)
    assert report.total == 2
    assert report.errors == [RowError(4, label("staff"), "This value cannot be negative.")]


# -- bad rows ------------------------------------------------------------------------------------

FUTURE = timezone.localdate() + dt.timedelta(days=3)

BAD_CELLS = {
    "invalid USCC checksum": ("uscc", make_uscc(107)[:-1] + ("0" if make_uscc(107)[-1] != "0" else "1"), "check"),
    "USCC too short": ("uscc", "9143020200000010", "18 characters"),
    "missing USCC": ("uscc", "", "required"),
    "missing name": ("name", "  ", "required"),
    "unknown industry code": ("industry", "9999", "Unknown industry code 9999"),
    "section letter as industry": ("industry", "C", "Unknown industry code C"),
    "negative staff": ("staff", -5, "negative"),
    "fractional staff": ("staff", 12.5, "whole number"),
    "negative revenue": ("revenue", -100, "negative"),
    "negative assets": ("total_assets", "-1", "negative"),
    "text as revenue": ("revenue", "很多", "number"),
    "future establishment date": ("established_on", FUTURE, "future"),
    "not a date": ("established_on", "去年", "valid date"),
    "bad phone": ("contact_phone", "call me", "phone"),
    "bad ID number": ("contact_id_number", "430202199801011230", "identity card"),
    "unknown zone": ("zone", "火星园区", "金山新城"),
    "unknown tag": ("tags", "高新技术企业、独角兽", "独角兽"),
    "unknown specialist": ("specialist", "nobody", "zhuanyuan"),
    "unknown chain": ("chain", "航空航天", Chain.HEALTH.label),
    "unknown status": ("status", "破产", Status.MOVED_OUT.label),
    "name too long": ("name", "株" * 201, "200"),
}


@pytest.mark.parametrize("kind", list(BAD_CELLS))
def test_each_kind_of_bad_row_is_reported_by_row_and_column_and_nothing_is_written(personas, reference, kind):
    field, value, fragment = BAD_CELLS[kind]
    state = snapshot_db()

    report = run(personas, [good_row(110), good_row(111, **{field: value}), good_row(112)])

    assert not report.written
    assert report.bad_rows == [3]
    assert {(e.row, e.column) for e in report.errors} == {(3, label(field))}
    assert any(str(fragment) in e.message for e in report.errors), report.errors
    assert snapshot_db() == state


def test_duplicate_uscc_inside_the_file_names_the_first_row(personas, reference):
    state = snapshot_db()
    report = run(personas, [good_row(120), good_row(121), good_row(120, name="另一家公司")])
    assert report.errors == [
        RowError(4, label("uscc"), "This unified social credit code is already on row 2 of the file.")
    ]
    assert snapshot_db() == state


def test_non_specialist_is_refused_as_specialist(personas, reference):
    report = run(personas, [good_row(122, specialist="leader")], dry_run=True)
    assert [(e.row, e.column) for e in report.errors] == [(2, label("specialist"))]


def test_mixed_file_writes_nothing_and_reports_exactly_the_bad_rows(personas, reference, firm_a):
    rows = [
        good_row(130),
        good_row(131, staff=-1, revenue="abc"),  # two errors on one row
        good_row(1, name=firm_a.name, industry="3240", staff=1),  # a valid update
        good_row(132, industry="0000", zone="火星园区"),
        good_row(133),
    ]
    state = snapshot_db()

    report = run(personas, rows)

    assert report.bad_rows == [3, 5]
    assert [(e.row, e.column) for e in report.errors] == [
        (3, label("staff")),
        (3, label("revenue")),
        (5, label("industry")),
        (5, label("zone")),
    ]
    assert not report.written
    assert snapshot_db() == state
    firm_a.refresh_from_db()
    assert firm_a.staff == 5000


# -- bad files -----------------------------------------------------------------------------------


def test_wrong_headers_list_the_expected_headers(personas, reference):
    headers = EnterpriseResource.import_headers()
    headers[1] = "公司名"  # unknown
    del headers[5]  # registered capital missing
    fields = [f for f in IMPORT_FIELDS if f != "registered_capital"]
    with pytest.raises(ValidationFailed) as caught:
        enterprise_import(
            actor=personas["specialist"], file=upload(xlsx([good_row(140)], headers, fields)), dry_run=False
        )
    message = str(caught.value.message)
    assert "公司名" in message and label("registered_capital") in message
    for header in EnterpriseResource.import_headers():
        assert header in message
    assert caught.value.fields == {"file": [caught.value.message]}
    assert not Enterprise.objects.filter(uscc=make_uscc(140)).exists()


def test_oversize_file_is_refused_before_reading(personas, reference, settings):
    content = xlsx([good_row(141)])
    settings.ZHIYUAN_IMPORT_MAX_BYTES = len(content) - 1
    with pytest.raises(ValidationFailed) as caught:
        enterprise_import(actor=personas["specialist"], file=upload(content), dry_run=True)
    assert "largest spreadsheet" in str(caught.value.message)
    settings.ZHIYUAN_IMPORT_MAX_BYTES = len(content)
    assert enterprise_import(actor=personas["specialist"], file=upload(content), dry_run=True).ok


def _zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "content",
    [
        "统一社会信用代码,名称\n91430202000000001X,测试\n".encode(),
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512,  # an old .xls (OLE2)
        _zip_without_workbook(),
        b"",
    ],
    ids=["csv", "xls", "zip", "empty"],
)
def test_a_file_that_is_not_an_xlsx_workbook_is_refused(personas, reference, content):
    with pytest.raises(ValidationFailed) as caught:
        enterprise_import(actor=personas["specialist"], file=upload(content, "firms.xlsx"), dry_run=False)
    assert ".xlsx" in str(caught.value.message)


def test_a_sheet_with_headers_only_is_refused(personas, reference):
    with pytest.raises(ValidationFailed, match="no rows"):
        enterprise_import(actor=personas["specialist"], file=upload(xlsx([])), dry_run=True)


# -- permissions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["firm_a", "bank", "city", "leader", "statistics"])
def test_roles_that_may_not_import_are_refused_by_the_service(personas, reference, persona):
    with pytest.raises(PermissionDeniedError):
        run(personas, [good_row(150)], actor=persona)
    assert not Enterprise.objects.filter(uscc=make_uscc(150)).exists()


@pytest.mark.parametrize("persona", ["firm_a", "bank", "leader"])
def test_roles_that_may_not_import_are_refused_by_the_pages(login, reference, media, persona):
    client = login(persona)
    assert client.get(reverse("enterprises:import")).status_code == 403
    assert client.get(reverse("enterprises:import_template")).status_code == 403
    response = client.post(
        reverse("enterprises:import"), {"file": SimpleUploadedFile("f.xlsx", xlsx([good_row(151)]))}
    )
    assert response.status_code == 403
    assert not ImportBatch.objects.exists()


def test_list_page_shows_import_only_to_importers(login, reference):
    specialist_page = login("specialist").get(reverse("enterprises:list")).content.decode()
    leader_page = login("leader").get(reverse("enterprises:list")).content.decode()
    assert 'data-testid="import-button"' in specialist_page and 'data-testid="export-button"' in specialist_page
    assert 'data-testid="import-button"' not in leader_page and 'data-testid="export-button"' in leader_page


# -- pages ---------------------------------------------------------------------------------------


def test_page_flow_upload_preview_confirm(
    login, personas, reference, media, firm_a, django_capture_on_commit_callbacks
):
    client = login("specialist")
    content = xlsx([good_row(160), good_row(1, name=firm_a.name, industry="3240", staff=4321)])

    response = client.post(reverse("enterprises:import"), {"file": SimpleUploadedFile("名单.xlsx", content)})
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response.url == reverse("enterprises:import_preview", args=[batch.pk])
    assert batch.uploaded_by == personas["specialist"] and batch.original_name == "名单.xlsx"
    stored = media / batch.file.name
    assert stored.read_bytes() == content

    preview = client.get(response.url)
    assert preview.status_code == 200
    assert preview.context["report"].new == 1 and preview.context["report"].updated == 1
    assert 'data-testid="confirm-import"' in preview.content.decode()
    assert not Enterprise.objects.filter(uscc=make_uscc(160)).exists()

    # Another importer cannot see or confirm someone else's upload.
    other = login("service_staff")
    assert other.get(response.url).status_code == 404
    assert other.post(reverse("enterprises:import_confirm", args=[batch.pk])).status_code == 404
    assert not Enterprise.objects.filter(uscc=make_uscc(160)).exists()

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(reverse("enterprises:import_confirm", args=[batch.pk]))
    assert confirmed.status_code == 302 and confirmed.url == reverse("enterprises:import_result", args=[batch.pk])
    assert Enterprise.objects.filter(uscc=make_uscc(160)).exists()
    firm_a.refresh_from_db()
    assert firm_a.staff == 4321
    batch.refresh_from_db()
    assert batch.state == ImportBatch.State.IMPORTED and (batch.created_count, batch.updated_count) == (1, 1)
    assert not stored.exists()  # the upload (personal data) is deleted once imported

    result = client.get(confirmed.url)
    assert result.status_code == 200 and 'data-testid="result-new">1<' in result.content.decode()
    # Confirming twice imports nothing more.
    again = client.post(reverse("enterprises:import_confirm", args=[batch.pk]))
    assert again.status_code == 302
    assert AuditEntry.objects.filter(action=IMPORT_ACTION).count() == 2


def test_page_preview_lists_every_error_and_offers_no_confirmation(login, reference, media):
    client = login("specialist")
    content = xlsx([good_row(170, staff=-3), good_row(171), good_row(172, industry="9999")])
    response = client.post(reverse("enterprises:import"), {"file": SimpleUploadedFile("bad.xlsx", content)})
    page = client.get(response.url)
    html = page.content.decode()
    assert page.status_code == 200
    assert [(e.row, e.column) for e in page.context["errors"]] == [(2, zh_label("staff")), (4, zh_label("industry"))]
    assert 'data-testid="import-errors"' in html and "9999" in html
    assert 'data-testid="confirm-import"' not in html
    batch = ImportBatch.objects.get()
    assert client.post(reverse("enterprises:import_confirm", args=[batch.pk])).status_code == 400
    assert not Enterprise.objects.filter(uscc=make_uscc(171)).exists()
    errors = client.get(reverse("enterprises:import_errors", args=[batch.pk]))
    sheet = load_workbook(io.BytesIO(errors.content)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [2, 4]


def test_page_refuses_a_non_spreadsheet_and_an_oversize_upload(login, reference, media, settings):
    client = login("specialist")
    response = client.post(reverse("enterprises:import"), {"file": SimpleUploadedFile("a.xlsx", b"uscc,name\n")})
    assert response.status_code == 200 and ".xlsx" in response.content.decode()
    settings.ZHIYUAN_IMPORT_MAX_BYTES = 1024
    big = xlsx([good_row(n) for n in range(180, 200)])
    response = client.post(reverse("enterprises:import"), {"file": SimpleUploadedFile("big.xlsx", big)})
    assert response.status_code == 200 and response.context["form"].errors["file"]
    assert not ImportBatch.objects.exists()


def test_template_has_the_expected_headers_and_a_valid_example_row(login, personas, reference):
    response = login("specialist").get(reverse("enterprises:import_template"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    with translation.override("zh-hans"):
        assert list(rows[0]) == EnterpriseResource.import_headers()
    assert len(rows) == 2
    report = enterprise_import(actor=personas["specialist"], file=upload(response.content), dry_run=True)
    assert report.ok and report.new == 1, report.errors


# -- export --------------------------------------------------------------------------------------


def _export(client, query: str = "") -> list[dict]:
    response = client.get(reverse("enterprises:export") + query)
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_export_masks_personal_data_for_a_leader_but_not_for_a_specialist(login, firm_a, firm_b):
    Enterprise.objects.filter(pk=firm_a.pk).update(contact_id_number="430202199801011239")
    phone, id_number, uscc = zh_label("contact_phone"), zh_label("contact_id_number"), zh_label("uscc")
    by_leader = {row[uscc]: row for row in _export(login("leader"))}
    by_specialist = {row[uscc]: row for row in _export(login("specialist"))}
    assert by_leader[firm_a.uscc][phone] == "138****1234"
    assert by_leader[firm_a.uscc][id_number] == "430202********1239"
    assert by_specialist[firm_a.uscc][phone] == "13812341234"
    assert by_specialist[firm_a.uscc][id_number] == "430202199801011239"
    assert set(by_leader) == {firm_a.uscc, firm_b.uscc}


def test_export_follows_the_list_filters_and_scoping(login, firm_a, firm_b):
    rows = _export(login("specialist"), "?q=株硬")
    assert [row[zh_label("uscc")] for row in rows] == [firm_a.uscc]
    assert login("firm_a").get(reverse("enterprises:export")).status_code == 403
    assert login("bank").get(reverse("enterprises:export")).status_code == 403


def test_an_export_imports_back_unchanged(login, personas, reference, firm_a):
    run(personas, [good_row(190), good_row(191, tags="", zone="")])
    response = login("specialist").get(reverse("enterprises:export"))
    report = enterprise_import(actor=personas["specialist"], file=upload(response.content), dry_run=False)
    assert report.ok, report.errors
    assert (report.new, report.updated, report.unchanged) == (0, 0, 4)


# -- command -------------------------------------------------------------------------------------


def test_command_imports_and_exits_1_on_bad_rows(personas, reference, tmp_path, capsys):
    good = tmp_path / "good.xlsx"
    good.write_bytes(xlsx([good_row(200), good_row(201)]))
    call_command("import", "enterprises", str(good), "--dry-run", "--user", "zhuanyuan")
    assert not Enterprise.objects.filter(uscc=make_uscc(200)).exists()
    call_command("import", "enterprises", str(good))
    assert Enterprise.objects.filter(uscc__in=[make_uscc(200), make_uscc(201)]).count() == 2
    assert AuditEntry.objects.filter(action=IMPORT_ACTION, actor_repr="system").count() == 2

    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx([good_row(202), good_row(203, staff=-1)]))
    with pytest.raises(CommandError) as caught:
        call_command("import", "enterprises", str(bad))
    assert caught.value.returncode == 1
    out = capsys.readouterr().out
    assert f"Row 3, {label('staff')}:" in out
    assert not Enterprise.objects.filter(uscc=make_uscc(202)).exists()


def test_command_refuses_a_user_who_may_not_import(personas, reference, tmp_path):
    path = tmp_path / "good.xlsx"
    path.write_bytes(xlsx([good_row(210)]))
    with pytest.raises(CommandError):
        call_command("import", "enterprises", str(path), "--user", "bank")
    assert not Enterprise.objects.filter(uscc=make_uscc(210)).exists()
