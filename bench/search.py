"""Benchmark: product search at scale — index build, then a fixed query set through the search service,
as raw Tantivy calls (the limit) and as a naive LIKE scan (the floor).

    .venv/bin/python bench/search.py                                # 1,000,000 products, Tantivy, SQLite
    .venv/bin/python bench/search.py --products 100000              # a quicker run
    .venv/bin/python bench/search.py --products 100000 --postgres   # both backends on a throwaway PostgreSQL

1. Data. A throwaway database (SQLite in a temporary ZHIYUAN_DATA_DIR, or PostgreSQL with --postgres via
   tools/with_postgres.py) gets --firms firms (default 20,000; bulk_create, valid USCCs) of the four
   leading chains' industry lines, named like the demo's (株洲金鼎数控刀具有限公司 …), with park zones and
   size classes, and --products products (default 1,000,000; bulk_create, seeded) spread over them,
   drawn from the demo's product templates of each firm's line (zhiyuan.demo.products: names, model
   numbers, specifications, materials, certifications, descriptions); a quarter of the names carry
   the first model number (硬质合金数控刀片 CNMG120408-PM). Setup, not measured: no change log is
   written, the index is built by a full rebuild.
2. Build. Per backend, `zhiyuan.catalog.indexing.rebuild()` in a forked child: wall and CPU time,
   documents per second, the index size (the Tantivy directory on disk; PostgreSQL: the search
   table with its indexes) and the child's peak RSS (ru_maxrss, which includes the Django process it
   was forked from, so the growth during the build is given too).
3. Queries. A fixed set of ≥ 200 queries, the same on every run (`query_set`): two-character words,
   long phrases, model numbers whole and in parts, pinyin (full and initials), broad and narrow
   queries, a quarter of them with facet filters (chain, certification, zone, size, industry
   division), and a few bad inputs (syntax characters, emoji, 300 characters). After one untimed
   warm-up pass, --rounds timed passes (default 3) in a forked child, one line each with p50, p95,
   p99, mean and max in ms:
   - `service`: `catalog.search.service.search_products` as a district user, page 1 of 20 with the
     facet counts — the analysis, the backend call, loading the 20 products and highlighting; a
     second line (`service_split`) splits each query's time into the backend's `search` call
     (timed by wrapping it) and the rest of the service;
   - `raw` (Tantivy only, the limit): the same queries' tokens (the service's `build_terms`: the
     analysis with the synonyms, computed before the clock starts) searched on the same index
     directory with the tantivy package alone, no Django: the backend's own query (built by
     `TantivyBackend.query`, plain tantivy calls), the facet counts and the total by one aggregation
     and the top 20, as the backend does (`raw`); the same query, top 20 with the count only
     (`raw_nofacets`); and a query built by hand in its simplest form — one boolean Should over every
     boosted (field, kind, token) term query, the filters as Must term queries (`raw_plain`). Each
     line says how many queries returned the same top 20 as the service (differences to stderr);
   - `like` (the floor): every whitespace-separated part of the query as `LIKE '%part%'` over name,
     model numbers and description (ILIKE on PostgreSQL), all parts required, filters ignored: all
     matching ids fetched (to count them) and the first 20 kept. A full scan per query: above
     --like-all products (default 200,000) it runs one round instead of --rounds, and --like-sample N
     runs only a fixed sample of the queries (the line says so).
   Per query class, the service's p50/p95 go to stderr. The aim, p95 ≤ 20 ms at 1M products on 2
   cores with Tantivy, is printed as met or not.

PostgreSQL needs --postgres (the postgres backend stores its tsvectors in the database); without it,
`--backend both` measures Tantivy only and says so. Nothing here is asserted in the test suite.
"""

import argparse
import datetime as dt
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _child import close_connections, in_child  # bench/_child.py

