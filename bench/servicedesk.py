"""Benchmark: the service desk with 200,000 requests over 5,000 firms.

    .venv/bin/python bench/servicedesk.py                     # 200,000 requests, 5,000 firms
    .venv/bin/python bench/servicedesk.py --requests 20000    # a quick run (firms scale down too)

Builds a throwaway SQLite database (ZHIYUAN_DATA_DIR is a temporary directory, migrated before
anything imports the models), fills it, then measures through the Django test client:
- the specialist's queue page `/servicedesk/queue/` (signed in as the specialist persona, who owns
  1/20 of the firms), and the selector-backed API list `/api/servicedesk/requests/?status=...` as a
  second reading of the same scoping;
- the service dashboard `/servicedesk/dashboard/?year=<this year>` (signed in as the leader);
- a bare "hello" view served through the same middleware, session and login in the same run, as the
  reference.
Each page is requested `--pages` times after a short warm-up; one line per page gives the median and
p95 in ms and the SQL queries of one request. Then the escalation sweep `escalations_run` runs over
all open requests twice: the first run escalates everything overdue (notifications, timeline events,
audit entries), the second finds nothing new to send (the "no repeats" rule) — one line each, in
seconds. If a page answers anything but 200 (the pages are built in parallel), the run says so and
measures the API list in its place. Nothing here is asserted in the test suite.
"""

import argparse
import datetime as dt
import math
import os
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

SPECIALISTS = 20
OPEN_RECENT_DAYS = 20  # requests received in the last 20 days are still being worked on
STUCK_SHARE = 0.01  # older requests left open (overdue: what the sweep escalates)
SKILLS = ["焊接", "数控车床", "电工证", "叉车证", "普工", "质检", "机修", "注塑"]
PURPOSES = ["流动资金", "设备更新", "厂房扩建", "技术改造"]
TITLES = {
    "financing": "融资需求",
    "labour": "用工需求",
    "land": "用地协调",
    "approval": "审批咨询",
    "utilities": "水电气保障",
    "policy": "政策咨询",
    "dispute": "纠纷调处",
    "other": "其他诉求",
}

