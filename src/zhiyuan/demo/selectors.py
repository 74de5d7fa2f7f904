"""Demo reads: whether the registry is empty, and the demo logins to print."""

from dataclasses import dataclass

from zhiyuan.accounts.models import Role, User
from zhiyuan.accounts.personas import PERSONAS
from zhiyuan.demo.data import EXTRA_SPECIALISTS
from zhiyuan.enterprises.models import Enterprise


@dataclass(frozen=True)
class DemoLogin:
    """One demo account as printed after loading: username, role (translated) and organisation."""

    username: str
    role: str
    organisation: str


def registry_has_firms() -> bool:
    """Whether any firm (demo or real) is registered."""
    return Enterprise.objects.exists()


def registry_has_demo_firms() -> bool:
    """Whether the demo has been loaded into this registry."""
    return Enterprise.objects.filter(is_demo=True).exists()


def demo_logins() -> list[DemoLogin]:
    """The demo accounts that exist, one per persona in persona order, then the extra specialists
    and the second bank's user (demo/financing.py)."""
    usernames = [persona.username for persona in [*PERSONAS, *EXTRA_SPECIALISTS]] + ["bank2"]
    users = {user.username: user for user in User.objects.filter(username__in=usernames).select_related("organisation")}
    return [
        DemoLogin(username=name, role=str(Role(users[name].role).label), organisation=users[name].organisation.name)
        for name in usernames
        if name in users
    ]
