"""Registry reads: scoping per persona, name search (incl. Chinese abbreviations), masking of personal data."""

import pytest
from stdnum.cn import ric

from zhiyuan.conftest import make_uscc
from zhiyuan.core.errors import NotFoundError
from zhiyuan.enterprises.models import Enterprise
from zhiyuan.enterprises.selectors import (
    enterprise_get_for,
    enterprise_history_for,
    enterprises_visible_to,
    mask_id_number,
    mask_phone,
    personal_data_for,
    search_enterprises,
)
from zhiyuan.enterprises.services import enterprise_create, enterprise_update

pytestmark = pytest.mark.django_db

DISTRICT = ["admin", "leader", "investment", "project", "service_staff", "specialist", "window_clerk", "statistics"]
ID_NUMBER = "43020219900101123" + ric.calc_check_digit("43020219900101123")


# ---------------------------------------------------------------- scoping


@pytest.mark.parametrize("key", DISTRICT)
def test_district_staff_see_every_firm(personas, firm_a, firm_b, key):
    assert set(enterprises_visible_to(personas[key])) == {firm_a, firm_b}
    assert enterprise_get_for(personas[key], firm_b.pk) == firm_b


@pytest.mark.parametrize(("key", "own", "other"), [("firm_a", "firm_a", "firm_b"), ("firm_b", "firm_b", "firm_a")])
def test_firm_user_sees_only_its_own_firm(personas, firm_a, firm_b, key, own, other):
    firms = {"firm_a": firm_a, "firm_b": firm_b}
    assert list(enterprises_visible_to(personas[key])) == [firms[own]]
    assert enterprise_get_for(personas[key], firms[own].pk) == firms[own]
    with pytest.raises(NotFoundError) as foreign:
        enterprise_get_for(personas[key], firms[other].pk)
    with pytest.raises(NotFoundError) as missing:
        enterprise_get_for(personas[key], 987654321)
    assert foreign.value.as_dict() == missing.value.as_dict()


@pytest.mark.parametrize("key", ["bank", "city"])
def test_bank_and_city_see_no_firm(personas, firm_a, key):
    assert not enterprises_visible_to(personas[key]).exists()
    with pytest.raises(NotFoundError):
        enterprise_get_for(personas[key], firm_a.pk)


def test_inactive_and_anonymous_users_see_nothing(personas, firm_a):
    from django.contrib.auth.models import AnonymousUser

    specialist = personas["specialist"]
    specialist.is_active = False
    specialist.save()
    assert not enterprises_visible_to(specialist).exists()
    assert not enterprises_visible_to(AnonymousUser()).exists()


def test_firm_user_scope_follows_its_organisation(personas, firm_a, firm_b):
    organisation = personas["firm_a"].organisation
    assert organisation.enterprise == firm_a
    # A new firm in the registry does not widen the firm user's view.
    enterprise_create(actor=None, data={"uscc": make_uscc(3), "name": "株洲新公司", "industry": "3311"})
    assert list(enterprises_visible_to(personas["firm_a"])) == [firm_a]


@pytest.mark.parametrize("bad_pk", ["abc", None, "", "1 OR 1=1"])
def test_malformed_ids_are_not_found(personas, bad_pk):
    with pytest.raises(NotFoundError):
        enterprise_get_for(personas["specialist"], bad_pk)


# ---------------------------------------------------------------- search


@pytest.fixture
def registry(db):
    """Firms without short names, so that only the name (and the abbreviation rule) can match."""
    names = {
        "zhuying": "株洲硬质合金集团有限公司",
        "feilu": "株洲飞鹿高新材料技术股份有限公司",
        "hande": "汉德车桥(株洲)齿轮有限公司",
        "ximei": "稀美泰新材料有限公司",
        "yingzhu": "硬株科技有限公司",
    }
    return {
        key: enterprise_create(actor=None, data={"uscc": make_uscc(100 + i), "name": name, "industry": "3311"})
        for i, (key, name) in enumerate(names.items())
    }


def _search(text: str) -> set[str]:
    return set(search_enterprises(Enterprise.objects.all(), text).values_list("name", flat=True))


def test_abbreviation_finds_the_firm_without_a_short_name(registry):
    assert registry["zhuying"].short_name == ""
    assert _search("株硬") == {"株洲硬质合金集团有限公司"}


def test_abbreviation_keeps_the_character_order(registry):
    assert _search("硬株") == {"硬株科技有限公司"}
    assert _search("株飞") == {"株洲飞鹿高新材料技术股份有限公司"}
    assert _search("株飞硬") == set()


