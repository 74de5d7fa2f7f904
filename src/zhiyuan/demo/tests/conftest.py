"""The demo loads products and rebuilds the product search index: every demo test gets its own index
directory, so no test writes into the data directory's index (nor into another test's)."""

import pytest

from zhiyuan.catalog import indexing
from zhiyuan.catalog.search import reset_backend


@pytest.fixture(autouse=True)
def search_index_dir(settings, tmp_path):
    settings.ZHIYUAN_SEARCH_INDEX_DIR = tmp_path / "search-index"
    reset_backend()
    indexing.forget()
    yield settings.ZHIYUAN_SEARCH_INDEX_DIR
    reset_backend()
    indexing.forget()
