"""`zhiyuan demo`: load the Hetang demo data (idempotent) and print the demo logins."""

import unicodedata

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from zhiyuan.core.errors import DomainError
from zhiyuan.demo.data import DEFAULT_GENERATED_COUNT, DEMO_PASSWORD
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
    help = "Load the Hetang demo data (firms, zones, tags, one user per role) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="Load nothing when the registry already has firms."
        )
        parser.add_argument(
            "--count", type=int, default=DEFAULT_GENERATED_COUNT,
            help=f"How many generated firms to add besides the named ones (default {DEFAULT_GENERATED_COUNT}).",
        )
        parser.add_argument(
            "--allow-production", action="store_true",
            help="Load even with ZHIYUAN_ENV=production (the demo logins share a published password).",
        )

    def handle(self, *args, if_empty: bool, count: int, allow_production: bool, **options):
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
            report = demo_load(count=count, if_empty=if_empty, stdout=self.stdout if options["verbosity"] else None)
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
        self.print_logins(report.logins)

    def print_logins(self, logins: list[DemoLogin]) -> None:
        if not logins:
            return
        self.stdout.write("")
        self.stdout.write(_("Demo logins (password for all: %(password)s)") % {"password": DEMO_PASSWORD})
        rows = [[login.username, login.role, login.organisation] for login in logins]
        for line in format_table([_("Username"), _("Role"), _("Organisation")], rows):
            self.stdout.write(line)
