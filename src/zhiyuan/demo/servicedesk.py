"""Demo service-desk data (企业诉求 and 走访) for `zhiyuan demo`, written through the servicedesk services.

Dating, as for the projects (see projects.py): the source's 2018 is the previous year of the day the
demo is loaded (`today`), its 2019 the current year. The source says the district's 企业服务中心 and
its specialists solved 242 enterprise problems in 2018 — financing, labour, land, approvals,
utilities — replied to every request, and helped firms raise more than 5,000万元 of loans, 瑞美包装
among them. Accordingly:

* The previous year holds 242 requests over the demo firms, every one replied to within its deadline
  (reply rate 100%) and every one resolved (242 problems solved); a few were resolved late, a few
  waited for the firm, a few were reopened by the firm and solved again; most were rated, the rest
  closed unrated. Its 30 financing requests were solved with bank loans totalling 5,000万元, the
  瑞美包装 case (1,000万元 from the 农商行) among them. About 150 visits by the specialists and other
  offices, some of which raised requests.
* The current year up to `today` holds more of the same, and a handful of open requests: some fresh,
  one waiting for the firm, a few past their resolution deadline and one escalated (督办) to the
  district leaders by the escalation sweep; open labour and financing needs (some published to banks).

Steps are taken by the request's specialist (or the system where the request has no person yet); a
firm's own steps (submitting online, adding information, rating, reopening) by the system on its
behalf, so every row is validated and audited like a real one. Deterministic for a given day (one
seeded generator). Idempotent: when demo requests exist, nothing is written.
"""

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import TextIO

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhiyuan.accounts.models import User
from zhiyuan.core.workdays import WorkCalendar
from zhiyuan.demo.data import SEED
from zhiyuan.enterprises.models import Enterprise
from zhiyuan.servicedesk import services
from zhiyuan.servicedesk.models import Category, Channel, ServiceRequest, Visit

SOLVED_LAST_YEAR = 242
LOANS_LAST_YEAR = Decimal("5000")  # 万元: "more than ¥50 million" of loans
RUIMEI = "株洲瑞美包装有限公司"
RUIMEI_LOAN = Decimal("1000")
BANKS = [
    "株洲农村商业银行荷塘支行",
    "中国银行株洲分行",
    "建设银行株洲荷塘支行",
    "长沙银行株洲分行",
    "华融湘江银行株洲分行",
]
# Last year's 242 requests by category (the financing ones carry the 5,000万元 of loans).
LAST_YEAR_MIX = {
    Category.FINANCING: 30,
    Category.LABOUR: 48,
    Category.LAND: 18,
    Category.APPROVAL: 44,
    Category.UTILITIES: 36,
    Category.POLICY: 38,
    Category.DISPUTE: 12,
    Category.OTHER: 16,
}
VISITS_LAST_YEAR = 150
ONLINE_SHARE = 0.45
STAFF_CHANNELS = [Channel.PHONE, Channel.WECHAT, Channel.COUNTER, Channel.VISIT]

