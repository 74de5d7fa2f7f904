"""`zhiyuan demo`: load the Hetang demo data (firms, users, investment projects; idempotent) and print the logins."""

import unicodedata

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from zhiyuan.core.errors import DomainError
from zhiyuan.demo.data import DEFAULT_GENERATED_COUNT, DEMO_PASSWORD
from zhiyuan.demo.indicators import demo_indicators_load
from zhiyuan.demo.projects import ProjectsReport
from zhiyuan.demo.selectors import DemoLogin
from zhiyuan.demo.services import demo_load


def display_width(text: str) -> int:
    """Columns `text` takes in a terminal: Chinese (wide) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """Left-aligned columns separated by two spaces, with a rule under the headers."""
    widths = [max(display_width(row[i]) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        return "  ".join(cell + " " * (width - display_width(cell)) for cell, width in zip(cells, widths, strict=True))

    return [line(headers).rstrip(), "  ".join("-" * width for width in widths)] + [line(row).rstrip() for row in rows]


class Command(BaseCommand):
    help = (
        "Load the Hetang demo data (firms, zones, tags, one user per role, investment projects) "
        "and print the demo logins."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="Load nothing when the registry already has firms."
        )
        parser.add_argument(
            "--count", type=int, default=DEFAULT_GENERATED_COUNT,
            help=f"How many generated firms to add besides the named ones (default {DEFAULT_GENERATED_COUNT}).",
        )
        parser.add_argument(
            "--no-projects", action="store_true", help="Load the firms and users only, not the investment projects."
        )
        parser.add_argument(
            "--allow-production", action="store_true",
            help="Load even with ZHIYUAN_ENV=production (the demo logins share a published password).",
        )

    def handle(self, *args, if_empty: bool, count: int, no_projects: bool, allow_production: bool, **options):
        if settings.PRODUCTION and not allow_production:
            raise CommandError(
                _(
                    "Refusing to load demo data in production: every demo login shares a published password. "
                    "Use --allow-production for a public demonstration server."
                )
            )
        if count < 0:
            raise CommandError(_("--count must be zero or more."))
        try:
            report = demo_load(
                count=count,
                if_empty=if_empty,
                projects=not no_projects,
                stdout=self.stdout if options["verbosity"] else None,
            )
            if report.loaded and not no_projects:
                # Economic indicators with three years of figures and their targets (demo/indicators.py).
                demo_indicators_load(stdout=self.stdout if options["verbosity"] else None)
        except DomainError as error:
            details = "; ".join(
                f"{name}: {' '.join(str(m) for m in messages)}" for name, messages in error.fields.items()
            )
            raise CommandError(
                _("Demo data not loaded, nothing was written: %(reason)s") % {"reason": details or error.message}
            ) from error
        if not report.loaded:
            self.stdout.write(_("The registry already has firms: demo data not loaded."))
        else:
            self.stdout.write(
                _(
                    "Demo loaded: %(firms)s firms created (%(existing)s already present), %(users)s users, "
                    "%(zones)s park zones and %(tags)s tags created."
                )
                % {
                    "firms": report.firms_created,
                    "existing": report.firms_existing,
                    "users": report.users_created,
                    "zones": report.zones_created,
                    "tags": report.tags_created,
                }
            )
            if report.projects is not None:
                self.print_projects(report.projects)
            if report.credit is not None:
                self.print_credit(report.credit)
            if report.financing is not None:
                self.stdout.write(
                    _("Financing: %(products)s loan products, %(offers)s offers, %(granted)s loans granted.")
                    % {
                        "products": report.financing.products,
                        "offers": report.financing.offers,
                        "granted": report.financing.granted,
                    }
                )
            if report.catalog is not None:
                self.print_catalog(report.catalog)
        self.print_logins(report.logins)

    def print_projects(self, projects: ProjectsReport) -> None:
        self.stdout.write(
            _(
                "Projects: %(created)s created (%(existing)s already present), %(key)s added to the %(year)s "
                "key-project list, %(entries)s monthly investment entries, %(milestones)s milestones, "
                "%(blockers)s problems, %(decisions)s decisions."
            )
            % {
                "created": projects.projects_created,
                "existing": projects.projects_existing,
                "key": projects.key_listed,
                "year": projects.year,
                "entries": projects.monthly_entries,
                "milestones": projects.milestones,
                "blockers": projects.blockers,
                "decisions": projects.decisions,
            }
        )

    def print_credit(self, credit: dict) -> None:
        if not credit.get("loaded"):
            self.stdout.write(_("Credit: synthetic data already loaded, left as it is."))
        elif credit.get("model") is None:
            self.stdout.write(
                _("Credit: %(firms)s firms with synthetic feeds; no model trained (%(reason)s).")
                % {"firms": credit["firms"], "reason": credit.get("error", "")}
            )
        else:
            self.stdout.write(
                _(
                    "Credit: synthetic feeds for %(firms)s firms (%(rows)s records, bad rate %(rate).1f%%), "
                    "model v%(version)s (CV AUC %(auc).3f), %(runs)s scoring runs."
                )
                % {
                    "firms": credit["firms"],
                    "rows": credit["rows"],
                    "rate": 100 * credit["bad_rate"],
                    "version": credit["model"],
                    "auc": credit["auc"],
                    "runs": len(credit["runs"]),
                }
            )

    def print_catalog(self, catalog: dict) -> None:
        if not catalog.get("loaded"):
            self.stdout.write(_("Products: demo products already loaded, left as they are."))
            return
        self.stdout.write(
            _(
                "Products: %(products)s products of %(firms)s firms, %(needs)s supply needs; chains: "
                "%(suggestions)s suggested mappings, %(confirmed)s confirmed, %(key)s key firms, %(targets)s "
                "targets (%(leads)s turned into leads); %(indexed)s products indexed for search."
            )
            % {
                "products": catalog["products"],
                "firms": catalog["firms"],
                "needs": catalog["needs"],
                "suggestions": catalog["suggestions"],
                "confirmed": catalog["confirmed"],
                "key": catalog["key_firms"],
                "targets": catalog["targets"],
                "leads": catalog["leads"],
                "indexed": catalog["indexed"],
            }
        )

    def print_logins(self, logins: list[DemoLogin]) -> None:
        if not logins:
            return
        self.stdout.write("")
        self.stdout.write(_("Demo logins (password for all: %(password)s)") % {"password": DEMO_PASSWORD})
        rows = [[login.username, login.role, login.organisation] for login in logins]
        for line in format_table([_("Username"), _("Role"), _("Organisation")], rows):
            self.stdout.write(line)
