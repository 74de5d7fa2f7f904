"""Demo financing (loaded by `zhiyuan demo` after the credit scores exist): loan products of two
banks, and the banks' offers on the financing needs the demo firms published — some open, some
accepted, a few loans granted — so the financing pages and the "financing facilitated" figure show
real output. Everything goes through `credit.services`, as a bank user would do it.

Products are demo data (`is_demo`); the second bank is a demo organisation with one demo login
(`bank2`, the shared demo password).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from zhiyuan.accounts.models import Organisation, OrganisationKind, Role, User
from zhiyuan.accounts.personas import BANK_ORG
from zhiyuan.credit import services
from zhiyuan.credit.models import FinancingOffer, LoanProduct, OfferStatus
from zhiyuan.demo.data import DEMO_PASSWORD
from zhiyuan.servicedesk.selectors import financing_needs_for_bank

SECOND_BANK = "中国建设银行株洲荷塘支行"

# (bank, name, description, amount min/max (万元), term min/max (months), rate band (%), lowest grade, 门类, collateral)
PRODUCTS = [
    (BANK_ORG, "园区贷", "面向园区规上工业企业的流动资金贷款", 50, 1000, 6, 36, "3.85", "5.20", "BBB", ["C"], False),
    (BANK_ORG, "科创积分贷", "高新技术、专精特新企业信用贷款", 20, 500, 6, 24, "3.45", "4.80", "A", [], False),
    (BANK_ORG, "设备按揭贷", "设备购置、技术改造，设备抵押", 100, 2000, 12, 60, "4.10", "5.60", "BB", ["C"], True),
    (SECOND_BANK, "善新贷", "小微企业纯信用贷款，线上审批", 10, 300, 3, 12, "3.95", "6.00", "BB", [], False),
    (SECOND_BANK, "税易贷", "按纳税信用等级授信，A/B级纳税人优先", 10, 500, 6, 36, "3.70", "5.50", "BBB", [], False),
    (SECOND_BANK, "厂房抵押贷", "以自有厂房抵押的中长期贷款", 200, 3000, 12, 84, "4.00", "5.20", "B", ["C", "F"], True),
]


@dataclass
class FinancingReport:
    products: int = 0
    offers: int = 0
    granted: int = 0
    granted_amount: Decimal = Decimal("0")


def _bank_user(org_name: str, username: str) -> User:
    organisation, _created = Organisation.objects.get_or_create(name=org_name, defaults={"kind": OrganisationKind.BANK})
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(
            username=username,
            password=DEMO_PASSWORD,
            role=Role.BANK,
            organisation=organisation,
            last_name="周",
            first_name="客户经理",
        )
    return user


NEEDS = [
    ("流动资金周转", "购买原材料", 200, 12, "应收账款质押"),
    ("新产线设备购置", "设备购置", 800, 36, "设备抵押"),
    ("技术改造项目贷款", "技术改造", 500, 24, "厂房抵押"),
    ("订单融资", "补充流动资金", 100, 6, "信用"),
    ("研发投入资金", "技术改造", 300, 24, "担保公司担保"),
    ("扩建仓储", "设备购置", 150, 12, "厂房抵押"),
]


def _publish_needs(rng: random.Random) -> None:
    """Published financing needs (融资诉求 shared with banks) for some demo firms, registered by the
    service centre on the firms' behalf, plus one by firm B itself so its login sees offers."""
    from zhiyuan.enterprises.models import Enterprise
    from zhiyuan.servicedesk.models import Category, Channel
    from zhiyuan.servicedesk.services import request_submit

    staff = User.objects.filter(username="fuwu").first()
    firms = list(Enterprise.objects.filter(is_demo=True).order_by("pk")[20:200])
    rng.shuffle(firms)
    for (title, purpose, amount, term, collateral), firm in zip(NEEDS, firms, strict=False):
        request_submit(
            actor=staff,
            enterprise=firm,
            category=Category.FINANCING,
            title=title,
            description=f"{firm.name}：{title}，{amount}万元，{term}个月。",
            channel=Channel.PHONE,
            is_complex=True,
            financing={
                "amount": Decimal(amount),
                "term_months": term,
                "purpose": purpose,
                "collateral": collateral,
                "share_with_banks": True,
            },
        )
    firm_b_user = User.objects.filter(username="firm_b").first()
    if firm_b_user is not None and firm_b_user.enterprise_id:
        request_submit(
            actor=firm_b_user,
            enterprise=firm_b_user.organisation.enterprise,
            category=Category.FINANCING,
            title="轨道交通涂料扩产融资",
            description="扩建水性涂料生产线，申请中长期贷款。",
            financing={
                "amount": Decimal(600),
                "term_months": 36,
                "purpose": "设备购置",
                "collateral": "厂房抵押",
                "share_with_banks": True,
            },
        )


def demo_financing_load(*, seed: int = 2019) -> FinancingReport:
    """Products for two banks and offers on the published demo financing needs. Idempotent: does
    nothing when demo products already exist."""
    report = FinancingReport()
    if LoanProduct.objects.filter(is_demo=True).exists():
        return report
    rng = random.Random(seed)
    banks = {BANK_ORG: _bank_user(BANK_ORG, "bank"), SECOND_BANK: _bank_user(SECOND_BANK, "bank2")}
    products: dict[str, list[LoanProduct]] = {name: [] for name in banks}
    for bank, name, text, a_min, a_max, t_min, t_max, r_min, r_max, grade, sections, collateral in PRODUCTS:
        product = services.product_create(
            actor=banks[bank],
            data={
                "name": name,
                "description": text,
                "amount_min": a_min,
                "amount_max": a_max,
                "term_min_months": t_min,
                "term_max_months": t_max,
                "rate_min": r_min,
                "rate_max": r_max,
                "min_grade": grade,
                "industry_sections": sections,
                "collateral_required": collateral,
            },
        )
        LoanProduct.objects.filter(pk=product.pk).update(is_demo=True)
        products[bank].append(product)
        report.products += 1

    today = timezone.localdate()
    _publish_needs(rng)
    needs = list(financing_needs_for_bank(banks[BANK_ORG]).select_related("enterprise"))
    rng.shuffle(needs)
    for index, need in enumerate(needs[: max(1, len(needs) * 3 // 4)]):
        bank = BANK_ORG if index % 3 else SECOND_BANK
        user = banks[bank]
        product = products[bank][index % len(products[bank])]
        amount = need.financing_amount or Decimal(rng.choice([50, 100, 200, 300]))
        offer = services.offer_create(
            actor=user,
            need=need,
            product=product,
            amount=amount,
            term_months=need.financing_term_months or 12,
            rate=product.rate_min + Decimal(rng.choice(["0", "0.2", "0.35", "0.5"])),
            message="可安排客户经理上门对接。",
        )
        FinancingOffer.objects.filter(pk=offer.pk).update(is_demo=True)
        report.offers += 1
        if index % 4 == 3:
            continue  # left open for the firm to answer
        firm_user = User.objects.filter(organisation__enterprise=need.enterprise, is_active=True).first()
        if firm_user is not None:
            offer = services.offer_accept(actor=firm_user, offer=offer)
        else:
            # Most demo firms have no login: they accepted at the bank's counter.
            FinancingOffer.objects.filter(pk=offer.pk).update(status=OfferStatus.ACCEPTED)
            offer.refresh_from_db()
        if index % 2 == 0:
            granted_on = today - dt.timedelta(days=rng.randint(3, 60))
            services.offer_record_outcome(actor=user, offer=offer, granted=True, amount=amount, granted_on=granted_on)
            report.granted += 1
            report.granted_amount += Decimal(amount)
    return report
