"""`zhiyuan report …`: the monthly economic report (经济运行月报) as Word and Excel files.

    zhiyuan report monthly --month 2019-06 [--out DIR] [--format docx|xlsx|both] [--user USERNAME]
                           [--language zh-hans|en]

The report is made as the named user (by default the first active district leader, or an
administrator) in the language asked for, and written as 经济运行月报-2019-06.docx/.xlsx
(monthly-report-2019-06.* in English) into DIR (default: the current directory). The paths written go
to stdout, progress to stderr; a refused report (a month that has not ended, no CJK font) exits with
status 1 and its reason, and writes nothing.
"""

import re
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from zhiyuan.core.errors import DomainError
from zhiyuan.indicators import report

FORMAT_CHOICES = {"docx": ["docx"], "xlsx": ["xlsx"], "both": ["docx", "xlsx"]}


def _month(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", text or "")
    if not match:
        raise CommandError(_("Not a month (YYYY-MM): %(value)s") % {"value": text})
    return int(match.group(1)), int(match.group(2))


class Command(BaseCommand):
    help = "The monthly economic report (经济运行月报) as Word and Excel files."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        monthly = sub.add_parser("monthly", help="Write the monthly report for a month that has ended.")
        monthly.add_argument("--month", required=True, help="The month, YYYY-MM (e.g. 2019-06).")
        monthly.add_argument("--out", default=".", help="The directory to write to (default: the current one).")
        monthly.add_argument("--format", choices=sorted(FORMAT_CHOICES), default="both", help="Default both.")
        monthly.add_argument(
            "--user", default=None, help="Make the report as this user (default: the first active leader or admin)."
        )
        monthly.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            default=None,
            help=f"The report's language (default {settings.LANGUAGE_CODE}).",
        )

    def handle(self, *args, action, **options):
        with translation.override(options.get("language") or settings.LANGUAGE_CODE):
            try:
                getattr(self, "handle_" + action)(**options)
            except DomainError as error:
                raise CommandError(str(error.message)) from None

    def handle_monthly(self, *, month, out, format, user, **options):
        year, month_number = _month(month)
        actor = report.report_user(user)
        folder = Path(out)
        if folder.exists() and not folder.is_dir():
            raise CommandError(_("Not a directory: %(path)s") % {"path": out})
        self.stderr.write(
            _("Making the report for %(month)s as %(user)s …") % {"month": month, "user": actor.get_username()}
        )
        started = time.monotonic()
        files = report.report_files(user=actor, year=year, month=month_number, formats=FORMAT_CHOICES[format])
        folder.mkdir(parents=True, exist_ok=True)
        for file in files:
            path = folder / file.filename
            path.write_bytes(file.content)
            self.stdout.write(str(path))
        self.stderr.write(_("Done in %(seconds).1f s.") % {"seconds": time.monotonic() - started})
