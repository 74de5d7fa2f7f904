"""The PostgreSQL full-text backend, for deployments that run several web nodes without a shared disk.

It keeps one row per listed product in `catalog_search_document` — a table this backend owns like
Tantivy owns its directory (created by `rebuild`, never by a migration; on SQLite the backend is
unavailable) — holding a `tsvector` made of the SAME tokens `catalog.analysis` produced, written as a
tsvector literal (quoted lexemes with positions and weights) so PostgreSQL's own parser never splits
or changes a token (`6205-2rs` stays one lexeme). Weights: A = a word of the name or model numbers,
B = a word elsewhere (specifications, description, firm), C = pinyin, D = a bigram; `ts_rank` weighs
them 1.0 / 0.5 / 0.3 / 0.15, the order Tantivy's boosts give. Facet values live in one `text[]`
(`"zone:3"`, `"certification:ISO 9001"` …); GIN indexes on both. A query is a tsquery literal OR'ing
the quoted tokens — nothing the user typed is tsquery syntax; no tokens means every row, narrowed by
the filters.

`rebuild` fills a fresh table, indexes it, and swaps it for the old one in the same transaction
(readers keep the old table until the commit); `apply` deletes and inserts in the caller's
transaction, so the index and `IndexState` move together.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils.translation import gettext as _

from zhiyuan.catalog.analysis import QueryTerms
from zhiyuan.catalog.search.base import (
    FACETS,
    BackendResult,
    Document,
    IndexUnavailable,
    Progress,
    SearchBackend,
)

TABLE = "catalog_search_document"
# ts_rank's weights, in PostgreSQL's order {D, C, B, A}.
RANK_WEIGHTS = [0.15, 0.3, 0.5, 1.0]
# ts_rank normalisation 1: divide by 1 + log(document length), as BM25 favours short documents.
RANK_NORMALIZATION = 1
MAX_POSITION = 16383  # PostgreSQL's largest tsvector position
MAX_POSITIONS_PER_LEXEME = 255
MAX_LEXEME_BYTES = 2046
PROGRESS_EVERY = 1000
COPY_BATCH = 2000
# Serialises rebuilds across web nodes (pg_advisory_xact_lock key).
REBUILD_LOCK_KEY = 7_331_001


def weight_label(text_field: str, kind: str) -> str:
    """The tsvector weight of a token: A word in name/model, B word elsewhere, C pinyin, D bigram."""
    if kind == "word":
        return "A" if text_field in ("name", "model") else "B"
    if kind == "pinyin":
        return "C"
    return "D"


def lexeme(token: str) -> str:
    """A token as a quoted tsvector/tsquery lexeme: ' doubled, backslash escaped."""
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def _usable(token: str) -> bool:
    return bool(token) and len(token.encode("utf-8")) <= MAX_LEXEME_BYTES


def tsvector_literal(document: Document) -> str:
    """The document's tokens as a tsvector literal: every lexeme with its positions and weights."""
    positions: dict[str, list[str]] = {}
    position = 0
    for text_field, kinds in document.tokens.items():
        for kind, tokens in kinds.items():
            label = weight_label(text_field, kind)
            for token in tokens:
                if not _usable(token):
                    continue
                position = min(position + 1, MAX_POSITION)
                entries = positions.setdefault(token, [])
                if len(entries) < MAX_POSITIONS_PER_LEXEME:
                    entries.append(f"{position}{label}")
    return " ".join(f"{lexeme(token)}:{','.join(entries)}" for token, entries in positions.items())


def tsquery_literal(terms: QueryTerms) -> str:
    """Every token of the query OR'ed, each a quoted lexeme ("" when there is none)."""
    tokens = dict.fromkeys(token for token in (*terms.word, *terms.bigram, *terms.pinyin) if _usable(token))
    return " | ".join(lexeme(token) for token in tokens)


def facet_values(document: Document) -> list[str]:
    """The document's facet values as "facet:value" strings."""
    return [f"{facet}:{value}" for facet in FACETS for value in document.facets.get(facet, []) if value]


