"""Product search for pages and the API: input checked, the query analysed with the managed synonyms,
the backend asked, the page's products loaded in one query in rank order, matches highlighted, facet
values labelled; and "suppliers of X" — local firms whose products match an item, best first.

Everyone signed in may search (a directory of what the park's firms make: firms see other firms'
products, that is the point); unlisted products never appear. An empty query lists every product
(narrowed by the filters), so the facets can be used before typing; a query with nothing searchable
in it (only punctuation or emoji) finds nothing. Bad input is never an error: the
query is stripped and cut, unknown facets are ignored, unknown facet values match nothing, and
nothing the user types is query syntax.
"""

from __future__ import annotations

import math
import re
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from zhiyuan.accounts.models import User
from zhiyuan.accounts.permissions import is_authenticated, is_district_staff
from zhiyuan.catalog import indexing
from zhiyuan.catalog.analysis import MAX_QUERY_CHARS, QueryTerms, normalize, query_terms, word_tokens
from zhiyuan.catalog.models import Product, SupplyNeed, Synonym
from zhiyuan.catalog.search import get_backend
from zhiyuan.catalog.search.base import FACETS, BackendResult, IndexUnavailable
from zhiyuan.core.errors import NotFoundError, PermissionDeniedError
from zhiyuan.enterprises.models import Chain, Enterprise, Industry, ParkZone, SizeClass, Status

MAX_PER_PAGE = 100
# Deep pages cost the backend the whole prefix; nobody reads page 500 of a search.
MAX_PAGE = 500
MAX_FILTER_VALUES = 20
MAX_FILTER_CHARS = 100
# Tokens per kind sent to the backend: a 200-character query makes ~200 bigrams, each a posting list.
MAX_TERMS = {"word": 48, "bigram": 48, "pinyin": 16}
# Highlighting: how much of a description is looked at, and the snippet shown around the first match.
HIGHLIGHT_SCAN_CHARS = 2000
SNIPPET_CHARS = 160
SNIPPET_LEAD = 40
# Suppliers: how many ranked products are grouped into firms, and products shown per firm.
SUPPLIER_WINDOW = 300
PRODUCTS_PER_SUPPLIER = 3
_SYNONYM_SEPARATORS = re.compile(r"[,，、;；\n]+")


class SearchHit(NamedTuple):
    """One product of a result page, its score, and its highlighted texts (name, model, description —
    a snippet — and firm), each safe HTML with the matches in <mark>."""

    product: Product
    score: float
    highlights: dict[str, SafeString]


class FacetValue(NamedTuple):
    value: str
    label: str
    count: int
    selected: bool


class FirmGroup(NamedTuple):
    """A firm and its matching products, best first (unpacks as `enterprise, hits`)."""

    enterprise: Enterprise
    hits: list[SearchHit]

    @property
    def score(self) -> float:
        """The firm's best product's score."""
        return self.hits[0].score if self.hits else 0.0

    @property
    def products(self) -> list[Product]:
        return [hit.product for hit in self.hits]


class SupplierSuggestion(NamedTuple):
    need: SupplyNeed
    suppliers: list[FirmGroup]


@dataclass
class SearchPage:
    """One page of a product search."""

    query: str
    filters: dict[str, list[str]]
    total: int
    page: int
    pages: int
    per_page: int
    hits: list[SearchHit]
    facets: dict[str, list[FacetValue]]
    groups: list[FirmGroup] = field(default_factory=list)
    lag: int = 0
    took_ms: float = 0.0
    notice: str = ""  # e.g. the index was missing and has been rebuilt

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


# -- synonyms --------------------------------------------------------------------------------------


