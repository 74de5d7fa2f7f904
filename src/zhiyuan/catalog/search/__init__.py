"""Product search: the backend chosen by settings (`ZHIYUAN_SEARCH_BACKEND`: "tantivy", the default,
or "postgres"), one per process and reused across queries (a Tantivy searcher is kept open)."""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from zhiyuan.catalog.search.base import SearchBackend

BACKENDS = ("tantivy", "postgres")

_lock = threading.Lock()
_cached: tuple[tuple[str, str], SearchBackend] | None = None


def _key() -> tuple[str, str]:
    return str(settings.ZHIYUAN_SEARCH_BACKEND), str(settings.ZHIYUAN_SEARCH_INDEX_DIR)


def create_backend(name: str | None = None) -> SearchBackend:
    """A new backend of the given name (default: the configured one)."""
    name = name or settings.ZHIYUAN_SEARCH_BACKEND
    if name == "tantivy":
        from zhiyuan.catalog.search.tantivy_backend import TantivyBackend

        return TantivyBackend()
    if name == "postgres":
        from zhiyuan.catalog.search.postgres_backend import PostgresBackend

        return PostgresBackend()
    raise ImproperlyConfigured(
        f"ZHIYUAN_SEARCH_BACKEND={name!r} is not a search backend; use one of {', '.join(BACKENDS)}."
    )


def get_backend() -> SearchBackend:
    """The configured backend, cached per process (a new one when the settings change, as in tests)."""
    global _cached
    key = _key()
    with _lock:
        if _cached is None or _cached[0] != key:
            _cached = (key, create_backend(key[0]))
        return _cached[1]


def reset_backend() -> None:
    """Forget the cached backend (tests that swap index directories)."""
    global _cached
    with _lock:
        _cached = None
