"""`zhiyuan import_projects FILE --year 2019 [--dry-run] [--user USERNAME]`: import the key-project
table (重点项目表) onto a year's list, all or nothing, listing every bad row."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from zhiyuan.accounts.models import User
from zhiyuan.core.errors import DomainError
from zhiyuan.investments.imports import key_projects_import


class Command(BaseCommand):
    help = "Import the key-project table (.xlsx) onto a year's key-project list; nothing is written if any row is bad."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The .xlsx workbook.")
        parser.add_argument("--year", type=int, required=True, help="The year whose key-project list the rows join.")
        parser.add_argument("--dry-run", action="store_true", help="Check every row and report; write nothing.")
        parser.add_argument(
            "--user", help="Import as this user (recorded in the audit trail); by default the system imports."
        )

    def handle(self, *args, file, year, dry_run, user, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        actor = None
        if user:
            actor = User.objects.filter(username=user, is_active=True).first()
            if actor is None:
                raise CommandError(_("No active user called %(username)s.") % {"username": user})
        try:
            with path.open("rb") as handle:
                report = key_projects_import(actor=actor, source=handle, year=year, dry_run=dry_run)
        except DomainError as error:
            details = [f"{name}: {message}" for name, messages in error.fields.items() for message in messages]
            raise CommandError("\n".join(details) or str(error.message)) from None
        if report.errors:
            for error in report.errors:
                self.stderr.write(str(error))
            raise CommandError(
                _("%(count)d problems in %(rows)d rows; nothing was imported.")
                % {"count": len(report.errors), "rows": len({e.row for e in report.errors})}
            )
        summary = {"year": report.year, "created": report.created, "updated": report.updated}
        if dry_run:
            self.stdout.write(
                _("Dry run for %(year)d: %(created)d new projects and %(updated)d listings to update; nothing written.")
                % summary
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    _("Imported onto the %(year)d list: %(created)d new projects, %(updated)d listings updated.")
                    % summary
                )
            )
