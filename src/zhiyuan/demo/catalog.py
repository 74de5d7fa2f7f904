"""Demo products and chain maps (loaded by `zhiyuan demo` after the projects): the named firms' products
as the source describes them, 3–8 generated products for every other operating demo firm (from the
templates of its industry line, demo/products.py), the input needs of a few firms, then the chains —
the rules' suggested mappings, some of them confirmed with the key firms marked, and outside target
firms on gaps, one of them already turned into an investment lead. Finally the search index is rebuilt,
so the search page works at once.

Everything goes through the services as the system (actor None): each product is validated, audited
and appended to the index's change log. Idempotent: when demo products exist, nothing is written.
"""

from __future__ import annotations

import random
from typing import TextIO

from django.utils.translation import gettext as _

from zhiyuan.catalog.indexing import rebuild
from zhiyuan.catalog.models import Certification, Product
from zhiyuan.catalog.services import product_create, supply_need_add
from zhiyuan.chains.models import MappingStatus, Node, NodeFirm
from zhiyuan.chains.services import (
    node_firm_confirm,
    node_firm_set_key,
    nodes_map_suggest,
    target_create,
    target_to_lead,
)
from zhiyuan.demo.data import SEED, named_firms
from zhiyuan.demo.products import CERTIFICATIONS, NAMED_PRODUCTS, NAMED_SUPPLY_NEEDS, RAIL_NEEDS, products_for_line
from zhiyuan.enterprises.models import Chain, Enterprise, Status

# Print a progress line after every this many firms.
PROGRESS_EVERY = 50

# Mappings confirmed and marked as key firms: (firm's registered name, node name).
KEY_FIRMS = [
    ("株洲硬质合金集团有限公司", "硬质合金棒材/刀片"),
    ("株洲硬质合金集团有限公司", "数控刀具"),
    ("株洲飞鹿高新材料技术股份有限公司", "工业涂料"),
    ("株洲喜德盛碳纤维科技有限公司", "碳纤维运动器材"),
    ("汉德车桥(株洲)齿轮有限公司", "齿轮/齿轮箱"),
    ("汉德车桥(株洲)齿轮有限公司", "车桥/轮对"),
    ("株洲宏远机械有限公司", "转向架"),
    ("湖南建工集团株洲装配式建筑有限公司", "预制混凝土构件"),
    ("株洲中天杭萧钢构科技有限公司", "钢结构构件"),
]
# How many further suggested mappings of generated firms are confirmed per node (the first by firm name).
CONFIRMED_PER_NODE = 1

# Outside firms targeted at gaps: (node, name, location, main products, why). The first becomes a lead.
TARGETS = [
    (
        "原丝",
        "吉林化纤集团有限责任公司",
        "吉林省吉林市",
        "聚丙烯腈(PAN)碳纤维原丝、碳纤维、粘胶长丝",
        "本地碳纤维链只有下游的车架和复合材料制品，原丝和碳纤维全部外购；喜德盛年需T700/T800预浸料数百吨，"
        "引进原丝和碳化产能可补齐上游。",
    ),
    (
        "功率半导体",
        "斯达半导体股份有限公司",
        "浙江省嘉兴市",
        "IGBT模块、车规级功率模块、SiC模块",
        "牵引变流器和永磁牵引电机的核心器件，本地只有散热器、电容等配套，缺少IGBT模块封装和测试。",
    ),
    (
        "原丝",
        "中复神鹰碳纤维股份有限公司",
        "江苏省连云港市",
        "干喷湿纺T700/T800/T1000级碳纤维",
        "国内干喷湿纺碳纤维的龙头，正在中西部布局产能，可与本地碳纤维制品企业形成上下游。",
    ),
    (
        "铝型材",
        "山东丛林集团有限公司",
        "山东省龙口市",
        "轨道交通车体大型铝合金型材、铝合金车体部件",
        "机车和城轨车体所用大断面铝型材目前从山东、辽宁运入，就近设厂可服务本地整车厂。",
    ),
    (
        "体外诊断",
        "圣湘生物科技股份有限公司",
        "湖南省长沙市",
        "核酸检测试剂、分子诊断仪器",
        "医学健康链缺少体外诊断环节；省内龙头，可对接医学健康产业园的生产基地需求。",
    ),
]


def _say(stdout: TextIO | None, text: str) -> None:
    if stdout is not None:
        stdout.write(text + "\n")


