"""The demo and test personas: one user per role (DESIGN.md §2), with the organisations they need.

Used by `zhiyuan demo` (printed logins) and by the test suite's persona fixtures, so that tests
exercise exactly the accounts a demo user signs in with.
"""

from dataclasses import dataclass

from zhiyuan.accounts.models import Organisation, OrganisationKind, Role, User
from zhiyuan.accounts.services import user_create

DISTRICT_ORG = "荷塘区人民政府"
BANK_ORG = "株洲农村商业银行荷塘支行"
CITY_ORG = "株洲市民中心"


@dataclass(frozen=True)
class Persona:
    key: str
    username: str
    role: str
    last_name: str
    first_name: str
    organisation: str = DISTRICT_ORG


PERSONAS = [
    Persona("admin", "admin", Role.ADMIN, "管", "理员"),
    Persona("leader", "leader", Role.LEADER, "周", "区长"),
    Persona("investment", "zhaoshang", Role.INVESTMENT, "李", "招商"),
    Persona("project", "xiangmu", Role.PROJECT, "王", "项目"),
    Persona("service_staff", "fuwu", Role.SERVICE_STAFF, "赵", "服务"),
    Persona("specialist", "zhuanyuan", Role.SPECIALIST, "陈", "专员"),
    Persona("window_clerk", "chuangkou", Role.WINDOW_CLERK, "刘", "窗口"),
    Persona("statistics", "tongji", Role.STATISTICS, "孙", "统计"),
    Persona("firm_a", "firm_a", Role.ENTERPRISE, "张", "企业甲"),
    Persona("firm_b", "firm_b", Role.ENTERPRISE, "黄", "企业乙"),
    Persona("bank", "bank", Role.BANK, "吴", "信贷", BANK_ORG),
    Persona("city", "city", Role.CITY, "", "市级系统", CITY_ORG),
]


def ensure_persona(persona: Persona, *, password: str, enterprise=None) -> User:
    """Return the persona's user, creating it and its organisation when missing (idempotent).

    Enterprise personas need `enterprise`: the firm they act for.
    """
    existing = User.objects.filter(username=persona.username).first()
    if existing:
        return existing
    if persona.role == Role.ENTERPRISE:
        if enterprise is None:
            raise ValueError(f"Persona {persona.key} needs an enterprise.")
        organisation, _ = Organisation.objects.get_or_create(
            enterprise=enterprise, defaults={"name": enterprise.name, "kind": OrganisationKind.ENTERPRISE}
        )
    else:
        kind = {Role.BANK: OrganisationKind.BANK, Role.CITY: OrganisationKind.CITY}.get(
            persona.role, OrganisationKind.DISTRICT
        )
        organisation, _ = Organisation.objects.get_or_create(name=persona.organisation, defaults={"kind": kind})
    return user_create(
        actor=None,
        username=persona.username,
        password=password,
        role=persona.role,
        organisation=organisation,
        last_name=persona.last_name,
        first_name=persona.first_name,
        validate=False,
    )
