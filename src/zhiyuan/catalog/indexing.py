"""Keeping the search index in step with the database, which is the source of truth.

Every product write appends a `ProductChange` in its own transaction; `apply_changes` (run by
`zhiyuan catalog worker`, started by `zhiyuan serve`, or the `apply_index_changes` task) reads the
changes after `IndexState.applied_change_id` in order, collapses them to the last operation per
product, upserts the documents of products that still exist and are listed, deletes the rest, and
then advances `applied_change_id` — in a database transaction that also holds the backend's write
(PostgreSQL) or follows its commit (Tantivy), so a crash re-applies rather than skips.

Change ids are allocated before their transactions commit, so on PostgreSQL a change may become
visible after a change with a higher id (a rolled-back transaction leaves a permanent hole). The
rows beyond such a gap are applied at once, but `applied_change_id` only moves past the gap once
every transaction that was running when it was seen has ended (or after `GAP_MAX_WAIT`): a late
commit is never skipped. SQLite serialises writers, so there a gap is always final.

`rebuild` (`zhiyuan catalog reindex`) replaces the whole index from the products; `ensure_index`
rebuilds a missing or damaged index and says so, so the search page never fails on it.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from zhiyuan.catalog.models import IndexState, Product, ProductChange
from zhiyuan.catalog.search import get_backend
from zhiyuan.catalog.search.base import IndexUnavailable, Progress, SearchBackend
from zhiyuan.catalog.search.documents import all_documents, documents_for, refresh_user_dictionary

logger = logging.getLogger(__name__)

# A gap in the change ids that no running transaction can fill any more is final after at most this.
GAP_MAX_WAIT = 3600.0
# How long a rebuild waits for the transactions running when it starts (PostgreSQL) before going on.
SETTLE_TIMEOUT = 60.0


@dataclass
class IndexStatus:
    """Where the configured backend stands."""

    backend: str
    applied_change_id: int
    lag: int
    documents: int
    rebuilt_at: datetime | None
    note: str


@dataclass
class _GapWatch:
    xid: int  # a transaction id newer than any transaction that could still fill the gap
    upto: int  # the gaps below this change id are covered
    since: float


@dataclass
class _Memo:
    """Per process and backend: the changes beyond a gap already applied, and the gap being watched."""

    base: int
    rebuilt_at: datetime | None
    seen: set[int] = field(default_factory=set)
    watch: _GapWatch | None = None


_memos: dict[str, _Memo] = {}
_apply_lock = threading.Lock()
_dictionary_lock = threading.Lock()
_UNLOADED = object()
_dictionary_stamp: object = _UNLOADED


# -- the segmenter's user dictionary ---------------------------------------------------------------


def ensure_dictionary(stamp: object = None) -> None:
    """Load the segmenter's user dictionary once per process, and again when `stamp` (the index's
    rebuilt_at) changes — a rebuild elsewhere may have been made with a newer vocabulary."""
    global _dictionary_stamp
    if _dictionary_stamp is not _UNLOADED and _dictionary_stamp == stamp:
        return
    with _dictionary_lock:
        if _dictionary_stamp is _UNLOADED or _dictionary_stamp != stamp:
            refresh_user_dictionary()
            _dictionary_stamp = stamp


def _dictionary_loaded(stamp: object) -> None:
    global _dictionary_stamp
    _dictionary_stamp = stamp


def forget() -> None:
    """Drop this process's memory of gaps and of the loaded dictionary (tests with a fresh database)."""
    global _dictionary_stamp
    _memos.clear()
    _dictionary_stamp = _UNLOADED


# -- state -----------------------------------------------------------------------------------------


def _state(name: str) -> IndexState:
    state, _created = IndexState.objects.get_or_create(backend=name)
    return state


def index_status(*, backend: SearchBackend | None = None) -> IndexStatus:
    """The configured backend's state and how many changes it has not applied yet."""
    name = (backend or get_backend()).name
    state = IndexState.objects.filter(backend=name).first()
    applied = state.applied_change_id if state else 0
    return IndexStatus(
        backend=name,
        applied_change_id=applied,
        lag=ProductChange.objects.filter(id__gt=applied).count(),
        documents=state.documents if state else 0,
        rebuilt_at=state.rebuilt_at if state else None,
        note=state.note if state else "",
    )


def index_lag(*, backend: SearchBackend | None = None) -> int:
    """Changes the index has not applied yet (0 when it is up to date)."""
    return index_status(backend=backend).lag


# -- PostgreSQL transaction horizon ----------------------------------------------------------------


