"""The Tantivy backend (tantivy-py): an embedded index directory beside the database, the default.

The index stores OUR tokens (`catalog.analysis`), never Tantivy's analysis: one text field per
(text field, kind of token) — `name_word`, `name_bigram`, `name_pinyin`, `model_word`, … — whose
value is the tokens joined by spaces, indexed with Tantivy's `whitespace` tokenizer (our tokens never
contain a space, and are already lower case), term frequencies only (no positions: nothing needs
phrases). `id` and `enterprise_id` are u64 fields (indexed, fast, stored); each facet is a multi-valued
`raw` text field that is also a fast field, so `searcher.aggregate` counts its values.

A query is a boolean Should over one term query per (field, kind, token), boosted by
`FIELD_BOOSTS[field] × BOOSTS[kind]` (a word match in the name outweighs a bigram match in the
description), AND the filters as Must clauses of constant score 0 (they narrow, never rank); no terms
means every document, narrowed by the filters. Nothing the user types reaches Tantivy's query parser.

On disk, `ZHIYUAN_SEARCH_INDEX_DIR` is a symbolic link to a generation directory beside it
(`.search-index.<stamp>`): `rebuild` writes a fresh generation and swaps the link in one rename, so
readers never see a half-built index; other processes notice the new link (and new commits, through
the `meta.json` signature) on their next search and reopen or reload.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

import tantivy
from django.conf import settings

from zhiyuan.catalog.analysis import BOOSTS, QueryTerms
from zhiyuan.catalog.search.base import (
    FACETS,
    FIELD_BOOSTS,
    TEXT_FIELDS,
    BackendResult,
    Document,
    IndexUnavailable,
    Progress,
    SearchBackend,
)

KINDS = ("word", "bigram", "pinyin")
# Bump when the schema changes: an index of another version is "unavailable" and gets rebuilt.
SCHEMA_VERSION = 1
MARKER = "zhiyuan-index.json"
# Writer memory: a full rebuild streams a million documents, an incremental apply a few hundred.
REBUILD_HEAP = 256_000_000
REBUILD_THREADS = 2
APPLY_HEAP = 32_000_000
# How long `apply` waits for another process's writer to finish before giving up.
WRITER_WAIT_SECONDS = 30.0
# Buckets per facet in the counts (more than there are zones, divisions or certifications).
FACET_BUCKETS = 1000
PROGRESS_EVERY = 1000
# The common-terms rule (see `text_query`): from this many documents on, a term in more than this
# share of them only scores.
COMMON_MIN_DOCUMENTS = 20_000
COMMON_SHARE = 0.2
# A generation directory left by a build that crashed is removed after this long.
STALE_BUILD_SECONDS = 24 * 3600


def field_name(field: str, kind: str) -> str:
    """The Tantivy field holding the `kind` tokens of a text field: field_name("name", "word") → "name_word"."""
    return f"{field}_{kind}"


def facet_field(facet: str) -> str:
    """The Tantivy field holding a facet's values: facet_field("zone") → "facet_zone"."""
    return f"facet_{facet}"


def build_schema() -> tantivy.Schema:
    """The index schema: id fields, one whitespace-tokenised field per (text field, kind), the facets."""
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("id", stored=True, indexed=True, fast=True)
    builder.add_unsigned_field("enterprise_id", stored=True, indexed=True, fast=True)
    for text_field in TEXT_FIELDS:
        for kind in KINDS:
            builder.add_text_field(field_name(text_field, kind), tokenizer_name="whitespace", index_option="freq")
    for facet in FACETS:
        builder.add_text_field(facet_field(facet), tokenizer_name="raw", fast=True)
    return builder.build()


class BusyError(RuntimeError):
    """Another process holds the index writer for longer than we wait."""


