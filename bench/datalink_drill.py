"""Benchmark: the data link's fault drill — N accepted applications forwarded to a real citysim through faults.

    .venv/bin/python bench/datalink_drill.py                          # 10,000 applications, SQLite
    .venv/bin/python bench/datalink_drill.py --applications 500       # a quick run
    .venv/bin/python bench/datalink_drill.py --postgres               # on a throwaway PostgreSQL cluster
    .venv/bin/python bench/datalink_drill.py --with-callbacks         # citysim also decides and calls back

Everything is throwaway: a temporary ZHIYUAN_DATA_DIR with fresh keys (`zhiyuan datalink keygen`) and a
migrated database — an SQLite file there, or with --postgres a cluster started by tools/with_postgres.py
(the drill runs itself under it). Nothing is asserted in the test suite.

Setup (not timed): a drill-only approval item with no required materials ("drill", labelled as the
drill's), five firms (enterprise_create), one project with a code per application (bulk_create: projects
are only the applications' precondition), and N applications created and submitted through the services
(application_create, application_submit) by the window clerk on the firms' behalf.

Then a real citysim process starts (its own SQLite database; `--manual`, so cases only get created:
`--error-rate 0.2` answers one message in five 503, `--drop-replies 0.05` commits one in twenty and closes
the connection instead of answering), and two district workers (`python -m zhiyuan.manage datalink
worker`, same environment and database).

Timed phase: the bench accepts all N applications one after the other through services.application_accept
(each writes its outbox message in the same transaction) while the workers deliver. On the way: at 25 %
of the acceptances a worker is killed with SIGKILL and restarted; at 50 % citysim is killed with SIGKILL
and restarted on the same database and port 10 s later; at 75 % (and not before citysim is back) the other
worker is SIGKILLed and restarted. Then the drill waits until no message is pending.

The data-link settings are overridden for a drill (environment, for the bench and the workers):
ZHIYUAN_DATALINK_BACKOFF_BASE_MS=200, _BACKOFF_CAP_MS=5000, _TIMEOUT_SECONDS=5, _LEASE_SECONDS=20, and
_MAX_ATTEMPTS=200, far more than a 10 s downtime can use up (no message may be dead-lettered by it).
Workers run with --batch 16 --concurrency 8, so a killed worker's lease lapses after 20 s.

One line is printed: delivered (distinct applications the city has a case for) / lost (accepted
applications the city never got) / duplicate effects at the city (citysim's duplicate_effects: cases
created twice for one application) — 10000 / 0 / 0 is the pass — then the dead letters, messages per
second (N / time from the first acceptance to the last delivery), the p95 acceptance-to-city-ack latency
(outbox created_at → delivered_at), and the reference: a plain sequential loop of signed POSTs
(protocol.build_body + sign + httpx, fresh message ids, application.submit payloads) to the same citysim,
measured after the drill in the same run (every answer counts: 200, 503 or a dropped connection).

With --with-callbacks citysim is automatic (review after 1 s, decide 2 s later, no returns, 5 % denied)
and calls back the district's web server (`zhiyuan serve --no-worker`, started too); the drill then also
waits until every application is granted or denied at the district and prints how many are.
"""

