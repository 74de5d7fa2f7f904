"""The one interface every search backend implements, and the document and result shapes they share.

A backend stores, per product, the tokens `catalog.analysis` produced (never its own analysis), and
the facet values; it answers a `QueryTerms` with the matching product ids ranked by BM25 (word
matches weighted above bigram and pinyin matches: `analysis.BOOSTS`), the total, and facet counts.
Loading the products, highlighting and grouping by firm happen above it, in `catalog.search.service`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from zhiyuan.catalog.analysis import QueryTerms

# The facets, in the order pages show them. Each document carries a list of values per facet.
FACETS = ("chain", "division", "zone", "certification", "size")
# The text fields a document's tokens are stored under, per kind of token.
TEXT_FIELDS = ("name", "model", "specs", "description", "firm")
# How much a match in each field weighs (multiplied with the kind's boost).
FIELD_BOOSTS = {"name": 3.0, "model": 3.0, "firm": 2.0, "specs": 1.0, "description": 1.0}

Progress = Callable[[int, int], None]


@dataclass
class Document:
    """One product as the index sees it: id, firm id, tokens per field and kind, facet values."""

    id: int
    enterprise_id: int
    # field → kind ("word", "bigram", "pinyin") → tokens
    tokens: dict[str, dict[str, list[str]]]
    facets: dict[str, list[str]]


@dataclass
class BackendResult:
    """What a backend answers: the total number of matches, the ranked page of (product id, score),
    and per facet the (value, count) pairs over all matches."""

    total: int
    hits: list[tuple[int, float]]
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


class IndexUnavailable(Exception):
    """The index cannot be opened (missing or corrupt); the caller rebuilds it and says so."""


class SearchBackend(ABC):
    """A place the product tokens live and are searched."""

    name: str = ""

    @abstractmethod
    def rebuild(self, documents: Iterable[Document], *, total: int, progress: Progress | None = None) -> int:
        """Replace the whole index with `documents`; return how many were indexed."""

    @abstractmethod
    def apply(self, *, upserts: list[Document], deletes: list[int]) -> None:
        """Add or replace `upserts` and remove the products with ids in `deletes`, atomically."""

    @abstractmethod
    def search(
        self, terms: QueryTerms, *, filters: dict[str, list[str]], offset: int, limit: int, facets: bool = True
    ) -> BackendResult:
        """Products matching any of the terms (all products when `terms` is empty and filters are
        given), narrowed by `filters` (facet → accepted values; values within a facet OR, facets
        AND), ranked; facet counts over the narrowed matches."""

    @abstractmethod
    def count(self) -> int:
        """Documents in the index."""

    @abstractmethod
    def check(self) -> None:
        """Raise IndexUnavailable when the index cannot be used as it is."""