urlpatterns: list = []


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200_000, help="requests to generate (default 200000)")
    parser.add_argument("--firms", type=int, default=None, help="firms (default requests / 40, at least 100)")
    parser.add_argument("--pages", type=int, default=50, help="timed requests per page (default 50)")
    parser.add_argument("--seed", type=int, default=20180101)
    args = parser.parse_args()
    args.firms = args.firms or max(100, args.requests // 40)
    return args


def setup_django(data_dir: str) -> None:
    """A throwaway SQLite database in `data_dir`, migrated before anything imports the models."""
    os.environ["ZHIYUAN_DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("ZHIYUAN_SQLITE_PATH", None)
    os.environ["ZHIYUAN_ENV"] = "development"
    os.environ["ZHIYUAN_DEBUG"] = "0"
    os.environ["ZHIYUAN_LOG_LEVEL"] = "ERROR"
    os.environ["DJANGO_SETTINGS_MODULE"] = "zhiyuan.config.settings"
    Path(data_dir, "static").mkdir()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    import django
    from django.conf import settings
    from django.core.management import call_command
    from django.http import HttpResponse
    from django.urls import clear_url_caches, include, path

    django.setup()
    call_command("migrate", verbosity=0)

    def hello(request):
        return HttpResponse("hello")

    urlpatterns[:] = [path("bench-hello/", hello), path("", include("zhiyuan.config.urls"))]
    settings.ROOT_URLCONF = __name__
    clear_url_caches()


def populate(requests: int, firms: int, seed: int):
    """Fill the database; returns (specialist, leader).

    Setup deliberately bypasses the services and writes with bulk_create: running 200,000 requests
    through the validating, audited services (with their events, audit entries and notifications)
    would take far longer than the measurement and is not what is measured. The rows are shaped as
    the services leave them: deadlines in working days from receipt (one WorkCalendar, memoised),
    sign-for / first reply / resolution dates in order, closed requests rated or not, a share of
    older requests left open and overdue for the sweep. Timeline events are not generated (neither
    the queue nor the dashboard reads them).
    """
    from django.utils import timezone
    from stdnum.cn import uscc

    from zhiyuan.accounts.models import Organisation, Role
    from zhiyuan.accounts.personas import PERSONAS, ensure_persona
    from zhiyuan.accounts.services import user_create
    from zhiyuan.core.workdays import WorkCalendar
    from zhiyuan.enterprises.models import Enterprise, Industry
    from zhiyuan.servicedesk.models import Category, Channel, RequestStatus, ServiceRequest

    rng = random.Random(seed)
    today = timezone.localdate()
    people = {p.key: ensure_persona(p, password="bench-pass-123") for p in PERSONAS if p.role != Role.ENTERPRISE}
    specialist, leader = people["specialist"], people["leader"]
    district = specialist.organisation
    district.head = people["service_staff"]
    district.save()
    specialists = [specialist] + [
        user_create(
            actor=None,
            username=f"zhuanyuan{i}",
            password="bench-pass-123",
            role=Role.SPECIALIST,
            organisation=district,
            last_name="专",
            first_name=f"员{i}",
            validate=False,
        )
        for i in range(2, SPECIALISTS + 1)
    ]
    industries = list(Industry.objects.filter(level=4).values_list("pk", flat=True)[:200])
    enterprises = Enterprise.objects.bulk_create(
        [
            Enterprise(
                uscc=f"91430202{i:09d}" + uscc.calc_check_digit(f"91430202{i:09d}"),
                name=f"株洲荷塘{i}号实业有限公司",
                industry_id=rng.choice(industries),
                size_class="small",
                specialist=specialists[i % SPECIALISTS],
            )
            for i in range(1, firms + 1)
        ],
        batch_size=2000,
    )
    Organisation.objects.get_or_create(name="荷塘区发改局", defaults={"kind": "district"})

    calendar = WorkCalendar()
    memo: dict = {}

    def add(day: dt.date, n: int) -> dt.date:
        key = (day, n)
        if key not in memo:
            memo[key] = calendar.add(day, n)
        return memo[key]

    start = dt.date(today.year - 2, 1, 1)
    span = (today - start).days
    categories = list(Category.values)
    weights = [18, 22, 8, 14, 10, 16, 4, 8]
    rows = []
    for _ in range(requests):
        enterprise = rng.choice(enterprises)
        received = start + dt.timedelta(days=rng.randrange(span + 1))
        category = rng.choices(categories, weights)[0]
        complex_ = rng.random() < 0.15
        sign_due, reply_due = add(received, 1), add(received, 2)
        resolve_due = add(received, 15 if complex_ else 5)
        age = (today - received).days
        row = ServiceRequest(
            enterprise=enterprise,
            category=category,
            channel=rng.choice([Channel.ONLINE, Channel.ONLINE, Channel.PHONE, Channel.VISIT, Channel.WECHAT]),
            title=TITLES[category],
            description="企业反映的问题,详见附件。",
            is_complex=complex_,
            assignee_id=enterprise.specialist_id,
            department=district,
            received_on=received,
            sign_for_due=sign_due,
            reply_due=reply_due,
            resolve_due=resolve_due,
        )
        stuck = age > OPEN_RECENT_DAYS and rng.random() < STUCK_SHARE
        if age <= OPEN_RECENT_DAYS or stuck:
            row.status = rng.choice(
                [
                    RequestStatus.SUBMITTED,
                    RequestStatus.SIGNED_FOR,
                    RequestStatus.IN_PROGRESS,
                    RequestStatus.IN_PROGRESS,
                    RequestStatus.WAITING_FOR_FIRM,
                    RequestStatus.RESOLVED,
                ]
            )
        else:
            row.status = RequestStatus.CLOSED
        if row.status != RequestStatus.SUBMITTED:
            row.signed_for_on = min(received + dt.timedelta(days=rng.choice([0, 0, 1, 2])), today)
        if row.status in (RequestStatus.IN_PROGRESS, RequestStatus.WAITING_FOR_FIRM, RequestStatus.RESOLVED) or (
            row.status == RequestStatus.CLOSED
        ):
            row.first_reply_on = min(received + dt.timedelta(days=rng.choice([0, 1, 1, 2, 3])), today)
        if row.status == RequestStatus.WAITING_FOR_FIRM:
            row.waiting_since = row.first_reply_on
        if row.status in (RequestStatus.RESOLVED, RequestStatus.CLOSED):
            row.resolved_on = min(received + dt.timedelta(days=rng.randrange(1, 25)), today)
            row.resolution = "已协调解决"
        if row.status == RequestStatus.CLOSED:
            row.closed_on = min(row.resolved_on + dt.timedelta(days=rng.randrange(0, 8)), today)
            if rng.random() < 0.8:
                row.rating = rng.choices([5, 4, 3, 2, 1], [60, 25, 9, 4, 2])[0]
            if rng.random() < 0.03:
                row.reopen_count = 1
        if category == Category.LABOUR:
            row.labour_positions = "操作工"
            row.labour_headcount = rng.randrange(2, 60)
            row.labour_skills = rng.choice(SKILLS)
        elif category == Category.FINANCING:
            row.financing_amount = Decimal(rng.choice([100, 200, 300, 500, 800, 1000, 2000]))
            row.financing_term_months = rng.choice([6, 12, 24, 36])
            row.financing_purpose = rng.choice(PURPOSES)
            row.financing_share_with_banks = rng.random() < 0.5
        rows.append(row)
    ServiceRequest.objects.bulk_create(rows, batch_size=5000)
    return specialist, leader


def measure(client, url: str, pages: int) -> tuple[float, float, int] | str:
    """(median ms, p95 ms, SQL queries of one request) for GET `url`, or why it could not be measured."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _warm_up in range(3):
        try:
            response = client.get(url)
        except Exception as error:  # a page under construction elsewhere: report, measure the rest
            return f"{type(error).__name__}: {error}"
        if response.status_code != 200:
            return f"HTTP {response.status_code}"
    timings = []
    for _ in range(pages):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    timings.sort()
    p95 = timings[max(0, math.ceil(0.95 * len(timings)) - 1)]
    return statistics.median(timings), p95, len(queries.captured_queries)


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="zhiyuan-bench-") as data_dir:
        setup_django(data_dir)
        from django.test import Client
        from django.utils import timezone

        from zhiyuan.servicedesk.models import ServiceRequest
        from zhiyuan.servicedesk.selectors import OPEN_STATUSES
        from zhiyuan.servicedesk.services import escalations_run

        started = time.perf_counter()
        specialist, leader = populate(args.requests, args.firms, args.seed)
        setup_s = time.perf_counter() - started
        year = timezone.localdate().year
        as_specialist, as_leader = Client(), Client()
        as_specialist.force_login(specialist)
        as_leader.force_login(leader)
        pages = [
            ("hello", as_leader, "/bench-hello/"),
            ("queue", as_specialist, "/servicedesk/queue/"),
            ("queue-p3", as_specialist, "/servicedesk/queue/?page=3"),
            ("api-list", as_specialist, f"/api/servicedesk/requests/?assignee={specialist.pk}&status=in_progress"),
            ("dashboard", as_leader, f"/servicedesk/dashboard/?year={year}"),
        ]
        open_count = ServiceRequest.objects.filter(status__in=OPEN_STATUSES).count()
        mine = ServiceRequest.objects.filter(status__in=OPEN_STATUSES, assignee=specialist).count()
        print(
            f"# requests={args.requests} firms={args.firms} open={open_count} specialist_open={mine} "
            f"pages/measure={args.pages} setup={setup_s:.0f}s sqlite",
            file=sys.stderr,
        )
        results = {name: measure(client, url, args.pages) for name, client, url in pages}
        hello_median = results["hello"][0]
        for name, _client, url in pages:
            result = results[name]
            if isinstance(result, str):
                print(f"servicedesk page={name:<10} url={url:<40} NOT MEASURED ({result})")
                continue
            median, p95, queries = result
            print(
                f"servicedesk page={name:<10} url={url:<40} median={median:7.1f}ms p95={p95:7.1f}ms "
                f"queries={queries:<3} x_hello={median / hello_median:6.1f}"
            )
        today = timezone.localdate()
        for label in ("first", "repeat"):
            started = time.perf_counter()
            report = escalations_run(today=today)
            seconds = time.perf_counter() - started
            print(
                f"servicedesk sweep=escalations_run({label}) open={open_count} overdue={report.overdue} "
                f"to_head={report.level1} to_leader={report.level2} notified={report.notified} "
                f"errors={len(report.errors)} seconds={seconds:.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