class _SynonymCache:
    """The active synonym groups, parsed once per process and again when the table changed (the rows
    are few: reading them is cheaper than normalising every term again)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: tuple = ()
        self.by_term: dict[str, list[str]] = {}
        # (term, its word tokens, whether it is Chinese, the other terms) for matching inside a query
        self.groups: list[tuple[str, tuple[str, ...], bool, list[str]]] = []

    def refresh(self) -> None:
        rows = tuple(Synonym.objects.filter(is_active=True).order_by("id").values_list("id", "terms"))
        if rows == self._rows:
            return
        by_term: dict[str, list[str]] = {}
        groups = []
        for _id, text in rows:
            terms = list(dict.fromkeys(t for t in (normalize(part) for part in _SYNONYM_SEPARATORS.split(text)) if t))
            for term in terms:
                others = [other for other in terms if other != term]
                if not others:
                    continue
                by_term.setdefault(term, [])
                by_term[term].extend(other for other in others if other not in by_term[term])
                groups.append((term, tuple(word_tokens(term)), bool(_HAN.search(term)), others))
        with self._lock:
            self._rows, self.by_term, self.groups = rows, by_term, groups


_synonyms = _SynonymCache()
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def clean_query(query: Any) -> str:
    """The query as searched: whitespace collapsed, at most MAX_QUERY_CHARS characters."""
    return " ".join(str(query or "").split())[:MAX_QUERY_CHARS]


def build_terms(text: str) -> QueryTerms:
    """The query's terms with the active synonyms: a word of the query finds its group; so does a
    term the segmenter cut differently or that is several words long, when it occurs in the query."""
    _synonyms.refresh()
    terms = query_terms(text, _synonyms.by_term)
    if _synonyms.groups and not terms.empty:
        normal = normalize(text)
        words = set(terms.word)
        extra: list[str] = []
        for term, tokens, chinese, others in _synonyms.groups:
            if term in words:
                continue
            if (term in normal) if chinese else (tokens and all(token in words for token in tokens)):
                for other in others:
                    extra.extend(word_tokens(other) or [other])
                    if " " not in other:
                        extra.append(other)
        if extra:
            terms = QueryTerms(
                text=terms.text,
                word=list(dict.fromkeys([*terms.word, *extra])),
                bigram=terms.bigram,
                pinyin=terms.pinyin,
            )
    return QueryTerms(
        text=terms.text,
        word=terms.word[: MAX_TERMS["word"]],
        bigram=terms.bigram[: MAX_TERMS["bigram"]],
        pinyin=terms.pinyin[: MAX_TERMS["pinyin"]],
    )


def clean_filters(filters: Any) -> dict[str, list[str]]:
    """Known facets only, each a list of distinct non-empty strings (unknown values are kept: they
    simply match nothing)."""
    cleaned: dict[str, list[str]] = {}
    if not isinstance(filters, dict):
        return cleaned
    for facet in FACETS:
        raw = filters.get(facet)
        if raw is None:
            continue
        values = [raw] if isinstance(raw, (str, int)) else list(raw) if isinstance(raw, (list, tuple, set)) else []
        kept = [str(value).strip()[:MAX_FILTER_CHARS] for value in values if str(value).strip()]
        kept = list(dict.fromkeys(kept))[:MAX_FILTER_VALUES]
        if kept:
            cleaned[facet] = kept
    return cleaned


# -- highlighting ----------------------------------------------------------------------------------


class _FoldTable(dict):
    """str.translate table folding one character to one character the way `normalize` does (NFKC,
    lower case, traditional → simplified, × → x), so a folded text is aligned with its original."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        folded = "x" if char == "×" else normalize(unicodedata.normalize("NFKC", char)) or char
        value = folded if len(folded) == 1 else char
        self[code] = value
        return value


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """`text` folded character by character (same length as `text`)."""
    return text.translate(_FOLD)


class Highlighter:
    """Wraps the query's words and bigrams (and synonyms) found in a text in <mark>, HTML-escaping the rest."""

    def __init__(self, terms: QueryTerms) -> None:
        needles = {token for token in (*terms.word, *terms.bigram) if token and (len(token) > 1 or _HAN.match(token))}
        ordered = sorted(needles, key=len, reverse=True)
        self.pattern = re.compile("|".join(re.escape(needle) for needle in ordered)) if ordered else None

    def spans(self, text: str) -> list[tuple[int, int]]:
        if self.pattern is None or not text:
            return []
        spans: list[tuple[int, int]] = []
        for match in self.pattern.finditer(fold(text)):
            start, end = match.span()
            if spans and start <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
            else:
                spans.append((start, end))
        return spans

    def mark(self, text: str) -> SafeString:
        """The whole text, escaped, matches marked."""
        return self._render(text, self.spans(text), 0, len(text))

    def snippet(self, text: str) -> SafeString:
        """A window of the text around the first match (or its beginning), escaped, matches marked."""
        text = text or ""
        spans = self.spans(text[:HIGHLIGHT_SCAN_CHARS])
        start = max(0, spans[0][0] - SNIPPET_LEAD) if spans else 0
        end = min(len(text), start + SNIPPET_CHARS)
        return self._render(text, [s for s in spans if s[0] >= start and s[1] <= end], start, end)

    @staticmethod
    def _render(text: str, spans: list[tuple[int, int]], start: int, end: int) -> SafeString:
        parts = ["…" if start > 0 else ""]
        position = start
        for span_start, span_end in spans:
            parts.append(escape(text[position:span_start]))
            parts.append(f"<mark>{escape(text[span_start:span_end])}</mark>")
            position = span_end
        parts.append(escape(text[position:end]))
        if end < len(text):
            parts.append("…")
        return mark_safe("".join(parts))  # noqa: S308 — every piece of the text is escaped above


