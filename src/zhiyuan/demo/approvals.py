"""Demo applications at the one-window approval desk (综合受理前置窗口) for `zhiyuan demo`, written through
the approvals services.

About 25 applications over the nine catalogue items, for demo projects that have an investor enterprise
and a 投资项目代码, in every state the window itself can put them in:

* drafts, most with required materials still missing (the firm sees what it must do next);
* submitted and waiting for the window, three of them received weeks ago so that their five working
  days (行政许可法 §32) have run out: the daily approvals sweep accepts them by law as soon as the
  platform runs; one resubmitted after a correction (补正);
* corrections requested, listing the faulty materials; not accepted (不予受理) with the reason; withdrawn;
* accepted (受理), one of them after a correction: each acceptance wrote its message to the city into the
  outbox, so once `make run` starts the data-link worker and citysim, these move on live —
  received by the city, in review, granted (or returned, or denied).

Firm A's and firm B's own projects apply as those firm users (so their logins see their applications);
the other firms' applications are made at the counter by the window clerk (`chuangkou`) on the firm's
behalf, and every window step is the clerk's. Material files are small generated PDFs named after the
material. Receipt and acceptance dates are replayed a few weekdays in the past (`today=` of the
services); they are counted in plain weekdays, so the demo loads whatever the working-day calendar
covers (a deadline the calendar cannot compute is stored empty, as in real use). Deterministic for a
given day. Idempotent: when demo applications exist, nothing is written.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import TextIO

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhiyuan.accounts.models import Role, User
from zhiyuan.approvals import services
from zhiyuan.approvals.models import Application, ApprovalItem, MaterialRequirement
from zhiyuan.approvals.models import ApplicationStatus as S
from zhiyuan.investments.models import Project, Stage

CLERK_USERNAME = "chuangkou"
FIRM_USERNAMES = ("firm_a", "firm_b")

# Which projects an item suits: early approvals for signed projects in their preliminary work, the
# completion acceptance for projects being built or just completed.
EARLY = "early"
LATE = "late"
POOL_STAGES = {
    EARLY: (Stage.SIGNED, Stage.PREPARING),
    LATE: (Stage.UNDER_CONSTRUCTION, Stage.COMPLETED),
}

# Outcomes of a plan line.
DRAFT = "draft"  # created, some required materials missing (`missing` of them)
SUBMITTED = "submitted"  # complete and submitted `received` weekdays ago
OVERDUE = "overdue"  # submitted so long ago that the window's five working days have run out
RESUBMITTED = "resubmitted"  # corrections requested, corrected and submitted again
CORRECTION = "correction"  # corrections requested, waiting for the firm
REJECTED = "rejected"
WITHDRAWN_DRAFT = "withdrawn_draft"
WITHDRAWN = "withdrawn"  # withdrawn while waiting for the window
ACCEPTED = "accepted"
ACCEPTED_AFTER_CORRECTION = "accepted_after_correction"


@dataclass(frozen=True)
class Plan:
    """One demo application: whose project (firm_a, firm_b, or a pool), which item, where it ends up."""

    project: str
    item: str
    outcome: str
    received: int = 0  # weekdays before the last weekday up to today
    missing: int = 0  # drafts: how many required materials are still missing


PLANS = [
    # Firm A (login firm_a): accepted and on its way to the city, a correction to make, a draft to finish.
    Plan("firm_a", "fire_design_review", ACCEPTED, received=3),
    Plan("firm_a", "energy_review", CORRECTION, received=4),
    Plan("firm_a", "joint_completion_acceptance", DRAFT, missing=2),
    # Firm B (login firm_b): one waiting for the window, one accepted.
    Plan("firm_b", "eia_approval", SUBMITTED, received=1),
    Plan("firm_b", "energy_review", ACCEPTED, received=6),
    # Accepted at the counter: forwarded to the city once the data link runs.
    Plan(EARLY, "project_filing", ACCEPTED, received=2),
    Plan(EARLY, "land_presite", ACCEPTED, received=4),
    Plan(EARLY, "land_planning_permit", ACCEPTED_AFTER_CORRECTION, received=9),
    Plan(EARLY, "works_planning_permit", ACCEPTED, received=5),
    Plan(EARLY, "construction_permit", ACCEPTED, received=2),
    Plan(LATE, "joint_completion_acceptance", ACCEPTED, received=3),
    # Waiting for the window; the first three past the §32 limit.
    Plan(EARLY, "eia_approval", OVERDUE, received=10),
    Plan(EARLY, "construction_permit", OVERDUE, received=12),
    Plan(EARLY, "project_filing", OVERDUE, received=15),
    Plan(EARLY, "works_planning_permit", SUBMITTED, received=0),
    Plan(EARLY, "fire_design_review", RESUBMITTED, received=1),
    # Corrections requested.
    Plan(EARLY, "land_presite", CORRECTION, received=3),
    Plan(EARLY, "eia_approval", CORRECTION, received=2),
    # Drafts.
    Plan(EARLY, "project_filing", DRAFT, missing=2),
    Plan(EARLY, "construction_permit", DRAFT, missing=3),
    Plan(EARLY, "energy_review", DRAFT, missing=1),
    # Not accepted, withdrawn.
    Plan(EARLY, "land_planning_permit", REJECTED, received=6),
    Plan(LATE, "fire_design_review", REJECTED, received=8),
    Plan(EARLY, "works_planning_permit", WITHDRAWN_DRAFT),
    Plan(EARLY, "eia_approval", WITHDRAWN, received=7),
]

PROBLEMS = ["扫描件不清晰,请重新扫描上传", "缺少单位公章", "材料页数不全", "文件内容与项目名称不一致"]
REJECTION_REASONS = [
    "项目尚未取得建设用地规划许可,不符合本事项的受理条件,请先办理建设用地规划许可证",
    "本事项已由市住房和城乡建设局在其他申请中受理,不得重复申请",
]
WITHDRAWAL_REASONS = ["企业调整建设方案,撤回申请", "项目投资计划调整,暂缓办理"]
DESCRIPTIONS = {
    "project_filing": "办理企业投资项目备案",
    "land_presite": "申请建设项目用地预审与选址意见书",
    "land_planning_permit": "申请核发建设用地规划许可证",
    "works_planning_permit": "申请核发建设工程规划许可证",
    "construction_permit": "申请核发建筑工程施工许可证",
    "eia_approval": "报批建设项目环境影响报告表",
    "energy_review": "申请固定资产投资项目节能审查",
    "fire_design_review": "申请建设工程消防设计审查",
    "joint_completion_acceptance": "申请工程竣工联合验收",
}


@dataclass
class ApprovalsReport:
    """What a run of `demo_approvals_load` did."""

    loaded: bool = True
    applications_created: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    forwarded: int = 0  # accepted, with their message to the city in the outbox
    past_window_limit: int = 0  # submitted and past the window's §32 limit: the sweep accepts them


def demo_pdf(title: str, *lines: str) -> bytes:
    """A small, valid one-page PDF: `title` (any script) as its document title and in a comment, the
    ASCII `lines` printed on the page."""

    def text(value: str) -> str:
        return value.encode("ascii", "replace").decode().replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    stream = "BT /F1 14 Tf 72 770 Td 18 TL " + " ".join(f"({text(line)}) '" for line in lines) + " ET"
    title_hex = (b"\xfe\xff" + title.encode("utf-16-be")).hex().upper()
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Title <{title_hex}> /Producer (Zhiyuan demo) >>",
    ]
    out = bytearray(b"%PDF-1.4\n% " + title.encode("utf-8") + b"\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("ascii")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("ascii")
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode("ascii")
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode("ascii")
    return bytes(out)


def weekdays_before(day: dt.date, n: int) -> dt.date:
    """The n-th weekday (Monday to Friday) before the last weekday up to `day` (n=0: that weekday)."""
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    while n > 0:
        day -= dt.timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


class _Loader:
    """Writes the plan through the approvals services."""

    def __init__(self, today: dt.date):
        self.today = today
        self.clerk = User.objects.filter(username=CLERK_USERNAME, role=Role.WINDOW_CLERK, is_active=True).first()
        self.items = {item.code: item for item in ApprovalItem.objects.filter(is_active=True)}
        coded = (
            Project.objects.filter(is_demo=True, enterprise__isnull=False, code__isnull=False)
            .exclude(code="")
            .select_related("enterprise")
            .order_by("pk")
        )
        self.firm_users: dict[str, User] = {}
        self.firm_projects: dict[str, Project] = {}
        for username in FIRM_USERNAMES:
            user = User.objects.filter(username=username, role=Role.ENTERPRISE, is_active=True).first()
            enterprise_id = user.enterprise_id if user else None
            project = coded.filter(enterprise_id=enterprise_id).first() if enterprise_id else None
            if project is not None:
                self.firm_users[username] = user
                self.firm_projects[username] = project
        taken = {project.pk for project in self.firm_projects.values()}
        self.pools = {
            pool: [p for p in coded.filter(stage__in=stages) if p.pk not in taken]
            for pool, stages in POOL_STAGES.items()
        }
        # Any coded project will do when a pool runs short (a demo loaded with few firms).
        self.spare = [p for p in coded if p.pk not in taken]
        self.used: set[tuple[int, int]] = set()
        self.turn = dict.fromkeys(self.pools, 0)
        self.created: list[Application] = []

    # -- choosing

    def project_for(self, plan: Plan, item: ApprovalItem) -> tuple[Project, User | None] | None:
        """The project a plan line applies for and who acts as the applicant (None when none is left)."""
        if plan.project in FIRM_USERNAMES:
            project = self.firm_projects.get(plan.project)
            if project is not None and (project.pk, item.pk) not in self.used:
                return project, self.firm_users[plan.project]
            plan_pool = EARLY
        else:
            plan_pool = plan.project
        candidates = self.pools[plan_pool] + self.spare
        for offset in range(len(candidates)):
            index = (self.turn[plan_pool] + offset) % len(candidates)
            project = candidates[index]
            if (project.pk, item.pk) not in self.used:
                self.turn[plan_pool] = index + 1
                return project, self.clerk
        return None

    # -- steps

    def upload(self, application: Application, requirement: MaterialRequirement, applicant: User | None,
               *, corrected: bool = False) -> None:
        title = f"{requirement.name}(补正)" if corrected else requirement.name
        content = demo_pdf(
            title,
            "Zhiyuan demo material",
            f"Application {application.number}",
            f"Project code {application.project_code}",
            f"Requirement #{requirement.pk}" + (" (corrected)" if corrected else ""),
        )
        upload = SimpleUploadedFile(f"{requirement.name}.pdf", content, content_type="application/pdf")
        services.material_add(actor=applicant, application=application, requirement=requirement, uploaded_file=upload)

    def correct(self, application: Application, index: int) -> Application:
        """The clerk asks for corrections of one or two materials."""
        required = [r for r in application.item.materials.all() if r.required]
        faulty = required[index % len(required):][:2]
        items = [
            {"requirement": requirement.pk, "problem": PROBLEMS[(index + n) % len(PROBLEMS)]}
            for n, requirement in enumerate(faulty)
        ]
        return services.application_request_correction(
            actor=self.clerk, application=application, items=items,
            note="请按补正告知书要求补齐材料后重新提交",
        )

    def resubmit(self, application: Application, applicant: User | None, on: dt.date) -> Application:
        for entry in application.correction_items:
            requirement = application.item.materials.get(pk=entry["requirement"])
            self.upload(application, requirement, applicant, corrected=True)
        return services.application_submit(actor=applicant, application=application, today=on)

    def apply(self, index: int, plan: Plan) -> Application | None:
        item = self.items.get(plan.item)
        if item is None:
            return None
        chosen = self.project_for(plan, item)
        if chosen is None:
            return None
        project, applicant = chosen
        self.used.add((project.pk, item.pk))
        enterprise = project.enterprise
        application = services.application_create(
            actor=applicant,
            item=item,
            project=project,
            contact_name=enterprise.contact_name or "王经理",
            contact_phone=enterprise.contact_phone or "0731-28680000",
            description=f"{project.name}{DESCRIPTIONS.get(item.code, item.name)}",
            is_demo=True,
        )
        required = [r for r in item.materials.all() if r.required]
        optional = [r for r in item.materials.all() if not r.required]
        if plan.outcome in (DRAFT, WITHDRAWN_DRAFT):
            keep = len(required) - (plan.missing or len(required) // 2)
            for requirement in required[: max(keep, 0)]:
                self.upload(application, requirement, applicant)
            if plan.outcome == WITHDRAWN_DRAFT:
                application = services.application_withdraw(
                    actor=applicant, application=application, reason=WITHDRAWAL_REASONS[index % 2]
                )
            return application

        for requirement in required + optional[: index % 2]:
            self.upload(application, requirement, applicant)
        received = weekdays_before(self.today, plan.received)
        if plan.outcome in (RESUBMITTED, ACCEPTED_AFTER_CORRECTION):
            first = weekdays_before(self.today, plan.received + 3)
            application = services.application_submit(actor=applicant, application=application, today=first)
            application = self.correct(application, index)
            application = self.resubmit(application, applicant, received)
        else:
            application = services.application_submit(actor=applicant, application=application, today=received)

        if plan.outcome == CORRECTION:
            application = self.correct(application, index)
        elif plan.outcome == REJECTED:
            application = services.application_reject(
                actor=self.clerk, application=application, reason=REJECTION_REASONS[index % 2]
            )
        elif plan.outcome == WITHDRAWN:
            application = services.application_withdraw(
                actor=applicant, application=application, reason=WITHDRAWAL_REASONS[index % 2]
            )
        elif plan.outcome in (ACCEPTED, ACCEPTED_AFTER_CORRECTION):
            accepted_on = weekdays_before(self.today, max(plan.received - 1, 0))
            application = services.application_accept(
                actor=self.clerk, application=application, today=accepted_on,
                note="材料齐全,符合法定形式,予以受理",
            )
        return application


def demo_approvals_load(*, today: dt.date | None = None, stdout: TextIO | None = None) -> ApprovalsReport:
    """Load the demo applications (see the module docstring). Needs the demo firms, projects and
    personas (`demo_load` creates them first). Nothing is written when demo applications already exist,
    or when there is no demo project with an enterprise and a code to apply for."""
    today = today or timezone.localdate()
    report = ApprovalsReport()
    if Application.objects.filter(is_demo=True).exists():
        report.loaded = False
        return report
    loader = _Loader(today)
    if not any(loader.pools.values()) and not loader.firm_projects:
        report.loaded = False
        return report
    with transaction.atomic():
        for index, plan in enumerate(PLANS):
            application = loader.apply(index, plan)
            if application is not None:
                loader.created.append(application)
    created = Application.objects.filter(pk__in=[a.pk for a in loader.created])
    report.applications_created = created.count()
    for status in created.values_list("status", flat=True):
        report.by_status[status] = report.by_status.get(status, 0) + 1
    report.forwarded = created.filter(status=S.ACCEPTED, forward_message_id__isnull=False).count()
    report.past_window_limit = created.filter(status=S.SUBMITTED, accept_due__lt=today).count()
    if stdout is not None:
        stdout.write(
            _(
                "Approvals: %(applications)s applications, %(forwarded)s accepted and waiting to be forwarded to "
                "the city, %(overdue)s past the window's limit (accepted by law once the daily sweep runs)"
            )
            % {
                "applications": report.applications_created,
                "forwarded": report.forwarded,
                "overdue": report.past_window_limit,
            }
            + "\n"
        )
    return report
