"""`zhiyuan citysim`: run the reference city system (its own process and SQLite database).

It runs inside a Django management command only for Django's settings, translations and templates; its
data lives in its own SQLite file (zhiyuan.citysim.store), not in the platform's database.
"""

import argparse
import logging
import os
import random
import signal
import threading
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from zhiyuan.citysim.review import AutoReviewer
from zhiyuan.citysim.sender import CallbackSender
from zhiyuan.citysim.server import CityHTTPServer, CitySim, Knobs
from zhiyuan.citysim.store import Store
from zhiyuan.datalink import keys

logger = logging.getLogger("zhiyuan.citysim")


def probability(value: str) -> float:
    number = float(value)
    if not 0 <= number <= 1:
        raise argparse.ArgumentTypeError(f"{value} is not a probability between 0 and 1")
    return number


def non_negative(value: str) -> float:
    number = float(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return number


def window(value: str) -> tuple[float, float]:
    """A downtime window START+DURATION, in seconds since the server started (e.g. 30+10)."""
    try:
        start, duration = (float(part) for part in value.split("+"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not START+DURATION in seconds, e.g. 30+10") from None
    if start < 0 or duration <= 0:
        raise argparse.ArgumentTypeError(f"{value!r}: the start must be >= 0 and the duration > 0")
    return start, duration


class Command(BaseCommand):
    help = (
        "Run the reference city system: it receives the district's signed messages, reviews cases "
        "(automatically or on its web page) and sends signed status callbacks back."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8100, help="0 picks a free port (printed on stdout).")
        parser.add_argument("--db", type=Path, help="SQLite file (default: DATA_DIR/citysim.sqlite3).")
        parser.add_argument("--key-dir", type=Path, help="Key directory (default: ZHIYUAN_DATALINK_KEY_DIR).")
        parser.add_argument(
            "--district-url", default=os.environ.get("ZHIYUAN_CITYSIM_DISTRICT_URL", "http://127.0.0.1:8000"),
            help="Where status callbacks go (env ZHIYUAN_CITYSIM_DISTRICT_URL).",
        )
        parser.add_argument("--manual", action="store_true", help="No automatic review: only the web page moves cases.")
        parser.add_argument("--review-after", type=non_negative, default=5.0, help="Seconds until review starts.")
        parser.add_argument("--decide-after", type=non_negative, default=10.0, help="Seconds in review until decided.")
        parser.add_argument("--return-rate", type=probability, default=0.1, help="Share returned for more material.")
        parser.add_argument("--deny-rate", type=probability, default=0.05, help="Share denied.")
        parser.add_argument("--seed", type=int, help="Seed of the random decisions and faults.")
        parser.add_argument("--callback-max-attempts", type=int, default=50)
        parser.add_argument("--sender-threads", type=int, default=4, help="Callbacks sent in parallel.")
        parser.add_argument("--error-rate", type=probability, default=0.0, help="Share of messages answered 503.")
        parser.add_argument("--latency-ms", type=int, default=0, help="Delay before processing a message.")
        parser.add_argument(
            "--drop-replies", type=probability, default=0.0,
            help="Share of messages processed and committed but answered by closing the connection.",
        )
        parser.add_argument(
            "--downtime", type=window, action="append", default=[], metavar="START+DURATION",
            help="Close every connection in this window (seconds since start); repeatable.",
        )

    def handle(self, *args, **options):
        # The sender's every request would otherwise be an INFO line; citysim logs what matters itself.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        if options["key_dir"]:
            settings.ZHIYUAN_DATALINK_KEY_DIR = options["key_dir"]
            keys.clear_key_cache()
        try:
            private_key = keys.citysim_private_key()
            district_public_key = keys.citysim_district_public_key()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
        if options["callback_max_attempts"] < 1 or options["sender_threads"] < 1:
            raise CommandError("--callback-max-attempts and --sender-threads must be at least 1.")

        seed = options["seed"]
        store = Store(options["db"] or Path(settings.DATA_DIR) / "citysim.sqlite3")
        sender = CallbackSender(
            store, district_url=options["district_url"], private_key=private_key,
            district_public_key=district_public_key, max_attempts=options["callback_max_attempts"],
            workers=options["sender_threads"], rng=random.Random(None if seed is None else seed + 1),
        )
        sim = CitySim(
            store=store, private_key=private_key, district_public_key=district_public_key,
            max_skew_seconds=settings.ZHIYUAN_DATALINK_MAX_SKEW_SECONDS,
            knobs=Knobs(
                error_rate=options["error_rate"], latency_ms=options["latency_ms"],
                drop_replies=options["drop_replies"], downtime=options["downtime"],
            ),
            rng=random.Random(None if seed is None else seed + 2), manual=options["manual"], on_change=sender.wake,
        )
        try:
            server = CityHTTPServer((options["host"], options["port"]), sim)
        except OSError as error:
            store.close()
            raise CommandError(f"citysim cannot listen on {options['host']}:{options['port']}: {error}") from None
        workers = [sender]
        if not options["manual"]:
            workers.append(
                AutoReviewer(
                    store, review_after=options["review_after"], decide_after=options["decide_after"],
                    return_rate=options["return_rate"], deny_rate=options["deny_rate"],
                    rng=random.Random(seed), on_change=sender.wake,
                )
            )

        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
        serving.start()
        for worker in workers:
            worker.start()
        host, port = server.server_address[:2]
        self.stdout.write(f"citysim listening on http://{host}:{port}")
        self.stdout.flush()
        logger.info("citysim: database %s, callbacks to %s", store.path, options["district_url"])
        try:
            while not stop.wait(0.5):
                pass
        finally:
            server.shutdown()
            server.server_close()
            for worker in workers:
                worker.stop()
            for worker in workers:
                worker.join(timeout=15)
            store.close()
            self.stdout.write("citysim stopped")
