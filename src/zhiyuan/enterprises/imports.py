"""Excel import of the enterprise registry: check every row, then write all-or-nothing in bulk.

Why the rows are not imported with django-import-export's own `Resource.import_data`: that
machinery works one row at a time — a query to find the existing instance, a query per
foreign-key widget, `save()` and an m2m `set()` per row, a diff per row — which is several
queries per row and far from the benchmark target (a whole import within 3x of just reading the
file; see bench/import_enterprises.py). It would also need its own copy of the registry's rules.

So django-import-export is kept for what it does well — the Resource (`resources.py`: columns,
translated headers, cell widgets, export, the template) and loading the .xlsx into a tablib
Dataset — and this service does the rest in bulk:

1. read the upload once (size limit, a real .xlsx, then the Resource's XLSX format → Dataset);
2. match the header row against the Resource's headers (any site language);
3. read the reference data once (industries, zones, tags, specialists) and the existing firms
   whose USCC is in the file in a few chunked queries;
4. clean every cell with the Resource's widgets and check every row with
   `services.validate_enterprise_data` (the same rules as the forms), the USCC with
   `services.uscc_error`, and duplicates inside the file, collecting every error;
5. only when no row is bad (and not a dry run): `bulk_create` / `bulk_update` in batches, the tag
   links in bulk, one audit entry per created or changed firm via `audit_record_many` — all in
   one transaction, so a failure anywhere writes nothing.
"""

import gc
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, NamedTuple

import tablib
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export.formats.base_formats import XLSX

from zhiyuan.accounts.models import User
from zhiyuan.accounts.permissions import can_import_registry
from zhiyuan.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from zhiyuan.core.excel import check_workbook, file_error, read_upload
from zhiyuan.core.services import audit_record_many, diff, snapshot
from zhiyuan.enterprises.models import Enterprise, ImportBatch
from zhiyuan.enterprises.resources import (
    IMPORT_FIELDS,
    CellError,
    EnterpriseResource,
    Lookups,
    column_label,
    normalize_header,
)
from zhiyuan.enterprises.services import (
    AUDITED_FIELDS,
    REQUIRED_FIELDS,
    compute_size_class,
    normalize_uscc,
    uscc_error,
    validate_enterprise_data,
)

IMPORT_ACTION = "enterprises.enterprise.imported"
PREVIEW_ROWS = 20
WRITE_BATCH = 2000
LOOKUP_CHUNK = 500
SCALAR_AUDITED = [name for name in AUDITED_FIELDS if name != "tags"]
# Stands for "a firm not registered yet" when asking the registry's validation about a new row.
_NEW_FIRM = Enterprise()

Progress = Callable[[str, int, int], None]


class RowError(NamedTuple):
    """One problem: the row as numbered in Excel (the header is row 1), the column header, the reason."""

    row: int
    column: str
    message: str


@dataclass
class PreviewRow:
    """One row of the dry-run preview: what the import would do with it."""

    row: int
    action: str  # "new", "updated" or "unchanged"
    uscc: str
    name: str
    industry: str
    size_class: str
    changed: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    """What an import found (dry run) or did: row counts, the first rows, and every bad row's errors."""

    dry_run: bool
    total: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    preview: list[PreviewRow] = field(default_factory=list)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_rows(self) -> list[int]:
        """The Excel row numbers that have at least one error."""
        return sorted({error.row for error in self.errors})


@dataclass
class Sheet:
    """A read and header-checked sheet: the column position of every imported field and the data rows."""

    columns: dict[str, int]
    rows: list[tuple[int, tuple]]  # (Excel row number, cell values)


# -- reading -------------------------------------------------------------------------------------


def _file_error(message: str) -> ValidationFailed:
    return file_error(message)


def read_dataset(content: bytes) -> tablib.Dataset:
    """The reader: the first (active) sheet through the Resource's .xlsx format (openpyxl, read-only).

    The benchmark times exactly this call as the "bare read" it compares the import with.
    """
    check_workbook(content)
    try:
        return XLSX().create_dataset(content)
    except StopIteration:
        raise _file_error(_("The spreadsheet is empty.")) from None
    except tablib.InvalidDimensions:
        raise _file_error(_("The rows of the spreadsheet have different lengths and could not be read.")) from None
    except Exception:  # openpyxl raises many kinds of errors on a damaged workbook
        raise _file_error(_("The workbook is damaged and could not be read. Save it again in Excel.")) from None


