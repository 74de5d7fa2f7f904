"""Loading the Hetang demo (`zhiyuan demo`) through the real services, so every row is validated and audited.

Firms, zones, tags and users here; the investment projects in projects.py. Idempotent: zones, tags,
users, firms and projects that already exist are left alone, so a second run writes nothing (no
rows, no audit entries). The whole load is one transaction: a failure leaves nothing behind.
"""

from dataclasses import dataclass, field
from typing import TextIO

from django.db import transaction
from django.utils.translation import gettext as _

from zhiyuan.accounts.models import User
from zhiyuan.accounts.personas import PERSONAS, Persona, ensure_persona
from zhiyuan.accounts.services import organisation_set_head
from zhiyuan.credit.synth import synth_demo
from zhiyuan.demo.approvals import ApprovalsReport, demo_approvals_load
from zhiyuan.demo.catalog import demo_catalog_load
from zhiyuan.demo.data import (
    DEFAULT_GENERATED_COUNT,
    DEMO_PASSWORD,
    EXTRA_SPECIALISTS,
    SPECIALIST_USERNAMES,
    TAGS,
    ZONES,
    DemoFirm,
    generated_firms,
    named_firms,
)
from zhiyuan.demo.financing import FinancingReport, demo_financing_load
from zhiyuan.demo.projects import ProjectsReport, demo_leader_logins, demo_projects_load
from zhiyuan.demo.selectors import DemoLogin, demo_logins, registry_has_demo_firms, registry_has_firms
from zhiyuan.demo.servicedesk import ServicedeskReport, demo_servicedesk_load
from zhiyuan.enterprises.models import Enterprise, ParkZone, Tag
from zhiyuan.enterprises.services import enterprise_create, tag_get_or_create, zone_get_or_create

# Print a progress line after every this many firms.
PROGRESS_EVERY = 50


@dataclass
class DemoReport:
    """What a run of `demo_load` did, and the logins to print."""

    loaded: bool = True
    firms_created: int = 0
    firms_existing: int = 0
    users_created: int = 0
    zones_created: int = 0
    tags_created: int = 0
    projects: ProjectsReport | None = None  # None when the projects were not loaded
    servicedesk: ServicedeskReport | None = None  # None when the service desk was not loaded
    approvals: ApprovalsReport | None = None  # None when the approval desk's applications were not loaded
    credit: dict | None = None  # the synthetic credit demo's summary; None when it was not loaded
    financing: FinancingReport | None = None  # loan products and offers; None when not loaded
    catalog: dict | None = None  # products, supply needs, chain maps and the index; None when not loaded
    logins: list[DemoLogin] = field(default_factory=list)


def _persona_ensure(persona: Persona, report: DemoReport, *, enterprise: Enterprise | None = None) -> User:
    if not User.objects.filter(username=persona.username).exists():
        report.users_created += 1
    return ensure_persona(persona, password=DEMO_PASSWORD, enterprise=enterprise)


def _firm_data(firm: DemoFirm, *, zones: dict[str, ParkZone], tags: dict[str, Tag], specialists: dict[str, User]):
    return {
        "uscc": firm.uscc,
        "name": firm.name,
        "short_name": firm.short_name,
        "industry": firm.industry,
        "chain": firm.chain,
        "zone": zones[firm.zone] if firm.zone else None,
        "tags": [tags[name] for name in firm.tags],
        "specialist": specialists[firm.specialist] if firm.specialist else None,
        "staff": firm.staff,
        "revenue": firm.revenue,
        "total_assets": firm.total_assets,
        "registered_capital": firm.registered_capital,
        "established_on": firm.established_on,
        "legal_representative": firm.legal_representative,
        "address": firm.address,
        "business_scope": firm.business_scope,
        "status": firm.status,
        "contact_name": firm.contact_name,
        "contact_phone": firm.contact_phone,
        "contact_id_number": firm.contact_id_number,
    }


def _logins() -> list[DemoLogin]:
    return demo_logins() + demo_leader_logins()