class PostgresBackend(SearchBackend):
    """Products in a PostgreSQL table with a tsvector (see the module docstring)."""

    name = "postgres"

    def __init__(self) -> None:
        if connection.vendor != "postgresql":
            raise ImproperlyConfigured(
                _("The PostgreSQL search backend needs a PostgreSQL database (DATABASE_URL); this one is %(vendor)s.")
                % {"vendor": connection.vendor}
            )

    # -- writing -------------------------------------------------------------------------------

    @staticmethod
    def _create(cursor, table: str) -> None:
        cursor.execute(
            f"CREATE TABLE {table} (product_id bigint NOT NULL, enterprise_id bigint NOT NULL, "
            "document tsvector NOT NULL, facets text[] NOT NULL)"
        )

    @staticmethod
    def _row(document: Document) -> tuple[int, int, str, list[str]]:
        return document.id, document.enterprise_id, tsvector_literal(document), facet_values(document)

    def rebuild(self, documents: Iterable[Document], *, total: int, progress: Progress | None = None) -> int:
        build = f"{TABLE}_build_{uuid.uuid4().hex[:8]}"
        count = 0
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REBUILD_LOCK_KEY])
            self._create(cursor, build)
            raw = getattr(cursor, "cursor", cursor)
            batch: list[tuple[int, int, str, list[str]]] = []
            for document in documents:
                batch.append(self._row(document))
                count += 1
                if len(batch) >= COPY_BATCH:
                    self._copy(raw, build, batch)
                    batch = []
                if progress is not None and count % PROGRESS_EVERY == 0:
                    progress(count, total)
            self._copy(raw, build, batch)
            cursor.execute(f"ALTER TABLE {build} ADD CONSTRAINT {build}_pkey PRIMARY KEY (product_id)")
            cursor.execute(f"CREATE INDEX {build}_document ON {build} USING gin (document)")
            cursor.execute(f"CREATE INDEX {build}_facets ON {build} USING gin (facets)")
            cursor.execute(f"ANALYZE {build}")
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
            cursor.execute(f"ALTER TABLE {build} RENAME TO {TABLE}")
            for suffix in ("pkey", "document", "facets"):
                cursor.execute(f"ALTER INDEX {build}_{suffix} RENAME TO {TABLE}_{suffix}")
        if progress is not None:
            progress(count, total)
        return count

    @staticmethod
    def _copy(raw, table: str, rows: list[tuple[int, int, str, list[str]]]) -> None:
        if not rows:
            return
        if hasattr(raw, "copy"):  # psycopg 3
            with raw.copy(f"COPY {table} (product_id, enterprise_id, document, facets) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            raw.executemany(
                f"INSERT INTO {table} (product_id, enterprise_id, document, facets) "
                "VALUES (%s, %s, %s::tsvector, %s::text[])",
                rows,
            )

    def apply(self, *, upserts: list[Document], deletes: list[int]) -> None:
        if not upserts and not deletes:
            return
        self.check()
        ids = list(dict.fromkeys([*deletes, *(document.id for document in upserts)]))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE product_id = ANY(%s)", [ids])
            if upserts:
                cursor.executemany(
                    f"INSERT INTO {TABLE} (product_id, enterprise_id, document, facets) "
                    "VALUES (%s, %s, %s::tsvector, %s::text[])",
                    [self._row(document) for document in upserts],
                )

    # -- reading -------------------------------------------------------------------------------

    @staticmethod
    def _where(tsquery: str, filters: dict[str, list[str]]) -> tuple[list[str], list]:
        conditions: list[str] = []
        params: list = []
        if tsquery:
            conditions.append("document @@ %s::tsquery")
            params.append(tsquery)
        for facet in FACETS:
            values = [f"{facet}:{value}" for value in dict.fromkeys(filters.get(facet) or []) if value]
            if values:
                conditions.append("facets && %s::text[]")
                params.append(values)
        return conditions, params

    def search(
        self, terms: QueryTerms, *, filters: dict[str, list[str]], offset: int, limit: int, facets: bool = True
    ) -> BackendResult:
        tsquery = tsquery_literal(terms)
        conditions, params = self._where(tsquery, filters)
        self.check()
        where = " AND ".join(conditions) or "TRUE"
        rank = "ts_rank(%s::float4[], document, %s::tsquery, %s)" if tsquery else "1.0"
        rank_params = [RANK_WEIGHTS, tsquery, RANK_NORMALIZATION] if tsquery else []
        with connection.cursor() as cursor:
            hits: list[tuple[int, float]] = []
            if limit > 0:
                cursor.execute(
                    f"SELECT product_id, {rank} AS rank FROM {TABLE} WHERE {where} "
                    "ORDER BY rank DESC, product_id LIMIT %s OFFSET %s",
                    [*rank_params, *params, limit, offset],
                )
                hits = [(int(product_id), float(score)) for product_id, score in cursor.fetchall()]
            counts: dict[str, list[tuple[str, int]]] = {}
            if facets:
                cursor.execute(
                    f"WITH matches AS MATERIALIZED (SELECT facets FROM {TABLE} WHERE {where}) "
                    "SELECT NULL, count(*) FROM matches "
                    "UNION ALL SELECT value, count(*) FROM matches, unnest(matches.facets) AS value GROUP BY value",
                    params,
                )
                total = 0
                grouped: dict[str, list[tuple[str, int]]] = {facet: [] for facet in FACETS}
                for value, number in cursor.fetchall():
                    if value is None:
                        total = int(number)
                        continue
                    facet, _sep, facet_value = value.partition(":")
                    if facet in grouped:
                        grouped[facet].append((facet_value, int(number)))
                for facet, pairs in grouped.items():
                    counts[facet] = sorted(pairs, key=lambda pair: (-pair[1], pair[0]))
            else:
                cursor.execute(f"SELECT count(*) FROM {TABLE} WHERE {where}", params)
                total = int(cursor.fetchone()[0])
        return BackendResult(total=total, hits=hits, facets=counts)

    def count(self) -> int:
        self.check()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {TABLE}")
            return int(cursor.fetchone()[0])

    def check(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [TABLE])
            exists = cursor.fetchone()[0]
        if not exists:
            raise IndexUnavailable(f"the search table {TABLE} does not exist")