def highlights_of(product: Product, highlighter: Highlighter) -> dict[str, SafeString]:
    firm = product.enterprise
    return {
        "name": highlighter.mark(product.name),
        "model": highlighter.mark(product.model_numbers),
        "description": highlighter.snippet(product.description),
        "firm": highlighter.mark(firm.name),
    }


# -- facet labels ----------------------------------------------------------------------------------


class _Labels:
    """Names of zones and industry divisions, per process, read again when a value is not known."""

    def __init__(self) -> None:
        self.zones: dict[str, str] = {}
        self.divisions: dict[str, str] = {}

    def zone(self, value: str) -> str:
        if value not in self.zones:
            self.zones = {str(pk): name for pk, name in ParkZone.objects.values_list("pk", "name")}
        return self.zones.get(value, value)

    def division(self, value: str) -> str:
        if value not in self.divisions:
            self.divisions = dict(Industry.objects.filter(level=2).values_list("code", "name"))
        return self.divisions.get(value, value)

    def label(self, facet: str, value: str) -> str:
        if facet == "chain":
            return str(dict(Chain.choices).get(value, value))
        if facet == "size":
            return str(dict(SizeClass.choices).get(value, value))
        if facet == "zone":
            return self.zone(value)
        if facet == "division":
            return self.division(value)
        return value


_labels = _Labels()


def _facets(result: BackendResult, filters: dict[str, list[str]]) -> dict[str, list[FacetValue]]:
    facets: dict[str, list[FacetValue]] = {}
    for facet in FACETS:
        selected = set(filters.get(facet, []))
        counts = dict(result.facets.get(facet, []))
        for value in selected:
            counts.setdefault(value, 0)
        values = [
            FacetValue(value, _labels.label(facet, value), count, value in selected) for value, count in counts.items()
        ]
        values.sort(key=lambda item: (-item.count, item.label))
        facets[facet] = values
    return facets


# -- searching -------------------------------------------------------------------------------------


def _require_user(user: User | None) -> None:
    if not is_authenticated(user):
        raise PermissionDeniedError(_("Sign in to search the product database."))


def _ask(terms: QueryTerms, filters: dict, *, offset: int, limit: int, facets: bool) -> tuple[BackendResult, str]:
    """The backend's answer; a missing or damaged index is rebuilt (once) and the caller told so."""
    backend = get_backend()
    try:
        return backend.search(terms, filters=filters, offset=offset, limit=limit, facets=facets), ""
    except IndexUnavailable:
        notice = indexing.ensure_index(backend=backend) or ""
        return backend.search(terms, filters=filters, offset=offset, limit=limit, facets=facets), notice


def _load(ids: list[int]) -> dict[int, Product]:
    products = (
        Product.objects.filter(pk__in=ids, is_active=True)
        .select_related("enterprise__zone", "enterprise__industry")
        .prefetch_related("certifications")
    )
    return {product.pk: product for product in products}


def _page_number(page: Any) -> int:
    try:
        return min(max(int(page), 1), MAX_PAGE)
    except (TypeError, ValueError):
        return 1


