"""Excel import and export of the product database.

The sheet (first worksheet of an .xlsx; its first row holds the headers, in Chinese — the firms' own
layout, so data rather than interface text — or as the English keys below; case, spaces and
full-width brackets do not matter):

- 产品编号 (id) — optional: the number of an existing product (as exported), which the row updates;
- 统一社会信用代码 (uscc) or 企业名称 (firm_name) — the firm; at least one of the two columns (a firm
  user may leave both out: its rows are its own). The USCC wins when a row gives both;
- 产品名称 (name) — required;
- 产品类别 (category), 型号规格 (model_numbers), 技术参数 (specifications), 材料 (materials),
  年产能 (capacity, a number ≥ 0), 产能单位 (capacity_unit), 认证 (certifications: names separated by
  commas or 、, each one the administrator has defined), 产品描述 (description), 关键词 (keywords).

A row without 产品编号 updates the firm's product with the same name and model numbers when there is
one, and adds a product otherwise, so importing a sheet twice does not duplicate it. On an update the
columns present in the sheet are written (an empty cell clears that value); columns left out of the
sheet keep their stored values.

Every row is checked with the product services' own rules (`services.clean_product_data`: lengths, a name, the
capacity, known certifications) and every problem reported as (row, column, reason), the row as
Excel numbers it. A firm user may import only its own firm's rows (any other firm's row is an error);
the registry's editors any firm's. When any row is bad, or on a dry run, nothing is written.
Otherwise one transaction creates and updates every product in bulk, appends one `ProductChange` per
product written (so the search index follows, exactly as for a single write through the services),
and records one audit entry per product. The registry and the existing products are read in a few
chunked queries, never one per row.

Uploads for the page flow (check first, then confirm or discard) are kept as `ProductUpload`s.
"""

from __future__ import annotations

import io
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import islice
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from zhiyuan.accounts.models import User
from zhiyuan.catalog.models import Certification, Product, ProductChange, ProductUpload
from zhiyuan.catalog.selectors import may_import, products_visible_to
from zhiyuan.catalog.services import (
    clean_product_data,  # the services' own field rules
    may_edit_products_of,
)
from zhiyuan.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from zhiyuan.core.services import audit_record, audit_record_many
from zhiyuan.enterprises.imports import RowError, check_workbook, read_upload
from zhiyuan.enterprises.models import Enterprise
from zhiyuan.enterprises.resources import allowed_values, normalize_header
from zhiyuan.enterprises.services import normalize_uscc, uscc_error

CREATED_ACTION = "catalog.product.created"
UPDATED_ACTION = "catalog.product.updated"
IMPORTED_ACTION = "catalog.products.imported"
PREVIEW_ROWS = 20
LOOKUP_CHUNK = 900  # values per IN clause (SQLite's historic limit is 999 parameters)
WRITE_BATCH = 1000
CAPACITY_LIMIT = Decimal(10) ** 14  # DecimalField(max_digits=16, decimal_places=2)
CENT = Decimal("0.01")
CERTIFICATION_SEPARATORS = re.compile(r"[,，、;；|\n]+")
# Text columns whose line breaks are kept (the services keep them too).
MULTILINE = ("specifications", "description")

__all__ = [
    "COLUMNS",
    "ImportReport",
    "PreviewRow",
    "RowError",
    "export_workbook",
    "product_import",
    "template_workbook",
    "upload_check",
    "upload_confirm",
    "upload_create",
    "upload_discard",
]


@dataclass(frozen=True)
class Column:
    """One column of the sheet: its key (the product field, or id / uscc / firm_name), the Chinese
    header, and other headers it is known by."""

    key: str
    header: str
    aliases: tuple[str, ...] = ()


