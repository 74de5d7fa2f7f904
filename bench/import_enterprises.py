"""Benchmark: import N enterprise rows from an .xlsx into a throwaway SQLite database.

    .venv/bin/python bench/import_enterprises.py            # 100,000 rows
    .venv/bin/python bench/import_enterprises.py --rows 2000

Generates a sheet with the import's headers and realistic rows (valid USCCs, Chinese firm names,
real GB/T 4754-2017 codes, zones, tags, a specialist, phone and ID numbers), then measures in the
same run (1) the bare read of the file with the import's own reader (`imports.read_dataset`) and
(2) the whole import through `imports.enterprise_import` (read, check, bulk write, audit), and prints
one line: rows/s, peak memory (ru_maxrss, the whole process) and the ratio import time / bare read
time, by wall clock and by CPU time (the CPU figure is steadier on a busy machine). The bare read is
timed before and after the import and averaged. The target is a ratio within 3. Every second row
carries a contact ID number, whose check (birth place via python-stdnum) is the costliest rule.
Nothing here is asserted in the test suite.
"""

import argparse
import datetime as dt
import io
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ZONES = ["金山新城", "荷塘工业集中区", "电商产业园", "新材料产业园", "轨道交通配套产业园", "中心城区"]
TAGS = ["高新技术企业", "专精特新", "规上企业", "科技型中小企业"]
PLACES = ["株洲", "湖南", "株洲市荷塘区", "湖南省", "荷塘", "株洲金山", ""]
WORDS = "华宏盛鑫达泰兴源恒瑞通辉金天新科博远力嘉德美信安丰祥和创智腾精诚联银宇航隆昌荣顺永光明凯中佳汇"
TRADES = {
    "C": ["新材料", "机械制造", "精密制造", "电子科技", "硬质合金", "轨道装备", "医疗器械", "生物医药", "包装材料"],
    "F": ["建设工程", "建筑科技", "装配式建筑"],
    "G": ["物流", "供应链管理"],
    "I": ["信息技术", "软件科技", "网络科技"],
    "L": ["商务咨询", "企业管理"],
    "F_": ["商贸"],
}
SUFFIXES = ["有限公司", "有限责任公司", "股份有限公司"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许邓冯韩曹曾彭萧蔡潘田董袁于余叶蒋杜苏魏程吕丁沈任"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红建国志文斌波宇浩凯鹏辉"
STREETS = ["新华西路", "红旗北路", "金山路", "茨菇塘路", "荷塘大道", "建设北路", "新塘路", "桂花路"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows to generate and import (default 100000)")
    parser.add_argument("--seed", type=int, default=20190101)
    return parser.parse_args()


def setup_django(data_dir: str) -> None:
    """A throwaway SQLite database in `data_dir`, migrated before anything imports the models."""
    os.environ["ZHIYUAN_DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("ZHIYUAN_SQLITE_PATH", None)
    os.environ["ZHIYUAN_DEBUG"] = "0"
    os.environ["ZHIYUAN_LOG_LEVEL"] = "WARNING"
    os.environ["ZHIYUAN_IMPORT_MAX_BYTES"] = str(512 * 1024 * 1024)
    os.environ["DJANGO_SETTINGS_MODULE"] = "zhiyuan.config.settings"
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def reference_data():
    """Zones, tags and one specialist for the rows to name; the specialist also runs the import."""
    from zhiyuan.accounts.personas import PERSONAS, ensure_persona
    from zhiyuan.enterprises.models import ParkZone, Tag

    for name in ZONES:
        ParkZone.objects.get_or_create(name=name)
    for name in TAGS:
        Tag.objects.get_or_create(name=name)
    persona = next(p for p in PERSONAS if p.key == "specialist")
    return ensure_persona(persona, password="bench-pass-123")


def id_number(rng: random.Random) -> str:
    from stdnum.cn import ric

    born = dt.date(1983, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 20))  # 荷塘区 430202 exists from 1983
    body = f"430202{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return body + ric.calc_check_digit(body + "0")


def generate(rows: int, seed: int, specialist_username: str) -> bytes:
    """The sheet: the import's headers and `rows` realistic, valid rows."""
    from openpyxl import Workbook
    from stdnum.cn import uscc

    from zhiyuan.enterprises.industries import read_industry_rows
    from zhiyuan.enterprises.models import Chain, Status
    from zhiyuan.enterprises.resources import EnterpriseResource

    rng = random.Random(seed)
    classes = [r for r in read_industry_rows() if r["level"] == 4]
    by_section: dict[str, list[str]] = {}
    for row in classes:
        by_section.setdefault(row["section"], []).append(row["code"])
    sections = ["C"] * 6 + ["F", "G", "I", "L", "F"]
    chains = [str(label) for label in Chain.labels]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(EnterpriseResource.import_headers())
    today = dt.date.today()
    for serial in range(1, rows + 1):
        section = rng.choice(sections)
        code = rng.choice(by_section[section])
        trade = rng.choice(TRADES.get(section, TRADES["F_"]))
        brand = rng.choice(WORDS) + rng.choice(WORDS)
        body = f"91430202{serial:09d}"
        staff = rng.choice([3, 8, 15, 40, 90, 160, 350, 800, 1500])
        revenue = round(rng.uniform(50, 80000), 2)
        person = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", rng.choice(GIVEN)])
        sheet.append(
            [
                body + uscc.calc_check_digit(body),
                f"{rng.choice(PLACES)}{brand}{trade}{rng.choice(SUFFIXES)}",
                brand + trade[:2],
                rng.choice(SURNAMES) + rng.choice(GIVEN),
                today - dt.timedelta(days=rng.randrange(200, 365 * 30)),
                rng.choice([50, 100, 500, 1000, 2000, 5000]),
                code,
                staff,
                revenue,
                round(revenue * rng.uniform(0.5, 3), 2),
                rng.choice(chains),
                rng.choice(ZONES),
                "、".join(rng.sample(TAGS, rng.randrange(0, 3))),
                str(Status.OPERATING.label),
                specialist_username if serial % 3 == 0 else "",
                f"株洲市荷塘区{rng.choice(STREETS)}{rng.randrange(1, 999)}号",
                f"{trade}产品的研发、生产与销售",
                person,
                f"1{rng.choice('3456789')}{rng.randrange(0, 10**9):09d}",
                id_number(rng) if serial % 2 == 0 else "",
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="zhiyuan-bench-") as data_dir:
        setup_django(data_dir)
        from django.core.files.base import File

        from zhiyuan.core.models import AuditEntry
        from zhiyuan.enterprises.imports import enterprise_import, read_dataset
        from zhiyuan.enterprises.models import Enterprise

        specialist = reference_data()
        content = generate(args.rows, args.seed, specialist.username)

        def bare_read() -> tuple[float, float]:
            wall, cpu = time.perf_counter(), time.process_time()
            dataset = read_dataset(content)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            assert dataset.height == args.rows, dataset.height
            return wall, cpu

        # The bare read is timed before and after the import and averaged, so that load from other
        # processes during the run weighs on both sides alike.
        read_before = bare_read()
        wall, cpu = time.perf_counter(), time.process_time()
        report = enterprise_import(actor=specialist, file=File(io.BytesIO(content), name="bench.xlsx"), dry_run=False)
        import_wall, import_cpu = time.perf_counter() - wall, time.process_time() - cpu
        read_after = bare_read()
        read_wall = (read_before[0] + read_after[0]) / 2
        read_cpu = (read_before[1] + read_after[1]) / 2

        written = Enterprise.objects.count()
        audited = AuditEntry.objects.filter(action="enterprises.enterprise.imported").count()
        if report.errors or written != args.rows or audited != args.rows:
            print(f"FAILED: {len(report.errors)} errors, {written} firms, {audited} audit entries; "
                  f"first errors: {report.errors[:3]}", file=sys.stderr)
            return 1
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"import_enterprises rows={args.rows} file={len(content) / 1e6:.1f}MB "
            f"import={import_wall:.1f}s rows/s={args.rows / import_wall:,.0f} peak_rss={peak_mb:,.0f}MB "
            f"bare_read={read_wall:.1f}s ratio={import_wall / read_wall:.2f} "
            f"(cpu: import={import_cpu:.1f}s bare_read={read_cpu:.1f}s ratio={import_cpu / read_cpu:.2f}) target<=3"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