SUBJECTS = {
    Category.FINANCING: [
        ("流动资金贷款需求", "原材料价格上涨,流动资金紧张,希望对接银行办理流动资金贷款"),
        ("技改项目贷款", "新上生产线需中长期贷款,请协调银行支持"),
        ("应收账款融资", "下游客户回款周期长,希望办理应收账款质押融资"),
        ("续贷衔接", "贷款即将到期,担心续贷衔接不上,申请转贷应急资金"),
    ],
    Category.LABOUR: [
        ("招聘一线操作工", "订单增加,一线操作工缺口较大"),
        ("技术工人招聘", "新产线投产需熟练技术工人"),
        ("校企合作用工", "希望与职业院校开展订单式培养"),
    ],
    Category.LAND: [
        ("扩建用地需求", "计划扩建厂房,需新增工业用地"),
        ("土地证办理", "厂区土地证办理遇到历史遗留问题"),
    ],
    Category.APPROVAL: [
        ("环评审批咨询", "技改项目环评审批流程咨询"),
        ("施工许可办理", "新建厂房施工许可办理进度慢"),
        ("消防验收", "厂房消防验收材料准备咨询"),
        ("项目备案", "技改项目备案手续办理"),
    ],
    Category.UTILITIES: [
        ("电力增容", "新增设备需电力增容"),
        ("供水管网接入", "新厂区供水管网尚未接入"),
        ("天然气开户", "生产线改用天然气,需办理开户和管道接入"),
        ("厂区停电频繁", "近期厂区停电频繁,影响生产"),
    ],
    Category.POLICY: [
        ("高企认定政策咨询", "咨询高新技术企业认定条件和申报时间"),
        ("技改补贴申报", "咨询工业技改补贴申报条件"),
        ("稳岗补贴", "咨询稳岗返还政策及办理流程"),
        ("研发费用加计扣除", "咨询研发费用加计扣除政策"),
    ],
    Category.DISPUTE: [
        ("周边道路施工影响运输", "周边道路施工,货车进出困难"),
        ("与相邻企业排水纠纷", "与相邻企业因排水问题产生纠纷"),
    ],
    Category.OTHER: [
        ("员工子女入学", "外地员工子女入学问题"),
        ("公交线路调整", "希望增开园区公交线路方便员工通勤"),
    ],
}
RESOLUTIONS = {
    Category.LABOUR: "联合区人社局举办专场招聘会,企业招到{n}人",
    Category.LAND: "协调区自然资源分局办理,用地问题已落实",
    Category.APPROVAL: "协调审批窗口开通绿色通道,已办结",
    Category.UTILITIES: "协调供电(水、气)公司现场办理,已解决",
    Category.POLICY: "已上门解读政策并指导企业完成申报",
    Category.DISPUTE: "组织相关方现场协调,达成一致",
    Category.OTHER: "协调相关部门办理,已解决",
}
SKILLS = ["数控车床", "焊接", "电工", "叉车", "质检", "普工", "机修", "注塑"]
FINDINGS = [
    "生产经营正常,订单饱满,反映用工紧张",
    "企业计划扩产,咨询用地和技改政策",
    "了解企业一季度生产情况,宣讲惠企政策",
    "企业反映流动资金偏紧",
    "走访了解项目建设进度,无其他诉求",
    "企业反映电力容量不足,影响新设备调试",
]
OTHER_OFFICE_VISITORS = ["zhaoshang", "xiangmu"]


@dataclass
class ServicedeskReport:
    """What a run of `demo_servicedesk_load` did."""

    loaded: bool = True
    requests_created: int = 0
    visits_created: int = 0
    escalated: int = 0