COLUMNS: list[Column] = [
    Column("id", "产品编号", aliases=("产品ID", "编号")),
    Column("uscc", "统一社会信用代码", aliases=("社会信用代码", "信用代码")),
    Column("firm_name", "企业名称", aliases=("企业", "公司名称", "单位名称")),
    Column("name", "产品名称", aliases=("产品",)),
    Column("category", "产品类别", aliases=("类别", "产品分类")),
    Column("model_numbers", "型号规格", aliases=("型号", "规格型号", "规格")),
    Column("specifications", "技术参数", aliases=("主要参数", "规格参数")),
    Column("materials", "材料", aliases=("主要材料", "材质")),
    Column("capacity", "年产能", aliases=("产能",)),
    Column("capacity_unit", "产能单位", aliases=("单位",)),
    Column("certifications", "认证", aliases=("认证情况", "资质认证", "产品认证")),
    Column("description", "产品描述", aliases=("描述", "产品简介", "简介")),
    Column("keywords", "关键词", aliases=("关键字",)),
]
HEADERS = {column.key: column.header for column in COLUMNS}
# The product fields a row may write, in sheet order.
PRODUCT_FIELDS = [column.key for column in COLUMNS if column.key not in ("id", "uscc", "firm_name", "certifications")]
TEXT_FIELDS = [name for name in PRODUCT_FIELDS if name != "capacity"]


# -- results ---------------------------------------------------------------------------------------


@dataclass
class PreviewRow:
    """One good row as it will be written."""

    row: int
    action: str  # "create", "update" or "unchanged"
    enterprise: str
    name: str
    model_numbers: str
    certifications: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    """What an import found (dry run) or did: rows read, what the good rows create, update or leave
    unchanged, every problem as RowError(row, column, message), the first rows, whether it wrote."""

    dry_run: bool
    total: int = 0
    to_create: int = 0
    to_update: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    preview: list[PreviewRow] = field(default_factory=list)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_rows(self) -> list[int]:
        return sorted({error.row for error in self.errors})

    def as_dict(self) -> dict[str, Any]:
        """The report as plain JSON-ready data."""
        return {
            "dry_run": self.dry_run,
            "ok": self.ok,
            "written": self.written,
            "total": self.total,
            "to_create": self.to_create,
            "to_update": self.to_update,
            "unchanged": self.unchanged,
            "errors": [{"row": e.row, "column": e.column, "message": e.message} for e in self.errors],
            "preview": [
                {
                    "row": p.row,
                    "action": p.action,
                    "enterprise": p.enterprise,
                    "name": p.name,
                    "model_numbers": p.model_numbers,
                    "certifications": list(p.certifications),
                }
                for p in self.preview
            ],
        }


# -- reading ---------------------------------------------------------------------------------------


def _file_error(message: str) -> ValidationFailed:
    return ValidationFailed(message, field="file")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _header_map() -> dict[str, str]:
    names: dict[str, str] = {}
    for column in COLUMNS:
        for header in (column.key, column.header, *column.aliases):
            names[normalize_header(header)] = column.key
    return names


def _match_headers(headers: Iterable[Any], *, firm_user: bool) -> dict[str, int]:
    """{column key: position}; ValidationFailed naming the problem when the headers are unusable."""
    names = _header_map()
    positions: dict[str, int] = {}
    repeated: list[str] = []
    for index, header in enumerate(headers):
        if _blank(header):
            continue
        key = names.get(normalize_header(header))
        if key is None:
            continue  # other columns are ignored
        if key in positions:
            repeated.append(str(header).strip())
        else:
            positions[key] = index
    expected = "、".join(column.header for column in COLUMNS)
    if repeated:
        raise _file_error(
            _("The column %(headers)s appears more than once. Expected headers: %(expected)s.")
            % {"headers": "、".join(repeated), "expected": expected}
        )
    missing = []
    if "name" not in positions:
        missing.append(HEADERS["name"])
    if not firm_user and "uscc" not in positions and "firm_name" not in positions:
        missing.append(_("%(uscc)s or %(name)s") % {"uscc": HEADERS["uscc"], "name": HEADERS["firm_name"]})
    if missing:
        raise _file_error(
            _("The first row lacks the column %(missing)s. Expected headers: %(expected)s.")
            % {"missing": "、".join(missing), "expected": expected}
        )
    return positions


