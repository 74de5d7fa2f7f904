"""Benchmark: the project pages with 10,000 projects, 60 monthly entries and 20 milestones each.

    .venv/bin/python bench/projects.py                  # 10,000 projects
    .venv/bin/python bench/projects.py --projects 1000  # a quick run

Builds a throwaway SQLite database (ZHIYUAN_DATA_DIR is a temporary directory, migrated before
anything imports the models), fills it, then measures through the Django test client, signed in as
a district leader: the dashboard, the list page filtered by pool and paginated
(`/projects/?pool=construction&page=3`) and one project page. Each page is requested 50 times after
a short warm-up; one line per page gives the median and p95 in ms and the number of SQL queries of
one request. A bare "hello" view, served through the same middleware, session and login in the
same run, is the reference. The list page's query count is also taken with 100 rows per page: it
must equal the 25-row count (no query per row). `--analyze` runs SQLite's ANALYZE after loading, to
compare against query plans chosen without statistics (what a deployment has unless it runs it).
Nothing here is asserted in the test suite.
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

MONTHS_PER_PROJECT = 60
MILESTONES_PER_PROJECT = 20
MILESTONE_NAMES = [
    "项目备案",
    "用地预审",
    "规划许可",
    "土地摘牌",
    "环评批复",
    "施工图审查",
    "施工许可",
    "场地平整",
    "桩基施工",
    "基础完成",
    "主体施工",
    "主体封顶",
    "钢结构安装",
    "屋面工程",
    "设备采购",
    "设备进场",
    "设备安装",
    "联合调试",
    "竣工验收",
    "试生产",
]
PLACES = ["荷塘", "金山", "株洲", "湘江", "茨菇塘", "宋家桥", "月塘", "桂花"]
KINDS = [
    "智能制造基地",
    "新材料产业园",
    "装配式建筑基地",
    "硬质合金配套项目",
    "医疗器械产业园",
    "物流中心",
    "电商产业园",
    "轨道交通配套项目",
    "精密制造项目",
    "总部大楼",
]

# The URLconf the bench serves: the real one plus the reference view (filled in after django.setup(),
# since including the real URLconf imports the models).
urlpatterns: list = []


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=10_000, help="projects to generate (default 10000)")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page (default 50)")
    parser.add_argument("--seed", type=int, default=20190101)
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="run SQLite's ANALYZE after loading (a deployment never does unless told; off by default)",
    )
    args = parser.parse_args()
    if args.projects < 300:
        parser.error("--projects must be at least 300 so that the construction pool has a third page")
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


def month_add(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def populate(count: int, seed: int):
    """Fill the database; returns (the leader who reads, the project whose page is measured).

    Setup deliberately bypasses the services and writes with bulk_create: running 800,000 rows
    through the validating, audited services would take far longer than the measurement and is
    not what is measured here. The rows are shaped as the services would leave them (pool derived
    from stage, dates in stage order, months not in the future, milestones reached before today).
    """
    from django.utils import timezone

    from zhiyuan.accounts.models import Organisation, OrganisationKind
    from zhiyuan.accounts.personas import PERSONAS, ensure_persona
    from zhiyuan.core.services import audit_record_many
    from zhiyuan.enterprises.models import Chain, Enterprise, Industry
    from zhiyuan.investments.models import (
        POOL_OF_STAGE,
        Blocker,
        Decision,
        DecisionKind,
        KeyProject,
        LandProgress,
        LandTarget,
        Milestone,
        MonthlyInvestment,
        Project,
        Stage,
        StageChange,
        Status,
    )

    rng = random.Random(seed)
    today = timezone.localdate()
    this_month = today.replace(day=1)
    people = {p.key: ensure_persona(p, password="bench-pass-123") for p in PERSONAS if p.role not in {"enterprise"}}
    leader, officer, attraction = people["leader"], people["project"], people["investment"]
    units = [
        Organisation.objects.get_or_create(name=name, defaults={"kind": OrganisationKind.DISTRICT})[0]
        for name in ("荷塘区发改局", "荷塘区自然资源局", "荷塘区住建局", "荷塘区工信局", "金山街道")
    ]

    from stdnum.cn import uscc

    industries = list(Industry.objects.filter(level=4).values_list("pk", flat=True)[:200])
    enterprises = Enterprise.objects.bulk_create(
        [
            Enterprise(
                uscc=f"91430202{i:09d}" + uscc.calc_check_digit(f"91430202{i:09d}"),
                name=f"株洲{rng.choice(PLACES)}{i}号实业有限公司",
                industry_id=rng.choice(industries),
                size_class="small",
            )
            for i in range(1, count // 5 + 2)
        ],
        batch_size=2000,
    )

    stages = list(Stage)
    weights = [8, 8, 10, 20, 34, 10, 10]
    chains = list(Chain.values)
    projects = []
    for i in range(count):
        stage = rng.choices(stages, weights)[0]
        level = stages.index(stage)
        status = rng.choices([Status.ACTIVE, Status.STOPPED, Status.POSTPONED, Status.WITHDRAWN], [90, 4, 4, 2])[0]
        contract = today - dt.timedelta(days=rng.randrange(700, 2000)) if level >= 2 else None
        start = contract + dt.timedelta(days=rng.randrange(60, 300)) if level >= 4 else None
        completion = start + dt.timedelta(days=rng.randrange(200, 400)) if level >= 5 else None
        production = completion + dt.timedelta(days=rng.randrange(10, 90)) if level >= 6 else None
        total = Decimal(rng.choice([3000, 8000, 12000, 20000, 35000, 50000, 80000, 150000]))
        projects.append(
            Project(
                name=f"{rng.choice(PLACES)}{rng.choice(KINDS)}{i + 1}",
                code=f"{(contract or today).year}-430202-34-03-{i + 1:06d}" if level >= 2 else None,
                stage=stage,
                pool=POOL_OF_STAGE[stage],
                status=status,
                resume_on=today + dt.timedelta(days=90) if status == Status.POSTPONED else None,
                source=rng.choice(["以商招商", "驻外招商", "招商推介会", "企业自荐"]),
                investor_name=f"投资方{i}",
                enterprise=rng.choice(enterprises) if level >= 2 else None,
                chain=rng.choice(chains),
                description="新建厂房、研发楼及配套设施",
                estimated_investment=total,
                total_investment=total if level >= 2 else None,
                land_area_mu=Decimal(rng.randrange(20, 400)),
                contract_date=contract,
                planned_start=(contract + dt.timedelta(days=90)) if contract else None,
                actual_start=start,
                planned_completion=(contract + dt.timedelta(days=600)) if contract else None,
                actual_completion=completion,
                production_date=production,
                first_year_output=total * 2 if production else None,
                investment_officer=attraction,
                project_officer=officer if level >= 2 else None,
            )
        )
    projects = Project.objects.bulk_create(projects, batch_size=2000)

    changes, months, milestones, listings, blockers, decisions = [], [], [], [], [], []
    first_month = month_add(this_month, -(MONTHS_PER_PROJECT - 1))
    for project in projects:
        level = stages.index(Stage(project.stage))
        day = project.contract_date or today - dt.timedelta(days=2000)
        for to in range(1, level + 1):
            on = {
                2: project.contract_date,
                4: project.actual_start,
                5: project.actual_completion,
                6: project.production_date,
            }.get(to) or day
            changes.append(StageChange(project=project, from_stage=stages[to - 1], to_stage=stages[to], on=on))
            day = on
        for m in range(MONTHS_PER_PROJECT):
            months.append(
                MonthlyInvestment(
                    project=project, month=month_add(first_month, m), amount=Decimal(rng.randrange(0, 900))
                )
            )
        base = today - dt.timedelta(days=400)
        for n, name in enumerate(MILESTONE_NAMES[:MILESTONES_PER_PROJECT]):
            planned = base + dt.timedelta(days=40 * n)
            reached = planned + dt.timedelta(days=rng.randrange(-5, 20)) if planned < today else None
            if reached and (reached > today or rng.random() < 0.08):
                reached = None
            milestones.append(Milestone(project=project, name=name, planned_on=planned, actual_on=reached))
        if level >= 3 and rng.random() < 0.15:
            listings.append(
                KeyProject(
                    project=project,
                    year=today.year,
                    sequence=len(listings) + 1,
                    planned_investment=Decimal(rng.choice([2000, 5000, 8000, 12000])),
                    liaison_leader=leader,
                    responsible_unit=rng.choice(units),
                )
            )
        if rng.random() < 0.1:
            blockers.append(
                Blocker(
                    project=project,
                    description="征拆协议未签订,影响场地移交",
                    unit=rng.choice(units),
                    due_on=today - dt.timedelta(days=rng.randrange(-30, 60)),
                    raised_by=officer,
                )
            )
        if project.status != Status.ACTIVE:
            kind = {Status.STOPPED: DecisionKind.STOP, Status.POSTPONED: DecisionKind.POSTPONE}.get(
                Status(project.status), DecisionKind.WITHDRAW
            )
            decisions.append(
                Decision(
                    project=project,
                    kind=kind,
                    reason="资金未到位",
                    decided_on=today - dt.timedelta(days=30),
                    approver=leader,
                    resume_on=project.resume_on,
                )
            )
    StageChange.objects.bulk_create(changes, batch_size=5000)
    MonthlyInvestment.objects.bulk_create(months, batch_size=5000)
    Milestone.objects.bulk_create(milestones, batch_size=5000)
    KeyProject.objects.bulk_create(listings, batch_size=2000)
    Blocker.objects.bulk_create(blockers, batch_size=2000)
    Decision.objects.bulk_create(decisions, batch_size=2000)
    audit_record_many(actor=attraction, action="investments.project.created", objs=projects)
    LandTarget.objects.create(year=today.year, collective_land_mu=Decimal("1500"), state_housing_m2=Decimal("30000"))
    LandProgress.objects.bulk_create(
        [
            LandProgress(month=month_add(this_month, -m), collective_land_mu=Decimal(rng.randrange(10, 120)))
            for m in range(today.month)
        ]
    )
    # The measured project page: a key project under construction (blockers and a listing to show).
    listed = {k.project_id for k in listings}
    shown = next(
        (p for p in projects if p.stage == Stage.UNDER_CONSTRUCTION and p.status == Status.ACTIVE and p.pk in listed),
        projects[0],
    )
    return leader, shown


def measure(client, url: str, requests: int) -> tuple[float, float, int]:
    """(median ms, p95 ms, SQL queries of one request) for GET `url`."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _warm_up in range(3):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"FAILED: GET {url} answered {response.status_code}")
    timings = []
    for _ in range(requests):
        start = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
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

        started = time.perf_counter()
        leader, shown = populate(args.projects, args.seed)
        setup_s = time.perf_counter() - started
        if args.analyze:
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        client = Client()
        client.force_login(leader)
        list_url = "/projects/?pool=construction&page=3"
        pages = [
            ("hello", "/bench-hello/"),
            ("dashboard", "/projects/dashboard/"),
            ("list", list_url),
            ("project", f"/projects/{shown.pk}/"),
        ]
        results = {name: measure(client, url, args.requests) for name, url in pages}
        _m, _p, wide_list_queries = measure(client, list_url + "&per_page=100", 3)
        hello_median = results["hello"][0]
        print(
            f"# projects={args.projects} months/project={MONTHS_PER_PROJECT} milestones/project="
            f"{MILESTONES_PER_PROJECT} requests/page={args.requests} setup={setup_s:.0f}s sqlite"
            f"{' analyzed' if args.analyze else ''}",
            file=sys.stderr,
        )
        for name, url in pages:
            median, p95, queries = results[name]
            extra = f" queries@100rows={wide_list_queries}" if name == "list" else ""
            print(
                f"projects page={name:<9} url={url:<38} median={median:7.1f}ms p95={p95:7.1f}ms "
                f"queries={queries:<3}{extra} x_hello={median / hello_median:6.1f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
