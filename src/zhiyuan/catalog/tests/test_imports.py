"""The product Excel import and export: good sheets, every kind of bad row (reported by row and
column, nothing written), dry runs, updates by number or by name and model, firm users limited to
their own rows, the change log and the audit trail for every product written, the upload flow
(check → confirm / discard), the template and the export round trip, and no query per row."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from openpyxl import Workbook, load_workbook

from zhiyuan.catalog import imports, selectors
from zhiyuan.catalog.imports import product_import, upload_check, upload_confirm, upload_create, upload_discard
from zhiyuan.catalog.models import Certification, Product, ProductChange, ProductUpload
from zhiyuan.catalog.services import product_create
from zhiyuan.conftest import make_uscc
from zhiyuan.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from zhiyuan.core.models import AuditEntry

pytestmark = pytest.mark.django_db

HEADERS = [
    "统一社会信用代码",
    "产品名称",
    "产品类别",
    "型号规格",
    "技术参数",
    "材料",
    "年产能",
    "产能单位",
    "认证",
    "产品描述",
    "关键词",
]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def sheet(rows, headers=HEADERS, name="products.xlsx") -> SimpleUploadedFile:
    workbook = Workbook()
    ws = workbook.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return SimpleUploadedFile(name, out.getvalue())


def row(uscc, name, *, model="", capacity=None, certifications="", description="", category="刀具"):
    return [uscc, name, category, model, "HRA 89.5", "碳化钨", capacity, "片", certifications, description, "刀片"]


def errors_of(report):
    return [(error.row, error.column, error.message) for error in report.errors]


def test_a_good_sheet_creates_every_product_with_change_log_and_audit(personas, firm_a, firm_b):
    staff = personas["specialist"]
    report = product_import(
        actor=staff,
        file=sheet(
            [
                row(firm_a.uscc, "硬质合金刀片", model="YG8", capacity=1200000, certifications="ISO 9001, IATF 16949"),
                row(firm_a.uscc, "硬质合金刀片", model="YG6", capacity="3,000"),
                row(firm_b.uscc, "轨道车辆用高分子涂料", certifications="CRCC 铁路产品认证、ISO 14001"),
            ]
        ),
        dry_run=False,
    )
    assert report.ok and report.written
    assert (report.total, report.to_create, report.to_update, report.unchanged) == (3, 3, 0, 0)
    products = {(p.enterprise_id, p.model_numbers): p for p in Product.objects.all()}
    yg8 = products[(firm_a.pk, "YG8")]
    assert yg8.name == "硬质合金刀片" and yg8.capacity == Decimal("1200000") and yg8.capacity_unit == "片"
    assert sorted(c.name for c in yg8.certifications.all()) == ["IATF 16949", "ISO 9001"]
    assert products[(firm_a.pk, "YG6")].capacity == Decimal("3000")
    paint = products[(firm_b.pk, "")]
    assert sorted(c.name for c in paint.certifications.all()) == ["CRCC 铁路产品认证", "ISO 14001"]
    # Exactly as a write through the services: one change-log row and one audit entry per product.
    changes = list(ProductChange.objects.values_list("product_id", "op"))
    assert sorted(changes) == sorted((p.pk, "upsert") for p in products.values())
    audited = AuditEntry.objects.filter(action="catalog.product.created")
    assert sorted(int(e.object_id) for e in audited) == sorted(p.pk for p in products.values())
    assert all(e.actor_id == staff.pk for e in audited)


def test_a_dry_run_writes_nothing(personas, firm_a):
    report = product_import(actor=personas["specialist"], file=sheet([row(firm_a.uscc, "数控刀具")]), dry_run=True)
    assert report.ok and not report.written and report.to_create == 1
    assert report.preview[0].action == "create" and report.preview[0].enterprise == firm_a.name
    assert not Product.objects.exists() and not ProductChange.objects.exists()


def test_every_bad_row_is_reported_and_nothing_is_written(personas, firm_a):
    bad_check_digit = firm_a.uscc[:-1] + ("0" if firm_a.uscc[-1] != "0" else "1")
    report = product_import(
        actor=personas["specialist"],
        file=sheet(
            [
                row(firm_a.uscc, "好的产品"),
                row(firm_a.uscc, "", model="X1"),
                row(firm_a.uscc, "负产能", capacity=-5),
                row(firm_a.uscc, "不是数字", capacity="很多"),
                row(firm_a.uscc, "未知认证", certifications="ISO 9001, 火星认证"),
                row(bad_check_digit, "错码"),
                row(make_uscc(999), "未登记企业"),
                row(firm_a.uscc, "名" * 201),
                row("", "没有企业"),
                row(firm_a.uscc, "好的产品"),
            ]
        ),
        dry_run=False,
    )
    assert not report.ok and not report.written
    found = errors_of(report)
    by_row = {number: (column, message) for number, column, message in found}
    assert by_row[3] == ("产品名称", "Give the product a name.")
    assert by_row[4] == ("年产能", "Enter a number of zero or more.")
    assert by_row[5] == ("年产能", "Enter a number of zero or more.")
    assert by_row[6][0] == "认证" and "火星认证" in by_row[6][1] and "ISO 9001" in by_row[6][1]
    assert by_row[7][0] == "统一社会信用代码" and "check character" in by_row[7][1]
    assert by_row[8] == ("统一社会信用代码", "There is no enterprise with this USCC in the registry.")
    assert by_row[9] == ("产品名称", "At most 200 characters.")
    assert by_row[10][0] == "统一社会信用代码"
    assert by_row[11][0] == "产品名称" and "row 2" in by_row[11][1]
    assert report.bad_rows == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    # All or nothing: the good row 2 is not written either.
    assert not Product.objects.exists() and not ProductChange.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="catalog.").exists()


def test_reimporting_updates_by_name_and_model_and_logs_each_change(personas, firm_a):
    staff = personas["specialist"]
    product_import(
        actor=staff, file=sheet([row(firm_a.uscc, "硬质合金刀片", model="YG8", capacity=100)]), dry_run=False
    )
    product = Product.objects.get()
    before = ProductChange.objects.count()
    again = product_import(
        actor=staff, file=sheet([row(firm_a.uscc, "硬质合金刀片", model="YG8", capacity=100)]), dry_run=False
    )
    assert (again.to_create, again.to_update, again.unchanged) == (0, 0, 1)
    assert ProductChange.objects.count() == before  # nothing written, nothing logged
    changed = product_import(
        actor=staff,
        file=sheet([row(firm_a.uscc, "硬质合金刀片", model="YG8", capacity=250, certifications="ISO 9001")]),
        dry_run=False,
    )
    assert (changed.to_create, changed.to_update) == (0, 1)
    product.refresh_from_db()
    assert product.capacity == Decimal("250") and [c.name for c in product.certifications.all()] == ["ISO 9001"]
    assert list(ProductChange.objects.filter(pk__gt=0).values_list("product_id", flat=True))[-1] == product.pk
    assert ProductChange.objects.count() == before + 1
    entry = AuditEntry.objects.get(action="catalog.product.updated")
    assert entry.changes["capacity"] == ["100.00", "250.00"]
    assert entry.changes["certifications"] == [[], ["ISO 9001"]]
    assert Product.objects.count() == 1


def test_columns_left_out_keep_their_values(personas, firm_a):
    staff = personas["specialist"]
    product = product_create(
        actor=staff, enterprise=firm_a, data={"name": "数控刀具", "materials": "硬质合金", "description": "车削用"}
    )
    report = product_import(
        actor=staff,
        file=sheet([[firm_a.uscc, "数控刀具", "CNC-1"]], headers=["统一社会信用代码", "产品名称", "型号规格"]),
        dry_run=False,
    )
    assert report.to_create == 1  # another model number: another product

    report = product_import(
        actor=staff,
        file=sheet([[firm_a.uscc, "数控刀具", "新的描述"]], headers=["统一社会信用代码", "产品名称", "产品描述"]),
        dry_run=False,
    )
    assert report.to_update == 1
    product.refresh_from_db()
    assert product.description == "新的描述" and product.materials == "硬质合金"


def test_a_firm_user_imports_only_its_own_rows(personas, firm_a, firm_b):
    firm_user = personas["firm_a"]
    report = product_import(
        actor=firm_user,
        file=sheet([row(firm_a.uscc, "自家产品"), row(firm_b.uscc, "别家产品"), row(make_uscc(999), "不存在")]),
        dry_run=False,
    )
    assert not report.written
    assert [(r, c) for r, c, _m in errors_of(report)] == [(3, "统一社会信用代码"), (4, "统一社会信用代码")]
    assert {m for _r, _c, m in errors_of(report)} == {"You may import only your own enterprise's products."}
    assert not Product.objects.exists()
    # Without a firm column, the rows are the firm's own.
    report = product_import(
        actor=firm_user, file=sheet([["自家产品", "YG8"]], headers=["产品名称", "型号规格"]), dry_run=False
    )
    assert report.written and Product.objects.get().enterprise_id == firm_a.pk
    # By name, too.
    report = product_import(
        actor=firm_user,
        file=sheet([[firm_b.name, "别家产品"]], headers=["企业名称", "产品名称"]),
        dry_run=True,
    )
    assert errors_of(report) == [(2, "企业名称", "You may import only your own enterprise's products.")]


def test_a_product_number_updates_that_product_only_within_its_firm(personas, firm_a, firm_b):
    staff = personas["specialist"]
    mine = product_create(actor=staff, enterprise=firm_a, data={"name": "旧名"})
    theirs = product_create(actor=staff, enterprise=firm_b, data={"name": "涂料"})
    headers = ["产品编号", "统一社会信用代码", "产品名称"]
    report = product_import(actor=staff, file=sheet([[mine.pk, firm_a.uscc, "新名"]], headers=headers), dry_run=False)
    assert report.to_update == 1
    mine.refresh_from_db()
    assert mine.name == "新名"
    report = product_import(
        actor=personas["firm_a"], file=sheet([[theirs.pk, firm_a.uscc, "抢来的"]], headers=headers), dry_run=False
    )
    assert errors_of(report) == [(2, "产品编号", "This enterprise has no product with this number.")]
    theirs.refresh_from_db()
    assert theirs.name == "涂料"


def test_duplicates_in_the_sheet_are_errors(personas, firm_a):
    report = product_import(
        actor=personas["specialist"],
        file=sheet([row(firm_a.uscc, "刀片", model="YG8"), row(firm_a.uscc, " 刀片 ", model="yg8")]),
        dry_run=True,
    )
    assert [(r, c) for r, c, _m in errors_of(report)] == [(3, "产品名称")]


@pytest.mark.parametrize("key", ["bank", "leader", "statistics", "city"])
def test_roles_that_may_not_edit_products_may_not_import(personas, firm_a, key):
    with pytest.raises(PermissionDeniedError):
        product_import(actor=personas[key], file=sheet([row(firm_a.uscc, "x")]), dry_run=True)
    with pytest.raises(PermissionDeniedError):
        upload_create(actor=personas[key], file=sheet([row(firm_a.uscc, "x")]))


def test_unusable_files_are_refused_with_a_reason(personas, firm_a):
    staff = personas["specialist"]
    with pytest.raises(ValidationFailed) as error:
        product_import(actor=staff, file=SimpleUploadedFile("a.xlsx", b"uscc,name\n1,2\n"), dry_run=True)
    assert "not an Excel .xlsx workbook" in str(error.value.message)
    with pytest.raises(ValidationFailed) as error:
        product_import(
            actor=staff, file=sheet([[firm_a.uscc, "x"]], headers=["统一社会信用代码", "名称"]), dry_run=True
        )
    assert "产品名称" in str(error.value.message)
    with pytest.raises(ValidationFailed) as error:
        product_import(actor=staff, file=sheet([["x"]], headers=["产品名称"]), dry_run=True)
    assert "统一社会信用代码" in str(error.value.message)
    with pytest.raises(ValidationFailed) as error:
        product_import(actor=staff, file=sheet([]), dry_run=True)
    assert "no rows" in str(error.value.message)


def test_english_keys_and_spacing_in_headers_are_accepted(personas, firm_a):
    report = product_import(
        actor=personas["specialist"],
        file=sheet([[firm_a.uscc, "刀片", "iso9001"]], headers=["USCC", " Name ", "认 证"]),
        dry_run=False,
    )
    assert report.written
    assert [c.name for c in Product.objects.get().certifications.all()] == ["ISO 9001"]


def test_the_upload_flow_checks_then_confirms_once(personas, firm_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    staff = personas["specialist"]
    upload = upload_create(actor=staff, file=sheet([row(firm_a.uscc, "刀片"), row(firm_a.uscc, "刀具")]))
    assert upload.state == ProductUpload.State.PENDING and upload.original_name == "products.xlsx"
    report = upload_check(actor=staff, upload=upload)
    assert report.ok and report.to_create == 2 and not Product.objects.exists()
    with pytest.raises(NotFoundError):
        selectors.upload_get_for(personas["service_staff"], upload.pk)
    with pytest.raises(NotFoundError):
        upload_confirm(actor=personas["service_staff"], upload=upload)
    report = upload_confirm(actor=staff, upload=upload)
    assert report.written and Product.objects.count() == 2 and ProductChange.objects.count() == 2
    upload.refresh_from_db()
    assert (upload.state, upload.created_count, upload.total_rows) == (ProductUpload.State.IMPORTED, 2, 2)
    assert AuditEntry.objects.filter(action="catalog.products.imported", object_id=str(upload.pk)).exists()
    with pytest.raises(ConflictError):
        upload_confirm(actor=staff, upload=upload)
    assert Product.objects.count() == 2


def test_a_bad_upload_stays_pending_and_can_be_discarded(personas, firm_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    staff = personas["specialist"]
    upload = upload_create(actor=staff, file=sheet([row(firm_a.uscc, "刀片", certifications="没有的认证")]))
    report = upload_confirm(actor=staff, upload=upload)
    assert not report.written and report.errors
    upload.refresh_from_db()
    assert upload.state == ProductUpload.State.PENDING
    upload_discard(actor=staff, upload=upload)
    assert upload.state == ProductUpload.State.DISCARDED and not Product.objects.exists()
    with pytest.raises(ConflictError):
        upload_discard(actor=staff, upload=upload)
    with pytest.raises(ValidationFailed):
        upload_create(actor=staff, file=SimpleUploadedFile("old.xls", b"\xd0\xcf\x11\xe0"))


def test_export_lists_what_the_user_sees_and_imports_back(personas, firm_a, firm_b):
    staff = personas["specialist"]
    iso = Certification.objects.get(name="ISO 9001")
    listed = product_create(
        actor=staff,
        enterprise=firm_a,
        data={"name": "刀片", "model_numbers": "YG8", "capacity": "12.5", "certifications": [iso]},
    )
    product_create(actor=staff, enterprise=firm_a, data={"name": "样品", "is_active": False})
    product_create(actor=staff, enterprise=firm_b, data={"name": "涂料"})
    content = imports.export_workbook(personas["firm_b"])
    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("产品编号", "统一社会信用代码", "企业名称", "产品名称")
    names = sorted(r[3] for r in rows[1:])
    assert names == ["刀片", "涂料"]  # firm_a's unlisted sample is not firm_b's to see
    assert len(list(load_workbook(io.BytesIO(imports.export_workbook(staff))).active.iter_rows())) == 4
    only_a = list(
        load_workbook(io.BytesIO(imports.export_workbook(staff, enterprise_id=firm_a.pk))).active.iter_rows(
            values_only=True
        )
    )
    assert sorted(r[3] for r in only_a[1:]) == ["刀片", "样品"]
    blade = next(r for r in rows if r[3] == "刀片")
    assert blade[0] == listed.pk and blade[10] == "ISO 9001" and float(blade[8]) == 12.5
    # Edited and imported back, the sheet updates the same products.
    workbook = load_workbook(io.BytesIO(imports.export_workbook(staff, enterprise_id=firm_a.pk)))
    ws = workbook.active
    for cells in ws.iter_rows(min_row=2):
        if cells[3].value == "刀片":
            cells[9].value = "片/年"
    out = io.BytesIO()
    workbook.save(out)
    report = product_import(actor=staff, file=SimpleUploadedFile("back.xlsx", out.getvalue()), dry_run=False)
    assert (report.to_create, report.to_update, report.unchanged) == (0, 1, 1)
    listed.refresh_from_db()
    assert listed.capacity_unit == "片/年"


def test_the_template_imports_once_its_example_names_a_real_firm(personas, firm_a):
    content = imports.template_workbook(firm_a)
    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert "产品编号" not in rows[0] and rows[1][0] == firm_a.uscc
    report = product_import(actor=personas["firm_a"], file=SimpleUploadedFile("t.xlsx", content), dry_run=True)
    assert report.ok and report.to_create == 1


def test_the_import_does_not_query_per_row(personas, firm_a, firm_b, django_assert_max_num_queries):
    staff = personas["specialist"]
    rows = [
        row(firm.uscc, f"产品{i}", model=f"M{i}", certifications="ISO 9001")
        for i in range(300)
        for firm in (firm_a, firm_b)
    ]
    file = sheet(rows)
    with django_assert_max_num_queries(40):
        report = product_import(actor=staff, file=file, dry_run=False)
    assert report.written and Product.objects.count() == 600 and ProductChange.objects.count() == 600
