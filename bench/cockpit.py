"""Benchmark: the leader cockpit and the monthly report over the benchmark-sized data of the other apps.

    .venv/bin/python bench/cockpit.py            # 10,000 projects, 200,000 requests, 100,000 scored firms
    .venv/bin/python bench/cockpit.py --quick    # 1,000 projects, 20,000 requests, 5,000 firms

Builds a throwaway SQLite database (ZHIYUAN_DATA_DIR is a temporary directory, migrated before
anything imports the models) and fills it with the other benches' generators, imported from them:
- bench/projects.py's `populate`: --projects projects with 60 monthly investment entries and 20
  milestones each, stage changes, key-project listings, problems, decisions, land figures;
- bench/servicedesk.py's `populate`: --requests service requests over requests / 40 firms;
- bench/credit.py's `make_firms`: --firms firms, then one finished scoring run with its grade counts
  and one CreditScore row per firm (bulk-created from a plausible score distribution: the cockpit
  reads the run, not the scorecard, so no feeds are generated and no model is trained);
- --applications approval applications in every state of the window and the city (bulk-created,
  deadlines in working days as the services set them), and bank offers on a fifth of the financing
  requests, most of them granted;
- the demo indicators (zhiyuan.demo.indicators, through the services as `zhiyuan demo` loads them).
The firms of each generator are renumbered after it runs, since they all count their USCCs from 1.

Then, signed in as the district leader, through the Django test client, for the cockpit page
`/cockpit/`, its API `/api/cockpit/` and a bare "hello" view served through the same middleware,
session and login (the reference):
- cold: the first request of a fresh process (a new Python process per sample, set up as a web
  worker is: Django set up, nothing requested yet; the request pays for importing the views,
  compiling the templates and a cold database connection). --cold samples per page; median, p95 and
  the SQL queries of that first request;
- warm: --rounds requests in a row after a short warm-up in this process; median, p95 and the SQL
  queries of one request.
The cockpit has no cache: every request reads the live figures, so warm is warm only in the sense of
loaded code, compiled templates and SQLite's page cache.
Then the monthly report for the last month that has ended (zhiyuan.indicators.report), each step of
`report_files` timed on its own: monthly_figures (the figures and the matplotlib charts), render_docx
and render_xlsx, --report-rounds times, median seconds. One line per measurement. Nothing here is
asserted in the test suite.
"""

import argparse
import datetime as dt
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO / "src"))

import credit as credit_bench  # noqa: E402  (bench/credit.py)
import projects as projects_bench  # noqa: E402  (bench/projects.py)
import servicedesk as servicedesk_bench  # noqa: E402  (bench/servicedesk.py)

# Where each generator's firms are moved to in the USCC serial space (credit's firms keep 1..n).
PROJECT_FIRMS_FROM = 900_000_000
REQUEST_FIRMS_FROM = 800_000_000
GRADE_POINTS = [("AAA", 760), ("AA", 720), ("A", 680), ("BBB", 640), ("BB", 600), ("B", 560), ("CCC", 520),
                ("CC", 480), ("C", 0)]
PAGES = [("hello", "/bench-hello/"), ("cockpit", "/cockpit/"), ("api", "/api/cockpit/")]