class _Loader:
    """Writes the demo through the services; all randomness from one seeded generator."""

    def __init__(self, today: dt.date):
        self.today = today
        self.year = today.year
        self.rng = random.Random(f"{SEED}-servicedesk-{today.isoformat()}")
        self.calendar = WorkCalendar()
        self.firms = list(
            Enterprise.objects.filter(is_demo=True, specialist__isnull=False)
            .select_related("specialist__organisation")
            .order_by("pk")
        )
        self.ruimei = Enterprise.objects.filter(name=RUIMEI).select_related("specialist__organisation").first()
        self.others = list(User.objects.filter(username__in=OTHER_OFFICE_VISITORS, is_active=True).order_by("pk"))
        self.created: list[int] = []
        self.visits: list[int] = []

    # -- dates

    def workday(self, low: dt.date, high: dt.date) -> dt.date:
        """A working day between `low` and `high` (both inclusive), not after today."""
        high = min(high, self.today)
        day = low + dt.timedelta(days=self.rng.randint(0, max((high - low).days, 0)))
        while not self.calendar.is_workday(day) and day < high:
            day += dt.timedelta(days=1)
        return day

    def add(self, day: dt.date, n: int) -> dt.date:
        return min(self.calendar.add(day, n) if n else day, self.today)

    # -- one request's life

    def submit(
        self, firm, category, *, on, financing=None, labour=None, visit=None, share=False, is_complex=None
    ) -> ServiceRequest:
        title, description = self.rng.choice(SUBJECTS[category])
        channel = (
            Channel.VISIT
            if visit
            else (Channel.ONLINE if self.rng.random() < ONLINE_SHARE else self.rng.choice(STAFF_CHANNELS[:3]))
        )
        if category == Category.LABOUR and labour is None and channel == Channel.ONLINE:
            labour = self.labour_need(on)
        if category == Category.FINANCING and financing is None and channel == Channel.ONLINE:
            financing = self.financing_need(self.rng.choice([200, 300, 500, 800]), share=share)
        request = services.request_submit(
            actor=None,
            enterprise=firm,
            category=category,
            title=title,
            description=description,
            channel=channel,
            is_complex=(
                is_complex
                if is_complex is not None
                else category in (Category.LAND, Category.FINANCING) or self.rng.random() < 0.1
            ),
            labour=labour,
            financing=financing,
            visit=visit,
            on=on,
        )
        self.created.append(request.pk)
        return request

    def labour_need(self, on: dt.date) -> dict:
        skills = self.rng.sample(SKILLS, self.rng.choice([1, 1, 2]))
        return {
            "positions": "、".join(f"{skill}工" if skill != "普工" else skill for skill in skills),
            "headcount": self.rng.choice([5, 8, 10, 12, 15, 20, 30, 50]),
            "skills": ", ".join(skills),
            "needed_by": on + dt.timedelta(days=self.rng.randint(20, 60)),
        }

    def financing_need(self, amount, *, share: bool) -> dict:
        return {
            "amount": Decimal(amount),
            "term_months": self.rng.choice([12, 24, 36]),
            "purpose": self.rng.choice(["购买原材料", "设备购置", "技术改造", "补充流动资金"]),
            "collateral": self.rng.choice(["厂房抵押", "设备抵押", "担保公司担保", "应收账款质押", "信用"]),
            "share_with_banks": share,
        }

    def work(
        self,
        request,
        *,
        resolution: str,
        late: bool = False,
        wait: bool = False,
        reopen: bool = False,
        rate: bool = True,
    ) -> ServiceRequest:
        """Sign for, reply (always within the deadline), perhaps ask the firm, resolve (on time or
        late), then rate, or reopen and solve again."""
        actor = request.assignee
        received = request.received_on
        request = services.request_sign_for(actor=actor, request=request, on=self.add(received, self.rng.randint(0, 1)))
        actor = request.assignee
        reply_on = max(request.signed_for_on, self.add(received, self.rng.randint(0, 2)))
        request = services.request_reply(
            actor=actor, request=request, note=_demo_reply(request), on=min(reply_on, request.reply_due)
        )
        last = max(request.first_reply_on, request.signed_for_on)
        if wait:
            asked = self.add(last, 1)
            request = services.request_ask_firm(actor=actor, request=request, note="请补充相关证明材料", on=asked)
            last = self.add(asked, self.rng.randint(1, 3))
            request = services.request_add_information(actor=None, request=request, note="已补充材料", on=last)
        span = self.calendar.between(last, request.resolve_due)
        if late:
            resolve_on = self.add(request.resolve_due, self.rng.randint(1, 4))
        else:
            resolve_on = self.add(last, self.rng.randint(min(1, max(span, 0)), max(span, 0)))
        resolve_on = max(resolve_on, last)
        request = services.request_resolve(actor=actor, request=request, resolution=resolution, on=resolve_on)
        if reopen:
            again = self.add(resolve_on, 1)
            request = services.request_reopen(actor=None, request=request, reason="问题未彻底解决", on=again)
            request = services.request_reply(actor=actor, request=request, note="已再次协调", on=again)
            request = services.request_resolve(
                actor=actor, request=request, resolution=resolution + "(复查后已解决)", on=self.add(again, 2)
            )
        if rate:
            rating = self.rng.choices([5, 4, 3], weights=[70, 25, 5])[0]
            request = services.request_rate(
                actor=None,
                request=request,
                rating=rating,
                comment="" if rating > 3 else "办理时间偏长",
                on=self.add(request.resolved_on, self.rng.randint(0, 2)),
            )
        return request

    def resolution(self, category: str, request: ServiceRequest, loan: Decimal | None = None) -> str:
        if category == Category.FINANCING:
            return f"协调{self.rng.choice(BANKS)}发放贷款{loan}万元"
        return RESOLUTIONS[category].format(n=request.labour_headcount or self.rng.randint(5, 20))

    # -- the years

    def loans(self) -> list[Decimal]:
        """Last year's loans: 瑞美包装's first, the rest adding up to 5,000万元 in all (whole 10万元)."""
        count = LAST_YEAR_MIX[Category.FINANCING] - 1
        weights = [self.rng.uniform(0.5, 2.0) for _ in range(count)]
        rest = LOANS_LAST_YEAR - RUIMEI_LOAN
        amounts = [Decimal(round(float(rest) * w / sum(weights) / 10) * 10) for w in weights]
        amounts[-1] += rest - sum(amounts)
        return [RUIMEI_LOAN, *amounts]

    def last_year(self) -> None:
        jan1, dec = dt.date(self.year - 1, 1, 2), dt.date(self.year - 1, 12, 18)
        categories = [c for c, n in LAST_YEAR_MIX.items() for _ in range(n)]
        self.rng.shuffle(categories)
        loans = iter(self.loans())
        ruimei_done = False
        for index, category in enumerate(categories):
            received = self.workday(jan1, dec)
            firm = self.rng.choice(self.firms)
            loan = None
            if category == Category.FINANCING:
                loan = next(loans)
                if not ruimei_done and self.ruimei is not None:
                    firm, ruimei_done = self.ruimei, True
                    received = self.workday(dt.date(self.year - 1, 4, 8), dt.date(self.year - 1, 4, 20))
                    request = services.request_submit(
                        actor=None,
                        enterprise=firm,
                        category=category,
                        title="扩产流动资金贷款",
                        description="瑞美包装新增纸箱生产线投产,原材料采购资金缺口约1000万元,抵押物不足,请协调银行支持",
                        channel=Channel.ONLINE,
                        is_complex=True,
                        financing=self.financing_need(RUIMEI_LOAN, share=True)
                        | {"collateral": "厂房抵押及担保公司担保"},
                        on=received,
                    )
                    self.created.append(request.pk)
                    self.work(
                        request,
                        resolution="协调株洲农村商业银行荷塘支行与区担保公司,发放流动资金贷款1000万元",
                        wait=True,
                    )
                    continue
                request = self.submit(
                    firm, category, on=received, financing=self.financing_need(loan, share=self.rng.random() < 0.5)
                )
            elif index % 10 == 2:
                # Raised on a specialist's visit: the visit first, then the request from its findings.
                visit = self.visit(firm, firm.specialist, received)
                request = self.submit(firm, category, on=received, visit=visit)
            else:
                request = self.submit(firm, category, on=received)
            self.work(
                request,
                resolution=self.resolution(category, request, loan),
                late=index % 13 == 5,
                wait=index % 17 == 3,
                reopen=index % 29 == 7,
                rate=index % 6 != 0,
            )

    def visit(self, firm, visitor, day: dt.date) -> Visit:
        visit = services.visit_log(
            actor=visitor,
            enterprise=firm,
            visited_on=day,
            people_met=self.rng.choice(["总经理", "生产副总", "财务总监", "行政人事经理"]),
            findings=self.rng.choice(FINDINGS),
        )
        self.visits.append(visit.pk)
        return visit

    def visits_in(self, first: dt.date, last: dt.date, count: int, *, raise_every: int = 0) -> None:
        """`count` visits by the firms' specialists and, now and then, another office; every
        `raise_every`-th raises a request that is then solved (0: none does)."""
        for index in range(count):
            firm = self.rng.choice(self.firms)
            visitor = firm.specialist if not self.others or self.rng.random() < 0.8 else self.rng.choice(self.others)
            day = self.workday(first, last)
            visit = self.visit(firm, visitor, day)
            if raise_every and index % raise_every == 0 and day < last:
                category = self.rng.choice([Category.LABOUR, Category.UTILITIES, Category.POLICY])
                request = self.submit(firm, category, on=day, visit=visit)
                self.work(request, resolution=self.resolution(category, request), rate=index % 2 == 0)

    def this_year(self) -> None:
        jan1 = dt.date(self.year, 1, 2)
        # Solved so far this year, spread up to a month ago.
        solved_until = self.today - dt.timedelta(days=30)
        count = int(SOLVED_LAST_YEAR * max((solved_until - jan1).days, 0) / 365)
        for index in range(count):
            category = self.rng.choice(list(LAST_YEAR_MIX))
            received = self.workday(jan1, solved_until)
            loan = Decimal(self.rng.choice([100, 200, 300, 500])) if category == Category.FINANCING else None
            request = self.submit(
                self.rng.choice(self.firms),
                category,
                on=received,
                financing=self.financing_need(loan, share=False) if loan else None,
            )
            self.work(
                request,
                resolution=self.resolution(category, request, loan),
                late=index % 11 == 4,
                reopen=index % 31 == 9,
                rate=index % 5 != 0,
            )

    def open_requests(self) -> int:
        """One request escalated to the leaders (swept now), then a few overdue and fresh ones."""
        firms = self.rng.sample(self.firms, 12)
        old = self.calendar.add(self.today, -25)
        escalated = self.submit(firms[0], Category.LAND, on=old, is_complex=True)
        escalated = services.request_sign_for(actor=escalated.assignee, request=escalated, on=old)
        services.request_reply(
            actor=escalated.assignee, request=escalated, note="已转自然资源分局研究", on=self.add(old, 1)
        )
        services.escalations_run(today=self.today)
        # Past the resolution deadline, not yet swept (the daily sweep escalates them tomorrow).
        for firm, category in zip(firms[1:4], [Category.APPROVAL, Category.UTILITIES, Category.DISPUTE], strict=True):
            received = self.calendar.add(self.today, -self.rng.randint(7, 9))
            request = self.submit(firm, category, on=received, is_complex=False)
            request = services.request_sign_for(actor=request.assignee, request=request, on=received)
            services.request_reply(actor=request.assignee, request=request, note="正在协调相关部门", on=received)
        # Waiting for the firm.
        received = self.calendar.add(self.today, -3)
        waiting = self.submit(firms[4], Category.POLICY, on=received)
        waiting = services.request_sign_for(actor=waiting.assignee, request=waiting, on=received)
        services.request_ask_firm(actor=waiting.assignee, request=waiting, note="请提供近两年财务报表", on=received)
        # Open labour and financing needs, some published to banks; fresh requests in the queue.
        recent = self.calendar.add(self.today, -2)
        for firm in firms[5:8]:
            self.submit_online(firm, Category.LABOUR, on=recent, labour=self.labour_need(recent))
        for firm, amount, share in zip(firms[8:11], [600, 1200, 300], [True, True, False], strict=True):
            self.submit_online(firm, Category.FINANCING, on=recent, financing=self.financing_need(amount, share=share))
        self.submit_online(firms[11], Category.APPROVAL, on=self.today)
        return ServiceRequest.objects.filter(pk__in=self.created, escalation_level__gt=0).count()

    def submit_online(self, firm, category, *, on, labour=None, financing=None) -> ServiceRequest:
        title, description = self.rng.choice(SUBJECTS[category])
        request = services.request_submit(
            actor=None,
            enterprise=firm,
            category=category,
            title=title,
            description=description,
            channel=Channel.ONLINE,
            labour=labour,
            financing=financing,
            on=on,
        )
        self.created.append(request.pk)
        return request


