"""`zhiyuan demo`: the Hetang demo loads through the services, is deterministic and idempotent."""

import datetime as dt
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from stdnum.cn import ric, uscc

from zhiyuan.accounts.models import Role, User
from zhiyuan.accounts.personas import PERSONAS, Persona, ensure_persona
from zhiyuan.core.models import AuditEntry
from zhiyuan.demo.data import (
    DEFAULT_GENERATED_COUNT,
    DEMO_PASSWORD,
    EXTRA_SPECIALISTS,
    TAGS,
    ZONES,
    generated_firms,
    named_firms,
    organisation_code_check,
)
from zhiyuan.demo.services import demo_load
from zhiyuan.enterprises.models import Chain, Enterprise, Industry, ParkZone, SizeClass, Tag
from zhiyuan.enterprises.selectors import search_enterprises
from zhiyuan.enterprises.services import enterprise_create
from zhiyuan.investments.models import Project

NAMED = [
    "株洲硬质合金集团有限公司", "株洲飞鹿高新材料技术股份有限公司", "汉德车桥(株洲)齿轮有限公司",
    "湖南稀美泰新材料科技有限公司", "株洲朗润磁电科技有限公司", "株洲瑞美包装有限公司",
    "株洲喜德盛碳纤维科技有限公司", "湖南建工集团株洲装配式建筑有限公司", "株洲中天杭萧钢构科技有限公司",
    "株洲怡亚通金巢供应链管理有限公司", "株洲宏远机械有限公司", "好媳妇日用品(株洲)有限公司",
]
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
OTHER_USCC = "91430202MA4L00000" + uscc.calc_check_digit("91430202MA4L00000")


def run_demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        "firms": Enterprise.objects.count(),
        "users": User.objects.count(),
        "zones": ParkZone.objects.count(),
        "tags": Tag.objects.count(),
        "audit": AuditEntry.objects.count(),
        "projects": Project.objects.count(),
    }


def test_generation_is_deterministic_and_valid():
    named = named_firms()
    assert named == named_firms()
    firms = generated_firms(DEFAULT_GENERATED_COUNT, taken_usccs={f.uscc for f in named})
    assert firms == generated_firms(DEFAULT_GENERATED_COUNT, taken_usccs={f.uscc for f in named})
    # A smaller count is a prefix of a larger one, so loading more later adds without duplicating.
    assert generated_firms(40, taken_usccs={f.uscc for f in named}) == firms[:40]
    everything = [*named, *firms]
    assert len({f.uscc for f in everything}) == len(everything)
    assert len({f.name for f in everything}) == len(everything)
    for firm in everything:
        assert uscc.is_valid(firm.uscc), firm
        assert firm.uscc[2:8] == "430202"
        assert firm.uscc[16] == organisation_code_check(firm.uscc[8:16])
        assert firm.established_on < dt.date(2019, 1, 1)
        assert firm.contact_phone == "" or MOBILE.match(firm.contact_phone), firm
        assert firm.contact_id_number == "" or ric.is_valid(firm.contact_id_number), firm
        assert firm.name.endswith("有限公司")
    assert all(f.name.startswith("株洲") for f in firms)
    assert {f.chain for f in firms} == set(Chain.values)


def test_organisation_code_check_matches_gb_11714_sample():
    # D2143569-X is the worked example of GB 11714-1997.
    assert organisation_code_check("D2143569") == "X"


