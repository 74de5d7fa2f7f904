"""`zhiyuan import_enterprises FILE [--dry-run]` (also `zhiyuan import enterprises …`): import the registry
from an .xlsx sheet.

Prints the report (counts, then every bad row with its column and reason) and exits with status 1
when any row is bad — in which case nothing was written. Progress goes to stderr.
"""

import time
from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from zhiyuan.accounts.models import User
from zhiyuan.core.errors import DomainError
from zhiyuan.enterprises.imports import enterprise_import


class Command(BaseCommand):
    help = "Import the enterprise registry: zhiyuan import_enterprises FILE.xlsx [--dry-run] [--user USERNAME]"

    def add_arguments(self, parser):
        parser.add_argument("file", help="The .xlsx workbook; its first row holds the headers.")
        parser.add_argument("--dry-run", action="store_true", help="Check every row and report; write nothing.")
        parser.add_argument(
            "--user", help="Username recorded in the audit trail; must be allowed to import (default: system)."
        )

    def handle(self, *args, file, dry_run, user, **options):
        actor = None
        if user:
            actor = User.objects.filter(username=user).first()
            if actor is None:
                raise CommandError(_("No user is called %(username)s.") % {"username": user})
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("File not found: %(path)s") % {"path": path})
        self._started = time.monotonic()
        self._last_shown = 0.0
        self.stderr.write(_("Reading %(path)s …") % {"path": path})
        try:
            with path.open("rb") as handle:
                report = enterprise_import(
                    actor=actor, file=File(handle, name=path.name), dry_run=dry_run, progress=self._progress
                )
        except DomainError as error:
            raise CommandError(str(error.message)) from None

        seconds = time.monotonic() - self._started
        for error in report.errors:
            self.stdout.write(
                _("Row %(row)d, %(column)s: %(reason)s")
                % {"row": error.row, "column": error.column, "reason": error.message}
            )
        summary = _(
            "%(total)d rows: %(new)d new, %(updated)d updated, %(unchanged)d unchanged (%(seconds).1f s)."
        ) % {
            "total": report.total,
            "new": report.new,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "seconds": seconds,
        }
        self.stdout.write(summary)
        if report.errors:
            raise CommandError(
                ngettext(
                    "%(count)d row has errors; nothing was imported.",
                    "%(count)d rows have errors; nothing was imported.",
                    len(report.bad_rows),
                )
                % {"count": len(report.bad_rows)},
                returncode=1,
            )
        if dry_run:
            self.stdout.write(_("Dry run: every row is valid; nothing was written."))
        else:
            self.stdout.write(self.style.SUCCESS(_("Import finished.")))

    def _progress(self, stage: str, done: int, total: int) -> None:
        """At most one progress line a second, plus the last one of each stage."""
        now = time.monotonic()
        if done != total and now - self._last_shown < 1.0:
            return
        self._last_shown = now
        label = _("Checking rows") if stage == "check" else _("Writing")
        self.stderr.write(f"{label}: {done} / {total} ({100 * done // max(total, 1)}%), {now - self._started:.0f} s")