import argparse
import contextlib
import datetime as dt
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
INNER = "ZHIYUAN_DRILL_INNER"  # set when the drill runs itself under tools/with_postgres.py
DRILL_SETTINGS = {
    "ZHIYUAN_DATALINK_BACKOFF_BASE_MS": "200",
    "ZHIYUAN_DATALINK_BACKOFF_CAP_MS": "5000",
    "ZHIYUAN_DATALINK_TIMEOUT_SECONDS": "5",
    "ZHIYUAN_DATALINK_LEASE_SECONDS": "20",
    "ZHIYUAN_DATALINK_MAX_ATTEMPTS": "200",
}
CITY_FAULTS = ("--error-rate", "0.2", "--drop-replies", "0.05")
WORKER_ARGS = ("--batch", "16", "--concurrency", "8")
FIRMS = [
    ("株洲硬质合金集团有限公司", "株硬集团", "3240"),
    ("株洲飞鹿高新材料技术股份有限公司", "飞鹿股份", "2641"),
    ("湖南荷塘智能装备有限公司", "荷塘智能", "3491"),
    ("株洲荷塘新材料科技有限公司", "荷塘新材", "3099"),
    ("株洲金山新能源电池有限公司", "金山新能源", "3841"),
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=10_000, help="applications (default 10000)")
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL instead of SQLite")
    parser.add_argument("--with-callbacks", action="store_true", help="citysim decides and calls the district back")
    parser.add_argument("--downtime", type=float, default=10.0, help="seconds citysim is down (default 10)")
    parser.add_argument("--reference-posts", type=int, default=2000, help="signed POSTs of the reference loop")
    parser.add_argument("--timeout", type=float, default=None, help="seconds to wait for delivery (default generous)")
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--keep", action="store_true", help="keep the data directory (printed) for a look")
    args = parser.parse_args()
    if args.applications < 1:
        parser.error("--applications must be at least 1")
    args.timeout = args.timeout or 600 + args.applications / 10
    return args


def run_under_postgres() -> int:
    """Run this script again inside tools/with_postgres.py (which sets DATABASE_URL to a throwaway cluster)."""
    command = [sys.executable, str(REPO / "tools" / "with_postgres.py"), "--", sys.executable, *sys.argv]
    return subprocess.run(command, env={**os.environ, INNER: "1"}).returncode


def setup_django(data_dir: Path, postgres: bool) -> None:
    """A throwaway data directory and database, migrated before anything imports the models; fresh keys."""
    os.environ.update(
        ZHIYUAN_DATA_DIR=str(data_dir),
        ZHIYUAN_ENV="development",
        ZHIYUAN_DEBUG="0",
        ZHIYUAN_LOG_LEVEL="ERROR",
        DJANGO_SETTINGS_MODULE="zhiyuan.config.settings",
        ZHIYUAN_DATALINK_KEY_DIR=str(data_dir / "keys"),
        **DRILL_SETTINGS,
    )
    if not postgres:
        os.environ.pop("DATABASE_URL", None)
    os.environ.pop("ZHIYUAN_SQLITE_PATH", None)
    for name in ("ZHIYUAN_DATALINK_PRIVATE_KEY", "ZHIYUAN_DATALINK_CITY_PUBLIC_KEY", "ZHIYUAN_CITYSIM_PRIVATE_KEY",
                 "ZHIYUAN_CITYSIM_DISTRICT_PUBLIC_KEY"):
        os.environ.pop(name, None)
        os.environ.pop(f"{name}_FILE", None)
    sys.path.insert(0, str(REPO / "src"))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("datalink", "keygen", "--dir", str(data_dir / "keys"))


def make_uscc(serial: int) -> str:
    from stdnum.cn import uscc

    body = f"91430202{serial:09d}"
    return body + uscc.calc_check_digit(body)


def populate(n: int):
    """The drill's item, firms, projects and N submitted applications; returns (clerk, application pks)."""
    from zhiyuan.accounts.personas import PERSONAS, ensure_persona
    from zhiyuan.approvals import services
    from zhiyuan.approvals.models import ApprovalItem
    from zhiyuan.enterprises.services import enterprise_create
    from zhiyuan.investments.models import Project, Stage

    clerk = ensure_persona(next(p for p in PERSONAS if p.key == "window_clerk"), password="bench-pass-123")
    item = ApprovalItem.objects.create(
        code="drill", name="故障演练专用事项（datalink drill）", department="株洲市数据资源局（演练）",
        time_limit_workdays=20, order=999,
        description="Created by bench/datalink_drill.py for the data-link fault drill; not a real approval item.",
    )
    firms = [
        enterprise_create(
            actor=None,
            data={"uscc": make_uscc(9000 + i), "name": name, "short_name": short, "industry": industry,
                  "staff": 300, "revenue": 20000, "contact_name": "张三", "contact_phone": "13812341234"},
        )
        for i, (name, short, industry) in enumerate(FIRMS)
    ]
    projects = Project.objects.bulk_create(
        [
            Project(
                name=f"{firms[i % len(firms)].short_name}演练项目{i + 1}号", code=f"2026-430202-34-03-{i + 1:06d}",
                stage=Stage.PREPARING, pool="reserve", enterprise=firms[i % len(firms)],
                contract_date=dt.date(2026, 1, 5), total_investment=10000,
            )
            for i in range(n)
        ],
        batch_size=1000,
    )
    pks = []
    started = time.monotonic()
    for i, project in enumerate(projects, 1):
        application = services.application_create(
            actor=clerk, item=item, project=project, contact_name="张三", contact_phone="13812341234"
        )
        pks.append(services.application_submit(actor=clerk, application=application).pk)
        if i % 2000 == 0:
            progress(f"setup: {i}/{n} applications submitted ({i / (time.monotonic() - started):.0f}/s)")
    return clerk, pks


def progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Managed:
    """A district process (worker or web server) that the drill starts, kills and restarts."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_dir: Path):
        self.name, self.command, self.env, self.log_dir = name, command, env, log_dir
        self.process: subprocess.Popen | None = None
        self.runs = 0
        self.crashes = 0  # exits the drill did not cause

    def start(self) -> None:
        log = open(self.log_dir / f"{self.name}-{self.runs}.log", "wb")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.runs += 1

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def revive_if_dead(self) -> None:
        """A process that died on its own is counted, and started again (the drill must finish)."""
        if self.process and self.process.poll() is not None:
            self.crashes += 1
            progress(f"{self.name} exited by itself (code {self.process.returncode}); restarting it")
            self.start()


class Chaos(threading.Thread):
    """The faults, in order, each once the acceptances have come far enough."""

    def __init__(self, n: int, city, workers: list[Managed], downtime: float):
        super().__init__(name="chaos", daemon=True)
        self.n, self.city, self.workers, self.downtime = n, city, workers, downtime
        self.accepted = 0
        self.log: list[str] = []

    def wait_for(self, share: float) -> None:
        while self.accepted < share * self.n:
            time.sleep(0.01)

    def note(self, text: str) -> None:
        self.log.append(text)
        progress(text)

    def run(self) -> None:
        self.wait_for(0.25)
        self.workers[0].kill()
        self.note(f"SIGKILL {self.workers[0].name} at {self.accepted} accepted; restarted")
        self.workers[0].start()
        self.wait_for(0.50)
        self.city.kill()
        self.note(f"SIGKILL citysim at {self.accepted} accepted; down for {self.downtime:g} s")
        time.sleep(self.downtime)
        self.city.start()
        self.note(f"citysim restarted on the same database and port at {self.accepted} accepted")
        self.wait_for(0.75)
        self.workers[1].kill()
        self.note(f"SIGKILL {self.workers[1].name} at {self.accepted} accepted; restarted")
        self.workers[1].start()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))] if ordered else float("nan")


def reference_posts(city_url: str, count: int) -> float:
    """Signed POSTs per second of a plain sequential loop to the same citysim (every answer counts)."""
    import httpx

    from zhiyuan.datalink import keys, protocol

    key = keys.district_private_key()
    url = city_url + protocol.INBOUND_PATH
    started = time.monotonic()
    with httpx.Client(timeout=10) as client:
        for i in range(count):
            payload = {
                "application_number": f"REF{i:07d}", "item_code": "drill", "item_name": "参照",
                "department": "参照", "project_code": f"2026-430202-34-03-{i:06d}", "project_name": "参照",
                "enterprise": {"uscc": make_uscc(1), "name": "参照"}, "applicant": {"name": "张三", "phone": "1"},
                "description": "", "accepted_at": dt.datetime.now(dt.UTC).isoformat(), "automatic": False,
                "materials": [],
            }
            body = protocol.build_body(
                message_id=protocol.new_message_id(), message_type="application.submit", sender="district",
                payload=payload,
            )
            headers = {"Content-Type": protocol.CONTENT_TYPE, protocol.SIGNATURE_HEADER: protocol.sign(body, key)}
            with contextlib.suppress(httpx.TransportError):  # a dropped reply is an answer too
                client.post(url, content=body, headers=headers)
    return count / (time.monotonic() - started)


def city_cases(db: Path) -> dict[str, list[str]]:
    """Application number → the case numbers citysim created for it (read from its own database)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        cases: dict[str, list[str]] = {}
        for number, case in conn.execute("SELECT application_number, case_number FROM cases"):
            cases.setdefault(number, []).append(case)
        return cases
    finally:
        conn.close()