@pytest.mark.django_db
def test_demo_loads_then_changes_nothing_on_a_second_run():
    assert DEFAULT_GENERATED_COUNT >= 300
    out = run_demo()
    first = counts()
    assert first["firms"] == len(named_firms()) + DEFAULT_GENERATED_COUNT
    assert not Enterprise.objects.filter(is_demo=False).exists()
    assert first["zones"] == len(ZONES) and first["tags"] == len(TAGS)

    for name in NAMED:
        firm = Enterprise.objects.get(name=name)
        assert uscc.is_valid(firm.uscc) and firm.is_demo
        assert Industry.objects.filter(code=firm.industry_id, level=4).exists()
        assert firm.size_class != SizeClass.UNKNOWN
    zhuying = Enterprise.objects.get(name="株洲硬质合金集团有限公司")
    assert (zhuying.short_name, zhuying.industry_id, zhuying.chain) == ("株硬集团", "3240", Chain.NEW_MATERIALS)
    assert zhuying.zone.name == "荷塘工业集中区" and zhuying.specialist.username == "zhuanyuan"
    assert {t.name for t in zhuying.tags.all()} >= {"高新技术企业", "规上企业"}
    assert list(search_enterprises(Enterprise.objects.all(), "株硬")) == [zhuying]

    # Every role has a user who signs in with the demo password; the firm users act for the named firms.
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    for persona in [*PERSONAS, *EXTRA_SPECIALISTS]:
        assert User.objects.get(username=persona.username).check_password(DEMO_PASSWORD), persona.username
        assert persona.username in out
    assert User.objects.get(username="firm_a").enterprise_id == zhuying.pk
    assert User.objects.get(username="firm_b").organisation.enterprise.short_name == "飞鹿股份"
    assert DEMO_PASSWORD in out

    # The firms are spread over chains, zones, sizes and specialists, and personal data is well formed.
    firms = Enterprise.objects.all()
    assert set(firms.values_list("chain", flat=True)) == set(Chain.values)
    assert set(firms.exclude(zone=None).values_list("zone__name", flat=True)) == set(ZONES)
    assert set(firms.values_list("size_class", flat=True)) >= {"large", "medium", "small", "micro"}
    assert firms.exclude(specialist=None).values("specialist").distinct().count() == 1 + len(EXTRA_SPECIALISTS)
    assert firms.exclude(contact_phone="").count() > 100
    assert all(MOBILE.match(p) for p in firms.exclude(contact_phone="").values_list("contact_phone", flat=True))
    assert all(ric.is_valid(n) for n in firms.exclude(contact_id_number="").values_list("contact_id_number", flat=True))
    assert AuditEntry.objects.filter(action="enterprises.enterprise.created").count() == first["firms"]
    # With the full set of generated firms, every signed demo project is linked to the firm it names.
    assert first["projects"] > 100 and "leader2" in out
    linked = Project.objects.exclude(enterprise=None).select_related("enterprise")
    assert linked.count() > 100 and all(p.enterprise.name == p.investor_name for p in linked)

    run_demo()
    assert counts() == first
    report = demo_load()
    assert (report.firms_created, report.users_created, report.zones_created, report.tags_created) == (0, 0, 0, 0)
    # The demo's projects, plus the lead the chain map's demo turned a gap target into.
    from_targets = Project.objects.filter(chain_target__isnull=False).count()
    assert from_targets == 1
    assert report.projects.projects_created == 0
    assert report.projects.projects_existing == first["projects"] - from_targets
    assert report.firms_existing == first["firms"]
    assert counts() == first
    assert list(search_enterprises(Enterprise.objects.all(), "株硬")) == [zhuying]


@pytest.mark.django_db
def test_if_empty_loads_into_an_empty_registry():
    out = run_demo("--if-empty", "--count", "5", "--no-projects")
    assert Enterprise.objects.count() == len(named_firms()) + 5
    assert "firm_a" in out and DEMO_PASSWORD in out
    before = counts()
    out = run_demo("--if-empty", "--count", "50", "--no-projects")
    assert counts() == before
    assert "firm_a" in out  # the logins are printed again, for `make run`


@pytest.mark.django_db
def test_if_empty_leaves_a_real_registry_alone():
    enterprise_create(actor=None, data={"uscc": OTHER_USCC, "name": "株洲某某有限公司", "industry": "3311"})
    before = counts()
    out = run_demo("--if-empty")
    assert counts() == before
    assert not User.objects.exists()
    assert DEMO_PASSWORD not in out  # no demo logins to advertise on a registry the demo did not load


@pytest.mark.django_db
def test_a_named_firm_already_registered_is_not_duplicated():
    existing = enterprise_create(
        actor=None, data={"uscc": OTHER_USCC, "name": "株洲硬质合金集团有限公司", "industry": "3240"}
    )
    report = demo_load(count=0, projects=False)
    assert report.firms_existing == 1 and report.firms_created == len(named_firms()) - 1
    assert Enterprise.objects.filter(name="株洲硬质合金集团有限公司").count() == 1
    assert User.objects.get(username="firm_a").enterprise_id == existing.pk


@pytest.mark.django_db
def test_negative_count_is_refused():
    with pytest.raises(CommandError):
        run_demo("--count", "-1")
    assert not Enterprise.objects.exists()


@pytest.mark.django_db
def test_production_refuses_without_the_explicit_flag(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError):
        run_demo("--count", "0")
    assert not Enterprise.objects.exists() and not User.objects.exists()
    run_demo("--count", "0", "--allow-production", "--no-projects")
    assert Enterprise.objects.count() == len(named_firms())


@pytest.mark.django_db
def test_a_clashing_user_stops_the_load_and_writes_nothing():
    # A real deployment has a user called like the demo specialist, but not in that role: the demo cannot
    # assign firms to it, and the whole load is rolled back with the reason.
    ensure_persona(Persona("x", "zhuanyuan", Role.STATISTICS, "陈", "统计"), password="irrelevant-123")
    before = counts()
    with pytest.raises(CommandError, match="specialist"):
        run_demo("--count", "0")
    assert counts() == before
