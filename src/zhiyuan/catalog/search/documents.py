"""Products → index documents, in bulk: one query for the products with their firms, one for the
certifications, then the analysis of every text field (see catalog.analysis)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

from zhiyuan.catalog.analysis import analyze, load_user_words
from zhiyuan.catalog.models import Product, VocabularyTerm
from zhiyuan.catalog.search.base import Document
from zhiyuan.enterprises.models import Enterprise

BATCH = 2000


def refresh_user_dictionary() -> int:
    """Load the segmenter's user dictionary from the firms' names, the products' names and the
    managed vocabulary; returns its size."""
    words: set[str] = set(VocabularyTerm.objects.values_list("word", flat=True))
    for name, short in Enterprise.objects.values_list("name", "short_name").iterator(chunk_size=5000):
        words.add(name)
        if short:
            words.add(short)
    words.update(Product.objects.values_list("name", flat=True).distinct().iterator(chunk_size=5000))
    load_user_words(words)
    return len(words)


def _tokens(text: str, *, pinyin: bool = False) -> dict[str, list[str]]:
    analyzed = analyze(text, with_pinyin=pinyin)
    tokens = {"word": analyzed.word, "bigram": analyzed.bigram}
    if pinyin:
        tokens["pinyin"] = analyzed.pinyin
    return tokens


def document_of(product: Product, certifications: list[str]) -> Document:
    """The index document of one product (its enterprise, industry and zone loaded)."""
    firm = product.enterprise
    industry = firm.industry
    specs = " ".join(part for part in (product.specifications, product.materials, product.category) if part)
    description = " ".join(part for part in (product.description, product.keywords) if part)
    return Document(
        id=product.pk,
        enterprise_id=firm.pk,
        tokens={
            "name": _tokens(product.name, pinyin=True),
            "model": _tokens(product.model_numbers),
            "specs": _tokens(specs),
            "description": _tokens(description),
            "firm": _tokens(" ".join(part for part in (firm.name, firm.short_name) if part), pinyin=True),
        },
        facets={
            "chain": [firm.chain] if firm.chain else [],
            "division": [industry.division] if industry is not None and industry.division else [],
            "zone": [str(firm.zone_id)] if firm.zone_id else [],
            "certification": certifications,
            "size": [firm.size_class] if firm.size_class else [],
        },
    )


def _certifications(product_ids: list[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = defaultdict(list)
    through = Product.certifications.through.objects.filter(product_id__in=product_ids)
    for product_id, name in through.values_list("product_id", "certification__name"):
        names[product_id].append(name)
    return names


def documents_for(product_ids: Iterable[int]) -> list[Document]:
    """Documents of the listed (active) products among `product_ids`; the others are absent."""
    ids = list(product_ids)
    documents: list[Document] = []
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        products = Product.objects.filter(pk__in=chunk, is_active=True).select_related("enterprise__industry")
        certifications = _certifications(chunk)
        documents.extend(document_of(product, certifications.get(product.pk, [])) for product in products)
    return documents


def all_documents() -> Iterator[Document]:
    """Every listed product's document, in id order, in batches (for a full rebuild)."""
    last = 0
    while True:
        ids = list(
            Product.objects.filter(pk__gt=last, is_active=True).order_by("pk").values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            return
        yield from documents_for(ids)
        last = ids[-1]
