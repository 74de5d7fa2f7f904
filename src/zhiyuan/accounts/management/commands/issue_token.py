"""`zhiyuan issue_token USERNAME`: issue the API token a machine client (e.g. the city system) uses."""

from django.core.management.base import BaseCommand, CommandError

from zhiyuan.accounts.models import User
from zhiyuan.accounts.services import api_token_issue


class Command(BaseCommand):
    help = "Issue (or replace) the API token of a user, typically the city system's machine client."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user called {username!r}.")
        token = api_token_issue(actor=None, user=user)
        self.stdout.write(token.key)
