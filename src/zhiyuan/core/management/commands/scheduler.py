"""`zhiyuan scheduler`: enqueue the daily background jobs (alerts, escalations) once a day."""

import time

from django.core.management.base import BaseCommand

from zhiyuan.core.scheduler import enqueue_due_jobs


class Command(BaseCommand):
    help = "Enqueue each daily job once a day (run one or more; they never double-enqueue)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Check once and exit.")
        parser.add_argument("--interval", type=int, default=60, help="Seconds between checks.")

    def handle(self, *args, once, interval, **options):
        while True:
            for name in enqueue_due_jobs():
                self.stdout.write(f"enqueued {name}")
            if once:
                return
            time.sleep(interval)
