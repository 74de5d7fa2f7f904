"""`zhiyuan serve`: the web server (gunicorn + whitenoise) and the background worker, together."""

import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Start the web server (gunicorn), the background worker and the daily scheduler; Ctrl-C stops all."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("ZHIYUAN_BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("ZHIYUAN_WEB_WORKERS", "2")))
        parser.add_argument("--no-worker", action="store_true", help="Start the web server only.")

    def handle(self, *args, bind, workers, no_worker, **options):
        env = {**os.environ}
        env.setdefault("DJANGO_SETTINGS_MODULE", "zhiyuan.config.settings")
        commands = [
            [sys.executable, "-m", "gunicorn", "zhiyuan.config.wsgi:application", "--bind", bind,
             "--workers", str(workers), "--timeout", "300", "--access-logfile", "-"],
        ]
        if not no_worker:
            commands.append([sys.executable, "-m", "zhiyuan.manage", "db_worker", "--queue-name", "*", "--no-reload"])
            commands.append([sys.executable, "-m", "zhiyuan.manage", "scheduler"])
        processes = [subprocess.Popen(command, env=env) for command in commands]
        self.stdout.write(f"Zhiyuan is serving on http://{bind}/ (Ctrl-C stops it)")

        def stop(*_):
            for process in processes:
                if process.poll() is None:
                    process.terminate()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while all(process.poll() is None for process in processes):
                time.sleep(0.5)
        finally:
            stop()
            for process in processes:
                process.wait(timeout=30)
        codes = [process.returncode for process in processes]
        if any(code not in (0, -signal.SIGTERM, -signal.SIGINT) for code in codes):
            raise SystemExit(1)
