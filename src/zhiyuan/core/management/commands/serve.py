"""`zhiyuan serve`: the web server (gunicorn + whitenoise) and the background workers, together; with
`--citysim`, the reference city system beside them (the demo's whole approval flow on one machine)."""

import os
import signal
import subprocess
import sys
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from zhiyuan.config.env import env_bool
from zhiyuan.datalink import keys

CITYSIM_DEFAULT_PORT = 8100
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
ANY_ADDRESS = frozenset({"", "0.0.0.0", "::"})


def local_url(bind: str) -> str | None:
    """The URL this machine reaches a server bound to `bind` (HOST:PORT) at; None for a unix socket."""
    if bind.startswith(("unix:", "fd://")):
        return None
    host, _, port = bind.rpartition(":")
    host = host.strip("[]")
    if host in ANY_ADDRESS:
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}" if port else f"http://{host}"


def citysim_port() -> int:
    """citysim listens where the data link delivers: the port of ZHIYUAN_DATALINK_CITY_URL when that is
    this machine, else the default."""
    url = urlsplit(settings.ZHIYUAN_DATALINK_CITY_URL)
    if url.hostname in LOOPBACK_HOSTS and url.port:
        return url.port
    return CITYSIM_DEFAULT_PORT


class Command(BaseCommand):
    help = (
        "Start the web server (gunicorn), the background worker, the daily scheduler, the data-link worker and "
        "the product search index worker (and, with --citysim, the reference city system); Ctrl-C stops all."
    )

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("ZHIYUAN_BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("ZHIYUAN_WEB_WORKERS", "2")))
        parser.add_argument("--no-worker", action="store_true", help="Start the web server only.")
        parser.add_argument(
            "--no-datalink", action="store_true",
            help="Do not start the data-link worker: messages to the city wait in the outbox.",
        )
        parser.add_argument(
            "--no-catalog", action="store_true",
            help="Do not start the product search index worker: product changes wait in the change log.",
        )
        parser.add_argument(
            "--citysim", action="store_true", default=env_bool("ZHIYUAN_SERVE_CITYSIM", False),
            help="Also start the reference city system (zhiyuan citysim) for a demo (env ZHIYUAN_SERVE_CITYSIM=1).",
        )

    def handle(self, *args, bind, workers, no_worker, no_datalink, no_catalog, citysim, **options):
        env = {**os.environ}
        env.setdefault("DJANGO_SETTINGS_MODULE", "zhiyuan.config.settings")
        manage = [sys.executable, "-m", "zhiyuan.manage"]
        district_url = local_url(bind)
        datalink = not no_worker and not no_datalink
        catalog = not no_worker and not no_catalog
        self.check_keys(datalink=datalink, citysim=citysim)
        if citysim and district_url is None:
            raise CommandError("--citysim needs a HOST:PORT --bind: citysim calls the district back over HTTP.")

        commands = [
            [sys.executable, "-m", "gunicorn", "zhiyuan.config.wsgi:application", "--bind", bind,
             "--workers", str(workers), "--timeout", "300", "--access-logfile", "-"],
        ]
        port = citysim_port()
        if citysim:
            commands.append([*manage, "citysim", "--port", str(port), "--district-url", district_url])
        if not no_worker:
            commands.append([*manage, "db_worker", "--queue-name", "*", "--no-reload"])
            commands.append([*manage, "scheduler"])
        if datalink:
            commands.append([*manage, "datalink", "worker"])
        if catalog:
            commands.append([*manage, "catalog", "worker"])
        processes = [subprocess.Popen(command, env=env) for command in commands]

        self.stdout.write(f"Zhiyuan is serving on {district_url or bind}/ (Ctrl-C stops it)")
        if datalink:
            self.stdout.write(f"Data link: delivering messages to the city at {settings.ZHIYUAN_DATALINK_CITY_URL}")
        if citysim:
            self.stdout.write(f"citysim (the reference city system): reviewer page on http://127.0.0.1:{port}/")
        self.stdout.flush()
        self.supervise(processes)

    def check_keys(self, *, datalink: bool, citysim: bool) -> None:
        """Refuse to start a process whose keys are missing or broken, naming the variable (never the key)."""
        if datalink:
            try:
                keys.district_private_key()
                keys.city_public_key()
            except ImproperlyConfigured as error:
                raise CommandError(f"{error} Or start without the data link: --no-datalink.") from None
        if citysim:
            try:
                keys.citysim_private_key()
                keys.citysim_district_public_key()
            except ImproperlyConfigured as error:
                raise CommandError(f"citysim: {error}") from None

    def supervise(self, processes: list[subprocess.Popen]) -> None:
        """Wait until one process ends or a signal arrives, then stop them all."""

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
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        codes = [process.returncode for process in processes]
        if any(code not in (0, -signal.SIGTERM, -signal.SIGINT) for code in codes):
            raise SystemExit(1)