def demo_servicedesk_load(*, today: dt.date | None = None, stdout: TextIO | None = None) -> ServicedeskReport:
    """Load a year and a bit of service-desk history (see the module docstring). Needs the demo firms,
    specialists and personas (`demo_load` creates them first). Nothing is written when demo requests
    already exist."""
    today = today or timezone.localdate()
    report = ServicedeskReport()
    if ServiceRequest.objects.filter(is_demo=True).exists():
        report.loaded = False
        return report
    loader = _Loader(today)
    if not loader.firms:
        report.loaded = False
        return report
    with transaction.atomic():
        loader.last_year()
        loader.visits_in(dt.date(today.year - 1, 1, 2), dt.date(today.year - 1, 12, 31), VISITS_LAST_YEAR)
        loader.this_year()
        loader.visits_in(
            dt.date(today.year, 1, 2), today, VISITS_LAST_YEAR * today.timetuple().tm_yday // 365, raise_every=12
        )
        services.request_close_unrated(today=today)
        report.escalated = loader.open_requests()
        ServiceRequest.objects.filter(pk__in=loader.created).update(is_demo=True)
        Visit.objects.filter(pk__in=loader.visits).update(is_demo=True)
    report.requests_created, report.visits_created = len(loader.created), len(loader.visits)
    if stdout is not None:
        stdout.write(
            _("Service desk: %(requests)s requests, %(visits)s visits")
            % {"requests": report.requests_created, "visits": report.visits_created}
            + "\n"
        )
    return report


def _demo_reply(request: ServiceRequest) -> str:
    return "已收到诉求,正在协调办理" if request.channel == Channel.ONLINE else "已登记,专员正在跟进"
