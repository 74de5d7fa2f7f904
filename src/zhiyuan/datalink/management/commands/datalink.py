"""`zhiyuan datalink keygen | worker | verify-log`: keys, the delivery worker, and the log check."""

import logging
import signal
import time
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections

from zhiyuan.datalink import keys
from zhiyuan.datalink.log import log_verify
from zhiyuan.datalink.services import deliver_due

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Data link with the city: generate keys, run the delivery worker, verify the message log."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        keygen = sub.add_parser("keygen", help="Write Ed25519 key pairs (NAME.key, NAME.pub) into the key directory.")
        keygen.add_argument("--dir", default=None, help="Key directory (default ZHIYUAN_DATALINK_KEY_DIR).")
        keygen.add_argument(
            "--name", action="append", choices=["district", "city"],
            help="Which side's pair (repeatable; default both, for a single-machine demo with citysim).",
        )
        keygen.add_argument("--force", action="store_true", help="Replace existing keys.")
        worker = sub.add_parser("worker", help="Deliver queued messages to the city until stopped.")
        worker.add_argument("--once", action="store_true", help="One round, then exit.")
        # A small batch keeps the claim's lease short, so a crashed worker's messages go out again soon.
        worker.add_argument("--batch", type=int, default=16)
        worker.add_argument("--concurrency", type=int, default=8)
        worker.add_argument("--idle-sleep", type=float, default=0.2)
        sub.add_parser("verify-log", help="Check the hash chain of the message log; exit 1 naming each break.")

    def handle(self, *args, action, **options):
        getattr(self, "handle_" + action.replace("-", "_"))(**options)

    def handle_keygen(self, *, dir, name, force, **options):
        directory = keys.key_dir() if dir is None else Path(dir)
        for side in name or ["district", "city"]:
            written = keys.write_keypair(directory, side, force=force)
            if written is None:
                self.stdout.write(f"{side}: keys already exist in {directory} (use --force to replace)")
            else:
                self.stdout.write(f"{side}: wrote {written[0]} (private, mode 0600) and {written[1]} (public)")

    def handle_worker(self, *, once, batch, concurrency, idle_sleep, **options):
        try:  # fail at start, naming the missing variable, rather than on the first delivery
            keys.district_private_key()
            keys.city_public_key()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
        signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
        self.stdout.write(f"datalink worker delivering to {settings.ZHIYUAN_DATALINK_CITY_URL}")
        self.stdout.flush()
        while not stopping:
            try:
                result = deliver_due(limit=batch, concurrency=concurrency)
            except DatabaseError as error:
                # A deadlock victim or a restarting database: what was claimed is retried after its lease.
                logger.warning("datalink worker: database error, retrying: %s", error)
                close_old_connections()
                time.sleep(max(idle_sleep, 1.0))
                continue
            if result.claimed:
                self.stdout.write(
                    f"claimed {result.claimed}: delivered {result.delivered}, "
                    f"retry {result.retried}, dead {result.dead}"
                )
            if once:
                return
            if result.claimed < batch:
                time.sleep(idle_sleep)

    def handle_verify_log(self, **options):
        report = log_verify(progress=lambda n: self.stderr.write(f"checked {n} entries…"))
        if report.ok:
            self.stdout.write(f"message log OK: {report.entries} entries, chain intact")
            return
        for problem in report.problems:
            self.stdout.write(problem)
        raise CommandError(f"message log BROKEN: {len(report.problems)} problem(s) in {report.entries} entries")