def demo_load(
    *,
    count: int = DEFAULT_GENERATED_COUNT,
    if_empty: bool = False,
    projects: bool = True,
    stdout: TextIO | None = None,
) -> DemoReport:
    """Load the demo: park zones, tags, one user per role (plus extra specialists), the firms the
    source text names and `count` generated firms, all flagged `is_demo` and created through
    `enterprise_create` as the system (actor None); then, unless `projects` is False, the
    investment projects (see projects.py), the service desk's requests and visits (servicedesk.py),
    the approval desk's applications (approvals.py), the synthetic credit data, model and scores
    (credit/synth.py), the banks' loan products and offers (financing.py), and the products, supply
    needs and chain maps with the search index built (catalog.py).

    With `if_empty`, nothing is loaded when the registry already has firms (report.loaded is False).
    Progress lines go to `stdout` when given.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    report = DemoReport()
    if if_empty and registry_has_firms():
        report.loaded = False
        # The demo password is only worth printing where the demo was loaded, not over a real registry.
        report.logins = _logins() if registry_has_demo_firms() else []
        return report

    named = named_firms()
    firms = [*named, *generated_firms(count, taken_usccs={firm.uscc for firm in named})]
    with transaction.atomic():
        zones = {}
        for name in ZONES:
            zones[name], created = zone_get_or_create(actor=None, name=name)
            report.zones_created += created
        tags = {}
        for name in TAGS:
            tags[name], created = tag_get_or_create(actor=None, name=name)
            report.tags_created += created

        firm_personas = {firm.persona for firm in named if firm.persona}
        users = {
            persona.username: _persona_ensure(persona, report)
            for persona in [*PERSONAS, *EXTRA_SPECIALISTS]
            if persona.key not in firm_personas
        }
        specialists = {username: users[username] for username in SPECIALIST_USERNAMES}
        # Overdue requests escalate first to the head of the staff's organisation: the service centre's.
        service_centre = users["fuwu"].organisation
        if service_centre.head_id is None:
            organisation_set_head(actor=None, organisation=service_centre, head=users["fuwu"])

        existing_usccs = set(Enterprise.objects.values_list("uscc", flat=True))
        existing_names = set(Enterprise.objects.values_list("name", flat=True))
        for index, firm in enumerate(firms, start=1):
            if firm.uscc in existing_usccs or firm.name in existing_names:
                report.firms_existing += 1
            else:
                enterprise_create(
                    actor=None, data=_firm_data(firm, zones=zones, tags=tags, specialists=specialists), is_demo=True
                )
                report.firms_created += 1
            if stdout is not None and (index % PROGRESS_EVERY == 0 or index == len(firms)):
                stdout.write(_("Firms: %(done)s of %(total)s") % {"done": index, "total": len(firms)} + "\n")

        personas_by_key = {persona.key: persona for persona in PERSONAS}
        for firm in named:
            if firm.persona:
                found = Enterprise.objects.filter(uscc=firm.uscc).first()
                enterprise = found or Enterprise.objects.filter(name=firm.name).first()
                _persona_ensure(personas_by_key[firm.persona], report, enterprise=enterprise)

        if projects:
            report.projects = demo_projects_load(stdout=stdout)
            report.users_created += report.projects.users_created
            report.servicedesk = demo_servicedesk_load(stdout=stdout)
            report.approvals = demo_approvals_load(stdout=stdout)
            # Synthetic credit feeds for the demo firms, a scorecard trained on them and six months of
            # scoring runs; skipped when synthetic credit data is already loaded.
            report.credit = synth_demo(stdout=stdout, if_absent=True)
            # Two banks' loan products and their offers on the published financing needs.
            report.financing = demo_financing_load()
            # Products of the demo firms, their input needs, the chain maps with gaps and targets, and
            # the search index; skipped when demo products already exist.
            report.catalog = demo_catalog_load(stdout=stdout)
    report.logins = _logins()
    return report