def match_headers(headers: Iterable[Any]) -> dict[str, int]:
    """{field name: column position} for every imported column, or ValidationFailed listing the
    expected headers. Headers may be in any language the site offers; export-only columns (industry
    name, size class) are accepted and ignored, so an exported sheet can be imported again."""
    aliases = EnterpriseResource.header_aliases()
    positions: dict[str, int] = {}
    unknown, repeated = [], []
    for index, header in enumerate(headers or []):
        if header is None or not str(header).strip():
            continue
        name = aliases.get(normalize_header(header))
        if name is None:
            unknown.append(str(header).strip())
        elif name in positions:
            repeated.append(str(header).strip())
        else:
            positions[name] = index
    missing = [str(column_label(name)) for name in IMPORT_FIELDS if name not in positions]
    if missing or unknown or repeated:
        problems = []
        if missing:
            problems.append(_("missing: %(headers)s") % {"headers": "、".join(missing)})
        if unknown:
            problems.append(_("not recognised: %(headers)s") % {"headers": "、".join(unknown)})
        if repeated:
            problems.append(_("repeated: %(headers)s") % {"headers": "、".join(repeated)})
        raise _file_error(
            _("The first row does not hold the expected headers (%(problems)s). Expected headers: %(expected)s.")
            % {"problems": "; ".join(problems), "expected": "、".join(EnterpriseResource.import_headers())}
        )
    return {name: positions[name] for name in IMPORT_FIELDS}


def _is_blank_row(values: tuple) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def read_sheet(file) -> Sheet:
    """Read and check an uploaded sheet (size, format, headers); no database access."""
    dataset = read_dataset(read_upload(file))
    columns = match_headers(dataset.headers)
    rows = []
    for index in range(dataset.height):
        values = dataset[index]
        if not _is_blank_row(values):
            rows.append((index + 2, values))
    if not rows:
        raise _file_error(_("The sheet has headers but no rows to import."))
    return Sheet(columns=columns, rows=rows)


# -- checking and writing ------------------------------------------------------------------------


