"""`zhiyuan catalog reindex | worker | status`: the product search index.

zhiyuan catalog reindex              rebuild the index from every listed product (progress on stderr)
zhiyuan catalog worker [--once] [--interval 1] [--batch 1000]
                                     apply the product change log to the index until stopped (SIGTERM)
zhiyuan catalog status               the backend, its documents, the last rebuild and the lag
"""

import logging
import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections, connection

from zhiyuan.catalog import indexing
from zhiyuan.catalog.models import Product
from zhiyuan.catalog.search import get_backend
from zhiyuan.catalog.search.base import IndexUnavailable
from zhiyuan.catalog.search.tantivy_backend import BusyError

logger = logging.getLogger(__name__)


class ProgressBar:
    """A one-line progress bar on a stream: a bar, counts and the percentage, at most every 0.2 s."""

    WIDTH = 30

    def __init__(self, stream) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.shown = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.shown < 0.2 and done < total:
            return
        self.shown = now
        share = done / total if total else 1.0
        filled = int(self.WIDTH * min(share, 1.0))
        elapsed = now - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] {done:,}/{total:,} ({share:.1%}) {rate:,.0f}/s",
            ending="",
        )
        self.stream.flush()

    def finish(self) -> None:
        self.stream.write("")


class Command(BaseCommand):
    help = "Product search index: rebuild it, run the change-log worker, show its status."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("reindex", help="Rebuild the search index from every listed product.")
        worker = sub.add_parser("worker", help="Apply the product change log to the index until stopped.")
        worker.add_argument("--once", action="store_true", help="Apply what is waiting, then exit.")
        worker.add_argument("--interval", type=float, default=1.0, help="Seconds between polls (default 1).")
        worker.add_argument("--batch", type=int, default=1000, help="Changes per index commit (default 1000).")
        sub.add_parser("status", help="Show the backend, its documents, the last rebuild and the lag.")

    def handle(self, *args, action, **options):
        getattr(self, "handle_" + action)(**options)

    def handle_reindex(self, **options):
        backend = get_backend()
        bar = ProgressBar(self.stderr)
        started = time.monotonic()
        count = indexing.rebuild(progress=bar)
        bar.finish()
        self.stdout.write(f"{backend.name}: indexed {count:,} products in {time.monotonic() - started:.1f} s")

    def handle_worker(self, *, once, interval, batch, **options):
        stopping: list[int] = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
        signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
        self.stdout.write(f"catalog worker: applying product changes to the {settings.ZHIYUAN_SEARCH_BACKEND} index")
        self.stdout.flush()
        while not stopping:
            if not connection.in_atomic_block:  # (never inside a caller's transaction, as in tests)
                close_old_connections()
            applied = 0
            try:
                applied = indexing.apply_changes(batch=batch)
            except IndexUnavailable as error:
                logger.warning("catalog worker: %s; rebuilding", error)
                message = indexing.ensure_index()
                if message:
                    self.stdout.write(message)
            except (DatabaseError, BusyError) as error:
                logger.warning("catalog worker: %s; retrying", error)
                if not connection.in_atomic_block:
                    close_old_connections()
            if applied:
                self.stdout.write(f"applied {applied} change(s)")
                self.stdout.flush()
            if once:
                return
            deadline = time.monotonic() + max(interval, 0.05)
            while not stopping and time.monotonic() < deadline:
                time.sleep(0.05)

    def handle_status(self, **options):
        backend = get_backend()
        status = indexing.index_status(backend=backend)
        try:
            backend.check()
            documents = f"{backend.count():,}"
        except IndexUnavailable as error:
            documents = f"unavailable ({error})"
        lines = [
            f"backend:        {backend.name}",
            f"index:          {settings.ZHIYUAN_SEARCH_INDEX_DIR}" if backend.name == "tantivy" else None,
            f"documents:      {documents}",
            f"listed products: {Product.objects.filter(is_active=True).count():,}",
            f"last change:    {status.applied_change_id}",
            f"lag:            {status.lag} change(s) not applied yet",
            f"rebuilt at:     {status.rebuilt_at or 'never'}" + (f" ({status.note})" if status.note else ""),
        ]
        for line in lines:
            if line is not None:
                self.stdout.write(line)