def _certifications() -> int:
    """The certifications the demo products hold (most are seeded by the catalog's migration)."""
    created = 0
    for order, name in enumerate(CERTIFICATIONS, start=50):
        _certification, was_created = Certification.objects.get_or_create(name=name, defaults={"order": order})
        created += was_created
    return created


def _products(summary: dict, stdout: TextIO | None) -> None:
    named = {firm.name for firm in named_firms()}
    firms = list(
        Enterprise.objects.filter(is_demo=True, status=Status.OPERATING).select_related("industry").order_by("pk")
    )
    for index, firm in enumerate(firms, start=1):
        if firm.name in named:
            items = NAMED_PRODUCTS.get(firm.name, [])
        else:
            # Seeded by the firm's USCC, so a firm's products do not depend on which other firms exist.
            rng = random.Random(f"{SEED}-products-{firm.uscc}")
            items = products_for_line(firm.industry_id, rng, rng.randint(3, 8), firm=firm.short_name or firm.name)
        for data in items:
            product_create(actor=None, enterprise=firm, data=data, is_demo=True)
            summary["products"] += 1
        summary["firms"] += bool(items)
        if index % PROGRESS_EVERY == 0 or index == len(firms):
            _say(stdout, _("Products: %(done)s of %(total)s firms") % {"done": index, "total": len(firms)})


def _supply_needs(summary: dict) -> None:
    for name, needs in NAMED_SUPPLY_NEEDS.items():
        firm = Enterprise.objects.filter(name=name, is_demo=True).first()
        if firm is None:
            continue
        for item, note in needs:
            supply_need_add(actor=None, enterprise=firm, item=item, note=note)
            summary["needs"] += 1
    named = {firm.name for firm in named_firms()}
    rng = random.Random(f"{SEED}-needs")
    rail = Enterprise.objects.filter(is_demo=True, status=Status.OPERATING, chain=Chain.RAIL).order_by("pk")
    for firm in rail:
        if firm.name in named or rng.random() >= 0.4:
            continue
        for item, note in rng.sample(RAIL_NEEDS, rng.randint(1, 3)):
            supply_need_add(actor=None, enterprise=firm, item=item, note=note)
            summary["needs"] += 1


def _chains(summary: dict) -> None:
    """The rules' suggestions, the key firms confirmed (with a few more confirmations per node), the
    targets at gaps and one target turned into a lead."""
    if not Node.objects.exists():
        return
    summary["suggestions"] = nodes_map_suggest(actor=None)
    nodes = {node.name: node for node in Node.objects.all()}
    for firm_name, node_name in KEY_FIRMS:
        node = nodes.get(node_name)
        mapping = NodeFirm.objects.filter(node=node, enterprise__name=firm_name).first() if node else None
        if mapping is not None and mapping.status != MappingStatus.REJECTED:
            node_firm_set_key(actor=None, node_firm=mapping, is_key=True)
            summary["key_firms"] += 1
    for node in nodes.values():
        suggested = NodeFirm.objects.filter(node=node, status=MappingStatus.SUGGESTED).order_by("enterprise__name")
        for mapping in suggested[:CONFIRMED_PER_NODE]:
            node_firm_confirm(actor=None, node_firm=mapping)
            summary["confirmed"] += 1
    for index, (node_name, name, location, products, reason) in enumerate(TARGETS):
        node = nodes.get(node_name)
        if node is None:
            continue
        target = target_create(
            actor=None,
            node=node,
            data={"name": name, "location": location, "main_products": products, "reason": reason},
            is_demo=True,
        )
        summary["targets"] += 1
        if index == 0:
            target_to_lead(actor=None, target=target, is_demo=True)
            summary["leads"] += 1


def demo_catalog_load(*, stdout: TextIO | None = None) -> dict:
    """Load the demo products, supply needs and chain maps, then rebuild the search index. Returns a
    summary: loaded (False when demo products already existed: nothing was written), products, firms
    with products, supply needs, chain suggestions, key firms, confirmed mappings, targets, leads,
    and the documents indexed."""
    summary = {
        "loaded": False,
        "products": 0,
        "firms": 0,
        "needs": 0,
        "suggestions": 0,
        "key_firms": 0,
        "confirmed": 0,
        "targets": 0,
        "leads": 0,
        "indexed": 0,
    }
    if Product.objects.filter(is_demo=True).exists():
        return summary
    _certifications()
    _products(summary, stdout)
    _supply_needs(summary)
    _chains(summary)
    _say(stdout, _("Building the product search index …"))
    summary["indexed"] = rebuild()
    summary["loaded"] = True
    return summary