class TantivyBackend(SearchBackend):
    """Products in an embedded Tantivy index (see the module docstring for the layout)."""

    name = "tantivy"

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path if path is not None else settings.ZHIYUAN_SEARCH_INDEX_DIR)
        self.schema = build_schema()
        self._lock = threading.RLock()
        self._index: tantivy.Index | None = None
        self._real: str | None = None  # the generation directory the open index lives in
        self._meta: tuple[int, int, int] | None = None  # meta.json's (inode, mtime, size) when last loaded
        self._searcher: tantivy.Searcher | None = None

    # -- opening -------------------------------------------------------------------------------

    def _resolve(self) -> str:
        """The generation directory the index path points at; IndexUnavailable when there is none."""
        real = os.path.realpath(self.path)
        if not os.path.isdir(real) or not os.path.exists(os.path.join(real, "meta.json")):
            raise IndexUnavailable(f"no search index at {self.path}")
        return real

    @staticmethod
    def _meta_signature(real: str) -> tuple[int, int, int]:
        # Tantivy replaces meta.json by a rename on every commit: a new inode, time and often size.
        stat = os.stat(os.path.join(real, "meta.json"))
        return stat.st_ino, stat.st_mtime_ns, stat.st_size

    def _open(self, real: str) -> tantivy.Index:
        marker = _read_marker(real)
        if marker.get("schema") != SCHEMA_VERSION:
            raise IndexUnavailable(f"the search index at {self.path} has another schema version")
        try:
            index = tantivy.Index.open(real)
            index.config_reader("manual")
            index.reload()
            searcher = index.searcher()
            searcher.num_docs  # noqa: B018 — touches every segment reader
        except (ValueError, OSError) as error:
            raise IndexUnavailable(f"the search index at {self.path} is damaged: {error}") from error
        self._index, self._real, self._searcher = index, real, searcher
        self._meta = self._meta_signature(real)
        return index

    def _current(self) -> tuple[tantivy.Index, tantivy.Searcher]:
        """The open index and a searcher on its latest commit: reopened when the link points at another
        generation (a rebuild elsewhere), reloaded when meta.json changed (a commit elsewhere)."""
        with self._lock:
            real = self._resolve()
            if self._index is None or real != self._real:
                self._close()
                self._open(real)
            else:
                try:
                    signature = self._meta_signature(real)
                except OSError as error:
                    raise IndexUnavailable(f"the search index at {self.path} is damaged: {error}") from error
                if signature != self._meta:
                    try:
                        self._index.reload()
                    except ValueError as error:
                        self._close()
                        raise IndexUnavailable(f"the search index at {self.path} is damaged: {error}") from error
                    self._searcher = self._index.searcher()
                    self._meta = signature
            return self._index, self._searcher

    def _close(self) -> None:
        self._index = self._searcher = None
        self._real = self._meta = None

    @property
    def index(self) -> tantivy.Index:
        """The open Tantivy index (for benchmarks and diagnostics that query it directly)."""
        return self._current()[0]

    def searcher(self) -> tantivy.Searcher:
        """A searcher on the latest commit (reused across queries until the index changes)."""
        return self._current()[1]

    # -- writing -------------------------------------------------------------------------------

    def _document(self, document: Document) -> tantivy.Document:
        doc = tantivy.Document()
        doc.add_unsigned("id", document.id)
        doc.add_unsigned("enterprise_id", document.enterprise_id)
        for text_field, kinds in document.tokens.items():
            for kind, tokens in kinds.items():
                if tokens:
                    # A token never holds whitespace; if one did, split() keeps both sides consistent.
                    doc.add_text(field_name(text_field, kind), " ".join(" ".join(tokens).split()))
        for facet, values in document.facets.items():
            for value in values:
                if value:
                    doc.add_text(facet_field(facet), str(value))
        return doc

    def rebuild(self, documents: Iterable[Document], *, total: int, progress: Progress | None = None) -> int:
        parent = self.path.parent
        parent.mkdir(parents=True, exist_ok=True)
        generation = parent / f".{self.path.name}.{time.time_ns()}-{uuid.uuid4().hex[:8]}"
        generation.mkdir()
        count = 0
        try:
            index = tantivy.Index(self.schema, path=str(generation), reuse=False)
            writer = index.writer(REBUILD_HEAP, REBUILD_THREADS)
            for document in documents:
                writer.add_document(self._document(document))
                count += 1
                if progress is not None and count % PROGRESS_EVERY == 0:
                    progress(count, total)
            writer.commit()
            writer.wait_merging_threads()
            del writer, index
            _write_marker(str(generation), {"schema": SCHEMA_VERSION, "documents": count, "built_at": time.time()})
            self._swap(generation)
        except BaseException:
            shutil.rmtree(generation, ignore_errors=True)
            raise
        if progress is not None:
            progress(count, total)
        with self._lock:
            self._close()
        self._remove_old_generations(keep=generation)
        return count

    def _swap(self, generation: Path) -> None:
        """Point the index path at `generation` in one atomic rename of a symbolic link."""
        link = self.path.parent / f".{self.path.name}.link-{uuid.uuid4().hex[:8]}"
        os.symlink(generation.name, link)
        if self.path.is_dir() and not self.path.is_symlink():
            # An index directory from before generations (or made by hand): move it aside first.
            os.rename(self.path, self.path.parent / f".{self.path.name}.{time.time_ns()}-old")
        os.replace(link, self.path)

    def _remove_old_generations(self, *, keep: Path) -> None:
        prefix = f".{self.path.name}."
        now = time.time()
        for entry in self.path.parent.iterdir():
            if not entry.name.startswith(prefix) or entry == keep or entry.is_symlink():
                continue
            try:
                finished = (entry / MARKER).exists() or entry.name.endswith("-old")
                if finished or now - entry.stat().st_mtime > STALE_BUILD_SECONDS:
                    # Readers in other processes that still map its files keep them until they reopen.
                    shutil.rmtree(entry, ignore_errors=True)
            except OSError:
                continue

    def _writer(self) -> tuple[tantivy.Index, tantivy.IndexWriter]:
        index, _searcher = self._current()
        deadline = time.monotonic() + WRITER_WAIT_SECONDS
        while True:
            try:
                return index, index.writer(APPLY_HEAP, 1)
            except ValueError as error:
                if "LockBusy" not in str(error):
                    raise IndexUnavailable(f"the search index at {self.path} cannot be written: {error}") from error
                if time.monotonic() > deadline:
                    raise BusyError(f"the search index at {self.path} is locked by another writer") from error
                time.sleep(0.1)

    def apply(self, *, upserts: list[Document], deletes: list[int]) -> None:
        if not upserts and not deletes:
            return
        with self._lock:
            index, writer = self._writer()
            try:
                ids = list(dict.fromkeys([*deletes, *(document.id for document in upserts)]))
                # By query: the schema turns the ids into u64 terms (delete_documents_by_term would make
                # i64 terms, which match nothing in a u64 field).
                writer.delete_documents_by_query(tantivy.Query.term_set_query(self.schema, "id", ids))
                for document in upserts:
                    writer.add_document(self._document(document))
                writer.commit()
            except BaseException:
                with contextlib.suppress(ValueError):
                    writer.rollback()
                raise
            finally:
                # Let the merges this commit triggered finish (else small segments pile up); this also
                # drops the writer and its lock.
                with contextlib.suppress(ValueError):
                    writer.wait_merging_threads()
            index.reload()
            self._searcher = index.searcher()
            self._meta = self._meta_signature(self._real)

    # -- reading -------------------------------------------------------------------------------

    def text_query(self, terms: QueryTerms, searcher: tantivy.Searcher | None = None) -> tantivy.Query | None:
        """The ranked part of a query: Should over every (field, kind, token), boosted; None when there
        are no terms.

        Given a searcher on a large index, terms absent from a field are left out, and terms in more
        than COMMON_SHARE of the documents (公司, 株洲 in every firm's name) only score: the documents
        must match one of the rarer terms — the common-terms rule, so a query is not answered with
        the whole index. When every term is common, they all match as usual."""
        rare: list[tuple[tantivy.Occur, tantivy.Query]] = []
        common: list[tuple[tantivy.Occur, tantivy.Query]] = []
        documents = searcher.num_docs if searcher is not None else 0
        limit = documents * COMMON_SHARE if documents >= COMMON_MIN_DOCUMENTS else None
        for kind, tokens in (("word", terms.word), ("bigram", terms.bigram), ("pinyin", terms.pinyin)):
            for token in tokens:
                names = {text_field: field_name(text_field, kind) for text_field in TEXT_FIELDS}
                frequencies = (
                    {text_field: searcher.doc_freq(name, token) for text_field, name in names.items()}
                    if limit is not None
                    else {}
                )
                # A token is common when it is common in any field: then none of its clauses is required,
                # or a product matching it only in that field would be dropped.
                is_common = limit is not None and max(frequencies.values()) > limit
                for text_field, name in names.items():
                    if limit is not None and frequencies[text_field] == 0:
                        continue
                    boost = FIELD_BOOSTS[text_field] * BOOSTS[kind]
                    term = tantivy.Query.term_query(self.schema, name, token, index_option="freq")
                    clause = (tantivy.Occur.Should, tantivy.Query.boost_query(term, boost))
                    (common if is_common else rare).append(clause)
        if rare and common:
            return tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Must, tantivy.Query.boolean_query(rare)),
                    (tantivy.Occur.Should, tantivy.Query.boolean_query(common)),
                ]
            )
        if rare or common:
            return tantivy.Query.boolean_query(rare or common)
        if terms.empty:
            return None
        return tantivy.Query.empty_query()  # terms, none of them in the index

    def filter_clauses(self, filters: dict[str, list[str]]) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        """One Must clause per facet with values (its values OR'ed), scoring nothing."""
        clauses = []
        for facet in FACETS:
            values = [str(value) for value in dict.fromkeys(filters.get(facet) or []) if value]
            if not values:
                continue
            should = [
                (tantivy.Occur.Should, tantivy.Query.term_query(self.schema, facet_field(facet), value))
                for value in values
            ]
            narrowed = tantivy.Query.const_score_query(tantivy.Query.boolean_query(should), 0.0)
            clauses.append((tantivy.Occur.Must, narrowed))
        return clauses

    def query(
        self, terms: QueryTerms, filters: dict[str, list[str]], searcher: tantivy.Searcher | None = None
    ) -> tantivy.Query:
        """The whole query: the terms (every document when there are none) narrowed by the filters."""
        text = self.text_query(terms, searcher)
        narrow = self.filter_clauses(filters)
        base = text if text is not None else tantivy.Query.all_query()
        if not narrow:
            return base
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, base), *narrow])

    def search(
        self, terms: QueryTerms, *, filters: dict[str, list[str]], offset: int, limit: int, facets: bool = True
    ) -> BackendResult:
        try:
            return self._search(terms, filters, offset=offset, limit=limit, facets=facets)
        except ValueError:
            # The files changed under us (a rebuild swapped generations): reopen once and retry.
            with self._lock:
                self._close()
            try:
                return self._search(terms, filters, offset=offset, limit=limit, facets=facets)
            except ValueError as error:
                raise IndexUnavailable(f"the search index at {self.path} cannot be read: {error}") from error

    def _search(
        self, terms: QueryTerms, filters: dict[str, list[str]], *, offset: int, limit: int, facets: bool
    ) -> BackendResult:
        _index, searcher = self._current()
        query = self.query(terms, filters, searcher)
        counts: dict[str, list[tuple[str, int]]] = {}
        if facets:
            # One pass without scoring gives the total and every facet's counts; the ranked pass then
            # needs no count, so Tantivy can skip blocks that cannot reach the top `limit`.
            aggregations: dict = {
                facet: {"terms": {"field": facet_field(facet), "size": FACET_BUCKETS}} for facet in FACETS
            }
            aggregations["_total"] = {"value_count": {"field": "id"}}
            answer = searcher.aggregate(query, aggregations)
            total = int(answer["_total"]["value"] or 0)
            for facet in FACETS:
                buckets = answer.get(facet, {}).get("buckets", [])
                counts[facet] = [(str(bucket["key"]), int(bucket["doc_count"])) for bucket in buckets]
            found = (
                searcher.search(query, limit, count=False, offset=offset).hits if limit > 0 and total > offset else []
            )
        else:
            result = searcher.search(query, max(limit, 1), count=True, offset=offset)
            total = int(result.count or 0)
            found = result.hits if limit > 0 else []
        if not found:
            return BackendResult(total=total, hits=[], facets=counts)
        ids = searcher.fast_field_values("id", [address for _score, address in found])
        hits = [(int(product_id), float(score)) for (score, _address), product_id in zip(found, ids, strict=True)]
        return BackendResult(total=total, hits=hits, facets=counts)

    def count(self) -> int:
        return int(self.searcher().num_docs)

    def check(self) -> None:
        with self._lock:
            real = self._resolve()
            if real != self._real or self._index is None:
                self._close()
                self._open(real)
            else:
                self._current()

    def size_bytes(self) -> int:
        """Bytes on disk of the current generation (0 when there is none)."""
        try:
            real = self._resolve()
        except IndexUnavailable:
            return 0
        return sum(entry.stat().st_size for entry in Path(real).iterdir() if entry.is_file())


def _read_marker(real: str) -> dict:
    try:
        with open(os.path.join(real, MARKER), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_marker(real: str, data: dict) -> None:
    path = os.path.join(real, MARKER)
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(data, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(path + ".tmp", path)
