"""The index follows the database through the change log: creates, updates, unlistings and deletes
are visible once the worker ran, a rolled-back write leaves no change and the index untouched, a
rebuild takes its position before reading so nothing is lost, gaps in the change ids are waited for
while a transaction could still fill them, and a missing or damaged index is rebuilt and said so."""

import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import translation

from zhiyuan.catalog import indexing
from zhiyuan.catalog.analysis import query_terms
from zhiyuan.catalog.models import IndexState, Product, ProductChange
from zhiyuan.catalog.search import get_backend, reset_backend
from zhiyuan.catalog.search.service import search_products
from zhiyuan.catalog.search.tantivy_backend import TantivyBackend
from zhiyuan.catalog.services import product_create, product_delete, product_update
from zhiyuan.catalog.tasks import apply_index_changes

ON_POSTGRES = connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def index_dir(settings, tmp_path):
    settings.ZHIYUAN_SEARCH_INDEX_DIR = tmp_path / "search-index"
    settings.ZHIYUAN_SEARCH_BACKEND = "tantivy"
    reset_backend()
    indexing.forget()
    yield settings.ZHIYUAN_SEARCH_INDEX_DIR
    reset_backend()
    indexing.forget()


@pytest.fixture
def indexed(db, firm_a):
    """Two products of firm_a, indexed by a rebuild."""
    made = [
        product_create(actor=None, enterprise=firm_a, data={"name": "硬质合金刀片", "model_numbers": "YG8"}),
        product_create(actor=None, enterprise=firm_a, data={"name": "数控刀具"}),
    ]
    assert indexing.rebuild() == 2
    return made


def found(query: str) -> list[int]:
    result = get_backend().search(query_terms(query), filters={}, offset=0, limit=50, facets=False)
    return [product_id for product_id, _score in result.hits]


def test_a_create_is_visible_once_the_changes_are_applied(indexed, firm_a):
    product = product_create(actor=None, enterprise=firm_a, data={"name": "碳纤维自行车架", "model_numbers": "T800"})
    assert found("T800") == []
    assert indexing.index_lag() == 1
    assert indexing.apply_changes() == 1
    assert found("T800") == [product.pk]
    assert indexing.index_lag() == 0
    assert indexing.apply_changes() == 0


def test_updates_unlistings_and_deletes_follow(indexed, firm_a):
    blade, tool = indexed
    product_update(actor=None, product=blade, data={"name": "陶瓷刀片", "model_numbers": "CT5"})
    indexing.apply_changes()
    assert found("YG8") == [] and found("CT5") == [blade.pk]
    product_update(actor=None, product=blade, data={"is_active": False})
    indexing.apply_changes()
    assert found("CT5") == []
    product_update(actor=None, product=blade, data={"is_active": True})
    indexing.apply_changes()
    assert found("CT5") == [blade.pk]
    product_delete(actor=None, product=tool)
    indexing.apply_changes()
    assert found("数控刀具") == [] and get_backend().count() == 1


def test_changes_to_one_product_collapse_to_the_last(indexed, firm_a):
    product = product_create(actor=None, enterprise=firm_a, data={"name": "齿轮"})
    product_update(actor=None, product=product, data={"name": "牵引齿轮"})
    product_delete(actor=None, product=product)
    assert indexing.apply_changes() == 3
    assert found("齿轮") == [] and get_backend().count() == 2


def test_batches_cover_every_change(indexed, firm_a):
    made = [
        product_create(actor=None, enterprise=firm_a, data={"name": f"型号{n}", "model_numbers": f"Q{n}"})
        for n in range(7)
    ]
    assert indexing.apply_changes(batch=3) == 7
    assert get_backend().count() == 9
    assert found("Q6") == [made[6].pk]
    state = IndexState.objects.get(backend="tantivy")
    assert state.applied_change_id == ProductChange.objects.latest("id").pk


def test_a_rolled_back_write_leaves_no_change_and_the_index_untouched(indexed, firm_a):
    changes = ProductChange.objects.count()
    index_dir = Path(os.path.realpath(get_backend().path))
    before = sorted(entry.name for entry in index_dir.iterdir())
    with pytest.raises(RuntimeError), transaction.atomic():
        product_create(actor=None, enterprise=firm_a, data={"name": "回滚的产品", "model_numbers": "RB1"})
        raise RuntimeError("rolled back")
    assert ProductChange.objects.count() == changes
    assert not Product.objects.filter(name="回滚的产品").exists()
    assert indexing.apply_changes() == 0
    assert found("RB1") == [] and get_backend().count() == 2
    assert sorted(entry.name for entry in index_dir.iterdir()) == before


