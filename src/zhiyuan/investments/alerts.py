"""The daily project alerts: overdue milestones and blockers past due.

The responsible officer is told on the first day something is late; after
ZHIYUAN_ESCALATE_AFTER_WORKDAYS working days the project's liaison leader (联点领导) is told too.
Notifications carry a key, so running the alerts again the same day (or every day) sends nothing twice.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from zhiyuan.core.services import notify
from zhiyuan.core.workdays import CalendarNotCovered, WorkCalendar
from zhiyuan.investments.selectors import liaison_leader_of, overdue_blockers, overdue_milestones


@dataclass
class AlertReport:
    """What one run of the alerts did."""

    milestones: int = 0
    blockers: int = 0
    notified: int = 0
    escalated: int = 0
    errors: list[str] = field(default_factory=list)


def alerts_run(*, today: dt.date) -> AlertReport:
    """Notify officers of overdue milestones and blockers, and escalate old ones to the liaison leader."""
    report = AlertReport()
    calendar = WorkCalendar()
    threshold = settings.ZHIYUAN_ESCALATE_AFTER_WORKDAYS
    for milestone in overdue_milestones(today):
        report.milestones += 1
        project = milestone.project
        link = reverse("investments:detail", args=[project.pk])
        officer = project.project_officer or project.investment_officer
        title = _("Milestone overdue: %(project)s — %(milestone)s") % {"project": project, "milestone": milestone}
        body = _("Planned for %(date)s and not yet reached.") % {"date": milestone.planned_on}
        report.notified += notify(
            recipients=[officer], title=title, body=body, link=link, key=f"milestone-overdue:{milestone.pk}"
        )
        report.escalated += _escalate(
            report,
            calendar,
            milestone.planned_on,
            today,
            threshold,
            project,
            title,
            body,
            link,
            f"milestone-escalated:{milestone.pk}",
        )
    for blocker in overdue_blockers(today):
        report.blockers += 1
        project = blocker.project
        link = reverse("investments:detail", args=[project.pk])
        title = _("Problem past due: %(project)s") % {"project": project}
        body = _("%(problem)s — assigned to %(unit)s, due %(date)s.") % {
            "problem": blocker.description[:200],
            "unit": blocker.unit,
            "date": blocker.due_on,
        }
        report.notified += notify(
            recipients=[project.project_officer, blocker.raised_by],
            title=title,
            body=body,
            link=link,
            key=f"blocker-overdue:{blocker.pk}",
        )
        report.escalated += _escalate(
            report,
            calendar,
            blocker.due_on,
            today,
            threshold,
            project,
            title,
            body,
            link,
            f"blocker-escalated:{blocker.pk}",
        )
    return report


def _escalate(report, calendar, due: dt.date, today: dt.date, threshold: int, project, title, body, link, key) -> int:
    try:
        late = calendar.between(due, today)
    except CalendarNotCovered as error:
        report.errors.append(f"{project}: {error.message}")
        return 0
    if late < threshold:
        return 0
    leader = liaison_leader_of(project, today.year)
    if leader is None:
        return 0
    escalated_title = _("Escalated: %(title)s") % {"title": title}
    escalated_body = _("%(body)s Late by %(days)s working days.") % {"body": body, "days": late}
    return notify(recipients=[leader], title=escalated_title, body=escalated_body, link=link, key=key)
