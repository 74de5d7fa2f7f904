"""The common-terms rule of the Tantivy backend: a word common in any field is never required, so a
product matching it only in that field is still found (large indexes only; the threshold is lowered
here to exercise it on a few documents)."""

from zhiyuan.catalog.analysis import query_terms
from zhiyuan.catalog.search import tantivy_backend
from zhiyuan.catalog.search.base import TEXT_FIELDS, Document
from zhiyuan.catalog.search.tantivy_backend import TantivyBackend


def _document(pk: int, **texts: str) -> Document:
    tokens = {field: {"word": texts.get(field, "").split(), "bigram": [], "pinyin": []} for field in TEXT_FIELDS}
    facets = {"chain": [], "division": [], "zone": [], "certification": [], "size": []}
    return Document(id=pk, enterprise_id=pk, tokens=tokens, facets=facets)


def test_a_word_common_in_one_field_does_not_drop_products_matching_it_only_there(tmp_path, monkeypatch):
    monkeypatch.setattr(tantivy_backend, "COMMON_MIN_DOCUMENTS", 1)
    monkeypatch.setattr(tantivy_backend, "COMMON_SHARE", 0.5)
    documents = [_document(1, name="合金 刀片")]  # 合金 rare in names
    documents += [_document(pk, specs="合金 材料") for pk in range(2, 8)]  # and common in specs
    documents += [_document(pk, name="涂料") for pk in range(8, 11)]
    backend = TantivyBackend(tmp_path / "index")
    backend.rebuild(documents, total=len(documents))

    result = backend.search(query_terms("合金"), filters={}, offset=0, limit=20)

    assert {pk for pk, _score in result.hits} == set(range(1, 8))
    assert result.total == 7
