"""`zhiyuan import KIND FILE …`: one entry point for every spreadsheet import.

    zhiyuan import enterprises FILE.xlsx [--dry-run] [--user NAME]
    zhiyuan import projects FILE.xlsx --year 2019 [--dry-run] [--user NAME]

Each kind is its app's own command (import_enterprises, import_projects); this only dispatches,
so the checks, the report and the exit status are exactly the app command's.
"""

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

COMMANDS = {"enterprises": "import_enterprises", "projects": "import_projects"}


class Command(BaseCommand):
    help = "Import a spreadsheet: zhiyuan import {enterprises,projects} FILE.xlsx [--year Y] [--dry-run] [--user NAME]"

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(COMMANDS), help="What the sheet holds.")
        parser.add_argument("file", help="The .xlsx workbook.")
        parser.add_argument("--year", type=int, help="For projects: the year whose key-project list the rows join.")
        parser.add_argument("--dry-run", action="store_true", help="Check every row and report; write nothing.")
        parser.add_argument("--user", help="Username recorded in the audit trail (default: the system).")

    def handle(self, *args, kind, file, year, dry_run, user, **options):
        arguments = [file]
        if kind == "projects":
            if year is None:
                raise CommandError("--year is required for projects.")
            arguments += ["--year", str(year)]
        if dry_run:
            arguments.append("--dry-run")
        if user:
            arguments += ["--user", user]
        call_command(COMMANDS[kind], *arguments, stdout=self.stdout, stderr=self.stderr)
