"""Enterprise size class (大/中/小/微) per 工信部联企业〔2011〕300号 《中小企业划型标准规定》.

Each industry line of the standard names one or two measures — staff (从业人员 X, persons),
revenue (营业收入 Y, 万元), total assets (资产总额 Z, 万元) — and the lower bound of each measure
for large, medium and small firms. A firm must reach *every* listed lower bound of a class to be
in it, otherwise it drops one class (下划一档); what reaches no class is micro. The industry lines
are mapped to GB/T 4754-2017 codes as in 国家统计局《统计上大中小微型企业划分办法(2017)》.
"""

from dataclasses import dataclass
from decimal import Decimal

from zhiyuan.enterprises.models import SizeClass

STAFF, REVENUE, ASSETS = "staff", "revenue", "total_assets"


@dataclass(frozen=True)
class SizeLine:
    """One industry line of the standard: its measures and each class's lower bounds."""

    key: str
    name: str
    # {class: {measure: lower bound}}, for large, medium and small in that order.
    bounds: dict


def _line(key, name, measures, large, medium, small) -> SizeLine:
    return SizeLine(
        key,
        name,
        {
            SizeClass.LARGE: dict(zip(measures, large, strict=True)),
            SizeClass.MEDIUM: dict(zip(measures, medium, strict=True)),
            SizeClass.SMALL: dict(zip(measures, small, strict=True)),
        },
    )


LINES = {
    line.key: line
    for line in [
        _line("agriculture", "农、林、牧、渔业", [REVENUE], [20000], [500], [50]),
        _line("industry", "工业", [STAFF, REVENUE], [1000, 40000], [300, 2000], [20, 300]),
        _line("construction", "建筑业", [REVENUE, ASSETS], [80000, 80000], [6000, 5000], [300, 300]),
        _line("wholesale", "批发业", [STAFF, REVENUE], [200, 40000], [20, 5000], [5, 1000]),
        _line("retail", "零售业", [STAFF, REVENUE], [300, 20000], [50, 500], [10, 100]),
        _line("transport", "交通运输业", [STAFF, REVENUE], [1000, 30000], [300, 3000], [20, 200]),
        _line("warehousing", "仓储业", [STAFF, REVENUE], [200, 30000], [100, 1000], [20, 100]),
        _line("postal", "邮政业", [STAFF, REVENUE], [1000, 30000], [300, 2000], [20, 100]),
        _line("accommodation", "住宿业", [STAFF, REVENUE], [300, 10000], [100, 2000], [10, 100]),
        _line("catering", "餐饮业", [STAFF, REVENUE], [300, 10000], [100, 2000], [10, 100]),
        _line("telecom", "信息传输业", [STAFF, REVENUE], [2000, 100000], [100, 1000], [10, 100]),
        _line("software", "软件和信息技术服务业", [STAFF, REVENUE], [300, 10000], [100, 1000], [10, 50]),
        _line("real_estate", "房地产开发经营", [REVENUE, ASSETS], [200000, 10000], [1000, 5000], [100, 2000]),
        _line("property", "物业管理", [STAFF, REVENUE], [1000, 5000], [300, 1000], [100, 500]),
        _line("leasing", "租赁和商务服务业", [STAFF, ASSETS], [300, 120000], [100, 8000], [10, 100]),
        _line("other", "其他未列明行业", [STAFF], [300], [100], [10]),
    ]
}

# GB/T 4754-2017 大类 (two digits) or 小类 (four digits) → line key; the longest prefix wins.
_PREFIXES = {
    **{f"{d:02d}": "agriculture" for d in range(1, 5)},  # 01-04; 05 (辅助性活动) is "other"
    **{f"{d:02d}": "industry" for d in range(6, 47)},  # B 采矿业, C 制造业, D 电力热力燃气水
    **{f"{d:02d}": "construction" for d in range(47, 51)},
    "51": "wholesale",
    "52": "retail",
    **{f"{d:02d}": "transport" for d in range(54, 59)},  # 53 铁路运输业 is excluded: "other"
    "59": "warehousing",
    "60": "postal",
    "61": "accommodation",
    "62": "catering",
    "63": "telecom",
    "64": "telecom",
    "65": "software",
    "7010": "real_estate",
    "7020": "property",
    "71": "leasing",
    "72": "leasing",
}


def line_for_industry(code: str) -> SizeLine:
    """The line of the standard that applies to a GB/T 4754-2017 code (大类 or finer)."""
    for length in (4, 2):
        key = _PREFIXES.get(code[:length])
        if key and len(code) >= length:
            return LINES[key]
    return LINES["other"]


def classify(industry_code: str | None, *, staff=None, revenue=None, total_assets=None) -> str:
    """The size class of a firm; UNKNOWN when the industry or a measure its line needs is missing."""
    if not industry_code or len(industry_code) < 2:
        return SizeClass.UNKNOWN
    line = line_for_industry(industry_code)
    values = {STAFF: staff, REVENUE: revenue, ASSETS: total_assets}
    measures = line.bounds[SizeClass.LARGE].keys()
    if any(values[m] is None for m in measures):
        return SizeClass.UNKNOWN
    for size_class in (SizeClass.LARGE, SizeClass.MEDIUM, SizeClass.SMALL):
        if all(Decimal(values[m]) >= bound for m, bound in line.bounds[size_class].items()):
            return size_class
    return SizeClass.MICRO