urlpatterns: list = []


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=None, help="projects (default 10000; --quick 1000)")
    parser.add_argument("--requests", type=int, default=None, help="service requests (default 200000; --quick 20000)")
    parser.add_argument("--firms", type=int, default=None, help="scored firms (default 100000; --quick 5000)")
    parser.add_argument("--applications", type=int, default=None, help="approval applications (default 3000)")
    parser.add_argument("--rounds", type=int, default=None, help="warm requests per page (default 30; --quick 10)")
    parser.add_argument("--cold", type=int, default=None, help="cold samples per page (default 5; --quick 2)")
    parser.add_argument("--report-rounds", type=int, default=None, help="monthly reports made (default 3)")
    parser.add_argument("--quick", action="store_true", help="a small data set and fewer rounds")
    parser.add_argument("--seed", type=int, default=20190601)
    parser.add_argument("--child", nargs=3, metavar=("DATA_DIR", "USER_ID", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    defaults = {
        "projects": (10_000, 1_000),
        "requests": (200_000, 20_000),
        "firms": (100_000, 5_000),
        "applications": (3_000, 500),
        "rounds": (30, 10),
        "cold": (5, 2),
        "report_rounds": (3, 1),
    }
    for name, (full, quick) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    if min(args.projects, args.requests, args.firms, args.applications) < 100 or args.rounds < 1 or args.cold < 1:
        parser.error("sizes must be at least 100, --rounds and --cold at least 1")
    return args


def progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def setup_django(data_dir: str, *, migrate: bool) -> None:
    """Django on the SQLite database in `data_dir` (migrated first when asked), serving the real
    URLconf plus the reference view."""
    os.environ.update(
        ZHIYUAN_DATA_DIR=data_dir,
        ZHIYUAN_ENV="development",
        ZHIYUAN_DEBUG="0",
        ZHIYUAN_LOG_LEVEL="ERROR",
        DJANGO_SETTINGS_MODULE="zhiyuan.config.settings",
    )
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("ZHIYUAN_SQLITE_PATH", None)
    Path(data_dir, "static").mkdir(exist_ok=True)
    import django
    from django.conf import settings
    from django.http import HttpResponse
    from django.urls import clear_url_caches, include, path

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)

    def hello(request):
        return HttpResponse("hello")

    urlpatterns[:] = [path("bench-hello/", hello), path("", include("zhiyuan.config.urls"))]
    settings.ROOT_URLCONF = __name__
    clear_url_caches()


# -- the data ------------------------------------------------------------------------------------


def renumber_firms(pks: list[int], start: int) -> None:
    """Give firms USCCs from serial `start` on, so the next generator can count from 1 again."""
    from zhiyuan.enterprises.models import Enterprise

    firms = list(Enterprise.objects.filter(pk__in=pks).order_by("pk"))
    for offset, firm in enumerate(firms):
        firm.uscc = credit_bench.make_uscc(start + offset)
    Enterprise.objects.bulk_update(firms, ["uscc"], batch_size=2000)


def firm_ids() -> list[int]:
    from zhiyuan.enterprises.models import Enterprise

    return list(Enterprise.objects.values_list("pk", flat=True))


def score_firms(ids: list[int], as_of: dt.date, seed: int) -> dict[str, int]:
    """One finished scoring run of a model over the firms, with a CreditScore row each; the grade counts."""
    from django.utils import timezone

    from zhiyuan.credit.models import CreditScore, ScoreModel, ScoringRun

    rng = random.Random(seed)
    model = ScoreModel.objects.create(
        version=1,
        spec={"variables": [], "note": "bench/cockpit.py: scores drawn, not computed"},
        sample_size=len(ids),
        bad_count=len(ids) // 20,
        auc=0.8,
        ks=0.45,
        is_active=True,
        is_synthetic=True,
        note="bench/cockpit.py",
    )
    run = ScoringRun.objects.create(model=model, as_of=as_of, firms=len(ids), psi_score=0.03)
    counts = {grade: 0 for grade, _floor in GRADE_POINTS}
    batch = []
    for index, pk in enumerate(ids):
        points = rng.gauss(640, 60)
        grade = next(grade for grade, floor in GRADE_POINTS if points >= floor)
        counts[grade] += 1
        pd = 1 / (1 + math.exp((points - 500) / 28.85))
        batch.append(
            CreditScore(
                enterprise_id=pk, run=run, as_of=as_of, points=round(points, 1), pd=round(pd, 6), grade=grade,
                reasons=[{"code": "tax_grade", "params": {}}], features={"staff": rng.randrange(2, 900)},
            )
        )
        if len(batch) == 5000 or index == len(ids) - 1:
            CreditScore.objects.bulk_create(batch, batch_size=1000)
            batch = []
    run.grade_counts = counts
    run.finished_at = timezone.now()
    run.save(update_fields=["grade_counts", "finished_at"])
    return counts


def make_applications(count: int, seed: int, today: dt.date) -> dict[str, int]:
    """`count` applications spread over last year and this one, in every state, shaped as the window's
    and the city's services leave them (deadlines in working days from receipt and from the city's receipt)."""
    from zhiyuan.accounts.models import Role, User
    from zhiyuan.approvals.models import Application, ApplicationStatus, ApprovalItem, Decision
    from zhiyuan.core.workdays import CalendarNotCovered, WorkCalendar
    from zhiyuan.investments.models import Project

    s = ApplicationStatus
    rng = random.Random(seed)
    items = list(ApprovalItem.objects.filter(is_active=True))
    projects = list(Project.objects.exclude(enterprise=None).values_list("pk", "enterprise_id", "code")[:5000])
    clerk = User.objects.filter(role=Role.WINDOW_CLERK).first()
    calendar, memo = WorkCalendar(), {}

    def add(day: dt.date, n: int) -> dt.date | None:
        """`n` working days after `day`; None past the calendar's years, as the services leave a deadline."""
        if (day, n) not in memo:
            try:
                memo[(day, n)] = calendar.add(day, n)
            except CalendarNotCovered:
                memo[(day, n)] = None
        return memo[(day, n)]

    states = [s.SUBMITTED, s.CORRECTION, s.REJECTED, s.WITHDRAWN, s.ACCEPTED, s.CITY_RECEIVED, s.IN_REVIEW,
              s.RETURNED, s.GRANTED, s.DENIED, s.COLLECTED]
    weights = [4, 3, 3, 1, 2, 5, 8, 2, 8, 2, 62]
    span = (today - dt.date(today.year - 1, 1, 1)).days
    # How many days ago an application in each state was received (open ones are recent).
    ages = {s.SUBMITTED: (0, 4), s.CORRECTION: (0, 20), s.ACCEPTED: (0, 6), s.CITY_RECEIVED: (2, 25),
            s.IN_REVIEW: (5, 60), s.RETURNED: (10, 60)}
    rows, by_state = [], {}
    for serial in range(1, count + 1):
        state = rng.choices(states, weights)[0]
        item = rng.choice(items)
        project, enterprise, code = rng.choice(projects)
        received = today - dt.timedelta(days=rng.randint(*ages.get(state, (20, span))))
        row = Application(
            number=f"HT{received:%Y}{serial:07d}", item=item, project_id=project, enterprise_id=enterprise,
            project_code=code or "", status=state, contact_name="张经理", contact_phone="13807330000",
            description="新建厂房", created_by=clerk, received_on=received,
            accept_due=add(received, 5),
        )
        if state == s.CORRECTION:
            row.corrections_requested = True
            row.correction_items = ["营业执照副本"]
        elif state == s.REJECTED:
            row.rejection_reason = "不属于本窗口受理范围"
        elif state not in (s.SUBMITTED, s.WITHDRAWN):
            row.accepted_on = min(add(received, rng.randrange(0, 5)) or today, today)
            row.accepted_by = clerk
            if state != s.ACCEPTED:
                row.city_received_on = min(add(row.accepted_on, 1) or today, today)
                row.city_case_number = f"ZZ{serial:08d}"
                limit = item.time_limit_workdays or 20
                row.city_due = add(row.city_received_on, limit)
                if state == s.RETURNED:
                    row.returned_on = min(add(row.city_received_on, rng.randrange(1, limit)) or today, today)
                if state in (s.GRANTED, s.DENIED, s.COLLECTED):
                    late = rng.random() < 0.06
                    days = limit + rng.randrange(1, 6) if late else rng.randrange(1, limit)
                    decided = add(row.city_received_on, days)
                    row.decided_on = min(decided or today, today)
                    row.decision = Decision.DENIED if state == s.DENIED else Decision.GRANTED
                    if row.decision == Decision.GRANTED:
                        row.certificate_number = f"株住建施字{serial:06d}"
                        row.certificate_date = row.decided_on
                    if state == s.COLLECTED:
                        row.collected_on = min(add(row.decided_on, rng.randrange(0, 4)) or today, today)
                        row.collected_by = "张经理"
        rows.append(row)
        by_state[state] = by_state.get(state, 0) + 1
    Application.objects.bulk_create(rows, batch_size=2000)
    return by_state


def make_offers(seed: int) -> int:
    """Bank offers on a fifth of the financing requests, most granted (the cockpit's financing figures)."""
    from django.utils import timezone

    from zhiyuan.accounts.models import Role, User
    from zhiyuan.credit.models import FinancingOffer, OfferStatus
    from zhiyuan.servicedesk.models import Category, ServiceRequest

    rng = random.Random(seed)
    banker = User.objects.filter(role=Role.BANK).select_related("organisation").first()
    needs = list(
        ServiceRequest.objects.filter(category=Category.FINANCING).values_list("pk", "financing_amount", "received_on")
    )
    offers = []
    for pk, amount, received in needs[::5]:
        granted = rng.random() < 0.7
        offers.append(
            FinancingOffer(
                need_id=pk, bank=banker.organisation, amount=amount or Decimal(100), term_months=12,
                rate=Decimal("4.35"), status=OfferStatus.GRANTED if granted else OfferStatus.OFFERED,
                granted_amount=amount if granted else None,
                granted_on=received + dt.timedelta(days=rng.randrange(10, 40)) if granted else None,
                created_by=banker,
            )
        )
    today = timezone.localdate()
    for offer in offers:  # a loan is not granted in the future
        if offer.granted_on and offer.granted_on > today:
            offer.granted_on = today
    FinancingOffer.objects.bulk_create(offers, batch_size=2000)
    return len(offers)


def populate(args: argparse.Namespace) -> tuple[int, dict]:
    """Fill the database; returns (the leader's id, what was made)."""
    from django.utils import timezone

    from zhiyuan.demo.indicators import demo_indicators_load

    today = timezone.localdate()
    made: dict = {}
    started = time.perf_counter()
    progress(f"projects: {args.projects}")
    leader, _shown = projects_bench.populate(args.projects, args.seed)
    renumber_firms(firm_ids(), PROJECT_FIRMS_FROM)
    made["projects_s"] = time.perf_counter() - started

    started = time.perf_counter()
    before = set(firm_ids())
    firms = max(100, args.requests // 40)
    progress(f"service requests: {args.requests} over {firms} firms")
    servicedesk_bench.populate(args.requests, firms, args.seed)
    renumber_firms(sorted(set(firm_ids()) - before), REQUEST_FIRMS_FROM)
    made["requests_s"] = time.perf_counter() - started

    started = time.perf_counter()
    before = set(firm_ids())
    progress(f"firms with credit scores: {args.firms}")
    credit_bench.make_firms(args.firms, args.seed, today)
    scored = sorted(set(firm_ids()) - before)
    made["grades"] = score_firms(scored, today - dt.timedelta(days=today.day), args.seed)
    made["credit_s"] = time.perf_counter() - started

    started = time.perf_counter()
    progress(f"applications: {args.applications}; bank offers")
    made["applications"] = make_applications(args.applications, args.seed, today)
    made["offers"] = make_offers(args.seed)
    indicators = demo_indicators_load(today=today)
    made["indicators"] = (indicators.indicators_created, indicators.values, indicators.targets)
    made["rest_s"] = time.perf_counter() - started
    return leader.pk, made


# -- measuring -----------------------------------------------------------------------------------


def percentile95(timings: list[float]) -> float:
    ordered = sorted(timings)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def child(data_dir: str, user_id: str, url: str) -> int:
    """One cold sample: a fresh process, set up as a worker is, whose first request is timed."""
    setup_django(data_dir, migrate=False)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from zhiyuan.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(pk=int(user_id)))
    connection.close()  # the page opens its own connection, as a worker's first request does
    started = time.perf_counter()  # before the context, which opens the connection
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    ms = (time.perf_counter() - started) * 1000
    print(json.dumps({"ms": ms, "queries": len(queries.captured_queries), "status": response.status_code}))
    return 0


def cold(data_dir: str, user_id: int, url: str, samples: int) -> tuple[float, float, int] | str:
    """(median ms, p95 ms, SQL queries of the first request) over `samples` fresh processes, or why not."""
    timings, queries = [], []
    for _ in range(samples):
        done = subprocess.run(
            [sys.executable, __file__, "--child", data_dir, str(user_id), url],
            capture_output=True, text=True, env=os.environ.copy(),
        )
        if done.returncode != 0:
            return f"child failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}"
        result = json.loads(done.stdout.strip().splitlines()[-1])
        if result["status"] != 200:
            return f"HTTP {result['status']}"
        timings.append(result["ms"])
        queries.append(result["queries"])
    return statistics.median(timings), percentile95(timings), max(queries)


def report_timings(user_id: int, rounds: int) -> str:
    """The monthly report of the last month that has ended, step by step as report.report_files runs it:
    monthly_figures (the figures, and the charts where that step draws them), render_docx, render_xlsx;
    median seconds of each."""
    try:
        from zhiyuan.indicators import report
    except ImportError as error:
        return f"NOT MEASURED (zhiyuan.indicators.report is not importable: {error})"
    from django.utils import timezone

    from zhiyuan.accounts.models import User
    from zhiyuan.core.errors import DomainError

    missing = [name for name in ("monthly_figures", "render_docx", "render_xlsx") if not hasattr(report, name)]
    if missing:
        return f"NOT MEASURED (zhiyuan.indicators.report has no {', '.join(missing)})"
    user = User.objects.get(pk=user_id)
    last = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    steps: dict[str, list[float]] = {"monthly_figures": [], "docx": [], "xlsx": []}
    sizes = {}
    for _ in range(rounds):
        try:
            started = time.perf_counter()
            figures = report.monthly_figures(user=user, year=last.year, month=last.month)
            steps["monthly_figures"].append(time.perf_counter() - started)
            for name, render in (("docx", report.render_docx), ("xlsx", report.render_xlsx)):
                started = time.perf_counter()
                sizes[name] = len(render(figures))
                steps[name].append(time.perf_counter() - started)
        except DomainError as error:
            return f"NOT MEASURED ({type(error).__name__}: {error.message})"
    medians = {name: statistics.median(values) for name, values in steps.items()}
    return (
        f"month={last:%Y-%m} monthly_figures={medians['monthly_figures']:.2f}s render_docx={medians['docx']:.2f}s "
        f"({sizes['docx'] // 1024}KB) render_xlsx={medians['xlsx']:.2f}s ({sizes['xlsx'] // 1024}KB) "
        f"total={sum(medians.values()):.2f}s rounds={rounds}"
    )


def line(name: str, kind: str, url: str, result, reference: float | None) -> str:
    if isinstance(result, str):
        return f"cockpit page={name:<7} {kind:<4} url={url:<14} NOT MEASURED ({result})"
    median, p95, queries = result
    ratio = f" x_hello={median / reference:6.1f}" if reference else ""
    return (
        f"cockpit page={name:<7} {kind:<4} url={url:<14} median={median:8.1f}ms p95={p95:8.1f}ms "
        f"queries={queries:<4}{ratio}"
    )


def main() -> int:
    args = parse_args()
    if args.child:
        return child(*args.child)
    with tempfile.TemporaryDirectory(prefix="zhiyuan-bench-") as data_dir:
        setup_django(data_dir, migrate=True)
        from django.db import connections
        from django.test import Client

        started = time.perf_counter()
        leader_id, made = populate(args)
        setup_s = time.perf_counter() - started
        connections.close_all()
        print(
            f"# projects={args.projects} requests={args.requests} firms={args.firms}(+"
            f"{args.projects // 5 + 1 + max(100, args.requests // 40)} of the projects and requests) "
            f"applications={args.applications} offers={made['offers']} indicators/values/targets="
            f"{'/'.join(str(n) for n in made['indicators'])} setup={setup_s:.0f}s (projects {made['projects_s']:.0f}s, "
            f"requests {made['requests_s']:.0f}s, credit {made['credit_s']:.0f}s, rest {made['rest_s']:.0f}s) "
            f"sqlite grades={json.dumps(made['grades'])}",
            file=sys.stderr,
            flush=True,
        )
        # Cold first: fresh processes, before this one has served anything.
        progress(f"cold: {args.cold} fresh processes per page")
        colds = {name: cold(data_dir, leader_id, url, args.cold) for name, url in PAGES}
        progress(f"warm: {args.rounds} requests per page")
        client = Client()
        from zhiyuan.accounts.models import User

        client.force_login(User.objects.get(pk=leader_id))
        # warm: servicedesk.py's measure — a warm-up, then `rounds` timed requests and the queries of one
        warms = {name: servicedesk_bench.measure(client, url, args.rounds) for name, url in PAGES}
        for kind, results in (("cold", colds), ("warm", warms)):
            reference = results["hello"][0] if not isinstance(results["hello"], str) else None
            for name, url in PAGES:
                print(line(name, kind, url, results[name], reference), flush=True)
        progress(f"monthly report: {args.report_rounds} rounds")
        print(f"cockpit report=monthly {report_timings(leader_id, args.report_rounds)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