def _read_rows(content: bytes, *, firm_user: bool) -> tuple[dict[str, int], list[tuple[int, tuple]]]:
    """(column positions, [(Excel row number, cell values)]) of the first sheet; blank rows skipped."""
    check_workbook(content)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors on a damaged workbook
        raise _file_error(_("The workbook is damaged and could not be read. Save it again in Excel.")) from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise _file_error(_("The spreadsheet is empty."))
        rows = sheet.iter_rows(values_only=True)
        try:
            headers = next(rows)
        except StopIteration:
            raise _file_error(_("The spreadsheet is empty.")) from None
        positions = _match_headers(headers or (), firm_user=firm_user)
        data = [(number, tuple(values)) for number, values in enumerate(rows, start=2) if not _row_blank(values)]
    finally:
        workbook.close()
    if not data:
        raise _file_error(_("The sheet has headers but no rows to import."))
    return positions, data


def _row_blank(values: tuple) -> bool:
    return all(_blank(value) for value in values)


def _text_of(value: Any, *, multiline: bool = False) -> str:
    """A cell as text: a whole number typed into a text column without its ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if hasattr(value, "isoformat"):
        value = value.isoformat()
    text = str(value).strip()
    return text if multiline else " ".join(text.split())


def _certification_key(name: str) -> str:
    return re.sub(r"\s+", "", name).casefold()


# -- checking --------------------------------------------------------------------------------------


def _batched(items: list, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _key(enterprise_id: int, name: str, model_numbers: str) -> tuple[int, str, str]:
    return (enterprise_id, " ".join(name.split()).casefold(), " ".join(model_numbers.split()).casefold())


@dataclass
class _Staged:
    row: int
    enterprise: Enterprise
    values: dict[str, Any]  # cleaned product fields present in the sheet
    certifications: list[Certification] | None  # None: the column is absent
    product: Product | None = None  # the product updated (None: a new one, until written)
    changes: dict[str, list[Any]] = field(default_factory=dict)
    creates: bool = False


class _Check:
    """One run over a sheet's rows: read the firms, certifications and existing products once, check
    every row, and work out what each good row would do."""

    def __init__(self, *, actor: User | None, positions: dict[str, int], rows: list[tuple[int, tuple]]):
        self.actor = actor
        self.positions = positions
        self.rows = rows
        self.own_firm_id = getattr(actor, "enterprise_id", None) if actor is not None else None
        self.report = ImportReport(dry_run=True, total=len(rows))
        self.staged: list[_Staged] = []
        self.firms_by_code: dict[str, Enterprise] = {}
        self.firms_by_name: dict[str, list[Enterprise]] = defaultdict(list)
        self.firms_by_pk: dict[int, Enterprise] = {}
        self.products_by_pk: dict[int, Product] = {}
        self.products_by_key: dict[tuple, list[Product]] = defaultdict(list)
        self.products_by_name: dict[tuple, list[Product]] = defaultdict(list)
        self.product_certifications: dict[int, list[int]] = defaultdict(list)
        defined = list(Certification.objects.order_by("order", "name"))
        self.certifications = {_certification_key(c.name): c for c in defined}
        self.certification_names = [c.name for c in defined]
        self.certification_by_pk = {c.pk: c for c in defined}

    # reading cells
    def cell(self, values: tuple, key: str) -> Any:
        position = self.positions.get(key)
        if position is None or position >= len(values):
            return None
        return values[position]

    def run(self) -> ImportReport:
        self._load_firms()
        self._load_products()
        seen_ids: dict[int, int] = {}
        seen_keys: dict[tuple, int] = {}
        for number, values in self.rows:
            staged = self._check_row(number, values)
            if staged is None:
                continue
            if staged.product is not None and staged.product.pk in seen_ids:
                self._error(
                    number,
                    "id" if "id" in self.positions else "name",
                    _("The same product is already on row %(row)d of this sheet.")
                    % {"row": seen_ids[staged.product.pk]},
                )
                continue
            key = _key(
                staged.enterprise.pk,
                staged.values.get("name", staged.product.name if staged.product else ""),
                staged.values.get("model_numbers", staged.product.model_numbers if staged.product is not None else ""),
            )
            if key in seen_keys:
                self._error(
                    number,
                    "name",
                    _("This enterprise's product with this name and model is already on row %(row)d of this sheet.")
                    % {"row": seen_keys[key]},
                )
                continue
            seen_keys[key] = number
            if staged.product is not None:
                seen_ids[staged.product.pk] = number
            self._count(staged)
        self.report.errors.sort(key=lambda error: error.row)
        return self.report

    def _error(self, row: int, key: str, message: str) -> None:
        self.report.errors.append(RowError(row, HEADERS.get(key, key), str(message)))

    # reference data, read once
    def _load_firms(self) -> None:
        codes: set[str] = set()
        names: set[str] = set()
        for _number, values in self.rows:
            code = self.cell(values, "uscc")
            if not _blank(code):
                normal = normalize_uscc(_text_of(code))
                if uscc_error(normal) is None:
                    codes.add(normal)
            name = self.cell(values, "firm_name")
            if not _blank(name):
                names.add(_text_of(name))
        for chunk in _batched(sorted(codes), LOOKUP_CHUNK):
            for firm in Enterprise.objects.filter(uscc__in=chunk):
                self.firms_by_code[firm.uscc] = firm
                self.firms_by_pk[firm.pk] = firm
        for chunk in _batched(sorted(names), LOOKUP_CHUNK):
            query = Enterprise.objects.filter(name__in=chunk) | Enterprise.objects.filter(short_name__in=chunk)
            for firm in query.distinct():
                self.firms_by_pk.setdefault(firm.pk, firm)
                firm = self.firms_by_pk[firm.pk]
                if firm.name in names:
                    self.firms_by_name[firm.name].append(firm)
                if firm.short_name and firm.short_name in names and firm.short_name != firm.name:
                    self.firms_by_name[firm.short_name].append(firm)
        if self.own_firm_id and self.own_firm_id not in self.firms_by_pk:
            own = Enterprise.objects.filter(pk=self.own_firm_id).first()
            if own is not None:
                self.firms_by_pk[own.pk] = own

    def _load_products(self) -> None:
        """The existing products of the firms in the sheet and those the sheet numbers."""
        ids: set[int] = set()
        for _number, values in self.rows:
            value = self.cell(values, "id")
            number = _integer(value)
            if number is not None:
                ids.add(number)
        firm_ids = sorted(self.firms_by_pk)
        products: dict[int, Product] = {}
        for chunk in _batched(firm_ids, LOOKUP_CHUNK):
            for product in Product.objects.filter(enterprise_id__in=chunk):
                products[product.pk] = product
        missing = sorted(ids - set(products))
        for chunk in _batched(missing, LOOKUP_CHUNK):
            for product in Product.objects.filter(pk__in=chunk):
                products[product.pk] = product
        through = Product.certifications.through
        for chunk in _batched(sorted(products), LOOKUP_CHUNK):
            for product_id, certification_id in through.objects.filter(product_id__in=chunk).values_list(
                "product_id", "certification_id"
            ):
                self.product_certifications[product_id].append(certification_id)
        for product in products.values():
            self.products_by_pk[product.pk] = product
            key = _key(product.enterprise_id, product.name, product.model_numbers)
            self.products_by_key[key].append(product)
            self.products_by_name[key[:2]].append(product)
        for same in [*self.products_by_key.values(), *self.products_by_name.values()]:
            same.sort(key=lambda product: product.pk)

    # one row
    def _firm(self, number: int, values: tuple) -> Enterprise | None:
        code_cell = self.cell(values, "uscc")
        name_cell = self.cell(values, "firm_name")
        firm: Enterprise | None = None
        column = "uscc"
        if not _blank(code_cell):
            code = normalize_uscc(_text_of(code_cell))
            message = uscc_error(code)
            if message:
                self._error(number, "uscc", message)
                return None
            firm = self.firms_by_code.get(code)
            if firm is None and not self.own_firm_id:
                self._error(number, "uscc", _("There is no enterprise with this USCC in the registry."))
                return None
        elif not _blank(name_cell):
            column = "firm_name"
            matches = self.firms_by_name.get(_text_of(name_cell), [])
            if len(matches) > 1:
                self._error(
                    number,
                    "firm_name",
                    _("Several enterprises are called this; give the unified social credit code instead."),
                )
                return None
            firm = matches[0] if matches else None
            if firm is None and not self.own_firm_id:
                self._error(number, "firm_name", _("There is no enterprise with this name in the registry."))
                return None
        elif self.own_firm_id:
            firm = self.firms_by_pk.get(self.own_firm_id)
        else:
            self._error(
                number,
                "uscc" if "uscc" in self.positions else "firm_name",
                _("Give the enterprise's unified social credit code or its name."),
            )
            return None
        if firm is None or not may_edit_products_of(self.actor, firm):
            # A firm user learns nothing about other firms: every foreign row gets the same answer.
            self._error(number, column, _("You may import only your own enterprise's products."))
            return None
        return firm

    def _check_row(self, number: int, values: tuple) -> _Staged | None:
        errors_before = len(self.report.errors)
        firm = self._firm(number, values)
        data: dict[str, Any] = {}
        for name in TEXT_FIELDS:
            if name in self.positions:
                data[name] = _text_of(self.cell(values, name), multiline=name in MULTILINE)
        if "capacity" in self.positions:
            capacity, message = _capacity(self.cell(values, "capacity"))
            if message:
                self._error(number, "capacity", message)
            else:
                data["capacity"] = capacity
        certifications: list[Certification] | None = None
        if "certifications" in self.positions:
            certifications, unknown = self._certifications(self.cell(values, "certifications"))
            if unknown:
                self._error(
                    number,
                    "certifications",
                    _("Unknown certifications: %(names)s. Defined: %(allowed)s.")
                    % {"names": "、".join(unknown), "allowed": allowed_values(self.certification_names)},
                )
        product = None
        id_cell = self.cell(values, "id")
        if not _blank(id_cell):
            product_id = _integer(id_cell)
            product = self.products_by_pk.get(product_id) if product_id is not None else None
            if product_id is None:
                self._error(number, "id", _("A product number is a whole number."))
            elif firm is not None and (product is None or product.enterprise_id != firm.pk):
                self._error(number, "id", _("This enterprise has no product with this number."))
                product = None
        try:
            cleaned, _none = clean_product_data(
                {**data, **({"certifications": certifications} if certifications is not None else {})},
                partial=product is not None,
            )
        except ValidationFailed as error:
            for name, messages in error.fields.items():
                if name == "certifications":
                    continue  # reported above, with the defined names
                for message in messages if isinstance(messages, (list, tuple)) else [messages]:
                    self._error(number, name, message)
            cleaned = {}
        if len(self.report.errors) > errors_before or firm is None:
            return None
        if product is None:
            # The firm's product with the same name and model numbers (with the same name, when the
            # sheet has no model column) is the one the row updates.
            key = _key(firm.pk, cleaned.get("name", ""), cleaned.get("model_numbers", ""))
            same = self.products_by_key.get(key) if "model_numbers" in cleaned else self.products_by_name.get(key[:2])
            product = same[0] if same else None
        staged = _Staged(row=number, enterprise=firm, values=cleaned, certifications=certifications, product=product)
        if product is not None:
            staged.changes = self._changes(product, cleaned, certifications)
        return staged

    def _certifications(self, value: Any) -> tuple[list[Certification], list[str]]:
        found: dict[int, Certification] = {}
        unknown: list[str] = []
        for part in CERTIFICATION_SEPARATORS.split(_text_of(value, multiline=True)):
            name = part.strip()
            if not name:
                continue
            certification = self.certifications.get(_certification_key(name))
            if certification is None:
                if name not in unknown:
                    unknown.append(name)
            else:
                found[certification.pk] = certification
        return list(found.values()), unknown

    def _changes(
        self, product: Product, cleaned: dict[str, Any], certifications: list[Certification] | None
    ) -> dict[str, list[Any]]:
        changes: dict[str, list[Any]] = {}
        for name, value in cleaned.items():
            old = getattr(product, name)
            if name == "capacity":
                if (old is None) != (value is None) or (old is not None and Decimal(old) != Decimal(value)):
                    changes[name] = [None if old is None else str(old), None if value is None else str(value)]
            elif old != value:
                changes[name] = [old, value]
        if certifications is not None:
            before = set(self.product_certifications.get(product.pk, []))
            after = {c.pk for c in certifications}
            if before != after:
                changes["certifications"] = [
                    sorted(self.certification_by_pk[pk].name for pk in before if pk in self.certification_by_pk),
                    sorted(c.name for c in certifications),
                ]
        return changes

    def _count(self, staged: _Staged) -> None:
        staged.creates = staged.product is None
        if staged.creates:
            action = "create"
            self.report.to_create += 1
        elif staged.changes:
            action = "update"
            self.report.to_update += 1
        else:
            action = "unchanged"
            self.report.unchanged += 1
        if action != "unchanged":
            self.staged.append(staged)
        if len(self.report.preview) < PREVIEW_ROWS:
            product = staged.product
            if staged.certifications is not None:
                names = [c.name for c in staged.certifications]
            elif product is not None:
                linked = self.product_certifications.get(product.pk, [])
                names = [self.certification_by_pk[pk].name for pk in linked if pk in self.certification_by_pk]
            else:
                names = []
            self.report.preview.append(
                PreviewRow(
                    row=staged.row,
                    action=action,
                    enterprise=staged.enterprise.name,
                    name=staged.values.get("name", product.name if product else ""),
                    model_numbers=staged.values.get("model_numbers", product.model_numbers if product else ""),
                    certifications=names,
                )
            )

    # writing
    def write(self, actor: User | None) -> tuple[list[Product], list[Product]]:
        """Create and update the staged products, their certifications, the change log and the audit
        trail; the caller holds the transaction."""
        now = timezone.now()
        creates = [s for s in self.staged if s.creates]
        updates = [s for s in self.staged if not s.creates]
        created: list[Product] = []
        for staged in creates:
            staged.product = Product(enterprise=staged.enterprise, **staged.values)
            created.append(staged.product)
        for chunk in _batched(created, WRITE_BATCH):
            Product.objects.bulk_create(chunk)
        if any(product.pk is None for product in created):
            raise ConflictError(_("The database did not return the new products' numbers; nothing was written."))
        updated = [staged.product for staged in updates]
        ids = [product.pk for product in updated]
        still_there = 0
        for chunk in _batched(ids, LOOKUP_CHUNK):
            still_there += Product.objects.filter(pk__in=chunk).count()
        if still_there != len(ids):
            raise ConflictError(
                _("Some products were deleted while the sheet was being imported; nothing was written.")
            )
        fields_by_set: dict[tuple[str, ...], list[Product]] = defaultdict(list)
        for staged in updates:
            names = tuple(sorted(name for name in staged.changes if name != "certifications"))
            for name in names:
                setattr(staged.product, name, staged.values[name])
            staged.product.updated_at = now
            fields_by_set[(*names, "updated_at")].append(staged.product)
        for names, products in fields_by_set.items():
            Product.objects.bulk_update(products, list(names), batch_size=WRITE_BATCH)
        through = Product.certifications.through
        relinked = [s.product.pk for s in updates if "certifications" in s.changes]
        for chunk in _batched(relinked, LOOKUP_CHUNK):
            through.objects.filter(product_id__in=chunk).delete()
        links = [
            through(product_id=staged.product.pk, certification_id=certification.pk)
            for staged in self.staged
            if staged.certifications and (staged.creates or "certifications" in staged.changes)
            for certification in staged.certifications
        ]
        through.objects.bulk_create(links, batch_size=WRITE_BATCH)
        ProductChange.objects.bulk_create(
            [ProductChange(product_id=staged.product.pk, op=ProductChange.Op.UPSERT) for staged in self.staged],
            batch_size=WRITE_BATCH,
        )
        changes = {staged.product.pk: staged.changes for staged in updates}
        audit_record_many(actor=actor, action=CREATED_ACTION, objs=created)
        audit_record_many(actor=actor, action=UPDATED_ACTION, objs=updated, changes_for=lambda p: changes[p.pk])
        return created, updated


def _integer(value: Any) -> int | None:
    if _blank(value) or isinstance(value, bool):
        return None
    if isinstance(value, float):
        return int(value) if value.is_integer() and value > 0 else None
    if isinstance(value, int):
        return value if value > 0 else None
    text = str(value).strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def _capacity(value: Any) -> tuple[Decimal | None, str | None]:
    """(the annual capacity, None) or (None, why the cell is not one)."""
    if _blank(value):
        return None, None
    if isinstance(value, bool):
        return None, _("Enter a number of zero or more.")
    text = str(value).strip().replace(",", "").replace("，", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None, _("Enter a number of zero or more.")
    if not number.is_finite() or number < 0:
        return None, _("Enter a number of zero or more.")
    number = number.quantize(CENT, rounding=ROUND_HALF_UP)
    if number >= CAPACITY_LIMIT:
        return None, _("This number is too large.")
    return number, None


def _check_permission(actor: User | None) -> None:
    if actor is not None and not may_import(actor):
        raise PermissionDeniedError(_("Only a firm (its own products) or the registry's editors may import products."))


def _run(*, actor: User | None, content: bytes, dry_run: bool) -> tuple[_Check, ImportReport]:
    firm_user = bool(getattr(actor, "enterprise_id", None))
    positions, rows = _read_rows(content, firm_user=firm_user)
    check = _Check(actor=actor, positions=positions, rows=rows)
    report = check.run()
    report.dry_run = dry_run
    return check, report


def product_import(*, actor: User | None, file, dry_run: bool) -> ImportReport:
    """Check an .xlsx of products and, unless `dry_run` or any row is bad, write it all in one
    transaction (see the module docstring). A bad file raises ValidationFailed on "file"; row
    problems are returned in the report, every one of them, and then nothing is written."""
    _check_permission(actor)
    check, report = _run(actor=actor, content=read_upload(file), dry_run=dry_run)
    if report.errors or dry_run:
        return report
    with transaction.atomic():
        check.write(actor)
    report.written = True
    return report


# -- uploads: check first, then confirm --------------------------------------------------------------


def upload_create(*, actor: User, file) -> ProductUpload:
    """Keep an uploaded product sheet for its check and confirmation, after checking who uploads it,
    its size and that it is an .xlsx workbook."""
    if actor is None:
        raise PermissionDeniedError()
    _check_permission(actor)
    if file is None:
        raise _file_error(_("Choose a file to upload."))
    name = str(getattr(file, "name", "") or "").rsplit("/", 1)[-1]
    content = read_upload(file)
    if name.lower().endswith(".xls"):
        raise _file_error(
            _("This is an old Excel .xls file. Save the sheet as “Excel Workbook (*.xlsx)” and upload it again.")
        )
    check_workbook(content)
    upload = ProductUpload(original_name=(name or "products.xlsx")[:255], size=len(content), uploaded_by=actor)
    upload.file.save(f"{uuid.uuid4().hex}.xlsx", ContentFile(content), save=False)
    upload.save()
    return upload


def _upload_actor(actor: User | None, upload: ProductUpload) -> None:
    if actor is None or upload.uploaded_by_id != actor.pk:
        raise NotFoundError()
    _check_permission(actor)


def _already_done() -> ConflictError:
    return ConflictError(_("This upload has already been imported or discarded."))


def _refresh_pending(upload: ProductUpload) -> None:
    try:
        upload.refresh_from_db()
    except ProductUpload.DoesNotExist:
        raise NotFoundError() from None
    if upload.state != ProductUpload.State.PENDING:
        raise _already_done()


def _content(upload: ProductUpload) -> bytes:
    try:
        with upload.file.open("rb") as handle:
            return handle.read()
    except (FileNotFoundError, ValueError, OSError):
        raise _file_error(_("The uploaded file is no longer available. Upload it again.")) from None


def upload_check(*, actor: User, upload: ProductUpload) -> ImportReport:
    """The dry run of a pending upload: what confirming it would do, or every bad row."""
    _upload_actor(actor, upload)
    _refresh_pending(upload)
    _check, report = _run(actor=actor, content=_content(upload), dry_run=True)
    return report


def _delete_file_on_commit(upload: ProductUpload) -> None:
    if not upload.file:
        return
    storage, name = upload.file.storage, upload.file.name
    transaction.on_commit(lambda: storage.delete(name))


def upload_confirm(*, actor: User, upload: ProductUpload) -> ImportReport:
    """Import a pending upload for real. The rows are checked again (the registry may have changed
    since the check); when any row is bad nothing is written and the upload stays pending. The
    upload is claimed (pending → imported) in the write's transaction, so two confirmations cannot
    both import it."""
    _upload_actor(actor, upload)
    _refresh_pending(upload)
    check, report = _run(actor=actor, content=_content(upload), dry_run=False)
    if report.errors:
        return report
    with transaction.atomic():
        claimed = ProductUpload.objects.filter(pk=upload.pk, state=ProductUpload.State.PENDING).update(
            state=ProductUpload.State.IMPORTED,
            finished_at=timezone.now(),
            total_rows=report.total,
            created_count=report.to_create,
            updated_count=report.to_update,
            unchanged_count=report.unchanged,
        )
        if not claimed:
            raise _already_done()
        check.write(actor)
        upload.refresh_from_db()
        audit_record(
            actor=actor,
            action=IMPORTED_ACTION,
            obj=upload,
            changes={"created": [None, report.to_create], "updated": [None, report.to_update]},
        )
        _delete_file_on_commit(upload)
    report.written = True
    return report


def upload_discard(*, actor: User, upload: ProductUpload) -> None:
    """Drop a pending upload and delete its file."""
    _upload_actor(actor, upload)
    with transaction.atomic():
        discarded = ProductUpload.objects.filter(pk=upload.pk, state=ProductUpload.State.PENDING).update(
            state=ProductUpload.State.DISCARDED, finished_at=timezone.now()
        )
        if not discarded:
            raise _already_done()
        _delete_file_on_commit(upload)
    upload.refresh_from_db()


# -- template and export -------------------------------------------------------------------------------

_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_HEADER_FONT = Font(bold=True)
TEXT_COLUMNS = ("uscc", "model_numbers")


def _widths(sheet, headers: list[str]) -> None:
    for index, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, len(header) * 2 + 6)


def template_workbook(enterprise: Enterprise | None = None) -> bytes:
    """An .xlsx to fill in: the headers (without 产品编号) and one example row, for `enterprise` when given."""
    columns = [column for column in COLUMNS if column.key != "id"]
    example = {
        "uscc": enterprise.uscc if enterprise else "91430200MA4EXAMPL0",
        "firm_name": enterprise.name if enterprise else "株洲示例硬质合金有限公司",
        "name": "硬质合金数控刀片",
        "category": "切削刀具",
        "model_numbers": "CNMG120408 YG8",
        "specifications": "硬度 HRA 89.5；抗弯强度 ≥ 1800 MPa",
        "materials": "碳化钨, 钴",
        "capacity": 1200000,
        "capacity_unit": "片",
        "certifications": "ISO 9001, IATF 16949",
        "description": "用于铸铁、钢件的车削加工。",
        "keywords": "硬质合金, 刀片, 数控",
    }
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "products"
    headers = [column.header for column in columns]
    sheet.append(headers)
    sheet.append([example[column.key] for column in columns])
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        if column.key in TEXT_COLUMNS:
            sheet.cell(row=2, column=index).number_format = "@"
    _widths(sheet, headers)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def export_workbook(user: User, *, enterprise_id: int | None = None) -> bytes:
    """The products `user` sees (of one firm when given) as an .xlsx in the import's layout, with
    产品编号 first so that the sheet, edited, imports back as updates."""
    queryset = products_visible_to(user).order_by("enterprise__name", "name", "pk")
    if enterprise_id is not None:
        queryset = queryset.filter(enterprise_id=enterprise_id)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("products")
    headers = [column.header for column in COLUMNS]
    _widths(sheet, headers)
    sheet.freeze_panes = "A2"
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        header_cells.append(cell)
    sheet.append(header_cells)
    for product in queryset.iterator(chunk_size=2000):
        firm = product.enterprise
        sheet.append(
            [
                product.pk,
                firm.uscc,
                firm.name,
                product.name,
                product.category,
                product.model_numbers,
                product.specifications,
                product.materials,
                product.capacity,
                product.capacity_unit,
                ", ".join(c.name for c in product.certifications.all()),
                product.description,
                product.keywords,
            ]
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