def test_a_gap_in_the_change_ids_that_nothing_can_fill_is_passed(indexed, firm_a):
    first = product_create(actor=None, enterprise=firm_a, data={"name": "甲", "model_numbers": "G1"})
    middle = product_create(actor=None, enterprise=firm_a, data={"name": "乙", "model_numbers": "G2"})
    last = product_create(actor=None, enterprise=firm_a, data={"name": "丙", "model_numbers": "G3"})
    ProductChange.objects.filter(product_id=middle.pk).delete()  # a hole, as a rolled-back insert leaves
    assert indexing.apply_changes() == 2
    assert found("G1") == [first.pk] and found("G3") == [last.pk] and found("G2") == []
    assert indexing.index_lag() == 0


def test_a_rebuild_takes_its_position_before_reading(indexed, firm_a, monkeypatch):
    late: list[Product] = []
    original = indexing.all_documents

    def documents_with_a_change_during_the_rebuild():
        late.append(
            product_create(actor=None, enterprise=firm_a, data={"name": "晚到的产品", "model_numbers": "LATE1"})
        )
        yield from original()

    monkeypatch.setattr(indexing, "all_documents", documents_with_a_change_during_the_rebuild)
    boundary = ProductChange.objects.latest("id").pk
    indexing.rebuild()
    state = IndexState.objects.get(backend="tantivy")
    assert state.applied_change_id == boundary and state.documents == 3 and state.rebuilt_at
    assert indexing.index_lag() == 1  # the change made during the rebuild is applied again …
    assert indexing.apply_changes() == 1
    assert found("LATE1") == [late[0].pk] and get_backend().count() == 3  # … once, not twice


def test_a_rebuild_reports_progress_and_swaps_generations(indexed, firm_a):
    backend = get_backend()
    first = os.path.realpath(backend.path)
    calls = []
    assert indexing.rebuild(progress=lambda done, total: calls.append((done, total))) == 2
    assert calls[-1] == (2, 2)
    assert backend.path.is_symlink()
    second = os.path.realpath(backend.path)
    assert second != first and not os.path.exists(first)  # the old generation is gone
    assert [entry.name for entry in backend.path.parent.iterdir() if entry.name.startswith(".search-index.")] == [
        os.path.basename(second)
    ]


def test_another_process_sees_commits_and_rebuilds(indexed, firm_a):
    writer = get_backend()
    reader = TantivyBackend(writer.path)  # as in another process: its own Index object
    assert reader.count() == 2
    product_create(actor=None, enterprise=firm_a, data={"name": "新产品", "model_numbers": "NEW1"})
    indexing.apply_changes()
    assert reader.count() == 3
    assert [pid for pid, _s in reader.search(query_terms("NEW1"), filters={}, offset=0, limit=5).hits]
    Product.objects.filter(model_numbers="NEW1").update(is_active=False)  # no change row: only a rebuild sees it
    indexing.rebuild()
    assert reader.count() == 2


def test_ensure_index_leaves_a_good_index_alone(indexed):
    assert indexing.ensure_index() is None


def test_a_missing_index_is_rebuilt_and_said_so(indexed, settings):
    os.unlink(settings.ZHIYUAN_SEARCH_INDEX_DIR)
    with pytest.raises(Exception):  # noqa: B017 — the backend says so
        get_backend().check()
    message = indexing.ensure_index()
    assert message and "2" in message
    assert get_backend().count() == 2
    assert IndexState.objects.get(backend="tantivy").note.startswith("rebuilt automatically")


@pytest.mark.parametrize("damage", ["meta", "segment", "empty", "marker", "file"])
def test_a_damaged_index_is_rebuilt_and_said_so(indexed, settings, damage):
    real = Path(os.path.realpath(settings.ZHIYUAN_SEARCH_INDEX_DIR))
    reset_backend()  # a process that has not opened it yet
    if damage == "meta":
        (real / "meta.json").write_text("{garbage")
    elif damage == "segment":
        for entry in real.iterdir():
            if entry.suffix in (".term", ".idx"):
                entry.write_bytes(b"xx")
    elif damage == "empty":
        for entry in real.iterdir():
            entry.unlink()
    elif damage == "marker":
        (real / "zhiyuan-index.json").write_text('{"schema": 0}')
    else:
        os.unlink(settings.ZHIYUAN_SEARCH_INDEX_DIR)
        settings.ZHIYUAN_SEARCH_INDEX_DIR.write_text("not a directory")
    message = indexing.ensure_index()
    assert message is not None
    assert get_backend().count() == 2
    assert indexing.ensure_index() is None