def test_substring_search(registry):
    assert _search("硬质合金") == {"株洲硬质合金集团有限公司"}
    assert _search("新材料") == {"株洲飞鹿高新材料技术股份有限公司", "稀美泰新材料有限公司"}
    assert _search("车桥(株洲)") == {"汉德车桥(株洲)齿轮有限公司"}


def test_short_name_search(registry):
    Enterprise.objects.filter(pk=registry["feilu"].pk).update(short_name="飞鹿股份")
    assert _search("飞鹿股份") == {"株洲飞鹿高新材料技术股份有限公司"}


def test_uscc_search(registry):
    code = registry["ximei"].uscc
    assert _search(code) == {"稀美泰新材料有限公司"}
    assert _search(code[8:].lower()) == {"稀美泰新材料有限公司"}
    assert len(_search("91430202")) == len(registry)


def test_every_word_must_match(registry):
    assert _search("株洲 新材料") == {"株洲飞鹿高新材料技术股份有限公司"}
    assert _search("株硬 集团") == {"株洲硬质合金集团有限公司"}
    assert _search("硬质合金 飞鹿") == set()
    assert _search("  株洲   硬质  ") == {"株洲硬质合金集团有限公司"}


def test_blank_search_changes_nothing(registry):
    assert len(_search("")) == len(registry)
    assert len(_search("   ")) == len(registry)


def test_regex_characters_are_literal(registry):
    assert _search(".*") == set()
    assert _search("株.") == set()


def test_search_stays_within_the_scope(personas, firm_a, firm_b):
    scoped = enterprises_visible_to(personas["firm_b"])
    assert list(search_enterprises(scoped, "株硬")) == []
    assert list(search_enterprises(scoped, "飞鹿")) == [firm_b]


# ---------------------------------------------------------------- masking


def test_mask_phone():
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone("138 1234 1234") == "138****1234"
    assert mask_phone("0731-28888888") == "073*****8888"
    assert mask_phone("1234567") == "*******"
    assert mask_phone("") == ""


def test_mask_id_number():
    assert mask_id_number(ID_NUMBER) == "430202********" + ID_NUMBER[-4:]
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_id_number("123456789") == "*********"
    assert mask_id_number("") == ""


@pytest.fixture
def firm_with_id(personas, firm_a):
    Enterprise.objects.filter(pk=firm_a.pk).update(contact_id_number=ID_NUMBER)
    firm_a.refresh_from_db()
    return firm_a


@pytest.mark.parametrize("key", ["admin", "investment", "project", "service_staff", "specialist", "window_clerk",
                                 "firm_a"])
def test_personal_data_in_clear_for_those_who_need_it(personas, firm_with_id, key):
    assert personal_data_for(personas[key], firm_with_id) == {
        "contact_phone": "13812341234",
        "contact_id_number": ID_NUMBER,
    }


@pytest.mark.parametrize("key", ["leader", "statistics", "firm_b", "bank", "city"])
def test_personal_data_masked_for_everyone_else(personas, firm_with_id, key):
    assert personal_data_for(personas[key], firm_with_id) == {
        "contact_phone": "138****1234",
        "contact_id_number": ID_NUMBER[:6] + "********" + ID_NUMBER[-4:],
    }


# ---------------------------------------------------------------- history as each user may see it


def test_history_masks_personal_data_for_masked_roles(personas, firm_with_id):
    enterprise_update(actor=personas["specialist"], enterprise=firm_with_id, data={"contact_phone": "13900001111"})
    masked = enterprise_history_for(personas["leader"], firm_with_id)
    assert masked[0].changes == {"contact_phone": ["138****1234", "139****1111"]}
    created = masked[-1].changes
    assert created["contact_phone"] == [None, "138****1234"]
    assert created["name"] == [None, firm_with_id.name]  # other fields untouched
    clear = enterprise_history_for(personas["specialist"], firm_with_id)
    assert clear[0].changes == {"contact_phone": ["13812341234", "13900001111"]}
    own = enterprise_history_for(personas["firm_a"], firm_with_id)
    assert own[0].changes == {"contact_phone": ["13812341234", "13900001111"]}


def test_history_is_limited_and_newest_first(personas, firm_a):
    for staff in (4001, 4002, 4003):
        enterprise_update(actor=personas["specialist"], enterprise=firm_a, data={"staff": staff})
    entries = enterprise_history_for(personas["specialist"], firm_a, limit=2)
    assert [e.changes["staff"][1] for e in entries] == [4003, 4002]