def _batched(items: list, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


@dataclass
class _Update:
    enterprise: Enterprise
    tags: list
    changes: dict


class _Importer:
    """One run over a sheet: check every row (collecting every error), then write in bulk."""

    def __init__(self, *, actor: User | None, sheet: Sheet, dry_run: bool, progress: Progress | None):
        self.actor = actor
        self.sheet = sheet
        self.progress = progress or (lambda stage, done, total: None)
        self.report = ImportReport(dry_run=dry_run)
        self.labels = {name: str(column_label(name)) for name in [*IMPORT_FIELDS, "size_class"]}
        self.order = {name: position for position, name in enumerate(IMPORT_FIELDS)}
        self.creates: list[tuple[Enterprise, list]] = []
        self.updates: list[_Update] = []
        self.seen: dict[str, int] = {}

    def run(self) -> ImportReport:
        with _cyclic_gc_paused():
            return self._run()

    def _run(self) -> ImportReport:
        lookups = Lookups.load()
        widgets = EnterpriseResource(lookups=lookups).import_widgets()
        self.cells = [(name, self.sheet.columns[name], widgets[name]) for name in IMPORT_FIELDS]
        self._load_existing(widgets["uscc"])
        total = len(self.sheet.rows)
        self.report.total = total
        for done, (row, values) in enumerate(self.sheet.rows, start=1):
            self._check_row(row, values)
            if done % 1000 == 0 or done == total:
                self.progress("check", done, total)
        if self.report.errors or self.report.dry_run:
            self.creates, self.updates = [], []
            return self.report
        self._write()
        self.report.written = True
        return self.report

    def _load_existing(self, uscc_widget) -> None:
        """The firms already registered under the file's USCCs, with their tags, in a few queries."""
        self.existing: dict[str, Enterprise] = {}
        self.existing_tags: dict[int, list[str]] = defaultdict(list)
        registered = dict(Enterprise.objects.values_list("uscc", "pk"))
        if not registered:
            return
        ids = set()
        position = self.sheet.columns["uscc"]
        for _row, values in self.sheet.rows:
            try:
                code = uscc_widget.clean(values[position] if position < len(values) else None)
            except CellError:
                continue
            pk = registered.get(normalize_uscc(code)) if code else None
            if pk is not None:
                ids.add(pk)
        through = Enterprise.tags.through
        for chunk in _batched(sorted(ids), LOOKUP_CHUNK):
            for enterprise in Enterprise.objects.filter(pk__in=chunk).select_related("industry", "zone", "specialist"):
                self.existing[enterprise.uscc] = enterprise
            links = through.objects.filter(enterprise_id__in=chunk).values_list("enterprise_id", "tag__name")
            for enterprise_id, tag_name in links:
                self.existing_tags[enterprise_id].append(tag_name)

    def _check_row(self, row: int, values: tuple) -> None:
        errors: list[tuple[str, str]] = []
        cleaned: dict[str, Any] = {}
        width = len(values)
        for name, position, widget in self.cells:
            try:
                cleaned[name] = widget.clean(values[position] if position < width else None)
            except CellError as error:
                errors.append((name, error.message))
        failed = {name for name, _message in errors}
        code = cleaned.pop("uscc", "")
        if "uscc" not in failed:
            code = normalize_uscc(code)
            message = _("This field is required.") if not code else uscc_error(code)
            if message is None and code in self.seen:
                message = _("This unified social credit code is already on row %(row)d of the file.") % {
                    "row": self.seen[code]
                }
            if message:
                errors.append(("uscc", message))
            else:
                self.seen[code] = row
        tags = cleaned.pop("tags", [])
        for name in REQUIRED_FIELDS:
            if name != "uscc" and name not in failed and cleaned.get(name) in (None, ""):
                errors.append((name, _("This field is required.")))
                failed.add(name)
        # The registry's own rules (known industry code, no negative amounts, no future date, phone
        # and ID formats, the specialist's role). The USCC is checked above and left out here: the
        # import is keyed on it, so a registered USCC means an update, not the service's "already
        # registered" — and leaving it out spares the service's per-row duplicate query. Passing the
        # firm being updated (or a blank one) as `instance` skips the service's required-field check,
        # done just above with the same rule and message.
        data: dict[str, Any] = {}
        try:
            data = validate_enterprise_data(
                {name: value for name, value in cleaned.items() if name not in failed},
                instance=self.existing.get(code) or _NEW_FIRM,
            )
        except ValidationFailed as error:
            for name, messages in error.fields.items():
                if name in failed:
                    continue
                for message in messages if isinstance(messages, (list, tuple)) else [messages]:
                    errors.append((name, str(message)))
        if errors:
            errors.sort(key=lambda item: self.order.get(item[0], len(self.order)))
            self.report.errors.extend(RowError(row, self.labels[name], message) for name, message in errors)
            return
        self._stage(row, code, data, tags)

    def _stage(self, row: int, code: str, data: dict, tags: list) -> None:
        existing = self.existing.get(code)
        if existing is None:
            enterprise = Enterprise(uscc=code, **data)
            enterprise.size_class = compute_size_class(enterprise)
            self.creates.append((enterprise, tags))
            self.report.new += 1
            self._preview(row, "new", enterprise, [])
            return
        before = self._snapshot(existing, sorted(self.existing_tags.get(existing.pk, [])))
        for name, value in data.items():
            setattr(existing, name, value)
        existing.size_class = compute_size_class(existing)
        changes = diff(before, self._snapshot(existing, [t.name for t in tags]))
        if changes:
            self.updates.append(_Update(existing, tags, changes))
            self.report.updated += 1
            self._preview(row, "updated", existing, [self.labels.get(name, name) for name in changes])
        else:
            self.report.unchanged += 1
            self._preview(row, "unchanged", existing, [])

    def _preview(self, row: int, action: str, enterprise: Enterprise, changed: list) -> None:
        if len(self.report.preview) < PREVIEW_ROWS:
            self.report.preview.append(
                PreviewRow(
                    row=row,
                    action=action,
                    uscc=enterprise.uscc,
                    name=enterprise.name,
                    industry=str(enterprise.industry),
                    size_class=str(enterprise.get_size_class_display()),
                    changed=[str(label) for label in changed],
                )
            )

    @staticmethod
    def _snapshot(enterprise: Enterprise, tag_names: list[str]) -> dict[str, Any]:
        values = snapshot(enterprise, SCALAR_AUDITED)
        values["tags"] = sorted(tag_names)
        return values

    def _write(self) -> None:
        through = Enterprise.tags.through
        total = len(self.creates) + len(self.updates)
        done = 0
        for chunk in _batched(self.creates, WRITE_BATCH):
            enterprises = [enterprise for enterprise, _tags in chunk]
            Enterprise.objects.bulk_create(enterprises)
            through.objects.bulk_create(
                [through(enterprise_id=e.pk, tag_id=tag.pk) for e, tags in chunk for tag in tags]
            )
            changes = {}
            for enterprise, tags in chunk:
                after = self._snapshot(enterprise, [t.name for t in tags])
                changes[enterprise.pk] = {k: [None, v] for k, v in after.items() if v not in (None, "", [])}
            audit_record_many(
                actor=self.actor, action=IMPORT_ACTION, objs=enterprises, changes_for=lambda e, c=changes: c[e.pk]
            )
            done += len(chunk)
            self.progress("write", done, total)
        now = timezone.now()
        for chunk in _batched(self.updates, WRITE_BATCH):
            enterprises = [update.enterprise for update in chunk]
            for enterprise in enterprises:
                enterprise.updated_at = now
            names = {name for update in chunk for name in update.changes if name != "tags"}
            Enterprise.objects.bulk_update(enterprises, sorted(names | {"size_class", "updated_at"}))
            retagged = [update for update in chunk if "tags" in update.changes]
            if retagged:
                through.objects.filter(enterprise_id__in=[u.enterprise.pk for u in retagged]).delete()
                through.objects.bulk_create(
                    [through(enterprise_id=u.enterprise.pk, tag_id=tag.pk) for u in retagged for tag in u.tags]
                )
            changes = {update.enterprise.pk: update.changes for update in chunk}
            audit_record_many(
                actor=self.actor, action=IMPORT_ACTION, objs=enterprises, changes_for=lambda e, c=changes: c[e.pk]
            )
            done += len(chunk)
            self.progress("write", done, total)


@contextmanager
def _cyclic_gc_paused():
    """Pause Python's cyclic garbage collector while checking and writing.

    An import holds hundreds of thousands of long-lived objects (the sheet's cells, the staged
    firms); every full collection would rescan all of them, which costs about a third of the
    import's time. Plain reference counting still frees everything as usual; the few reference
    cycles made meanwhile are collected when the collector is switched back on.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check_permission(actor: User | None) -> None:
    if actor is not None and not can_import_registry(actor):
        raise PermissionDeniedError()


def _import_sheet(*, actor: User | None, sheet: Sheet, dry_run: bool, progress: Progress | None) -> ImportReport:
    """Check (and unless `dry_run`, write) a read sheet; the caller provides the transaction."""
    return _Importer(actor=actor, sheet=sheet, dry_run=dry_run, progress=progress).run()


def _conflict() -> ConflictError:
    return ConflictError(_("The registry changed while the file was being imported; nothing was written. Try again."))


def enterprise_import(*, actor: User | None, file, dry_run: bool, progress: Progress | None = None) -> ImportReport:
    """Import a registry spreadsheet (.xlsx): a new USCC registers a firm, a known one updates it.

    `actor` must be allowed to import (`can_import_registry`); None is the system (the command line).
    File-level problems — too large, not an .xlsx, wrong headers — raise ValidationFailed on "file".
    Row problems are returned in the report, every one of them, and then nothing is written.
    With `dry_run` nothing is ever written. `progress(stage, done, total)` is called while checking
    and writing. Reading happens before the transaction, so a long read does not hold the database.
    """
    _check_permission(actor)
    sheet = read_sheet(file)
    if dry_run:
        return _import_sheet(actor=actor, sheet=sheet, dry_run=True, progress=progress)
    try:
        with transaction.atomic():
            return _import_sheet(actor=actor, sheet=sheet, dry_run=False, progress=progress)
    except IntegrityError:
        raise _conflict() from None


# -- batches: the upload kept between the preview and the confirmation -----------------------------


def import_batch_create(*, actor: User, file) -> ImportBatch:
    """Keep an uploaded sheet for its preview and confirmation, after checking its size and format.

    The uploader's earlier unconfirmed uploads are discarded (one pending import per person).
    """
    _check_permission(actor)
    if actor is None:
        raise PermissionDeniedError()
    content = read_upload(file)
    check_workbook(content)
    with transaction.atomic():
        for old in ImportBatch.objects.select_for_update().filter(uploaded_by=actor, state=ImportBatch.State.PENDING):
            _discard(old)
        batch = ImportBatch(
            uploaded_by=actor, original_name=str(getattr(file, "name", "") or "upload.xlsx")[:255], size=len(content)
        )
        batch.file.save("upload.xlsx", ContentFile(content), save=False)
        batch.save()
    return batch


def import_batch_get_for(user: User, pk) -> ImportBatch:
    """An import batch of `user`'s own; NotFoundError for anyone else's, exactly as for a missing one."""
    try:
        return ImportBatch.objects.get(pk=pk, uploaded_by_id=getattr(user, "pk", None))
    except (ImportBatch.DoesNotExist, ValueError, TypeError):
        raise NotFoundError() from None


def _read_batch(batch: ImportBatch) -> Sheet:
    if batch.state != ImportBatch.State.PENDING:
        raise ConflictError(_("This upload has already been imported or discarded."))
    try:
        with batch.file.open("rb") as handle:
            return read_sheet(handle)
    except (FileNotFoundError, ValueError):
        raise _file_error(_("The uploaded file is no longer available. Upload it again.")) from None


def import_batch_preview(*, actor: User, batch: ImportBatch, progress: Progress | None = None) -> ImportReport:
    """The dry run of an uploaded batch: what confirming it would do, or every bad row."""
    _check_permission(actor)
    if actor is None or batch.uploaded_by_id != actor.pk:
        raise NotFoundError()
    return _import_sheet(actor=actor, sheet=_read_batch(batch), dry_run=True, progress=progress)


def import_batch_confirm(*, actor: User, batch: ImportBatch, progress: Progress | None = None) -> ImportReport:
    """Import an uploaded batch for real. The rows are checked again (the registry may have changed
    since the preview); when any row is bad nothing is written and the batch stays pending."""
    _check_permission(actor)
    if actor is None or batch.uploaded_by_id != actor.pk:
        raise NotFoundError()
    sheet = _read_batch(batch)
    try:
        with transaction.atomic():
            locked = (
                ImportBatch.objects.select_for_update()
                .filter(pk=batch.pk, uploaded_by=actor, state=ImportBatch.State.PENDING)
                .first()
            )
            if locked is None:
                raise ConflictError(_("This upload has already been imported or discarded."))
            report = _import_sheet(actor=actor, sheet=sheet, dry_run=False, progress=progress)
            if report.written:
                locked.state = ImportBatch.State.IMPORTED
                locked.finished_at = timezone.now()
                locked.total_rows, locked.created_count = report.total, report.new
                locked.updated_count, locked.unchanged_count = report.updated, report.unchanged
                locked.save()
                _delete_file_on_commit(locked)
    except IntegrityError:
        raise _conflict() from None
    batch.refresh_from_db()
    return report


def import_batch_discard(*, actor: User, batch: ImportBatch) -> None:
    """Drop a pending upload of one's own and delete its file."""
    if actor is None or batch.uploaded_by_id != actor.pk:
        raise NotFoundError()
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().filter(pk=batch.pk, state=ImportBatch.State.PENDING).first()
        if locked is not None:
            _discard(locked)


def _discard(batch: ImportBatch) -> None:
    batch.state = ImportBatch.State.DISCARDED
    batch.finished_at = timezone.now()
    batch.save(update_fields=["state", "finished_at"])
    _delete_file_on_commit(batch)


def _delete_file_on_commit(batch: ImportBatch) -> None:
    """The uploaded sheet holds personal data: delete it once the batch is done (after the commit)."""
    if not batch.file:
        return
    storage, name = batch.file.storage, batch.file.name
    transaction.on_commit(lambda: storage.delete(name))


def errors_workbook(report: ImportReport) -> bytes:
    """Every error of a report as an .xlsx sheet (row, column, reason), for fixing a large file."""
    dataset = tablib.Dataset(headers=[_("Row"), _("Column"), _("Reason")])
    for error in report.errors:
        dataset.append([error.row, error.column, error.message])
    return XLSX().export_data(dataset)