def drill(args: argparse.Namespace, data_dir: Path, backend: str) -> int:
    from django.db.models import Count, Max

    from zhiyuan.approvals import services
    from zhiyuan.approvals.models import Application
    from zhiyuan.approvals.models import ApplicationStatus as S
    from zhiyuan.citysim.testing import CitySimProcess
    from zhiyuan.datalink.log import log_verify
    from zhiyuan.datalink.models import OutboxMessage, OutboxStatus

    n = args.applications
    progress(f"setup: {n} applications on {backend} in {data_dir}")
    started = time.monotonic()
    clerk, pks = populate(n)
    progress(f"setup: done in {time.monotonic() - started:.0f} s")

    env = {**os.environ}
    env.pop(INNER, None)
    web = None
    if args.with_callbacks:
        web_port = free_port()
        web = Managed("web", [sys.executable, "-m", "zhiyuan.manage", "serve", "--no-worker",
                              "--bind", f"127.0.0.1:{web_port}", "--workers", "2"], env, data_dir)
        city_args = ("--review-after", "1", "--decide-after", "2", "--return-rate", "0", "--deny-rate", "0.05",
                     "--district-url", f"http://127.0.0.1:{web_port}")
    else:
        city_args = ("--manual",)
    city = CitySimProcess(
        data_dir / "citysim", data_dir / "keys", data_dir / "citysim.sqlite3",
        (*city_args, *CITY_FAULTS, "--seed", str(args.seed)), env={"ZHIYUAN_ENV": "development"},
    ).start()
    env["ZHIYUAN_DATALINK_CITY_URL"] = city.url
    workers = [
        Managed(f"worker-{i + 1}", [sys.executable, "-m", "zhiyuan.manage", "datalink", "worker", *WORKER_ARGS],
                env, data_dir)
        for i in range(2)
    ]
    managed = [*workers, *([web] if web else [])]
    chaos = Chaos(n, city, workers, args.downtime)
    try:
        for process in managed:
            process.start()
        progress(f"citysim on {city.url}; 2 workers started; accepting {n} applications")

        # Timed phase ---------------------------------------------------------------------------------
        chaos.start()
        first_acceptance = dt.datetime.now(dt.UTC)
        for i, pk in enumerate(pks, 1):
            services.application_accept(actor=clerk, application=Application(pk=pk))
            chaos.accepted = i
            if i % 1000 == 0:
                progress(f"accepted {i}/{n}")
        accepted_in = (dt.datetime.now(dt.UTC) - first_acceptance).total_seconds()
        progress(f"all {n} accepted in {accepted_in:.1f} s; waiting for delivery")
        chaos.join()
        deadline = time.monotonic() + args.timeout
        last_report = 0.0
        while True:
            counts = dict(OutboxMessage.objects.order_by().values_list("status").annotate(n=Count("id")))
            pending = counts.get(OutboxStatus.PENDING, 0)
            if args.with_callbacks:
                pending += Application.objects.exclude(status__in=[S.GRANTED, S.DENIED]).count()
            if not pending:
                break
            if time.monotonic() > deadline:
                progress(f"TIMEOUT after {args.timeout:.0f} s: {counts}")
                break
            for process in managed:
                process.revive_if_dead()
            if time.monotonic() - last_report > 10:
                progress(f"outbox {counts}")
                last_report = time.monotonic()
            time.sleep(0.25)

        # Results -------------------------------------------------------------------------------------
        messages = OutboxMessage.objects.filter(message_type="application.submit")
        delivered = list(messages.filter(status=OutboxStatus.DELIVERED).values_list("created_at", "delivered_at"))
        dead = messages.filter(status=OutboxStatus.DEAD).count()
        last_delivery = messages.aggregate(last=Max("delivered_at"))["last"]
        elapsed = (last_delivery - first_acceptance).total_seconds() if last_delivery else float("nan")
        latencies = [(done - created).total_seconds() for created, done in delivered]
        p95 = percentile(latencies, 0.95)
        stats = city.stats()
        cases = city_cases(city.db)
        district = dict(Application.objects.filter(pk__in=pks).values_list("number", "city_case_number"))
        at_city = [number for number in district if number in cases]
        lost = len(district) - len(at_city)
        mismatched = sum(1 for number in at_city if district[number] not in cases[number])
        decided = Application.objects.filter(pk__in=pks, status__in=[S.GRANTED, S.DENIED]).count()
        reference = reference_posts(city.url, args.reference_posts)
        rate = n / elapsed
        for process in managed:  # nothing appends to the message log while it is verified
            process.stop()
        log = log_verify()
        for problem in log.problems[:5]:
            progress(f"message log: {problem}")
        tracebacks = 0
        for path in sorted(data_dir.glob("*.log")):
            text = path.read_text(errors="replace")
            tracebacks += text.count("Traceback")
            for line in text.splitlines():
                if line.startswith(("django.db.utils.", "psycopg.errors.", "sqlite3.", "DETAIL:", "CONTEXT:")):
                    progress(f"{path.name}: {line[:200]}")
        crashes = sum(process.crashes for process in managed)
        print(
            f"datalink drill ({backend}, {n} applications): delivered {len(at_city)} / lost {lost} / "
            f"duplicate effects {stats['duplicate_effects']}; dead-lettered {dead}; "
            f"{rate:.1f} msg/s ({n} in {elapsed:.1f} s from the first acceptance to the last delivery; "
            f"accepting took {accepted_in:.1f} s); p95 acceptance-to-city-ack {p95:.2f} s; "
            f"reference {reference:.1f} signed POSTs/s ({args.reference_posts} sequential to the same citysim) "
            f"→ drill at {rate / reference:.2f}× the reference; "
            f"district acks {sum(1 for case in district.values() if case)} (case number mismatches {mismatched}), "
            + (f"granted or denied {decided}, " if args.with_callbacks else "")
            + f"message log {'verifies' if log.ok else 'BROKEN'} ({log.entries} entries), "
            f"unplanned process exits {crashes}, tracebacks in district process logs {tracebacks}; "
            f"faults: citysim 503 20 % + dropped replies 5 %, down "
            f"{args.downtime:g} s (SIGKILL), 2 workers SIGKILLed once each; drill settings backoff 200 ms–5 s, "
            f"timeout 5 s, lease 20 s, max attempts 200",
            flush=True,
        )
        for line in chaos.log:
            progress(line)
        ok = len(at_city) == n and lost == 0 and stats["duplicate_effects"] == 0 and log.ok and not mismatched
        ok = ok and (decided == n or not args.with_callbacks)
        return 0 if ok else 1
    finally:
        for process in managed:
            process.stop()
        city.stop()
        # An SQLite file may still be open here; close the connections before the directory goes.
        from django.db import connections

        connections.close_all()


def main() -> int:
    args = parse_args()
    if args.postgres and not os.environ.get(INNER):
        return run_under_postgres()
    if args.postgres and not os.environ.get("DATABASE_URL"):
        print("datalink drill: --postgres needs tools/with_postgres.py (DATABASE_URL is not set)", file=sys.stderr)
        return 2
    data_dir = Path(tempfile.mkdtemp(prefix="zhiyuan-drill-"))
    try:
        setup_django(data_dir, postgres=args.postgres)
        return drill(args, data_dir, "PostgreSQL" if args.postgres else "SQLite")
    finally:
        if args.keep:
            progress(f"kept {data_dir}")
        else:
            import shutil

            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