def test_the_search_page_survives_a_missing_index(indexed, personas, settings):
    os.unlink(settings.ZHIYUAN_SEARCH_INDEX_DIR)
    page = search_products(user=personas["specialist"], query="硬质合金刀片")
    assert page.notice and [hit.product.name for hit in page.hits][0] == "硬质合金刀片"


def test_a_backend_opened_before_the_damage_recovers(indexed, personas, settings):
    backend = get_backend()
    assert backend.count() == 2
    os.unlink(settings.ZHIYUAN_SEARCH_INDEX_DIR)
    page = search_products(user=personas["specialist"], query="数控刀具")
    assert page.notice and page.hits[0].product.name == "数控刀具"


# -- commands and the task ---------------------------------------------------------------------


def test_reindex_shows_progress_on_stderr(indexed):
    out, err = io.StringIO(), io.StringIO()
    call_command("catalog", "reindex", stdout=out, stderr=err)
    assert "2/2 (100.0%)" in err.getvalue()
    assert "indexed 2 products" in out.getvalue()


def test_the_worker_applies_changes_once(indexed, firm_a):
    product = product_create(actor=None, enterprise=firm_a, data={"name": "预制构件", "model_numbers": "PC-1"})
    out = io.StringIO()
    call_command("catalog", "worker", "--once", stdout=out)
    assert "applied 1 change" in out.getvalue()
    assert found("PC-1") == [product.pk]


def test_the_worker_rebuilds_a_missing_index(indexed, firm_a, settings):
    os.unlink(settings.ZHIYUAN_SEARCH_INDEX_DIR)
    product_create(actor=None, enterprise=firm_a, data={"name": "预制构件", "model_numbers": "PC-2"})
    out = io.StringIO()
    with translation.override("en"):
        call_command("catalog", "worker", "--once", stdout=out)
    assert "rebuilt" in out.getvalue()
    assert len(found("PC-2")) == 1


def test_status_says_where_the_index_stands(indexed, firm_a):
    product_create(actor=None, enterprise=firm_a, data={"name": "车桥"})
    out = io.StringIO()
    call_command("catalog", "status", stdout=out)
    text = out.getvalue()
    assert "tantivy" in text and "documents:      2" in text and "lag:            1" in text


def test_the_task_applies_changes(indexed, firm_a):
    product_create(actor=None, enterprise=firm_a, data={"name": "车桥", "model_numbers": "AX-1"})
    assert apply_index_changes.call() == {"applied": 1, "lag": 0}
    assert len(found("AX-1")) == 1


# -- PostgreSQL: a change that commits late is not skipped ---------------------------------------


@pytest.mark.skipif(not ON_POSTGRES, reason="change ids commit out of order on PostgreSQL only")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_change_committed_after_a_higher_one_is_not_skipped(firm_a, settings, tmp_path):
    import psycopg

    blade = product_create(actor=None, enterprise=firm_a, data={"name": "硬质合金刀片", "model_numbers": "YG8"})
    indexing.rebuild()
    params = connection.get_connection_params()
    other = psycopg.connect(**{k: v for k, v in params.items() if k in ("dbname", "user", "password", "host", "port")})
    try:
        # Another transaction deletes the blade and logs it — and has not committed yet.
        other.execute("DELETE FROM catalog_product WHERE id = %s", [blade.pk])
        other.execute("INSERT INTO catalog_productchange (product_id, op, at) VALUES (%s, 'delete', now())", [blade.pk])
        later = product_create(actor=None, enterprise=firm_a, data={"name": "数控刀具", "model_numbers": "ZY-1"})
        assert indexing.apply_changes() == 1
        assert found("ZY-1") == [later.pk]  # applied at once …
        state = IndexState.objects.get(backend="tantivy")
        assert state.applied_change_id < ProductChange.objects.latest("id").pk  # … but not passed the gap
        other.commit()
        assert indexing.apply_changes() == 1  # the late delete
        assert found("YG8") == []
        assert indexing.index_lag() == 0
    finally:
        other.close()