REPO = Path(__file__).resolve().parent.parent
INNER = "ZHIYUAN_SEARCH_BENCH_INNER"  # set when the bench runs itself under tools/with_postgres.py
SEED = 2019
AIM_P95_MS = 20.0
AIM_PRODUCTS = 1_000_000
TOP = 20
BATCH = 10_000
PLACES = ["株洲", "湖南", "荷塘", "湘江", "金山", "醴陵", "炎陵", "攸县", "茶陵", "渌口"]
SUFFIXES = ["", "科技", "实业", "制造", "新材料", "装备", "工业", "精密"]
SIZES = [("micro", 40), ("small", 40), ("medium", 15), ("large", 5)]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=AIM_PRODUCTS, help="products (default 1000000)")
    parser.add_argument("--firms", type=int, default=20_000, help="firms the products spread over (default 20000)")
    parser.add_argument(
        "--queries", type=int, default=0, help="run only the first N queries of the fixed set (default: all)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the queries (default 3)")
    parser.add_argument("--backend", choices=["tantivy", "postgres", "both"], default="both")
    parser.add_argument("--postgres", action="store_true", help="on a throwaway PostgreSQL (tools/with_postgres.py)")
    parser.add_argument(
        "--like-all", type=int, default=200_000, help="above this many products, one LIKE round only (default 200000)"
    )
    parser.add_argument(
        "--like-sample", type=int, default=0, help="run only a fixed sample of N queries as LIKE scans (default: all)"
    )
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    if args.products < 1000 or args.firms < 10 or args.rounds < 1 or args.queries < 0:
        parser.error("--products must be at least 1000, --firms at least 10, --rounds at least 1")
    args.firms = min(args.firms, args.products // 3)
    return args


STARTED = time.monotonic()


def progress(text: str) -> None:
    print(f"[{time.monotonic() - STARTED:7.1f}s] {text}", file=sys.stderr, flush=True)


def mb(kilobytes: float) -> str:
    return f"{kilobytes / 1024:,.0f}MB"


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def latency(values: list[float]) -> str:
    return (
        f"p50={percentile(values, 0.50):.1f}ms p95={percentile(values, 0.95):.1f}ms "
        f"p99={percentile(values, 0.99):.1f}ms mean={statistics.fmean(values):.1f}ms max={max(values):.1f}ms"
    )


# -- setup -----------------------------------------------------------------------------------------


def run_under_postgres() -> int:
    """Run the bench again inside tools/with_postgres.py (which sets DATABASE_URL to a throwaway cluster)."""
    command = [sys.executable, str(REPO / "tools" / "with_postgres.py"), "--", sys.executable, *sys.argv]
    return subprocess.run(command, env={**os.environ, INNER: "1"}).returncode


def setup_django(data_dir: str, postgres: bool) -> None:
    """A throwaway data directory and database, migrated before anything imports the models."""
    os.environ.update(
        ZHIYUAN_DATA_DIR=data_dir,
        ZHIYUAN_ENV="development",
        ZHIYUAN_DEBUG="0",
        ZHIYUAN_LOG_LEVEL="ERROR",
        DJANGO_SETTINGS_MODULE="zhiyuan.config.settings",
    )
    if not postgres:
        os.environ.pop("DATABASE_URL", None)
    for name in ("ZHIYUAN_SQLITE_PATH", "ZHIYUAN_SEARCH_INDEX_DIR", "ZHIYUAN_SEARCH_BACKEND"):
        os.environ.pop(name, None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def make_uscc(serial: int) -> str:
    from stdnum.cn import uscc

    body = f"91430202{serial:09d}"
    return body + uscc.calc_check_digit(body)


def chain_lines():
    """The demo's industry lines of the four leading chains that have product templates."""
    from zhiyuan.demo.data import INDUSTRY_LINES
    from zhiyuan.demo.products import TEMPLATES
    from zhiyuan.enterprises.models import Chain

    return [line for line in INDUSTRY_LINES if line.chain != Chain.OTHER and line.code in TEMPLATES]


def make_firms(n: int, seed: int) -> list[tuple[int, str, str]]:
    """`n` firms in bulk over the chain lines; [(id, line code, short name)]."""
    from zhiyuan.demo.data import TRADE_NAMES
    from zhiyuan.enterprises.models import Enterprise, ParkZone

    rng = random.Random(f"{seed}-firms")
    lines = chain_lines()
    weights = [line.weight for line in lines]
    zones = {}
    for line in lines:
        for name in line.zones:
            if name and name not in zones:
                zones[name] = ParkZone.objects.get_or_create(name=name)[0].pk
    names: set[str] = set()
    batch, codes = [], {}
    for serial in range(1, n + 1):
        line = rng.choices(lines, weights=weights)[0]
        while True:
            short = f"{rng.choice(TRADE_NAMES)}{rng.choice(line.words)}{rng.choice(SUFFIXES)}"
            name = f"{rng.choice(PLACES)}{short}有限公司"
            if name not in names:
                break
            if len(names) > 0.9 * len(PLACES) * len(TRADE_NAMES) * len(SUFFIXES) * 3:
                name = f"{name[:-4]}{serial}有限公司"
                break
        names.add(name)
        zone = rng.choice(line.zones)
        batch.append(
            Enterprise(
                uscc=make_uscc(serial),
                name=name,
                short_name=short[:50],
                industry_id=line.code,
                chain=line.chain,
                zone_id=zones.get(zone) if zone else None,
                size_class=rng.choices([s for s, _w in SIZES], weights=[w for _s, w in SIZES])[0],
                established_on=dt.date(1995, 1, 1) + dt.timedelta(days=rng.randrange(24 * 365)),
            )
        )
        codes[make_uscc(serial)] = (line.code, short)
        if len(batch) == 5000 or serial == n:
            Enterprise.objects.bulk_create(batch, batch_size=1000)
            batch = []
    return [(pk, *codes[uscc]) for pk, uscc in Enterprise.objects.order_by("pk").values_list("pk", "uscc")]


def make_products(n: int, firms: list[tuple[int, str, str]], seed: int) -> None:
    """`n` products in bulk from the demo templates of each firm's line, with their certifications."""
    from zhiyuan.catalog.models import Certification, Product
    from zhiyuan.demo.products import CERTIFICATIONS, TEMPLATES, product_from

    for order, name in enumerate(CERTIFICATIONS, start=50):
        Certification.objects.get_or_create(name=name, defaults={"order": order})
    certification_ids = dict(Certification.objects.values_list("name", "pk"))
    through = Product.certifications.through
    rng = random.Random(f"{seed}-products")
    next_id = (Product.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    products, links = [], []
    started = time.perf_counter()
    for index in range(n):
        enterprise_id, code, short = firms[rng.randrange(len(firms))]
        data = product_from(rng.choice(TEMPLATES[code]), rng, firm=short)
        if rng.random() < 0.25:
            data["name"] = f"{data['name']} {data['model_numbers'].split()[0]}"[:200]
        certifications = data.pop("certifications")
        products.append(Product(id=next_id, enterprise_id=enterprise_id, **data))
        links.extend(through(product_id=next_id, certification_id=certification_ids[c]) for c in certifications)
        next_id += 1
        if len(products) == BATCH or index == n - 1:
            Product.objects.bulk_create(products, batch_size=2000)
            through.objects.bulk_create(links, batch_size=5000)
            products, links = [], []
            if (index + 1) % (10 * BATCH) == 0 or index == n - 1:
                rate = (index + 1) / (time.perf_counter() - started)
                progress(f"  products: {index + 1:,}/{n:,} ({rate:,.0f}/s)")


def database_size() -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return mb(cursor.fetchone()[0] / 1024)
    return mb(Path(connection.settings_dict["NAME"]).stat().st_size / 1024)


# -- the queries -----------------------------------------------------------------------------------

# fmt: off
SHORT = (  # noqa: SIM905 - a list of words, as one writes them
    "刀片 涂料 齿轮 轴承 磁钢 钢构 叠合 口罩 截齿 钼丝 闸片 扣件 铸件 胶囊 棒材 车架 前叉 螺栓 预制 楼梯 门窗 砌块 "
    "监护 纱布 电机 车桥 钴粉 钨粉 铣刀 钻头 碳纤 减振 弹簧 型钢 电源 磁芯 防水 底漆 面漆 处理 钢管 镀锌 "
    "陶瓷 氧化 模具 粒子 拖把 纸箱"
).split()
LONG = [
    "轨道交通车辆用高分子涂料 耐盐雾1000h",
    "硬质合金数控刀片 铸铁半精加工",
    "适用于不锈钢精加工的涂层刀片",
    "T800碳纤维公路车架 内走线",
    "装配式钢结构住宅 钢管混凝土束剪力墙",
    "预制混凝土叠合板 C30 HRB400 桁架钢筋",
    "动车组空气弹簧 CRCC认证 疲劳寿命",
    "渗碳淬火 有效硬化层1.2mm 齿轮",
    "医用外科口罩 环氧乙烷灭菌",
    "烧结钕铁硼 永磁同步电机磁钢 180℃",
    "整体硬质合金立铣刀 TiAlN涂层 模具钢",
    "地铁车辆牵引电机 额定功率210kW",
    "高速铁路无砟轨道钢轨扣件 弹条",
    "钢结构防火涂料 耐火极限2.0h",
    "水性工业涂料 低VOC 工程机械",
    "硬质合金棒材 超细晶粒 双螺旋孔",
    "五氧化二钽 高纯 钽酸锂晶体",
    "球墨铸铁件 齿轮箱体 消失模",
    "深沟球轴承 GCr15 电机用",
    "彩色多普勒超声诊断仪 基层医疗机构",
    "断桥铝合金窗 中空玻璃 气密性8级",
    "ALC轻质隔墙板 蒸压加气混凝土",
    "牵引齿轮箱 轨道车辆传动 减速器",
    "锰锌铁氧体磁芯 开关电源变压器",
    "粉末冶金闸片 动车组 制动",
    "采煤机截齿 合金头钎焊 耐磨抗冲击",
    "一次性使用无菌注射器 医疗器械注册证",
    "碳化钨粉 费氏粒度 硬质合金原料",
    "焊接H型钢 埋弧焊 一级探伤",
    "城轨车辆辅助变流器 DC1500V",
    "who can supply 齿轮 for 牵引齿轮箱",
    "轨道車輛內飾 座椅 阻燃",
    "硬質合金刀片",
    "钨钢刀片",
    "CNC刀具 加工中心",
    "碳素纤维 复合材料 无人机机臂",
    "变速箱 齿轮 渗碳",
    "油漆 防腐 钢结构",
]
MODELS = [
    "YG8", "YT15", "YW1", "YG6X", "CNMG120408", "CNMG120408-PM", "WNMG080408-MA", "6205-2RS", "6205", "2RS",
    "6308-ZZ", "32216", "M8×30", "M16×60", "M12x50", "Q355B", "N52", "N42SH", "N38UH", "PC40EE25", "T800",
    "T700", "316L", "QT450-10", "HT250", "42CrMo", "20CrMnTi", "18CrNiMo7-6", "GCr15", "DBS1-67-3620",
    "ST-28-25", "WQ-2728", "WJ-8", "SKL14", "U82", "Ta2O5", "Nb2O5", "PA66-GF30", "H500×200×10×16", "HXD3",
    "CR400AF", "TB/T 2879", "K20", "P10", "TiAlN", "GB/T 5782", "10.9级", "Mo1", "WCe20", "APT-1.0",
    "FWC-2.0", "Ta2O5-4N", "ZY-EM4F-D6", "U92", "IP55", "国药准字H4302", "ISO 9001", "IATF 16949",
]
PINYIN = [
    "yingzhihejin", "tanxianwei", "chilun", "tuliao", "daopian", "zhoucheng", "jiansuqi", "cixingcailiao",
    "gangjiegou", "yuzhigoujian", "kouzhao", "jiaonang", "jinggujian", "shukongdaoju", "zhuzhou", "jieqi",
    "zhidong", "zhujian", "yuzhiloti", "yiliaoqixie", "shuixingtuliao", "tanhuawu", "luoshuan", "kouj",
    "diehebang",
]
INITIALS = [
    "yzhj", "txw", "skdj", "gjg", "yzgj", "cl", "zc", "jsq", "cxcl", "zz", "yljq", "jsgj", "zdp", "ylqx",
    "qycl", "tl", "dp", "lsh", "hj", "zy",
]
BROAD = [
    "材料", "设备", "加工", "钢", "合金", "系统", "零件", "轨道交通", "医疗", "建筑", "有限公司", "株洲", "型", "mm",
]
NARROW = [
    "YG8 K20 2200MPa",
    "N38UH 180℃ 镀层环氧",
    "CNMG120408-MA YG8 铸铁",
    "GCr15 6205-2RS P5",
    "QT500-7 消失模 轴箱",
    "C35 预制楼梯 1250mm",
    "飞鹿 聚脲",
    "株硬 截齿",
    "T1000 轮组 29寸",
    "PC95RM40 3300",
    "HXD1 橡胶关节 500万次",
    "Q390C H800×300×12×20",
    "K40UF 4300MPa 磨光",
    "WJ-7 60Si2CrA 13kN",
    "Ta2O5-4N5 Fe≤5ppm",
    "BFE≥95% 辐照 医用外科口罩",
    "国药准字Z4302 六味地黄丸",
    "EN 45545-2 HL3 铝蜂窝 贯通道",
    "NGW400-31.5 冶金",
    "VOC≤50g/L 环氧地坪漆",
]
# fmt: on
BAD = ['"硬质合金"', "刀片 AND 涂料 OR (齿轮)", "name:刀片 *", "🔩🔧", "！！？？", "钢" * 300, "a:b:c -x +y ~z^2"]
FILTERS = [
    {"chain": ["rail"]},
    {"chain": ["new_materials"]},
    {"chain": ["prefab", "health"]},
    {"certification": ["CRCC 铁路产品认证"]},
    {"certification": ["IATF 16949"]},
    {"certification": ["ISO 9001", "ISO 14001"]},
    {"size": ["small"]},
    {"size": ["medium", "large"]},
    {"division": ["33"]},
    {"chain": ["rail"], "certification": ["CRCC 铁路产品认证"]},
    {"chain": ["new_materials"], "size": ["micro"]},
    {"zone": ["{carbide}"]},
    {"zone": ["{jinshan}"], "chain": ["prefab"]},
    {"chain": ["unknown-chain"]},
]


def query_set(seed: int, zones: dict[str, str]) -> list[tuple[str, str, dict[str, list[str]]]]:
    """The fixed query set: [(class, text, filters)], the same on every run with the same seed and
    zones. Model numbers and phrases drawn from the product templates add to the hand-written ones."""
    from zhiyuan.demo.products import TEMPLATES, product_from

    rng = random.Random(f"{seed}-queries")
    queries: list[tuple[str, str, dict]] = []
    queries += [("short", text, {}) for text in SHORT]
    queries += [("long", text, {}) for text in LONG]
    queries += [("model", text, {}) for text in MODELS]
    queries += [("pinyin", text, {}) for text in PINYIN]
    queries += [("initials", text, {}) for text in INITIALS]
    queries += [("broad", text, {}) for text in BROAD]
    queries += [("narrow", text, {}) for text in NARROW]
    queries += [("bad", text, {}) for text in BAD]
    codes = sorted(TEMPLATES)
    for _ in range(20):  # drawn model numbers, whole
        data = product_from(rng.choice(TEMPLATES[rng.choice(codes)]), rng)
        queries.append(("model", data["model_numbers"].split()[0], {}))
    for _ in range(20):  # drawn names with a spec fragment
        data = product_from(rng.choice(TEMPLATES[rng.choice(codes)]), rng)
        queries.append(("long", f"{data['name']} {data['specifications'].split()[0]}", {}))
    pool = [q for q in queries if q[0] not in ("bad",)]
    for index in range(70):  # with facet filters
        kind, text, _filters = rng.choice(pool)
        chosen = FILTERS[index % len(FILTERS)]
        filters = {
            facet: [
                value.format(carbide=zones.get("硬质合金配套产业园", "0"), jinshan=zones.get("金山新城", "0"))
                for value in values
            ]
            for facet, values in chosen.items()
        }
        queries.append((f"{kind}+facets", text, filters))
    queries += [("facets only", "", dict(f)) for f in FILTERS[:6]]
    return queries


# -- the measured steps ----------------------------------------------------------------------------


def use_backend(name: str):
    from django.conf import settings

    settings.ZHIYUAN_SEARCH_BACKEND = name


def index_size(name: str) -> str:
    from django.conf import settings

    if name == "tantivy":
        root = Path(settings.ZHIYUAN_SEARCH_INDEX_DIR)
        total = sum(path.stat().st_size for path in root.rglob("*") if path.is_file()) if root.exists() else 0
        return mb(total / 1024)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname = current_schema() AND c.relname LIKE %s",
            [POSTGRES_TABLES],
        )
        return mb(cursor.fetchone()[0] / 1024)


POSTGRES_TABLES = "catalog_search%"


def step_build(name: str) -> dict:
    from zhiyuan.catalog import indexing

    use_backend(name)
    last = [0.0]

    def report(done: int, total: int) -> None:
        if done == total or time.perf_counter() - last[0] > 30:
            last[0] = time.perf_counter()
            progress(f"  {name} rebuild: {done:,}/{total:,}")

    indexed = indexing.rebuild(progress=report)
    return {"indexed": indexed, "size": index_size(name)}


def service_user():
    from zhiyuan.accounts.personas import PERSONAS, ensure_persona

    investment = next(persona for persona in PERSONAS if persona.key == "investment")
    return ensure_persona(investment, password="bench-search")


def step_service(name: str, queries: list, rounds: int) -> dict:
    """The queries through the search service: one warm-up pass, then `rounds` timed passes. The
    backend's `search` is timed too (wrapped), to tell the engine's share from the service's own."""
    from zhiyuan.catalog.search import get_backend
    from zhiyuan.catalog.search.service import search_products

    use_backend(name)
    user = service_user()
    backend = get_backend()
    engine_search = backend.search
    in_backend = [0.0]

    def timed_search(*args, **kwargs):
        started = time.perf_counter()
        try:
            return engine_search(*args, **kwargs)
        finally:
            in_backend[0] += time.perf_counter() - started

    backend.search = timed_search

    def run(text: str, filters: dict) -> list[int]:
        result = search_products(user=user, query=text, filters=filters, page=1, per_page=TOP, group_by_firm=False)
        return [hit.product.pk for hit in result.hits]

    started = time.perf_counter()
    first = run(*queries[0][1:])
    first_ms = (time.perf_counter() - started) * 1000
    tops = {index: run(text, filters) for index, (_kind, text, filters) in enumerate(queries)}
    tops[0] = first
    times: list[list[float]] = [[] for _ in queries]
    backend_times: list[list[float]] = [[] for _ in queries]
    for _round in range(rounds):
        for index, (_kind, text, filters) in enumerate(queries):
            in_backend[0] = 0.0
            started = time.perf_counter()
            run(text, filters)
            times[index].append((time.perf_counter() - started) * 1000)
            backend_times[index].append(in_backend[0] * 1000)
    return {"times": times, "backend_times": backend_times, "tops": tops, "first_ms": first_ms}


def like_sql(text: str, vendor: str) -> tuple[str, list[str]] | None:
    parts = text.split()
    if not parts:
        return None
    op = "ILIKE" if vendor == "postgresql" else "LIKE"
    clause = f"(name {op} %s ESCAPE '\\' OR model_numbers {op} %s ESCAPE '\\' OR description {op} %s ESCAPE '\\')"
    params = []
    for part in parts:
        pattern = "%" + part.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params += [pattern, pattern, pattern]
    where = " AND ".join([clause] * len(parts))
    return f"SELECT id FROM catalog_product WHERE is_active AND {where} ORDER BY id", params


def step_like(queries: list, rounds: int) -> dict:
    from django.db import connection

    times = [[] for _ in queries]
    totals = []
    for _round in range(rounds):
        for index, (_kind, text, _filters) in enumerate(queries):
            sql = like_sql(text, connection.vendor)
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(*sql)
                ids = [row[0] for row in cursor.fetchall()]
                _top = ids[:TOP]
            times[index].append((time.perf_counter() - started) * 1000)
            if _round == 0:
                totals.append(len(ids))
    return {"times": times, "totals": totals}


class RawTantivy:
    """The limit: the index directory opened with the tantivy package alone and searched with a Query
    object built from the query's tokens, without any of the service around it.

    `same` builds exactly the backend's query with its builder (`TantivyBackend.query`: plain tantivy
    calls — the boosted term queries per field and kind, the common-terms rule, the filter clauses —
    no Django, no database); `plain` builds by hand the simplest form of it: one boolean Should over
    every (field, kind, token) term query with the same boosts, AND the filters."""

    def __init__(self, mode: str = "same") -> None:
        import tantivy
        from django.conf import settings

        from zhiyuan.catalog.analysis import BOOSTS
        from zhiyuan.catalog.search.base import FACETS, FIELD_BOOSTS, TEXT_FIELDS
        from zhiyuan.catalog.search.tantivy_backend import TantivyBackend, build_schema

        self.tantivy, self.mode = tantivy, mode
        self.boosts, self.facets, self.field_boosts, self.fields = BOOSTS, FACETS, FIELD_BOOSTS, TEXT_FIELDS
        self.schema = build_schema()
        path = os.path.realpath(settings.ZHIYUAN_SEARCH_INDEX_DIR)
        self.builder = TantivyBackend(path=path)  # for its query builder only; it opens nothing
        index = tantivy.Index.open(path)
        index.reload()
        self.searcher = index.searcher()
        self.aggregations = {f: {"terms": {"field": f"facet_{f}", "size": 1000}} for f in FACETS}
        self.aggregations["_total"] = {"value_count": {"field": "id"}}

    def plain_query(self, terms, filters: dict):
        tv = self.tantivy
        clauses = []
        for kind, tokens in (("word", terms.word), ("bigram", terms.bigram), ("pinyin", terms.pinyin)):
            for field in self.fields if tokens else ():
                boost = self.field_boosts[field] * self.boosts[kind]
                for token in tokens:
                    term = tv.Query.term_query(self.schema, f"{field}_{kind}", token, index_option="freq")
                    clauses.append((tv.Occur.Should, tv.Query.boost_query(term, boost)))
        narrow = []
        for facet in self.facets:
            values = [v for v in dict.fromkeys(filters.get(facet) or []) if v]
            if values:
                should = [(tv.Occur.Should, tv.Query.term_query(self.schema, f"facet_{facet}", v)) for v in values]
                narrow.append((tv.Occur.Must, tv.Query.const_score_query(tv.Query.boolean_query(should), 0.0)))
        text = tv.Query.boolean_query(clauses) if clauses else tv.Query.all_query()
        return tv.Query.boolean_query([(tv.Occur.Must, text), *narrow]) if narrow else text

    def search(self, terms, filters: dict, *, facets: bool = True) -> list[int]:
        if terms.empty and not filters:
            return []  # nothing searchable and nothing to narrow by: the service does not ask either
        if self.mode == "same":
            query = self.builder.query(terms, filters, self.searcher)
        else:
            query = self.plain_query(terms, filters)
        if facets:
            answer = self.searcher.aggregate(query, self.aggregations)
            if not answer["_total"]["value"]:
                return []
            found = self.searcher.search(query, TOP, count=False).hits
        else:
            found = self.searcher.search(query, TOP, count=True).hits
        if not found:
            return []
        return [int(i) for i in self.searcher.fast_field_values("id", [address for _score, address in found])]


def step_raw(queries: list, rounds: int, facets: bool, mode: str) -> dict:
    """The same queries' tokens (the service's `build_terms`: analysis, synonyms, caps) as hand-built
    Tantivy queries on the same index; the tokens are computed before the clock starts — they are the
    service's work, not the engine's."""
    from zhiyuan.catalog import indexing
    from zhiyuan.catalog.search.service import build_terms, clean_query

    indexing.ensure_dictionary(indexing.index_status().rebuilt_at)  # the segmenter as the service has it
    prepared = [(build_terms(clean_query(text)), filters) for _kind, text, filters in queries]
    raw = RawTantivy(mode)
    tops = {index: raw.search(terms, filters, facets=facets) for index, (terms, filters) in enumerate(prepared)}
    times: list[list[float]] = [[] for _ in queries]
    for _round in range(rounds):
        for index, (terms, filters) in enumerate(prepared):
            started = time.perf_counter()
            raw.search(terms, filters, facets=facets)
            times[index].append((time.perf_counter() - started) * 1000)
    return {"times": times, "tops": tops}


def memory(result: dict) -> str:
    return f"peak_rss={mb(result['peak_kb'])} (+{mb(result['peak_kb'] - result['start_kb'])} in the step)"


# -- the run ---------------------------------------------------------------------------------------


def load_average() -> str:
    """The 1/5/15-minute load averages: the runs share the machine, so this says how contended it was."""
    return "/".join(f"{value:.1f}" for value in os.getloadavg())


def flatten(times: list[list[float]]) -> list[float]:
    return [value for per_query in times for value in per_query]


def by_class(queries: list, times: list[list[float]]) -> str:
    classes: dict[str, list[float]] = {}
    for (kind, _text, _filters), values in zip(queries, times, strict=True):
        classes.setdefault(kind, []).extend(values)
    return " | ".join(
        f"{kind} n={len(values) // max(1, len(times[0]))} p50={percentile(values, 0.5):.1f} "
        f"p95={percentile(values, 0.95):.1f}"
        for kind, values in classes.items()
    )


def failed(label: str, result: dict) -> bool:
    if "error" in result:
        print(f"{label} FAILED", flush=True)
        print(result["error"], file=sys.stderr)
        return True
    return False


def run(args: argparse.Namespace) -> int:
    engine = "PostgreSQL" if args.postgres else "SQLite"
    backends = ["tantivy", "postgres"] if args.backend == "both" else [args.backend]
    if "postgres" in backends and not args.postgres:
        if args.backend == "postgres":
            print("search bench: the postgres backend needs --postgres", file=sys.stderr)
            return 2
        backends.remove("postgres")
        progress("the postgres backend needs --postgres: measuring Tantivy only")
    with tempfile.TemporaryDirectory(prefix="zhiyuan-bench-") as data_dir:
        setup_django(data_dir, args.postgres)
        from django.db import connection

        label = f"products={args.products} firms={args.firms} {engine}"
        started = time.perf_counter()
        progress(f"firms: {args.firms:,}")
        firms = make_firms(args.firms, args.seed)
        progress(f"products: {args.products:,}")
        make_products(args.products, firms, args.seed)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(
            f"search.setup {label} bulk_create={time.perf_counter() - started:.1f}s database={database_size()} "
            f"cores={os.cpu_count()} loadavg={load_average()} (setup)",
            flush=True,
        )
        from zhiyuan.enterprises.models import ParkZone

        zones = {name: str(pk) for name, pk in ParkZone.objects.values_list("name", "pk")}
        queries = query_set(args.seed, zones)
        if args.queries:
            queries = queries[: args.queries]
        classes = sorted({kind for kind, _text, _filters in queries})
        progress(f"{len(queries)} queries in {len(classes)} classes: {', '.join(classes)}")
        figures: dict[str, float] = {}
        for name in backends:
            progress(f"{name}: rebuilding the index")
            result = in_child(step_build, name)
            if failed(f"search.build.{name}", result):
                return 1
            print(
                f"search.build.{name} {label} documents={result['indexed']} time={result['seconds']:.1f}s "
                f"cpu={result['cpu']:.1f}s docs/s={result['indexed'] / result['seconds']:,.0f} "
                f"index_size={result['size']} {memory(result)}",
                flush=True,
            )
            progress(f"{name}: {len(queries)} queries through the search service, {args.rounds} rounds")
            service = in_child(step_service, name, queries, args.rounds)
            if failed(f"search.query.{name}.service", service):
                return 1
            values = flatten(service["times"])
            figures[name] = percentile(values, 0.95)
            print(
                f"search.query.{name}.service {label} queries={len(queries)}x{args.rounds} {latency(values)} "
                f"first_query={service['first_ms']:.0f}ms (top {TOP} with facets) {memory(service)}",
                flush=True,
            )
            inside = flatten(service["backend_times"])
            rest = [total - part for total, part in zip(values, inside, strict=True)]
            print(
                f"search.query.{name}.service_split {label} backend.search: {latency(inside)} | "
                f"the rest of the service: {latency(rest)}",
                flush=True,
            )
            progress(f"  {name} service by class: {by_class(queries, service['times'])}")
            if name != "tantivy":
                continue
            variants = [
                ("raw", True, "same", f"the backend's query, top {TOP} with facets"),
                ("raw_nofacets", False, "same", f"the backend's query, top {TOP} with the count only"),
                ("raw_plain", True, "plain", f"a plain boolean of every term, top {TOP} with facets"),
            ]
            for kind, facets, mode, description in variants:
                progress(f"tantivy: the same queries as raw tantivy calls: {description}")
                raw = in_child(step_raw, queries, args.rounds, facets, mode)
                if failed(f"search.query.tantivy.{kind}", raw):
                    return 1
                differ = [i for i in range(len(queries)) if raw["tops"][str(i)] != service["tops"][str(i)]]
                same = len(queries) - len(differ)
                for i in differ[:5]:
                    progress(
                        f"  top {TOP} differs for {queries[i][1][:40]!r} {queries[i][2]}: "
                        f"service {service['tops'][str(i)][:5]}… raw {raw['tops'][str(i)][:5]}…"
                    )
                print(
                    f"search.query.tantivy.{kind} {label} queries={len(queries)}x{args.rounds} "
                    f"{latency(flatten(raw['times']))} ({description}; same top {TOP} as the service: "
                    f"{same}/{len(queries)})",
                    flush=True,
                )
        like_queries = [q for q in queries if q[1].split()]
        sampled = ""
        if args.like_sample and len(like_queries) > args.like_sample:
            step = len(like_queries) / args.like_sample
            like_queries = [like_queries[int(i * step)] for i in range(args.like_sample)]
            sampled = f" (a fixed sample of {args.like_sample} of the queries, --like-sample)"
        rounds = 1 if args.products > args.like_all else args.rounds
        progress(f"like: {len(like_queries)} queries, {rounds} round(s)")
        like = in_child(step_like, like_queries, rounds)
        if failed("search.query.like", like):
            return 1
        op = "ILIKE" if args.postgres else "LIKE"
        print(
            f"search.query.like.{engine.lower()} {label} queries={len(like_queries)}x{rounds} "
            f"{latency(flatten(like['times']))} ({op} '%…%' over name, model, description; all matches fetched, "
            f"no facets){sampled}",
            flush=True,
        )
        if "tantivy" in figures:
            print(f"search.machine cores={os.cpu_count()} loadavg={load_average()} (at the end)", flush=True)
            where = f"at {args.products:,} products" + (
                "" if args.products >= AIM_PRODUCTS else f" (the aim is for {AIM_PRODUCTS:,})"
            )
            met = figures["tantivy"] <= AIM_P95_MS
            print(
                f"search.aim service p95 ≤ {AIM_P95_MS:.0f} ms with Tantivy {where}, {os.cpu_count()} cores: "
                f"{'yes' if met else 'no'} (p95={figures['tantivy']:.1f}ms)",
                flush=True,
            )
        close_connections()
    return 0


def main() -> int:
    args = parse_args()
    sys.path.insert(0, str(REPO / "src"))
    if args.postgres and not os.environ.get(INNER):
        return run_under_postgres()
    if args.postgres and not os.environ.get("DATABASE_URL"):
        print("search bench: --postgres needs tools/with_postgres.py (DATABASE_URL is not set)", file=sys.stderr)
        return 2
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