def search_products(
    *,
    user: User | None,
    query: str,
    filters: dict[str, list[str]] | None = None,
    page: int = 1,
    per_page: int = 20,
    group_by_firm: bool = False,
) -> SearchPage:
    """One page of products matching `query`, narrowed by `filters` (facet → values; values within a
    facet OR, facets AND), ranked, with facet counts over the matches; see the module docstring."""
    _require_user(user)
    started = time.perf_counter()
    text = clean_query(query)
    chosen = clean_filters(filters)
    page = _page_number(page)
    try:
        per_page = min(max(int(per_page), 1), MAX_PER_PAGE)
    except (TypeError, ValueError):
        per_page = 20
    status = indexing.index_status()
    indexing.ensure_dictionary(status.rebuilt_at)
    terms = build_terms(text)
    notice = ""
    if terms.empty and text and not chosen:
        # Typed, but nothing searchable (only punctuation or emoji): nothing matches. An empty query
        # (or one with filters only) lists the products, narrowed by the filters.
        result = BackendResult(total=0, hits=[], facets={})
    else:
        result, notice = _ask(terms, chosen, offset=(page - 1) * per_page, limit=per_page, facets=True)
        last = max(1, math.ceil(result.total / per_page))
        if page > last:  # past the end (results changed, or a hand-made URL): show the last page
            page = last
            again, _notice = _ask(terms, chosen, offset=(page - 1) * per_page, limit=per_page, facets=False)
            result = BackendResult(total=result.total, hits=again.hits, facets=result.facets)
    products = _load([product_id for product_id, _score in result.hits])
    highlighter = Highlighter(terms)
    hits = [
        SearchHit(products[product_id], score, highlights_of(products[product_id], highlighter))
        for product_id, score in result.hits
        if product_id in products
    ]
    groups: list[FirmGroup] = []
    if group_by_firm:
        by_firm: dict[int, list[SearchHit]] = {}
        for hit in hits:
            by_firm.setdefault(hit.product.enterprise_id, []).append(hit)
        groups = [FirmGroup(firm_hits[0].product.enterprise, firm_hits) for firm_hits in by_firm.values()]
    return SearchPage(
        query=text,
        filters=chosen,
        total=result.total,
        page=page,
        pages=max(1, math.ceil(result.total / per_page)),
        per_page=per_page,
        hits=hits,
        facets=_facets(result, chosen),
        groups=groups,
        lag=status.lag,
        took_ms=round((time.perf_counter() - started) * 1000, 1),
        notice=notice,
    )


def suppliers_for(
    *, user: User | None, item: str, exclude_enterprise: Enterprise | None = None, limit: int = 10
) -> list[FirmGroup]:
    """Local (operating) firms whose listed products match `item`, best first, each with its best
    few products; `exclude_enterprise` (the firm that needs the item) is left out."""
    _require_user(user)
    text = clean_query(item)
    terms = build_terms(text)
    if terms.empty or limit <= 0:
        return []
    result, _notice = _ask(terms, {}, offset=0, limit=SUPPLIER_WINDOW, facets=False)
    scores = dict(result.hits)
    rows = (
        Product.objects.filter(pk__in=list(scores), is_active=True, enterprise__status=Status.OPERATING)
        .exclude(enterprise_id=getattr(exclude_enterprise, "pk", None))
        .values_list("pk", "enterprise_id")
    )
    by_firm: dict[int, list[int]] = {}
    for product_id, enterprise_id in sorted(rows, key=lambda row: (-scores[row[0]], row[0])):
        by_firm.setdefault(enterprise_id, []).append(product_id)
    chosen = list(by_firm.items())[:limit]
    shown = [product_id for _firm, ids in chosen for product_id in ids[:PRODUCTS_PER_SUPPLIER]]
    products = _load(shown)
    highlighter = Highlighter(terms)
    groups = []
    for _firm, ids in chosen:
        hits = [
            SearchHit(products[pid], scores[pid], highlights_of(products[pid], highlighter))
            for pid in ids[:PRODUCTS_PER_SUPPLIER]
            if pid in products
        ]
        if hits:
            groups.append(FirmGroup(hits[0].product.enterprise, hits))
    return groups


def supplier_suggestions(*, user: User | None, enterprise: Enterprise, limit: int = 5) -> list[SupplierSuggestion]:
    """For each material or part the firm buys, the local firms that could supply it. A firm sees its
    own suggestions only; district staff any firm's."""
    _require_user(user)
    if user.enterprise_id is not None:
        if user.enterprise_id != enterprise.pk:
            raise NotFoundError()
    elif not is_district_staff(user):
        raise PermissionDeniedError(_("Only the firm itself and district staff see its supply needs."))
    return [
        SupplierSuggestion(need, suppliers_for(user=user, item=need.item, exclude_enterprise=enterprise, limit=limit))
        for need in SupplyNeed.objects.filter(enterprise=enterprise).order_by("item")
    ]