def _watching_transactions() -> bool:
    """Whether gaps may still be filled by running transactions we can wait for: PostgreSQL, and not
    inside a transaction of our own (which could not see them end)."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def _new_xid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text::bigint")
        return int(cursor.fetchone()[0])


def _oldest_running_xid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        return int(cursor.fetchone()[0])


def _gap_is_final(memo: _Memo, gap_end: int, largest_seen: int) -> bool:
    """Whether the change ids missing just below `gap_end` will never appear."""
    if not _watching_transactions():
        return True
    watch = memo.watch
    if watch is not None and gap_end <= watch.upto:
        if _oldest_running_xid() > watch.xid:
            return True
        if time.monotonic() - watch.since > GAP_MAX_WAIT:
            logger.warning(
                "catalog index: change ids below %s still missing after %ss; skipping", gap_end, GAP_MAX_WAIT
            )
            return True
        return False
    # Every transaction that could hold a missing id below `largest_seen` started before this new one.
    memo.watch = _GapWatch(xid=_new_xid(), upto=largest_seen, since=time.monotonic())
    return False


def _advance(base: int, ids: list[int], memo: _Memo) -> int:
    """The highest change id up to which every change is applied or will never exist."""
    position = base
    largest = ids[-1] if ids else base
    for change_id in ids:
        if change_id == position + 1 or _gap_is_final(memo, change_id, largest):
            position = change_id
        else:
            break
    return position


def _settled_boundary() -> int:
    """The largest change id, once no transaction that could still commit a smaller one is running
    (PostgreSQL), so documents read afterwards include every change up to it."""
    boundary = ProductChange.objects.aggregate(top=Max("id"))["top"] or 0
    if not _watching_transactions():
        return boundary
    xid = _new_xid()
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while _oldest_running_xid() <= xid:
        if time.monotonic() > deadline:
            logger.warning("catalog rebuild: transactions still running after %ss; going on", SETTLE_TIMEOUT)
            break
        time.sleep(0.05)
    return boundary


# -- applying the change log -----------------------------------------------------------------------


def _memo_for(name: str, state: IndexState) -> _Memo:
    memo = _memos.get(name)
    if memo is None or memo.base != state.applied_change_id or memo.rebuilt_at != state.rebuilt_at:
        memo = _Memo(base=state.applied_change_id, rebuilt_at=state.rebuilt_at)
        _memos[name] = memo
    return memo


def _apply_batch(backend: SearchBackend, batch: int) -> tuple[int, bool]:
    """Apply up to `batch` changes not applied yet; returns (changes applied, whether more may wait)."""
    state = _state(backend.name)
    memo = _memo_for(backend.name, state)
    base = state.applied_change_id
    rows = list(
        ProductChange.objects.filter(id__gt=base)
        .order_by("id")
        .values_list("id", "product_id", "op")[: batch + len(memo.seen)]
    )
    fresh = [row for row in rows if row[0] not in memo.seen]
    last_op: dict[int, str] = {}
    for _change_id, product_id, op in fresh:
        last_op[product_id] = op
    wanted = [product_id for product_id, op in last_op.items() if op == ProductChange.Op.UPSERT]
    upserts = documents_for(wanted) if wanted else []
    kept = {document.id for document in upserts}
    deletes = [product_id for product_id in last_op if product_id not in kept]
    position = _advance(base, [row[0] for row in rows], memo)
    with transaction.atomic():
        backend.apply(upserts=upserts, deletes=deletes)
        moved = True
        if position != base:
            # Only from where we started and only on the index we read: a rebuild meanwhile
            # (another rebuilt_at) has set its own position, which this must not overwrite.
            moved = bool(
                IndexState.objects.filter(pk=state.pk, applied_change_id=base, rebuilt_at=state.rebuilt_at).update(
                    applied_change_id=position
                )
            )
    if not moved:
        _memos.pop(backend.name, None)
        return len(fresh), False
    memo.base = position
    memo.seen = {row[0] for row in fresh if row[0] > position} | {seen for seen in memo.seen if seen > position}
    return len(fresh), len(fresh) >= batch


def apply_changes(*, backend: SearchBackend | None = None, batch: int = 1000) -> int:
    """Apply the change log to the index (see the module docstring); returns how many changes were applied."""
    backend = backend or get_backend()
    batch = max(1, batch)
    applied = 0
    with _apply_lock:
        state = _state(backend.name)
        ensure_dictionary(state.rebuilt_at)
        while True:
            count, more = _apply_batch(backend, batch)
            applied += count
            if not more:
                return applied


# -- rebuilding ------------------------------------------------------------------------------------


@contextlib.contextmanager
def _rebuild_lock(backend: SearchBackend) -> Iterator[None]:
    """One rebuild at a time on this machine (two web workers may find a missing index together)."""
    directory = Path(settings.ZHIYUAN_SEARCH_INDEX_DIR).parent
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / f".catalog-{backend.name}-rebuild.lock", "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _rebuild(backend: SearchBackend, *, progress: Progress | None, note: str) -> int:
    refresh_user_dictionary()
    boundary = _settled_boundary()
    total = Product.objects.filter(is_active=True).count()
    count = backend.rebuild(all_documents(), total=total, progress=progress)
    now = timezone.now()
    IndexState.objects.update_or_create(
        backend=backend.name,
        defaults={"applied_change_id": boundary, "documents": count, "rebuilt_at": now, "note": note[:300]},
    )
    _memos.pop(backend.name, None)
    _dictionary_loaded(now)
    return count


def rebuild(*, progress: Progress | None = None, backend: SearchBackend | None = None) -> int:
    """Rebuild the index from every listed product (user dictionary refreshed first); the change log
    position is the last change id read BEFORE the products, so a change made during the rebuild is
    applied afterwards, never lost. Returns how many products were indexed."""
    backend = backend or get_backend()
    with _rebuild_lock(backend):
        return _rebuild(backend, progress=progress, note="rebuilt")


def ensure_index(*, backend: SearchBackend | None = None) -> str | None:
    """None when the index is usable; otherwise rebuild it and return a message saying so."""
    backend = backend or get_backend()
    try:
        backend.check()
        return None
    except IndexUnavailable as error:
        problem = str(error)
    with _rebuild_lock(backend):
        try:
            backend.check()  # another process may have rebuilt it while we waited for the lock
            count = backend.count()
        except IndexUnavailable:
            logger.warning("catalog search index unavailable (%s); rebuilding", problem)
            count = _rebuild(backend, progress=None, note=f"rebuilt automatically: {problem}")
    return _("The search index was missing or damaged and has been rebuilt (%(count)s products).") % {"count": count}
